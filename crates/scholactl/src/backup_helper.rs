//! The backup's privileged side: `scholactl backup nightly` (started by `schola-backup.timer`)
//! and `scholactl backup run-request` (started by `schola-backup-request.path` when the admin UI
//! or the portal leaves a request). Both run as root — restic must read `/etc/schola`, the mail
//! and Samba's passwords — and write what happened to the status file that the admin UI and the
//! capacity checks read (`schola_core::backups`).
//!
//! The nightly run: nothing when no backup is set up or one succeeded in the last 20 hours (so
//! the hourly retries stop); the target missing (an unplugged USB disk) is recorded and exits
//! with [`TARGET_MISSING`], which the service retries an hour later; else a backup, thinning
//! out by the retention, and the integrity check when the last is a week old.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use schola_backup::{Layout, Restic, Retention, Target};
use schola_core::backups::{
    self, BackupPaths, CheckResult, Failure, LastBackup, Request, RunState, SnapshotInfo, Status,
};
use schola_core::directory::Language;
use schola_core::{Config, Store};

use crate::context::Ctx;
use crate::output;

/// The exit status when the backup target is not there (EX_TEMPFAIL): the service unit starts
/// the run again an hour later. Other failures exit 1, which the unit does not retry.
pub const TARGET_MISSING: u8 = 75;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The backup target (the configuration's `[backup]`, else the one set in the admin UI);
/// `None` when no backup is set up.
fn configured(cfg: &Config, store: &Store) -> Result<Option<Restic>> {
    let Some(t) = backups::target(cfg, store)? else {
        return Ok(None);
    };
    Ok(Some(with_ssh(
        cfg,
        Restic::new(Target {
            repo: t.repository,
            password_file: t.password_file,
        }),
    )?))
}

/// An SFTP target signs in with Schola's own key in the backup's status directory, made on
/// first use so the admin can copy its public key from the Backup page.
pub(crate) fn with_ssh(cfg: &Config, restic: Restic) -> Result<Restic> {
    let ssh = schola_backup::ssh::Ssh::in_dir(&BackupPaths::from_config(cfg).status_dir);
    if schola_backup::ssh::sftp_destination(&restic.target().repo).is_some() {
        ssh.ensure_key()?;
    }
    Ok(restic.with_ssh(ssh))
}

/// The helper's lock: a nightly run and an admin's request never run restic at once (restic
/// would refuse the second with "locked"); the second waits for the first.
fn lock(paths: &BackupPaths) -> Result<nix::fcntl::Flock<File>> {
    std::fs::create_dir_all(&paths.status_dir)
        .with_context(|| format!("cannot create {}", paths.status_dir.display()))?;
    let path = paths.status_dir.join(backups::LOCK_FILE);
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow!("cannot lock {}: {e}", path.display()))
}

/// A damaged status file must not stop the backup: it starts afresh (and says so).
fn read_status(paths: &BackupPaths) -> Status {
    paths.read_status().unwrap_or_else(|e| {
        eprintln!("{e}; starting a new status");
        Status::default()
    })
}

/// `scholactl backup nightly [--force]`: returns the exit status.
pub fn nightly(ctx: &Ctx, force: bool) -> Result<u8> {
    let cfg = ctx.config()?;
    // before the first start of schola-web there is no database, and nothing set up to save
    if cfg.backup.repository.is_none() && !cfg.database_path().exists() {
        output::print("no backup is set up and there is no school yet; nothing to do\n")?;
        return Ok(0);
    }
    let store = crate::context::open_existing_store(&cfg)?;
    let Some(restic) = configured(&cfg, &store)? else {
        output::print(
            "no backup is set up (Backup in the admin UI, or [backup] in the configuration); nothing to do\n",
        )?;
        return Ok(0);
    };
    let paths = BackupPaths::from_config(&cfg);
    let _lock = lock(&paths)?;
    let status = read_status(&paths);
    if let Some(last) = &status.last_success
        && !force
        && now() - last.time < backups::DONE_TODAY_SECS
    {
        output::print(&format!(
            "the last backup ({}) is less than 20 hours old; nothing to do\n",
            last.snapshot
        ))?;
        return Ok(0);
    }
    run_backup(&cfg, &restic, &store, &paths, status)
}

/// One backup with everything around it, recorded in the status; returns the exit status.
fn run_backup(
    cfg: &Config,
    restic: &Restic,
    store: &Store,
    paths: &BackupPaths,
    mut status: Status,
) -> Result<u8> {
    let started = now();
    status.repository = Some(restic.target().repo.clone());
    status.first_attempt.get_or_insert(started);
    status.action = Some("backup".into());
    status.state = Some(RunState::Running);
    status.started = Some(started);
    status.finished = None;
    status.message = "backing up".into();
    paths.write_status(&status)?;

    let fail = |mut status: Status, e: schola_backup::Error| -> Result<u8> {
        let missing = matches!(e, schola_backup::Error::TargetMissing { .. });
        let message = e.to_string();
        status.state = Some(RunState::Failed);
        status.finished = Some(now());
        status.message = message.clone();
        status.last_failure = Some(Failure {
            time: now(),
            message: message.clone(),
            target_missing: missing,
        });
        paths.write_status(&status)?;
        if missing {
            eprintln!("{message}; tried again in an hour");
            Ok(TARGET_MISSING)
        } else {
            Err(anyhow!(message))
        }
    };
    let report = match schola_backup::back_up(restic, store, &Layout::of(cfg)) {
        Ok(r) => r,
        Err(e) => return fail(status, e),
    };
    let s = &report.summary;
    status.last_success = Some(LastBackup {
        time: started,
        snapshot: s.snapshot_id.clone(),
        data_added: s.data_added,
        total_bytes: s.total_bytes_processed,
        files_new: s.files_new,
        files_changed: s.files_changed,
        duration_secs: report.duration_secs,
    });
    let mut message = format!(
        "backup {} made: {} added of {} read in {:.0} s",
        short(&s.snapshot_id),
        crate::backup::size(s.data_added),
        crate::backup::size(s.total_bytes_processed),
        report.duration_secs
    );
    let keep = Retention {
        daily: cfg.backup.keep_daily,
        weekly: cfg.backup.keep_weekly,
        monthly: cfg.backup.keep_monthly,
    };
    // a failure after the backup is recorded as the last failure (the admin must know the disk
    // is not being thinned out), but the backup itself stands
    let mut later_failure = None;
    match restic.forget(keep) {
        Ok(o) if o.removed > 0 => message.push_str(&format!("; {} old removed", o.removed)),
        Ok(_) => {}
        Err(e) => later_failure = Some(format!("thinning out the old backups failed: {e}")),
    }
    let check_due = status
        .last_check
        .as_ref()
        .is_none_or(|c| now() - c.time >= backups::CHECK_EVERY_SECS);
    if check_due {
        let ok = restic.check();
        status.last_check = Some(CheckResult {
            time: now(),
            ok: ok.is_ok(),
            message: match &ok {
                Ok(_) => "the repository is intact".into(),
                Err(e) => e.to_string(),
            },
        });
        message.push_str(match ok {
            Ok(_) => "; integrity check passed",
            Err(_) => "; the integrity check FAILED",
        });
    }
    match restic.snapshots() {
        Ok(snaps) => status.snapshots = snapshot_list(&snaps),
        Err(e) => later_failure = Some(format!("listing the backups failed: {e}")),
    }
    status.finished = Some(now());
    status.state = Some(RunState::Succeeded);
    if let Some(f) = later_failure {
        message.push_str(&format!("; {f}"));
        status.last_failure = Some(Failure {
            time: now(),
            message: f,
            target_missing: false,
        });
    }
    status.message = message.clone();
    paths.write_status(&status)?;
    output::print(&format!("{message}\n"))?;
    Ok(0)
}

/// `scholactl backup run` to the configured target: its outcome goes into the status the
/// dashboard reads, as a nightly run's would. A status that cannot be written is only noted.
pub(crate) fn record_manual(
    cfg: &Config,
    restic: &Restic,
    outcome: &std::result::Result<schola_backup::Report, schola_backup::Error>,
) {
    let paths = BackupPaths::from_config(cfg);
    let Ok(_lock) = lock(&paths) else { return };
    let mut status = read_status(&paths);
    let at = now();
    status.repository = Some(restic.target().repo.clone());
    status.first_attempt.get_or_insert(at);
    status.action = Some("backup".into());
    status.finished = Some(at);
    match outcome {
        Ok(report) => {
            let s = &report.summary;
            status.state = Some(RunState::Succeeded);
            status.started = Some(at - report.duration_secs as i64);
            status.last_success = Some(LastBackup {
                time: at,
                snapshot: s.snapshot_id.clone(),
                data_added: s.data_added,
                total_bytes: s.total_bytes_processed,
                files_new: s.files_new,
                files_changed: s.files_changed,
                duration_secs: report.duration_secs,
            });
            status.message = format!(
                "backup {} made with scholactl: {} added",
                short(&s.snapshot_id),
                crate::backup::size(s.data_added)
            );
            if let Ok(snaps) = restic.snapshots() {
                status.snapshots = snapshot_list(&snaps);
            }
        }
        Err(e) => {
            status.state = Some(RunState::Failed);
            status.message = e.to_string();
            status.last_failure = Some(Failure {
                time: at,
                message: e.to_string(),
                target_missing: matches!(e, schola_backup::Error::TargetMissing { .. }),
            });
        }
    }
    if let Err(e) = paths.write_status(&status) {
        output::note(&format!("the backup status was not updated: {e}"));
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Newest first, with their times.
fn snapshot_list(snaps: &[schola_backup::Snapshot]) -> Vec<SnapshotInfo> {
    let mut list: Vec<SnapshotInfo> = snaps
        .iter()
        .filter_map(|s| {
            Some(SnapshotInfo {
                id: s.id.clone(),
                short_id: s.short_id.clone(),
                time: s.unix_time()?,
            })
        })
        .collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.time));
    list
}

/// `scholactl backup run-request`: takes the waiting request and carries it out.
pub fn run_request(ctx: &Ctx) -> Result<u8> {
    let cfg = ctx.config()?;
    let paths = BackupPaths::from_config(&cfg);
    let _lock = lock(&paths)?;
    let req = match paths.take_request() {
        Ok(Some(r)) => r,
        Ok(None) => {
            output::print("no backup request is waiting\n")?;
            return Ok(0);
        }
        Err(e) => {
            let mut status = read_status(&paths);
            status.action = Some("request".into());
            status.state = Some(RunState::Failed);
            status.finished = Some(now());
            status.message = e.to_string();
            paths.write_status(&status)?;
            return Err(e.into());
        }
    };
    let store = crate::context::open_existing_store(&cfg)?;
    let mut status = read_status(&paths);
    let Some(restic) = configured(&cfg, &store)? else {
        status.action = Some("request".into());
        status.state = Some(RunState::Failed);
        status.finished = Some(now());
        status.message = "no backup is set up: choose where the backup goes first".into();
        paths.write_status(&status)?;
        bail!("{}", status.message);
    };
    match req {
        Request::Init => {
            begin(&paths, &mut status, "init")?;
            status.repository = Some(restic.target().repo.clone());
            let outcome = init_or_open(&restic);
            if let Ok(snaps) = restic.snapshots() {
                status.snapshots = snapshot_list(&snaps);
            }
            finish(&paths, status, outcome)
        }
        Request::Run => run_backup(&cfg, &restic, &store, &paths, status),
        Request::RestoreFiles {
            snapshot,
            login,
            path,
            language,
        } => {
            let action = "restore-files";
            begin(&paths, &mut status, action)?;
            let outcome = restore_files(&cfg, &restic, &store, &snapshot, &login, &path, language);
            finish(&paths, status, outcome)
        }
        Request::RestoreServer { snapshot } => {
            begin(&paths, &mut status, "restore-server")?;
            let outcome = (|| -> Result<String> {
                let done = schola_backup::server::restore_server(
                    &restic,
                    &snapshot,
                    &Layout::of(&cfg),
                    schola_backup::server::ServerOptions::default(),
                )?;
                Ok(format!(
                    "restored the school from backup {} of {} ({} people); the services are restarted",
                    short(&done.snapshot),
                    done.from_host,
                    done.people
                ))
            })();
            let restored = outcome.is_ok();
            let code = finish(&paths, status, outcome)?;
            if restored {
                restart_services();
            }
            Ok(code)
        }
        Request::RestoreMailbox { snapshot, login } => {
            begin(&paths, &mut status, "restore-mailbox")?;
            let outcome = (|| -> Result<String> {
                let snap = find_snapshot(&restic, &snapshot)?;
                schola_backup::restore_mailbox(
                    &restic,
                    &store,
                    &Layout::of(&cfg),
                    &login,
                    &snap.id,
                    None,
                )?;
                Ok(format!(
                    "restored the mailbox of {login} as it was on {}",
                    output::datetime(snap.time)
                ))
            })();
            finish(&paths, status, outcome)
        }
    }
}

/// After a whole-server restore the daemons must read the restored database, certificate and
/// configuration: restart them (without waiting: schola-web is among them). Outside systemd (a
/// test, a developer's machine) there is nothing to restart.
fn restart_services() {
    if std::env::var_os("INVOCATION_ID").is_none() {
        return;
    }
    for args in [
        &["--no-block", "restart", "schola.target"][..],
        &[
            "--no-block",
            "try-restart",
            "smbd.service",
            "postfix.service",
            "dovecot.service",
        ][..],
    ] {
        if let Err(e) = std::process::Command::new("systemctl").args(args).status() {
            eprintln!("cannot run systemctl {}: {e}", args.join(" "));
        }
    }
}

/// Makes the repository, or — when the target holds one already (a new server pointed at the
/// school's backup) — checks that the passphrase opens it.
fn init_or_open(restic: &Restic) -> Result<String> {
    let repo = restic.target().repo.clone();
    match restic.init() {
        Ok(()) => Ok(format!("made the backup repository {repo}")),
        Err(schola_backup::Error::RepoExists { .. }) => {
            let n = restic.snapshots()?.len();
            Ok(format!(
                "{repo} holds a backup repository already; the passphrase opens it ({n} backups)"
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn begin(paths: &BackupPaths, status: &mut Status, action: &str) -> Result<()> {
    status.action = Some(action.into());
    status.state = Some(RunState::Running);
    status.started = Some(now());
    status.finished = None;
    status.message = format!("{action}: running");
    paths.write_status(status).map_err(Into::into)
}

fn finish(paths: &BackupPaths, mut status: Status, outcome: Result<String>) -> Result<u8> {
    status.finished = Some(now());
    let (state, message) = match &outcome {
        Ok(m) => (RunState::Succeeded, m.clone()),
        Err(e) => (RunState::Failed, format!("{e:#}")),
    };
    status.state = Some(state);
    status.message = message.clone();
    paths.write_status(&status)?;
    match outcome {
        Ok(m) => output::print(&format!("{m}\n")).map(|()| 0),
        Err(e) => Err(e),
    }
}

/// `latest` or an id (or its beginning) among the repository's snapshots, with its time.
fn find_snapshot(restic: &Restic, name: &str) -> Result<SnapshotInfo> {
    backups::check_snapshot(name)?;
    let list = snapshot_list(&restic.snapshots()?);
    let found = if name == "latest" {
        list.into_iter().next()
    } else {
        list.into_iter()
            .find(|s| s.id.starts_with(name) || s.short_id == name)
    };
    found.ok_or_else(|| anyhow!("there is no backup {name} in {}", restic.target().repo))
}

/// Restores `path` of `login`'s files (empty: all of them) as they were in `snapshot` into
/// `Restored <date>/` in their home folder, named in `language` (else the person's or the
/// school's). Nothing of theirs is overwritten: an existing `Restored` folder of the same
/// backup gets a number.
fn restore_files(
    cfg: &Config,
    restic: &Restic,
    store: &Store,
    snapshot: &str,
    login: &str,
    path: &str,
    language: Option<Language>,
) -> Result<String> {
    let rel = backups::relative_path(path)?;
    let person = store
        .person_by_login(login)?
        .ok_or_else(|| anyhow!("no person has the login '{login}'"))?;
    let home = cfg.paths.data_dir.join("home").join(&person.login);
    let meta = std::fs::symlink_metadata(&home)
        .with_context(|| format!("{} has no folder {}", person.login, home.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", home.display());
    }
    let snap = find_snapshot(restic, snapshot)?;
    let source = home.join(&rel);
    // restored next to the home on the same file system, then moved in with one rename
    let staging = cfg
        .paths
        .data_dir
        .join(format!(".restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let outcome = (|| -> Result<String> {
        let landed = schola_backup::restore_path(restic, &snap.id, &source, &staging)?;
        let language = match language {
            Some(l) => l,
            None => backups::restore_language(&person, &store.school()?),
        };
        let base = backups::restored_folder_name(snap.time, language);
        let mut folder = home.join(&base);
        let mut n = 2;
        while std::fs::symlink_metadata(&folder).is_ok() {
            folder = home.join(format!("{base} ({n})"));
            n += 1;
        }
        let dest = folder.join(&rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::rename(&landed, &dest)
            .with_context(|| format!("cannot move the restored files to {}", dest.display()))?;
        // the person's files belong to the home's owner, whoever restic restored them as
        use std::os::unix::fs::MetadataExt as _;
        chown_tree(&folder, meta.uid(), meta.gid())?;
        let what = if rel.as_os_str().is_empty() {
            "all files".to_string()
        } else {
            format!("'{}'", rel.display())
        };
        Ok(format!(
            "restored {what} of {} as they were on {} into the folder '{}'",
            person.login,
            output::datetime(snap.time),
            folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    outcome
}

/// Gives a tree (not following symbolic links) to `uid:gid`.
fn chown_tree(root: &Path, uid: u32, gid: u32) -> Result<()> {
    let mut todo: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(p) = todo.pop() {
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid))
            .with_context(|| format!("cannot give {} to its owner", p.display()))?;
        let meta = std::fs::symlink_metadata(&p)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&p)? {
                todo.push(entry?.path());
            }
        }
    }
    Ok(())
}

/// Where the snapshots taken before each upgrade are kept: `<state_dir>/pre-upgrade/`.
fn pre_upgrade_dir(cfg: &Config) -> PathBuf {
    cfg.paths.state_dir.join("pre-upgrade")
}

/// `scholactl backup pre-upgrade --from VERSION`: a fast local snapshot of the database (SQLite's
/// online backup, whatever its schema) and the configuration, taken by schola-common's postinst
/// before it migrates the database, in `<state_dir>/pre-upgrade/<time>-<version>/` (root's,
/// 0700: it holds everyone's password hashes). `--prune` (after a successful upgrade) removes
/// all but the newest, so each snapshot is kept until the next upgrade succeeds.
pub fn pre_upgrade(ctx: &Ctx, from: Option<String>, prune: bool) -> Result<()> {
    let cfg = ctx.config()?;
    let dir = pre_upgrade_dir(&cfg);
    if prune {
        let mut snaps: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        };
        // names start with the Unix time, zero-padded: they sort by age
        snaps.sort();
        let newest = snaps.pop();
        for old in &snaps {
            std::fs::remove_dir_all(old)
                .with_context(|| format!("cannot remove {}", old.display()))?;
        }
        return output::print(&match newest {
            Some(n) => format!(
                "kept the snapshot before this upgrade, {}; removed {} older\n",
                n.display(),
                snaps.len()
            ),
            None => "no snapshot from before an upgrade\n".into(),
        });
    }
    let db = cfg.database_path();
    if !db.exists() {
        return output::print(&format!(
            "no database at {} yet; nothing to snapshot\n",
            db.display()
        ));
    }
    let version: String = from
        .as_deref()
        .unwrap_or("unknown")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".+~-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dest = dir.join(format!("{:012}-{version}", now()));
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dest)
        .with_context(|| format!("cannot create {}", dest.display()))?;
    let store = Store::open_existing(&db, std::sync::Arc::new(schola_core::SystemClock))?;
    store.backup_to(&dest.join("schola.db"))?;
    if let Some(file) = &cfg.source {
        let conf = dest.join("config");
        std::fs::create_dir_all(&conf)?;
        std::fs::copy(file, conf.join(file.file_name().unwrap_or_default()))
            .with_context(|| format!("cannot copy {}", file.display()))?;
        let dropins = file.with_file_name("conf.d");
        if dropins.is_dir() {
            std::fs::create_dir_all(conf.join("conf.d"))?;
            for e in std::fs::read_dir(&dropins)? {
                let p = e?.path();
                if p.is_file()
                    && let Some(name) = p.file_name()
                {
                    std::fs::copy(&p, conf.join("conf.d").join(name))
                        .with_context(|| format!("cannot copy {}", p.display()))?;
                }
            }
        }
    }
    output::print(&format!(
        "snapshot of the database and configuration before the upgrade: {}\n",
        dest.display()
    ))
}

/// `scholactl backup recovery-sheet --out FILE`: the recovery sheet of the backup target, with
/// the passphrase read from its file, written 0600.
pub fn recovery_sheet(ctx: &Ctx, out: &Path) -> Result<()> {
    use schola_backup::recovery_sheet::{Sheet, Words, pdf};
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let cfg = ctx.config()?;
    let store = crate::context::open_existing_store(&cfg)?;
    let target = backups::target(&cfg, &store)?
        .ok_or_else(|| anyhow!("no backup is set up: there is no passphrase to print"))?;
    let passphrase = std::fs::read_to_string(&target.password_file)
        .with_context(|| {
            format!(
                "cannot read the backup password file {}",
                target.password_file.display()
            )
        })?
        .trim_end_matches(['\n', '\r'])
        .to_string();
    let school = store.school()?.name;
    let server = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let made = output::datetime(now());
    let footer = format!("Schola {}", schola_core::VERSION);
    let bytes = pdf(
        &Sheet {
            school: &school,
            target: &target.repository,
            passphrase: &passphrase,
            made: &made,
            server: server.trim(),
            footer: &footer,
        },
        &Words::english(&target.repository),
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    f.write_all(&bytes)
        .with_context(|| format!("cannot write {}", out.display()))?;
    output::print(&format!(
        "wrote the recovery sheet to {}: print it, keep it off the server, and delete the file\n",
        out.display()
    ))
}
