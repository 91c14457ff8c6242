//! TEMP stand-in for the CSV reader being written in parallel: same public API, but it reads
//! only the generic header `id,role,class,given_name,family_name` as UTF-8 with commas and no
//! quoting. It exists so the admin UI and its tests build; the real reader replaces this file
//! at merge.

use schola_core::config::Import;
use schola_core::directory::Role;
use schola_core::imports::Source;

use crate::roster::{Rejected, Roster, SourcePerson, Warning, class_name, clean_field};

/// Which column mapping reads a file: detected from the header, or one by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChoice {
    Auto,
    Named(String),
}

/// The largest export read; bigger files are refused before anything is parsed.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

const GENERIC_HEADER: &str = "id,role,class,given_name,family_name";

/// Why a whole file cannot be read (single rows are rejected in the roster instead).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the file is not UTF-8 text (byte {0})")]
    Encoding(usize),
    #[error("unknown profile '{0}'")]
    UnknownProfile(String),
    #[error("line 1: the header is not one this reader knows (expected '{GENERIC_HEADER}')")]
    Header,
}

/// Reads an export into a roster.
pub fn read_csv(
    bytes: &[u8],
    origin: &str,
    choice: &ProfileChoice,
    cfg: &Import,
) -> Result<Roster, CsvError> {
    if let ProfileChoice::Named(name) = choice
        && name != "schola"
    {
        if profile_names(cfg).contains(name) {
            // the stand-in has only the generic mapping; the others are the real reader's
            return Err(CsvError::Header);
        }
        return Err(CsvError::UnknownProfile(name.clone()));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvError::TooLarge);
    }
    let (bytes, encoding) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, "UTF-8 with BOM"),
        None => (bytes, "UTF-8"),
    };
    let text = std::str::from_utf8(bytes).map_err(|e| CsvError::Encoding(e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != GENERIC_HEADER {
        return Err(CsvError::Header);
    }
    let mut r = Roster::new(Source::Csv, origin, "schola");
    r.encoding = Some(encoding.to_string());
    r.delimiter = Some(',');
    for (i, raw) in lines.enumerate() {
        let line = i as u64 + 2;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').collect();
        let reject = |r: &mut Roster, reason: String, id: Option<&str>| {
            r.rejected.push(Rejected {
                line: Some(line),
                at: raw.chars().take(60).collect(),
                reason,
                external_id: id.map(str::to_string),
            });
        };
        if fields.len() != 5 {
            reject(
                &mut r,
                format!("the row has {} fields instead of 5", fields.len()),
                None,
            );
            continue;
        }
        let id = fields[0].trim();
        if id.is_empty() {
            reject(&mut r, "the id is empty".into(), None);
            continue;
        }
        let role: Role = match fields[1].trim().parse() {
            Ok(role) => role,
            Err(e) => {
                reject(&mut r, e.to_string(), Some(id));
                continue;
            }
        };
        let mut notes = Vec::new();
        let classes = if fields[2].trim().is_empty() {
            Vec::new()
        } else {
            match class_name(fields[2]) {
                Ok((c, note)) => {
                    notes.extend(note);
                    vec![c]
                }
                Err(e) => {
                    reject(&mut r, e, Some(id));
                    continue;
                }
            }
        };
        let given = clean_field("given name", fields[3]);
        let family = clean_field("family name", fields[4]);
        let (given, family) = match (given, family) {
            (Ok((g, gn)), Ok((f, fnote))) => {
                notes.extend(gn);
                notes.extend(fnote);
                (g, f)
            }
            (Err(e), _) | (_, Err(e)) => {
                reject(&mut r, e, Some(id));
                continue;
            }
        };
        for message in notes {
            r.warnings.push(Warning {
                line: Some(line),
                message,
            });
        }
        if !r.roles.contains(&role) {
            r.roles.push(role);
        }
        r.people.push(SourcePerson {
            line: Some(line),
            external_id: id.to_string(),
            role,
            given_name: given,
            family_name: family,
            classes,
            login: None,
            mail: None,
            birth_date: None,
            upstream_dn: None,
        });
    }
    r.roles.sort();
    r.finish();
    Ok(r)
}

/// The profiles an admin can choose: the built-in ones, then the configured ones.
pub fn profile_names(cfg: &Import) -> Vec<String> {
    let mut names: Vec<String> = ["schola", "sophomorix", "untis-teachers"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for name in cfg.profiles.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_header_is_read_with_rejected_rows_and_repairs() {
        let csv = "id,role,class,given_name,family_name\n1,student,5a,Anna,Müller\n2,student,5a,,Leer\n3,student,5A ,Jörg , Groß\n";
        let r = read_csv(
            csv.as_bytes(),
            "x.csv",
            &ProfileChoice::Auto,
            &Import::default(),
        )
        .unwrap();
        assert_eq!(r.people.len(), 2);
        assert_eq!(r.rejected[0].line, Some(3));
        assert!(r.warnings.iter().all(|w| w.line == Some(4)));
        assert_eq!(r.roles, [Role::Student]);
        assert!(matches!(
            read_csv(b"", "x.csv", &ProfileChoice::Auto, &Import::default()),
            Err(CsvError::Empty)
        ));
    }
}
