//! The load model of this school: from people by role and the [`Profile`], the need per
//! resource. Every [`Figure`] carries its formula and inputs so an admin can follow it.
//!
//! The sign-in storm is modelled from physics, not from rules of thumb: a sign-in costs one
//! argon2id verify (measured by the probe on this machine) plus a fixed overhead for TLS and the
//! three pages around it (calibrated below), and the storm is a queue of randomly arriving
//! sign-ins in front of the hash threads; [`largest_school`] is what the load generator's
//! measured storm is held against (±25 %).

use serde::{Deserialize, Serialize};

use crate::{Quantity, Unit};
use crate::{probe::Machine, profile::Profile};

// --- Calibration -------------------------------------------------------------------------
//
// Measured on the development machine: AMD EPYC (2 vCPUs of a shared cloud host, busy with
// other builds at the time), release build, `scripts/bench storm --quick` and
// `scripts/bench login --seconds 20`, with schola-web's own CPU time sampled from
// /proc/<pid>/stat every 0.5 s. Wall-clock rates were useless on the busy host (the verify
// threads got 20 % of the CPUs), so every cost here is CPU time per operation, which other
// load barely changes. The costs are those of that machine and are scaled to the machine under
// check by `cpu_scale` (its argon2id speed against the calibration's), so a slower CPU or a
// cgroup quota of half a core makes every operation proportionally dearer.

/// CPU seconds of one argon2id verify on the calibration machine with its parameters
/// ([`CALIBRATION_ARGON2_WORK`]): `scripts/bench storm --quick`, "CPU time per verify" 15 ms,
/// "limit with all 2 CPUs to ourselves" 129.5/s = 15.4 ms per verify and core.
pub const CALIBRATION_VERIFY_CPU_SECS: f64 = 0.0154;

/// memory_kib × iterations of the calibration's argon2id parameters (the defaults: 19 MiB,
/// 2 passes, 1 lane); a verify's cost is proportional to this product.
pub const CALIBRATION_ARGON2_WORK: f64 = 19_456.0 * 2.0;

/// CPU seconds a sign-in costs besides its argon2id verify, on the calibration machine: the
/// TLS 1.3 handshake of a new connection from home (the ECDSA P-256 certificate schola-web
/// makes; an RSA-2048 one adds about a millisecond), `GET /login`, `POST /login` (back-off gate,
/// credentials, session insert) and `GET /`. Measured: schola-web's CPU per person in the
/// storms of `scripts/bench capacity-accuracy` was 15–16 ms against 14 ms per verify, and in
/// `scripts/bench storm --quick` 16 ms against 14 ms (an earlier sampling on a busy host gave
/// 0.3–0.7 ms); the start page alone costs 0.07 ms (below).
pub const SIGNIN_OVERHEAD_CPU_SECS: f64 = 0.002;

/// CPU seconds of one page request of a signed-in person on the calibration machine: the
/// start page on a keep-alive connection. Measured: schola-web used 5.58 s of CPU for 77,100
/// start pages (15,422/s for 5 s, 64 clients) = 72 µs; rounded up, as real pages also load
/// assets and file lists. (cores ÷ start pages/s = 130 µs overstates it: the bench client
/// shared the two cores.)
pub const REQUEST_CPU_SECS: f64 = 0.0001;

/// Memory of the operating system and the other services' parent processes: Debian with
/// systemd, journald, sshd, OpenLDAP, Postfix, the Dovecot master and the Samba parent. An
/// estimate from a minimal Debian 13 server (~250 MiB) plus those daemons idle; not measured on
/// an appliance yet.
pub const OS_BASELINE_BYTES: f64 = 512.0 * MIB;

/// schola-web's resident memory when ready, before any load: 11.7 MiB (`scripts/bench storm`'s
/// memory table, "ready, before any phase"), rounded up. The hash threads' argon2 memory comes
/// on top (the run grew by 41 MiB with 2 × 19 MiB of it).
pub const WEB_BASELINE_BYTES: f64 = 16.0 * MIB;

/// Memory per web worker: its async runtime, buffers and its eight `web::block` database
/// threads. Measured: the start page phase started the database threads (13 → 22 threads) and
/// grew the RSS by 5.7 MiB, 1.3 MiB of it for its 72 connections: ~2.2 MiB per worker; doubled.
pub const BYTES_PER_WORKER: f64 = 4.0 * MIB;

/// Memory per open connection, the same allowance `schola_core::limits` derives
/// `max_connections` from (its `BYTES_PER_CONNECTION`, 64 KiB). The storm's idle phase measured
/// 18 KiB per idle keep-alive TLS connection (1,000 held: +17.6 MiB); a busy one holds request
/// and response buffers too, so the allowance stays.
pub const BYTES_PER_CONNECTION: f64 = 64.0 * KIB;

/// Memory per signed-in session: its row and index entries in SQLite's page cache (the row is
/// ~200 bytes; a page-sized share each).
pub const BYTES_PER_SESSION: f64 = 4.0 * KIB;

/// Memory per mounted network drive: one smbd process per client (private memory of an idle
/// smbd with one share open, Samba 4.x: ~10 MiB). Counted for the planned file service, so the
/// hardware bought now holds it.
pub const BYTES_PER_DRIVE: f64 = 10.0 * MIB;

/// Memory per mail connection: one Dovecot `imap` process (~3 MiB private).
pub const BYTES_PER_MAIL_CONNECTION: f64 = 3.0 * MIB;

/// IMAP connections per active person: a mail app or the webmail keeps one open (IDLE).
pub const MAIL_CONNECTIONS_PER_PERSON: f64 = 1.0;

/// Open files of schola-web besides its connections: the database and its WAL per pooled
/// connection, logs, listeners, the TLS key, the runtime's own descriptors.
pub const OPEN_FILES_HEADROOM: f64 = 1_024.0;

/// Share of a school day's uploads that arrive in its busiest hour (homework handed in right
/// after the first lesson). An assumption: nothing measured yet.
pub const BUSIEST_HOUR_SHARE: f64 = 0.25;

/// SQLite commits per sign-in: the session insert (`create_session`; clearing the back-off is
/// skipped when there is nothing to clear).
pub const COMMITS_PER_SIGNIN: f64 = 1.0;

/// Session touches (an `UPDATE` commit) per active person and minute: a session's last-seen
/// time is written at most once a minute (`session.rs`, `TOUCH_EVERY_SECS = 60`), and an active
/// person makes a request at least that often.
pub const SESSION_TOUCHES_PER_MINUTE: f64 = 1.0;

/// Share of students in a school of which only the total is known (German schools: ~12
/// students per teacher, plus a few staff).
pub const STUDENT_SHARE: f64 = 0.9;

/// The storm's target: time from pressing "sign in" to the start page, at the 99th percentile.
pub const P99_TARGET_SECS: f64 = 2.0;

/// The utilisation the queueing estimate may give at most: a real storm also meets other load
/// on the machine (a cron job, an admin's backup, the page requests of those already in, the
/// TLS handshakes queueing beside the hash threads). Measured by `scripts/bench
/// capacity-accuracy`: storms met the 2 s p99 target up to 0.86–0.90 of the saturated sign-in
/// rate (half a core: 30.1 of 33/s; one core: passed at 57 and failed at 62 of 66/s).
pub const MAX_UTILISATION: f64 = 0.88;

/// … and at least (a machine this slow fails the target anyway).
pub const MIN_UTILISATION: f64 = 0.5;

/// Share of memory `schola_core::limits` allows for connection buffers when it derives
/// `max_connections`.
pub const CONNECTION_MEMORY_SHARE: f64 = 0.25;

/// The range `schola_core::limits` clamps a derived `max_connections` to.
pub const DERIVED_CONNECTIONS_MIN: f64 = 1_024.0;
pub const DERIVED_CONNECTIONS_MAX: f64 = 50_000.0;

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// People by role, from the directory (active accounts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SchoolSize {
    pub students: usize,
    pub teachers: usize,
    pub staff: usize,
    pub admins: usize,
}

impl SchoolSize {
    pub fn people(&self) -> usize {
        self.students + self.teachers + self.staff + self.admins
    }

    /// A school of `people` with [`STUDENT_SHARE`] students and the rest teachers.
    pub fn of_people(people: usize) -> SchoolSize {
        let students = (people as f64 * STUDENT_SHARE).round() as usize;
        SchoolSize {
            students,
            teachers: people - students,
            staff: 0,
            admins: 0,
        }
    }
}

/// One input of a formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Stable key, also the name used in the formula (`students`, `storm_share`).
    pub key: String,
    pub value: Quantity,
    /// Where it comes from: `directory`, `profile`, `probe`, `config`, `constant`, or `model`
    /// (another figure of the same [`Needs`]).
    pub source: String,
}

/// One computed need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable key (`signin_rate`, `signin_cpu`, `memory`, …).
    pub key: String,
    pub value: Quantity,
    /// The formula over input keys, e.g. `people × storm_share ÷ storm_window_secs`.
    pub formula: String,
    pub inputs: Vec<Input>,
}

/// Every need of the school.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Needs {
    pub figures: Vec<Figure>,
}

impl Needs {
    pub fn get(&self, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.key == key)
    }

    pub fn value(&self, key: &str) -> Option<f64> {
        self.get(key).map(|f| f.value.value)
    }
}

fn input(key: &str, value: f64, unit: Unit, source: &str) -> Input {
    Input {
        key: key.into(),
        value: Quantity::new(finite(value), unit),
        source: source.into(),
    }
}

/// JSON has no infinity: a division by a zero the probe could not measure stays a (huge)
/// number rather than breaking the stored check.
fn finite(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-f64::MAX, f64::MAX)
    }
}

/// Builds the figures in order; each later figure may use an earlier one as an input.
struct Builder {
    figures: Vec<Figure>,
}

impl Builder {
    fn add(&mut self, key: &str, value: f64, unit: Unit, formula: &str, inputs: Vec<Input>) -> f64 {
        let value = finite(value);
        self.figures.push(Figure {
            key: key.into(),
            value: Quantity::new(value, unit),
            formula: formula.into(),
            inputs,
        });
        value
    }

    /// An earlier figure as an input of a later one.
    fn model(&self, key: &str) -> Input {
        match self.figures.iter().find(|f| f.key == key) {
            Some(f) => Input {
                key: key.into(),
                value: f.value,
                source: "model".into(),
            },
            None => input(key, 0.0, Unit::Count, "model"),
        }
    }
}

/// The probe's verifies per second, never zero (a failed probe reads as a very slow machine).
fn verifies_per_sec(machine: &Machine) -> f64 {
    machine.argon2.verifies_per_sec.max(1e-3)
}

/// The cores the probe's verify threads ran on: its thread count, or the cgroup's CPU quota
/// when that is smaller (half a core: one thread that gets half of one), at least a little.
fn cores(machine: &Machine) -> f64 {
    let threads = machine.cores.max(1) as f64;
    machine
        .cpu_quota
        .map_or(threads, |q| q.min(threads))
        .max(0.01)
}

/// The CPU the web server may use in all: the cgroup's quota when there is one (1.5 cores: the
/// spare half core does the TLS and the pages beside one hash thread), else the cores.
fn cpu_budget(machine: &Machine) -> f64 {
    machine
        .cpu_quota
        .unwrap_or(machine.cores.max(1) as f64)
        .max(0.01)
}

/// CPU seconds of one verify on this machine, in the probe's cores (a cgroup quota of half a
/// core makes it twice the CPU time of the unconstrained core).
pub fn verify_cpu_secs(machine: &Machine) -> f64 {
    cores(machine) / verifies_per_sec(machine)
}

/// How much dearer an operation is on this machine than on the calibration machine: its
/// argon2id time per unit of work (memory × passes) against the calibration's. 2.0 = half as
/// fast (an older CPU, or a cgroup quota of half a core).
pub fn cpu_scale(machine: &Machine) -> f64 {
    let work =
        (f64::from(machine.argon2.memory_kib) * f64::from(machine.argon2.iterations)).max(1.0);
    let per_work = verify_cpu_secs(machine) / work;
    per_work / (CALIBRATION_VERIFY_CPU_SECS / CALIBRATION_ARGON2_WORK)
}

/// CPU seconds of one whole sign-in on this machine: the verify plus the scaled overhead.
pub fn signin_cpu_secs(machine: &Machine) -> f64 {
    verify_cpu_secs(machine) + SIGNIN_OVERHEAD_CPU_SECS * cpu_scale(machine)
}

/// Hash threads that verify at once: the configured pool, but never more than the cores (more
/// threads than cores only take turns).
pub fn hash_servers(machine: &Machine) -> f64 {
    let threads = match machine.limits.web_hash_threads {
        0 => machine.cores,
        n => n,
    };
    threads.min(machine.cores).max(1) as f64
}

/// Sustained sign-ins per second of this machine's web server: all the CPU (the cores, or a
/// cgroup's quota) shares the verifies and the overhead (TLS, the three pages), so
/// `cpu ÷ (verify_cpu + overhead)`; and the hash threads cannot verify faster than each of the
/// probe's threads did (when the pool has fewer threads than the CPU allows, the overhead runs
/// beside it).
pub fn signin_capacity(machine: &Machine) -> f64 {
    let by_cpu = cpu_budget(machine) / signin_cpu_secs(machine);
    // each hash thread verifies as fast as one of the probe's threads did
    let per_thread = verifies_per_sec(machine) / machine.cores.max(1) as f64;
    let by_hash_threads = hash_servers(machine) * per_thread;
    finite(by_cpu.min(by_hash_threads))
}

/// The utilisation at which random sign-ins still meet the p99 target: the storm is an M/D/c
/// queue (Poisson arrivals: many people pressing "sign in" independently; deterministic
/// service: every verify costs the same; c = the hash threads). Its wait is close to
/// exponential with rate 2·c·μ·(1 − ρ) (Kingman's heavy-traffic limit with arrival variability
/// 1 and service variability 0, i.e. half the M/M/c wait), times a waiting probability ≤ 1. So
/// p99 wait ≤ ln(100) ÷ (2·c·μ·(1 − ρ)), which must fit into the target less one's own service:
/// `ρ ≤ 1 − ln(100)·D ÷ (2·c·(P99_TARGET − D))` with D = c ÷ capacity, the time a sign-in holds
/// a server. On the calibration machine (16 ms per sign-in) that is 0.99 with 2 cores and 0.96
/// with half a core, so [`MAX_UTILISATION`] decides there; a slow machine (a 200 ms sign-in on
/// one core) gets 0.76. The window is long against the queue's relaxation time
/// (D ÷ (c·(1 − ρ)²), seconds), so the steady state applies.
pub fn utilisation_target(machine: &Machine) -> f64 {
    let c = hash_servers(machine);
    let capacity = signin_capacity(machine).max(1e-9);
    let service = c / capacity;
    let budget = P99_TARGET_SECS - service;
    if budget <= 0.0 {
        return MIN_UTILISATION;
    }
    let rho = 1.0 - (1.0_f64 / 0.01).ln() * service / (2.0 * c * budget);
    rho.clamp(MIN_UTILISATION, MAX_UTILISATION)
}

/// The three bounds on the school a machine holds, in people; [`largest_school`] is the
/// smallest. The load generator's storm measures the sign-in path only, so it is held against
/// `signin`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SchoolBounds {
    /// The 8:00 storm within the p99 target: capacity × utilisation × window ÷ storm_share.
    pub signin: usize,
    /// Everything the memory figure counts fits into the machine's (or cgroup's) memory.
    pub memory: usize,
    /// Every active browser's connections fit under the web server's connection limit.
    pub connections: usize,
}

impl SchoolBounds {
    pub fn smallest(&self) -> usize {
        self.signin.min(self.memory).min(self.connections)
    }
}

/// A count of people from a real-valued bound (negative → 0, huge → usize::MAX).
fn people_bound(v: f64) -> usize {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= usize::MAX as f64 {
        usize::MAX
    } else {
        v.floor() as usize
    }
}

/// True unless `[web] max_connections` is set: schola-web then derives the limit at each start
/// from the school's size (6 per person + 1,024, at most a quarter of the memory).
pub fn connection_limit_derived(machine: &Machine) -> bool {
    machine
        .limits
        .all
        .iter()
        .find(|l| l.key == "web.max_connections")
        .is_none_or(|l| l.source == "derived")
}

/// The web server's connection limit for a school of any size: the configured one, or, when it
/// is derived (`[web] max_connections = 0`), what the derivation gives a large school on this
/// memory (a quarter of it at 64 KiB each, clamped as `schola_core::limits` does); the limit
/// the probe read was derived for today's school and grows with it.
pub fn connection_limit_for_growth(machine: &Machine) -> f64 {
    if !connection_limit_derived(machine) {
        machine.limits.web_max_connections as f64
    } else {
        (machine.memory.total as f64 * CONNECTION_MEMORY_SHARE / BYTES_PER_CONNECTION)
            .floor()
            .clamp(DERIVED_CONNECTIONS_MIN, DERIVED_CONNECTIONS_MAX)
    }
}

/// The bounds on the largest school (see [`SchoolBounds`]), for a school with
/// [`STUDENT_SHARE`] students.
pub fn school_bounds(machine: &Machine, profile: &Profile) -> SchoolBounds {
    // sign-in: the storm's arrival rate at the utilisation the p99 target allows
    let rate = signin_capacity(machine) * utilisation_target(machine);
    let signin = if profile.storm_share > 0.0 {
        people_bound(rate * profile.storm_window_secs / profile.storm_share)
    } else {
        usize::MAX
    };
    // memory and connections are linear in people: read fixed part and slope off two schools
    let (n1, n2) = (1_000usize, 11_000usize);
    let linear = |key: &str| {
        let v1 = needs(&SchoolSize::of_people(n1), profile, machine)
            .value(key)
            .unwrap_or(0.0);
        let v2 = needs(&SchoolSize::of_people(n2), profile, machine)
            .value(key)
            .unwrap_or(0.0);
        let slope = (v2 - v1) / (n2 - n1) as f64;
        (v1 - slope * n1 as f64, slope)
    };
    let bound = |(fixed, slope): (f64, f64), have: f64| {
        if slope <= 0.0 {
            if fixed <= have { usize::MAX } else { 0 }
        } else {
            people_bound((have - fixed) / slope)
        }
    };
    let memory = bound(linear("memory"), machine.memory.total as f64);
    let connections = bound(linear("connections"), connection_limit_for_growth(machine));
    SchoolBounds {
        signin,
        memory,
        connections,
    }
}

/// The largest school (people, [`STUDENT_SHARE`] students) whose 8:00 morning this machine
/// holds: the smallest of the sign-in storm within the p99 target, the memory, and the
/// connection limit ([`school_bounds`]).
pub fn largest_school(machine: &Machine, profile: &Profile) -> usize {
    school_bounds(machine, profile).smallest()
}

/// Every need of `school` with `profile` on `machine` (the machine supplies the measured costs:
/// argon2id speed, hash threads, workers).
pub fn needs(school: &SchoolSize, profile: &Profile, machine: &Machine) -> Needs {
    use Unit::*;
    let mut b = Builder {
        figures: Vec::new(),
    };
    let students = school.students as f64;
    let teachers = school.teachers as f64;
    let staff = school.staff as f64;
    let admins = school.admins as f64;
    let dir = "directory";
    let prof = "profile";
    let cons = "constant";

    let people = b.add(
        "people",
        school.people() as f64,
        Count,
        "students + teachers + staff + admins",
        vec![
            input("students", students, Count, dir),
            input("teachers", teachers, Count, dir),
            input("staff", staff, Count, dir),
            input("admins", admins, Count, dir),
        ],
    );
    let active = b.add(
        "active_people",
        students * profile.students_online + (teachers + staff + admins) * profile.staff_online,
        Count,
        "students × students_online + (teachers + staff + admins) × staff_online",
        vec![
            input("students", students, Count, dir),
            input("students_online", profile.students_online, Share, prof),
            input("teachers", teachers, Count, dir),
            input("staff", staff, Count, dir),
            input("admins", admins, Count, dir),
            input("staff_online", profile.staff_online, Share, prof),
        ],
    );

    // --- the 8:00 sign-in storm
    let signin_rate = b.add(
        "signin_rate",
        people * profile.storm_share / profile.storm_window_secs.max(1.0),
        PerSecond,
        "people × storm_share ÷ storm_window_secs",
        vec![
            b.model("people"),
            input("storm_share", profile.storm_share, Share, prof),
            input(
                "storm_window_secs",
                profile.storm_window_secs,
                Seconds,
                prof,
            ),
        ],
    );
    let scale = b.add(
        "cpu_scale",
        cpu_scale(machine),
        Count,
        "(cores ÷ verifies_per_sec) ÷ (memory_kib × iterations) ÷ \
         (calibration_verify_ms ÷ 1,000 ÷ calibration_argon2_work)",
        vec![
            input("cores", cores(machine), Cores, "probe"),
            input(
                "verifies_per_sec",
                verifies_per_sec(machine),
                PerSecond,
                "probe",
            ),
            input(
                "memory_kib",
                f64::from(machine.argon2.memory_kib),
                Count,
                "config",
            ),
            input(
                "iterations",
                f64::from(machine.argon2.iterations),
                Count,
                "config",
            ),
            input(
                "calibration_verify_ms",
                CALIBRATION_VERIFY_CPU_SECS * 1e3,
                Milliseconds,
                cons,
            ),
            input(
                "calibration_argon2_work",
                CALIBRATION_ARGON2_WORK,
                Count,
                cons,
            ),
        ],
    );
    let verify_cpu = verify_cpu_secs(machine);
    b.add(
        "signin_cpu",
        signin_rate * (verify_cpu + SIGNIN_OVERHEAD_CPU_SECS * scale),
        Cores,
        "signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale)",
        vec![
            b.model("signin_rate"),
            input("cores", cores(machine), Cores, "probe"),
            input(
                "verifies_per_sec",
                verifies_per_sec(machine),
                PerSecond,
                "probe",
            ),
            input(
                "signin_overhead_ms",
                SIGNIN_OVERHEAD_CPU_SECS * 1e3,
                Milliseconds,
                cons,
            ),
            b.model("cpu_scale"),
        ],
    );

    // --- the rest of the morning: pages of the people who are in
    let request_rate = b.add(
        "request_rate",
        active * profile.requests_per_minute / 60.0,
        PerSecond,
        "active_people × requests_per_minute ÷ 60",
        vec![
            b.model("active_people"),
            input(
                "requests_per_minute",
                profile.requests_per_minute,
                PerMinute,
                prof,
            ),
        ],
    );
    b.add(
        "request_cpu",
        request_rate * REQUEST_CPU_SECS * scale,
        Cores,
        "request_rate × request_cpu_ms ÷ 1,000 × cpu_scale",
        vec![
            b.model("request_rate"),
            input("request_cpu_ms", REQUEST_CPU_SECS * 1e3, Milliseconds, cons),
            b.model("cpu_scale"),
        ],
    );
    let connections = b.add(
        "connections",
        active * profile.connections_per_browser,
        Count,
        "active_people × connections_per_browser",
        vec![
            b.model("active_people"),
            input(
                "connections_per_browser",
                profile.connections_per_browser,
                Count,
                prof,
            ),
        ],
    );
    b.add(
        "open_files",
        connections + OPEN_FILES_HEADROOM,
        Count,
        "connections + open_files_headroom",
        vec![
            b.model("connections"),
            input("open_files_headroom", OPEN_FILES_HEADROOM, Count, cons),
        ],
    );

    // --- memory: the fixed parts, then per thing
    let hash_threads = match machine.limits.web_hash_threads {
        0 => machine.cores,
        n => n,
    } as f64;
    let workers = machine.limits.web_workers.max(1) as f64;
    let argon2_bytes = f64::from(machine.argon2.memory_kib) * KIB;
    let drives = active * profile.drives_per_person;
    let mail_connections = active * MAIL_CONNECTIONS_PER_PERSON;
    b.add(
        "memory",
        OS_BASELINE_BYTES
            + WEB_BASELINE_BYTES
            + hash_threads * argon2_bytes
            + workers * BYTES_PER_WORKER
            + connections * BYTES_PER_CONNECTION
            + active * BYTES_PER_SESSION
            + drives * BYTES_PER_DRIVE
            + mail_connections * BYTES_PER_MAIL_CONNECTION,
        Bytes,
        "os_baseline + web_baseline + hash_threads × argon2_memory + workers × per_worker + \
         connections × per_connection + active_people × per_session + \
         active_people × drives_per_person × per_drive + \
         active_people × mail_connections_per_person × per_mail_connection",
        vec![
            input("os_baseline", OS_BASELINE_BYTES, Bytes, cons),
            input("web_baseline", WEB_BASELINE_BYTES, Bytes, cons),
            input("hash_threads", hash_threads, Count, "config"),
            input("argon2_memory", argon2_bytes, Bytes, "config"),
            input("workers", workers, Count, "config"),
            input("per_worker", BYTES_PER_WORKER, Bytes, cons),
            b.model("connections"),
            input("per_connection", BYTES_PER_CONNECTION, Bytes, cons),
            b.model("active_people"),
            input("per_session", BYTES_PER_SESSION, Bytes, cons),
            input("drives_per_person", profile.drives_per_person, Count, prof),
            input("per_drive", BYTES_PER_DRIVE, Bytes, cons),
            input(
                "mail_connections_per_person",
                MAIL_CONNECTIONS_PER_PERSON,
                Count,
                cons,
            ),
            input(
                "per_mail_connection",
                BYTES_PER_MAIL_CONNECTION,
                Bytes,
                cons,
            ),
        ],
    );

    // --- disk
    let growth = b.add(
        "disk_growth_per_day",
        teachers * profile.upload_per_teacher
            + students * profile.upload_per_student
            + people * profile.mails_per_person * profile.mail_size,
        BytesPerDay,
        "teachers × upload_per_teacher + students × upload_per_student + \
         people × mails_per_person × mail_size",
        vec![
            input("teachers", teachers, Count, dir),
            input(
                "upload_per_teacher",
                profile.upload_per_teacher,
                Bytes,
                prof,
            ),
            input("students", students, Count, dir),
            input(
                "upload_per_student",
                profile.upload_per_student,
                Bytes,
                prof,
            ),
            b.model("people"),
            input("mails_per_person", profile.mails_per_person, Count, prof),
            input("mail_size", profile.mail_size, Bytes, prof),
        ],
    );
    b.add(
        "disk_space_year",
        growth * profile.school_days,
        Bytes,
        "disk_growth_per_day × school_days",
        vec![
            b.model("disk_growth_per_day"),
            input("school_days", profile.school_days, Days, prof),
        ],
    );
    b.add(
        "disk_write_rate",
        growth * BUSIEST_HOUR_SHARE / 3_600.0,
        BytesPerSecond,
        "disk_growth_per_day × busiest_hour_share ÷ 3,600",
        vec![
            b.model("disk_growth_per_day"),
            input("busiest_hour_share", BUSIEST_HOUR_SHARE, Share, cons),
        ],
    );
    b.add(
        "commit_rate",
        signin_rate * COMMITS_PER_SIGNIN + active * SESSION_TOUCHES_PER_MINUTE / 60.0,
        PerSecond,
        "signin_rate × commits_per_signin + active_people × session_touches_per_minute ÷ 60",
        vec![
            b.model("signin_rate"),
            input("commits_per_signin", COMMITS_PER_SIGNIN, Count, cons),
            b.model("active_people"),
            input(
                "session_touches_per_minute",
                SESSION_TOUCHES_PER_MINUTE,
                PerMinute,
                cons,
            ),
        ],
    );

    // --- network: in distance learning everyone is at home, so all of it crosses the uplink;
    // the server's own link carries the same traffic wherever its people are
    let bandwidth = active * profile.bandwidth_per_person;
    b.add(
        "uplink",
        bandwidth,
        BitsPerSecond,
        "active_people × bandwidth_per_person",
        vec![
            b.model("active_people"),
            input(
                "bandwidth_per_person",
                profile.bandwidth_per_person,
                BitsPerSecond,
                prof,
            ),
        ],
    );
    // at home or in school, every active person's traffic passes the server's own link
    b.add(
        "network",
        bandwidth,
        BitsPerSecond,
        "active_people × bandwidth_per_person",
        vec![
            b.model("active_people"),
            input(
                "bandwidth_per_person",
                profile.bandwidth_per_person,
                BitsPerSecond,
                prof,
            ),
        ],
    );
    Needs { figures: b.figures }
}
