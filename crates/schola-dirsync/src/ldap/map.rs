//! From directory entries to a [`Roster`]: the pure half of the sync, without a server.
//!
//! The connection half ([`super::conn`]) hands over what the searches found: the people (the
//! user filter), the DNs that the teacher and staff filters matched, and the groups. Everything
//! here is deterministic and tested without slapd.

use std::collections::{BTreeSet, HashMap, HashSet};

use regex::Regex;
use schola_core::config::Ldap;
use schola_core::directory::Role;
use schola_core::imports::Source;

use crate::roster::{self, Rejected, Roster, SourcePerson, Warning};

/// One entry as a search returned it: attribute names lower-cased (LDAP attribute names are
/// case-insensitive, and servers answer with their own spelling), every value as bytes
/// (ldap3 splits values into text and binary; an `objectGUID` can land on either side).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    pub fn from_search(e: ldap3::SearchEntry) -> Entry {
        let mut attrs: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for (name, values) in e.attrs {
            attrs
                .entry(name.to_ascii_lowercase())
                .or_default()
                .extend(values.into_iter().map(String::into_bytes));
        }
        for (name, values) in e.bin_attrs {
            attrs
                .entry(name.to_ascii_lowercase())
                .or_default()
                .extend(values);
        }
        Entry { dn: e.dn, attrs }
    }

    /// The values of an attribute, by a case-insensitive name.
    pub fn values(&self, attr: &str) -> &[Vec<u8>] {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The first value as text (`Err` when it is not UTF-8), `None` when the attribute is absent.
    fn first_text(&self, attr: &str) -> Option<Result<&str, ()>> {
        self.values(attr)
            .first()
            .map(|v| std::str::from_utf8(v).map_err(|_| ()))
    }
}

/// What the searches of one fetch found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub people: Vec<Entry>,
    /// DNs matched by `(&(user_filter)(teacher_filter))`, normalised with [`normalize_dn`].
    pub teachers: HashSet<String>,
    pub staff: HashSet<String>,
    pub groups: Vec<Entry>,
}

/// An AD `objectGUID` (16 bytes, the first three fields little-endian) as the canonical GUID
/// string AD's own tools show, lower-case and without braces:
/// `3f2504e0-4f89-41d3-9a0c-0305e82c3301`.
pub fn guid_string(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// A DN in the form two DNs of the same entry share however they were written: lower-case,
/// no spaces around `=`, `,` and `+` (an escaped character such as `\,` or a trailing `\ `
/// stays as it is). `CN=Anna Schmidt, OU=People,DC=school` and
/// `cn=anna schmidt,ou=people,dc=school` become the same.
pub fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    // Characters up to here were escaped and must not be trimmed away.
    let mut protected = 0;
    let mut skip_space = true;
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(next) = chars.next() {
                    out.extend(next.to_lowercase());
                }
                protected = out.len();
                skip_space = false;
            }
            ',' | '=' | '+' => {
                let keep = out.trim_end().len().max(protected);
                out.truncate(keep);
                out.push(c);
                protected = out.len();
                skip_space = true;
            }
            c if c.is_whitespace() && skip_space => {}
            c => {
                out.extend(c.to_lowercase());
                skip_space = false;
            }
        }
    }
    let keep = out.trim_end().len().max(protected);
    out.truncate(keep);
    out
}

/// A filter as the configuration wrote it, with the parentheses LDAP requires around it
/// (`objectClass=person` is a common way to write `(objectClass=person)`).
pub(crate) fn parenthesised(filter: &str) -> String {
    let f = filter.trim();
    if f.starts_with('(') {
        f.to_string()
    } else {
        format!("({f})")
    }
}

/// Whether the group member attribute holds logins (`memberUid` of `posixGroup`) rather than DNs.
pub(crate) fn members_are_logins(cfg: &Ldap) -> bool {
    cfg.group_member_attribute.eq_ignore_ascii_case("memberUid")
}

/// Classes by member: the key is a normalised DN, or a lower-cased login for `memberUid`.
fn classes_by_member(
    cfg: &Ldap,
    pattern: &Regex,
    groups: &[Entry],
    warnings: &mut Vec<Warning>,
) -> HashMap<String, BTreeSet<String>> {
    let by_login = members_are_logins(cfg);
    let mut classes: HashMap<String, BTreeSet<String>> = HashMap::new();
    for g in groups {
        let Some(raw) = g
            .values(&cfg.group_name_attribute)
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
            .find_map(|name| {
                let caps = pattern.captures(name)?;
                caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str())
            })
        else {
            // Not a class group (e.g. `teachers`): the pattern says which groups are classes.
            continue;
        };
        let class = match roster::class_name(raw) {
            Ok((name, note)) => {
                if let Some(note) = note {
                    warnings.push(Warning {
                        line: None,
                        message: format!("group {}: {note}", g.dn),
                    });
                }
                name
            }
            Err(reason) => {
                warnings.push(Warning {
                    line: None,
                    message: format!("group {}: {reason}; its members get no class from it", g.dn),
                });
                continue;
            }
        };
        for m in g.values(&cfg.group_member_attribute) {
            let Ok(m) = std::str::from_utf8(m) else {
                continue;
            };
            let key = if by_login {
                m.trim().to_lowercase()
            } else {
                normalize_dn(m)
            };
            classes.entry(key).or_default().insert(class.clone());
        }
    }
    classes
}

/// The stable id of an entry: `objectGUID` as a GUID string, any other attribute as text.
fn external_id(cfg: &Ldap, e: &Entry) -> Result<String, String> {
    let attr = &cfg.id_attribute;
    let Some(v) = e.values(attr).first() else {
        return Err(format!("the entry has no {attr} (the stable id)"));
    };
    if attr.eq_ignore_ascii_case("objectGUID") {
        return guid_string(v)
            .ok_or_else(|| format!("the {attr} is {} bytes long; a GUID has 16", v.len()));
    }
    match std::str::from_utf8(v) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Ok(_) => Err(format!("the {attr} (the stable id) is empty")),
        Err(_) => Err(format!("the {attr} (the stable id) is not text")),
    }
}

/// A name from its attribute, cleaned; missing or unusable values are errors naming the
/// attribute.
fn name(e: &Entry, attr: &str, what: &str, warnings: &mut Vec<Warning>) -> Result<String, String> {
    let raw = match e.first_text(attr) {
        None => return Err(format!("the entry has no {attr} (the {what})")),
        Some(Err(())) => return Err(format!("the {attr} (the {what}) is not text")),
        Some(Ok(raw)) => raw,
    };
    let (value, note) =
        roster::clean_field(what, raw).map_err(|reason| format!("{reason} ({attr})"))?;
    if let Some(note) = note {
        warnings.push(Warning {
            line: None,
            message: format!("{}: {note}", e.dn),
        });
    }
    Ok(value)
}

/// The login the entry asks for, or `None` (Schola then derives one from the name) with a
/// warning when the attribute's value cannot be a Schola login. Dropping it rather than
/// rejecting the person keeps them in: their upstream password still works, since signing in
/// binds as their DN, not as the login.
fn login(cfg: &Ldap, e: &Entry, warnings: &mut Vec<Warning>) -> Option<String> {
    let attr = &cfg.login_attribute;
    let raw = match e.first_text(attr)? {
        Ok(raw) => raw.trim().to_lowercase(),
        Err(()) => {
            warnings.push(Warning {
                line: None,
                message: format!(
                    "{}: the {attr} is not text; Schola derives a login from the name",
                    e.dn
                ),
            });
            return None;
        }
    };
    match schola_core::login::validate_login(&raw) {
        Ok(()) => Some(raw),
        Err(reason) => {
            warnings.push(Warning {
                line: None,
                message: format!(
                    "{}: {reason} ({attr}); Schola derives a login from the name",
                    e.dn
                ),
            });
            None
        }
    }
}

fn mail(cfg: &Ldap, e: &Entry, warnings: &mut Vec<Warning>) -> Option<String> {
    let attr = &cfg.mail_attribute;
    if attr.is_empty() {
        return None;
    }
    let raw = e.first_text(attr)?.ok()?;
    if raw.trim().is_empty() {
        return None;
    }
    match schola_core::directory::clean_mail(raw) {
        Ok(m) => Some(m),
        Err(err) => {
            warnings.push(Warning {
                line: None,
                message: format!("{}: {err} ({attr}); the address is left out", e.dn),
            });
            None
        }
    }
}

/// The roster of one fetch: every person the user filter found, checked, with roles and
/// classes. `origin` is the URL read.
pub(crate) fn roster(cfg: &Ldap, pattern: &Regex, found: Found) -> Roster {
    let mut r = Roster::new(Source::Ldap, &cfg.url, "ldap");
    r.roles = vec![Role::Student, Role::Teacher, Role::Staff];
    let classes = classes_by_member(cfg, pattern, &found.groups, &mut r.warnings);
    let by_login = members_are_logins(cfg);
    for e in &found.people {
        let mut warnings = Vec::new();
        let person = (|| -> Result<SourcePerson, String> {
            let external_id = external_id(cfg, e)?;
            let given_name = name(e, &cfg.given_name_attribute, "given name", &mut warnings)?;
            let family_name = name(e, &cfg.family_name_attribute, "family name", &mut warnings)?;
            let login = login(cfg, e, &mut warnings);
            let mail = mail(cfg, e, &mut warnings);
            let norm = normalize_dn(&e.dn);
            let role = if found.teachers.contains(&norm) {
                Role::Teacher
            } else if found.staff.contains(&norm) {
                Role::Staff
            } else {
                Role::Student
            };
            let member_key = if by_login {
                // memberUid holds the login as the directory spells it, valid for Schola or not.
                e.first_text(&cfg.login_attribute)
                    .and_then(Result::ok)
                    .map(|l| l.trim().to_lowercase())
            } else {
                Some(norm)
            };
            let classes = member_key
                .and_then(|k| classes.get(&k))
                .map(|set| set.iter().cloned().collect())
                .unwrap_or_default();
            Ok(SourcePerson {
                line: None,
                external_id,
                role,
                given_name,
                family_name,
                classes,
                login,
                mail,
                birth_date: None,
                upstream_dn: Some(e.dn.clone()),
            })
        })();
        match person {
            Ok(p) => {
                r.warnings.append(&mut warnings);
                r.people.push(p);
            }
            Err(reason) => r.rejected.push(Rejected {
                line: None,
                at: e.dn.clone(),
                reason,
                // a known person whose entry is broken this time is not taken for a leaver
                external_id: external_id(cfg, e).ok(),
            }),
        }
    }
    r.finish();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[u8])]) -> Entry {
        let mut e = Entry {
            dn: dn.into(),
            attrs: HashMap::new(),
        };
        for (k, v) in attrs {
            e.attrs
                .entry(k.to_ascii_lowercase())
                .or_default()
                .push(v.to_vec());
        }
        e
    }

    fn cfg() -> Ldap {
        Ldap {
            url: "ldaps://dc.school.test".into(),
            base_dn: "dc=school,dc=test".into(),
            class_pattern: "^class-(.+)$".into(),
            ..Ldap::default()
        }
    }

    #[test]
    fn object_guid_renders_in_ads_mixed_endian_form() {
        let bytes = [
            0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x41, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c,
            0x33, 0x01,
        ];
        assert_eq!(
            guid_string(&bytes).as_deref(),
            Some("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
        );
        assert_eq!(guid_string(&bytes[..15]), None);
    }

    #[test]
    fn dns_compare_the_same_however_spaced_or_cased() {
        assert_eq!(
            normalize_dn("CN=Anna Schmidt, OU=People ,DC=school,  DC = test"),
            "cn=anna schmidt,ou=people,dc=school,dc=test"
        );
        assert_eq!(normalize_dn(" uid=a+cn=B ,dc=x "), "uid=a+cn=b,dc=x");
        // escapes are kept, including an escaped trailing space
        assert_eq!(normalize_dn("cn=Doe\\, John ,dc=x"), "cn=doe\\, john,dc=x");
        assert_eq!(normalize_dn("cn=a\\ ,dc=x"), "cn=a\\ ,dc=x");
    }

    #[test]
    fn filters_get_their_parentheses() {
        assert_eq!(parenthesised("objectClass=person"), "(objectClass=person)");
        assert_eq!(parenthesised(" (uid=*) "), "(uid=*)");
    }

    #[test]
    fn people_get_roles_classes_and_checked_fields() {
        let c = cfg();
        let pattern = Regex::new(&c.class_pattern).unwrap();
        let found = Found {
            people: vec![
                entry(
                    "uid=anna,ou=people,dc=school,dc=test",
                    &[
                        ("entryUUID", b"0b7c-1"),
                        ("uid", b"Anna"),
                        ("givenName", b" Anna "),
                        ("sn", b"Schmidt"),
                        ("mail", b"Anna@School.test"),
                    ],
                ),
                entry(
                    "uid=tom,ou=people,dc=school,dc=test",
                    &[
                        ("entryuuid", b"0b7c-2"),
                        ("UID", b"9tom"),
                        ("givenname", b"Tom"),
                        ("SN", b"Lehrer"),
                        ("mail", b"not a mail"),
                    ],
                ),
                entry(
                    "uid=nosn,ou=people,dc=school,dc=test",
                    &[
                        ("entryUUID", b"0b7c-3"),
                        ("uid", b"nosn"),
                        ("givenName", b"X"),
                    ],
                ),
                entry(
                    "uid=noid,ou=people,dc=school,dc=test",
                    &[("uid", b"noid"), ("givenName", b"X"), ("sn", b"Y")],
                ),
            ],
            teachers: [normalize_dn("UID=tom, ou=people,dc=school,dc=test")]
                .into_iter()
                .collect(),
            staff: HashSet::new(),
            groups: vec![
                entry(
                    "cn=class-5A,ou=groups,dc=school,dc=test",
                    &[
                        ("cn", b"class-5A"),
                        ("member", b"UID=anna, OU=people, DC=school, DC=test"),
                    ],
                ),
                entry(
                    "cn=teachers,ou=groups,dc=school,dc=test",
                    &[
                        ("cn", b"teachers"),
                        ("member", b"uid=tom,ou=people,dc=school,dc=test"),
                    ],
                ),
                entry(
                    "cn=class-5/b,ou=groups,dc=school,dc=test",
                    &[
                        ("cn", b"class-5/b"),
                        ("member", b"uid=anna,ou=people,dc=school,dc=test"),
                    ],
                ),
            ],
        };
        let r = roster(&c, &pattern, found);
        assert_eq!(r.source, Source::Ldap);
        assert_eq!(r.profile, "ldap");
        assert_eq!(r.origin, "ldaps://dc.school.test");
        assert_eq!(r.roles, vec![Role::Student, Role::Teacher, Role::Staff]);
        assert_eq!(r.people.len(), 2, "{r:#?}");
        let anna = &r.people[0];
        assert_eq!(anna.external_id, "0b7c-1");
        assert_eq!(anna.role, Role::Student);
        assert_eq!(anna.given_name, "Anna");
        assert_eq!(anna.login.as_deref(), Some("anna"));
        assert_eq!(anna.mail.as_deref(), Some("anna@school.test"));
        assert_eq!(anna.classes, vec!["5a".to_string()]);
        assert_eq!(
            anna.upstream_dn.as_deref(),
            Some("uid=anna,ou=people,dc=school,dc=test")
        );
        let tom = &r.people[1];
        assert_eq!(tom.role, Role::Teacher);
        assert_eq!(tom.login, None, "an invalid login is dropped");
        assert_eq!(tom.mail, None);
        assert!(tom.classes.is_empty(), "'teachers' is not a class group");
        let w = |needle: &str| r.warnings.iter().any(|w| w.message.contains(needle));
        assert!(
            w("uid=tom,ou=people,dc=school,dc=test: the login '9tom'"),
            "{:#?}",
            r.warnings
        );
        assert!(w("derives a login"));
        assert!(w("class-5/b"), "an unusable class name is reported");
        assert!(w("given name ' Anna '"), "a repaired name is reported");
        assert_eq!(r.rejected.len(), 2);
        assert_eq!(r.rejected[0].at, "uid=nosn,ou=people,dc=school,dc=test");
        assert!(r.rejected[0].reason.contains("sn"), "{:?}", r.rejected);
        assert_eq!(r.rejected[1].at, "uid=noid,ou=people,dc=school,dc=test");
        assert!(
            r.rejected[1].reason.contains("entryUUID"),
            "{:?}",
            r.rejected
        );
    }

    #[test]
    fn member_uid_groups_list_logins() {
        let c = Ldap {
            group_member_attribute: "memberUid".into(),
            ..cfg()
        };
        let pattern = Regex::new(&c.class_pattern).unwrap();
        let found = Found {
            people: vec![entry(
                "uid=anna,ou=people,dc=school,dc=test",
                &[
                    ("entryUUID", b"1"),
                    ("uid", b"anna"),
                    ("givenName", b"Anna"),
                    ("sn", b"S"),
                ],
            )],
            groups: vec![entry(
                "cn=class-7z,ou=groups,dc=school,dc=test",
                &[("cn", b"class-7z"), ("memberUid", b"Anna")],
            )],
            ..Found::default()
        };
        let r = roster(&c, &pattern, found);
        assert_eq!(r.people[0].classes, vec!["7z".to_string()]);
    }

    #[test]
    fn a_guid_of_the_wrong_length_is_rejected() {
        let c = Ldap {
            id_attribute: "objectGUID".into(),
            ..cfg()
        };
        let pattern = Regex::new(&c.class_pattern).unwrap();
        let found = Found {
            people: vec![entry(
                "CN=x,OU=People,DC=school,DC=test",
                &[
                    ("objectGUID", &[1, 2, 3]),
                    ("givenName", b"A"),
                    ("sn", b"B"),
                ],
            )],
            ..Found::default()
        };
        let r = roster(&c, &pattern, found);
        assert!(r.people.is_empty());
        assert!(r.rejected[0].reason.contains("3 bytes"), "{:?}", r.rejected);
    }
}
