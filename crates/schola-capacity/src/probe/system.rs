//! Pure parsers for what the kernel and systemd write (`/proc/meminfo`, `/proc/self/mountinfo`,
//! `/proc/self/cgroup`, `/proc/vmstat`, unit files), and the cgroup memory walk over a file
//! reader, so tests run on fixed text instead of on whatever machine runs them.

use std::path::{Path, PathBuf};

/// The four `/proc/meminfo` lines the probe uses, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeminfoValues {
    pub total: u64,
    pub available: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

/// Parses `/proc/meminfo` (values in kB, which the kernel means as KiB). Kernels before 3.14
/// have no `MemAvailable`; `MemFree` is the nearest lower bound then.
pub fn parse_meminfo(text: &str) -> MeminfoValues {
    let mut free = None;
    let mut available = None;
    let mut v = MeminfoValues::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let Some(kib) = rest
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let bytes = kib.saturating_mul(1024);
        match key.trim() {
            "MemTotal" => v.total = bytes,
            "MemFree" => free = Some(bytes),
            "MemAvailable" => available = Some(bytes),
            "SwapTotal" => v.swap_total = bytes,
            "SwapFree" => v.swap_free = bytes,
            _ => {}
        }
    }
    v.available = available.or(free).unwrap_or(0);
    v
}

/// One line of `/proc/self/mountinfo` (proc(5)), the fields the probe needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// The directory of the mounted filesystem that appears at `mount_point` (`/` usually; a
    /// cgroup path for a cgroup mount inside a container).
    pub root: String,
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub source: String,
    pub super_options: String,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if bytes[i] == b'\\'
            && let Some(d) = octal
        {
            out.push(
                d.iter()
                    .fold(0u8, |n, b| n.wrapping_mul(8).wrapping_add(b - b'0')),
            );
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `/proc/self/mountinfo`: `id parent maj:min root mount-point options [optional…] -
/// fstype source super-options`. Lines that do not have that shape are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split_whitespace().collect();
            let mut right = right.split_whitespace();
            let (root, mount_point) = (left.get(3)?, left.get(4)?);
            Some(MountEntry {
                root: unescape(root),
                mount_point: PathBuf::from(unescape(mount_point)),
                fs_type: right.next()?.to_string(),
                source: unescape(right.next().unwrap_or("")),
                super_options: right.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// The mount `path` (absolute, symlinks resolved) lives on: the longest mount point that is a
/// prefix of it, the later one when a directory is mounted over twice.
pub fn mount_for<'a>(mounts: &'a [MountEntry], path: &Path) -> Option<&'a MountEntry> {
    let mut best: Option<&MountEntry> = None;
    for m in mounts {
        if path.starts_with(&m.mount_point)
            && best.is_none_or(|b| {
                m.mount_point.components().count() >= b.mount_point.components().count()
            })
        {
            best = Some(m);
        }
    }
    best
}

/// `path` if it exists, else its nearest existing parent (a state or data directory that has
/// not been made yet still has a filesystem it will be on).
pub fn nearest_existing(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .map(Path::to_path_buf)
}

/// What the cgroups this process is in allow it, when any of them sets a memory limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupMemory {
    /// The lowest `memory.max` (v2) or `memory.limit_in_bytes` (v1) on the way to the root.
    pub limit: u64,
    /// The least headroom of any limited level: its limit minus what it uses.
    pub available: u64,
    /// The lowest `memory.swap.max` (v2), and the least swap headroom under it.
    pub swap_limit: Option<u64>,
    pub swap_available: Option<u64>,
}

/// A cgroup v1 "unlimited" is the largest page counter (9223372036854771712 on x86-64); no
/// machine has anything near 2^62 bytes, so values from there up mean "no limit".
const V1_UNLIMITED: u64 = 1 << 62;

fn parse_limit(text: &str) -> Option<u64> {
    let t = text.trim();
    if t == "max" {
        return None;
    }
    t.parse::<u64>().ok().filter(|&n| n < V1_UNLIMITED)
}

fn stat_value(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The cgroup directories of this process, innermost first, for the v2 hierarchy and the v1
/// memory controller, with the file names each uses.
struct Hierarchy {
    dir: PathBuf,
    top: PathBuf,
    v2: bool,
}

fn hierarchies(mounts: &[MountEntry], proc_cgroup: &str) -> Vec<Hierarchy> {
    hierarchies_of(mounts, proc_cgroup, "memory")
}

/// The v2 hierarchy and the v1 hierarchy of `controller` (`memory`, `cpu`).
fn hierarchies_of(mounts: &[MountEntry], proc_cgroup: &str, controller: &str) -> Vec<Hierarchy> {
    let mut out = Vec::new();
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let v2 = id == "0" && controllers.is_empty();
        let v1_ours = controllers.split(',').any(|c| c == controller);
        if !v2 && !v1_ours {
            continue;
        }
        let Some(mount) = mounts.iter().rev().find(|m| {
            if v2 {
                m.fs_type == "cgroup2"
            } else {
                m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == controller)
            }
        }) else {
            continue;
        };
        // Inside a container without its own cgroup namespace the mount shows only a subtree
        // (`root`), while the path is still from the top: cut the subtree off.
        let rel = path.strip_prefix(mount.root.as_str()).unwrap_or(path);
        out.push(Hierarchy {
            dir: mount.mount_point.join(rel.trim_start_matches('/')),
            top: mount.mount_point.clone(),
            v2,
        });
    }
    out
}

/// Walks from this process's cgroups up to the root of each hierarchy and returns the tightest
/// memory limit, `None` when no level sets one. `read` reads a file (the real one reads the
/// filesystem; tests hand in a map).
///
/// Usage counts the page cache, which the kernel reclaims before it kills anything; like
/// `docker stats` and cAdvisor's working set, the inactive file cache is not counted as used.
pub fn cgroup_memory(
    mountinfo: &str,
    proc_cgroup: &str,
    read: &dyn Fn(&Path) -> Option<String>,
) -> Option<CgroupMemory> {
    let mounts = parse_mountinfo(mountinfo);
    let mut found: Option<CgroupMemory> = None;
    for h in hierarchies(&mounts, proc_cgroup) {
        let (max, current, inactive) = if h.v2 {
            ("memory.max", "memory.current", "inactive_file")
        } else {
            (
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "total_inactive_file",
            )
        };
        for dir in h.dir.ancestors().take_while(|d| d.starts_with(&h.top)) {
            let Some(limit) = read(&dir.join(max)).as_deref().and_then(parse_limit) else {
                continue;
            };
            let used = read(&dir.join(current))
                .and_then(|t| t.trim().parse::<u64>().ok())
                .unwrap_or(0);
            let cache = read(&dir.join("memory.stat"))
                .and_then(|s| stat_value(&s, inactive))
                .unwrap_or(0);
            let headroom = limit.saturating_sub(used.saturating_sub(cache));
            let f = found.get_or_insert(CgroupMemory {
                limit,
                available: headroom,
                swap_limit: None,
                swap_available: None,
            });
            f.limit = f.limit.min(limit);
            f.available = f.available.min(headroom);
        }
        // cgroup v1's swap limit (memory.memsw) is memory plus swap together and cannot be
        // split; only v2 says how much swap a group may use.
        if h.v2 {
            for dir in h.dir.ancestors().take_while(|d| d.starts_with(&h.top)) {
                let Some(limit) = read(&dir.join("memory.swap.max"))
                    .as_deref()
                    .and_then(parse_limit)
                else {
                    continue;
                };
                let used = read(&dir.join("memory.swap.current"))
                    .and_then(|t| t.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                if let Some(f) = found.as_mut() {
                    f.swap_limit = Some(f.swap_limit.map_or(limit, |s| s.min(limit)));
                    let free = limit.saturating_sub(used);
                    f.swap_available = Some(f.swap_available.map_or(free, |s| s.min(free)));
                }
            }
        }
    }
    found
}

/// The tightest CPU quota of this process's cgroups, in cores (`1.5` = 150 ms of CPU per
/// 100 ms), from v2 `cpu.max` or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, walking up to
/// the root; `None` when no level sets one. The standard library's core count rounds a quota
/// down (1.5 → 1); the model needs the fraction, since the spare half core does the TLS and the
/// pages while one hash thread verifies.
pub fn cgroup_cpu_quota(
    mountinfo: &str,
    proc_cgroup: &str,
    read: &dyn Fn(&Path) -> Option<String>,
) -> Option<f64> {
    let mounts = parse_mountinfo(mountinfo);
    let mut found: Option<f64> = None;
    for h in hierarchies_of(&mounts, proc_cgroup, "cpu") {
        for dir in h.dir.ancestors().take_while(|d| d.starts_with(&h.top)) {
            let quota = if h.v2 {
                read(&dir.join("cpu.max")).and_then(|t| {
                    let mut f = t.split_whitespace();
                    let (q, p) = (
                        f.next()?.parse::<f64>().ok()?,
                        f.next()?.parse::<f64>().ok()?,
                    );
                    (p > 0.0).then_some(q / p)
                })
            } else {
                let q = read(&dir.join("cpu.cfs_quota_us"))
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .filter(|q| *q > 0.0);
                let p = read(&dir.join("cpu.cfs_period_us"))
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .filter(|p| *p > 0.0);
                q.zip(p).map(|(q, p)| q / p)
            };
            if let Some(q) = quota {
                found = Some(found.map_or(q, |f: f64| f.min(q)));
            }
        }
    }
    found
}

/// The machine's memory, narrowed to the cgroup's when its limit is lower than the RAM.
pub fn memory_from(info: MeminfoValues, cgroup: Option<CgroupMemory>) -> super::Memory {
    let mut m = super::Memory {
        total: info.total,
        available: info.available,
        swap_total: info.swap_total,
        swap_free: info.swap_free,
        cgroup_limited: false,
    };
    let Some(cg) = cgroup else {
        return m;
    };
    if cg.limit < info.total {
        m.total = cg.limit;
        m.available = cg.available.min(info.available);
        m.cgroup_limited = true;
    }
    if let (Some(limit), Some(free)) = (cg.swap_limit, cg.swap_available)
        && limit < info.swap_total
    {
        m.swap_total = limit;
        m.swap_free = free.min(info.swap_free);
    }
    m
}

/// Kernel OOM kills since boot: `oom_kill` in `/proc/vmstat` (Linux 4.13 and later).
pub fn parse_vmstat_oom_kills(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|v| v.trim().parse().ok())
}

/// The CPU's name from `/proc/cpuinfo`: `model name` on x86, `Model` or `Hardware` on ARM
/// boards, `cpu model` on some others.
pub fn parse_cpu_model(text: &str) -> Option<String> {
    for key in ["model name", "Model", "Hardware", "cpu model"] {
        let found = text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key && !v.trim().is_empty()).then(|| v.trim().to_string())
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Whole seconds since boot from `/proc/uptime` (`12345.67 23456.78`).
pub fn parse_uptime(text: &str) -> Option<u64> {
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs as u64)
}

/// `LimitNOFILE=` of a unit file or drop-in: the soft limit, which the daemon runs with (it does
/// not raise it). `soft:hard` takes the soft part, `infinity` is unlimited; an empty assignment
/// resets to "not set" (`Some(None)`); `None` when the text does not mention it.
pub fn parse_limit_nofile(text: &str) -> Option<Option<u64>> {
    let mut result = None;
    let mut in_service = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_service = line == "[Service]";
            continue;
        }
        let Some(value) = line
            .strip_prefix("LimitNOFILE")
            .and_then(|r| r.trim_start().strip_prefix('='))
        else {
            continue;
        };
        if !in_service {
            continue;
        }
        let soft = value.trim().split(':').next().unwrap_or("").trim();
        result = Some(match soft {
            "" => None,
            "infinity" => Some(u64::MAX),
            n => n.parse().ok(),
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_cpu_quota_is_read_from_v1_and_v2_and_the_tightest_level_wins() {
        let v2 = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let files = |path: &Path| -> Option<String> {
            match path.to_str()? {
                "/sys/fs/cgroup/bench/size/cpu.max" => Some("150000 100000\n".into()),
                "/sys/fs/cgroup/bench/cpu.max" => Some("max 100000\n".into()),
                "/sys/fs/cgroup/cpu/a/b/cpu.cfs_quota_us" => Some("50000\n".into()),
                "/sys/fs/cgroup/cpu/a/b/cpu.cfs_period_us" => Some("100000\n".into()),
                "/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us" => Some("-1\n".into()),
                "/sys/fs/cgroup/cpu/a/cpu.cfs_period_us" => Some("100000\n".into()),
                _ => None,
            }
        };
        assert_eq!(cgroup_cpu_quota(v2, "0::/bench/size\n", &files), Some(1.5));
        assert_eq!(
            cgroup_cpu_quota(v2, "0::/bench\n", &files),
            None,
            "max = no quota"
        );
        let v1 = "31 1 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(
            cgroup_cpu_quota(v1, "5:cpu,cpuacct:/a/b\n", &files),
            Some(0.5)
        );
        assert_eq!(
            cgroup_cpu_quota(v1, "5:cpu,cpuacct:/a\n", &files),
            None,
            "-1 = no quota"
        );
    }

    const MEMINFO: &str = "MemTotal:        8038324 kB\nMemFree:          512000 kB\n\
        MemAvailable:    6020000 kB\nBuffers:           21864 kB\nSwapCached:            0 kB\n\
        SwapTotal:       2097148 kB\nSwapFree:        1048574 kB\n";

    #[test]
    fn meminfo_values_are_bytes() {
        let m = parse_meminfo(MEMINFO);
        assert_eq!(m.total, 8_038_324 * 1024);
        assert_eq!(m.available, 6_020_000 * 1024);
        assert_eq!(m.swap_total, 2_097_148 * 1024);
        assert_eq!(m.swap_free, 1_048_574 * 1024);
        let old = parse_meminfo("MemTotal: 1000 kB\nMemFree: 300 kB\n");
        assert_eq!(
            old.available,
            300 * 1024,
            "MemFree when MemAvailable is missing"
        );
    }

    const MOUNTINFO: &str = "\
22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
30 22 252:2 / /srv rw,relatime shared:5 - xfs /dev/vdb1 rw,attr2
31 30 252:3 / /srv/schola rw,relatime shared:6 - btrfs /dev/vdc rw,space_cache=v2
40 22 0:50 / /mnt/my\\040disk rw - ext4 /dev/sdz1 rw
41 22 0:51 / /var/lib/schola rw - tmpfs tmpfs rw
42 22 0:52 / /var/lib/schola rw - ext4 /dev/vdd1 rw
";

    #[test]
    fn the_longest_mount_point_wins() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 7);
        let at = |p: &str| mount_for(&mounts, Path::new(p)).map(|m| m.fs_type.clone());
        assert_eq!(at("/srv/schola/home/x").as_deref(), Some("btrfs"));
        assert_eq!(at("/srv/other").as_deref(), Some("xfs"));
        assert_eq!(
            at("/srv/scholastic").as_deref(),
            Some("xfs"),
            "component prefix, not string prefix"
        );
        assert_eq!(at("/home").as_deref(), Some("ext4"));
        assert_eq!(
            at("/var/lib/schola/schola.db").as_deref(),
            Some("ext4"),
            "the later of two mounts on one directory covers the earlier"
        );
        assert_eq!(
            mount_for(&mounts, Path::new("/mnt/my disk/x")).map(|m| m.source.as_str()),
            Some("/dev/sdz1"),
            "\\040 is a space"
        );
    }

    fn files(entries: &[(&str, &str)]) -> impl Fn(&Path) -> Option<String> {
        let map: HashMap<PathBuf, String> = entries
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        move |p: &Path| map.get(p).cloned()
    }

    const GIB: u64 = 1 << 30;

    #[test]
    fn a_cgroup_v2_limit_on_a_parent_counts() {
        let read = files(&[
            ("/sys/fs/cgroup/system.slice/memory.max", "4294967296\n"),
            ("/sys/fs/cgroup/system.slice/memory.current", "3221225472\n"),
            (
                "/sys/fs/cgroup/system.slice/memory.stat",
                "anon 1073741824\nfile 2147483648\ninactive_file 1073741824\n",
            ),
            (
                "/sys/fs/cgroup/system.slice/schola-web.service/memory.max",
                "max\n",
            ),
            (
                "/sys/fs/cgroup/system.slice/schola-web.service/memory.current",
                "100\n",
            ),
            (
                "/sys/fs/cgroup/system.slice/schola-web.service/memory.swap.max",
                "536870912\n",
            ),
            (
                "/sys/fs/cgroup/system.slice/schola-web.service/memory.swap.current",
                "134217728\n",
            ),
        ]);
        let cg = cgroup_memory(MOUNTINFO, "0::/system.slice/schola-web.service\n", &read);
        assert_eq!(
            cg,
            Some(CgroupMemory {
                limit: 4 * GIB,
                // 3 GiB used of which 1 GiB is cache the kernel can drop
                available: 2 * GIB,
                swap_limit: Some(512 << 20),
                swap_available: Some(384 << 20),
            })
        );
        let m = memory_from(parse_meminfo(MEMINFO), cg);
        assert!(m.cgroup_limited);
        assert_eq!((m.total, m.available), (4 * GIB, 2 * GIB));
        assert_eq!(m.swap_total, 512 << 20);
        assert_eq!(m.swap_free, 384 << 20);

        let none = files(&[("/sys/fs/cgroup/user.slice/memory.max", "max\n")]);
        assert_eq!(cgroup_memory(MOUNTINFO, "0::/user.slice\n", &none), None);
    }

    #[test]
    fn a_cgroup_limit_above_the_ram_changes_nothing() {
        let cg = CgroupMemory {
            limit: 64 * GIB,
            available: 60 * GIB,
            swap_limit: None,
            swap_available: None,
        };
        let info = parse_meminfo(MEMINFO);
        let m = memory_from(info, Some(cg));
        assert!(!m.cgroup_limited);
        assert_eq!((m.total, m.available), (info.total, info.available));
    }

    #[test]
    fn cgroup_v1_memory_and_a_container_subtree() {
        // hybrid layout (v1 memory controller); the mount shows the container's subtree only
        let mountinfo = "22 1 252:1 / / rw - ext4 /dev/vda rw\n\
            33 22 0:30 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n\
            34 22 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let read = files(&[
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "2147483648\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.usage_in_bytes",
                "1073741824\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.stat",
                "cache 10\ntotal_inactive_file 536870912\n",
            ),
            ("/sys/fs/cgroup/unified/memory.max", "9223372036854771712\n"),
        ]);
        let cg = cgroup_memory(mountinfo, "4:memory:/docker/abc\n0::/\n", &read);
        assert_eq!(
            cg.map(|c| (c.limit, c.available)),
            Some((2 * GIB, 1536 << 20))
        );
        let unlimited = files(&[(
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        )]);
        assert_eq!(
            cgroup_memory(mountinfo, "4:memory:/docker/abc\n", &unlimited),
            None,
            "v1's unlimited is not a limit"
        );
    }

    #[test]
    fn vmstat_cpuinfo_uptime() {
        assert_eq!(
            parse_vmstat_oom_kills("nr_free_pages 1\noom_kill 3\npgfault 9\n"),
            Some(3)
        );
        assert_eq!(parse_vmstat_oom_kills("nr_free_pages 1\n"), None);
        assert_eq!(
            parse_cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags : x\n").as_deref(),
            Some("AMD EPYC 7B13")
        );
        assert_eq!(
            parse_cpu_model("processor : 0\nHardware : BCM2835\nModel : Raspberry Pi 4\n")
                .as_deref(),
            Some("Raspberry Pi 4")
        );
        assert_eq!(parse_uptime("12345.67 23456.78\n"), Some(12_345));
        assert_eq!(parse_uptime("garbage"), None);
    }

    #[test]
    fn limit_nofile_from_units_and_drop_ins() {
        let unit = "[Unit]\nDescription=x\n[Service]\nType=notify\nLimitNOFILE=65536\n";
        assert_eq!(parse_limit_nofile(unit), Some(Some(65_536)));
        assert_eq!(
            parse_limit_nofile("[Service]\nLimitNOFILE=1024:524288\n"),
            Some(Some(1_024)),
            "the soft limit is what the daemon gets"
        );
        assert_eq!(
            parse_limit_nofile("[Service]\nLimitNOFILE=infinity\n"),
            Some(Some(u64::MAX))
        );
        assert_eq!(
            parse_limit_nofile("[Service]\nLimitNOFILE=\n"),
            Some(None),
            "an empty assignment resets"
        );
        assert_eq!(parse_limit_nofile("[Service]\nType=simple\n"), None);
        assert_eq!(parse_limit_nofile("[Unit]\nLimitNOFILE=5\n"), None);
    }
}
