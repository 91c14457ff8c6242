//! (being written: password letters)
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
use std::path::PathBuf;
pub struct LetterHeader<'a> {
    pub school: &'a str,
    pub portal_url: &'a str,
    pub created: &'a str,
}
pub fn letters_pdf(_h: &LetterHeader<'_>, _letters: &[Letter]) -> Vec<u8> {
    vec![]
}
pub fn letters_csv(_letters: &[Letter]) -> Vec<u8> {
    vec![]
}
pub struct LetterStore {
    dir: PathBuf,
}
impl LetterStore {
    pub fn new(dir: impl Into<PathBuf>) -> LetterStore {
        LetterStore { dir: dir.into() }
    }
    pub fn put(&self, _letters: &[Letter], _meta: &BatchMeta) -> std::io::Result<String> {
        let _ = &self.dir;
        Ok(String::new())
    }
    pub fn take(
        &self,
        _token: &str,
        _format: LetterFormat,
        _header: &LetterHeader<'_>,
        _now: i64,
        _max_age_secs: i64,
    ) -> std::io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    pub fn list(&self, _now: i64, _max_age_secs: i64) -> std::io::Result<Vec<BatchInfo>> {
        Ok(vec![])
    }
}
pub enum LetterFormat {
    Pdf,
    Csv,
}
#[derive(Debug, Clone, Serialize)]
pub struct BatchInfo {
    pub token: String,
    pub created_at: i64,
    pub import_id: Option<i64>,
    pub count: usize,
    pub pdf_left: bool,
    pub csv_left: bool,
    pub classes: Vec<String>,
}
pub struct BatchMeta {
    pub created_at: i64,
    pub import_id: Option<i64>,
    pub created_by: String,
}
