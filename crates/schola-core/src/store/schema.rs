//! Forward-only schema migrations. The schema version is SQLite's `user_version`; migration N
//! turns version N-1 into N inside one transaction. Before an existing database is migrated, an
//! online backup copy is written next to it, so an upgrade that goes wrong can be undone.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

use super::Migration;
use crate::error::{Error, Result};

const V1: &str =
    // 1: the directory, the change journal, sessions, sign-in back-off and the audit log.
    r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE people (
    id                  INTEGER PRIMARY KEY,
    external_id         TEXT UNIQUE,
    login               TEXT NOT NULL UNIQUE,
    given_name          TEXT NOT NULL,
    family_name         TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('student', 'teacher', 'staff', 'admin')),
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    purge_at            INTEGER,
    mail                TEXT UNIQUE,
    quota_mb            INTEGER CHECK (quota_mb IS NULL OR quota_mb >= 0),
    password_hash       TEXT,
    password_changed_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK (status = 'disabled' OR purge_at IS NULL)
) STRICT;
CREATE INDEX people_role ON people(role, status);
CREATE INDEX people_family ON people(family_name, given_name);

CREATE TABLE groups (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('class', 'course', 'staff', 'custom')),
    external_id  TEXT UNIQUE,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('member', 'owner')),
    PRIMARY KEY (group_id, person_id, role)
) STRICT, WITHOUT ROWID;
CREATE INDEX group_members_person ON group_members(person_id);

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    person_id INTEGER,
    group_id  INTEGER,
    data      TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the change journal is append-only'); END;
CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the change journal is append-only'); END;

CREATE TABLE journal_cursors (
    consumer   TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE retired_logins (
    login       TEXT PRIMARY KEY,
    person_id   INTEGER NOT NULL,
    retired_at  INTEGER NOT NULL,
    reusable_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    client_addr TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    detail      TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_at ON audit(at);

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_addr  TEXT,
    user_agent   TEXT
) STRICT;
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    blocked_until   INTEGER NOT NULL
) STRICT;
"#;

const V2: &str =
    // 2: each person's language for the web pages, and the admin's notices on the start page.
    r#"
ALTER TABLE people ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('de', 'en', 'nl', 'fr'));

CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    audience   TEXT NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'student', 'teacher', 'staff')),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;
"#;

const V3: &str =
    // 3: the capacity checks (each one stored whole, as JSON, for the history and the report)
    // and the web server's load per minute, from which the morning peak of each day is read.
    r#"
CREATE TABLE capacity_checks (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    level   TEXT NOT NULL CHECK (level IN ('ok', 'warn', 'fail')),
    trigger TEXT NOT NULL,
    result  TEXT NOT NULL
) STRICT;
CREATE INDEX capacity_checks_at ON capacity_checks(at);

CREATE TABLE load_minutes (
    minute          INTEGER PRIMARY KEY,
    signins         INTEGER NOT NULL,
    signin_failures INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    waiting_room    INTEGER NOT NULL,
    refused         INTEGER NOT NULL,
    p99_ms          REAL,
    connections     INTEGER NOT NULL
) STRICT;
"#;

const V4: &str =
    // 4: imports. Which import owns a person (`source`: 'csv' or 'ldap'; NULL = made by hand,
    // never touched by an import), the upstream entry an LDAP person binds as, and each import's
    // computed change, kept until an admin applies or discards it.
    r#"
ALTER TABLE people ADD COLUMN source TEXT CHECK (source IS NULL OR source IN ('csv', 'ldap'));
ALTER TABLE people ADD COLUMN upstream_dn TEXT;
CREATE INDEX people_source ON people(source, role, status);

CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('csv', 'ldap', 'promote')),
    origin      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'discarded', 'failed')),
    roster      TEXT NOT NULL,
    plan        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    decided_at  INTEGER,
    decided_by  TEXT,
    result      TEXT
) STRICT;
CREATE INDEX imports_status ON imports(status, created_at);
"#;

const V5: &str =
    // 5: SMB. Samba's passdb needs each person's NT hash (MD4 of the UTF-16LE password); it is
    // made from the same plaintext as the argon2id hash and stored in the same transaction.
    // People whose password was set before this version get theirs at their next portal sign-in.
    r#"
CREATE TABLE smb_secrets (
    person_id  INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    nt_hash    TEXT NOT NULL,
    changed_at INTEGER NOT NULL
) STRICT;
"#;

const V6: &str =
    // 6: school e-mail. An address a person had before keeps reaching them: changing
    // `people.mail` keeps the old one in `mail_old_addresses`, which schola-mail turns into an
    // alias (whatever changed it: the admin, an import or an upstream directory).
    r#"
CREATE TABLE mail_old_addresses (
    address    TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    retired_at INTEGER NOT NULL
) STRICT;
CREATE INDEX mail_old_addresses_person ON mail_old_addresses(person_id);
CREATE TRIGGER people_mail_changed AFTER UPDATE OF mail ON people
    WHEN old.mail IS NOT NULL AND old.mail IS NOT new.mail
    BEGIN
        INSERT OR REPLACE INTO mail_old_addresses (address, person_id, retired_at)
            VALUES (old.mail, old.id, new.updated_at);
        DELETE FROM mail_old_addresses WHERE address = new.mail;
    END;
"#;

/// The migrations of this build, oldest first.
#[cfg(not(any(feature = "testing-upgrade", feature = "testing-failing-upgrade")))]
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// Package tests only (never in a release): a build "N+1" whose migration really changes the
/// schema and transforms data, to prove that an upgrade keeps everything.
#[cfg(all(feature = "testing-upgrade", not(feature = "testing-failing-upgrade")))]
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, TESTING_UPGRADE];

/// Package tests only: a build whose last migration fails half-way, to prove that a failed
/// upgrade leaves the previous version's data intact.
#[cfg(feature = "testing-failing-upgrade")]
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, TESTING_UPGRADE, TESTING_FAILING];

#[cfg(any(feature = "testing-upgrade", feature = "testing-failing-upgrade"))]
const TESTING_UPGRADE: &str = "
ALTER TABLE people ADD COLUMN upgrade_note TEXT;
UPDATE people SET upgrade_note = 'migrated from the previous schema: ' || login;
CREATE INDEX people_upgrade_note ON people(upgrade_note);
";

#[cfg(feature = "testing-failing-upgrade")]
const TESTING_FAILING: &str = "
CREATE TABLE half_done (x INTEGER NOT NULL);
INSERT INTO half_done VALUES (1);
UPDATE people SET login = NULL;
";

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn version(conn: &Connection, path: &Path) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| Error::from_sqlite(path, e))
}

pub(super) fn migrate(conn: &mut Connection, path: &Path, now: i64) -> Result<Option<Migration>> {
    apply(conn, path, now, MIGRATIONS)
}

fn apply(
    conn: &mut Connection,
    path: &Path,
    now: i64,
    migrations: &[&str],
) -> Result<Option<Migration>> {
    let latest = migrations.len() as i64;
    let from = version(conn, path)?;
    if from > latest {
        return Err(Error::NewerSchema {
            path: path.to_path_buf(),
            found: from,
            known: latest,
        });
    }
    if from == latest {
        return Ok(None);
    }
    let backup = if from > 0 {
        let dest = backup_path(path, from, now);
        online_backup(conn, path, &dest)?;
        Some(dest)
    } else {
        None
    };
    for (i, sql) in migrations.iter().enumerate() {
        let step = i as i64 + 1;
        if let Err(cause) = apply_one(conn, path, step, sql) {
            return Err(match &backup {
                Some(b) => match restore(conn, path, b) {
                    Ok(()) => Error::MigrationFailed {
                        path: path.to_path_buf(),
                        from,
                        to: latest,
                        step,
                        cause: Box::new(cause),
                        backup: b.clone(),
                    },
                    Err(restore_err) => Error::MigrationRestoreFailed {
                        path: path.to_path_buf(),
                        step,
                        cause: Box::new(cause),
                        restore: Box::new(restore_err),
                        backup: b.clone(),
                    },
                },
                None => cause,
            });
        }
    }
    Ok(Some(Migration {
        from,
        to: latest,
        backup,
    }))
}

/// Runs migration `step` in its own transaction, unless another process already did.
fn apply_one(conn: &mut Connection, path: &Path, step: i64, sql: &str) -> Result<()> {
    let err = |e| Error::from_sqlite(path, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    // Another daemon may have migrated while we waited for the lock.
    let current: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    if current >= step {
        return Ok(());
    }
    tx.execute_batch(sql).map_err(err)?;
    tx.pragma_update(None, "user_version", step).map_err(err)?;
    tx.commit().map_err(err)
}

/// Copies the backup back over the live database (SQLite's backup API, so connections of other
/// processes see either the old or the restored content, never a mix).
fn restore(conn: &mut Connection, path: &Path, backup: &Path) -> Result<()> {
    let src = Connection::open(backup).map_err(|e| Error::from_sqlite(backup, e))?;
    let b = rusqlite::backup::Backup::new(&src, conn).map_err(|e| Error::from_sqlite(path, e))?;
    b.run_to_completion(256, std::time::Duration::from_millis(5), None)
        .map_err(|e| Error::from_sqlite(path, e))
}

fn backup_path(path: &Path, from: i64, now: i64) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schola.db".into());
    path.with_file_name(format!("{name}.v{from}-{now}.bak"))
}

pub(super) fn online_backup(conn: &Connection, path: &Path, dest: &Path) -> Result<()> {
    let mut out = Connection::open(dest).map_err(|e| Error::from_sqlite(dest, e))?;
    let backup =
        rusqlite::backup::Backup::new(conn, &mut out).map_err(|e| Error::from_sqlite(dest, e))?;
    backup
        .run_to_completion(256, std::time::Duration::from_millis(5), None)
        .map_err(|e| Error::from_sqlite(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn fresh_database_gets_latest_schema_without_backup() {
        let dir = tempfile::tempdir().unwrap();
        let (_, m) = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(
            m,
            Some(Migration {
                from: 0,
                to: LATEST_VERSION,
                backup: None
            })
        );
        let (_, again) = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(again, None);
    }

    #[test]
    fn newer_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE x(a); PRAGMA user_version = 99;")
                .unwrap();
        }
        let e = Store::open(&path).unwrap_err().to_string();
        assert!(e.contains("newer Schola") && e.contains("99"), "{e}");
        let c = Connection::open(&path).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
    }

    #[test]
    fn older_database_is_backed_up_before_migrating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        let v1 = [MIGRATIONS[0]];
        apply(&mut c, &path, 0, &v1).unwrap();
        c.execute("INSERT INTO settings VALUES ('school_name', 'Kept')", [])
            .unwrap();
        let v2 = [MIGRATIONS[0], "ALTER TABLE settings ADD COLUMN note TEXT"];
        let m = apply(&mut c, &path, 1234, &v2).unwrap().unwrap();
        assert_eq!((m.from, m.to), (1, 2));
        let bak = m.backup.unwrap();
        assert!(
            bak.to_string_lossy().ends_with("s.db.v1-1234.bak"),
            "{}",
            bak.display()
        );
        let b = Connection::open(&bak).unwrap();
        let (v, name): (i64, String) = b
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), value FROM settings",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((v, name.as_str()), (1, "Kept"));
        let note: Option<String> = c
            .query_row("SELECT note FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(note, None);
    }

    #[test]
    fn a_failed_upgrade_restores_the_backup_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        apply(&mut c, &path, 0, &[MIGRATIONS[0]]).unwrap();
        c.execute("INSERT INTO settings VALUES ('school_name', 'Kept')", [])
            .unwrap();
        let next = [
            MIGRATIONS[0],
            "CREATE TABLE step_two (a); INSERT INTO step_two VALUES (1);",
            "CREATE TABLE step_three (b); INSERT INTO no_such_table VALUES (1);",
        ];
        let e = apply(&mut c, &path, 77, &next).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::MigrationFailed { step: 3, .. }), "{msg}");
        assert!(
            msg.contains("from schema version 1 to 3 failed at step 3"),
            "{msg}"
        );
        assert!(
            msg.contains("no_such_table") && msg.contains("restored from the backup"),
            "{msg}"
        );
        // as before the upgrade: version 1, no trace of step two, the data there
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let t: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'step_%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(t, 0);
        let name: String = c
            .query_row("SELECT value FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "Kept");
    }

    #[test]
    fn open_current_refuses_an_older_schema_and_names_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE old (a);")
            .unwrap();
        let e = Store::open_current(&path, std::sync::Arc::new(crate::SystemClock))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("schema version 0") && e.contains("scholactl db migrate"),
            "{e}"
        );
        let (_, m) = Store::open(&path).unwrap();
        assert!(m.is_some());
        assert!(Store::open_current(&path, std::sync::Arc::new(crate::SystemClock)).is_ok());
    }

    #[test]
    fn v6_keeps_old_mail_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        apply(&mut c, &path, 0, &MIGRATIONS[..6]).unwrap();
        c.execute_batch(
            "INSERT INTO people (login, given_name, family_name, display_name, role, mail, password_hash, created_at, updated_at)
             VALUES ('anna', 'Anna', 'A', 'Anna A', 'student', 'anna.a@s.test', '$argon2id$x', 1, 1);
             UPDATE people SET mail = 'anna.b@s.test', updated_at = 2 WHERE login = 'anna';
             UPDATE people SET given_name = 'Anne', updated_at = 3 WHERE login = 'anna';",
        )
        .unwrap();
        let old: Vec<(String, i64)> = c
            .prepare("SELECT address, retired_at FROM mail_old_addresses")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(old, vec![("anna.a@s.test".to_string(), 2)]);
        // taking the old address back ends its life as an alias
        c.execute(
            "UPDATE people SET mail = 'anna.a@s.test', updated_at = 4",
            [],
        )
        .unwrap();
        let old: Vec<String> = c
            .prepare("SELECT address FROM mail_old_addresses")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(old, vec!["anna.b@s.test".to_string()]);
    }

    #[test]
    fn v5_adds_smb_secrets_and_keeps_people() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        apply(&mut c, &path, 0, &MIGRATIONS[..4]).unwrap();
        c.execute(
            "INSERT INTO people (login, given_name, family_name, display_name, role, password_hash, created_at, updated_at)
             VALUES ('anna', 'Anna', 'A', 'Anna A', 'student', '$argon2id$old', 1, 1)",
            [],
        )
        .unwrap();
        let m = apply(&mut c, &path, 5, &MIGRATIONS[..5]).unwrap().unwrap();
        assert_eq!((m.from, m.to), (4, 5));
        let (login, hash): (String, String) = c
            .query_row("SELECT login, password_hash FROM people", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((login.as_str(), hash.as_str()), ("anna", "$argon2id$old"));
        c.execute(
            "INSERT INTO smb_secrets (person_id, nt_hash, changed_at) SELECT id, 'AB', 5 FROM people",
            [],
        )
        .unwrap();
        assert!(
            c.execute("INSERT INTO smb_secrets VALUES (99, 'AB', 5)", [])
                .is_err(),
            "a secret needs a person"
        );
        c.execute("DELETE FROM people", []).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM smb_secrets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "the secret goes with the person");
    }

    #[test]
    fn failing_migration_leaves_database_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        // a table that clashes with migration 1 makes it fail part-way
        c.execute_batch("CREATE TABLE groups(x); INSERT INTO groups VALUES (1);")
            .unwrap();
        assert!(migrate(&mut c, &path, 0).is_err());
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 0);
        let tables: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'settings'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the half-applied migration was rolled back");
    }
}
