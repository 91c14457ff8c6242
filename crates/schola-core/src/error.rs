//! Typed errors of the core library. Their messages are written for a school's admin: they name
//! the thing and the place, in lower case, without a trailing period.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error("{0}")]
    Invalid(String),

    #[error("{0} already exists")]
    Duplicate(String),

    #[error("{0} not found")]
    NotFound(String),

    #[error(
        "the database {path} was written by a newer Schola (schema version {found}, this build knows up to {known}); \
         install the newer Schola again or restore the backup taken before the upgrade"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "the database {path} has schema version {found} and this Schola needs {known}; \
         run 'scholactl db migrate' to upgrade it (it writes a backup first)"
    )]
    OlderSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "upgrading the database {path} from schema version {from} to {to} failed at step {step}: {cause}; \
         the database was restored from the backup {backup} and holds the data of before the upgrade"
    )]
    MigrationFailed {
        path: PathBuf,
        from: i64,
        to: i64,
        step: i64,
        cause: Box<Error>,
        backup: PathBuf,
    },

    #[error(
        "upgrading the database {path} failed at step {step}: {cause}; restoring the backup failed too: {restore}; \
         the backup {backup} holds the data of before the upgrade: stop the Schola services and copy it over the database"
    )]
    MigrationRestoreFailed {
        path: PathBuf,
        step: i64,
        cause: Box<Error>,
        restore: Box<Error>,
        backup: PathBuf,
    },

    #[error("the disk holding {path} is full; nothing was changed; free some space and try again")]
    DiskFull { path: PathBuf },

    #[error(
        "the database {path} is read-only; nothing was changed; check the file's owner and permissions \
         (it must be writable by the schola user)"
    )]
    ReadOnly { path: PathBuf },

    #[error(
        "the database {path} is busy (another process holds a write lock for too long); try again"
    )]
    Busy { path: PathBuf },

    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },

    #[error("password hashing failed: {0}")]
    Hash(String),

    #[error("too many sign-ins are waiting; try again in a few seconds")]
    Overloaded,
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// Turns a SQLite error into the error an admin can act on (full disk, read-only file, …).
    pub(crate) fn from_sqlite(path: &std::path::Path, e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Error::DiskFull { path },
            Some(ErrorCode::ReadOnly) => Error::ReadOnly { path },
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::Busy { path },
            Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
                Error::Open { path, source: e }
            }
            _ => Error::Sqlite { path, source: e },
        }
    }
}
