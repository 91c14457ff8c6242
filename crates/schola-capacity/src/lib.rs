//! Capacity self-checks: does this machine hold this school's 8:00 morning, and what to buy if
//! not.
//!
//! A check has four parts, each in its own module:
//! - [`probe`] measures the machine (cores and argon2id verifies per second, memory, the data
//!   filesystems with a bounded disk benchmark, network links, open-file limits) and reads
//!   every configured limit that caps load;
//! - [`model`] turns the school's size (people by role) and the distance-learning [`Profile`]
//!   into the need per resource, each [`Figure`] with its formula and inputs;
//! - [`verdict`] compares need with what the machine has and says OK / WARN / FAIL with a
//!   concrete [`Action`]; [`health`] adds the generic checks (free disk, RAM, swap, OOM kills,
//!   certificate expiry, services, limits hit);
//! - [`svg`] and [`pdf`] draw the pictures and the readiness report.
//!
//! [`Check`] is what is stored (as JSON) and shown by `scholactl check`, the admin dashboard and
//! the report. Texts in this crate are English (the CLI's language); the web UI translates the
//! keys ([`Resource::key`], [`Action`], figure keys) with its Fluent files.
//!
//! Invariant: this crate depends on `schola-core` only (never on `schola-web`): it reads the
//! configuration, the store and the derived web limits from there.

use serde::{Deserialize, Serialize};

pub mod check;
pub mod health;
pub mod model;
pub mod pdf;
pub mod probe;
pub mod profile;
pub mod svg;
pub mod verdict;

pub use model::{Figure, Input, Needs, SchoolSize};
pub use probe::Machine;
pub use profile::Profile;
pub use verdict::{Action, Resource, Verdict};

/// How a check came out, worst last (so `max` gives the overall level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "ok" => Some(Level::Ok),
            "warn" => Some(Level::Warn),
            "fail" => Some(Level::Fail),
            _ => None,
        }
    }

    /// `scholactl check`'s exit status: 0 all OK, 1 a WARN, 2 a FAIL.
    pub fn exit_code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warn => 1,
            Level::Fail => 2,
        }
    }
}

/// The unit of a [`Quantity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// people, connections, requests …
    Count,
    /// a share, 0.0 ..= 1.0 (shown as per cent)
    Share,
    /// CPU cores (core-seconds per second)
    Cores,
    Bytes,
    BytesPerDay,
    BytesPerSecond,
    /// network bandwidth
    BitsPerSecond,
    /// operations per second (sign-ins, requests, IOPS, fsyncs)
    PerSecond,
    PerMinute,
    Seconds,
    Milliseconds,
    Days,
}

/// A number with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: f64,
    pub unit: Unit,
}

impl Quantity {
    pub const fn new(value: f64, unit: Unit) -> Quantity {
        Quantity { value, unit }
    }
}

impl std::fmt::Display for Quantity {
    /// English, with binary prefixes for bytes: `1,900`, `9.5 GiB`, `80 %`, `120 Mbit/s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format::quantity(*self))
    }
}

/// Number formatting shared by the CLI table and the report (English).
pub mod format {
    use super::{Quantity, Unit};

    /// `1234567.0` → `1,234,567`; fractions below 10 keep one decimal, below 1 two
    /// significant digits (`0.017`).
    pub fn number(v: f64) -> String {
        if !v.is_finite() {
            return "∞".into();
        }
        if v != 0.0 && v.abs() < 1.0 {
            let digits = ((-v.abs().log10().floor()) as usize + 1).min(6);
            return format!("{v:.digits$}");
        }
        if v.abs() < 10.0 && v.fract() != 0.0 {
            return format!("{v:.1}");
        }
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    }

    /// Bytes with a binary prefix: `512 MiB`, `9.5 GiB`.
    pub fn bytes(v: f64) -> String {
        const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        let mut x = v;
        let mut i = 0;
        while x.abs() >= 1024.0 && i < UNITS.len() - 1 {
            x /= 1024.0;
            i += 1;
        }
        if x.abs() < 10.0 && i > 0 {
            format!("{x:.1} {}", UNITS[i])
        } else {
            format!("{} {}", number(x.round()), UNITS[i])
        }
    }

    /// Bits per second with a decimal prefix: `120 Mbit/s`.
    pub fn bits(v: f64) -> String {
        const UNITS: [&str; 4] = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s"];
        let mut x = v;
        let mut i = 0;
        while x.abs() >= 1000.0 && i < UNITS.len() - 1 {
            x /= 1000.0;
            i += 1;
        }
        format!("{} {}", number(x), UNITS[i])
    }

    pub fn quantity(q: Quantity) -> String {
        let v = q.value;
        match q.unit {
            Unit::Count => number(v),
            Unit::Share => format!("{} %", number(v * 100.0)),
            Unit::Cores => format!("{} cores", number(v)),
            Unit::Bytes => bytes(v),
            Unit::BytesPerDay => format!("{}/day", bytes(v)),
            Unit::BytesPerSecond => format!("{}/s", bytes(v)),
            Unit::BitsPerSecond => bits(v),
            Unit::PerSecond => format!("{}/s", number(v)),
            Unit::PerMinute => format!("{}/min", number(v)),
            Unit::Seconds => format!("{} s", number(v)),
            Unit::Milliseconds => format!("{} ms", number(v)),
            Unit::Days => format!("{} days", number(v)),
        }
    }
}

/// A measured storm (`scholactl check --storm`): the synthetic morning against the running
/// appliance with temporary accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StormMeasurement {
    /// Unix time the storm started.
    pub at: i64,
    /// People who signed in, and the window their arrivals were spread over.
    pub people: usize,
    pub window_secs: f64,
    /// Sign-ins per second the server sustained (completed sign-ins ÷ time they took).
    pub signins_per_sec: f64,
    /// Time from pressing "sign in" to the start page, including waiting-room retries.
    pub p99_signin_ms: f64,
    /// Latency of the start page request itself.
    pub p99_start_page_ms: f64,
    /// Answers other than the waiting room that were not a success.
    pub errors: usize,
    /// Waiting-room answers (503 with Retry-After).
    pub waiting_room: usize,
    /// The model's sign-in capacity for this machine, for comparison.
    pub predicted_signins_per_sec: f64,
}

/// One complete check, as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// Unix time of the check.
    pub at: i64,
    /// Schola's version that ran it.
    pub version: String,
    pub school_name: String,
    pub school: SchoolSize,
    pub profile: Profile,
    pub machine: Machine,
    pub needs: Needs,
    pub verdicts: Vec<Verdict>,
    pub health: Vec<health::HealthCheck>,
    pub storm: Option<StormMeasurement>,
    /// The largest school (people) whose 8:00 sign-in storm this machine holds, by the model
    /// (or by the measured storm when there is one).
    pub largest_school: usize,
    /// What limits `largest_school`: `signin` (the argon2id rate), `memory`, `connections`
    /// (the web server's limit), or `storm` (the measured sign-in rate).
    #[serde(default)]
    pub largest_school_by: String,
    /// The worst level of all verdicts and health checks.
    pub level: Level,
}

impl Check {
    /// The worst level of the verdicts and health checks.
    pub fn overall(verdicts: &[Verdict], health: &[health::HealthCheck]) -> Level {
        verdicts
            .iter()
            .map(|v| v.level)
            .chain(health.iter().map(|h| h.level))
            .max()
            .unwrap_or(Level::Ok)
    }
}
