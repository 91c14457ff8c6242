//! What a source says: the people of a school as a CSV export or an upstream directory lists
//! them, already checked row by row. Both the CSV reader and the LDAP sync produce a [`Roster`];
//! the diff (`plan`) compares it with the directory, whatever the source was.

use std::collections::HashMap;

use schola_core::directory::Role;
use schola_core::imports::Source;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

/// One person as the source lists them, after the row was checked and repaired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePerson {
    /// Where the person is in the source: the CSV line (1-based, counting the header; for a
    /// quoted field that spans lines, the line the row starts on). `None` for LDAP.
    pub line: Option<u64>,
    /// The stable id from the source (`Nr`, `Kürzel`, `objectGUID`, ...): a rename or a class
    /// move keeps it, so the person keeps their account.
    pub external_id: String,
    pub role: Role,
    /// Unicode NFC, trimmed, never empty.
    pub given_name: String,
    pub family_name: String,
    /// Class names as Schola group names (see [`class_name`]), sorted, no duplicates.
    pub classes: Vec<String>,
    /// The login the source asks for (LDAP `uid`/`sAMAccountName`); `None` derives one.
    pub login: Option<String>,
    pub mail: Option<String>,
    /// As written in the source; kept for the diff and the letters, not stored.
    pub birth_date: Option<String>,
    /// LDAP only: the entry the person binds as to check their upstream password.
    pub upstream_dn: Option<String>,
}

/// A row that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The CSV line, or `None` for LDAP (then `at` names the entry).
    pub line: Option<u64>,
    /// The LDAP entry's DN, or a short excerpt of the CSV row.
    pub at: String,
    pub reason: String,
    /// The row's id when it had one: a person whose row is rejected this time is not taken
    /// for a leaver.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Something the reader repaired (a trimmed space, a normalised character) or noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub line: Option<u64>,
    pub message: String,
}

/// Everything a source says, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub source: Source,
    /// What was read: a file name, or the upstream URL.
    pub origin: String,
    /// The profile or mapping used (`schola`, `sophomorix`, `untis-teachers`, a configured
    /// name, `ldap`).
    pub profile: String,
    /// The encoding found (`UTF-8`, `UTF-8 with BOM`, `Windows-1252`, `ISO-8859-15`), CSV only.
    pub encoding: Option<String>,
    /// The delimiter found, CSV only.
    pub delimiter: Option<char>,
    /// The roles this source is complete for: people of these roles from the same source who
    /// are missing from it have left. Empty = a partial list, nobody leaves.
    pub roles: Vec<Role>,
    pub people: Vec<SourcePerson>,
    pub rejected: Vec<Rejected>,
    pub warnings: Vec<Warning>,
}

impl Roster {
    pub fn new(source: Source, origin: &str, profile: &str) -> Roster {
        Roster {
            source,
            origin: origin.to_string(),
            profile: profile.to_string(),
            encoding: None,
            delimiter: None,
            roles: Vec::new(),
            people: Vec::new(),
            rejected: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The checks that need the whole list: an id seen a second time is rejected (the first
    /// row keeps it), as is a login asked for twice. Call once, after the last row.
    pub fn finish(&mut self) {
        let mut first: HashMap<String, Option<u64>> = HashMap::new();
        let mut logins: HashMap<String, Option<u64>> = HashMap::new();
        let mut keep = Vec::with_capacity(self.people.len());
        for p in std::mem::take(&mut self.people) {
            if let Some(line) = first.get(&p.external_id) {
                self.rejected.push(Rejected {
                    line: p.line,
                    at: format!("{} {}", p.given_name, p.family_name),
                    reason: format!(
                        "the id '{}' is already used by {}",
                        p.external_id,
                        match line {
                            Some(l) => format!("line {l}"),
                            None => "another entry".to_string(),
                        }
                    ),
                    external_id: None,
                });
                continue;
            }
            if let Some(login) = &p.login {
                if let Some(line) = logins.get(login) {
                    self.rejected.push(Rejected {
                        line: p.line,
                        at: p
                            .upstream_dn
                            .clone()
                            .unwrap_or_else(|| p.external_id.clone()),
                        reason: format!(
                            "the login '{login}' is already used by {}",
                            match line {
                                Some(l) => format!("line {l}"),
                                None => "another entry".to_string(),
                            }
                        ),
                        external_id: Some(p.external_id.clone()),
                    });
                    continue;
                }
                logins.insert(login.clone(), p.line);
            }
            first.insert(p.external_id.clone(), p.line);
            keep.push(p);
        }
        self.people = keep;
        self.rejected.sort_by_key(|r| r.line);
        self.warnings.sort_by_key(|w| w.line);
    }
}

/// A name field as a person wrote it, cleaned: NFC, surrounding and doubled spaces removed.
/// Returns the value and, when it had to be repaired, what was done (for a warning). Empty
/// values and control characters are errors naming the field.
pub fn clean_field(field: &str, raw: &str) -> Result<(String, Option<String>), String> {
    let nfc: String = raw.nfc().collect();
    let collapsed = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(format!("the {field} is empty"));
    }
    if let Some(c) = collapsed.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the {field} contains a control character (U+{:04X})",
            c as u32
        ));
    }
    if collapsed.chars().count() > schola_core::directory::MAX_NAME_CHARS {
        return Err(format!(
            "the {field} is longer than {} characters",
            schola_core::directory::MAX_NAME_CHARS
        ));
    }
    let note = if collapsed != raw {
        let what = if nfc != raw && collapsed == nfc.trim() {
            "normalised to Unicode NFC"
        } else {
            "removed stray spaces"
        };
        Some(format!(
            "{field} '{}': {what} → '{collapsed}'",
            raw.escape_debug()
        ))
    } else {
        None
    };
    Ok((collapsed, note))
}

/// A class as the source writes it (`5a`, `5A `, `10 b`, `Q1`) as a Schola group name (`5a`,
/// `10b`, `q1`), with a note when that changed more than the case. Names that cannot be a
/// group name (`5/a`, `Klasse 5ä`) are errors saying why.
pub fn class_name(raw: &str) -> Result<(String, Option<String>), String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("the class is empty".into());
    }
    let name: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    schola_core::directory::validate_group_name(&name).map_err(|_| {
        format!(
            "the class '{}' cannot be a class name; use 1-32 of a-z, 0-9, '.', '-', '_'",
            raw.escape_debug()
        )
    })?;
    let note = if trimmed != raw || trimmed.chars().any(char::is_whitespace) {
        Some(format!(
            "class '{}': removed stray spaces → '{name}'",
            raw.escape_debug()
        ))
    } else {
        None
    };
    Ok((name, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(line: u64, id: &str) -> SourcePerson {
        SourcePerson {
            line: Some(line),
            external_id: id.into(),
            role: Role::Student,
            given_name: "A".into(),
            family_name: "B".into(),
            classes: vec![],
            login: None,
            mail: None,
            birth_date: None,
            upstream_dn: None,
        }
    }

    #[test]
    fn a_second_row_with_an_id_is_rejected_and_the_first_stays() {
        let mut r = Roster::new(Source::Csv, "x.csv", "schola");
        r.people = vec![person(2, "1"), person(3, "2"), person(4, "1")];
        r.finish();
        assert_eq!(r.people.len(), 2);
        assert_eq!(r.people[0].line, Some(2));
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].line, Some(4));
        assert!(r.rejected[0].reason.contains("line 2"), "{:?}", r.rejected);
    }

    #[test]
    fn fields_are_trimmed_and_normalised_with_a_note() {
        assert_eq!(clean_field("given name", "Anna"), Ok(("Anna".into(), None)));
        let (v, note) = clean_field("given name", " Anna  Lena ").unwrap_or_default();
        assert_eq!(v, "Anna Lena");
        assert!(note.unwrap_or_default().contains("spaces"));
        let (v, note) = clean_field("family name", "Mu\u{308}ller").unwrap_or_default();
        assert_eq!(v, "Müller");
        assert!(note.unwrap_or_default().contains("NFC"));
        assert!(clean_field("given name", "  ").is_err());
        assert!(clean_field("given name", "a\u{7}b").is_err());
    }

    #[test]
    fn class_names_become_group_names() {
        assert_eq!(class_name("5a"), Ok(("5a".into(), None)));
        assert_eq!(class_name("5A"), Ok(("5a".into(), None)));
        let (n, note) = class_name("8a ").unwrap_or_default();
        assert_eq!(n, "8a");
        assert!(note.is_some());
        assert!(class_name("5/a").is_err());
        assert!(class_name("").is_err());
    }
}
