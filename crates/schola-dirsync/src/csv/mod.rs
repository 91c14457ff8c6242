//! Reading CSV exports of school administration software into a [`Roster`].
//!
//! [`read_csv`] takes the file's bytes and returns every row as a checked [`SourcePerson`], a
//! [`Rejected`] row (line, the names on it, the reason naming the field), or a repair noted as a
//! [`Warning`] (a trimmed class, a normalised name). Whole-file problems are a [`CsvError`]
//! that says what is wrong and where.
//!
//! # What is read
//!
//! * **Encoding**: UTF-8 (with or without a byte order mark), Windows-1252, ISO-8859-15, and
//!   UTF-16 with a byte order mark (Excel's "Unicode text"). A file that is not valid UTF-8 is
//!   Windows-1252 when it has bytes 0x80-0x9F (letters and signs there, unused controls in
//!   ISO-8859-15); otherwise the bytes where the two differ (0xA4, 0xA6, 0xA8, 0xB4, 0xB8,
//!   0xBC-0xBE: € Š š Ž ž Œ œ Ÿ against ¤ ¦ ¨ ´ ¸ ¼ ½ ¾) decide by which reading puts letters
//!   inside words; a tie is read as Windows-1252 with a warning. Binary files (a NUL byte,
//!   many control bytes, a ZIP/.xlsx, .xls or PDF) and empty files are refused.
//! * **Delimiter**: `;`, `,` or a tab, whichever splits the first records (outside quotes)
//!   the same number of times; a configured profile's `delimiter` wins.
//! * **Quoting**: RFC 4180: quoted fields may hold the delimiter, doubled quotes (`""`) and
//!   line breaks; lines end in CRLF or LF. A quote that is never closed is an error naming
//!   its line (the rest of the file would silently be one field).
//! * **Lines**: every line number is the physical, 1-based line where the row starts (the
//!   header is line 1); a row after a quoted field with a line break keeps its own line.
//!   Blank lines (also `;;;;`) are skipped.
//!
//! # Profiles
//!
//! A profile says which column holds what. [`ProfileChoice::Auto`] picks one by the header
//! (a configured profile whose columns are all in it first, then `untis-teachers` for a
//! `Kürzel` column, then `schola` for two of its column names), or, without a header, by the
//! shape of sophomorix rows.
//!
//! * **`schola`**, the documented generic format: a header row, comma (or `;`, tab), UTF-8:
//!
//!   ```text
//!   id,role,class,given_name,family_name,birth_date,email
//!   100234,student,5a,Anna,Müller,2015-02-01,
//!   L-17,teacher,5a|7c,Jürgen,Schäfer,,j.schaefer@example.org
//!   ```
//!
//!   Column names in any order and case; `id`, `given_name` and `family_name` are required,
//!   `role`, `class`, `birth_date`, `email` and `login` optional (other columns are ignored,
//!   with a warning). `id` is the stable id from the school's software: a renamed pupil who
//!   moves class keeps it, and so their account. `role` is `student`, `teacher` or `staff`
//!   (also German, Dutch or French: `Schüler`, `Lehrer`, `leerling`, `enseignant`, ...); without
//!   the column everyone is a student. `class` may hold several classes separated by spaces or
//!   `|`. `birth_date` is `YYYY-MM-DD` or `DD.MM.YYYY`. The file is complete for the roles it
//!   contains: a student missing from a file of students has left.
//! * **`sophomorix`**, linuxmuster.net's `students.csv`: no header,
//!   `Klasse;Nachname;Vorname;Geburtsdatum;Nr;` (trailing `;`), usually Windows-1252.
//!   Everyone is a student; `Nr` is the id; the birth date is kept as written (a malformed one
//!   is a warning). Complete for students.
//! * **`untis-teachers`**, the teacher list of Untis: header `Kürzel;Nachname;Vorname;...`
//!   (other columns such as `Fächer` ignored; an `E-Mail` column is read). The Kürzel is the
//!   id; everyone is a teacher. Complete for teachers.
//! * **configured** profiles, `[import.profiles.<name>]` ([`CsvProfile`]): header names, or
//!   1-based column numbers with `header = false` (these are only used when named). The role
//!   is `role` for everyone, or read from `role_column` (`role` then fills empty cells);
//!   neither means students. `class` may hold several classes separated by `|`.
//!
//! A roster declares itself complete for a role only when at least one row was imported: a
//! file whose every row was rejected says nothing about who has left.
//!
//! [`CsvProfile`]: schola_core::config::CsvProfile

mod decode;
mod profile;
mod row;
mod sniff;

use ::csv::{Position, ReaderBuilder, StringRecord};
use schola_core::config::Import;
use schola_core::directory::Role;
use schola_core::imports::Source;

#[cfg(doc)]
use crate::roster::{Rejected, SourcePerson};
use crate::roster::{Roster, Warning};
use profile::{Layout, RoleFrom};

/// Which profile reads a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChoice {
    /// By the header, or the shape of headerless sophomorix rows.
    Auto,
    /// `schola`, `sophomorix`, `untis-teachers`, or a key of `[import.profiles]`.
    Named(String),
}

/// The largest file read (an export of a large school is a few MiB).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// A problem with the whole file; a problem with a row is a [`Rejected`] row instead.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("the file is larger than 32 MiB ({bytes} bytes)")]
    TooLarge { bytes: usize },
    /// What gives it away: "a NUL byte at byte 17".
    #[error("this is not a text file: {0}")]
    Binary(String),
    #[error("this is not a CSV file but {0}")]
    NotCsv(&'static str),
    #[error("{0}")]
    Encoding(String),
    #[error("the file has no rows, only blank lines")]
    NoRows,
    #[error("line {line}: {message}")]
    Header { line: u64, message: String },
    #[error(
        "line {line}: a quoted field starts here and is never closed (a '\"' is missing), so the \
         rest of the file would be read as that one field"
    )]
    UnclosedQuote { line: u64 },
    #[error("line {line}: the file cannot be read as CSV: {message}")]
    Read { line: u64, message: String },
    #[error("unknown profile '{name}' (known: {known})")]
    UnknownProfile { name: String, known: String },
    #[error("profile '{name}' in the configuration: {message}")]
    BadProfile { name: String, message: String },
    #[error(
        "no profile matches this file: line {line} ('{first}') is not the header of a profile \
         and the rows are not sophomorix rows (Klasse;Nachname;Vorname;Geburtsdatum;Nr;); name \
         one with --profile (known: {known})"
    )]
    NoProfile {
        line: u64,
        first: String,
        known: String,
    },
    #[error("line {line}: the header fits the profiles {names}; name one with --profile")]
    Ambiguous { line: u64, names: String },
}

/// The profiles [`ProfileChoice::Named`] takes: the built-in ones, then the configured ones (a
/// configured profile named like a built-in one is hidden by it).
pub fn profile_names(cfg: &Import) -> Vec<String> {
    profile::BUILT_IN
        .iter()
        .map(|s| s.to_string())
        .chain(
            cfg.profiles
                .keys()
                .filter(|k| !profile::BUILT_IN.contains(&k.as_str()))
                .cloned(),
        )
        .collect()
}

/// Reads an export: decodes it, picks the profile, checks every row, and rejects ids seen
/// twice ([`Roster::finish`]). `origin` is the file name reported with the roster.
pub fn read_csv(
    bytes: &[u8],
    origin: &str,
    choice: &ProfileChoice,
    cfg: &Import,
) -> Result<Roster, CsvError> {
    let decoded = decode::decode(bytes)?;
    let text: &str = &decoded.text;
    let mut warnings = decoded.warnings;
    let (layout, delimiter) = choose(text, choice, cfg, &mut warnings)?;
    if let Some(line) = sniff::unclosed_quote(text, delimiter) {
        return Err(CsvError::UnclosedQuote { line });
    }

    let mut roster = Roster::new(Source::Csv, origin, &layout.name);
    roster.encoding = Some(decoded.encoding.to_string());
    roster.delimiter = Some(char::from(delimiter));
    roster.warnings = warnings;
    let mut reader = reader(text, delimiter);
    let mut record = StringRecord::new();
    let mut header = layout.header;
    let mut rows = 0usize;
    while let Some(line) = next_record(text, &mut reader, &mut record)? {
        if header {
            header = false;
            continue;
        }
        rows += 1;
        match row::person(&layout, &record, line, delimiter, &mut roster.warnings) {
            Ok(p) => roster.people.push(p),
            Err(r) => roster.rejected.push(r),
        }
    }
    roster.finish();

    roster.roles = if roster.people.is_empty() {
        Vec::new()
    } else {
        match layout.role {
            RoleFrom::Fixed(role) => vec![role],
            RoleFrom::Column { .. } => {
                let mut roles: Vec<Role> = roster.people.iter().map(|p| p.role).collect();
                roles.sort_unstable();
                roles.dedup();
                roles
            }
        }
    };
    if rows == 0 {
        roster.warnings.insert(
            0,
            Warning {
                line: None,
                message: "the file has a header but no rows".into(),
            },
        );
    } else if roster.people.is_empty() {
        roster.warnings.insert(
            0,
            Warning {
                line: None,
                message: "no row could be imported, so this file says nothing about who has \
                          left"
                    .into(),
            },
        );
    }
    Ok(roster)
}

fn reader(text: &str, delimiter: u8) -> ::csv::Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// The next record that is not blank (empty cells only), and the line it starts on.
fn next_record(
    text: &str,
    reader: &mut ::csv::Reader<&[u8]>,
    record: &mut StringRecord,
) -> Result<Option<u64>, CsvError> {
    loop {
        match reader.read_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {
                if record.iter().any(|c| !c.trim().is_empty()) {
                    return Ok(Some(record.position().map_or(0, |p| start_line(text, p))));
                }
            }
            Err(e) => {
                return Err(CsvError::Read {
                    line: e.position().map_or(0, Position::line),
                    message: e.to_string(),
                });
            }
        }
    }
}

/// The line a record starts on. The reader's position is where the previous record's
/// terminator began, so the `\n` of a CRLF and empty lines are still ahead of it.
fn start_line(text: &str, at: &Position) -> u64 {
    let skipped = text.as_bytes()[(at.byte() as usize).min(text.len())..]
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .filter(|&&b| b == b'\n')
        .count();
    at.line() + skipped as u64
}

/// The first `n` non-blank records and their lines.
fn first_records(
    text: &str,
    delimiter: u8,
    n: usize,
) -> Result<Vec<(StringRecord, u64)>, CsvError> {
    let mut reader = reader(text, delimiter);
    let mut out = Vec::new();
    let mut record = StringRecord::new();
    while out.len() < n {
        match next_record(text, &mut reader, &mut record)? {
            Some(line) => out.push((record.clone(), line)),
            None => break,
        }
    }
    Ok(out)
}

/// The profile for this file, and its delimiter.
fn choose(
    text: &str,
    choice: &ProfileChoice,
    cfg: &Import,
    warnings: &mut Vec<Warning>,
) -> Result<(Layout, u8), CsvError> {
    let header = |delimiter: u8| -> Result<(StringRecord, u64), CsvError> {
        first_records(text, delimiter, 1)?
            .into_iter()
            .next()
            .ok_or(CsvError::NoRows)
    };
    if let ProfileChoice::Named(name) = choice {
        let name = name.trim();
        if name == profile::SOPHOMORIX {
            let (first, _) = header(b';')?;
            return Ok((profile::sophomorix(Some(&first)), b';'));
        }
        if name == profile::SCHOLA || name == profile::UNTIS_TEACHERS {
            let delimiter = sniff::delimiter(text);
            let (h, line) = header(delimiter)?;
            let layout = if name == profile::SCHOLA {
                profile::schola(&h, line, warnings)?
            } else {
                profile::untis_teachers(&h, line)?
            };
            return Ok((layout, delimiter));
        }
        let Some(p) = cfg.profiles.get(name) else {
            return Err(CsvError::UnknownProfile {
                name: name.into(),
                known: profile_names(cfg).join(", "),
            });
        };
        let delimiter =
            profile::configured_delimiter(name, p)?.unwrap_or_else(|| sniff::delimiter(text));
        let layout = if p.header {
            let (h, line) = header(delimiter)?;
            profile::configured(name, p, Some((&h, line)))?
        } else {
            if first_records(text, delimiter, 1)?.is_empty() {
                return Err(CsvError::NoRows);
            }
            profile::configured(name, p, None)?
        };
        return Ok((layout, delimiter));
    }

    let delimiter = sniff::delimiter(text);
    let first = first_records(text, delimiter, 10)?;
    let Some((h, line)) = first.first() else {
        return Err(CsvError::NoRows);
    };
    let mut fits = Vec::new();
    for (name, p) in &cfg.profiles {
        if profile::BUILT_IN.contains(&name.as_str()) || !p.header {
            continue;
        }
        // a profile with a broken delimiter fits nothing; named, it says why
        let Ok(own) = profile::configured_delimiter(name, p) else {
            continue;
        };
        let own = own.unwrap_or(delimiter);
        let fit = if own == delimiter {
            profile::configured_matches(p, h).then(|| (h.clone(), *line))
        } else {
            header(own)
                .ok()
                .filter(|(h, _)| profile::configured_matches(p, h))
        };
        if let Some(fit) = fit {
            fits.push((name, p, own, fit));
        }
    }
    if fits.len() > 1 {
        return Err(CsvError::Ambiguous {
            line: *line,
            names: fits
                .iter()
                .map(|f| format!("'{}'", f.0))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if let Some((name, p, own, (h, line))) = fits.pop() {
        return Ok((profile::configured(name, p, Some((&h, line)))?, own));
    }
    if profile::looks_like_untis(h) {
        return Ok((profile::untis_teachers(h, *line)?, delimiter));
    }
    if profile::looks_like_schola(h) {
        return Ok((profile::schola(h, *line, warnings)?, delimiter));
    }
    let records: Vec<StringRecord> = first.iter().map(|(r, _)| r.clone()).collect();
    if delimiter == b';' && profile::looks_like_sophomorix(&records) {
        return Ok((profile::sophomorix(Some(h)), delimiter));
    }
    let row: Vec<&str> = h.iter().collect();
    let row = row.join(&char::from(delimiter).to_string());
    let mut shown: String = row
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if row.chars().count() > 80 {
        shown.push('…');
    }
    Err(CsvError::NoProfile {
        line: *line,
        first: shown,
        known: profile_names(cfg).join(", "),
    })
}
