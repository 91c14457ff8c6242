//! Measures the machine: cores and argon2id verifies per second, memory and swap (the cgroup's
//! limit when lower), each data filesystem with a bounded disk benchmark, network links,
//! open-file limits, and every configured limit that caps load.
//!
//! Everything here only reads (`/proc`, `/sys`, statvfs) except the disk benchmark, which
//! writes a bounded temporary file into the state and data directories and removes it. Parsing
//! is kept in pure functions over text so the tests need no particular machine. The probe runs
//! from `scholactl check` and the daily timer, never on a request's path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use schola_core::Config;
use schola_core::config::Argon2Config;

mod disk;
mod system;

pub use disk::{BENCH_PREFIX, disk_bench};
pub use system::{
    CgroupMemory, MeminfoValues, MountEntry, cgroup_cpu_quota, cgroup_memory, memory_from,
    mount_for, nearest_existing, parse_cpu_model, parse_limit_nofile, parse_meminfo,
    parse_mountinfo, parse_uptime, parse_vmstat_oom_kills,
};

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: String,
    /// From /proc/cpuinfo `model name`.
    pub cpu_model: String,
    /// Cores this process may use (cgroup quota and cpuset respected, rounded down).
    pub cores: usize,
    /// The cgroup's CPU quota in cores when one is set (`1.5`), which `cores` rounds down.
    #[serde(default)]
    pub cpu_quota: Option<f64>,
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

/// [`Filesystem::role`] of the state directory (the database, TLS material).
pub const ROLE_DATABASE: &str = "database";
/// [`Filesystem::role`] of the data directory (homes and shares).
pub const ROLE_FILES: &str = "files";

impl Filesystem {
    /// True when Schola keeps `role` here. When the state and data directories share one
    /// filesystem, it is listed once with the role `database+files`.
    pub fn has_role(&self, role: &str) -> bool {
        self.role.split('+').any(|r| r == role)
    }
}

impl Machine {
    /// The filesystem that holds `role` ([`ROLE_DATABASE`], [`ROLE_FILES`]).
    pub fn filesystem(&self, role: &str) -> Option<&Filesystem> {
        self.filesystems.iter().find(|f| f.has_role(role))
    }
}

/// How much the probe may measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeOptions {
    /// How long all cores verify passwords.
    pub argon2_seconds: f64,
    /// Whether to write the disk benchmark's temporary file at all.
    pub disk_bench: bool,
    /// Bytes the disk benchmark may write per filesystem.
    pub disk_max_bytes: u64,
    /// Seconds the disk benchmark may take per filesystem.
    pub disk_max_seconds: f64,
}

impl Default for ProbeOptions {
    /// About 2 s of CPU and up to 6 s and 64 MiB per filesystem: long enough for stable
    /// figures, short enough for the daily timer and `scholactl check`.
    fn default() -> Self {
        ProbeOptions {
            argon2_seconds: 2.0,
            disk_bench: true,
            disk_max_bytes: 64 << 20,
            disk_max_seconds: 6.0,
        }
    }
}

/// Cores this process may use: `available_parallelism` honours the cpuset and the cgroup's CPU
/// quota (`cpu.max`), so a container with 1.5 CPUs counts 1.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The password every benchmark verify checks (the hash is made for it and thrown away).
const BENCH_PASSWORD: &str = "capacity-probe-password";
/// Single verifies timed for the latency (after one warm-up that allocates the working memory).
const LATENCY_SAMPLES: usize = 5;

/// Verifies a real argon2id hash with `params` on `threads` threads for `seconds` and counts
/// the verifies per second of wall-clock time across all of them; first, on this thread, the
/// median latency of a few single verifies. Wall-clock (not CPU time) so that a CPU quota, which
/// pauses the threads, lowers the figure as it lowers the server's sign-in rate.
///
/// Uses [`schola_core::password::verify_password`], which keeps its working memory per thread
/// as the server's hash threads do. Invalid parameters give zero rates.
pub fn argon2_bench(params: Argon2Config, threads: usize, seconds: f64) -> Argon2Bench {
    use schola_core::password::{hash_password, verify_password};
    let mut bench = Argon2Bench {
        memory_kib: params.memory_kib,
        iterations: params.iterations,
        parallelism: params.parallelism,
        verifies_per_sec: 0.0,
        verify_ms: 0.0,
        threads: threads.max(1),
        seconds: 0.0,
    };
    let phc = match hash_password(params, BENCH_PASSWORD) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "argon2 benchmark: cannot hash with the configured parameters");
            return bench;
        }
    };
    // the warm-up verify allocates this thread's working memory, as the server's first one does
    if !verify_password(&phc, BENCH_PASSWORD) {
        tracing::warn!("argon2 benchmark: the fresh hash does not verify");
        return bench;
    }
    let mut samples: Vec<f64> = (0..LATENCY_SAMPLES)
        .map(|_| {
            let t = Instant::now();
            verify_password(&phc, BENCH_PASSWORD);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    bench.verify_ms = samples[samples.len() / 2];

    let run_for = Duration::from_secs_f64(if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    });
    let barrier = std::sync::Barrier::new(bench.threads + 1);
    let (count, took) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..bench.threads)
            .map(|_| {
                let (phc, barrier) = (&phc, &barrier);
                s.spawn(move || {
                    verify_password(phc, BENCH_PASSWORD);
                    barrier.wait();
                    let t = Instant::now();
                    let mut n = 0u64;
                    // at least one, so a machine slower than the budget still gives a figure
                    while n == 0 || t.elapsed() < run_for {
                        verify_password(phc, BENCH_PASSWORD);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        barrier.wait();
        let t = Instant::now();
        let count: u64 = workers.into_iter().filter_map(|w| w.join().ok()).sum();
        (count, t.elapsed())
    });
    bench.seconds = took.as_secs_f64();
    if bench.seconds > 0.0 {
        bench.verifies_per_sec = count as f64 / bench.seconds;
    }
    bench
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// RAM and swap from `/proc/meminfo`, narrowed to this process's cgroup (v2, or the v1 memory
/// controller) when its limit is lower.
pub fn memory() -> Memory {
    let info = parse_meminfo(&read("/proc/meminfo").unwrap_or_default());
    let cgroup = cgroup_memory(
        &read("/proc/self/mountinfo").unwrap_or_default(),
        &read("/proc/self/cgroup").unwrap_or_default(),
        &|p: &Path| std::fs::read_to_string(p).ok(),
    );
    memory_from(info, cgroup)
}

/// The state directory (role `database`) and the data directory (role `files`), merged into
/// one entry when both are on the same mount. A directory that does not exist yet is measured
/// at its nearest existing parent. No benchmark is run here (see [`probe`]).
pub fn filesystems(cfg: &Config) -> Vec<Filesystem> {
    let mounts = parse_mountinfo(&read("/proc/self/mountinfo").unwrap_or_default());
    let mut out: Vec<Filesystem> = Vec::new();
    for (role, path) in [
        (ROLE_DATABASE, &cfg.paths.state_dir),
        (ROLE_FILES, &cfg.paths.data_dir),
    ] {
        let Some(existing) = nearest_existing(path) else {
            tracing::warn!(path = %path.display(), "no existing directory on the way to it");
            continue;
        };
        let real = std::fs::canonicalize(&existing).unwrap_or(existing.clone());
        let (mount_point, fs_type) = match mount_for(&mounts, &real) {
            Some(m) => (m.mount_point.clone(), m.fs_type.clone()),
            None => (PathBuf::from("/"), "unknown".to_string()),
        };
        if let Some(f) = out.iter_mut().find(|f| f.mount_point == mount_point) {
            f.role = format!("{}+{role}", f.role);
            continue;
        }
        let (size, free, used) = match nix::sys::statvfs::statvfs(&real) {
            Ok(s) => {
                let unit = s.fragment_size();
                (
                    s.blocks().saturating_mul(unit),
                    s.blocks_available().saturating_mul(unit),
                    s.blocks()
                        .saturating_sub(s.blocks_free())
                        .saturating_mul(unit),
                )
            }
            Err(e) => {
                tracing::warn!(path = %real.display(), error = %e, "statvfs failed");
                (0, 0, 0)
            }
        };
        out.push(Filesystem {
            role: role.to_string(),
            path: path.clone(),
            mount_point,
            fs_type,
            size,
            free,
            used,
            bench: None,
        });
    }
    out
}

/// Network links from `/sys/class/net`, without the loopback.
pub fn nics() -> Vec<Nic> {
    nics_in(Path::new("/sys/class/net"))
}

/// [`nics`] over another directory of the same shape (for tests).
pub fn nics_in(dir: &Path) -> Vec<Nic> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Nic> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name != "lo")
        .map(|name| {
            let file = |f: &str| std::fs::read_to_string(dir.join(&name).join(f)).ok();
            // reading `speed` fails with EINVAL on a link that is down, and virtual drivers
            // say -1: both mean "not known"
            let speed_mbit = file("speed")
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|&s| s > 0)
                .map(|s| s as u64);
            let up = file("operstate").is_some_and(|s| s.trim() == "up");
            Nic {
                name,
                speed_mbit,
                up,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Where systemd looks for schola-web's unit and its drop-ins, lowest precedence first.
const UNIT_DIRS: [&str; 4] = [
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/system",
    "/etc/systemd/system",
];
const WEB_UNIT: &str = "schola-web.service";

/// `LimitNOFILE` of schola-web's unit after its drop-ins; `None` when no unit is installed or
/// none of them sets it.
fn web_unit_nofile() -> Option<u64> {
    let mut texts = Vec::new();
    // the unit file in the highest-precedence directory replaces the others
    if let Some(t) = UNIT_DIRS
        .iter()
        .rev()
        .find_map(|d| std::fs::read_to_string(Path::new(d).join(WEB_UNIT)).ok())
    {
        texts.push(t);
    } else {
        return None;
    }
    // drop-ins apply sorted by file name; a name in a later directory overrides the same name
    // in an earlier one
    let mut dropins: HashMap<std::ffi::OsString, PathBuf> = HashMap::new();
    for d in UNIT_DIRS {
        let Ok(entries) = std::fs::read_dir(Path::new(d).join(format!("{WEB_UNIT}.d"))) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            if e.path().extension().is_some_and(|x| x == "conf") {
                dropins.insert(e.file_name(), e.path());
            }
        }
    }
    let mut names: Vec<_> = dropins.into_iter().collect();
    names.sort();
    texts.extend(
        names
            .into_iter()
            .filter_map(|(_, p)| std::fs::read_to_string(p).ok()),
    );
    texts
        .iter()
        .filter_map(|t| parse_limit_nofile(t))
        .next_back()
        .flatten()
}

/// Open-file limits: this process's `RLIMIT_NOFILE`, the kernel's `fs.file-max`, and what
/// schola-web runs with (its systemd unit's `LimitNOFILE`; on a development server, which runs
/// it by hand, or without an installed unit: this process's hard limit).
pub fn open_files(cfg: &Config) -> OpenFiles {
    use nix::sys::resource::{Resource, getrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((1024, 1024));
    let system_max = read("/proc/sys/fs/file-max").and_then(|t| t.trim().parse().ok());
    let unit = if cfg.profile == schola_core::config::Profile::Dev {
        None
    } else {
        web_unit_nofile()
    };
    OpenFiles {
        soft,
        hard,
        system_max,
        web: unit.unwrap_or(hard),
    }
}

/// The limits that cap load, as schola-web derives them for this machine and school
/// ([`schola_core::limits::Limits::derive_for`]), each with where its value comes from.
pub fn configured_limits(
    cfg: &Config,
    cores: usize,
    memory: u64,
    people: usize,
) -> ConfiguredLimits {
    let l = schola_core::limits::Limits::derive_for(cfg, cores, memory, people);
    let source = |set: bool, section: &str, key: &str| {
        if set {
            format!("[{section}] {key}")
        } else {
            "derived".to_string()
        }
    };
    let w = &cfg.web;
    let all = vec![
        Limit {
            key: "web.workers".into(),
            value: l.workers as u64,
            source: source(w.workers != 0, "web", "workers"),
        },
        Limit {
            key: "web.max_connections".into(),
            value: l.max_connections as u64,
            source: source(w.max_connections != 0, "web", "max_connections"),
        },
        Limit {
            key: "web.max_connections_per_client".into(),
            value: l.max_connections_per_client as u64,
            source: source(
                w.max_connections_per_client != 0,
                "web",
                "max_connections_per_client",
            ),
        },
        Limit {
            key: "web.max_in_flight".into(),
            value: l.in_flight as u64,
            source: source(w.max_in_flight != 0, "web", "max_in_flight"),
        },
        Limit {
            key: "web.max_signins_waiting".into(),
            value: l.signins_waiting as u64,
            source: source(w.max_signins_waiting != 0, "web", "max_signins_waiting"),
        },
        Limit {
            key: "auth.hash_threads".into(),
            value: l.hash_threads as u64,
            source: source(cfg.auth.hash_threads != 0, "auth", "hash_threads"),
        },
        // Postfix (smtpd process limit), Dovecot (imap-login and imap process and client
        // limits) and Samba (max smbd processes, open files) join this list once
        // schola-mail and schola-files exist and write their configuration.
    ];
    ConfiguredLimits {
        web_workers: l.workers,
        web_max_connections: l.max_connections,
        web_max_connections_per_client: l.max_connections_per_client,
        web_in_flight: l.in_flight,
        web_signins_waiting: l.signins_waiting,
        web_hash_threads: l.hash_threads,
        all,
    }
}

/// Free space a disk benchmark leaves untouched: it is skipped on a filesystem with less than
/// this many times its byte budget free, so the check never fills a nearly full disk.
const BENCH_FREE_FACTOR: u64 = 4;

/// Probes the whole machine for a school of `people`: everything above, the disk benchmark
/// once per filesystem (in the state or data directory, which the schola user can write), and
/// the argon2 benchmark on every core with the configured parameters.
pub fn probe(cfg: &Config, people: usize, opts: &ProbeOptions) -> Machine {
    let cores = cores();
    let memory = memory();
    let mut filesystems = filesystems(cfg);
    if opts.disk_bench {
        for fs in &mut filesystems {
            if fs.free < opts.disk_max_bytes.saturating_mul(BENCH_FREE_FACTOR) {
                tracing::warn!(path = %fs.path.display(), free = fs.free, "too little free space for the disk benchmark; skipped");
                continue;
            }
            let Some(dir) = nearest_existing(&fs.path) else {
                continue;
            };
            match disk_bench(&dir, opts.disk_max_bytes, opts.disk_max_seconds) {
                Ok(b) => fs.bench = Some(b),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "disk benchmark failed")
                }
            }
        }
    }
    let argon2 = argon2_bench(cfg.auth.argon2, cores, opts.argon2_seconds);
    Machine {
        hostname: read("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
        cpu_model: read("/proc/cpuinfo")
            .and_then(|t| parse_cpu_model(&t))
            .unwrap_or_else(|| "unknown".into()),
        cores,
        cpu_quota: cgroup_cpu_quota(
            &read("/proc/self/mountinfo").unwrap_or_default(),
            &read("/proc/self/cgroup").unwrap_or_default(),
            &|p: &Path| std::fs::read_to_string(p).ok(),
        ),
        argon2,
        memory,
        filesystems,
        nics: nics(),
        open_files: open_files(cfg),
        limits: configured_limits(cfg, cores, memory.total, people),
        oom_kills: read("/proc/vmstat").and_then(|t| parse_vmstat_oom_kills(&t)),
        uptime_secs: read("/proc/uptime").and_then(|t| parse_uptime(&t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_their_source() {
        let mut cfg = Config::default();
        cfg.web.max_connections = 4_000;
        let l = configured_limits(&cfg, 2, 4 << 30, 300);
        assert_eq!(l.web_max_connections, 4_000);
        let by_key = |k: &str| l.all.iter().find(|x| x.key == k).cloned().unwrap();
        assert_eq!(
            by_key("web.max_connections").source,
            "[web] max_connections"
        );
        assert_eq!(by_key("web.max_connections").value, 4_000);
        assert_eq!(by_key("web.max_in_flight").source, "derived");
        assert_eq!(by_key("web.max_in_flight").value, 512, "256 per core");
        assert_eq!(by_key("web.workers").value, 2);
        assert_eq!(l.all.len(), 6);
    }

    #[test]
    fn nics_skip_loopback_and_unknown_speeds() {
        let dir = tempfile::tempdir().unwrap();
        let nic = |name: &str, speed: Option<&str>, state: &str| {
            let d = dir.path().join(name);
            std::fs::create_dir(&d).unwrap();
            if let Some(s) = speed {
                std::fs::write(d.join("speed"), s).unwrap();
            }
            std::fs::write(d.join("operstate"), state).unwrap();
        };
        nic("lo", Some("-1\n"), "unknown\n");
        nic("eth0", Some("1000\n"), "up\n");
        nic("veth1", Some("-1\n"), "up\n");
        nic("wlan0", None, "down\n");
        let got = nics_in(dir.path());
        assert_eq!(
            got,
            vec![
                Nic {
                    name: "eth0".into(),
                    speed_mbit: Some(1000),
                    up: true
                },
                Nic {
                    name: "veth1".into(),
                    speed_mbit: None,
                    up: true
                },
                Nic {
                    name: "wlan0".into(),
                    speed_mbit: None,
                    up: false
                },
            ]
        );
    }

    #[test]
    fn state_and_data_on_one_mount_are_one_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::default();
        cfg.paths.state_dir = dir.path().join("state");
        cfg.paths.data_dir = dir.path().join("not/yet/made");
        let fs = filesystems(&cfg);
        assert_eq!(fs.len(), 1, "{fs:?}");
        assert_eq!(fs[0].role, "database+files");
        assert!(fs[0].has_role(ROLE_FILES) && fs[0].has_role(ROLE_DATABASE));
        assert_eq!(fs[0].path, cfg.paths.state_dir);
        assert!(fs[0].size > 0 && fs[0].size >= fs[0].free, "{fs:?}");
    }

    #[test]
    fn bad_argon2_parameters_give_zero_not_a_panic() {
        let bad = Argon2Config {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        };
        let b = argon2_bench(bad, 1, 0.1);
        assert_eq!((b.verifies_per_sec, b.verify_ms), (0.0, 0.0));
    }
}
