//! What school e-mail needs from the directory, read in one consistent snapshot: the school's
//! mail domain, every person with an address (and the addresses they had before), and every
//! group with its members. `schola-mail` turns it into the answers Postfix and Dovecot ask for.

use rusqlite::OptionalExtension as _;

use crate::directory::{GroupKind, MemberRole, Role, Status};
use crate::error::Result;
use crate::store::Store;

/// A person as mail sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPerson {
    pub id: i64,
    pub login: String,
    /// Their address (`people.mail`, lower case).
    pub address: String,
    pub role: Role,
    pub status: Status,
    /// The argon2id PHC string every Schola sign-in checks (none until a password is set).
    pub password_hash: Option<String>,
    /// When the password last changed (a mail server's cached sign-in must be dropped then).
    pub password_changed_at: Option<i64>,
}

/// A group as mail sees it: a list whose address is its name at the school's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailGroup {
    pub name: String,
    pub kind: GroupKind,
    /// Person ids with their role in the group.
    pub members: Vec<(i64, MemberRole)>,
}

/// The whole of it, read inside one read transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailDirectory {
    /// The school's mail domain (empty before the first-run setup).
    pub domain: String,
    pub people: Vec<MailPerson>,
    /// `(old address, person id)`.
    pub old_addresses: Vec<(String, i64)>,
    pub groups: Vec<MailGroup>,
    /// The change journal's head when this was read: a later head means something changed.
    pub journal_seq: i64,
}

impl Store {
    /// Reads everything mail needs in one snapshot (a few milliseconds for a school of 1,500).
    pub fn mail_directory(&self) -> Result<MailDirectory> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(|e| self.sqlite_err(e))?;
        let read = || -> rusqlite::Result<MailDirectory> {
            let domain: String = tx
                .query_row(
                    "SELECT value FROM settings WHERE key = 'mail_domain'",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or_default();
            let journal_seq: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
                    r.get(0)
                })?;
            let people = tx
                .prepare(
                    "SELECT id, login, lower(mail), role, status, password_hash, password_changed_at
                     FROM people WHERE mail IS NOT NULL ORDER BY id",
                )?
                .query_map([], |r| {
                    Ok(MailPerson {
                        id: r.get(0)?,
                        login: r.get(1)?,
                        address: r.get(2)?,
                        role: r.get(3)?,
                        status: r.get(4)?,
                        password_hash: r.get(5)?,
                        password_changed_at: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let old_addresses = tx
                .prepare(
                    "SELECT lower(address), person_id FROM mail_old_addresses ORDER BY address",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut groups: Vec<MailGroup> = Vec::new();
            let mut rows = tx.prepare(
                "SELECT g.name, g.kind, m.person_id, m.role
                 FROM groups g LEFT JOIN group_members m ON m.group_id = g.id
                 ORDER BY g.name, m.person_id",
            )?;
            let mut rows = rows.query([])?;
            while let Some(r) = rows.next()? {
                let name: String = r.get(0)?;
                if groups.last().is_none_or(|g| g.name != name) {
                    groups.push(MailGroup {
                        name,
                        kind: r.get(1)?,
                        members: Vec::new(),
                    });
                }
                if let (Some(id), Some(role), Some(g)) = (
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<MemberRole>>(3)?,
                    groups.last_mut(),
                ) {
                    g.members.push((id, role));
                }
            }
            Ok(MailDirectory {
                domain,
                people,
                old_addresses,
                groups,
                journal_seq,
            })
        };
        let dir = read().map_err(|e| self.sqlite_err(e))?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::directory::{NewGroup, NewPerson};
    use crate::store::testing::store;

    #[test]
    fn reads_people_old_addresses_and_groups_in_one_go() {
        let (s, _clock, _dir) = store();
        let actor = Actor::system("test");
        s.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('mail_domain', 's.test')",
                [],
            )
            .map_err(|e| crate::Error::Invalid(e.to_string()))?;
            Ok(())
        })
        .unwrap();
        let anna = s
            .create_person(
                &actor,
                NewPerson {
                    given_name: "Anna".into(),
                    family_name: "Berg".into(),
                    role: Some(Role::Student),
                    ..Default::default()
                },
                &crate::login::LoginScheme::default(),
            )
            .unwrap();
        s.create_group(
            &actor,
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
        s.add_member(&actor, "5a", &anna.login, MemberRole::Member)
            .unwrap();
        let d = s.mail_directory().unwrap();
        assert_eq!(d.domain, "s.test");
        assert_eq!(d.people.len(), 1);
        assert_eq!(d.people[0].address, format!("{}@s.test", anna.login));
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].members, vec![(anna.id, MemberRole::Member)]);
        assert!(d.journal_seq > 0);
    }
}
