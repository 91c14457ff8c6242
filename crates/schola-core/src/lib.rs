//! schola-core: the library every Schola daemon and `scholactl` build on.
//!
//! It owns the configuration format, the SQLite store (and is the only crate that opens it),
//! the directory model with its append-only change journal, login-name generation, password
//! hashing on a bounded pool, sign-in back-off, sessions and the audit log. It knows nothing of
//! HTTP, LDAP or any other protocol; those live in the daemon crates at the edge.

pub mod audit;
pub mod audit_search;
pub mod backups;
pub mod capacity_request;
pub mod clock;
pub mod config;
pub mod credcache;
pub mod daemon;
pub mod directory;
pub mod directory_admin;
pub mod error;
pub mod imports;
pub mod journal;
pub mod limits;
pub mod load_history;
pub mod login;
pub mod mail;
pub mod notices;
pub mod password;
pub mod services;
pub mod session;
pub mod settings;
pub mod smb;
pub mod store;
pub mod throttle;
pub mod token;
pub mod updates;

pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use config::Config;
pub use error::{Error, Result};
pub use store::Store;

/// The version of this Schola build, as shown on the services page and in `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
