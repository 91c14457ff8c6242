//! What the admin UI changes in the directory beyond `directory`'s basics: editing a person,
//! changes for many members of a class at once (each in one transaction), and generated
//! initial passwords.
//!
//! Like every directory change, each of these writes the change journal and the audit log in
//! the same transaction, with the same journal kinds as the single changes in `directory`, so
//! the daemons following the journal cannot tell a bulk change from many single ones.

use rusqlite::{Transaction, params};
use serde_json::{Map, Value, json};

use crate::audit::{self, Actor};
use crate::directory::{Person, Role, Status, clean_mail, clean_name, unique_violation};
use crate::error::{Error, Result};
use crate::journal;
use crate::password::PasswordPolicy;
use crate::store::{OptionalExt as _, Store};

/// A person's editable details, as the edit form sends them.
#[derive(Debug, Clone)]
pub struct PersonEdit {
    pub given_name: String,
    pub family_name: String,
    /// Empty means "given family".
    pub display_name: String,
    pub role: Role,
    /// `None` (or empty) means no mail address.
    pub mail: Option<String>,
    /// `None` means the default quota.
    pub quota_mb: Option<i64>,
}

/// A readable initial password (no 0/O/o, 1/l/I) that `policy` accepts for `login`; groups of
/// four are added when the policy's minimum is longer than the usual 14 characters.
pub fn generate_password(policy: &PasswordPolicy, login: &str) -> Result<String> {
    for _ in 0..16 {
        let mut p = crate::token::readable_password();
        while p.chars().count() < policy.min_length {
            let more = crate::token::readable_password();
            p.push('-');
            p.push_str(&more[..4.min(more.len())]);
        }
        if policy.check(login, &p).is_ok() {
            return Ok(p);
        }
    }
    Err(Error::Invalid(
        "no password can be generated that the password policy accepts".into(),
    ))
}

/// One row of `people` as the changes here need it.
struct Current {
    id: i64,
    role: Role,
    status: Status,
    given_name: String,
    family_name: String,
    display_name: String,
    mail: Option<String>,
    quota_mb: Option<i64>,
}

fn other_active_admins(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT count(*) FROM people WHERE role = 'admin' AND status = 'active' AND id != ?1",
        [id],
        |r| r.get(0),
    )
}

impl Store {
    fn current(&self, tx: &Transaction<'_>, login: &str) -> Result<Current> {
        tx.query_row(
            "SELECT id, role, status, given_name, family_name, display_name, mail, quota_mb
             FROM people WHERE login = ?1",
            [login],
            |r| {
                Ok(Current {
                    id: r.get(0)?,
                    role: r.get(1)?,
                    status: r.get(2)?,
                    given_name: r.get(3)?,
                    family_name: r.get(4)?,
                    display_name: r.get(5)?,
                    mail: r.get(6)?,
                    quota_mb: r.get(7)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.sqlite_err(e))?
        .ok_or_else(|| Error::NotFound(format!("person '{login}'")))
    }

    /// Changes a person's names, role, mail address and quota. Only what differs is written;
    /// an edit that changes nothing writes nothing. The last active admin keeps the role.
    pub fn update_person(&self, actor: &Actor, login: &str, edit: &PersonEdit) -> Result<Person> {
        let given = clean_name("the given name", &edit.given_name)?;
        let family = clean_name("the family name", &edit.family_name)?;
        let display = if edit.display_name.trim().is_empty() {
            format!("{given} {family}")
        } else {
            clean_name("the display name", &edit.display_name)?
        };
        let mail = match edit.mail.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(m) => Some(clean_mail(m)?),
        };
        if let Some(q) = edit.quota_mb
            && q < 0
        {
            return Err(Error::Invalid(format!(
                "the storage quota {q} MB is negative"
            )));
        }
        let now = self.now();
        let id = self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let cur = self.current(tx, login)?;
            let mut changed = Map::new();
            let mut note = |field: &str, differs: bool, value: Value| {
                if differs {
                    changed.insert(field.to_string(), value);
                }
            };
            note("given_name", cur.given_name != given, json!(given));
            note("family_name", cur.family_name != family, json!(family));
            note("display_name", cur.display_name != display, json!(display));
            note("role", cur.role != edit.role, json!(edit.role));
            note("mail", cur.mail != mail, json!(mail));
            note(
                "quota_mb",
                cur.quota_mb != edit.quota_mb,
                json!(edit.quota_mb),
            );
            if changed.is_empty() {
                return Ok(cur.id);
            }
            if cur.role == Role::Admin
                && edit.role != Role::Admin
                && cur.status == Status::Active
                && other_active_admins(tx, cur.id).map_err(sql)? == 0
            {
                return Err(Error::Invalid(format!(
                    "'{login}' is the last active admin and must stay an admin"
                )));
            }
            tx.execute(
                "UPDATE people SET given_name = ?2, family_name = ?3, display_name = ?4, role = ?5,
                                   mail = ?6, quota_mb = ?7, updated_at = ?8 WHERE id = ?1",
                params![
                    cur.id,
                    given,
                    family,
                    display,
                    edit.role.as_str(),
                    mail,
                    edit.quota_mb,
                    now
                ],
            )
            .map_err(|e| match unique_violation(&e) {
                Some("people.mail") => Error::Duplicate(format!(
                    "the mail address '{}'",
                    mail.as_deref().unwrap_or("")
                )),
                _ => self.sqlite_err(e),
            })?;
            let changed = Value::Object(changed);
            journal::append(
                tx,
                now,
                "person.updated",
                Some(cur.id),
                None,
                json!({"login": login, "changed": changed}),
            )
            .map_err(sql)?;
            audit::record(tx, now, actor, "person.update", Some(login), changed).map_err(sql)?;
            Ok(cur.id)
        })?;
        self.person(id)?
            .ok_or_else(|| Error::NotFound(format!("person '{login}'")))
    }

    /// The members (not owners) among `logins` of `group`, in one read inside the transaction;
    /// anyone else is refused by name, so a bulk change never reaches past its class.
    fn members_of(
        &self,
        tx: &Transaction<'_>,
        group: &str,
        logins: &[String],
    ) -> Result<Vec<(String, Current)>> {
        let sql = |e| self.sqlite_err(e);
        let gid: i64 = tx
            .query_row("SELECT id FROM groups WHERE name = ?1", [group], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?
            .ok_or_else(|| Error::NotFound(format!("group '{group}'")))?;
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for login in logins {
            if !seen.insert(login.as_str()) {
                continue;
            }
            let cur = self.current(tx, login)?;
            let member: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM group_members
                                    WHERE group_id = ?1 AND person_id = ?2 AND role = 'member')",
                    params![gid, cur.id],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if !member {
                return Err(Error::Invalid(format!(
                    "'{login}' is not a member of the group '{group}'"
                )));
            }
            out.push((login.clone(), cur));
        }
        if out.is_empty() {
            return Err(Error::Invalid("no member was chosen".into()));
        }
        Ok(out)
    }

    /// Disables (`grace_days` until the purge) or enables the chosen members of `group`, all in
    /// one transaction: if one cannot be changed (say, the last active admin), none is. Returns
    /// how many changed; those already in `status` are left as they are.
    pub fn set_members_status(
        &self,
        actor: &Actor,
        group: &str,
        logins: &[String],
        status: Status,
        grace_days: i64,
    ) -> Result<usize> {
        let now = self.now();
        let purge_at = (status == Status::Disabled).then(|| now + grace_days.max(0) * 86_400);
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let mut changed = 0;
            for (login, cur) in self.members_of(tx, group, logins)? {
                if cur.status == status {
                    continue;
                }
                if status == Status::Disabled
                    && cur.role == Role::Admin
                    && other_active_admins(tx, cur.id).map_err(sql)? == 0
                {
                    return Err(Error::Invalid(format!(
                        "'{login}' is the last active admin and cannot be disabled"
                    )));
                }
                tx.execute(
                    "UPDATE people SET status = ?2, purge_at = ?3, updated_at = ?4 WHERE id = ?1",
                    params![cur.id, status.as_str(), purge_at, now],
                )
                .map_err(sql)?;
                if status == Status::Disabled {
                    tx.execute("DELETE FROM sessions WHERE person_id = ?1", [cur.id])
                        .map_err(sql)?;
                }
                let kind = if status == Status::Disabled {
                    "person.disabled"
                } else {
                    "person.enabled"
                };
                journal::append(
                    tx,
                    now,
                    kind,
                    Some(cur.id),
                    None,
                    json!({"login": login, "purge_at": purge_at}),
                )
                .map_err(sql)?;
                audit::record(
                    tx,
                    now,
                    actor,
                    kind,
                    Some(&login),
                    json!({"purge_at": purge_at, "group": group}),
                )
                .map_err(sql)?;
                changed += 1;
            }
            Ok(changed)
        })
    }

    /// Stores new password hashes for members of `group` in one transaction and ends their
    /// sessions; `hashes` pairs a login with its hashed password (argon2id and NT hash).
    pub fn set_members_passwords(
        &self,
        actor: &Actor,
        group: &str,
        hashes: &[(String, crate::password::Hashed)],
    ) -> Result<()> {
        let now = self.now();
        let logins: Vec<String> = hashes.iter().map(|(l, _)| l.clone()).collect();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            let members = self.members_of(tx, group, &logins)?;
            for ((login, cur), (_, hash)) in members.iter().zip(hashes) {
                tx.execute(
                    "UPDATE people SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3 WHERE id = ?1",
                    params![cur.id, hash.phc, now],
                )
                .map_err(sql)?;
                crate::smb::store_nt_hash(tx, cur.id, &hash.nt, now).map_err(sql)?;
                tx.execute("DELETE FROM sessions WHERE person_id = ?1", [cur.id])
                    .map_err(sql)?;
                journal::append(
                    tx,
                    now,
                    "person.password_changed",
                    Some(cur.id),
                    None,
                    json!({"login": login}),
                )
                .map_err(sql)?;
                audit::record(
                    tx,
                    now,
                    actor,
                    "person.password",
                    Some(login),
                    json!({"group": group}),
                )
                .map_err(sql)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{GroupKind, MemberRole, NewGroup, NewPerson, PersonFilter};
    use crate::login::LoginScheme;
    use crate::store::testing;

    fn actor() -> Actor {
        Actor::person("admin", Some("10.0.0.5".into()))
    }

    fn new(given: &str, family: &str, role: Role) -> NewPerson {
        NewPerson {
            given_name: given.into(),
            family_name: family.into(),
            role: Some(role),
            ..Default::default()
        }
    }

    /// Admin `ada.admin`, class 7a with students `ben.berg` and `cem.celik`, and `dora.dahl`
    /// outside the class.
    fn school() -> (Store, tempfile::TempDir) {
        let (store, _, dir) = testing::store();
        let scheme = LoginScheme::default();
        store
            .batch(&actor(), |b| {
                b.create_group(&NewGroup {
                    name: "7a".into(),
                    display_name: Some("Klasse 7a".into()),
                    kind: GroupKind::Class,
                    external_id: None,
                })?;
                b.create_person(&new("Ada", "Admin", Role::Admin), &scheme)?;
                for (g, f) in [("Ben", "Berg"), ("Cem", "Çelik")] {
                    let (_, login) = b.create_person(&new(g, f, Role::Student), &scheme)?;
                    b.add_member("7a", &login, MemberRole::Member)?;
                }
                b.create_person(&new("Dora", "Dahl", Role::Student), &scheme)?;
                Ok(())
            })
            .unwrap();
        (store, dir)
    }

    fn edit_of(p: &Person) -> PersonEdit {
        PersonEdit {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            display_name: p.display_name.clone(),
            role: p.role,
            mail: p.mail.clone(),
            quota_mb: p.quota_mb,
        }
    }

    fn audit_actions(store: &Store) -> Vec<(String, Option<String>)> {
        let mut all: Vec<_> = store
            .audit_log(None, 1000, 0)
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.target))
            .collect();
        all.reverse();
        all
    }

    #[test]
    fn generated_passwords_are_readable_and_meet_the_policy() {
        for min in [6, 8, 14, 15, 20, 40] {
            let policy = PasswordPolicy { min_length: min };
            let p = generate_password(&policy, "anna.mueller").unwrap();
            assert!(p.chars().count() >= min, "{min}: {p}");
            assert!(!p.contains(['0', 'O', 'o', '1', 'l', 'I']), "{p}");
            assert!(policy.check("anna.mueller", &p).is_ok());
        }
    }

    #[test]
    fn an_edit_changes_what_differs_and_records_it() {
        let (store, _d) = school();
        let ben = store.require_person("ben.berg").unwrap();
        let head = store.journal_head().unwrap();
        let mut e = edit_of(&ben);
        e.given_name = "  Benedikt ".into();
        e.display_name = "".into();
        e.role = Role::Teacher;
        e.mail = Some("B.Berg@Example.org".into());
        e.quota_mb = Some(2048);
        let after = store.update_person(&actor(), "ben.berg", &e).unwrap();
        assert_eq!(after.login, "ben.berg", "the login stays");
        assert_eq!(after.display_name, "Benedikt Berg");
        assert_eq!(after.role, Role::Teacher);
        assert_eq!(after.mail.as_deref(), Some("b.berg@example.org"));
        assert_eq!(after.quota_mb, Some(2048));
        let j = store.journal_since(head, 10).unwrap();
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].kind, "person.updated");
        let changed = &j[0].data["changed"];
        assert_eq!(changed["role"], "teacher");
        assert!(changed.get("family_name").is_none(), "{changed}");
        assert_eq!(
            audit_actions(&store).last().unwrap(),
            &("person.update".into(), Some("ben.berg".into()))
        );

        // the same edit again writes nothing
        let again = store
            .update_person(&actor(), "ben.berg", &edit_of(&after))
            .unwrap();
        assert_eq!(again, after);
        assert_eq!(store.journal_since(head, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_refused_edit_changes_nothing() {
        let (store, _d) = school();
        let ben = store.require_person("ben.berg").unwrap();
        let cem = store.require_person("cem.celik").unwrap();
        let cem = store
            .update_person(
                &actor(),
                "cem.celik",
                &PersonEdit {
                    mail: Some("cem@example.org".into()),
                    ..edit_of(&cem)
                },
            )
            .unwrap();
        let head = store.journal_head().unwrap();
        let cases: Vec<(PersonEdit, &str)> = vec![
            (
                PersonEdit {
                    given_name: " ".into(),
                    ..edit_of(&ben)
                },
                "the given name is empty",
            ),
            (
                PersonEdit {
                    mail: Some("not-a-mail".into()),
                    ..edit_of(&ben)
                },
                "'not-a-mail' is not a mail address",
            ),
            (
                PersonEdit {
                    mail: cem.mail.clone(),
                    ..edit_of(&ben)
                },
                "the mail address 'cem@example.org' already exists",
            ),
            (
                PersonEdit {
                    quota_mb: Some(-1),
                    ..edit_of(&ben)
                },
                "negative",
            ),
        ];
        for (e, want) in cases {
            let err = store.update_person(&actor(), "ben.berg", &e).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        let err = store
            .update_person(&actor(), "nobody", &edit_of(&ben))
            .unwrap_err();
        assert_eq!(err.to_string(), "person 'nobody' not found");
        let ada = store.require_person("ada.admin").unwrap();
        let err = store
            .update_person(
                &actor(),
                "ada.admin",
                &PersonEdit {
                    role: Role::Teacher,
                    ..edit_of(&ada)
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("last active admin"), "{err}");
        assert_eq!(store.require_person("ben.berg").unwrap(), ben);
        assert_eq!(store.require_person("ada.admin").unwrap(), ada);
        assert_eq!(store.journal_head().unwrap(), head);
    }

    #[test]
    fn bulk_status_changes_the_chosen_members_in_one_go() {
        let (store, _d) = school();
        let ben = store.require_person("ben.berg").unwrap();
        store
            .create_session(ben.id, None, None)
            .expect("a session to end");
        let both = vec!["ben.berg".to_string(), "cem.celik".to_string()];
        let n = store
            .set_members_status(&actor(), "7a", &both, Status::Disabled, 30)
            .unwrap();
        assert_eq!(n, 2);
        let ben = store.require_person("ben.berg").unwrap();
        assert_eq!(ben.status, Status::Disabled);
        assert_eq!(ben.purge_at, Some(store.now() + 30 * 86_400));
        assert_eq!(store.count_sessions().unwrap(), 0, "their sessions end");
        // again: nothing to change
        let n = store
            .set_members_status(&actor(), "7a", &both, Status::Disabled, 30)
            .unwrap();
        assert_eq!(n, 0);
        let n = store
            .set_members_status(&actor(), "7a", &both[..1], Status::Active, 30)
            .unwrap();
        assert_eq!(n, 1);
        let ben = store.require_person("ben.berg").unwrap();
        assert_eq!((ben.status, ben.purge_at), (Status::Active, None));
        assert_eq!(
            store.require_person("cem.celik").unwrap().status,
            Status::Disabled
        );
    }

    #[test]
    fn a_refused_bulk_change_changes_nobody() {
        let (store, _d) = school();
        let head = store.journal_head().unwrap();
        let cases: Vec<(&str, Vec<&str>, &str)> = vec![
            (
                "7a",
                vec!["ben.berg", "dora.dahl"],
                "'dora.dahl' is not a member of the group '7a'",
            ),
            (
                "7a",
                vec!["ben.berg", "nobody"],
                "person 'nobody' not found",
            ),
            ("9z", vec!["ben.berg"], "group '9z' not found"),
            ("7a", vec![], "no member was chosen"),
        ];
        for (group, logins, want) in cases {
            let logins: Vec<String> = logins.into_iter().map(String::from).collect();
            let err = store
                .set_members_status(&actor(), group, &logins, Status::Disabled, 30)
                .unwrap_err();
            assert_eq!(err.to_string(), want);
            let hashes: Vec<_> = logins
                .iter()
                .map(|l| {
                    (
                        l.clone(),
                        crate::password::Hashed {
                            phc: "$argon2id$x".into(),
                            nt: "00".into(),
                        },
                    )
                })
                .collect();
            let err = store
                .set_members_passwords(&actor(), group, &hashes)
                .unwrap_err();
            assert_eq!(err.to_string(), want);
        }
        assert_eq!(store.journal_head().unwrap(), head, "nothing was written");
        assert_eq!(
            store.require_person("ben.berg").unwrap().status,
            Status::Active
        );

        // the last active admin stops a bulk disable, and with it the whole batch
        store
            .add_member(&actor(), "7a", "ada.admin", MemberRole::Member)
            .unwrap();
        let head = store.journal_head().unwrap();
        let err = store
            .set_members_status(
                &actor(),
                "7a",
                &["ben.berg".into(), "ada.admin".into()],
                Status::Disabled,
                30,
            )
            .unwrap_err();
        assert!(err.to_string().contains("last active admin"), "{err}");
        assert_eq!(store.journal_head().unwrap(), head);
        assert_eq!(
            store.require_person("ben.berg").unwrap().status,
            Status::Active
        );
    }

    #[test]
    fn bulk_passwords_replace_hashes_and_end_sessions() {
        let (store, _d) = school();
        let cfg = crate::config::Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let ben = store.require_person("ben.berg").unwrap();
        let cem = store.require_person("cem.celik").unwrap();
        store.create_session(ben.id, None, None).unwrap();
        store.create_session(cem.id, None, None).unwrap();
        let dora = store.require_person("dora.dahl").unwrap();
        store.create_session(dora.id, None, None).unwrap();
        let hashes = vec![
            (
                "ben.berg".to_string(),
                crate::password::hash_password_for(cfg, "erste-7").unwrap(),
            ),
            (
                "cem.celik".to_string(),
                crate::password::hash_password_for(cfg, "zweite-8").unwrap(),
            ),
        ];
        store
            .set_members_passwords(&actor(), "7a", &hashes)
            .unwrap();
        let hash_of = |l: &str| store.credentials(l).unwrap().unwrap().1.unwrap();
        assert!(crate::password::verify_password(
            &hash_of("ben.berg"),
            "erste-7"
        ));
        assert!(crate::password::verify_password(
            &hash_of("cem.celik"),
            "zweite-8"
        ));
        let nt: Vec<Option<String>> = store
            .smb_people()
            .unwrap()
            .into_iter()
            .filter(|p| p.login == "ben.berg" || p.login == "cem.celik")
            .map(|p| p.nt_hash)
            .collect();
        assert_eq!(
            nt,
            [
                Some(crate::password::nt_hash("erste-7")),
                Some(crate::password::nt_hash("zweite-8"))
            ],
            "the NT hashes are stored with the argon2id hashes"
        );
        assert_eq!(
            store.count_sessions().unwrap(),
            1,
            "only dora's session is left"
        );
        let actions = audit_actions(&store);
        let n = actions
            .iter()
            .filter(|(a, _)| a == "person.password")
            .count();
        assert_eq!(n, 2);
    }

    /// 5,000 people page by page as the people list shows them: every one exactly once, the
    /// count right on every page, with and without the class and status filters.
    #[test]
    fn five_thousand_people_page_through_completely() {
        let (store, _d) = school();
        let scheme = LoginScheme::default();
        store
            .batch(&actor(), |b| {
                b.create_group(&NewGroup {
                    name: "5c".into(),
                    display_name: None,
                    kind: GroupKind::Class,
                    external_id: None,
                })?;
                for i in 0..5000 {
                    let (_, login) = b.create_person(
                        &new(
                            &format!("Kind{i:04}"),
                            ["Özdemir", "Ziegler", "Adam"][i % 3],
                            Role::Student,
                        ),
                        &scheme,
                    )?;
                    if i % 5 == 0 {
                        b.add_member("5c", &login, MemberRole::Member)?;
                    }
                }
                Ok(())
            })
            .unwrap();
        let page_through = |filter: &PersonFilter| {
            let mut seen = std::collections::BTreeSet::new();
            let mut offset = 0;
            let mut last: Option<(String, String)> = None;
            loop {
                let (people, total) = store.list_people(filter, 50, offset).unwrap();
                if people.is_empty() {
                    return (seen.len(), total);
                }
                assert!(people.len() == 50 || offset + people.len() == total);
                for p in people {
                    let key = (
                        crate::login::ascii_fold(&p.family_name),
                        crate::login::ascii_fold(&p.given_name),
                    );
                    if let Some(l) = &last {
                        assert!(*l <= key, "sorted: {l:?} before {key:?}");
                    }
                    last = Some(key);
                    assert!(seen.insert(p.id), "{} twice", p.login);
                }
                offset += 50;
            }
        };
        assert_eq!(page_through(&PersonFilter::default()), (5004, 5004));
        let class = PersonFilter {
            group: Some("5c".into()),
            ..Default::default()
        };
        assert_eq!(page_through(&class), (1000, 1000));
        let some: Vec<String> = store
            .list_people(&class, 120, 0)
            .unwrap()
            .0
            .into_iter()
            .map(|p| p.login)
            .collect();
        store
            .set_members_status(&actor(), "5c", &some, Status::Disabled, 30)
            .unwrap();
        let disabled = PersonFilter {
            status: Some(Status::Disabled),
            ..Default::default()
        };
        assert_eq!(page_through(&disabled), (120, 120));
        let active_in_class = PersonFilter {
            status: Some(Status::Active),
            ..class
        };
        assert_eq!(page_through(&active_in_class), (880, 880));
    }
}
