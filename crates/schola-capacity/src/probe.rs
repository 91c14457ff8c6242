//! Measures the machine: cores and argon2id verifies per second, memory and swap (the cgroup's
//! limit when lower), each data filesystem with a bounded disk benchmark, network links,
//! open-file limits, and every configured limit that caps load.
//!
//! SKELETON: the types are the contract with `model`, `verdict`, `health` and the report;
//! the measuring functions are filled in by the probe's owner.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: String,
    /// From /proc/cpuinfo `model name`.
    pub cpu_model: String,
    /// Cores this process may use (cgroup quota and cpuset respected).
    pub cores: usize,
    pub argon2: Argon2Bench,
    pub memory: Memory,
    /// The data filesystems (state dir with the database, data dir with the files).
    pub filesystems: Vec<Filesystem>,
    pub nics: Vec<Nic>,
    pub open_files: OpenFiles,
    pub limits: ConfiguredLimits,
    /// Kernel OOM kills since boot (/proc/vmstat `oom_kill`).
    pub oom_kills: Option<u64>,
    /// Seconds since boot.
    pub uptime_secs: Option<u64>,
}

/// The argon2id micro-benchmark with the configured parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Argon2Bench {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Verifies per second with one thread per core, all cores busy.
    pub verifies_per_sec: f64,
    /// One verify on an otherwise idle core, milliseconds.
    pub verify_ms: f64,
    /// Threads used and how long the measurement ran.
    pub threads: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Bytes this machine (or the cgroup, when its limit is lower) has.
    pub total: u64,
    pub available: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    /// True when `total` is a cgroup's `memory.max` rather than the machine's RAM.
    pub cgroup_limited: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filesystem {
    /// What Schola keeps there: `database` (state dir), `files` (data dir).
    pub role: String,
    pub path: PathBuf,
    pub mount_point: PathBuf,
    /// e.g. `ext4`, `btrfs`, `tmpfs`.
    pub fs_type: String,
    pub size: u64,
    /// Available to an unprivileged user.
    pub free: u64,
    pub used: u64,
    pub bench: Option<DiskBench>,
}

/// A bounded disk benchmark in a temporary file on the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DiskBench {
    /// Sequential write with fsync at the end, bytes per second.
    pub seq_write: f64,
    /// Small writes each followed by fdatasync, per second (what SQLite's commits need).
    pub fsyncs_per_sec: f64,
    /// Random 4 KiB reads and writes per second.
    pub read_iops: f64,
    pub write_iops: f64,
    /// Bytes written and time taken, so the bounds can be checked.
    pub bytes_written: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    pub name: String,
    /// Link speed from /sys/class/net/*/speed; `None` when the driver does not say (virtual,
    /// wireless, down).
    pub speed_mbit: Option<u64>,
    pub up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenFiles {
    /// RLIMIT_NOFILE of this process (soft, hard).
    pub soft: u64,
    pub hard: u64,
    /// /proc/sys/fs/file-max.
    pub system_max: Option<u64>,
    /// `LimitNOFILE` schola-web runs with (its unit's setting, or this process's hard limit).
    pub web: u64,
}

/// A configured limit that caps load, with where its value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// e.g. `web.max_connections`.
    pub key: String,
    pub value: u64,
    /// The config key that sets it (`[web] max_connections`), or `derived` when it was
    /// derived from the machine and the school's size.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfiguredLimits {
    pub web_workers: usize,
    pub web_max_connections: usize,
    pub web_max_connections_per_client: usize,
    pub web_in_flight: usize,
    pub web_signins_waiting: usize,
    pub web_hash_threads: usize,
    /// Every limit as a list (the ones above and Postfix, Dovecot, Samba limits as they land).
    pub all: Vec<Limit>,
}
