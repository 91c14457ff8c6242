//! The backup's state as the admin UI and the capacity checks see it, and the requests the admin
//! UI leaves for the privileged backup helper — without the web server ever running as root or
//! reading the backup's passphrase.
//!
//! The backup itself (restic) runs as root in `scholactl backup nightly` (the nightly timer) and
//! `scholactl backup run-request` (started by a path unit when `schola-web` leaves a request in
//! `<state_dir>/backup-request/`). Both write [`Status`] to `status.json` in the backup status
//! directory (`/var/lib/schola-backup`, root's, readable by all; `<root>/backup-status` with the
//! dev profile), where schola-web and the capacity checks read it. A request names a snapshot,
//! a person's login and a path inside their files; the helper checks each against what it knows
//! before it acts, so a compromised web server can at most ask for a backup or a restore into a
//! person's own "Restored" folder.
//!
//! This module holds what both sides share: file names, formats and the request's checks. It
//! runs no process.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Component, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Profile;
use crate::directory::{Language, Person, School};
use crate::error::{Error, Result};
use crate::updates::{
    lock_held, read_status_file, take_request_file, write_request_file, write_status_file,
};
use crate::{Config, UnixTime};

pub const REQUEST_FILE: &str = "request";
pub const STATUS_FILE: &str = "status.json";
/// The helper holds this lock (in the status directory) while it runs.
pub const LOCK_FILE: &str = "lock";
/// A request is a short JSON object; anything longer is not a request.
const MAX_REQUEST: u64 = 4096;

/// A backup older than this is stale (a WARN): the nightly run missed a night.
pub const STALE_AFTER_SECS: i64 = 26 * 3600;
/// No backup for this long is a FAIL.
pub const MISSING_AFTER_SECS: i64 = 3 * 24 * 3600;
/// The integrity check (`restic check`) runs when the last one is older than this.
pub const CHECK_EVERY_SECS: i64 = 7 * 24 * 3600;
/// The nightly run does nothing when a backup succeeded less than this long ago (so the hourly
/// retries after a missing target stop once one got through).
pub const DONE_TODAY_SECS: i64 = 20 * 3600;

/// The passphrase file the admin UI writes when the backup is set up there
/// (`<state_dir>/backup.pass`, 0600).
pub const PASSPHRASE_FILE: &str = "backup.pass";

/// Where the backup goes and the file holding its passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub repository: String,
    pub password_file: PathBuf,
    /// Set in the configuration file (`[backup]`), which the admin UI cannot change.
    pub from_config: bool,
}

/// The backup target: `[backup] repository` of the configuration when set (with its
/// `password_file`, else the admin UI's), else the one set in the admin UI or the wizard with
/// the passphrase file they wrote; `None` when no backup is set up.
pub fn target(cfg: &Config, store: &crate::Store) -> Result<Option<Target>> {
    let ui_pass = passphrase_path(cfg);
    if let Some(repo) = &cfg.backup.repository {
        return Ok(Some(Target {
            repository: repo.clone(),
            password_file: cfg.backup.password_file.clone().unwrap_or(ui_pass),
            from_config: true,
        }));
    }
    Ok(store.backup_target()?.map(|repository| Target {
        repository,
        password_file: ui_pass,
        from_config: false,
    }))
}

/// The passphrase file the admin UI writes.
pub fn passphrase_path(cfg: &Config) -> PathBuf {
    cfg.paths.state_dir.join(PASSPHRASE_FILE)
}

/// Writes a new passphrase file (0600, atomically). A file there already is kept beside it as
/// `backup.pass.<time>`, so a repository made with it can still be opened.
pub fn write_passphrase(cfg: &Config, passphrase: &str, now: UnixTime) -> Result<()> {
    let path = passphrase_path(cfg);
    let what = |e| Error::io(format!("cannot write {}", path.display()), e);
    if path.exists() {
        let old = path.with_file_name(format!("{PASSPHRASE_FILE}.{now}"));
        fs::rename(&path, &old).map_err(what)?;
    }
    let tmp = path.with_file_name(format!(".{PASSPHRASE_FILE}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&tmp)
        .map_err(what)?;
    f.write_all(format!("{passphrase}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(what)?;
    fs::rename(&tmp, &path).map_err(what)
}

/// What the admin (or the person, for their own files) asked the helper for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Make the repository at the target set in the admin UI with the passphrase it wrote; when
    /// one is there already (a new server pointed at the old school's backup), check that the
    /// passphrase opens it.
    Init,
    /// Back up now.
    Run,
    /// Restore a file or folder of a person's files, as it was in `snapshot`, into
    /// `Restored <date>/` in their home folder (nothing of theirs is overwritten).
    RestoreFiles {
        snapshot: String,
        login: String,
        /// Relative to the person's home folder; empty for all of it.
        path: String,
        /// The language of the page that asked, which names the `Restored <date>` folder as
        /// that page announced it; without it, the person's or the school's language.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<Language>,
    },
    /// Restore a person's mailbox as it was in `snapshot`, into place: deleted mails come back,
    /// newer ones stay.
    RestoreMailbox { snapshot: String, login: String },
    /// Disaster recovery, from the first-run setup of a freshly installed server: the whole
    /// school from `snapshot`, then the services restarted. Refused by the helper when the
    /// server already holds a school with people.
    RestoreServer { snapshot: String },
}

impl Request {
    /// The checks a request must pass before the helper acts on it (the helper also looks the
    /// login and snapshot up).
    pub fn validate(&self) -> Result<()> {
        match self {
            Request::Init | Request::Run => Ok(()),
            Request::RestoreFiles {
                snapshot,
                login,
                path,
                ..
            } => {
                check_snapshot(snapshot)?;
                check_login(login)?;
                relative_path(path).map(|_| ())
            }
            Request::RestoreMailbox { snapshot, login } => {
                check_snapshot(snapshot)?;
                check_login(login)
            }
            Request::RestoreServer { snapshot } => check_snapshot(snapshot),
        }
    }
}

/// `latest`, or a snapshot id (8 to 64 hex digits).
pub fn check_snapshot(s: &str) -> Result<()> {
    let hex = (8..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    if s == "latest" || hex {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{:?} is not a backup's id: use one from the list of backups, or latest",
            s.chars().take(70).collect::<String>()
        )))
    }
}

fn check_login(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !s.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{:?} is not a login name",
            s.chars().take(70).collect::<String>()
        )))
    }
}

/// A path inside a person's files as typed in the restore form: `/` or `\` separated, leading
/// and trailing separators ignored, no `..`, `.`-only or empty parts. Empty means the whole
/// folder.
pub fn relative_path(s: &str) -> Result<PathBuf> {
    let bad = |why: &str| {
        Err(Error::Invalid(format!(
            "the path {:?} {why}",
            s.chars().take(200).collect::<String>()
        )))
    };
    if s.len() > 4096 {
        return bad("is too long");
    }
    if s.chars().any(char::is_control) {
        return bad("holds a control character");
    }
    let mut out = PathBuf::new();
    for part in s.split(['/', '\\']).filter(|p| !p.is_empty()) {
        if part == "." || part == ".." {
            return bad("may not hold '.' or '..'");
        }
        out.push(part);
    }
    debug_assert!(out.components().all(|c| matches!(c, Component::Normal(_))));
    Ok(out)
}

/// How the last (or current) helper run is doing: the update helper's states.
pub use crate::updates::RunState;

/// The last successful backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastBackup {
    pub time: UnixTime,
    pub snapshot: String,
    /// Bytes the run added to the repository (after deduplication).
    pub data_added: u64,
    /// Bytes the run read.
    pub total_bytes: u64,
    pub files_new: u64,
    pub files_changed: u64,
    pub duration_secs: f64,
}

/// A run that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub time: UnixTime,
    pub message: String,
    /// The target was not there (disk unplugged, share not mounted): the run was skipped and is
    /// retried.
    #[serde(default)]
    pub target_missing: bool,
}

/// The last integrity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub time: UnixTime,
    pub ok: bool,
    pub message: String,
}

/// A backup in the repository, as of the last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub id: String,
    pub short_id: String,
    pub time: UnixTime,
}

/// What the helper writes to `status.json`; the admin UI and the capacity checks read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// The repository the last run used.
    pub repository: Option<String>,
    /// The last (or current) run: `backup`, `check`, `restore-files`, `restore-mailbox`.
    pub action: Option<String>,
    pub state: Option<RunState>,
    pub started: Option<UnixTime>,
    pub finished: Option<UnixTime>,
    /// One sentence: what the last run did, or why it failed.
    pub message: String,
    /// When a backup was first attempted here (how long "never succeeded" has lasted).
    pub first_attempt: Option<UnixTime>,
    pub last_success: Option<LastBackup>,
    pub last_failure: Option<Failure>,
    pub last_check: Option<CheckResult>,
    /// The repository's backups, newest first, as of the last run.
    pub snapshots: Vec<SnapshotInfo>,
}

impl Status {
    /// The last backup attempt failed (after the last success).
    pub fn failing(&self) -> Option<&Failure> {
        let f = self.last_failure.as_ref()?;
        match &self.last_success {
            Some(s) if s.time >= f.time => None,
            _ => Some(f),
        }
    }
}

/// The request and status directories, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPaths {
    /// Written by `schola-web` (user schola), read by the helper.
    pub request_dir: PathBuf,
    /// Written by the helper (root), read by everyone.
    pub status_dir: PathBuf,
}

impl BackupPaths {
    pub fn from_config(cfg: &Config) -> BackupPaths {
        let status_dir = match &cfg.paths.root {
            Some(root) if cfg.profile == Profile::Dev => root.join("backup-status"),
            _ => PathBuf::from("/var/lib/schola-backup"),
        };
        BackupPaths {
            request_dir: cfg.paths.state_dir.join("backup-request"),
            status_dir,
        }
    }

    pub fn request(&self) -> PathBuf {
        self.request_dir.join(REQUEST_FILE)
    }
    pub fn status(&self) -> PathBuf {
        self.status_dir.join(STATUS_FILE)
    }

    /// The web side: asks the helper for `req`. Refused while a request is waiting.
    pub fn write_request(&self, req: &Request) -> Result<()> {
        req.validate()?;
        let line =
            serde_json::to_string(req).map_err(|e| Error::Invalid(format!("request: {e}")))?;
        write_request_file(
            &self.request_dir,
            REQUEST_FILE,
            &line,
            "a request is already waiting for the backup helper",
        )
    }

    /// The helper's side: takes (reads and removes) the waiting request, checked.
    pub fn take_request(&self) -> Result<Option<Request>> {
        let path = self.request();
        let Some(text) = take_request_file(&path, MAX_REQUEST, "the backup request")? else {
            return Ok(None);
        };
        let req: Request = serde_json::from_str(text.trim()).map_err(|e| {
            Error::Invalid(format!(
                "the backup request {} is not one (it was removed): {e}",
                path.display()
            ))
        })?;
        req.validate()?;
        Ok(Some(req))
    }

    /// The last status the helper wrote; the default when it has written none.
    pub fn read_status(&self) -> Result<Status> {
        read_status_file(&self.status())
    }

    /// The public key Schola signs in to an SFTP target with (`id_ed25519.pub`, which the helper
    /// makes on first use), for the admin to add on the SFTP server.
    pub fn sftp_public_key(&self) -> Option<String> {
        let key = fs::read_to_string(self.status_dir.join("id_ed25519.pub")).ok()?;
        Some(key.trim().to_string()).filter(|k| !k.is_empty())
    }

    /// True while a helper (nightly or asked) holds its lock. The web server can only read the
    /// lock file, which is enough to test it; a status that says "running" while nobody holds
    /// the lock belongs to a helper that was killed.
    pub fn helper_running(&self) -> bool {
        lock_held(&self.status_dir.join(LOCK_FILE))
    }

    /// Replaces the status file atomically, readable by all (it holds no secret).
    pub fn write_status(&self, status: &Status) -> Result<()> {
        fs::create_dir_all(&self.status_dir)
            .map_err(|e| Error::io(format!("cannot create {}", self.status_dir.display()), e))?;
        write_status_file(&self.status_dir, STATUS_FILE, status)
    }
}

/// True for an SFTP repository (`sftp:user@host:/path` or `sftp://user@host:port/path`).
pub fn is_sftp(repository: &str) -> bool {
    repository.starts_with("sftp:")
}

/// The folder a person's restored files land in, inside their home, named in their language:
/// `Restored 2026-11-24 0200`, `Wiederhergestellt 2026-11-24 0200`, ...
pub fn restored_folder_name(snapshot_time: UnixTime, language: Language) -> String {
    let days = snapshot_time.div_euclid(86_400);
    let secs = snapshot_time.rem_euclid(86_400);
    let (y, m, d) = crate::clock::civil_from_days(days);
    let word = match language {
        Language::De => "Wiederhergestellt",
        Language::En => "Restored",
        Language::Fr => "Restauré",
        Language::Nl => "Hersteld",
    };
    format!(
        "{word} {y:04}-{m:02}-{d:02} {:02}{:02}",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// The language a person's restored folder is named in: their own choice, else the school's,
/// else English (the helper has no browser to ask).
pub fn restore_language(person: &Person, school: &School) -> Language {
    person
        .language
        .or(school.default_language)
        .unwrap_or(Language::En)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_on_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let p = BackupPaths {
            request_dir: dir.path().join("req"),
            status_dir: dir.path().join("status"),
        };
        let req = Request::RestoreFiles {
            snapshot: "1a2b3c4d".into(),
            login: "anna.mueller".into(),
            path: "/Documents/Essays/".into(),
            language: Some(Language::De),
        };
        p.write_request(&req).unwrap();
        let e = p.write_request(&Request::Run).unwrap_err();
        assert!(e.to_string().contains("already waiting"), "{e}");
        assert_eq!(p.take_request().unwrap(), Some(req));
        assert_eq!(p.take_request().unwrap(), None);

        for bad in [
            Request::RestoreFiles {
                snapshot: "latest".into(),
                login: "anna".into(),
                path: "../ben".into(),
                language: None,
            },
            Request::RestoreFiles {
                snapshot: "--target=/".into(),
                login: "anna".into(),
                path: String::new(),
                language: None,
            },
            Request::RestoreMailbox {
                snapshot: "latest".into(),
                login: "../../etc".into(),
            },
        ] {
            assert!(p.write_request(&bad).is_err(), "{bad:?}");
        }
        // a request written by hand (a compromised web server) is checked again and removed
        fs::write(
            p.request(),
            r#"{"action":"restore-mailbox","snapshot":"latest","login":"a/b"}"#,
        )
        .unwrap();
        assert!(p.take_request().is_err());
        assert!(!p.request().exists());
        fs::write(p.request(), r#"{"action":"rm-rf"}"#).unwrap();
        let e = p.take_request().unwrap_err();
        assert!(e.to_string().contains("is not one"), "{e}");
        // a language Schola does not speak is refused; a request without one is still taken
        fs::write(
            p.request(),
            r#"{"action":"restore-files","snapshot":"latest","login":"anna","path":"","language":"xx"}"#,
        )
        .unwrap();
        assert!(p.take_request().is_err());
        fs::write(
            p.request(),
            r#"{"action":"restore-files","snapshot":"latest","login":"anna","path":""}"#,
        )
        .unwrap();
        assert!(matches!(
            p.take_request().unwrap(),
            Some(Request::RestoreFiles { language: None, .. })
        ));
    }

    #[test]
    fn paths_from_the_form() {
        assert_eq!(relative_path("").unwrap(), PathBuf::new());
        assert_eq!(relative_path("/").unwrap(), PathBuf::new());
        assert_eq!(
            relative_path("\\Dokumente\\Aufsatz.odt").unwrap(),
            PathBuf::from("Dokumente/Aufsatz.odt")
        );
        assert!(relative_path("a/../../b").is_err());
        assert!(relative_path("a/./b").is_err());
        assert!(relative_path("a\nb").is_err());
    }

    #[test]
    fn status_round_trips_and_failing_means_after_the_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let p = BackupPaths {
            request_dir: dir.path().join("req"),
            status_dir: dir.path().join("status"),
        };
        assert_eq!(p.read_status().unwrap(), Status::default());
        let mut s = Status {
            last_success: Some(LastBackup {
                time: 100,
                snapshot: "abc".into(),
                data_added: 1,
                total_bytes: 2,
                files_new: 3,
                files_changed: 4,
                duration_secs: 0.5,
            }),
            last_failure: Some(Failure {
                time: 50,
                message: "disk missing".into(),
                target_missing: true,
            }),
            ..Status::default()
        };
        assert!(s.failing().is_none());
        s.last_failure = Some(Failure {
            time: 150,
            message: "full".into(),
            target_missing: false,
        });
        assert_eq!(s.failing().map(|f| f.message.as_str()), Some("full"));
        p.write_status(&s).unwrap();
        assert_eq!(p.read_status().unwrap(), s);
        fs::write(p.status(), b"{not json").unwrap();
        assert!(p.read_status().unwrap_err().to_string().contains("damaged"));
    }

    #[test]
    fn restored_folder_is_named_by_the_backups_time_in_the_persons_language() {
        assert_eq!(
            restored_folder_name(0, Language::En),
            "Restored 1970-01-01 0000"
        );
        // 2026-11-24 02:00:00 UTC
        assert_eq!(
            restored_folder_name(1_795_485_600, Language::De),
            "Wiederhergestellt 2026-11-24 0200"
        );
        assert_eq!(
            restored_folder_name(1_795_485_600, Language::Fr),
            "Restauré 2026-11-24 0200"
        );
        let mut school = School::default();
        let mut anna = Person {
            id: 1,
            external_id: None,
            login: "anna".into(),
            given_name: "Anna".into(),
            family_name: "M".into(),
            display_name: "Anna M".into(),
            role: crate::directory::Role::Student,
            status: crate::directory::Status::Active,
            purge_at: None,
            mail: None,
            quota_mb: None,
            created_at: 0,
            updated_at: 0,
            language: None,
        };
        assert_eq!(restore_language(&anna, &school), Language::En);
        school.default_language = Some(Language::Nl);
        assert_eq!(restore_language(&anna, &school), Language::Nl);
        anna.language = Some(Language::De);
        assert_eq!(restore_language(&anna, &school), Language::De);
    }
}
