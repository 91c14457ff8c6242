//! The directory: people, groups and memberships, and the school's own settings.
//!
//! Every change runs in one transaction that also appends to the change journal and the audit
//! log. Input is checked before anything is written, and a refused change leaves the database
//! exactly as it was.

use std::fmt;
use std::str::FromStr;

use rusqlite::{Row, Transaction, params};
use serde::Serialize;
use serde_json::json;
use unicode_normalization::UnicodeNormalization as _;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::journal;
use crate::login::{self, LoginScheme};
use crate::store::{OptionalExt as _, Store};

/// Longest given, family or display name accepted.
pub const MAX_NAME_CHARS: usize = 100;

macro_rules! string_enum {
    ($name:ident, $what:literal, { $($variant:ident => $s:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok($name::$variant),)+
                    other => Err(Error::Invalid(format!(
                        concat!("unknown ", $what, " '{}' (use one of: {})"),
                        other,
                        [$($s),+].join(", ")
                    ))),
                }
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                s.parse().map_err(|e: Error| rusqlite::types::FromSqlError::Other(e.to_string().into()))
            }
        }
    };
}

string_enum!(Role, "role", { Student => "student", Teacher => "teacher", Staff => "staff", Admin => "admin" });
string_enum!(Status, "status", { Active => "active", Disabled => "disabled" });
string_enum!(GroupKind, "group kind", { Class => "class", Course => "course", Staff => "staff", Custom => "custom" });
string_enum!(MemberRole, "member role", { Member => "member", Owner => "owner" });
string_enum!(Language, "language", { De => "de", En => "en", Nl => "nl", Fr => "fr" });

impl Language {
    /// The language of a tag such as `de`, `de-AT` or `nl_BE`, if Schola speaks it.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        primary.parse().ok()
    }
}

impl rusqlite::types::ToSql for Language {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub external_id: Option<String>,
    pub login: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub role: Role,
    pub status: Status,
    pub purge_at: Option<i64>,
    pub mail: Option<String>,
    pub quota_mb: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The language the person chose for the web pages; `None` follows the browser.
    pub language: Option<Language>,
}

const PERSON_COLUMNS: &str = "id, external_id, login, given_name, family_name, display_name, role, status, purge_at, mail, quota_mb, created_at, updated_at, language";
/// The index of the first column after [`PERSON_COLUMNS`] in a query that adds some.
const AFTER_PERSON: usize = 14;

impl Person {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Person> {
        Ok(Person {
            id: r.get(0)?,
            external_id: r.get(1)?,
            login: r.get(2)?,
            given_name: r.get(3)?,
            family_name: r.get(4)?,
            display_name: r.get(5)?,
            role: r.get(6)?,
            status: r.get(7)?,
            purge_at: r.get(8)?,
            mail: r.get(9)?,
            quota_mb: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            language: r.get(13)?,
        })
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
}

/// A person to create. `login: None` derives one from the names with the configured scheme.
#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    pub external_id: Option<String>,
    pub login: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub mail: Option<String>,
    pub quota_mb: Option<i64>,
    /// The password's argon2id PHC string and NT hash (see [`crate::password::Hashed`]);
    /// `None` leaves the account without a password until one is set.
    pub password_hash: Option<crate::password::Hashed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub kind: GroupKind,
    pub external_id: Option<String>,
    pub members: i64,
    pub owners: i64,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub display_name: Option<String>,
    pub kind: GroupKind,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub role: Option<Role>,
    pub status: Option<Status>,
    /// Part of a login, name or display name.
    pub query: Option<String>,
    /// Members of this group (by name).
    pub group: Option<String>,
}

/// The school's own settings, made by the first-run setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct School {
    pub name: String,
    pub mail_domain: String,
    /// The language of pages for people whose browser asks for none Schola speaks.
    pub default_language: Option<Language>,
}

/// Cleans a name the way a person typed it: Unicode NFC, surrounding spaces trimmed; refuses
/// empty, over-long and control characters, naming the field.
pub fn clean_name(field: &str, value: &str) -> Result<String> {
    let v: String = value.nfc().collect::<String>().trim().to_string();
    if v.is_empty() {
        return Err(Error::Invalid(format!("{field} is empty")));
    }
    if let Some((i, c)) = v.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(Error::Invalid(format!(
            "{field} contains a control character (U+{:04X}) at position {}",
            c as u32,
            i + 1
        )));
    }
    let n = v.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(Error::Invalid(format!(
            "{field} is {n} characters long; at most {MAX_NAME_CHARS} are allowed"
        )));
    }
    Ok(v)
}

/// Group names become share and list names: 1-32 of `a-z 0-9 . - _`, starting with a letter or
/// digit (classes are often `5a`).
pub fn validate_group_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the group name '{}' is not allowed; use 1-32 characters a-z, 0-9, '.', '-', '_', starting with a letter or digit",
            name.escape_debug()
        )))
    }
}

pub fn clean_mail(mail: &str) -> Result<String> {
    let m = mail.trim().to_ascii_lowercase();
    let valid = m.len() <= 254
        && m.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-_+".contains(c))
        && m.matches('@').count() == 1;
    if valid {
        Ok(m)
    } else {
        Err(Error::Invalid(format!(
            "'{}' is not a mail address",
            mail.escape_debug()
        )))
    }
}

/// Turns free text into a `LIKE` pattern that matches it anywhere, literally.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Which UNIQUE column a failed insert or update ran into, if that is what happened.
pub(crate) fn unique_violation(e: &rusqlite::Error) -> Option<&str> {
    match e {
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            msg.rsplit(": ").next()
        }
        _ => None,
    }
}

fn login_taken(tx: &Transaction<'_>, login: &str, now: i64) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM people WHERE login = ?1)
             OR EXISTS (SELECT 1 FROM retired_logins WHERE login = ?1 AND reusable_at > ?2)",
        params![login, now],
        |r| r.get(0),
    )
}

impl Store {
    fn person_where(&self, clause: &str, p: impl rusqlite::Params) -> Result<Option<Person>> {
        let conn = self.conn()?;
        let sql = format!("SELECT {PERSON_COLUMNS} FROM people WHERE {clause}");
        conn.prepare_cached(&sql)
            .and_then(|mut s| s.query_row(p, Person::from_row).optional())
            .map_err(|e| self.sqlite_err(e))
    }

    pub fn person(&self, id: i64) -> Result<Option<Person>> {
        self.person_where("id = ?1", [id])
    }

    pub fn person_by_login(&self, login: &str) -> Result<Option<Person>> {
        self.person_where("login = ?1", [login])
    }

    /// A person by login, or an error naming the login.
    pub fn require_person(&self, login: &str) -> Result<Person> {
        self.person_by_login(login)?
            .ok_or_else(|| Error::NotFound(format!("person '{login}'")))
    }

    /// The person and stored password hash for a sign-in attempt.
    pub fn credentials(&self, login: &str) -> Result<Option<(Person, Option<String>)>> {
        let conn = self.conn()?;
        let sql = format!("SELECT {PERSON_COLUMNS}, password_hash FROM people WHERE login = ?1");
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row([login], |r| {
                    Ok((Person::from_row(r)?, r.get(AFTER_PERSON)?))
                })
                .optional()
            })
            .map_err(|e| self.sqlite_err(e))
    }

    /// Creates a person, deriving the login from the names when none is given.
    pub fn create_person(
        &self,
        actor: &Actor,
        new: NewPerson,
        scheme: &LoginScheme,
    ) -> Result<Person> {
        let now = self.now();
        let id = self.write(|tx| self.insert_person(tx, actor, now, &new, scheme))?;
        self.person(id)?
            .ok_or_else(|| Error::NotFound(format!("person #{id}")))
    }

    pub(crate) fn insert_person(
        &self,
        tx: &Transaction<'_>,
        actor: &Actor,
        now: i64,
        new: &NewPerson,
        scheme: &LoginScheme,
    ) -> Result<i64> {
        let sql = |e| self.sqlite_err(e);
        let given = clean_name("the given name", &new.given_name)?;
        let family = clean_name("the family name", &new.family_name)?;
        let display = match &new.display_name {
            Some(d) => clean_name("the display name", d)?,
            None => format!("{given} {family}"),
        };
        let external_id = match new.external_id.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(x) => Some(clean_name("the external id", x)?),
        };
        let role = new.role.unwrap_or(Role::Student);
        if let Some(q) = new.quota_mb
            && q < 0
        {
            return Err(Error::Invalid(format!(
                "the storage quota {q} MB is negative"
            )));
        }
        let explicit_mail = new.mail.as_deref().map(clean_mail).transpose()?;
        let login = match &new.login {
            Some(l) => {
                login::validate_login(l).map_err(Error::Invalid)?;
                if login_taken(tx, l, now).map_err(sql)? {
                    return Err(Error::Duplicate(format!("the login '{l}'")));
                }
                l.clone()
            }
            None => {
                let base = scheme.base_login(&given, &family).ok_or_else(|| {
                    Error::Invalid(format!(
                        "no login can be made from the name '{given} {family}'; give one explicitly"
                    ))
                })?;
                let mut n = 1;
                loop {
                    let candidate = login::with_counter(&base, n);
                    if !login_taken(tx, &candidate, now).map_err(sql)? {
                        break candidate;
                    }
                    n += 1;
                }
            }
        };
        let mail = match explicit_mail {
            Some(m) => Some(m),
            None => get_setting(tx, "mail_domain")
                .map_err(sql)?
                .map(|d| format!("{login}@{d}")),
        };
        tx.execute(
            "INSERT INTO people (external_id, login, given_name, family_name, display_name, role, mail, quota_mb,
                                 password_hash, password_changed_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?9 IS NULL THEN NULL ELSE ?10 END, ?10, ?10)",
            params![external_id, login, given, family, display, role.as_str(), mail, new.quota_mb,
                    new.password_hash.as_ref().map(|h| h.phc.as_str()), now],
        )
        .map_err(|e| match unique_violation(&e) {
            Some("people.external_id") => {
                Error::Duplicate(format!("a person with the external id '{}'", external_id.as_deref().unwrap_or("")))
            }
            Some("people.mail") => Error::Duplicate(format!("the mail address '{}'", mail.as_deref().unwrap_or(""))),
            Some("people.login") => Error::Duplicate(format!("the login '{login}'")),
            _ => self.sqlite_err(e),
        })?;
        let id = tx.last_insert_rowid();
        if let Some(h) = &new.password_hash {
            crate::smb::store_nt_hash(tx, id, &h.nt, now).map_err(sql)?;
        }
        journal::append(
            tx,
            now,
            "person.created",
            Some(id),
            None,
            json!({"login": login, "role": role, "mail": mail}),
        )
        .map_err(sql)?;
        audit::record(
            tx,
            now,
            actor,
            "person.create",
            Some(&login),
            json!({"role": role, "external_id": external_id}),
        )
        .map_err(sql)?;
        Ok(id)
    }

    /// People matching `filter`, sorted by family and given name, with the total count.
    pub fn list_people(
        &self,
        filter: &PersonFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Person>, usize)> {
        let conn = self.conn()?;
        let like = filter
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(like_pattern);
        let cond = "(?1 IS NULL OR role = ?1) AND (?2 IS NULL OR status = ?2)
             AND (?3 IS NULL OR login LIKE ?3 ESCAPE '\\' OR display_name LIKE ?3 ESCAPE '\\'
                  OR given_name LIKE ?3 ESCAPE '\\' OR family_name LIKE ?3 ESCAPE '\\')
             AND (?4 IS NULL OR id IN (SELECT m.person_id FROM group_members m JOIN groups g ON g.id = m.group_id
                                       WHERE g.name = ?4))";
        let p = params![
            filter.role.map(Role::as_str),
            filter.status.map(Status::as_str),
            like,
            filter.group
        ];
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM people WHERE {cond}"))
            .and_then(|mut s| s.query_row(p, |r| r.get(0)))
            .map_err(|e| self.sqlite_err(e))?;
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE {cond} ORDER BY family_name COLLATE schola_name, given_name COLLATE schola_name, id LIMIT ?5 OFFSET ?6"
        );
        let people = conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![
                        filter.role.map(Role::as_str),
                        filter.status.map(Status::as_str),
                        like,
                        filter.group,
                        limit as i64,
                        offset as i64
                    ],
                    Person::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.sqlite_err(e))?;
        Ok((people, total as usize))
    }

    /// Stores a new password hash; ends the person's sessions (everywhere they were signed in).
    pub fn set_password_hash(
        &self,
        actor: &Actor,
        person_id: i64,
        hash: &crate::password::Hashed,
    ) -> Result<()> {
        self.store_password_hash(actor, person_id, hash, PasswordOrigin::Set)
    }

    /// Stores a password hash with the journal and audit entries; a password set here (by its
    /// owner or an admin) ends the person's sessions, one the upstream directory accepted at
    /// sign-in does not (the person just proved it).
    pub(crate) fn store_password_hash(
        &self,
        actor: &Actor,
        person_id: i64,
        hash: &crate::password::Hashed,
        origin: PasswordOrigin,
    ) -> Result<()> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let login: String = tx
                .query_row("SELECT login FROM people WHERE id = ?1", [person_id], |r| r.get(0))
                .optional()
                .map_err(sql)?
                .ok_or_else(|| Error::NotFound(format!("person #{person_id}")))?;
            tx.execute(
                "UPDATE people SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3 WHERE id = ?1",
                params![person_id, hash.phc, now],
            )
            .map_err(sql)?;
            crate::smb::store_nt_hash(tx, person_id, &hash.nt, now).map_err(sql)?;
            let (action, data) = match origin {
                PasswordOrigin::Set => {
                    tx.execute("DELETE FROM sessions WHERE person_id = ?1", [person_id]).map_err(sql)?;
                    ("person.password", json!({"login": login}))
                }
                PasswordOrigin::Upstream => ("person.password_upstream", json!({"login": login, "upstream": true})),
            };
            journal::append(tx, now, "person.password_changed", Some(person_id), None, data).map_err(sql)?;
            audit::record(tx, now, actor, action, Some(&login), json!({})).map_err(sql)?;
            Ok(())
        })
    }

    /// The person's own choice of language for the web pages; `None` follows the browser.
    pub fn set_person_language(
        &self,
        actor: &Actor,
        person_id: i64,
        language: Option<Language>,
    ) -> Result<()> {
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let login: String = tx
                .query_row("SELECT login FROM people WHERE id = ?1", [person_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql)?
                .ok_or_else(|| Error::NotFound(format!("person #{person_id}")))?;
            tx.execute(
                "UPDATE people SET language = ?2, updated_at = ?3 WHERE id = ?1",
                params![person_id, language, now],
            )
            .map_err(sql)?;
            let code = language.map(Language::as_str);
            audit::record(
                tx,
                now,
                actor,
                "person.language",
                Some(&login),
                json!({"language": code}),
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    /// Disables a person (they can no longer sign in) and schedules the purge.
    pub fn disable_person(&self, actor: &Actor, login: &str, grace_days: i64) -> Result<Person> {
        let now = self.now();
        let purge_at = now + grace_days.max(0) * 86_400;
        self.change_status(actor, login, Status::Disabled, Some(purge_at))
    }

    pub fn enable_person(&self, actor: &Actor, login: &str) -> Result<Person> {
        self.change_status(actor, login, Status::Active, None)
    }

    fn change_status(
        &self,
        actor: &Actor,
        login: &str,
        status: Status,
        purge_at: Option<i64>,
    ) -> Result<Person> {
        let now = self.now();
        let id = self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let (id, role, current): (i64, Role, Status) = tx
                .query_row("SELECT id, role, status FROM people WHERE login = ?1", [login], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(sql)?
                .ok_or_else(|| Error::NotFound(format!("person '{login}'")))?;
            if current == status {
                return Ok(id);
            }
            if status == Status::Disabled && role == Role::Admin {
                let others: i64 = tx
                    .query_row("SELECT count(*) FROM people WHERE role = 'admin' AND status = 'active' AND id != ?1", [id], |r| {
                        r.get(0)
                    })
                    .map_err(sql)?;
                if others == 0 {
                    return Err(Error::Invalid(format!("'{login}' is the last active admin and cannot be disabled")));
                }
            }
            tx.execute(
                "UPDATE people SET status = ?2, purge_at = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), purge_at, now],
            )
            .map_err(sql)?;
            if status == Status::Disabled {
                tx.execute("DELETE FROM sessions WHERE person_id = ?1", [id]).map_err(sql)?;
            }
            let kind = if status == Status::Disabled { "person.disabled" } else { "person.enabled" };
            journal::append(tx, now, kind, Some(id), None, json!({"login": login, "purge_at": purge_at})).map_err(sql)?;
            audit::record(tx, now, actor, kind, Some(login), json!({"purge_at": purge_at})).map_err(sql)?;
            Ok(id)
        })?;
        self.person(id)?
            .ok_or_else(|| Error::NotFound(format!("person '{login}'")))
    }

    /// Deletes a person for good. The login stays reserved for `reuse_days`, so mail for the
    /// old owner never reaches a newcomer with the same name.
    pub fn purge_person(&self, actor: &Actor, login: &str, reuse_days: i64) -> Result<()> {
        self.batch(actor, |b| {
            let id = self.id_of(
                b.tx,
                "SELECT id FROM people WHERE login = ?1",
                login,
                "person",
            )?;
            b.purge(id, login, reuse_days)
        })
    }

    pub fn create_group(&self, actor: &Actor, new: NewGroup) -> Result<Group> {
        let now = self.now();
        self.write(|tx| self.insert_group(tx, actor, now, &new))?;
        self.group(&new.name)?
            .ok_or_else(|| Error::NotFound(format!("group '{}'", new.name)))
    }

    fn insert_group(
        &self,
        tx: &Transaction<'_>,
        actor: &Actor,
        now: i64,
        new: &NewGroup,
    ) -> Result<i64> {
        let sql = |e| self.sqlite_err(e);
        validate_group_name(&new.name)?;
        let display = match &new.display_name {
            Some(d) => clean_name("the group's display name", d)?,
            None => new.name.clone(),
        };
        tx.execute(
            "INSERT INTO groups (name, display_name, kind, external_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![new.name, display, new.kind.as_str(), new.external_id, now],
        )
        .map_err(|e| match unique_violation(&e) {
            Some("groups.name") => Error::Duplicate(format!("the group '{}'", new.name)),
            Some("groups.external_id") => {
                Error::Duplicate(format!("a group with the external id '{}'", new.external_id.as_deref().unwrap_or("")))
            }
            _ => self.sqlite_err(e),
        })?;
        let id = tx.last_insert_rowid();
        journal::append(
            tx,
            now,
            "group.created",
            None,
            Some(id),
            json!({"name": new.name, "kind": new.kind}),
        )
        .map_err(sql)?;
        audit::record(
            tx,
            now,
            actor,
            "group.create",
            Some(&new.name),
            json!({"kind": new.kind}),
        )
        .map_err(sql)?;
        Ok(id)
    }

    const GROUP_SELECT: &'static str = "SELECT g.id, g.name, g.display_name, g.kind, g.external_id,
            (SELECT count(*) FROM group_members m WHERE m.group_id = g.id AND m.role = 'member'),
            (SELECT count(*) FROM group_members m WHERE m.group_id = g.id AND m.role = 'owner')";

    fn group_from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
        Ok(Group {
            id: r.get(0)?,
            name: r.get(1)?,
            display_name: r.get(2)?,
            kind: r.get(3)?,
            external_id: r.get(4)?,
            members: r.get(5)?,
            owners: r.get(6)?,
        })
    }

    pub fn group(&self, name: &str) -> Result<Option<Group>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "{} FROM groups g WHERE g.name = ?1",
            Self::GROUP_SELECT
        ))
        .and_then(|mut s| s.query_row([name], Self::group_from_row).optional())
        .map_err(|e| self.sqlite_err(e))
    }

    pub fn list_groups(&self, kind: Option<GroupKind>) -> Result<Vec<Group>> {
        let conn = self.conn()?;
        conn.prepare_cached(&format!(
            "{} FROM groups g WHERE ?1 IS NULL OR g.kind = ?1 ORDER BY g.kind, g.name",
            Self::GROUP_SELECT
        ))
        .and_then(|mut s| {
            s.query_map([kind.map(GroupKind::as_str)], Self::group_from_row)?
                .collect()
        })
        .map_err(|e| self.sqlite_err(e))
    }

    /// Adds `login` to `group` as member or owner; adding twice changes nothing.
    pub fn add_member(
        &self,
        actor: &Actor,
        group: &str,
        login: &str,
        role: MemberRole,
    ) -> Result<bool> {
        self.change_member(actor, group, login, role, true)
    }

    pub fn remove_member(
        &self,
        actor: &Actor,
        group: &str,
        login: &str,
        role: MemberRole,
    ) -> Result<bool> {
        self.change_member(actor, group, login, role, false)
    }

    fn change_member(
        &self,
        actor: &Actor,
        group: &str,
        login: &str,
        role: MemberRole,
        add: bool,
    ) -> Result<bool> {
        let now = self.now();
        self.write(|tx| self.change_member_in(tx, actor, now, group, login, role, add))
    }

    #[allow(clippy::too_many_arguments)]
    fn change_member_in(
        &self,
        tx: &Transaction<'_>,
        actor: &Actor,
        now: i64,
        group: &str,
        login: &str,
        role: MemberRole,
        add: bool,
    ) -> Result<bool> {
        let sql = |e| self.sqlite_err(e);
        let gid = self.id_of(tx, "SELECT id FROM groups WHERE name = ?1", group, "group")?;
        let pid = self.id_of(
            tx,
            "SELECT id FROM people WHERE login = ?1",
            login,
            "person",
        )?;
        let changed = if add {
            tx.execute(
                "INSERT OR IGNORE INTO group_members (group_id, person_id, role) VALUES (?1, ?2, ?3)",
                params![gid, pid, role.as_str()],
            )
        } else {
            tx.execute(
                "DELETE FROM group_members WHERE group_id = ?1 AND person_id = ?2 AND role = ?3",
                params![gid, pid, role.as_str()],
            )
        }
        .map_err(sql)?
            > 0;
        if changed {
            let kind = if add {
                "group.member_added"
            } else {
                "group.member_removed"
            };
            journal::append(
                tx,
                now,
                kind,
                Some(pid),
                Some(gid),
                json!({"group": group, "login": login, "role": role}),
            )
            .map_err(sql)?;
            audit::record(
                tx,
                now,
                actor,
                kind,
                Some(group),
                json!({"login": login, "role": role}),
            )
            .map_err(sql)?;
        }
        Ok(changed)
    }

    /// The row id `query` finds for `key`, or an error naming the missing `what`.
    fn id_of(&self, tx: &Transaction<'_>, query: &str, key: &str, what: &str) -> Result<i64> {
        tx.query_row(query, [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite_err(e))?
            .ok_or_else(|| Error::NotFound(format!("{what} '{key}'")))
    }

    /// Runs several directory changes in one transaction: all are stored, or none. This is how
    /// imports and the demo write hundreds of people without hundreds of disk syncs.
    pub fn batch<T>(
        &self,
        actor: &Actor,
        f: impl FnOnce(&mut Batch<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        self.write(|tx| {
            f(&mut Batch {
                store: self,
                tx,
                actor,
                now,
            })
        })
    }

    /// Members and owners of a group, sorted by name.
    pub fn group_members(&self, group: &str) -> Result<Vec<(Person, MemberRole)>> {
        if self.group(group)?.is_none() {
            return Err(Error::NotFound(format!("group '{group}'")));
        }
        let conn = self.conn()?;
        let cols = PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, m.role FROM group_members m JOIN people p ON p.id = m.person_id JOIN groups g ON g.id = m.group_id
             WHERE g.name = ?1 ORDER BY m.role DESC, p.family_name COLLATE schola_name, p.given_name COLLATE schola_name"
        );
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map([group], |r| {
                    Ok((Person::from_row(r)?, r.get(AFTER_PERSON)?))
                })?
                .collect()
            })
            .map_err(|e| self.sqlite_err(e))
    }

    /// The groups a person belongs to (as member or owner).
    pub fn groups_of(&self, person_id: i64) -> Result<Vec<(Group, MemberRole)>> {
        let conn = self.conn()?;
        let sql = format!(
            "{}, gm.role FROM groups g JOIN group_members gm ON gm.group_id = g.id WHERE gm.person_id = ?1 ORDER BY g.kind, g.name",
            Self::GROUP_SELECT
        );
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map([person_id], |r| Ok((Self::group_from_row(r)?, r.get(7)?)))?
                    .collect()
            })
            .map_err(|e| self.sqlite_err(e))
    }

    pub fn count_people(&self, role: Option<Role>) -> Result<usize> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT count(*) FROM people WHERE status = 'active' AND (?1 IS NULL OR role = ?1)",
            [role.map(Role::as_str)],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as usize)
        .map_err(|e| self.sqlite_err(e))
    }

    /// True once the first-run setup has made an admin.
    pub fn has_admin(&self) -> Result<bool> {
        Ok(self.count_people(Some(Role::Admin))? > 0)
    }

    pub fn school(&self) -> Result<School> {
        let conn = self.conn()?;
        let get = |k: &str| -> Result<String> {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.sqlite_err(e))
        };
        Ok(School {
            name: get("school_name")?,
            mail_domain: get("mail_domain")?,
            default_language: Language::from_tag(&get("default_language")?),
        })
    }

    /// The first-run setup: the school's name and mail domain and its first admin, in one
    /// transaction, and only while there is no admin yet.
    pub fn setup_school(
        &self,
        actor: &Actor,
        school: &School,
        admin: NewPerson,
        scheme: &LoginScheme,
    ) -> Result<Person> {
        let name = clean_name("the school's name", &school.name)?;
        let domain = school.mail_domain.trim().to_ascii_lowercase();
        clean_mail(&format!("postmaster@{domain}")).map_err(|_| {
            Error::Invalid(format!(
                "'{}' is not a mail domain",
                school.mail_domain.escape_debug()
            ))
        })?;
        if self.has_admin()? {
            return Err(Error::Invalid("the school is already set up".into()));
        }
        let now = self.now();
        let id = self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let admins: i64 = tx
                .query_row(
                    "SELECT count(*) FROM people WHERE role = 'admin' AND status = 'active'",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if admins > 0 {
                return Err(Error::Invalid("the school is already set up".into()));
            }
            set_setting(tx, "school_name", &name).map_err(sql)?;
            set_setting(tx, "mail_domain", &domain).map_err(sql)?;
            if let Some(lang) = school.default_language {
                set_setting(tx, "default_language", lang.as_str()).map_err(sql)?;
            }
            audit::record(
                tx,
                now,
                actor,
                "school.setup",
                Some(&name),
                json!({"mail_domain": domain}),
            )
            .map_err(sql)?;
            self.insert_person(
                tx,
                actor,
                now,
                &NewPerson {
                    role: Some(Role::Admin),
                    ..admin
                },
                scheme,
            )
        })?;
        self.person(id)?
            .ok_or_else(|| Error::NotFound(format!("person #{id}")))
    }
}

fn get_setting(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

fn set_setting(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Where a stored password comes from; see [`Store::store_password_hash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordOrigin {
    Set,
    Upstream,
}

/// Directory changes inside one transaction; see [`Store::batch`].
pub struct Batch<'s, 't> {
    pub(crate) store: &'s Store,
    pub(crate) tx: &'s Transaction<'t>,
    pub(crate) actor: &'s Actor,
    pub(crate) now: i64,
}

impl Batch<'_, '_> {
    /// Creates a person; returns the id and the login given.
    pub fn create_person(
        &mut self,
        new: &NewPerson,
        scheme: &LoginScheme,
    ) -> Result<(i64, String)> {
        let id = self
            .store
            .insert_person(self.tx, self.actor, self.now, new, scheme)?;
        let login = self
            .tx
            .query_row("SELECT login FROM people WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|e| self.store.sqlite_err(e))?;
        Ok((id, login))
    }

    pub fn create_group(&mut self, new: &NewGroup) -> Result<i64> {
        self.store.insert_group(self.tx, self.actor, self.now, new)
    }

    pub fn add_member(&mut self, group: &str, login: &str, role: MemberRole) -> Result<bool> {
        self.store
            .change_member_in(self.tx, self.actor, self.now, group, login, role, true)
    }

    pub fn remove_member(&mut self, group: &str, login: &str, role: MemberRole) -> Result<bool> {
        self.store
            .change_member_in(self.tx, self.actor, self.now, group, login, role, false)
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
