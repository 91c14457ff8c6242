//! Need against what the machine has, per resource: OK / WARN / FAIL with "needed X, have Y,
//! headroom Z %" and a concrete action.
//!
//! One verdict per [`Resource`], in the order of the enum. The level follows the headroom
//! ([`WARN_HEADROOM_PCT`]); the disk's by the days until it is full ([`DISK_FAIL_DAYS`], a
//! school year). The action is the smallest concrete step that brings the resource to OK.

use serde::{Deserialize, Serialize};

use crate::model::{self, BYTES_PER_CONNECTION, SchoolSize};
use crate::probe::{DiskBench, Filesystem, Machine};
use crate::{Level, Needs, Profile, Quantity, StormMeasurement, Unit};

/// Below this headroom (per cent of the need) a resource is WARN; a need above what the
/// machine has is FAIL. 25 %: the storm's random arrivals queue up noticeably above 80 %
/// utilisation, and a school grows by a class or two a year.
pub const WARN_HEADROOM_PCT: f64 = 25.0;

/// The data disk full in fewer days than this is FAIL: about the time it takes a school
/// authority to approve and deliver a disk.
pub const DISK_FAIL_DAYS: f64 = 30.0;

/// … and within a school year (calendar days) WARN.
pub const DISK_WARN_DAYS: f64 = 365.0;

/// Memory one can buy: modules and upgrades come in these sizes and their doubles.
pub const MEMORY_STEP_BYTES: u64 = 4 << 30;

/// Disks one can buy, in doubles of this size.
pub const DISK_STEP_BYTES: u64 = 128 << 30;

/// A configured limit is raised to the need plus the WARN headroom, rounded up to a multiple
/// of this, so that the next check is OK and the number is one an admin recognises.
pub const CONNECTION_STEP: u64 = 1_000;

/// The service whose open-file limit the connections count against.
pub const WEB_SERVICE: &str = "schola-web";

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

/// Headroom in per cent of the need; `None` when nothing is needed.
pub fn headroom_pct(needed: f64, have: f64) -> Option<f64> {
    (needed > 0.0).then(|| (have - needed) / needed * 100.0)
}

/// FAIL when the need exceeds what the machine has, WARN when the headroom is below
/// [`WARN_HEADROOM_PCT`], else OK.
pub fn level_by_headroom(needed: f64, have: f64) -> Level {
    match headroom_pct(needed, have) {
        _ if needed > have => Level::Fail,
        Some(h) if h < WARN_HEADROOM_PCT => Level::Warn,
        _ => Level::Ok,
    }
}

/// The need with the WARN headroom on top: what an upgrade must reach to be OK.
fn with_headroom(needed: f64) -> f64 {
    needed * (1.0 + WARN_HEADROOM_PCT / 100.0)
}

/// `bytes` rounded up to `step`, 2·step, 4·step, … (what one can buy).
fn purchasable(bytes: f64, step: u64) -> u64 {
    let mut size = step;
    while (size as f64) < bytes && size < u64::MAX / 2 {
        size *= 2;
    }
    size
}

/// `v` rounded up to a multiple of `step` (at least one step).
fn round_up(v: f64, step: u64) -> u64 {
    let steps = (v / step as f64).ceil().max(1.0);
    if steps >= (u64::MAX / step) as f64 {
        u64::MAX
    } else {
        steps as u64 * step
    }
}

/// Cores needed for `needed` at `per_core` each with the WARN headroom, rounded up to an even
/// number (machines come with even core counts).
fn cores_for(needed: f64, per_core: f64) -> usize {
    if per_core <= 0.0 || !needed.is_finite() {
        return 2;
    }
    let n = (with_headroom(needed) / per_core).ceil().max(1.0);
    let n = if n >= 1e9 { 1e9 as usize } else { n as usize };
    n.div_ceil(2) * 2
}

fn verdict(
    resource: Resource,
    figure: &str,
    needed: Quantity,
    have: Quantity,
    action: impl FnOnce() -> Action,
) -> Verdict {
    let level = level_by_headroom(needed.value, have.value);
    Verdict {
        resource,
        level,
        needed,
        have,
        headroom_pct: headroom_pct(needed.value, have.value),
        figure: figure.into(),
        measured: false,
        action: (level != Level::Ok).then(action),
    }
}

/// A verdict that cannot compare (nothing measured to compare with): no headroom, the reason
/// in the action.
fn unknown(
    resource: Resource,
    figure: &str,
    level: Level,
    needed: Quantity,
    unit: Unit,
    action: Action,
) -> Verdict {
    Verdict {
        resource,
        level,
        needed,
        have: Quantity::new(0.0, unit),
        headroom_pct: None,
        figure: figure.into(),
        measured: false,
        action: Some(action),
    }
}

/// The filesystem Schola keeps `role` on, else the other data filesystem.
fn filesystem<'a>(machine: &'a Machine, role: &str) -> Option<&'a Filesystem> {
    machine
        .filesystems
        .iter()
        .find(|f| f.role == role)
        .or_else(|| machine.filesystems.first())
}

/// Calendar days until the free space is used up at `growth` bytes per school day; `None`
/// when nothing grows.
pub fn full_in_days(free: f64, growth_per_school_day: f64, school_days: f64) -> Option<f64> {
    (growth_per_school_day > 0.0)
        .then(|| free / growth_per_school_day * DISK_WARN_DAYS / school_days.max(1.0))
}

/// Need against what the machine has, one verdict per [`Resource`]. With a measured storm the
/// sign-in verdict holds the need against the measured rate instead of the model's.
pub fn verdicts(
    school: &SchoolSize,
    profile: &Profile,
    machine: &Machine,
    needs: &Needs,
    storm: Option<&StormMeasurement>,
) -> Vec<Verdict> {
    let _ = school; // the needs are already this school's; kept for callers' symmetry
    let need = |key: &str, unit: Unit| Quantity::new(needs.value(key).unwrap_or(0.0), unit);
    let cores = machine.cores.max(1) as f64;
    let mut out = Vec::with_capacity(9);

    // sign-in storm: sign-ins per second against the sustained rate
    let signin = need("signin_rate", Unit::PerSecond);
    let (capacity, measured) = match storm {
        Some(s) => (s.signins_per_sec, true),
        None => (model::signin_capacity(machine), false),
    };
    let mut v = verdict(
        Resource::SigninCpu,
        "signin_rate",
        signin,
        Quantity::new(capacity, Unit::PerSecond),
        || Action::AddCores {
            cores: cores_for(signin.value, capacity / cores),
        },
    );
    v.measured = measured;
    out.push(v);

    let request = need("request_cpu", Unit::Cores);
    out.push(verdict(
        Resource::RequestCpu,
        "request_cpu",
        request,
        Quantity::new(cores, Unit::Cores),
        || Action::AddCores {
            cores: cores_for(request.value, 1.0),
        },
    ));

    let memory = need("memory", Unit::Bytes);
    let total = machine.memory.total as f64;
    let add_memory = || Action::AddMemory {
        bytes: purchasable(with_headroom(memory.value) - total, MEMORY_STEP_BYTES),
    };
    out.push(verdict(
        Resource::Memory,
        "memory",
        memory,
        Quantity::new(total, Unit::Bytes),
        add_memory,
    ));

    // the connection limit is a setting: raise it when the memory holds the connections (the
    // memory figure already counts them at BYTES_PER_CONNECTION each), else buy memory
    let connections = need("connections", Unit::Count);
    let limit = round_up(with_headroom(connections.value), CONNECTION_STEP);
    let extra = (limit as f64 - connections.value).max(0.0) * BYTES_PER_CONNECTION;
    let allowed = machine.limits.web_max_connections as f64;
    let mut v = verdict(
        Resource::Connections,
        "connections",
        connections,
        Quantity::new(allowed, Unit::Count),
        || {
            if memory.value + extra <= total {
                Action::SetConfig {
                    section: "web".into(),
                    key: "max_connections".into(),
                    value: limit,
                }
            } else {
                Action::AddMemory {
                    bytes: purchasable(
                        with_headroom(memory.value + extra) - total,
                        MEMORY_STEP_BYTES,
                    ),
                }
            }
        },
    );
    // a derived limit is derived again from the school's size at every start, so it grows with
    // the school: it needs no headroom for growth, only to hold today's need
    if v.level == Level::Warn && model::connection_limit_derived(machine) {
        v.level = Level::Ok;
        v.action = None;
    }
    out.push(v);

    let files = need("open_files", Unit::Count);
    out.push(verdict(
        Resource::OpenFiles,
        "open_files",
        files,
        Quantity::new(machine.open_files.web as f64, Unit::Count),
        || Action::RaiseOpenFiles {
            service: WEB_SERVICE.into(),
            value: purchasable(with_headroom(files.value), 1_024),
        },
    ));

    out.push(disk_space(profile, machine, needs));
    out.push(disk_write(machine, needs));
    out.push(uplink(profile, needs));
    out.push(network(machine, needs));
    out
}

fn disk_space(profile: &Profile, machine: &Machine, needs: &Needs) -> Verdict {
    let year = Quantity::new(needs.value("disk_space_year").unwrap_or(0.0), Unit::Bytes);
    let growth = needs.value("disk_growth_per_day").unwrap_or(0.0);
    let Some(fs) = filesystem(machine, "files") else {
        return unknown(
            Resource::DiskSpace,
            "disk_space_year",
            Level::Warn,
            year,
            Unit::Bytes,
            Action::Investigate {
                what: "no data filesystem was probed: the free space is unknown".into(),
            },
        );
    };
    let free = fs.free as f64;
    let days = full_in_days(free, growth, profile.school_days);
    let level = match days {
        Some(d) if d < DISK_FAIL_DAYS => Level::Fail,
        Some(d) if d < DISK_WARN_DAYS => Level::Warn,
        _ => Level::Ok,
    };
    Verdict {
        resource: Resource::DiskSpace,
        level,
        needed: year,
        have: Quantity::new(free, Unit::Bytes),
        headroom_pct: headroom_pct(year.value, free),
        figure: "disk_space_year".into(),
        measured: false,
        action: (level != Level::Ok).then(|| Action::AddDisk {
            bytes: purchasable(year.value, DISK_STEP_BYTES),
            full_in_days: days,
        }),
    }
}

/// Commits per second against the database disk's fsyncs per second, and the busiest hour's
/// writes against the files disk's sequential write; the one with less headroom is the
/// verdict.
fn disk_write(machine: &Machine, needs: &Needs) -> Verdict {
    let commits = Quantity::new(needs.value("commit_rate").unwrap_or(0.0), Unit::PerSecond);
    let writes = Quantity::new(
        needs.value("disk_write_rate").unwrap_or(0.0),
        Unit::BytesPerSecond,
    );
    let bench = |role: &str| -> Option<(&Filesystem, DiskBench)> {
        let fs = filesystem(machine, role)?;
        Some((fs, fs.bench?))
    };
    let mut candidates = Vec::new();
    for (role, figure, need, have_of, unit) in [
        (
            "database",
            "commit_rate",
            commits,
            (|b: &DiskBench| b.fsyncs_per_sec) as fn(&DiskBench) -> f64,
            Unit::PerSecond,
        ),
        (
            "files",
            "disk_write_rate",
            writes,
            |b: &DiskBench| b.seq_write,
            Unit::BytesPerSecond,
        ),
    ] {
        match bench(role) {
            Some((_, b)) => candidates.push(verdict(
                Resource::DiskWrite,
                figure,
                need,
                Quantity::new(have_of(&b), unit),
                || Action::FasterDisk,
            )),
            None => {
                let place = filesystem(machine, role)
                    .map(|f| f.path.display().to_string())
                    .unwrap_or_else(|| format!("the {role} filesystem"));
                candidates.push(unknown(
                    Resource::DiskWrite,
                    figure,
                    Level::Warn,
                    need,
                    unit,
                    Action::Investigate {
                        what: format!(
                            "the disk benchmark did not run on {place}: its write speed is unknown"
                        ),
                    },
                ));
            }
        }
    }
    // worst level first, then the smaller headroom
    candidates
        .into_iter()
        .max_by(|a, b| {
            a.level.cmp(&b.level).then_with(|| {
                let h = |v: &Verdict| v.headroom_pct.unwrap_or(f64::INFINITY);
                h(b).total_cmp(&h(a))
            })
        })
        .unwrap_or_else(|| {
            verdict(Resource::DiskWrite, "commit_rate", commits, commits, || {
                Action::FasterDisk
            })
        })
}

fn uplink(profile: &Profile, needs: &Needs) -> Verdict {
    let need = Quantity::new(needs.value("uplink").unwrap_or(0.0), Unit::BitsPerSecond);
    match profile.uplink_bits {
        None => unknown(
            Resource::Uplink,
            "uplink",
            Level::Warn,
            need,
            Unit::BitsPerSecond,
            Action::EnterUplink,
        ),
        Some(bits) => verdict(
            Resource::Uplink,
            "uplink",
            need,
            Quantity::new(bits, Unit::BitsPerSecond),
            || Action::FasterUplink {
                bits: with_headroom(need.value),
            },
        ),
    }
}

fn network(machine: &Machine, needs: &Needs) -> Verdict {
    let need = Quantity::new(needs.value("network").unwrap_or(0.0), Unit::BitsPerSecond);
    let fastest = machine
        .nics
        .iter()
        .filter(|n| n.up && n.name != "lo")
        .filter_map(|n| n.speed_mbit.map(|s| (n, s)))
        .max_by_key(|(_, s)| *s);
    match fastest {
        Some((_, mbit)) => verdict(
            Resource::Network,
            "network",
            need,
            Quantity::new(mbit as f64 * 1e6, Unit::BitsPerSecond),
            || Action::FasterNetwork {
                bits: with_headroom(need.value),
            },
        ),
        None => {
            let names: Vec<&str> = machine
                .nics
                .iter()
                .filter(|n| n.up && n.name != "lo")
                .map(|n| n.name.as_str())
                .collect();
            let what = if names.is_empty() {
                "no network link is up besides loopback: not checked".to_string()
            } else {
                format!(
                    "the link speed of {} is not reported (virtual or wireless): not checked",
                    names.join(", ")
                )
            };
            unknown(
                Resource::Network,
                "network",
                Level::Ok,
                need,
                Unit::BitsPerSecond,
                Action::Investigate { what },
            )
        }
    }
}

/// The English one-line summary the CLI prints: `needed 1,900, have 512, headroom −73 %`.
pub fn describe(v: &Verdict) -> String {
    let needed = crate::format::quantity(v.needed);
    let have = match v.headroom_pct {
        None if v.needed.value > 0.0 => "unknown".to_string(),
        _ => crate::format::quantity(v.have),
    };
    let mut out = format!("needed {needed}, have {have}");
    if v.measured {
        out.push_str(" (measured)");
    }
    if let Some(h) = v.headroom_pct {
        let r = h.round();
        let sign = if r < 0.0 { "−" } else { "" };
        out.push_str(&format!(
            ", headroom {sign}{} %",
            crate::format::number(r.abs())
        ));
    }
    out
}
