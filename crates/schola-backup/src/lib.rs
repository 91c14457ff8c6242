//! Schola's backup and restore: what a school's backup holds ([`Layout`], [`Plan`]), a consistent
//! copy of the database taken while the daemons run, and restic ([`restic`]) doing the saving —
//! deduplicated, encrypted, incremental — and the restoring.
//!
//! It sits beside the daemons: `scholactl backup|restore` calls it, and it depends on
//! schola-core only (for the configuration and the store's online backup). restic is the only
//! program that writes the repository, so a repository can always be read with restic alone.

pub mod error;
pub mod recovery_sheet;
pub mod restic;
pub mod server;
pub mod ssh;

use std::path::{Path, PathBuf};

use schola_core::{Config, Store};

pub use crate::error::{Error, Result};
pub use crate::restic::{
    ForgetOutcome, Restic, Retention, RunningBackup, Snapshot, Summary, Target,
};
pub use crate::server::{Manifest, Piece, ServerOptions, ServerRestore, restore_server};

/// Where Debian's Samba keeps its password database (tdbsam).
pub const SAMBA_PASSDB: &str = "/var/lib/samba/private/passdb.tdb";

/// The tag every Schola snapshot carries (besides the machine's name).
pub const TAG: &str = "schola";

/// The places a school's data lives, taken from the configuration.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The loaded configuration file (`/etc/schola/schola.toml`).
    pub config_file: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub data_dir: PathBuf,
    pub vmail_dir: PathBuf,
    pub samba_passdb: PathBuf,
}

/// What one backup run saves, and what it had to leave out (paths that do not exist).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Plan {
    pub paths: Vec<PathBuf>,
    pub excludes: Vec<String>,
    pub notes: Vec<String>,
}

/// The outcome of a backup run, for the CLI (and later the admin UI).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub summary: Summary,
    pub duration_secs: f64,
    pub paths: Vec<PathBuf>,
    pub notes: Vec<String>,
}

impl Layout {
    pub fn of(cfg: &Config) -> Layout {
        Layout {
            config_file: cfg.source.clone(),
            state_dir: cfg.paths.state_dir.clone(),
            data_dir: cfg.paths.data_dir.clone(),
            vmail_dir: cfg.mail.vmail_dir.clone(),
            samba_passdb: PathBuf::from(SAMBA_PASSDB),
        }
    }

    /// Where the database's consistent copy is written before restic reads it. It is inside
    /// the state directory, so it belongs to the same owner and file system as the database.
    pub fn staging_dir(&self) -> PathBuf {
        self.state_dir.join("backup-staging")
    }

    /// The database as the backup holds it: restore this file as `<state_dir>/schola.db`.
    pub fn staged_database(&self) -> PathBuf {
        self.staging_dir().join("schola.db")
    }

    /// The manifest written beside the database copy: where each piece of the school is.
    pub fn staged_manifest(&self) -> PathBuf {
        self.staging_dir().join(server::MANIFEST)
    }

    /// True when the configuration's whole directory is saved: on the appliance `/etc/schola`
    /// is its own directory; with the dev profile the config file sits at the root that also
    /// holds state and data, so only the file and its drop-ins are taken.
    pub fn config_dir_whole(&self) -> bool {
        self.config_file.as_ref().is_some_and(|file| {
            let dir = file.parent().unwrap_or(Path::new("/"));
            !(self.state_dir.starts_with(dir) || self.data_dir.starts_with(dir))
        })
    }

    /// One person's mailbox directory (`<vmail_dir>/<id>`).
    pub fn mailbox(&self, person_id: i64) -> PathBuf {
        self.vmail_dir.join(person_id.to_string())
    }

    /// What to save. The live database files are never read by restic (a copy taken while
    /// SQLite writes can be torn); the staged online-backup copy stands in for them.
    pub fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        let want = |plan: &mut Plan, path: PathBuf, what: &str| {
            if path.exists() {
                plan.paths.push(path);
            } else {
                plan.notes
                    .push(format!("skipped {what}: {} does not exist", path.display()));
            }
        };
        if let Some(file) = &self.config_file {
            let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
            if !self.config_dir_whole() {
                want(&mut plan, file.clone(), "the configuration file");
                let dropins = dir.join("conf.d");
                if dropins.exists() {
                    plan.paths.push(dropins);
                }
            } else {
                want(&mut plan, dir, "the configuration directory");
            }
        } else {
            plan.notes
                .push("skipped the configuration: it was not read from a file".into());
        }
        want(&mut plan, self.staging_dir(), "the database copy");
        want(&mut plan, self.state_dir.join("tls"), "the TLS certificate");
        want(
            &mut plan,
            self.state_dir.join("branding"),
            "the school's logo",
        );
        let mut secrets: Vec<PathBuf> = std::fs::read_dir(&self.state_dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "secret"))
            .collect();
        secrets.sort();
        plan.paths.extend(secrets);
        want(&mut plan, self.data_dir.clone(), "the files");
        want(&mut plan, self.vmail_dir.clone(), "the mail");
        if self.samba_passdb.exists() {
            plan.paths.push(self.samba_passdb.clone());
        } else {
            plan.notes.push(format!(
                "skipped Samba's password database: {} does not exist (SMB is not set up)",
                self.samba_passdb.display()
            ));
        }
        let db = schola_core::Config::default().database_path();
        let db_name = db.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = db_name {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                plan.excludes.push(
                    self.state_dir
                        .join(format!("{name}{suffix}"))
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        plan
    }
}

/// The tags of a snapshot made on this machine: `schola` and the host name.
pub fn tags() -> Vec<String> {
    let mut tags = vec![TAG.to_string()];
    tags.extend(host_name());
    tags
}

/// This machine's name, if the kernel knows one.
pub fn host_name() -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let host = host.trim();
    (!host.is_empty()).then(|| host.to_string())
}

/// Writes the database's consistent copy to the staging directory (SQLite's online backup: the
/// daemons keep writing meanwhile, and the copy is one transaction's state), and beside it the
/// [`Manifest`] a whole-server restore reads to know where each piece came from.
pub fn stage_database(store: &Store, layout: &Layout) -> Result<PathBuf> {
    let dir = layout.staging_dir();
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        what: "cannot create",
        path: dir.clone(),
        source,
    })?;
    let dest = layout.staged_database();
    match std::fs::remove_file(&dest) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::Io {
                what: "cannot replace",
                path: dest,
                source: e,
            });
        }
        _ => {}
    }
    store.backup_to(&dest)?;
    let manifest = layout.staged_manifest();
    let json = serde_json::to_vec_pretty(&Manifest::of(layout)).map_err(|e| Error::Output {
        what: "the backup's manifest".into(),
        message: e.to_string(),
    })?;
    // written only when it changed, so that restic does not count it as a changed file each run
    if std::fs::read(&manifest).ok().as_deref() != Some(json.as_slice()) {
        std::fs::write(&manifest, json).map_err(|source| Error::Io {
            what: "cannot write",
            path: manifest.clone(),
            source,
        })?;
    }
    Ok(dest)
}

/// Stages the database, removes stale locks and starts restic on the plan. The caller waits
/// ([`RunningBackup::wait`]); [`back_up`] does both.
pub fn start(restic: &Restic, store: &Store, layout: &Layout) -> Result<(RunningBackup, Plan)> {
    restic.ready()?;
    stage_database(store, layout)?;
    let plan = layout.plan();
    restic.unlock()?;
    let running = restic.start_backup(&plan.paths, &plan.excludes, &tags())?;
    Ok((running, plan))
}

/// One backup run: the database copy, then everything in the plan, as one snapshot.
pub fn back_up(restic: &Restic, store: &Store, layout: &Layout) -> Result<Report> {
    let (running, plan) = start(restic, store, layout)?;
    let outcome = running.wait();
    // the copy holds everyone's password hashes; it lives only as long as the run
    let _ = std::fs::remove_file(layout.staged_database());
    let (summary, elapsed) = outcome?;
    Ok(Report {
        summary,
        duration_secs: elapsed.as_secs_f64(),
        paths: plan.paths,
        notes: plan.notes,
    })
}

/// A snapshot as the admin names it: `latest` or a (short) id.
pub fn check_snapshot_name(name: &str) -> Result<()> {
    let ok = name == "latest"
        || (name.len() >= 4 && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::Failed {
            what: "find the backup".into(),
            code: None,
            detail: format!(
                "'{name}' is not a backup's id; give 'latest' or an id from 'scholactl backup list'"
            ),
        })
    }
}

/// Restores `path` (a file or folder, as its absolute path was at backup time) from
/// `snapshot` under `to`; returns where it now is (`to/<path>`).
pub fn restore_path(restic: &Restic, snapshot: &str, path: &Path, to: &Path) -> Result<PathBuf> {
    check_snapshot_name(snapshot)?;
    let path = std::path::absolute(path).map_err(|source| Error::Io {
        what: "cannot resolve",
        path: path.to_path_buf(),
        source,
    })?;
    if restic.snapshots()?.is_empty() {
        return Err(Error::NoSnapshot {
            repo: restic.target().repo.clone(),
        });
    }
    std::fs::create_dir_all(to).map_err(|source| Error::Io {
        what: "cannot create",
        path: to.to_path_buf(),
        source,
    })?;
    restic.restore(snapshot, &path, to)?;
    let landed = to.join(path.strip_prefix("/").unwrap_or(&path));
    if !landed.exists() && std::fs::symlink_metadata(&landed).is_err() {
        return Err(Error::NotInSnapshot {
            path,
            snapshot: snapshot.to_string(),
        });
    }
    Ok(landed)
}

/// Restores one person's mailbox from `snapshot`: into place (mails deleted since come back,
/// mails that arrived since stay), or under `to`. Returns the mailbox's directory.
pub fn restore_mailbox(
    restic: &Restic,
    store: &Store,
    layout: &Layout,
    login: &str,
    snapshot: &str,
    to: Option<&Path>,
) -> Result<PathBuf> {
    let person = store
        .person_by_login(login)?
        .ok_or_else(|| Error::NoSuchPerson(login.to_string()))?;
    let mailbox = layout.mailbox(person.id);
    restore_path(restic, snapshot, &mailbox, to.unwrap_or(Path::new("/")))
}
