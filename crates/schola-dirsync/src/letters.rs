//! TEMP stand-in for the password letters being written in parallel: same public API, but the
//! PDF is a trivial file (`%PDF-1.4` and the logins as text) and the store keeps each batch as
//! one JSON file. It exists so the admin UI and its tests build; the real module replaces this
//! file at merge.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use schola_core::directory::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub class: Option<String>,
    pub password: String,
    pub mail: Option<String>,
}

/// What every letter of a batch says besides the person's own lines.
#[derive(Debug, Clone, Copy)]
pub struct LetterHeader<'a> {
    pub school: &'a str,
    pub portal_url: &'a str,
    pub created: &'a str,
}

pub fn letters_pdf(h: &LetterHeader<'_>, letters: &[Letter]) -> Vec<u8> {
    let mut out = String::from("%PDF-1.4\n");
    out.push_str(&format!("% {} {} {}\n", h.school, h.portal_url, h.created));
    for l in letters {
        out.push_str(&format!("% {} {}\n", l.login, l.password));
    }
    out.push_str("%%EOF\n");
    out.into_bytes()
}

pub fn letters_csv(letters: &[Letter]) -> Vec<u8> {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("login,name,role,class,password\n");
    for l in letters {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            field(&l.login),
            field(&l.display_name),
            l.role,
            field(l.class.as_deref().unwrap_or("")),
            field(&l.password)
        ));
    }
    out.into_bytes()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchMeta {
    pub created_at: i64,
    pub import_id: Option<i64>,
    pub created_by: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterFormat {
    Pdf,
    Csv,
}

#[derive(Debug, Clone)]
pub struct BatchInfo {
    pub token: String,
    pub created_at: i64,
    pub import_id: Option<i64>,
    pub count: usize,
    pub pdf_left: bool,
    pub csv_left: bool,
    pub classes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    meta: BatchMeta,
    letters: Vec<Letter>,
    pdf_taken: bool,
    csv_taken: bool,
}

/// Letters waiting for their one download per format, one file per batch.
#[derive(Debug, Clone)]
pub struct LetterStore {
    dir: PathBuf,
}

impl LetterStore {
    pub fn new(dir: impl Into<PathBuf>) -> LetterStore {
        LetterStore { dir: dir.into() }
    }

    pub fn put(&self, letters: &[Letter], meta: &BatchMeta) -> std::io::Result<String> {
        std::fs::create_dir_all(&self.dir)?;
        let token = schola_core::token::random_token(24);
        let stored = Stored {
            meta: meta.clone(),
            letters: letters.to_vec(),
            pdf_taken: false,
            csv_taken: false,
        };
        self.write(&self.path(&token), &stored)?;
        Ok(token)
    }

    pub fn take(
        &self,
        token: &str,
        format: LetterFormat,
        header: &LetterHeader<'_>,
        now: i64,
        max_age_secs: i64,
    ) -> std::io::Result<Option<Vec<u8>>> {
        if !valid_token(token) {
            return Ok(None);
        }
        let path = self.path(token);
        // renaming is atomic: of two downloads at once, one gets the batch, the other nothing
        let taking = self.dir.join(format!("{token}.taking"));
        match std::fs::rename(&path, &taking) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut stored: Stored = read(&taking)?;
        if now - stored.meta.created_at > max_age_secs {
            std::fs::remove_file(&taking)?;
            return Ok(None);
        }
        let taken = match format {
            LetterFormat::Pdf => &mut stored.pdf_taken,
            LetterFormat::Csv => &mut stored.csv_taken,
        };
        if *taken {
            std::fs::rename(&taking, &path)?;
            return Ok(None);
        }
        *taken = true;
        let bytes = match format {
            LetterFormat::Pdf => letters_pdf(header, &stored.letters),
            LetterFormat::Csv => letters_csv(&stored.letters),
        };
        if stored.pdf_taken && stored.csv_taken {
            std::fs::remove_file(&taking)?;
        } else {
            self.write(&path, &stored)?;
            std::fs::remove_file(&taking)?;
        }
        Ok(Some(bytes))
    }

    pub fn list(&self, now: i64, max_age_secs: i64) -> std::io::Result<Vec<BatchInfo>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(token) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|t| valid_token(t))
            else {
                continue;
            };
            let Ok(stored) = read::<Stored>(&path) else {
                continue;
            };
            if now - stored.meta.created_at > max_age_secs {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let mut classes: Vec<String> = stored
                .letters
                .iter()
                .filter_map(|l| l.class.clone())
                .collect();
            classes.sort();
            classes.dedup();
            out.push(BatchInfo {
                token: token.to_string(),
                created_at: stored.meta.created_at,
                import_id: stored.meta.import_id,
                count: stored.letters.len(),
                pdf_left: !stored.pdf_taken,
                csv_left: !stored.csv_taken,
                classes,
            });
        }
        out.sort_by_key(|b| std::cmp::Reverse(b.created_at));
        Ok(out)
    }

    pub fn discard(&self, token: &str) -> std::io::Result<bool> {
        if !valid_token(token) {
            return Ok(false);
        }
        match std::fs::remove_file(self.path(token)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn path(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.json"))
    }

    fn write(&self, path: &Path, stored: &Stored) -> std::io::Result<()> {
        let tmp = self
            .dir
            .join(format!(".{}.tmp", schola_core::token::random_token(8)));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(&serde_json::to_vec(stored).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<T> {
    serde_json::from_slice(&std::fs::read(path)?).map_err(std::io::Error::other)
}

/// A token as `put` makes them (URL-safe base64), so a token from a URL never names another file.
fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = LetterStore::new(dir.path());
        let letter = Letter {
            login: "anna.mueller".into(),
            display_name: "Anna Müller".into(),
            role: Role::Student,
            class: Some("5a".into()),
            password: "abcd-efgh-ijkm".into(),
            mail: None,
        };
        let meta = BatchMeta {
            created_at: 100,
            import_id: Some(1),
            created_by: "admin".into(),
        };
        let token = store.put(&[letter], &meta).unwrap();
        let h = LetterHeader {
            school: "S",
            portal_url: "https://s/",
            created: "today",
        };
        assert_eq!(store.list(200, 86_400).unwrap()[0].classes, ["5a"]);
        let pdf = store
            .take(&token, LetterFormat::Pdf, &h, 200, 86_400)
            .unwrap();
        assert!(pdf.unwrap().starts_with(b"%PDF"));
        assert!(
            store
                .take(&token, LetterFormat::Pdf, &h, 200, 86_400)
                .unwrap()
                .is_none()
        );
        let csv = store
            .take(&token, LetterFormat::Csv, &h, 200, 86_400)
            .unwrap();
        assert!(
            String::from_utf8(csv.unwrap())
                .unwrap()
                .contains("abcd-efgh-ijkm")
        );
        assert!(store.list(200, 86_400).unwrap().is_empty());
        assert!(
            store
                .take("../x", LetterFormat::Csv, &h, 200, 86_400)
                .unwrap()
                .is_none()
        );
    }
}
