//! (stand-in until the LDAP sync lands)
use crate::roster::Roster;

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("{0}")]
    Other(String),
}
pub async fn fetch(_cfg: &schola_core::config::Ldap) -> Result<Roster, LdapError> {
    Err(LdapError::Other("not yet".into()))
}
pub async fn verify_password(
    _cfg: &schola_core::config::Ldap,
    _dn: &str,
    _password: &str,
) -> Result<bool, LdapError> {
    Ok(false)
}
