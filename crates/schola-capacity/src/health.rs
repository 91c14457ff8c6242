//! Generic health checks with the thresholds comparable appliances use (UCS: disk > 90 %;
//! FreedomBox: RAM > 75 % warn, > 90 % error): free disk, RAM, swap, recent OOM kills, mail
//! queue, certificate expiry, every Schola service running, a limit hit in the logs.
//!
//! SKELETON: the types are the contract; the checks are filled in by the probe's owner.

use serde::{Deserialize, Serialize};

use crate::{Action, Level, Quantity};

/// One health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// Stable key for translations (`capacity-health-<key>`): `disk-free`, `memory`, `swap`,
    /// `oom-kills`, `mail-queue`, `certificate`, `services`, `limits-hit`.
    pub key: String,
    pub level: Level,
    /// What was seen (e.g. 93 % used), when there is a number.
    pub value: Option<Quantity>,
    /// The threshold it was compared with.
    pub threshold: Option<Quantity>,
    /// What was seen, in English, naming the thing (`/var/lib/schola is 93 % full`).
    pub detail: String,
    pub action: Option<Action>,
}
