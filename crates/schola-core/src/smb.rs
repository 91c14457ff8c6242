//! What SMB (Samba) provisioning needs from the store: each person's NT hash (table
//! `smb_secrets`, written in the same transaction as the argon2id hash wherever a password is set
//! from plaintext), and a snapshot of the active people and the groups with their members.
//!
//! The NT hash is password-equivalent for SMB, so it is never put in the journal, the audit log
//! or a log line; only the root `schola-files samba-sync` reads it to fill Samba's passdb.

use rusqlite::{Transaction, params};
use serde_json::json;

use crate::directory::{GroupKind, MemberRole, Role};
use crate::error::Result;
use crate::journal;
use crate::store::{OptionalExt as _, Store};

/// Stores (or replaces) a person's NT hash; called inside the transaction that stores the
/// argon2id hash of the same password.
pub(crate) fn store_nt_hash(
    tx: &Transaction<'_>,
    person_id: i64,
    nt: &str,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO smb_secrets (person_id, nt_hash, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (person_id) DO UPDATE SET nt_hash = excluded.nt_hash, changed_at = excluded.changed_at",
        params![person_id, nt, now],
    )?;
    Ok(())
}

/// An active person as Samba sees them.
#[derive(Clone, PartialEq, Eq)]
pub struct SmbPerson {
    pub id: i64,
    pub login: String,
    pub role: Role,
    /// `None`: the password was set before SMB support and the person has not signed in to the
    /// portal since (see [`Store::ensure_smb_secret`]), or no password is set at all.
    pub nt_hash: Option<String>,
}

impl std::fmt::Debug for SmbPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmbPerson")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("role", &self.role)
            .field("nt_hash", &self.nt_hash.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A group with its active members (a person who is both member and owner is listed once, as
/// owner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmbGroup {
    pub id: i64,
    pub name: String,
    pub kind: GroupKind,
    /// (person id, member role), sorted by person id.
    pub members: Vec<(i64, MemberRole)>,
}

impl Store {
    /// Stores the NT hash of `password` for a person who has none yet (passwords set before
    /// schema version 5). Call it only after `password` was verified for this person (a
    /// successful sign-in). Returns whether one was stored; an existing one is left alone.
    /// Appends `person.smb_secret_stored` to the journal so the Samba sync picks it up.
    pub fn ensure_smb_secret(&self, person_id: i64, password: &str) -> Result<bool> {
        let has: bool = {
            let conn = self.conn()?;
            conn.prepare_cached("SELECT 1 FROM smb_secrets WHERE person_id = ?1")
                .and_then(|mut s| s.query_row([person_id], |_| Ok(())).optional())
                .map_err(|e| self.sqlite_err(e))?
                .is_some()
        };
        if has {
            return Ok(false);
        }
        let nt = crate::password::nt_hash(password);
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let login: Option<String> = tx
                .query_row("SELECT login FROM people WHERE id = ?1", [person_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql)?;
            let Some(login) = login else {
                return Ok(false);
            };
            let n = tx
                .execute(
                    "INSERT INTO smb_secrets (person_id, nt_hash, changed_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (person_id) DO NOTHING",
                    params![person_id, nt, now],
                )
                .map_err(sql)?;
            if n > 0 {
                journal::append(
                    tx,
                    now,
                    "person.smb_secret_stored",
                    Some(person_id),
                    None,
                    json!({"login": login}),
                )
                .map_err(sql)?;
            }
            Ok(n > 0)
        })
    }

    /// Whether the person has an NT hash stored.
    pub fn has_smb_secret(&self, person_id: i64) -> Result<bool> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT 1 FROM smb_secrets WHERE person_id = ?1")
            .and_then(|mut s| s.query_row([person_id], |_| Ok(())).optional())
            .map(|o| o.is_some())
            .map_err(|e| self.sqlite_err(e))
    }

    /// Every active person with their NT hash (if any), sorted by id.
    pub fn smb_people(&self) -> Result<Vec<SmbPerson>> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "SELECT p.id, p.login, p.role, s.nt_hash FROM people p
             LEFT JOIN smb_secrets s ON s.person_id = p.id
             WHERE p.status = 'active' ORDER BY p.id",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(SmbPerson {
                    id: r.get(0)?,
                    login: r.get(1)?,
                    role: r.get(2)?,
                    nt_hash: r.get(3)?,
                })
            })?
            .collect()
        })
        .map_err(|e| self.sqlite_err(e))
    }

    /// Every group with its active members, sorted by id.
    pub fn smb_groups(&self) -> Result<Vec<SmbGroup>> {
        let conn = self.conn()?;
        let mut groups: Vec<SmbGroup> = conn
            .prepare_cached("SELECT id, name, kind FROM groups ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(SmbGroup {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        kind: r.get(2)?,
                        members: Vec::new(),
                    })
                })?
                .collect()
            })
            .map_err(|e| self.sqlite_err(e))?;
        let rows: Vec<(i64, i64, MemberRole)> = conn
            .prepare_cached(
                "SELECT m.group_id, m.person_id, m.role FROM group_members m
                 JOIN people p ON p.id = m.person_id
                 WHERE p.status = 'active' ORDER BY m.group_id, m.person_id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(|e| self.sqlite_err(e))?;
        for (gid, pid, role) in rows {
            let Ok(i) = groups.binary_search_by_key(&gid, |g| g.id) else {
                continue;
            };
            let members = &mut groups[i].members;
            match members.last_mut() {
                Some((last, r)) if *last == pid => {
                    if role == MemberRole::Owner {
                        *r = MemberRole::Owner;
                    }
                }
                _ => members.push((pid, role)),
            }
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::config::Argon2Config;
    use crate::directory::{NewGroup, NewPerson};
    use crate::password::{hash_password, hash_password_for, nt_hash};

    const FAST: Argon2Config = Argon2Config {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = Store::open(&dir.path().join("s.db")).unwrap();
        (dir, s)
    }

    fn person(s: &Store, login: &str, role: Role, pw: Option<&str>) -> i64 {
        s.create_person(
            &Actor::system("test"),
            NewPerson {
                login: Some(login.into()),
                given_name: "A".into(),
                family_name: login.into(),
                role: Some(role),
                password_hash: pw.map(|p| hash_password_for(FAST, p).unwrap()),
                ..Default::default()
            },
            &crate::login::LoginScheme::default(),
        )
        .unwrap()
        .id
    }

    #[test]
    fn every_password_set_stores_the_nt_hash_with_it() {
        let (_d, s) = store();
        let a = person(&s, "anna", Role::Student, Some("Erste-Wahl-7"));
        let b = person(&s, "ben", Role::Teacher, None);
        let people = s.smb_people().unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(
            people[0].nt_hash.as_deref(),
            Some(nt_hash("Erste-Wahl-7").as_str())
        );
        assert_eq!(people[1].nt_hash, None);
        s.set_password_hash(
            &Actor::system("test"),
            b,
            &hash_password_for(FAST, "Zweite-8").unwrap(),
        )
        .unwrap();
        s.set_password_hash(
            &Actor::system("test"),
            a,
            &hash_password_for(FAST, "Dritte-9").unwrap(),
        )
        .unwrap();
        let people = s.smb_people().unwrap();
        assert_eq!(
            people[0].nt_hash.as_deref(),
            Some(nt_hash("Dritte-9").as_str())
        );
        assert_eq!(
            people[1].nt_hash.as_deref(),
            Some(nt_hash("Zweite-8").as_str())
        );
        assert!(!format!("{people:?}").contains(&nt_hash("Dritte-9")));
    }

    #[test]
    fn ensure_smb_secret_fills_only_a_missing_one() {
        let (_d, s) = store();
        let a = person(&s, "anna", Role::Student, None);
        // a password set before schema 5: argon2 only
        {
            let c = s.conn().unwrap();
            c.execute(
                "UPDATE people SET password_hash = ?2 WHERE id = ?1",
                params![a, hash_password(FAST, "Alt-Passwort-1").unwrap()],
            )
            .unwrap();
        }
        assert!(!s.has_smb_secret(a).unwrap());
        let before = s.journal_since(0, 1000).unwrap().len();
        assert!(s.ensure_smb_secret(a, "Alt-Passwort-1").unwrap());
        assert!(s.has_smb_secret(a).unwrap());
        let j = s.journal_since(0, 1000).unwrap();
        assert_eq!(j.len(), before + 1);
        assert_eq!(j[before].kind, "person.smb_secret_stored");
        assert!(
            !j[before]
                .data
                .to_string()
                .contains(&nt_hash("Alt-Passwort-1"))
        );
        // a second call changes nothing, even with another password
        assert!(!s.ensure_smb_secret(a, "Anderes-2").unwrap());
        assert_eq!(
            s.smb_people().unwrap()[0].nt_hash.as_deref(),
            Some(nt_hash("Alt-Passwort-1").as_str())
        );
        assert!(!s.ensure_smb_secret(9999, "x").unwrap());
    }

    #[test]
    fn disabled_people_and_their_memberships_are_left_out() {
        let (_d, s) = store();
        let act = Actor::system("test");
        let a = person(&s, "anna", Role::Student, Some("Erste-Wahl-7"));
        let t = person(&s, "tom", Role::Teacher, Some("Erste-Wahl-8"));
        let _c = person(&s, "carl", Role::Student, None);
        s.create_group(
            &act,
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
        s.add_member(&act, "5a", "anna", MemberRole::Member)
            .unwrap();
        s.add_member(&act, "5a", "carl", MemberRole::Member)
            .unwrap();
        s.add_member(&act, "5a", "tom", MemberRole::Member).unwrap();
        s.add_member(&act, "5a", "tom", MemberRole::Owner).unwrap();
        s.disable_person(&act, "carl", 30).unwrap();
        let g = s.smb_groups().unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(
            g[0].members,
            vec![(a, MemberRole::Member), (t, MemberRole::Owner)]
        );
        let logins: Vec<String> = s
            .smb_people()
            .unwrap()
            .into_iter()
            .map(|p| p.login)
            .collect();
        assert_eq!(logins, ["anna", "tom"]);
    }
}
