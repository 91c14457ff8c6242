//! The restic subprocess: one `Restic` per repository, each operation one `restic` run with
//! `--json` where restic offers it. This module is the only place that knows restic's command
//! line, its JSON and its error messages; the rest of Schola sees typed results and [`Error`].
//!
//! The passphrase reaches restic only as `RESTIC_PASSWORD_FILE`, never as an argument (arguments
//! are visible to every user in `ps`). restic's own variables from the caller's environment are
//! removed so that a stray `RESTIC_REPOSITORY` cannot redirect a backup.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// restic's variables that would change what a run does if the caller happened to have them set.
const RESTIC_ENV: &[&str] = &[
    "RESTIC_REPOSITORY",
    "RESTIC_REPOSITORY_FILE",
    "RESTIC_PASSWORD",
    "RESTIC_PASSWORD_COMMAND",
    "RESTIC_KEY_HINT",
];

/// Where a backup goes and the file holding its passphrase.
#[derive(Debug, Clone)]
pub struct Target {
    /// A path, or any restic repository string (`sftp:user@host:/path`) passed through.
    pub repo: String,
    pub password_file: PathBuf,
}

impl Target {
    /// The repository as a local path, if it is one (not `sftp:` or another restic backend).
    pub fn local_path(&self) -> Option<&Path> {
        (!self.repo.contains(':') || self.repo.starts_with("local:"))
            .then(|| Path::new(self.repo.strip_prefix("local:").unwrap_or(&self.repo)))
    }
}

/// How many snapshots `forget` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

/// restic's summary of one backup run (the last line of `restic backup --json`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Summary {
    pub snapshot_id: String,
    pub files_new: u64,
    pub files_changed: u64,
    pub files_unmodified: u64,
    pub dirs_new: u64,
    pub dirs_changed: u64,
    /// Bytes written to the repository (after deduplication, before compression in restic 0.14).
    pub data_added: u64,
    pub total_files_processed: u64,
    pub total_bytes_processed: u64,
    /// Seconds.
    pub total_duration: f64,
}

/// One snapshot, as `restic snapshots --json` lists it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub short_id: String,
    /// RFC 3339 with restic's nanoseconds and offset.
    pub time: String,
    pub hostname: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
}

impl Snapshot {
    /// When the snapshot was taken (Unix time), from restic's RFC 3339 time; `None` when restic
    /// wrote something else.
    pub fn unix_time(&self) -> Option<i64> {
        time::OffsetDateTime::parse(&self.time, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp())
    }
}

/// What `forget` removed and kept.
#[derive(Debug, Clone, Serialize)]
pub struct ForgetOutcome {
    pub kept: usize,
    pub removed: usize,
}

/// A repository and the restic binary that reads and writes it.
#[derive(Debug, Clone)]
pub struct Restic {
    bin: PathBuf,
    target: Target,
    cache_dir: Option<PathBuf>,
    ssh: Option<crate::ssh::Ssh>,
}

/// A `restic backup` in progress (so a caller — or a test — can watch or stop it).
#[derive(Debug)]
pub struct RunningBackup {
    child: Child,
    restic: Restic,
    started: Instant,
}

impl Restic {
    pub fn new(target: Target) -> Restic {
        Restic {
            bin: PathBuf::from("restic"),
            target,
            cache_dir: None,
            ssh: None,
        }
    }

    /// Signs in to an SFTP target with this key and pinned host keys ([`crate::ssh`]).
    pub fn with_ssh(mut self, ssh: crate::ssh::Ssh) -> Restic {
        self.ssh = Some(ssh);
        self
    }

    /// Another restic binary than the one on `$PATH`.
    pub fn with_binary(mut self, bin: impl Into<PathBuf>) -> Restic {
        self.bin = bin.into();
        self
    }

    /// restic's local cache of the repository's index (default: `~/.cache/restic`).
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Restic {
        self.cache_dir = Some(dir.into());
        self
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Makes a new repository. An existing one is refused, so an `init` typed by mistake can
    /// never replace a school's backups (restic refuses too; this names the reason first).
    pub fn init(&self) -> Result<()> {
        if let Some(path) = self.target.local_path() {
            if path.join("config").exists() {
                return Err(Error::RepoExists {
                    repo: self.target.repo.clone(),
                });
            }
            let parent = path.parent().unwrap_or(Path::new("/"));
            if !parent.is_dir() {
                return Err(Error::TargetMissing {
                    path: parent.to_path_buf(),
                });
            }
        }
        self.run(&["init"], "create the backup repository")
            .map(|_| ())
    }

    /// Starts `restic backup` of `paths` with `excludes` (restic patterns) and `tags`.
    pub fn start_backup(
        &self,
        paths: &[PathBuf],
        excludes: &[String],
        tags: &[String],
    ) -> Result<RunningBackup> {
        self.ready()?;
        let mut cmd = self.command();
        cmd.args(["backup", "--json"]);
        for t in tags {
            cmd.arg("--tag").arg(t);
        }
        for e in excludes {
            cmd.arg("--exclude").arg(e);
        }
        cmd.arg("--").args(paths);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        Ok(RunningBackup {
            child,
            restic: self.clone(),
            started: Instant::now(),
        })
    }

    /// The snapshots, oldest first.
    pub fn snapshots(&self) -> Result<Vec<Snapshot>> {
        let out = self.run(&["snapshots", "--json"], "list the backups")?;
        serde_json::from_str(&out).map_err(|e| Error::Output {
            what: "restic snapshots".into(),
            message: e.to_string(),
        })
    }

    /// Checks the repository's structure: every index, snapshot and tree, and that every pack
    /// they name is there (missing and broken files). It does not re-read all data
    /// (`--read-data`), which would take hours on a USB disk. Returns restic's report.
    pub fn check(&self) -> Result<String> {
        self.ready()?;
        self.unlock()?;
        self.run(&["check"], "check the backup")
    }

    /// Forgets snapshots beyond `keep` (each host and set of paths on its own, as restic
    /// groups them) and prunes the data no snapshot needs any more.
    pub fn forget(&self, keep: Retention) -> Result<ForgetOutcome> {
        self.ready()?;
        self.unlock()?;
        let (d, w, m) = (
            keep.daily.to_string(),
            keep.weekly.to_string(),
            keep.monthly.to_string(),
        );
        let out = self.run(
            &[
                "forget",
                "--json",
                "--keep-daily",
                &d,
                "--keep-weekly",
                &w,
                "--keep-monthly",
                &m,
            ],
            "forget old backups",
        )?;
        #[derive(Deserialize)]
        struct Group {
            #[serde(default)]
            keep: Option<Vec<serde_json::Value>>,
            #[serde(default)]
            remove: Option<Vec<serde_json::Value>>,
        }
        let groups: Vec<Group> = serde_json::from_str(out.trim()).map_err(|e| Error::Output {
            what: "restic forget".into(),
            message: e.to_string(),
        })?;
        let count = |v: &Option<Vec<serde_json::Value>>| v.as_ref().map_or(0, Vec::len);
        let outcome = ForgetOutcome {
            kept: groups.iter().map(|g| count(&g.keep)).sum(),
            removed: groups.iter().map(|g| count(&g.remove)).sum(),
        };
        // `forget --prune` in one run prints forget's JSON and prune's text on the same
        // output; two runs keep forget's answer parseable and do the same
        if outcome.removed > 0 {
            self.run(&["prune"], "remove the data of forgotten backups")?;
        }
        Ok(outcome)
    }

    /// Restores `include` (an absolute path as it was backed up: a file or a folder with
    /// everything below it) from `snapshot` (an id or `latest`) under `to`, where it lands at
    /// `to/<include>`. Files there are overwritten; files that are not in the snapshot are left.
    pub fn restore(&self, snapshot: &str, include: &Path, to: &Path) -> Result<()> {
        self.ready()?;
        let mut cmd = self.command();
        cmd.args(["restore", snapshot, "--target"])
            .arg(to)
            .arg("--include")
            .arg(include);
        self.finish(cmd, "restore from the backup").map(|_| ())
    }

    /// Restores every path in `includes` (absolute paths as backed up, or restic patterns such
    /// as `/var/lib/schola/*.secret`) from `snapshot` under `to`, in one run. A pattern that
    /// matches nothing restores nothing.
    pub fn restore_many(&self, snapshot: &str, includes: &[PathBuf], to: &Path) -> Result<()> {
        self.ready()?;
        let mut cmd = self.command();
        cmd.args(["restore", snapshot, "--target"]).arg(to);
        for i in includes {
            cmd.arg("--include").arg(i);
        }
        self.finish(cmd, "restore from the backup").map(|_| ())
    }

    /// Removes stale locks: ones whose restic process on this machine is gone (killed, power
    /// cut) or older than 30 minutes without refresh. restic decides staleness itself and never
    /// removes the lock of a run still in progress, so this is safe before every run; without
    /// it, a backup killed in the night would block the next `check` and `prune`.
    pub fn unlock(&self) -> Result<()> {
        self.run(&["unlock"], "remove stale locks").map(|_| ())
    }

    /// The repository is there (a local one: its directory, so an unplugged USB disk is named
    /// as such rather than as restic's "unable to open config file").
    pub fn ready(&self) -> Result<()> {
        if let Some(path) = self.target.local_path()
            && !path.join("config").is_file()
        {
            let mut missing = path;
            while let Some(parent) = missing.parent()
                && !parent.exists()
            {
                missing = parent;
            }
            return Err(if path.exists() {
                Error::NoRepository {
                    repo: self.target.repo.clone(),
                }
            } else {
                Error::TargetMissing {
                    path: missing.to_path_buf(),
                }
            });
        }
        Ok(())
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        for v in RESTIC_ENV {
            cmd.env_remove(v);
        }
        cmd.env("RESTIC_REPOSITORY", &self.target.repo)
            .env("RESTIC_PASSWORD_FILE", &self.target.password_file)
            // no progress bars in the output we parse
            .env("RESTIC_PROGRESS_FPS", "0.0167");
        if let Some(dir) = &self.cache_dir {
            cmd.arg("--cache-dir").arg(dir);
        }
        if let Some(c) = self
            .ssh
            .as_ref()
            .and_then(|s| s.sftp_command(&self.target.repo))
        {
            cmd.arg("-o").arg(format!("sftp.command={c}"));
        }
        cmd
    }

    fn run(&self, args: &[&str], what: &str) -> Result<String> {
        let mut cmd = self.command();
        cmd.args(args);
        self.finish(cmd, what)
    }

    /// Runs `cmd` to its end; its stdout, or the error its stderr describes.
    fn finish(&self, mut cmd: Command, what: &str) -> Result<String> {
        self.password_readable()?;
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.spawn_error(e))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return Ok(stdout);
        }
        Err(self.classify(
            what,
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
        ))
    }

    /// A missing or unreadable password file named as such (restic would only say "resolving
    /// password failed").
    fn password_readable(&self) -> Result<()> {
        std::fs::File::open(&self.target.password_file)
            .map(|_| ())
            .map_err(|source| Error::PasswordFile {
                path: self.target.password_file.clone(),
                source,
            })
    }

    fn spawn_error(&self, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotInstalled {
                bin: self.bin.clone(),
            }
        } else {
            Error::Run {
                what: self.bin.display().to_string(),
                source: e,
            }
        }
    }

    /// Turns restic's message into the error an admin can act on.
    fn classify(&self, what: &str, code: Option<i32>, stderr: &str) -> Error {
        let repo = self.target.repo.clone();
        let mut lower = stderr.to_ascii_lowercase();
        if lower.contains("unable to start the sftp session")
            && let Some(said) = self.ssh.as_ref().and_then(|s| s.diagnose(&repo))
        {
            lower.push_str(&said.to_ascii_lowercase());
        }
        // ssh speaks first (restic relays its stderr as "subprocess ssh: ..."), and restic's
        // own line then only says the session ended
        let known_hosts = || {
            self.ssh
                .as_ref()
                .map(|s| s.known_hosts.clone())
                .unwrap_or_default()
        };
        if lower.contains("remote host identification has changed")
            || lower.contains("host key verification failed")
        {
            Error::HostKeyChanged {
                repo,
                known_hosts: known_hosts(),
            }
        } else if lower.contains("permission denied (publickey") {
            Error::KeyRefused {
                repo,
                public_key: self
                    .ssh
                    .as_ref()
                    .map(|s| s.identity.with_extension("pub"))
                    .unwrap_or_default(),
            }
        } else if lower.contains("wrong password") || lower.contains("no key found") {
            Error::WrongPassword { repo }
        } else if lower.contains("no space left on device") || lower.contains("disk quota exceeded")
        {
            Error::TargetFull { repo }
        } else if lower.contains("config file already exists") {
            Error::RepoExists { repo }
        } else if lower.contains("is there a repository at the following location") {
            Error::NoRepository { repo }
        } else if lower.contains("repository is already locked") {
            Error::Locked {
                repo,
                detail: last_line(stderr),
            }
        } else {
            Error::Failed {
                what: what.to_string(),
                code,
                detail: last_line(stderr),
            }
        }
    }
}

impl RunningBackup {
    /// restic's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the end and returns restic's summary. restic exits 3 when the snapshot was
    /// made but some files could not be read; that is reported as [`Error::Incomplete`].
    pub fn wait(mut self) -> Result<(Summary, Duration)> {
        let mut stdout = String::new();
        let mut stderr = String::new();
        // stderr is small (errors only, with --json); read it on a thread so neither pipe fills
        let err_pipe = self.child.stderr.take();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut p) = err_pipe {
                let _ = p.read_to_string(&mut s);
            }
            s
        });
        if let Some(mut p) = self.child.stdout.take() {
            let _ = p.read_to_string(&mut stdout);
        }
        if let Ok(s) = reader.join() {
            stderr = s;
        }
        let status = self.child.wait().map_err(|e| Error::Run {
            what: "restic backup".into(),
            source: e,
        })?;
        let elapsed = self.started.elapsed();
        let summary = stdout
            .lines()
            .filter(|l| l.contains("\"message_type\":\"summary\""))
            .find_map(|l| serde_json::from_str::<Summary>(l).ok());
        match (status.code(), summary) {
            (Some(0), Some(s)) => Ok((s, elapsed)),
            (Some(3), Some(s)) => Err(Error::Incomplete {
                snapshot: s.snapshot_id,
                detail: unreadable_items(&stderr),
            }),
            (code, _) => Err(self
                .restic
                .classify("make the backup", code, &stderr)
                .or_killed(code)),
        }
    }
}

/// The files restic could not read, from its JSON error lines.
fn unreadable_items(stderr: &str) -> String {
    let items: Vec<String> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("item").and_then(|i| i.as_str()).map(str::to_string))
        .take(10)
        .collect();
    if items.is_empty() {
        last_line(stderr)
    } else {
        items.join(", ")
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("(no message)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_times_are_read_with_their_offset() {
        let snap = |time: &str| Snapshot {
            id: "a".into(),
            short_id: "a".into(),
            time: time.into(),
            hostname: "h".into(),
            tags: vec![],
            paths: vec![],
        };
        assert_eq!(
            snap("2026-11-24T03:00:00.123456789+01:00").unix_time(),
            Some(1_795_485_600)
        );
        assert_eq!(
            snap("2026-11-24T02:00:00Z").unix_time(),
            Some(1_795_485_600)
        );
        assert_eq!(snap("yesterday").unix_time(), None);
    }

    fn restic() -> Restic {
        Restic::new(Target {
            repo: "/media/usb/schola".into(),
            password_file: "/etc/schola/backup.pass".into(),
        })
    }

    #[test]
    fn restic_messages_become_admin_errors() {
        let r = restic();
        let e = r.classify(
            "x",
            Some(1),
            "subprocess ssh: Permission denied (publickey).\nFatal: unable to open repository at sftp:b@nas:/x: unable to start the sftp session, error: EOF\n",
        );
        assert!(
            e.to_string()
                .starts_with("the SFTP server of /media/usb/schola refused Schola's key"),
            "{e}"
        );
        let e = r.classify("x", Some(1), "subprocess ssh: @@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nsubprocess ssh: Host key verification failed.\nFatal: unable to start the sftp session, error: EOF\n");
        assert!(e.to_string().contains("another host key"), "{e}");
        let e = r.classify("x", Some(1), "Fatal: wrong password or no key found\n");
        assert_eq!(
            e.to_string(),
            "the backup password is wrong for /media/usb/schola"
        );
        let e = r.classify(
            "make the backup",
            Some(1),
            "Save(<data/1234>) returned error: write /media/usb/schola/data/12/1234: no space left on device\n",
        );
        assert!(e.to_string().contains("/media/usb/schola is full"), "{e}");
        let e = r.classify("x", Some(1), "Fatal: create repository at /media/usb/schola failed: Fatal: config file already exists\n");
        assert!(matches!(e, Error::RepoExists { .. }), "{e}");
        let e = r.classify("check the backup", Some(1), "something odd\nFatal: boom\n");
        assert_eq!(
            e.to_string(),
            "cannot check the backup: restic says: Fatal: boom"
        );
    }

    #[test]
    fn local_and_remote_targets() {
        let t = |repo: &str| Target {
            repo: repo.into(),
            password_file: "/p".into(),
        };
        assert_eq!(t("/media/usb").local_path(), Some(Path::new("/media/usb")));
        assert_eq!(
            t("local:/mnt/nas").local_path(),
            Some(Path::new("/mnt/nas"))
        );
        assert_eq!(t("sftp:backup@nas:/srv/restic").local_path(), None);
    }
}
