//! (stand-in until the CSV reader lands)
use crate::roster::Roster;

pub enum ProfileChoice {
    Auto,
    Named(String),
}
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{0}")]
    Other(String),
}
pub fn read_csv(
    _bytes: &[u8],
    _origin: &str,
    _choice: &ProfileChoice,
    _cfg: &schola_core::config::Import,
) -> Result<Roster, CsvError> {
    Err(CsvError::Other("not yet".into()))
}
pub fn profile_names(_cfg: &schola_core::config::Import) -> Vec<String> {
    vec![]
}
