//! Upgrades started from the admin UI, without the web server ever running as root.
//!
//! `schola-web` (user `schola`) only drops a *request* — one of two words, `check` or `upgrade` —
//! into `<state_dir>/update-request/`. A systemd path unit sees it and starts the privileged
//! oneshot helper (`scholactl upgrade --run-request`, root), which takes the request, runs apt,
//! and writes its *status* and *log* into the update directory (`/var/lib/schola-update`, owned
//! by root and readable by all), where the web UI reads them. Nothing the web server writes is
//! ever passed to apt: a compromised web server can ask for a check or an upgrade of the
//! packages already installed, and nothing else.
//!
//! This module holds what both sides share: the file names and formats, the disk-space rule, the
//! lock that tells whether a helper is running, and the changelog excerpt. It runs no process.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::{Config, UnixTime};

/// What the admin asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `apt-get update`, then list the Schola packages with a newer version and their changelog.
    Check,
    /// Install the newer versions of the Schola packages already installed.
    Upgrade,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Check => "check",
            Action::Upgrade => "upgrade",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "check" => Some(Action::Check),
            "upgrade" => Some(Action::Upgrade),
            _ => None,
        }
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
}

/// One installed Schola package: its version, and the newer one apt offers, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersion {
    pub package: String,
    pub installed: String,
    pub available: Option<String>,
}

/// What the helper writes to `status.json` after each step; the web UI shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// The last (or current) run.
    pub action: Option<Action>,
    pub state: Option<RunState>,
    pub started: Option<UnixTime>,
    pub finished: Option<UnixTime>,
    /// One sentence: what happened, or why it failed.
    pub message: String,
    /// The installed Schola packages as of the last run, with the newer versions found.
    pub packages: Vec<PackageVersion>,
    /// When apt's package lists were last read for this status.
    pub checked: Option<UnixTime>,
    /// The changelog entries newer than the installed version.
    pub changelog: String,
}

impl Status {
    pub fn upgrades(&self) -> impl Iterator<Item = &PackageVersion> {
        self.packages.iter().filter(|p| p.available.is_some())
    }
}

pub const REQUEST_FILE: &str = "request";
pub const STATUS_FILE: &str = "status.json";
pub const LOG_FILE: &str = "log";
const LOCK_FILE: &str = "lock";
/// A request is one word; anything longer is not a request.
const MAX_REQUEST: u64 = 64;
/// The changelog shown is cut at this size.
pub const MAX_CHANGELOG: usize = 64 * 1024;

/// The two directories, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePaths {
    /// Written by `schola-web` (user schola), read by the helper.
    pub request_dir: PathBuf,
    /// Written by the helper (root), read by `schola-web`.
    pub update_dir: PathBuf,
}

impl UpdatePaths {
    pub fn from_config(cfg: &Config) -> UpdatePaths {
        UpdatePaths {
            request_dir: cfg.paths.state_dir.join("update-request"),
            update_dir: cfg.update_dir(),
        }
    }

    /// Updates are managed here only where the package made the update directory (an
    /// appliance installed from packages, or a test that sets one up).
    pub fn managed(&self) -> bool {
        self.update_dir.is_dir()
    }

    pub fn request(&self) -> PathBuf {
        self.request_dir.join(REQUEST_FILE)
    }
    pub fn status(&self) -> PathBuf {
        self.update_dir.join(STATUS_FILE)
    }
    pub fn log(&self) -> PathBuf {
        self.update_dir.join(LOG_FILE)
    }
    pub fn lock(&self) -> PathBuf {
        self.update_dir.join(LOCK_FILE)
    }

    /// The web side: asks the helper for `action`. Refused while a request is waiting.
    pub fn write_request(&self, action: Action) -> Result<()> {
        write_request_file(
            &self.request_dir,
            REQUEST_FILE,
            action.as_str(),
            "a request is already waiting for the update helper",
        )
    }

    /// The helper's side: takes (reads and removes) the waiting request. `Ok(None)` when there
    /// is none. The file is written by an unprivileged user, so it is opened without following
    /// a symbolic link, must be a small regular file, and must hold exactly one known word.
    pub fn take_request(&self) -> Result<Option<Action>> {
        let path = self.request();
        let Some(text) = take_request_file(&path, MAX_REQUEST, "the update request")? else {
            return Ok(None);
        };
        let word = text.trim();
        Action::parse(word).map(Some).ok_or_else(|| {
            Error::Invalid(format!(
                "the update request {} is not 'check' or 'upgrade' (it holds {:?}); it was removed",
                path.display(),
                word.chars().take(20).collect::<String>()
            ))
        })
    }

    /// The last status the helper wrote; the default when it has written none.
    pub fn read_status(&self) -> Result<Status> {
        read_status_file(&self.status())
    }

    /// Replaces the status file atomically, readable by the web server.
    pub fn write_status(&self, status: &Status) -> Result<()> {
        write_status_file(&self.update_dir, STATUS_FILE, status)
    }

    /// The helper holds this lock (exclusive) for the whole run; `scholactl upgrade` takes it too.
    pub fn lock_exclusive(&self) -> Result<Option<nix::fcntl::Flock<File>>> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o644)
            .open(self.lock())
            .map_err(|e| Error::io(format!("cannot open {}", self.lock().display()), e))?;
        match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(Some(l)),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(Error::io(
                format!("cannot lock {}", self.lock().display()),
                e.into(),
            )),
        }
    }

    /// True while a helper (or `scholactl upgrade`) holds the lock. The web server can only
    /// read the lock file, which is enough to test it. A status that says "running" while no
    /// one holds the lock belongs to a helper that was killed.
    pub fn helper_running(&self) -> bool {
        lock_held(&self.lock())
    }

    /// The helper's log from byte `from` on, at most `max` bytes and only whole lines, with the
    /// offset to continue from. When the log is shorter than `from` a new run has started it
    /// afresh, and `reset` says so (the text is then read from the start).
    pub fn read_log(&self, from: u64, max: usize) -> Result<LogChunk> {
        let mut f = match File::open(self.log()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LogChunk {
                    text: String::new(),
                    next: 0,
                    reset: from > 0,
                });
            }
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read {}", self.log().display()),
                    e,
                ));
            }
        };
        let what = |e| Error::io(format!("cannot read {}", self.log().display()), e);
        let len = f.metadata().map_err(what)?.len();
        let (start, reset) = if from > len { (0, true) } else { (from, false) };
        f.seek(SeekFrom::Start(start)).map_err(what)?;
        let mut buf = Vec::new();
        f.take(max as u64).read_to_end(&mut buf).map_err(what)?;
        let whole = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        buf.truncate(whole);
        Ok(LogChunk {
            next: start + whole as u64,
            text: String::from_utf8_lossy(&buf).into_owned(),
            reset,
        })
    }
}

/// True while some process holds an exclusive flock on `path`. Only reading the file is needed
/// to test it, so the web server can tell whether a root helper runs.
pub(crate) fn lock_held(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock) {
        Ok(_unlocked_on_drop) => false,
        Err((_, e)) => e == nix::errno::Errno::EWOULDBLOCK,
    }
}

/// A helper's JSON status file; the default when there is none yet.
pub(crate) fn read_status_file<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("{} is damaged: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
    }
}

/// Replaces a helper's JSON status file `dir/name` atomically (a temporary file, synced, then
/// renamed), readable by all: it holds no secret, and the web server reads it.
pub(crate) fn write_status_file<T: Serialize>(dir: &Path, name: &str, status: &T) -> Result<()> {
    let path = dir.join(name);
    let what = |e| Error::io(format!("cannot write {}", path.display()), e);
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(what)?;
    let json =
        serde_json::to_vec_pretty(status).map_err(|e| Error::Invalid(format!("status: {e}")))?;
    f.write_all(&json)
        .and_then(|()| f.sync_all())
        .map_err(what)?;
    fs::rename(&tmp, &path).map_err(what)
}

/// Leaves a one-line request for a privileged helper: written to a temporary file and renamed,
/// so the helper's path unit never sees half a request. Refused (`busy`) while one waits.
pub(crate) fn write_request_file(dir: &Path, name: &str, line: &str, busy: &str) -> Result<()> {
    let path = dir.join(name);
    let what = |e| Error::io(format!("cannot write {}", path.display()), e);
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(what)?;
    }
    if path.exists() {
        return Err(Error::Invalid(busy.into()));
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&tmp)
        .map_err(what)?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(what)?;
    fs::rename(&tmp, &path).map_err(what)
}

/// The helper's side of [`write_request_file`]: takes (reads and removes) the request at
/// `path`; `Ok(None)` when there is none. The file was written by an unprivileged user, so it
/// is opened without following a symbolic link and must be a small regular file (else it is
/// removed and reads as empty).
pub(crate) fn take_request_file(path: &Path, max: u64, name: &str) -> Result<Option<String>> {
    let what = |e| Error::io(format!("cannot read {name} {}", path.display()), e);
    let mut f = match OpenOptions::new()
        .read(true)
        .custom_flags((nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK).bits())
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            let _ = fs::remove_file(path);
            return Err(what(e));
        }
    };
    let meta = f.metadata().map_err(what)?;
    let mut text = String::new();
    let read = if meta.is_file() && meta.len() <= max {
        (&mut f).take(max).read_to_string(&mut text).map(|_| ())
    } else {
        Ok(())
    };
    fs::remove_file(path).map_err(what)?;
    read.map_err(what)?;
    Ok(Some(text))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    pub text: String,
    pub next: u64,
    pub reset: bool,
}

/// Free space an upgrade needs where apt downloads and unpacks packages.
pub const APT_MIN_FREE: u64 = 512 << 20;

/// Bytes available to unprivileged writers on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Result<u64> {
    let s = nix::sys::statvfs::statvfs(path).map_err(|e| {
        Error::io(
            format!("cannot read the free space of {}", path.display()),
            e.into(),
        )
    })?;
    Ok(s.blocks_available() as u64 * s.fragment_size() as u64)
}

/// Each place an upgrade writes to that is short of space, as a sentence naming it. Empty when
/// there is room everywhere.
pub fn space_problems(cfg: &Config) -> Result<Vec<String>> {
    let db = cfg.database_path();
    // the migration's backup is a copy of the database, and its WAL may grow as large again
    let db_size = fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let needs = [
        (PathBuf::from("/var/cache/apt/archives"), APT_MIN_FREE),
        (PathBuf::from("/usr"), APT_MIN_FREE),
        (cfg.paths.state_dir.clone(), 2 * db_size + (64 << 20)),
    ];
    let mut problems = Vec::new();
    for (path, need) in needs {
        if !path.exists() {
            continue;
        }
        let free = free_bytes(&path)?;
        if free < need {
            problems.push(format!(
                "{} has {} MiB free and needs {} MiB",
                path.display(),
                free >> 20,
                need.div_ceil(1 << 20)
            ));
        }
    }
    Ok(problems)
}

/// The entries of a Debian changelog that are newer than `installed`: everything above the
/// entry for that version (all of it when the version is not found), cut at [`MAX_CHANGELOG`].
pub fn changelog_since(changelog: &str, installed: &str) -> String {
    let mut out = String::new();
    for line in changelog.lines() {
        if is_entry_header(line).is_some_and(|v| v == installed) {
            break;
        }
        if out.len() + line.len() + 1 > MAX_CHANGELOG - "[…]\n".len() {
            out.push_str("[…]\n");
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The version in a changelog entry's first line: `package (version) suite; urgency=…`.
fn is_entry_header(line: &str) -> Option<&str> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = line.split_once(" (")?.1;
    let (version, after) = rest.split_once(')')?;
    after.contains(';').then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> UpdatePaths {
        let p = UpdatePaths {
            request_dir: dir.join("state/update-request"),
            update_dir: dir.join("updates"),
        };
        fs::create_dir_all(dir.join("state")).unwrap();
        fs::create_dir_all(&p.update_dir).unwrap();
        p
    }

    #[test]
    fn a_request_is_written_once_and_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        assert_eq!(p.take_request().unwrap(), None);
        p.write_request(Action::Upgrade).unwrap();
        let again = p.write_request(Action::Check).unwrap_err();
        assert!(again.to_string().contains("already waiting"), "{again}");
        assert_eq!(p.take_request().unwrap(), Some(Action::Upgrade));
        assert_eq!(p.take_request().unwrap(), None);
        assert!(!p.request().exists());
    }

    #[test]
    fn a_request_that_is_not_one_known_word_is_refused_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(&p.request_dir).unwrap();
        fs::write(p.request(), "upgrade; rm -rf /\n").unwrap();
        let err = p.take_request().unwrap_err().to_string();
        assert!(err.contains("is not 'check' or 'upgrade'"), "{err}");
        assert!(!p.request().exists());
        // a huge file is not read at all
        fs::write(p.request(), "upgrade\n".repeat(1000)).unwrap();
        assert!(p.take_request().is_err());
        assert!(!p.request().exists());
    }

    #[test]
    fn a_symlinked_request_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::create_dir_all(&p.request_dir).unwrap();
        let target = dir.path().join("secret");
        fs::write(&target, "check\n").unwrap();
        std::os::unix::fs::symlink(&target, p.request()).unwrap();
        let err = p.take_request().unwrap_err().to_string();
        assert!(err.contains("cannot read the update request"), "{err}");
        assert!(!p.request().exists(), "the link is removed");
        assert!(target.exists(), "its target is untouched");
    }

    #[test]
    fn status_round_trips_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        assert_eq!(p.read_status().unwrap(), Status::default());
        let s = Status {
            action: Some(Action::Check),
            state: Some(RunState::Succeeded),
            started: Some(10),
            finished: Some(20),
            message: "1 upgrade available".into(),
            packages: vec![PackageVersion {
                package: "schola-web".into(),
                installed: "0.1.0".into(),
                available: Some("0.2.0".into()),
            }],
            checked: Some(20),
            changelog: "schola (0.2.0) stable; urgency=medium".into(),
        };
        p.write_status(&s).unwrap();
        assert_eq!(p.read_status().unwrap(), s);
        assert_eq!(s.upgrades().count(), 1);
        fs::write(p.status(), "{not json").unwrap();
        let err = p.read_status().unwrap_err().to_string();
        assert!(err.contains("status.json is damaged"), "{err}");
    }

    #[test]
    fn the_lock_shows_whether_a_helper_runs() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        assert!(!p.helper_running());
        let held = p.lock_exclusive().unwrap().expect("free");
        assert!(p.helper_running());
        assert!(
            p.lock_exclusive().unwrap().is_none(),
            "a second run is refused"
        );
        drop(held);
        assert!(!p.helper_running());
    }

    #[test]
    fn the_log_is_read_in_whole_lines_and_a_new_run_resets_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        assert_eq!(p.read_log(0, 1024).unwrap().text, "");
        fs::write(p.log(), "one\ntwo\nthr").unwrap();
        let a = p.read_log(0, 1024).unwrap();
        assert_eq!((a.text.as_str(), a.next, a.reset), ("one\ntwo\n", 8, false));
        let b = p.read_log(a.next, 1024).unwrap();
        assert_eq!((b.text.as_str(), b.next), ("", 8));
        fs::write(p.log(), "new\n").unwrap();
        let c = p.read_log(8, 1024).unwrap();
        assert_eq!((c.text.as_str(), c.next, c.reset), ("new\n", 4, true));
        let d = p.read_log(0, 5).unwrap();
        assert_eq!(d.text, "new\n");
    }

    const CHANGELOG: &str = "\
schola (0.3.0) stable; urgency=medium

  * Updates page.
  * Fix (see #12).

 -- Schola <dev@schola.invalid>  Mon, 23 Nov 2026 10:00:00 +0100

schola (0.2.0) stable; urgency=medium

  * Packages.

 -- Schola <dev@schola.invalid>  Sun, 22 Nov 2026 10:00:00 +0100
";

    #[test]
    fn the_changelog_shows_what_is_newer_than_installed() {
        let since = changelog_since(CHANGELOG, "0.2.0");
        assert!(since.starts_with("schola (0.3.0) stable"));
        assert!(since.contains("Updates page."));
        assert!(!since.contains("Packages."));
        assert_eq!(changelog_since(CHANGELOG, "0.3.0"), "");
        // an unknown installed version shows everything
        assert!(changelog_since(CHANGELOG, "0.1.0").contains("Packages."));
        // an item that looks like a header is not one
        assert_eq!(is_entry_header("  * schola (0.2.0) stable; x"), None);
        let long = format!(
            "schola (9) stable; urgency=low\n{}",
            "  * x\n".repeat(20_000)
        );
        let cut = changelog_since(&long, "0.2.0");
        assert!(cut.len() <= MAX_CHANGELOG && cut.ends_with("[…]"));
    }
}
