//! The address book: every address the school's mail server accepts and where it leads, built
//! from one snapshot of the directory ([`MailDirectory`]) and swapped whole when the change
//! journal moves. Every lookup Postfix and Dovecot make is answered from it without touching
//! the database.
//!
//! - a person's address reaches their mailbox; the addresses they had before and
//!   `login@domain` are aliases of it;
//! - each group is a list at `name@domain` that expands to its active members (owners
//!   included); a person's address wins over a list of the same name.

use std::collections::{HashMap, HashSet};

use schola_core::directory::{MemberRole, Role, Status};
use schola_core::mail::MailDirectory;

/// A person's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub id: i64,
    pub login: String,
    pub address: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<i64>,
}

impl Mailbox {
    /// Teachers, staff and admins.
    pub fn is_staff(&self) -> bool {
        self.role != Role::Student
    }
}

/// A class or group list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub name: String,
    pub address: String,
    /// Indexes into [`Book::mailboxes`] of the active members and owners.
    pub members: Vec<usize>,
}

/// Where an address leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The mailbox's own address.
    Mailbox(usize),
    /// Another address of that mailbox (an old one, or `login@domain`).
    Alias(usize),
    List(usize),
}

#[derive(Debug, Default)]
pub struct Book {
    /// The domains mail is accepted for, lower case; the first is the school's own.
    pub domains: Vec<String>,
    pub mailboxes: Vec<Mailbox>,
    pub lists: Vec<List>,
    routes: HashMap<String, Route>,
    by_login: HashMap<String, usize>,
    /// The journal head this book was built at.
    pub journal_seq: i64,
}

impl Book {
    pub fn build(dir: &MailDirectory, extra_domains: &[String]) -> Book {
        let mut domains: Vec<String> = Vec::new();
        for d in std::iter::once(&dir.domain).chain(extra_domains) {
            let d = d.trim().to_ascii_lowercase();
            if !d.is_empty() && !domains.contains(&d) {
                domains.push(d);
            }
        }
        let mut book = Book {
            domains,
            journal_seq: dir.journal_seq,
            ..Book::default()
        };
        let mut by_id = HashMap::new();
        for p in &dir.people {
            let i = book.mailboxes.len();
            book.mailboxes.push(Mailbox {
                id: p.id,
                login: p.login.clone(),
                address: p.address.clone(),
                role: p.role,
                active: p.status == Status::Active,
                password_hash: p.password_hash.clone(),
                password_changed_at: p.password_changed_at,
            });
            by_id.insert(p.id, i);
            book.by_login.insert(p.login.to_ascii_lowercase(), i);
            book.routes.insert(p.address.clone(), Route::Mailbox(i));
        }
        // aliases never displace an address someone has now
        let school = book.domains.first().cloned();
        for (i, m) in book.mailboxes.iter().enumerate() {
            if let Some(d) = &school {
                book.routes
                    .entry(format!("{}@{d}", m.login.to_ascii_lowercase()))
                    .or_insert(Route::Alias(i));
            }
        }
        for (address, id) in &dir.old_addresses {
            if let Some(&i) = by_id.get(id) {
                book.routes
                    .entry(address.clone())
                    .or_insert(Route::Alias(i));
            }
        }
        if let Some(d) = &school {
            for g in &dir.groups {
                let address = format!("{}@{d}", g.name.to_ascii_lowercase());
                if book.routes.contains_key(&address) || !is_local_part(&g.name) {
                    log::warn!(
                        "the group '{}' has no list address: {address} belongs to someone else or is not a mail address",
                        g.name
                    );
                    continue;
                }
                let mut seen = HashSet::new();
                let members = g
                    .members
                    .iter()
                    .filter(|(_, role)| matches!(role, MemberRole::Member | MemberRole::Owner))
                    .filter_map(|(id, _)| by_id.get(id).copied())
                    .filter(|&i| book.mailboxes[i].active && seen.insert(i))
                    .collect();
                let l = book.lists.len();
                book.lists.push(List {
                    name: g.name.clone(),
                    address: address.clone(),
                    members,
                });
                book.routes.insert(address, Route::List(l));
            }
        }
        // RFC 5321 wants postmaster@ to reach someone: the first admin, unless it is taken
        if let (Some(d), Some(i)) = (
            &school,
            book.mailboxes
                .iter()
                .position(|m| m.role == Role::Admin && m.active),
        ) {
            book.routes
                .entry(format!("postmaster@{d}"))
                .or_insert(Route::Alias(i));
        }
        book
    }

    /// Where `address` leads (case does not matter).
    pub fn route(&self, address: &str) -> Option<Route> {
        if address.bytes().any(|b| b.is_ascii_uppercase()) {
            self.routes.get(&address.to_ascii_lowercase()).copied()
        } else {
            self.routes.get(address).copied()
        }
    }

    pub fn is_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// The mailbox of a login, or of an address that leads to a mailbox (what a person types as
    /// their user name in a mail client).
    pub fn account(&self, user: &str) -> Option<&Mailbox> {
        if let Some(&i) = self.by_login.get(&user.to_ascii_lowercase()) {
            return Some(&self.mailboxes[i]);
        }
        match self.route(user)? {
            Route::Mailbox(i) | Route::Alias(i) => Some(&self.mailboxes[i]),
            Route::List(_) => None,
        }
    }

    /// The list an address names, if it is one.
    pub fn list(&self, address: &str) -> Option<&List> {
        match self.route(address)? {
            Route::List(l) => Some(&self.lists[l]),
            _ => None,
        }
    }

    /// Logins whose sign-in state (active, password) differs between two books: a cached
    /// sign-in of theirs must be dropped.
    pub fn changed_accounts<'a>(&'a self, before: &'a Book) -> Vec<&'a str> {
        let mut out = Vec::new();
        for (login, &i) in &before.by_login {
            let old = &before.mailboxes[i];
            let now = self.by_login.get(login).map(|&j| &self.mailboxes[j]);
            let same = now.is_some_and(|m| {
                m.active == old.active && m.password_changed_at == old.password_changed_at
            });
            if !same {
                out.push(old.login.as_str());
            }
        }
        out.sort_unstable();
        out
    }
}

/// A group name usable as the local part of an address (dot-atom text, RFC 5322).
fn is_local_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use schola_core::directory::GroupKind;
    use schola_core::mail::{MailGroup, MailPerson};

    pub(crate) fn person(id: i64, login: &str, role: Role) -> MailPerson {
        MailPerson {
            id,
            login: login.into(),
            address: format!("{login}@s.test"),
            role,
            status: Status::Active,
            password_hash: Some(format!("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ${login}")),
            password_changed_at: Some(1),
        }
    }

    /// anna and ben (students in 5a), carla (teacher, owner of 5a, member of lehrer), dora
    /// (disabled student in 5a), with ben's old address ben.old@s.test.
    pub(crate) fn school() -> MailDirectory {
        let mut dora = person(4, "dora", Role::Student);
        dora.status = Status::Disabled;
        MailDirectory {
            domain: "s.test".into(),
            people: vec![
                person(1, "anna", Role::Student),
                MailPerson {
                    address: "ben.berg@s.test".into(),
                    ..person(2, "ben", Role::Student)
                },
                person(3, "carla", Role::Teacher),
                dora,
            ],
            old_addresses: vec![("ben.old@s.test".into(), 2)],
            groups: vec![
                MailGroup {
                    name: "5a".into(),
                    kind: GroupKind::Class,
                    members: vec![
                        (1, MemberRole::Member),
                        (2, MemberRole::Member),
                        (3, MemberRole::Owner),
                        (4, MemberRole::Member),
                    ],
                },
                MailGroup {
                    name: "lehrer".into(),
                    kind: GroupKind::Staff,
                    members: vec![(3, MemberRole::Member)],
                },
                MailGroup {
                    // a list named like a person's address stays a person's address
                    name: "anna".into(),
                    kind: GroupKind::Custom,
                    members: vec![(3, MemberRole::Member)],
                },
            ],
            journal_seq: 7,
        }
    }

    #[test]
    fn addresses_lead_to_mailboxes_aliases_and_lists() {
        let b = Book::build(&school(), &["Other.test".into()]);
        assert_eq!(b.domains, vec!["s.test", "other.test"]);
        assert_eq!(b.route("anna@s.test"), Some(Route::Mailbox(0)));
        assert_eq!(b.route("ANNA@S.TEST"), Some(Route::Mailbox(0)));
        assert_eq!(b.route("ben.berg@s.test"), Some(Route::Mailbox(1)));
        assert_eq!(b.route("ben@s.test"), Some(Route::Alias(1)), "login@domain");
        assert_eq!(
            b.route("ben.old@s.test"),
            Some(Route::Alias(1)),
            "old address"
        );
        assert_eq!(b.route("nobody@s.test"), None);
        let five_a = b.list("5a@s.test").unwrap();
        let members: Vec<&str> = five_a
            .members
            .iter()
            .map(|&i| b.mailboxes[i].login.as_str())
            .collect();
        assert_eq!(members, vec!["anna", "ben", "carla"], "dora is disabled");
        assert!(b.list("anna@s.test").is_none());
        assert_eq!(b.account("ben.berg@s.test").unwrap().login, "ben");
        assert_eq!(b.account("BEN").unwrap().login, "ben");
        assert!(b.account("5a@s.test").is_none());
        assert_eq!(
            b.route("postmaster@s.test"),
            None,
            "no admin in this school"
        );
        let mut dir = school();
        dir.people.push(person(9, "admin", Role::Admin));
        let b = Book::build(&dir, &[]);
        assert_eq!(b.route("postmaster@s.test"), Some(Route::Alias(4)));
    }

    #[test]
    fn changed_accounts_are_those_disabled_or_with_a_new_password() {
        let before = Book::build(&school(), &[]);
        let mut dir = school();
        dir.people[0].status = Status::Disabled;
        dir.people[1].password_changed_at = Some(2);
        dir.people.remove(2);
        let after = Book::build(&dir, &[]);
        assert_eq!(
            after.changed_accounts(&before),
            vec!["anna", "ben", "carla"]
        );
        assert!(before.changed_accounts(&before).is_empty());
    }
}
