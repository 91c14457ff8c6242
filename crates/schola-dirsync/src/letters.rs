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
