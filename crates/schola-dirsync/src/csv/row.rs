//! One row to one person: every field checked, repairs noted, problems named.

use ::csv::StringRecord;
use schola_core::directory::{Role, clean_mail};
use schola_core::login::validate_login;
use unicode_normalization::UnicodeNormalization as _;

use super::profile::{ClassCell, Layout, RoleFrom};
use crate::roster::{Rejected, SourcePerson, Warning, class_name, clean_field};

/// How long the `at` of a rejected row may be, in characters.
const EXCERPT_CHARS: usize = 60;

/// The person on a row, or why there is none. Repairs go to `warnings`, only when the row is
/// imported.
pub(super) fn person(
    layout: &Layout,
    rec: &StringRecord,
    line: u64,
    delimiter: u8,
    warnings: &mut Vec<Warning>,
) -> Result<SourcePerson, Rejected> {
    let cell = |i: usize| rec.get(i).unwrap_or_default();
    let reject = |reason: String| Rejected {
        line: Some(line),
        at: excerpt(
            cell(layout.given_name),
            cell(layout.family_name),
            cell(layout.id),
        ),
        reason,
        // a known person whose row is broken this time is not taken for a leaver
        external_id: Some(cell(layout.id).trim())
            .filter(|id| !id.is_empty())
            .map(str::to_string),
    };
    for (column, field) in rec.iter().enumerate() {
        let Some(problem) = spilled(field, delimiter) else {
            continue;
        };
        let problem = format!("the quoted field in column {}{problem}", column + 1);
        if layout.reads(column) {
            return Err(reject(problem));
        }
        warnings.push(Warning {
            line: Some(line),
            message: problem,
        });
    }
    if rec.len() < layout.needed() {
        let mut missing: Vec<(usize, &str)> = vec![
            (layout.id, "id"),
            (layout.given_name, "given name"),
            (layout.family_name, "family name"),
        ];
        if let (Some(c), ClassCell::One) = (layout.class, layout.class_cell) {
            missing.push((c, "class"));
        }
        missing.retain(|(i, _)| *i >= rec.len());
        missing.sort_unstable();
        let missing: Vec<String> = missing
            .iter()
            .map(|(i, what)| format!("the {what} (column {})", i + 1))
            .collect();
        return Err(reject(format!(
            "the row has only {} column{}, so {} {} missing",
            rec.len(),
            if rec.len() == 1 { "" } else { "s" },
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        )));
    }
    // Even with the extra cells empty: `1,Paul,Dupont, Jr.,` shifts the (empty) last column.
    if let Some(width) = layout.width
        && rec.len() > width
    {
        return Err(reject(format!(
            "the row has {} columns but the header {width}: a value with the delimiter in it \
             (such as 'Dupont, Jr.') must be in double quotes",
            rec.len()
        )));
    }

    let mut checks = Checks {
        line,
        mark: warnings.len(),
        warnings,
        reasons: Vec::new(),
    };
    let external_id = checks.take(clean_field("id", cell(layout.id)));
    let given_name = checks.take(clean_field("given name", cell(layout.given_name)));
    let family_name = checks.take(clean_field("family name", cell(layout.family_name)));
    let classes = match layout.class {
        Some(i) => checks.take(classes(cell(i), layout.class_cell)),
        None => None,
    };
    let login = match layout.login.map(cell).map(str::trim) {
        Some(raw) if !raw.is_empty() => {
            let lower = raw.to_ascii_lowercase();
            let note = (lower != raw).then(|| format!("login '{raw}': lower-cased → '{lower}'"));
            checks.take(validate_login(&lower).map(|()| (lower, note)))
        }
        _ => None,
    };
    let mail = match layout.email.map(cell).map(str::trim) {
        Some(raw) if !raw.is_empty() => checks.take(
            clean_mail(raw)
                .map(|m| (m, None))
                .map_err(|_| format!("the email '{}' is not a mail address", raw.escape_debug())),
        ),
        _ => None,
    };
    let role = match layout.role {
        RoleFrom::Fixed(r) => Some(r),
        RoleFrom::Column { index, default } => match (cell(index).trim(), default) {
            ("", Some(r)) => Some(r),
            (raw, _) => checks.take(parse_role(raw).map(|r| (r, None))),
        },
    };
    let (Some(external_id), Some(given_name), Some(family_name), Some(role), true) = (
        external_id,
        given_name,
        family_name,
        role,
        checks.reasons.is_empty(),
    ) else {
        return Err(reject(checks.reject()));
    };
    let warnings = checks.warnings;
    let birth_date = match layout.birth_date.map(cell).map(str::trim) {
        Some(raw) if !raw.is_empty() => {
            if !is_date(raw) {
                warnings.push(Warning {
                    line: Some(line),
                    message: format!(
                        "birth date '{}' is not a date (DD.MM.YYYY or YYYY-MM-DD); kept as \
                         written",
                        raw.escape_debug()
                    ),
                });
            }
            Some(raw.to_string())
        }
        _ => None,
    };
    Ok(SourcePerson {
        line: Some(line),
        external_id,
        role,
        given_name,
        family_name,
        classes: classes.unwrap_or_default(),
        login,
        mail,
        birth_date,
        upstream_dn: None,
    })
}

/// A quoted field with line breaks whose lines look like rows (two delimiters or more): a
/// closing quote is probably missing, and those rows would not be read as people.
fn spilled(field: &str, delimiter: u8) -> Option<String> {
    if !field.contains('\n') {
        return None;
    }
    let d = char::from(delimiter);
    let rows = field
        .lines()
        .skip(1)
        .filter(|l| l.matches(d).count() >= 2)
        .count();
    (rows > 0).then(|| {
        format!(
            " runs over {} lines and holds {rows} that look like rows: is a closing '\"' \
             missing? Those rows are not read as people",
            field.lines().count()
        )
    })
}

/// A row's checks so far: repairs as warnings, problems as reasons.
struct Checks<'w> {
    line: u64,
    warnings: &'w mut Vec<Warning>,
    /// Where this row's warnings start.
    mark: usize,
    reasons: Vec<String>,
}

impl Checks<'_> {
    /// A checked value, noting a repair; `None` (and a reason) for a problem.
    fn take<T>(&mut self, checked: Result<(T, Option<String>), String>) -> Option<T> {
        match checked {
            Ok((value, note)) => {
                if let Some(message) = note {
                    self.warnings.push(Warning {
                        line: Some(self.line),
                        message,
                    });
                }
                Some(value)
            }
            Err(reason) => {
                self.reasons.push(reason);
                None
            }
        }
    }

    /// Every problem of the row; its repairs are forgotten (the row is not imported).
    fn reject(self) -> String {
        self.warnings.truncate(self.mark);
        self.reasons.join("; ")
    }
}

/// A class cell as class names, sorted, without duplicates.
fn classes(raw: &str, cell: ClassCell) -> Result<(Vec<String>, Option<String>), String> {
    if cell == ClassCell::One {
        if raw.trim().is_empty() {
            return Err("the class is empty".into());
        }
        return class_name(raw).map(|(name, note)| (vec![name], note));
    }
    let mut names = Vec::new();
    let mut notes = Vec::new();
    let separator = |c: char| c == '|' || (cell == ClassCell::SpacesOrBars && c.is_whitespace());
    for part in raw.split(separator).filter(|p| !p.trim().is_empty()) {
        let (name, note) = class_name(part)?;
        names.push(name);
        notes.extend(note);
    }
    names.sort_unstable();
    names.dedup();
    if notes.is_empty() && raw.trim() != raw && !names.is_empty() {
        notes.push(format!(
            "class '{}': removed stray spaces → '{}'",
            raw.escape_debug(),
            names.join(" ")
        ));
    }
    Ok((names, (!notes.is_empty()).then(|| notes.join("; "))))
}

/// A role as a cell says it, in English, German, Dutch or French.
pub(super) fn parse_role(raw: &str) -> Result<Role, String> {
    let v: String = raw.trim().nfc().flat_map(char::to_lowercase).collect();
    match v.as_str() {
        "student" | "pupil" | "schüler" | "schülerin" | "schueler" | "schuelerin" | "leerling"
        | "élève" | "eleve" => Ok(Role::Student),
        "teacher" | "lehrer" | "lehrerin" | "lehrkraft" | "leraar" | "lerares" | "docent"
        | "enseignant" | "enseignante" | "professeur" => Ok(Role::Teacher),
        "staff" | "mitarbeiter" | "mitarbeiterin" | "personal" | "personeel" | "personnel" => {
            Ok(Role::Staff)
        }
        "" => Err("the role is empty (student, teacher or staff)".into()),
        "admin" => Err(
            "the role 'admin' is not imported: admins are made in Schola (use student, teacher \
             or staff)"
                .into(),
        ),
        _ => Err(format!(
            "the role '{}' is not student, teacher or staff",
            raw.trim().escape_debug()
        )),
    }
}

/// `DD.MM.YYYY` (also `D.M.YYYY`) or `YYYY-MM-DD`, a day that exists.
pub(super) fn is_date(s: &str) -> bool {
    fn num(s: &str, min: usize, max: usize) -> Option<u32> {
        (min..=max)
            .contains(&s.len())
            .then_some(s)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    }
    let parts = || -> Option<(u32, u32, u32)> {
        if let Some((d, rest)) = s.split_once('.') {
            let (m, y) = rest.split_once('.')?;
            Some((num(y, 4, 4)?, num(m, 1, 2)?, num(d, 1, 2)?))
        } else {
            let (y, rest) = s.split_once('-')?;
            let (m, d) = rest.split_once('-')?;
            Some((num(y, 4, 4)?, num(m, 2, 2)?, num(d, 2, 2)?))
        }
    };
    let Some((y, m, d)) = parts() else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The names on a rejected row, for the admin to find it (never birth dates or addresses).
fn excerpt(given: &str, family: &str, id: &str) -> String {
    let mut s = String::new();
    for word in given.split_whitespace().chain(family.split_whitespace()) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(word);
    }
    if s.is_empty() {
        let id = id.trim();
        s = if id.is_empty() {
            "(no name)".into()
        } else {
            format!("id {id}")
        };
    }
    let mut out: String = s
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in [
            "01.02.2015",
            "1.2.2015",
            "29.02.2016",
            "2015-06-03",
            "2000-02-29",
        ] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "31.02.2015",
            "29.02.2015",
            "1900-02-29",
            "2015-6-3",
            "01.13.2015",
            "01.02.15",
            "",
            "morgen",
            "00.01.2015",
            "+1.02.2015",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn roles_in_four_languages() {
        assert_eq!(parse_role("Schüler"), Ok(Role::Student));
        assert_eq!(parse_role(" LEHRER "), Ok(Role::Teacher));
        assert_eq!(parse_role("Schu\u{308}ler"), Ok(Role::Student));
        assert_eq!(parse_role("leerling"), Ok(Role::Student));
        assert_eq!(parse_role("Staff"), Ok(Role::Staff));
        assert!(parse_role("admin").unwrap_err().contains("admin"));
        assert!(parse_role("pirate").unwrap_err().contains("'pirate'"));
    }

    #[test]
    fn class_cells() {
        assert_eq!(
            classes("5a 5B|q1", ClassCell::SpacesOrBars),
            Ok((vec!["5a".into(), "5b".into(), "q1".into()], None))
        );
        assert_eq!(classes("", ClassCell::SpacesOrBars), Ok((vec![], None)));
        let (c, note) = classes(" 8a ", ClassCell::SpacesOrBars).unwrap_or_default();
        assert_eq!(c, vec!["8a".to_string()]);
        assert!(note.is_some());
        assert_eq!(
            classes("10 b|10 b", ClassCell::Bars).map(|c| c.0),
            Ok(vec!["10b".into()])
        );
        assert!(classes(" ", ClassCell::One).is_err());
        assert!(
            classes("5/a", ClassCell::SpacesOrBars)
                .unwrap_err()
                .contains("5/a")
        );
    }

    #[test]
    fn excerpts_name_the_person_only() {
        assert_eq!(excerpt(" Anna ", "Müller", "1"), "Anna Müller");
        assert_eq!(excerpt("", "Weiß", "1"), "Weiß");
        assert_eq!(excerpt("", " ", "900003"), "id 900003");
        assert_eq!(excerpt("", "", ""), "(no name)");
        assert_eq!(
            excerpt(&"x".repeat(80), "", "").chars().count(),
            EXCERPT_CHARS + 1
        );
    }
}
