//! What imports need from the store: a snapshot of the people an import may touch, the stored
//! imports waiting for approval, and the changes an import makes, inside one [`Batch`].
//!
//! The diff itself is computed in `schola-dirsync`; this module only reads and writes. Every
//! change writes the change journal and the audit log with the same kinds as the admin UI's
//! single changes (`person.created`, `person.updated`, `person.disabled`, `person.enabled`,
//! `person.purged`, `group.member_added`, `group.member_removed`), so mail and files provision
//! imported people by themselves.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::audit::{self, Actor};
use crate::directory::{Batch, NewPerson, Role, Status, clean_name};
use crate::error::{Error, Result};
use crate::journal;
use crate::login::LoginScheme;
use crate::store::{OptionalExt as _, Store};

/// Which import owns a person. People made by hand have none and are never changed by an
/// import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Csv,
    Ldap,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Csv => "csv",
            Source::Ldap => "ldap",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Source::Csv),
            "ldap" => Ok(Source::Ldap),
            other => Err(Error::Invalid(format!(
                "unknown import source '{other}' (use csv or ldap)"
            ))),
        }
    }
}

/// A person as an import compares them with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedPerson {
    pub id: i64,
    pub external_id: Option<String>,
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub role: Role,
    pub status: Status,
    pub purge_at: Option<i64>,
    pub source: Option<Source>,
    pub upstream_dn: Option<String>,
    pub mail: Option<String>,
    /// The person's classes (groups of kind `class` where they are a member), sorted.
    pub classes: Vec<String>,
    /// The account has a password (an imported person gets one from their letter).
    pub has_password: bool,
}

/// The directory as an import sees it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Everyone except people made by hand without an external id.
    pub people: Vec<ImportedPerson>,
    /// Every login in use or still reserved after a purge.
    pub taken_logins: HashSet<String>,
    /// The names of all groups, and which of them are classes.
    pub groups: HashSet<String>,
    pub classes: HashSet<String>,
}

/// A stored import and its state.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub created_at: i64,
    pub created_by: String,
    pub source: String,
    pub origin: String,
    pub status: String,
    pub roster: String,
    pub plan: String,
    pub summary: String,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub result: Option<String>,
}

/// The fields of a person an import sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedFields {
    pub given_name: String,
    pub family_name: String,
    pub role: Role,
    pub external_id: String,
    pub source: Source,
    pub upstream_dn: Option<String>,
}

impl Store {
    /// Everyone an import might match, with their classes, in two reads.
    pub fn import_snapshot(&self) -> Result<Snapshot> {
        let conn = self.conn()?;
        let sql = |e| self.sqlite_err(e);
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.id, p.external_id, p.login, p.given_name, p.family_name, p.role, p.status,
                        p.purge_at, p.source, p.upstream_dn, p.mail, p.password_hash IS NOT NULL,
                        (SELECT group_concat(g.name, char(31)) FROM group_members m JOIN groups g ON g.id = m.group_id
                          WHERE m.person_id = p.id AND m.role = 'member' AND g.kind = 'class')
                 FROM people p WHERE p.external_id IS NOT NULL OR p.source IS NOT NULL",
            )
            .map_err(sql)?;
        let people = stmt
            .query_map([], |r| {
                let source: Option<String> = r.get(8)?;
                let classes: Option<String> = r.get(12)?;
                let mut classes: Vec<String> = classes
                    .map(|c| c.split('\u{1f}').map(str::to_string).collect())
                    .unwrap_or_default();
                classes.sort();
                Ok(ImportedPerson {
                    id: r.get(0)?,
                    external_id: r.get(1)?,
                    login: r.get(2)?,
                    given_name: r.get(3)?,
                    family_name: r.get(4)?,
                    role: r.get(5)?,
                    status: r.get(6)?,
                    purge_at: r.get(7)?,
                    source: source.and_then(|s| s.parse().ok()),
                    upstream_dn: r.get(9)?,
                    mail: r.get(10)?,
                    has_password: r.get(11)?,
                    classes,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(sql)?;
        let now = self.now();
        let mut taken_logins = HashSet::new();
        let mut stmt = conn
            .prepare_cached(
                "SELECT login FROM people UNION SELECT login FROM retired_logins WHERE reusable_at > ?1",
            )
            .map_err(sql)?;
        for l in stmt
            .query_map([now], |r| r.get::<_, String>(0))
            .map_err(sql)?
        {
            taken_logins.insert(l.map_err(sql)?);
        }
        let mut groups = HashSet::new();
        let mut classes = HashSet::new();
        let mut stmt = conn
            .prepare_cached("SELECT name, kind FROM groups")
            .map_err(sql)?;
        for g in stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(sql)?
        {
            let (name, kind) = g.map_err(sql)?;
            if kind == "class" {
                classes.insert(name.clone());
            }
            groups.insert(name);
        }
        Ok(Snapshot {
            people,
            taken_logins,
            groups,
            classes,
        })
    }

    /// The journal's head, so an import can tell whether the directory changed since its diff.
    pub fn directory_version(&self) -> Result<i64> {
        self.journal_head()
    }

    /// Stores a computed import for approval; returns its id.
    pub fn save_import(
        &self,
        actor: &Actor,
        source: &str,
        origin: &str,
        roster: &str,
        plan: &str,
        summary: &str,
    ) -> Result<i64> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            tx.execute(
                "INSERT INTO imports (created_at, created_by, source, origin, status, roster, plan, summary)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?7)",
                params![now, actor.name, source, origin, roster, plan, summary],
            )
            .map_err(sql)?;
            let id = tx.last_insert_rowid();
            audit::record(tx, now, actor, "import.prepared", Some(origin), json!({"import": id, "source": source}))
                .map_err(sql)?;
            Ok(id)
        })
    }

    /// Replaces a pending import's diff (after the directory changed under it).
    pub fn replace_import_plan(&self, id: i64, plan: &str, summary: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE imports SET plan = ?2, summary = ?3 WHERE id = ?1 AND status = 'pending'",
                    params![id, plan, summary],
                )
                .map_err(|e| self.sqlite_err(e))?;
            if n == 0 {
                return Err(Error::Invalid(format!("import #{id} is not waiting for approval")));
            }
            Ok(())
        })
    }

    pub fn import_record(&self, id: i64) -> Result<Option<ImportRecord>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!("{IMPORT_SELECT} WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], import_from_row).optional())
            .map_err(|e| self.sqlite_err(e))
    }

    /// Imports, newest first; `status` filters (`pending`, `applied`, ...).
    pub fn list_imports(&self, status: Option<&str>, limit: usize) -> Result<Vec<ImportRecord>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "{IMPORT_SELECT} WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
        ))
        .and_then(|mut s| {
            s.query_map(params![status, limit as i64], import_from_row)?
                .collect()
        })
        .map_err(|e| self.sqlite_err(e))
    }

    /// Marks a pending import discarded (or failed, with the reason).
    pub fn close_import(&self, actor: &Actor, id: i64, status: &str, result: &str) -> Result<()> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let n = tx
                .execute(
                    "UPDATE imports SET status = ?2, decided_at = ?3, decided_by = ?4, result = ?5
                     WHERE id = ?1 AND status = 'pending'",
                    params![id, status, now, actor.name, result],
                )
                .map_err(sql)?;
            if n == 0 {
                return Err(Error::Invalid(format!(
                    "import #{id} is not waiting for approval"
                )));
            }
            audit::record(
                tx,
                now,
                actor,
                &format!("import.{status}"),
                Some(&format!("#{id}")),
                json!({"result": result}),
            )
            .map_err(sql)?;
            Ok(())
        })
    }
}

const IMPORT_SELECT: &str = "SELECT id, created_at, created_by, source, origin, status, roster, plan, summary, decided_at, decided_by, result FROM imports";

fn import_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.get(0)?,
        created_at: r.get(1)?,
        created_by: r.get(2)?,
        source: r.get(3)?,
        origin: r.get(4)?,
        status: r.get(5)?,
        roster: r.get(6)?,
        plan: r.get(7)?,
        summary: r.get(8)?,
        decided_at: r.get(9)?,
        decided_by: r.get(10)?,
        result: r.get(11)?,
    })
}

impl Batch<'_, '_> {
    /// The store's clock at the start of this batch.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Creates an imported person with the login the diff chose (the diff already kept it
    /// clear of every taken login; a clash here fails the whole import).
    pub fn create_imported(
        &mut self,
        login: &str,
        fields: &ImportedFields,
        mail: Option<&str>,
        password_hash: Option<&crate::password::Hashed>,
        scheme: &LoginScheme,
    ) -> Result<i64> {
        let new = NewPerson {
            external_id: Some(fields.external_id.clone()),
            login: Some(login.to_string()),
            given_name: fields.given_name.clone(),
            family_name: fields.family_name.clone(),
            display_name: None,
            role: Some(fields.role),
            mail: mail.map(str::to_string),
            quota_mb: None,
            password_hash: password_hash.cloned(),
        };
        let id = self
            .store
            .insert_person(self.tx, self.actor, self.now, &new, scheme)?;
        self.tx
            .execute(
                "UPDATE people SET source = ?2, upstream_dn = ?3 WHERE id = ?1",
                params![id, fields.source.as_str(), fields.upstream_dn],
            )
            .map_err(|e| self.store.sqlite_err(e))?;
        Ok(id)
    }

    /// Sets what the source says of an existing person; writes `person.updated` with the fields
    /// that changed, or nothing when none did. Returns whether anything changed.
    pub fn update_imported(
        &mut self,
        id: i64,
        login: &str,
        fields: &ImportedFields,
    ) -> Result<bool> {
        let sql = |e| self.store.sqlite_err(e);
        let given = clean_name("the given name", &fields.given_name)?;
        let family = clean_name("the family name", &fields.family_name)?;
        let (cur_given, cur_family, cur_display, cur_role, cur_ext, cur_source, cur_dn): (
            String,
            String,
            String,
            Role,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = self
            .tx
            .query_row(
                "SELECT given_name, family_name, display_name, role, external_id, source, upstream_dn FROM people WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()
            .map_err(sql)?
            .ok_or_else(|| Error::NotFound(format!("person '{login}'")))?;
        // A display name the admin set by hand stays; one made from the old names follows them.
        let display = if cur_display == format!("{cur_given} {cur_family}") {
            format!("{given} {family}")
        } else {
            cur_display.clone()
        };
        let mut changed = Map::new();
        let mut note = |field: &str, differs: bool, value: Value| {
            if differs {
                changed.insert(field.to_string(), value);
            }
        };
        note("given_name", cur_given != given, json!(given));
        note("family_name", cur_family != family, json!(family));
        note("display_name", cur_display != display, json!(display));
        note("role", cur_role != fields.role, json!(fields.role));
        note(
            "external_id",
            cur_ext.as_deref() != Some(fields.external_id.as_str()),
            json!(fields.external_id),
        );
        note(
            "source",
            cur_source.as_deref() != Some(fields.source.as_str()),
            json!(fields.source),
        );
        note(
            "upstream_dn",
            cur_dn != fields.upstream_dn,
            json!(fields.upstream_dn),
        );
        if changed.is_empty() {
            return Ok(false);
        }
        self.tx
            .execute(
                "UPDATE people SET given_name = ?2, family_name = ?3, display_name = ?4, role = ?5, external_id = ?6,
                                   source = ?7, upstream_dn = ?8, updated_at = ?9 WHERE id = ?1",
                params![
                    id,
                    given,
                    family,
                    display,
                    fields.role.as_str(),
                    fields.external_id,
                    fields.source.as_str(),
                    fields.upstream_dn,
                    self.now
                ],
            )
            .map_err(sql)?;
        let changed = Value::Object(changed);
        journal::append(
            self.tx,
            self.now,
            "person.updated",
            Some(id),
            None,
            json!({"login": login, "changed": changed}),
        )
        .map_err(sql)?;
        audit::record(
            self.tx,
            self.now,
            self.actor,
            "person.update",
            Some(login),
            changed,
        )
        .map_err(sql)?;
        Ok(true)
    }

    /// Disables (with the purge date) or re-enables a person; ends a disabled person's sessions.
    pub fn set_status(
        &mut self,
        id: i64,
        login: &str,
        status: Status,
        purge_at: Option<i64>,
    ) -> Result<()> {
        let sql = |e| self.store.sqlite_err(e);
        let n = self
            .tx
            .execute(
                "UPDATE people SET status = ?2, purge_at = ?3, updated_at = ?4 WHERE id = ?1 AND status != ?2",
                params![id, status.as_str(), purge_at, self.now],
            )
            .map_err(sql)?;
        if n == 0 {
            return Ok(());
        }
        if status == Status::Disabled {
            self.tx
                .execute("DELETE FROM sessions WHERE person_id = ?1", [id])
                .map_err(sql)?;
        }
        let kind = if status == Status::Disabled {
            "person.disabled"
        } else {
            "person.enabled"
        };
        journal::append(
            self.tx,
            self.now,
            kind,
            Some(id),
            None,
            json!({"login": login, "purge_at": purge_at}),
        )
        .map_err(sql)?;
        audit::record(
            self.tx,
            self.now,
            self.actor,
            kind,
            Some(login),
            json!({"purge_at": purge_at}),
        )
        .map_err(sql)?;
        Ok(())
    }

    /// Deletes a disabled person for good; the login stays reserved for `reuse_days`. The
    /// `person.purged` entry tells the file and mail daemons to archive what the person left.
    pub fn purge(&mut self, id: i64, login: &str, reuse_days: i64) -> Result<()> {
        let sql = |e| self.store.sqlite_err(e);
        let status: Option<Status> = self
            .tx
            .query_row("SELECT status FROM people WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?;
        match status {
            None => return Err(Error::NotFound(format!("person '{login}'"))),
            Some(Status::Active) => {
                return Err(Error::Invalid(format!(
                    "'{login}' is active; disable the account before purging it"
                )));
            }
            Some(Status::Disabled) => {}
        }
        self.tx
            .execute("DELETE FROM people WHERE id = ?1", [id])
            .map_err(sql)?;
        self.tx
            .execute(
                "INSERT INTO retired_logins (login, person_id, retired_at, reusable_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (login) DO UPDATE SET person_id = excluded.person_id, retired_at = excluded.retired_at,
                                                   reusable_at = excluded.reusable_at",
                params![login, id, self.now, self.now + reuse_days.max(0) * 86_400],
            )
            .map_err(sql)?;
        journal::append(
            self.tx,
            self.now,
            "person.purged",
            Some(id),
            None,
            json!({"login": login, "archive": true}),
        )
        .map_err(sql)?;
        audit::record(
            self.tx,
            self.now,
            self.actor,
            "person.purge",
            Some(login),
            json!({}),
        )
        .map_err(sql)?;
        Ok(())
    }

    /// Records in the audit log what one import did, as one entry.
    pub fn record_import(&mut self, import: i64, summary: Value) -> Result<()> {
        audit::record(
            self.tx,
            self.now,
            self.actor,
            "import.applied",
            Some(&format!("#{import}")),
            summary,
        )
        .map_err(|e| self.store.sqlite_err(e))?;
        self.tx
            .execute(
                "UPDATE imports SET status = 'applied', decided_at = ?2, decided_by = ?3 WHERE id = ?1 AND status = 'pending'",
                params![import, self.now, self.actor.name],
            )
            .map_err(|e| self.store.sqlite_err(e))?;
        Ok(())
    }
}

/// People whose purge date has passed.
impl Store {
    pub fn due_purges(&self) -> Result<Vec<(i64, String)>> {
        let conn = self.conn()?;
        let now = self.now();
        conn.prepare_cached(
            "SELECT id, login FROM people WHERE status = 'disabled' AND purge_at IS NOT NULL AND purge_at <= ?1 ORDER BY id",
        )
        .and_then(|mut s| {
            s.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(|e| self.sqlite_err(e))
    }
}

impl Store {
    /// The upstream entry an LDAP-synced person binds as to check their upstream password;
    /// `None` for everyone else.
    pub fn upstream_dn(&self, person_id: i64) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT upstream_dn FROM people WHERE id = ?1 AND source = 'ldap' AND status = 'active'",
        )
        .and_then(|mut s| s.query_row([person_id], |r| r.get(0)).optional())
        .map(Option::flatten)
        .map_err(|e| self.sqlite_err(e))
    }

    /// Stores the hash of a password the upstream directory just accepted, so mail and files
    /// accept the same password. Sessions elsewhere stay: the person proved the new password.
    pub fn store_upstream_password(
        &self,
        person_id: i64,
        hash: &crate::password::Hashed,
    ) -> Result<()> {
        self.store_password_hash(
            &Actor::system("schola-web"),
            person_id,
            hash,
            crate::directory::PasswordOrigin::Upstream,
        )
    }
}
