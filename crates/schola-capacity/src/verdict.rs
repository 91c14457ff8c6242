//! Need against what the machine has, per resource: OK / WARN / FAIL with "needed X, have Y,
//! headroom Z %" and a concrete action.
//!
//! SKELETON: the types are the contract; `verdicts` is filled in by the model's owner.

use serde::{Deserialize, Serialize};

use crate::{Level, Quantity};

/// A resource the morning needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// argon2id verifies for the sign-in storm
    SigninCpu,
    /// CPU for page requests after sign-in
    RequestCpu,
    Memory,
    /// concurrent connections against the web server's limit
    Connections,
    /// open files against the process limit
    OpenFiles,
    DiskSpace,
    /// commits (fsync) and writes per second
    DiskWrite,
    /// the internet uplink (entered by the admin)
    Uplink,
    /// the local network link
    Network,
}

impl Resource {
    /// Stable key for translations (`capacity-resource-<key>`) and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Resource::SigninCpu => "signin-cpu",
            Resource::RequestCpu => "request-cpu",
            Resource::Memory => "memory",
            Resource::Connections => "connections",
            Resource::OpenFiles => "open-files",
            Resource::DiskSpace => "disk-space",
            Resource::DiskWrite => "disk-write",
            Resource::Uplink => "uplink",
            Resource::Network => "network",
        }
    }
}

/// What to do about a verdict. `SetConfig` can be applied by `scholactl check --fix` (and the
/// dashboard's button); the others need a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Set a configuration key, e.g. `[web] max_connections = 4000`.
    SetConfig {
        section: String,
        key: String,
        value: u64,
    },
    /// Add this much memory (bytes, rounded up to a size one can buy).
    AddMemory { bytes: u64 },
    /// A machine with this many cores (of the same speed) is needed.
    AddCores { cores: usize },
    /// The disk is full in this many days: add this much space.
    AddDisk {
        bytes: u64,
        full_in_days: Option<f64>,
    },
    /// The disk cannot write fast enough: use an SSD.
    FasterDisk,
    /// The admin has not entered the uplink bandwidth.
    EnterUplink,
    /// The uplink needs this many bits/s.
    FasterUplink { bits: f64 },
    /// The local network link needs this many bits/s.
    FasterNetwork { bits: f64 },
    /// Raise `LimitNOFILE` of the service to this value.
    RaiseOpenFiles { service: String, value: u64 },
    /// Something for a person to look into, in English (health checks).
    Investigate { what: String },
}

impl Action {
    /// True when `scholactl check --fix` may apply it without a person deciding.
    pub fn fixable(&self) -> bool {
        matches!(self, Action::SetConfig { .. })
    }
}

impl std::fmt::Display for Action {
    /// The English sentence the CLI and the English report show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::format::{bits, bytes, number};
        match self {
            Action::SetConfig {
                section,
                key,
                value,
            } => write!(f, "set [{section}] {key} = {value}"),
            Action::AddMemory { bytes: b } => write!(f, "add {} of RAM", bytes(*b as f64)),
            Action::AddCores { cores } => {
                write!(f, "a machine with {cores} cores of this speed is needed")
            }
            Action::AddDisk {
                bytes: b,
                full_in_days,
            } => match full_in_days {
                Some(d) => write!(
                    f,
                    "the disk is full in {} days: add {}",
                    number(*d),
                    bytes(*b as f64)
                ),
                None => write!(f, "add {} of disk space", bytes(*b as f64)),
            },
            Action::FasterDisk => write!(f, "put the data on an SSD"),
            Action::EnterUplink => write!(
                f,
                "enter the school's uplink bandwidth on the capacity page (it cannot be measured offline)"
            ),
            Action::FasterUplink { bits: b } => {
                write!(f, "an uplink of at least {} is needed", bits(*b))
            }
            Action::FasterNetwork { bits: b } => {
                write!(f, "a network link of at least {} is needed", bits(*b))
            }
            Action::RaiseOpenFiles { service, value } => {
                write!(f, "raise LimitNOFILE of {service} to {value}")
            }
            Action::Investigate { what } => f.write_str(what),
        }
    }
}

/// The verdict on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub resource: Resource,
    pub level: Level,
    pub needed: Quantity,
    pub have: Quantity,
    /// (have − needed) ÷ needed × 100; negative when short; `None` when nothing is needed.
    pub headroom_pct: Option<f64>,
    /// The figure key(s) of [`crate::Needs`] the need comes from.
    pub figure: String,
    /// True when `have` comes from a measured storm rather than the model.
    pub measured: bool,
    pub action: Option<Action>,
}
