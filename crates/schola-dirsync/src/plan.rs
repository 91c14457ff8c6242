//! The diff: what an import would change, computed whole before anything is written.
//!
//! [`plan`] compares a [`Roster`] with a [`Snapshot`] of the directory. People are matched by the
//! source's stable id only (never by name), so a rename keeps the account, its files and mail,
//! and a class move is a move, not a leaver plus a newcomer. The result lists every change by
//! kind: create, update (rename, role), move (classes), disable (left the school), re-enable
//! (came back), purge (disabled longer than the grace period), plus the source's rejected rows
//! and repairs. A [`Plan`] is plain data: it is stored with the import, shown in the CLI and the
//! admin UI, and compared again right before it is applied.
//!
//! [`promotion`] makes the school-year changeover's plan without a new export: every class
//! moves up a grade (`5a` → `6a`) and the last grade leaves.

use std::collections::{BTreeMap, HashMap, HashSet};

use schola_core::directory::{Role, Status};
use schola_core::imports::{ImportedFields, ImportedPerson, Snapshot, Source};
use schola_core::login::{self, LoginScheme};
use serde::{Deserialize, Serialize};

use crate::roster::{Rejected, Roster, Warning};

/// A person the import creates, with the login it will get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Create {
    pub line: Option<u64>,
    pub login: String,
    pub fields: ImportedFields,
    pub classes: Vec<String>,
    pub mail: Option<String>,
}

/// One field that changes, as the diff shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// A person whose names or role change (a rename keeps the login: it is the account's name in
/// mail and files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub line: Option<u64>,
    pub person_id: i64,
    pub login: String,
    pub changes: Vec<FieldChange>,
    pub fields: ImportedFields,
}

/// A person whose classes change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub line: Option<u64>,
    pub person_id: i64,
    pub login: String,
    pub name: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

/// A person the change disables, re-enables or purges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub line: Option<u64>,
    pub person_id: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub classes: Vec<String>,
}

/// How many members of a class went to which class: the changeover at a glance (`5a → 6a: 27`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassFlow {
    pub from: String,
    pub to: String,
    pub people: usize,
}

/// The whole change an import would make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub source: Source,
    pub origin: String,
    pub profile: String,
    pub encoding: Option<String>,
    pub delimiter: Option<char>,
    /// The roles the source is complete for; see [`Roster::roles`].
    pub roles: Vec<Role>,
    pub create: Vec<Create>,
    pub update: Vec<Update>,
    pub moves: Vec<Move>,
    pub disable: Vec<Affected>,
    pub enable: Vec<Affected>,
    pub purge: Vec<Affected>,
    /// Classes that do not exist yet and are made.
    pub new_classes: Vec<String>,
    pub class_flows: Vec<ClassFlow>,
    /// People the source lists whom nothing changes for.
    pub unchanged: usize,
    pub rejected: Vec<Rejected>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// A plan that changes nothing yet.
    fn empty(source: Source, origin: String, profile: String) -> Plan {
        Plan {
            source,
            origin,
            profile,
            encoding: None,
            delimiter: None,
            roles: Vec::new(),
            create: Vec::new(),
            update: Vec::new(),
            moves: Vec::new(),
            disable: Vec::new(),
            enable: Vec::new(),
            purge: Vec::new(),
            new_classes: Vec::new(),
            class_flows: Vec::new(),
            unchanged: 0,
            rejected: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.update.is_empty()
            && self.moves.is_empty()
            && self.disable.is_empty()
            && self.enable.is_empty()
            && self.purge.is_empty()
    }

    /// Counts by kind, for lists and the audit log.
    pub fn summary(&self) -> Summary {
        Summary {
            create: self.create.len(),
            update: self.update.len(),
            moves: self.moves.len(),
            disable: self.disable.len(),
            enable: self.enable.len(),
            purge: self.purge.len(),
            new_classes: self.new_classes.len(),
            unchanged: self.unchanged,
            rejected: self.rejected.len(),
            warnings: self.warnings.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub moves: usize,
    pub disable: usize,
    pub enable: usize,
    pub purge: usize,
    pub new_classes: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub warnings: usize,
}

/// What the diff needs besides the roster and the directory.
#[derive(Debug, Clone)]
pub struct PlanOptions<'a> {
    pub scheme: &'a LoginScheme,
    /// The store's clock now, for purges that are due.
    pub now: i64,
}

/// A full import that would disable more than this share of the source's people is probably the
/// wrong file (last year's, or teachers imported as students); the plan says so loudly.
const MASS_LEAVE_SHARE: f64 = 0.3;

/// Compares `roster` with the directory and returns the whole change.
pub fn plan(roster: &Roster, snap: &Snapshot, opts: &PlanOptions<'_>) -> Plan {
    let mut out = Plan {
        encoding: roster.encoding.clone(),
        delimiter: roster.delimiter,
        roles: roster.roles.clone(),
        rejected: roster.rejected.clone(),
        warnings: roster.warnings.clone(),
        ..Plan::empty(roster.source, roster.origin.clone(), roster.profile.clone())
    };
    let by_id: HashMap<&str, &ImportedPerson> = snap
        .people
        .iter()
        .filter_map(|p| p.external_id.as_deref().map(|id| (id, p)))
        .collect();
    // The roster's own classes decide memberships only when the source has classes at all (a
    // teachers list without a class column leaves the teachers' classes alone).
    let source_has_classes = roster.people.iter().any(|p| !p.classes.is_empty());
    let mut taken: HashSet<String> = snap.taken_logins.clone();
    let mut seen_ids: HashSet<&str> = HashSet::new();
    let mut flows: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut new_classes: BTreeMap<String, ()> = BTreeMap::new();

    for sp in &roster.people {
        seen_ids.insert(sp.external_id.as_str());
        let fields = ImportedFields {
            given_name: sp.given_name.clone(),
            family_name: sp.family_name.clone(),
            role: sp.role,
            external_id: sp.external_id.clone(),
            source: roster.source,
            upstream_dn: sp.upstream_dn.clone(),
        };
        if let Some(c) = sp
            .classes
            .iter()
            .find(|c| !snap.classes.contains(*c) && snap.groups.contains(*c))
        {
            out.rejected.push(Rejected {
                line: sp.line,
                at: format!("{} {}", sp.given_name, sp.family_name),
                reason: format!(
                    "the class '{c}' has the name of an existing group that is not a class"
                ),
                external_id: Some(sp.external_id.clone()),
            });
            continue;
        }
        for c in &sp.classes {
            if !snap.classes.contains(c) {
                new_classes.insert(c.clone(), ());
            }
        }
        match by_id.get(sp.external_id.as_str()) {
            None => {
                let login = match choose_login(sp, opts.scheme, &taken) {
                    Ok((login, warning)) => {
                        if let Some(w) = warning {
                            out.warnings.push(Warning {
                                line: sp.line,
                                message: w,
                            });
                        }
                        login
                    }
                    Err(reason) => {
                        out.rejected.push(Rejected {
                            line: sp.line,
                            at: format!("{} {}", sp.given_name, sp.family_name),
                            reason,
                            external_id: Some(sp.external_id.clone()),
                        });
                        continue;
                    }
                };
                taken.insert(login.clone());
                out.create.push(Create {
                    line: sp.line,
                    login,
                    fields,
                    classes: sp.classes.clone(),
                    mail: sp.mail.clone(),
                });
            }
            Some(cur) => {
                let mut touched = false;
                // An admin keeps their role whatever an export says.
                let fields = ImportedFields {
                    role: if cur.role == Role::Admin {
                        Role::Admin
                    } else {
                        fields.role
                    },
                    ..fields
                };
                let changes = field_changes(cur, &fields);
                if !changes.is_empty() {
                    touched = true;
                    out.update.push(Update {
                        line: sp.line,
                        person_id: cur.id,
                        login: cur.login.clone(),
                        changes,
                        fields,
                    });
                }
                if cur.status == Status::Disabled {
                    touched = true;
                    out.enable.push(affected(cur, sp.line));
                }
                if source_has_classes && cur.classes != sp.classes {
                    touched = true;
                    if cur.classes.len() == 1 && sp.classes.len() == 1 {
                        *flows
                            .entry((cur.classes[0].clone(), sp.classes[0].clone()))
                            .or_default() += 1;
                    }
                    out.moves.push(Move {
                        line: sp.line,
                        person_id: cur.id,
                        login: cur.login.clone(),
                        name: format!("{} {}", sp.given_name, sp.family_name),
                        from: cur.classes.clone(),
                        to: sp.classes.clone(),
                    });
                }
                if !touched {
                    out.unchanged += 1;
                }
            }
        }
    }

    // Leavers: people of this source and of the roles it is complete for whom it no longer
    // lists. They are disabled, not deleted; rows rejected this time do not count as leavers.
    let rejected_ids: HashSet<&str> = roster
        .rejected
        .iter()
        .filter_map(|r| r.external_id.as_deref())
        .collect();
    let mut of_source = 0usize;
    for p in &snap.people {
        if p.source != Some(roster.source) || !roster.roles.contains(&p.role) {
            continue;
        }
        of_source += 1;
        let Some(id) = p.external_id.as_deref() else {
            continue;
        };
        if p.status == Status::Active && !seen_ids.contains(id) && !rejected_ids.contains(id) {
            out.disable.push(affected(p, None));
        }
        if p.status == Status::Disabled
            && !seen_ids.contains(id)
            && p.purge_at.is_some_and(|t| t <= opts.now)
        {
            out.purge.push(affected(p, None));
        }
    }
    if of_source >= 4 && out.disable.len() as f64 > MASS_LEAVE_SHARE * of_source as f64 {
        out.warnings.insert(
            0,
            Warning {
                line: None,
                message: format!(
                    "{} of {} people from this source would be disabled as leavers: is this the right file?",
                    out.disable.len(),
                    of_source
                ),
            },
        );
    }
    out.new_classes = new_classes.into_keys().collect();
    out.class_flows = flows
        .into_iter()
        .map(|((from, to), people)| ClassFlow { from, to, people })
        .collect();
    out.rejected.sort_by_key(|r| r.line);
    out.warnings.sort_by_key(|w| w.line);
    out.disable.sort_by(|a, b| a.login.cmp(&b.login));
    out.purge.sort_by(|a, b| a.login.cmp(&b.login));
    out
}

fn affected(p: &ImportedPerson, line: Option<u64>) -> Affected {
    Affected {
        line,
        person_id: p.id,
        login: p.login.clone(),
        name: format!("{} {}", p.given_name, p.family_name),
        role: p.role,
        classes: p.classes.clone(),
    }
}

fn field_changes(cur: &ImportedPerson, new: &ImportedFields) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut note = |field: &str, from: &str, to: &str| {
        if from != to {
            out.push(FieldChange {
                field: field.to_string(),
                from: from.to_string(),
                to: to.to_string(),
            });
        }
    };
    note("given_name", &cur.given_name, &new.given_name);
    note("family_name", &cur.family_name, &new.family_name);
    note("role", cur.role.as_str(), new.role.as_str());
    note(
        "source",
        cur.source.map(Source::as_str).unwrap_or("by hand"),
        new.source.as_str(),
    );
    if new.source == Source::Ldap {
        note(
            "upstream_dn",
            cur.upstream_dn.as_deref().unwrap_or(""),
            new.upstream_dn.as_deref().unwrap_or(""),
        );
    }
    out
}

/// The login for a new person: the one the source asks for when it is free, else one made from
/// the names with the school's scheme and a counter on a clash (anna.mueller, anna.mueller2).
fn choose_login(
    sp: &crate::roster::SourcePerson,
    scheme: &LoginScheme,
    taken: &HashSet<String>,
) -> Result<(String, Option<String>), String> {
    let mut warning = None;
    if let Some(l) = &sp.login {
        if login::validate_login(l).is_ok() && !taken.contains(l) {
            return Ok((l.clone(), None));
        }
        warning = Some(format!(
            "the login '{l}' from the source is taken or not allowed; a new one is made from the name"
        ));
    }
    let base = scheme
        .base_login(&sp.given_name, &sp.family_name)
        .ok_or_else(|| {
            format!(
                "no login can be made from the name '{} {}'",
                sp.given_name, sp.family_name
            )
        })?;
    let mut n = 1;
    loop {
        let candidate = login::with_counter(&base, n);
        if !taken.contains(&candidate) {
            return Ok((candidate, warning));
        }
        n += 1;
    }
}

/// The school-year changeover without a new export: each student in a class whose name starts
/// with a grade (`5a`, `10b`) moves to the next grade's class of the same letter; the classes of
/// `last_grade` leave (disabled, purged after the grace period). Classes without a grade in
/// their name (`q1`, `daz`) stay and are listed as warnings.
pub fn promotion(snap: &Snapshot, last_grade: u32) -> Plan {
    let mut out = Plan::empty(
        Source::Csv,
        format!("school-year changeover (last grade {last_grade})"),
        "promote".into(),
    );
    let mut flows: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut new_classes: BTreeMap<String, ()> = BTreeMap::new();
    let mut ungraded: BTreeMap<String, usize> = BTreeMap::new();
    for p in &snap.people {
        if p.role != Role::Student || p.status != Status::Active || p.classes.is_empty() {
            continue;
        }
        let mut to = Vec::new();
        let mut leaves = false;
        for c in &p.classes {
            match split_grade(c) {
                Some((g, _)) if g >= last_grade => leaves = true,
                Some((g, rest)) => {
                    let next = format!("{}{rest}", g + 1);
                    if !snap.classes.contains(&next) {
                        new_classes.insert(next.clone(), ());
                    }
                    *flows.entry((c.clone(), next.clone())).or_default() += 1;
                    to.push(next);
                }
                None => {
                    *ungraded.entry(c.clone()).or_default() += 1;
                    to.push(c.clone());
                }
            }
        }
        if leaves {
            out.disable.push(affected(p, None));
            continue;
        }
        to.sort();
        to.dedup();
        if to != p.classes {
            out.moves.push(Move {
                line: None,
                person_id: p.id,
                login: p.login.clone(),
                name: format!("{} {}", p.given_name, p.family_name),
                from: p.classes.clone(),
                to,
            });
        } else {
            out.unchanged += 1;
        }
    }
    for (class, n) in ungraded {
        out.warnings.push(Warning {
            line: None,
            message: format!(
                "the class '{class}' has no grade in its name; its {n} students stay in it"
            ),
        });
    }
    out.new_classes = new_classes.into_keys().collect();
    out.class_flows = flows
        .into_iter()
        .map(|((from, to), people)| ClassFlow { from, to, people })
        .collect();
    out.disable.sort_by(|a, b| a.login.cmp(&b.login));
    out
}

/// `10b` → (10, "b"); `q1` → None.
fn split_grade(class: &str) -> Option<(u32, &str)> {
    let digits = class.len() - class.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let grade = class[..digits].parse().ok()?;
    Some((grade, &class[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_split_from_class_names() {
        assert_eq!(split_grade("5a"), Some((5, "a")));
        assert_eq!(split_grade("10b"), Some((10, "b")));
        assert_eq!(split_grade("7"), Some((7, "")));
        assert_eq!(split_grade("q1"), None);
    }
}
