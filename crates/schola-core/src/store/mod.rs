//! The embedded SQLite store: opening, connection setup, migrations and the write helper.
//!
//! Several daemons (processes) share one database file. Each connection uses WAL (readers never
//! block the writer), foreign keys, `synchronous = FULL` (an acknowledged write survives a power
//! cut) and a busy timeout; every write is one `BEGIN IMMEDIATE` transaction so writers queue on
//! the lock instead of failing half-way. The domain modules (`directory`, `session`, …) add their
//! methods to [`Store`] in their own files; no other crate touches SQL.

mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::clock::{SharedClock, SystemClock};
use crate::error::{Error, Result};

pub use schema::LATEST_VERSION;

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept for reuse; more are opened on demand and closed when returned.
const MAX_IDLE: usize = 16;

#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    clock: SharedClock,
}

/// A connection borrowed from the store; it goes back to the idle list when dropped.
pub struct Conn<'a> {
    conn: Option<Connection>,
    store: &'a Inner,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Present from creation until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take()
            && let Ok(mut idle) = self.store.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(c);
        }
    }
}

/// What opening did to the schema, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub from: i64,
    pub to: i64,
    pub backup: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if missing) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<(Store, Option<Migration>)> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    pub fn open_with_clock(path: &Path, clock: SharedClock) -> Result<(Store, Option<Migration>)> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        let store = Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
                clock,
            }),
        };
        let migration = {
            let mut conn = store.conn()?;
            schema::migrate(&mut conn, path, store.now())?
        };
        Ok((store, migration))
    }

    /// Opens an existing database without creating or migrating it; a database whose schema is
    /// not the one this build knows is refused.
    pub fn open_existing(path: &Path, clock: SharedClock) -> Result<Store> {
        if !path.exists() {
            return Err(Error::NotFound(format!("database {}", path.display())));
        }
        let store = Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
                clock,
            }),
        };
        let conn = store.conn()?;
        let v = schema::version(&conn, path)?;
        if v > LATEST_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_path_buf(),
                found: v,
                known: LATEST_VERSION,
            });
        }
        drop(conn);
        Ok(store)
    }

    /// Opens an existing database whose schema is exactly this build's; an older one is refused
    /// with the command that upgrades it, so only that command ever migrates (and backs up).
    pub fn open_current(path: &Path, clock: SharedClock) -> Result<Store> {
        let store = Self::open_existing(path, clock)?;
        let found = store.schema_version()?;
        if found < LATEST_VERSION {
            return Err(Error::OlderSchema {
                path: path.to_path_buf(),
                found,
                known: LATEST_VERSION,
            });
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn now(&self) -> crate::UnixTime {
        self.inner.clock.now()
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub(crate) fn sqlite_err(&self, e: rusqlite::Error) -> Error {
        Error::from_sqlite(&self.inner.path, e)
    }

    /// A connection for reads (and for callers composing their own transactions).
    pub fn conn(&self) -> Result<Conn<'_>> {
        let reused = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match reused {
            Some(c) => c,
            None => open_connection(&self.inner.path)?,
        };
        Ok(Conn {
            conn: Some(conn),
            store: &self.inner,
        })
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: all of it is written, or none of it.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sqlite_err(e))?;
        let out = f(&tx)?;
        tx.commit().map_err(|e| self.sqlite_err(e))?;
        Ok(out)
    }

    /// The schema version of the database file (SQLite's `user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        let conn = self.conn()?;
        schema::version(&conn, &self.inner.path)
    }

    /// Checks that the database answers (for `/readyz`).
    pub fn ping(&self) -> Result<()> {
        let conn = self.conn()?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| self.sqlite_err(e))?;
        Ok(())
    }

    /// Writes a consistent copy of the live database to `dest` (SQLite's online backup).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let conn = self.conn()?;
        schema::online_backup(&conn, &self.inner.path, dest)
    }
}

fn open_connection(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::from_sqlite(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| Error::from_sqlite(path, e))?;
    // journal_mode=WAL is persistent in the file; setting it on a read-only file fails, which is
    // reported on the first write instead, so errors here are not fatal.
    let _ = conn.pragma_update(None, "journal_mode", "WAL");
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(|e| Error::from_sqlite(path, e))?;
    // Names sort the way people read them: Özdemir with the O's, not after Z.
    conn.create_collation("schola_name", |a, b| {
        crate::login::ascii_fold(a)
            .cmp(&crate::login::ascii_fold(b))
            .then_with(|| a.cmp(b))
    })
    .map_err(|e| Error::from_sqlite(path, e))?;
    Ok(conn)
}

/// Helpers shared by the domain modules.
pub(crate) trait OptionalExt<T> {
    fn optional(self) -> rusqlite::Result<Option<T>>;
}

impl<T> OptionalExt<T> for rusqlite::Result<T> {
    fn optional(self) -> rusqlite::Result<Option<T>> {
        rusqlite::OptionalExtension::optional(self)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::clock::ManualClock;

    /// A fresh store in a temporary directory with a manual clock at 2026-09-01 07:00 UTC.
    pub fn store() -> (Store, ManualClock, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_788_246_000);
        let (store, _) =
            Store::open_with_clock(&dir.path().join("schola.db"), Arc::new(clock.clone())).unwrap();
        (store, clock, dir)
    }
}
