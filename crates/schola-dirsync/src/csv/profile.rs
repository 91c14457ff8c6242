//! Profiles: which column holds what, for each export Schola knows, and how a file's header or
//! shape picks one.

use ::csv::StringRecord;
use schola_core::config::CsvProfile;
use schola_core::directory::Role;
use unicode_normalization::UnicodeNormalization as _;

use super::CsvError;
use crate::roster::Warning;

pub(super) const SCHOLA: &str = "schola";
pub(super) const SOPHOMORIX: &str = "sophomorix";
pub(super) const UNTIS_TEACHERS: &str = "untis-teachers";
pub(super) const BUILT_IN: [&str; 3] = [SCHOLA, SOPHOMORIX, UNTIS_TEACHERS];

/// The columns of the generic Schola format, as header names.
const SCHOLA_COLUMNS: [&str; 8] = [
    "id",
    "role",
    "class",
    "given_name",
    "family_name",
    "birth_date",
    "email",
    "login",
];

/// How a cell of the class column becomes classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClassCell {
    /// One class (`10 b` is `10b`); an empty cell is a rejection.
    One,
    /// Classes separated by `|`; may be empty.
    Bars,
    /// Classes separated by spaces or `|`; may be empty.
    SpacesOrBars,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleFrom {
    /// Everyone in the file; the roster is complete for it.
    Fixed(Role),
    /// A column; an empty cell is `default` or a rejection. The roster is complete for the
    /// roles found.
    Column { index: usize, default: Option<Role> },
}

/// Where each field is, 0-based, for one file.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub name: String,
    /// The first non-blank record is a header, not a person.
    pub header: bool,
    /// The header's width: a row wider than it has an unquoted delimiter in a value, which
    /// shifted the columns after it.
    pub width: Option<usize>,
    pub id: usize,
    pub given_name: usize,
    pub family_name: usize,
    pub class: Option<usize>,
    pub class_cell: ClassCell,
    pub role: RoleFrom,
    pub login: Option<usize>,
    pub email: Option<usize>,
    pub birth_date: Option<usize>,
}

impl Layout {
    /// Whether the column is read.
    pub fn reads(&self, column: usize) -> bool {
        let role = match self.role {
            RoleFrom::Column { index, .. } => Some(index),
            RoleFrom::Fixed(_) => None,
        };
        [self.id, self.given_name, self.family_name].contains(&column)
            || [self.class, role, self.login, self.email, self.birth_date].contains(&Some(column))
    }

    /// The fewest cells a row needs: up to the last mandatory column.
    pub fn needed(&self) -> usize {
        let mut n = self.id.max(self.given_name).max(self.family_name);
        if self.class_cell == ClassCell::One {
            n = n.max(self.class.unwrap_or(0));
        }
        n + 1
    }
}

/// A header cell as compared: NFC, trimmed, lower case, spaces and dashes as `_`.
pub(super) fn normalise(cell: &str) -> String {
    cell.trim()
        .nfc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

fn found(header: &StringRecord) -> String {
    let mut cells: Vec<String> = header
        .iter()
        .take(12)
        .map(|c| format!("'{}'", c.trim().escape_debug()))
        .collect();
    if header.len() > 12 {
        cells.push(format!("and {} more", header.len() - 12));
    }
    cells.join(", ")
}

/// Finds header columns by (normalised) name; a name found twice is an error.
struct Header<'a> {
    record: &'a StringRecord,
    cells: Vec<String>,
    line: u64,
}

impl<'a> Header<'a> {
    fn new(record: &'a StringRecord, line: u64) -> Header<'a> {
        Header {
            record,
            cells: record.iter().map(normalise).collect(),
            line,
        }
    }

    /// The column of the first of `names` present (names already normalised).
    fn find(&self, names: &[&str]) -> Result<Option<usize>, CsvError> {
        for name in names {
            let mut hits = self.cells.iter().enumerate().filter(|(_, c)| c == name);
            if let Some((first, _)) = hits.next() {
                if let Some((second, _)) = hits.next() {
                    return Err(CsvError::Header {
                        line: self.line,
                        message: format!(
                            "the header has the column '{}' twice (columns {} and {})",
                            self.record.get(first).unwrap_or_default().trim(),
                            first + 1,
                            second + 1
                        ),
                    });
                }
                return Ok(Some(first));
            }
        }
        Ok(None)
    }

    fn require(&self, names: &[&str], shown: &str) -> Result<usize, CsvError> {
        self.find(names)?.ok_or_else(|| CsvError::Header {
            line: self.line,
            message: format!(
                "the header has no column '{shown}' (found: {})",
                found(self.record)
            ),
        })
    }
}

/// The generic format: header names in any order and case.
pub(super) fn schola(
    header: &StringRecord,
    line: u64,
    warnings: &mut Vec<Warning>,
) -> Result<Layout, CsvError> {
    let h = Header::new(header, line);
    let id = h.require(&["id"], "id")?;
    let given_name = h.require(&["given_name"], "given_name")?;
    let family_name = h.require(&["family_name"], "family_name")?;
    let role = match h.find(&["role"])? {
        Some(index) => RoleFrom::Column {
            index,
            default: None,
        },
        None => RoleFrom::Fixed(Role::Student),
    };
    for (i, cell) in h.cells.iter().enumerate() {
        if !cell.is_empty() && !SCHOLA_COLUMNS.contains(&cell.as_str()) {
            warnings.push(Warning {
                line: Some(line),
                message: format!(
                    "the column '{}' (column {}) is not one Schola reads; it is ignored (the \
                     columns are {})",
                    header.get(i).unwrap_or_default().trim().escape_debug(),
                    i + 1,
                    SCHOLA_COLUMNS.join(", ")
                ),
            });
        }
    }
    Ok(Layout {
        name: SCHOLA.into(),
        header: true,
        width: Some(header.len()),
        id,
        given_name,
        family_name,
        class: h.find(&["class"])?,
        class_cell: ClassCell::SpacesOrBars,
        role,
        login: h.find(&["login"])?,
        email: h.find(&["email"])?,
        birth_date: h.find(&["birth_date"])?,
    })
}

/// linuxmuster.net's `students.csv`: `Klasse;Nachname;Vorname;Geburtsdatum;Nr;`, no header
/// (a first row `Klasse;Nachname;Vorname;Geburtsdatum;Nr` someone added is skipped).
pub(super) fn sophomorix(first: Option<&StringRecord>) -> Layout {
    Layout {
        name: SOPHOMORIX.into(),
        header: first.is_some_and(is_sophomorix_header),
        width: None,
        id: 4,
        given_name: 2,
        family_name: 1,
        class: Some(0),
        class_cell: ClassCell::One,
        role: RoleFrom::Fixed(Role::Student),
        login: None,
        email: None,
        birth_date: Some(3),
    }
}

/// Untis' teacher list: `Kürzel;Nachname;Vorname;...`, the Kürzel as the id.
pub(super) fn untis_teachers(header: &StringRecord, line: u64) -> Result<Layout, CsvError> {
    let h = Header::new(header, line);
    Ok(Layout {
        name: UNTIS_TEACHERS.into(),
        header: true,
        width: Some(header.len()),
        id: h.require(&["kürzel", "kuerzel", "kurzname"], "Kürzel")?,
        given_name: h.require(&["vorname"], "Vorname")?,
        family_name: h.require(&["nachname"], "Nachname")?,
        class: None,
        class_cell: ClassCell::Bars,
        role: RoleFrom::Fixed(Role::Teacher),
        login: None,
        email: h.find(&["e_mail", "email", "mail"])?,
        birth_date: None,
    })
}

/// Whether a header is Untis' teacher list (it names the Kürzel).
pub(super) fn looks_like_untis(header: &StringRecord) -> bool {
    header
        .iter()
        .map(normalise)
        .any(|c| c == "kürzel" || c == "kuerzel")
}

/// Whether a header is meant as the generic format: two of its column names.
pub(super) fn looks_like_schola(header: &StringRecord) -> bool {
    header
        .iter()
        .map(normalise)
        .filter(|c| SCHOLA_COLUMNS.contains(&c.as_str()))
        .count()
        >= 2
}

/// `Klasse;Nachname;Vorname;Geburtsdatum;Nr`, as someone may have put on top.
fn is_sophomorix_header(r: &StringRecord) -> bool {
    normalise(r.get(3).unwrap_or_default()).starts_with("geburt")
        || normalise(r.get(4).unwrap_or_default()) == "nr"
}

/// Whether the first records are sophomorix rows: five or more cells, a date in the fourth
/// (in most of them; a malformed date is a row's problem, not the file's).
pub(super) fn looks_like_sophomorix(records: &[StringRecord]) -> bool {
    let records = match records.split_first() {
        Some((first, rest)) if is_sophomorix_header(first) => rest,
        _ => records,
    };
    let fits = records
        .iter()
        .filter(|r| r.len() >= 5 && super::row::is_date(r.get(3).unwrap_or_default().trim()))
        .count();
    !records.is_empty() && fits * 2 > records.len()
}

/// A configured profile's delimiter: one ASCII character (`"\t"` or `"tab"` for a tab).
pub(super) fn configured_delimiter(name: &str, p: &CsvProfile) -> Result<Option<u8>, CsvError> {
    let Some(d) = p.delimiter.as_deref() else {
        return Ok(None);
    };
    match d.as_bytes() {
        _ if d.eq_ignore_ascii_case("tab") || d == "\\t" => Ok(Some(b'\t')),
        [b] if (b.is_ascii_punctuation() && *b != b'"') || *b == b'\t' => Ok(Some(*b)),
        _ => Err(CsvError::BadProfile {
            name: name.into(),
            message: format!(
                "the delimiter '{}' is not one character such as ';', ',' or a tab (\"\\t\")",
                d.escape_debug()
            ),
        }),
    }
}

/// Whether a header has all the columns a configured profile needs.
pub(super) fn configured_matches(p: &CsvProfile, header: &StringRecord) -> bool {
    let cells: Vec<String> = header.iter().map(normalise).collect();
    p.header
        && [&p.id, &p.given_name, &p.family_name]
            .into_iter()
            .chain(p.class.as_ref())
            .chain(p.role_column.as_ref())
            .chain(p.login.as_ref())
            .chain(p.email.as_ref())
            .chain(p.birth_date.as_ref())
            .all(|name| cells.contains(&normalise(name)))
}

/// Where a configured profile's columns are: by header name or by number.
enum Columns<'a> {
    Named(Header<'a>),
    Numbered,
}

impl Columns<'_> {
    fn get(&self, profile: &str, field: &str, wanted: &str) -> Result<usize, CsvError> {
        match self {
            Columns::Named(h) => h
                .require(&[normalise(wanted).as_str()], wanted.trim())
                .map_err(|e| match e {
                    CsvError::Header { line, message } => CsvError::Header {
                        line,
                        message: format!(
                            "{message}; profile '{profile}' reads the {field} from it"
                        ),
                    },
                    other => other,
                }),
            Columns::Numbered => match wanted.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n - 1),
                _ => Err(CsvError::BadProfile {
                    name: profile.into(),
                    message: format!(
                        "the {field} column '{}' is not a column number (1, 2, ...), as a \
                         profile with header = false needs",
                        wanted.escape_debug()
                    ),
                }),
            },
        }
    }

    fn optional(
        &self,
        profile: &str,
        field: &str,
        wanted: Option<&str>,
    ) -> Result<Option<usize>, CsvError> {
        wanted.map(|w| self.get(profile, field, w)).transpose()
    }
}

/// A configured mapping against this file's header (`None` for a profile with
/// `header = false`, whose columns are numbers). Every column it names must be there.
pub(super) fn configured(
    name: &str,
    p: &CsvProfile,
    header: Option<(&StringRecord, u64)>,
) -> Result<Layout, CsvError> {
    let (columns, width) = match header {
        Some((record, line)) if p.header => (
            Columns::Named(Header::new(record, line)),
            Some(record.len()),
        ),
        _ => (Columns::Numbered, None),
    };
    let fixed = match p.role.as_deref() {
        Some(r) => Some(super::row::parse_role(r).map_err(|e| CsvError::BadProfile {
            name: name.into(),
            message: format!("role = '{}': {e}", r.escape_debug()),
        })?),
        None => None,
    };
    let role = match columns.optional(name, "role", p.role_column.as_deref())? {
        Some(index) => RoleFrom::Column {
            index,
            default: fixed,
        },
        None => RoleFrom::Fixed(fixed.unwrap_or(Role::Student)),
    };
    Ok(Layout {
        name: name.into(),
        header: p.header,
        width,
        id: columns.get(name, "id", &p.id)?,
        given_name: columns.get(name, "given name", &p.given_name)?,
        family_name: columns.get(name, "family name", &p.family_name)?,
        class: columns.optional(name, "class", p.class.as_deref())?,
        class_cell: ClassCell::Bars,
        role,
        login: columns.optional(name, "login", p.login.as_deref())?,
        email: columns.optional(name, "email", p.email.as_deref())?,
        birth_date: columns.optional(name, "birth date", p.birth_date.as_deref())?,
    })
}
