//! Who may do what on which path: THE one place that decides access, for WebDAV, the portal's
//! file pages and the Samba configuration alike.
//!
//! [`resolve`] maps a virtual path to its area and the real path on disk and refuses what the
//! actor may not do; [`may`] is the table itself (role × area × operation):
//!
//! | area          | List/Read                 | Write/Delete                                   |
//! |---------------|---------------------------|------------------------------------------------|
//! | `/`, `/groups`| everyone                  | nobody                                         |
//! | `/home`       | the owner                 | the owner                                      |
//! | `/groups/<g>` | members of g (not staff kind) | owners of g; members who are teacher/staff/admin |
//! | `/exchange`   | teacher, staff, admin     | teacher, staff, admin                          |
//!
//! Areas an actor may not even see (another group, the exchange for students) are reported as
//! "not found", never as "forbidden", so their existence is not revealed. Another person's home
//! has no name in the namespace at all: `/home` is always the actor's own. Deleting, renaming or
//! overwriting an area's root itself is forbidden for everyone.

use std::path::PathBuf;

use schola_core::directory::{GroupKind, MemberRole, Role};

use crate::layout::Layout;
use crate::names::{NameError, VPath};

/// The person a request acts for, with the groups they are in.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub groups: Vec<(String, GroupKind, MemberRole)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    List,
    Read,
    /// Create, modify, mkdir, rename into.
    Write,
    /// Remove, rename away.
    Delete,
}

impl Op {
    pub fn verb(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Read => "read",
            Op::Write => "write to",
            Op::Delete => "delete",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    Root,
    GroupsRoot,
    Home,
    Group(String),
    Exchange,
}

/// Whose quota a write counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QuotaOwner {
    Person { id: i64, login: String },
    Group(String),
    Exchange,
}

#[derive(Clone, Debug)]
pub struct Target {
    pub area: Area,
    /// Absolute path on disk.
    pub real: PathBuf,
    /// Segments below the area root.
    pub rel: Vec<String>,
    /// `None` for Root and GroupsRoot.
    pub quota: Option<QuotaOwner>,
}

impl Target {
    /// The virtual path, for messages ("/home/Referat.docx").
    pub fn display(&self) -> String {
        let mut s = match &self.area {
            Area::Root => String::new(),
            Area::GroupsRoot => "/groups".into(),
            Area::Home => "/home".into(),
            Area::Group(g) => format!("/groups/{g}"),
            Area::Exchange => "/exchange".into(),
        };
        for r in &self.rel {
            s.push('/');
            s.push_str(r);
        }
        if s.is_empty() { "/".into() } else { s }
    }

    /// The area's root directory on disk (`real` without `rel`).
    pub fn area_root(&self) -> PathBuf {
        let mut p = self.real.clone();
        for _ in &self.rel {
            p.pop();
        }
        p
    }

    /// The virtual path as a [`VPath`].
    pub fn vpath(&self) -> VPath {
        let mut v: Vec<String> = match &self.area {
            Area::Root => vec![],
            Area::GroupsRoot => vec!["groups".into()],
            Area::Home => vec!["home".into()],
            Area::Group(g) => vec!["groups".into(), g.clone()],
            Area::Exchange => vec!["exchange".into()],
        };
        v.extend(self.rel.iter().cloned());
        VPath(v)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Denied {
    #[error("{0}")]
    BadName(#[from] NameError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("you may not {op} {path}")]
    Forbidden { op: &'static str, path: String },
}

fn staff_role(role: Role) -> bool {
    matches!(role, Role::Teacher | Role::Staff | Role::Admin)
}

/// The groups whose share an actor sees under `/groups` (class, course, custom; not staff).
pub fn share_groups(actor: &Actor) -> impl Iterator<Item = &(String, GroupKind, MemberRole)> {
    actor
        .groups
        .iter()
        .filter(|(_, k, _)| *k != GroupKind::Staff)
}

/// Whether the actor sees an area at all (else it is "not found").
pub fn visible(actor: &Actor, area: &Area) -> bool {
    match area {
        Area::Root | Area::GroupsRoot | Area::Home => true,
        Area::Group(g) => share_groups(actor).any(|(n, _, _)| n == g),
        Area::Exchange => staff_role(actor.role),
    }
}

/// The table: may `actor` do `op` somewhere in `area`?
pub fn may(actor: &Actor, area: &Area, op: Op) -> bool {
    let read = matches!(op, Op::List | Op::Read);
    match area {
        Area::Root | Area::GroupsRoot => read,
        Area::Home => true,
        Area::Group(g) => match share_groups(actor).find(|(n, _, _)| n == g) {
            None => false,
            Some((_, _, member_role)) => {
                read || *member_role == MemberRole::Owner || staff_role(actor.role)
            }
        },
        Area::Exchange => staff_role(actor.role),
    }
}

/// The entries of the virtual directories `/` and `/groups` for this actor.
pub fn virtual_entries(actor: &Actor, area: &Area) -> Vec<String> {
    match area {
        Area::Root => {
            let mut v = vec!["home".to_string()];
            if share_groups(actor).next().is_some() {
                v.push("groups".into());
            }
            if visible(actor, &Area::Exchange) {
                v.push("exchange".into());
            }
            v
        }
        Area::GroupsRoot => {
            let mut v: Vec<String> = share_groups(actor).map(|(n, _, _)| n.clone()).collect();
            v.sort();
            v.dedup();
            v
        }
        _ => Vec::new(),
    }
}

/// Maps `path` to its area and real path and checks that `actor` may do `op` there.
pub fn resolve(layout: &Layout, actor: &Actor, path: &VPath, op: Op) -> Result<Target, Denied> {
    let segs = &path.0;
    let (area, base, rel, quota) = match segs.first().map(String::as_str) {
        None => (Area::Root, layout.root.clone(), &segs[0..0], None),
        Some("home") => (
            Area::Home,
            layout.home(&actor.login),
            &segs[1..],
            Some(QuotaOwner::Person {
                id: actor.id,
                login: actor.login.clone(),
            }),
        ),
        Some("groups") if segs.len() == 1 => (Area::GroupsRoot, layout.groups(), &segs[1..], None),
        Some("groups") => {
            let g = segs[1].clone();
            (
                Area::Group(g.clone()),
                layout.group(&g),
                &segs[2..],
                Some(QuotaOwner::Group(g)),
            )
        }
        Some("exchange") => (
            Area::Exchange,
            layout.exchange(),
            &segs[1..],
            Some(QuotaOwner::Exchange),
        ),
        Some(_) => return Err(Denied::NotFound(path.to_string())),
    };
    if !visible(actor, &area) {
        return Err(Denied::NotFound(path.to_string()));
    }
    let forbidden = || Denied::Forbidden {
        op: op.verb(),
        path: path.to_string(),
    };
    if !may(actor, &area, op) {
        return Err(forbidden());
    }
    if rel.is_empty() && matches!(op, Op::Write | Op::Delete) {
        return Err(forbidden());
    }
    let mut real = base;
    for r in rel {
        real.push(r);
    }
    Ok(Target {
        area,
        real,
        rel: rel.to_vec(),
        quota,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn actor(role: Role, groups: &[(&str, GroupKind, MemberRole)]) -> Actor {
        Actor {
            id: 7,
            login: "x.y".into(),
            role,
            groups: groups
                .iter()
                .map(|(n, k, m)| (n.to_string(), *k, *m))
                .collect(),
        }
    }

    const OPS: [Op; 4] = [Op::List, Op::Read, Op::Write, Op::Delete];

    /// Every role × membership × area × op, against the table written out by hand.
    #[test]
    fn the_table_exhaustively() {
        use GroupKind::*;
        use MemberRole::*;
        for role in Role::ALL.iter().copied() {
            let staffish = role != Role::Student;
            for membership in [None, Some(Member), Some(Owner)] {
                for kind in [Class, Course, Custom, Staff] {
                    let groups: Vec<_> = membership.iter().map(|m| ("g", kind, *m)).collect();
                    let a = actor(role, &groups);
                    for op in OPS {
                        let read = matches!(op, Op::List | Op::Read);
                        assert_eq!(may(&a, &Area::Root, op), read);
                        assert_eq!(may(&a, &Area::GroupsRoot, op), read);
                        assert!(may(&a, &Area::Home, op));
                        assert_eq!(may(&a, &Area::Exchange, op), staffish, "{role} {op:?}");
                        let in_share = membership.is_some() && kind != Staff;
                        let want = in_share && (read || membership == Some(Owner) || staffish);
                        assert_eq!(
                            may(&a, &Area::Group("g".into()), op),
                            want,
                            "{role} {membership:?} {kind} {op:?}"
                        );
                        assert!(!may(&a, &Area::Group("other".into()), op));
                    }
                }
            }
        }
    }

    #[test]
    fn resolve_maps_paths_and_hides_what_is_not_yours() {
        let l = Layout::new("/srv/s");
        let s = actor(
            Role::Student,
            &[("4b", GroupKind::Class, MemberRole::Member)],
        );
        let t = resolve(&l, &s, &VPath::parse("/home/a/b.txt").unwrap(), Op::Write).unwrap();
        assert_eq!(t.real, PathBuf::from("/srv/s/home/x.y/a/b.txt"));
        assert_eq!(t.display(), "/home/a/b.txt");
        assert_eq!(t.area_root(), PathBuf::from("/srv/s/home/x.y"));
        let t = resolve(&l, &s, &VPath::parse("/groups/4b/x").unwrap(), Op::Read).unwrap();
        assert_eq!(t.real, PathBuf::from("/srv/s/groups/4b/x"));
        assert_eq!(t.quota, Some(QuotaOwner::Group("4b".into())));
        for (p, op) in [
            ("/exchange", Op::List),
            ("/groups/5a", Op::List),
            ("/etc/passwd", Op::Read),
        ] {
            match resolve(&l, &s, &VPath::parse(p).unwrap(), op) {
                Err(Denied::NotFound(_)) => {}
                other => panic!("{p}: {other:?}"),
            }
        }
        for (p, op) in [
            ("/groups/4b/x", Op::Write),
            ("/groups/4b/x", Op::Delete),
            ("/home", Op::Delete),
            ("/", Op::Write),
            ("/groups", Op::Write),
        ] {
            match resolve(&l, &s, &VPath::parse(p).unwrap(), op) {
                Err(Denied::Forbidden { .. }) => {}
                other => panic!("{p}: {other:?}"),
            }
        }
        let t = actor(
            Role::Teacher,
            &[("4b", GroupKind::Class, MemberRole::Member)],
        );
        assert!(resolve(&l, &t, &VPath::parse("/groups/4b").unwrap(), Op::Delete).is_err());
        assert!(resolve(&l, &t, &VPath::parse("/groups/4b/x").unwrap(), Op::Delete).is_ok());
        assert!(resolve(&l, &t, &VPath::parse("/exchange/x").unwrap(), Op::Write).is_ok());
        assert_eq!(
            virtual_entries(&t, &Area::Root),
            ["home", "groups", "exchange"]
        );
        assert_eq!(virtual_entries(&s, &Area::Root), ["home", "groups"]);
    }
}
