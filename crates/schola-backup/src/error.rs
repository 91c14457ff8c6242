//! The errors of a backup or restore, worded for the school's admin: each names the thing
//! (the repository, the disk, the file) and what to do.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "restic, the backup program, is not installed ({bin} not found); install it with 'apt-get install restic'"
    )]
    NotInstalled { bin: PathBuf },
    #[error(
        "the SFTP server of {repo} shows another host key than when Schola first signed in to it: if the server was reinstalled, remove its line from {known_hosts}; if not, someone may be in between, and nothing was sent"
    )]
    HostKeyChanged { repo: String, known_hosts: PathBuf },
    #[error(
        "the SFTP server of {repo} refused Schola's key: add the public key in {public_key} (shown on the Backup page) to the backup user's authorized_keys on the server"
    )]
    KeyRefused { repo: String, public_key: PathBuf },
    #[error("the backup password is wrong for {repo}")]
    WrongPassword { repo: String },
    #[error("cannot read the backup password file {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the backup target {path} is not there: is the USB disk plugged in, or the NAS share mounted?"
    )]
    TargetMissing { path: PathBuf },
    #[error(
        "the backup target {repo} is full (no space left on the disk): free space there or use a larger disk; the earlier backups are unharmed"
    )]
    TargetFull { repo: String },
    #[error(
        "{repo} already holds a backup repository; it is left as it is (use it with 'scholactl backup run', or choose another place)"
    )]
    RepoExists { repo: String },
    #[error("{repo} is not a backup repository (make one with 'scholactl backup init')")]
    NoRepository { repo: String },
    #[error(
        "the backup repository {repo} is in use by another backup or check ({detail}); try again when it has finished"
    )]
    Locked { repo: String, detail: String },
    #[error(
        "the backup was stopped before it finished (killed by a signal); the earlier backups are unharmed and the next run completes it"
    )]
    Killed,
    #[error("backup {snapshot} was made, but some files could not be read: {detail}")]
    Incomplete { snapshot: String, detail: String },
    #[error("there is no backup to restore from in {repo}")]
    NoSnapshot { repo: String },
    #[error("{path} is not in backup {snapshot}")]
    NotInSnapshot { path: PathBuf, snapshot: String },
    #[error("cannot {what}: restic says: {detail}")]
    Failed {
        what: String,
        code: Option<i32>,
        detail: String,
    },
    #[error("cannot read what {what} printed: {message}")]
    Output { what: String, message: String },
    #[error("cannot run {what}: {source}")]
    Run {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("there is no backup '{name}' in {repo}; 'scholactl backup list' shows the backups")]
    UnknownSnapshot { name: String, repo: String },
    #[error(
        "backup {snapshot} does not say where the school's pieces were (it was made by an older Schola); restore single files and mailboxes from it with 'scholactl restore file|mailbox'"
    )]
    NoManifest { snapshot: String },
    #[error(
        "this machine already holds a school ({db}: {detail}); nothing was changed. To replace it with the backup, give --replace"
    )]
    TargetInUse { db: PathBuf, detail: String },
    #[error(
        "the restore stopped halfway: {cause}. Restored: {}. NOT restored: {}. Do not start Schola; fix the cause and run the restore again with --replace",
        list(.done), list(.not_done)
    )]
    PartlyRestored {
        done: Vec<String>,
        not_done: Vec<String>,
        cause: Box<Error>,
    },
    #[error("no person has the login '{0}'")]
    NoSuchPerson(String),
    #[error(transparent)]
    Core(#[from] schola_core::Error),
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

impl Error {
    /// A run that ended by a signal (no exit code) is reported as stopped, whatever restic
    /// managed to print before.
    pub(crate) fn or_killed(self, code: Option<i32>) -> Error {
        match (code, self) {
            (None, _) => Error::Killed,
            (_, e) => e,
        }
    }
}
