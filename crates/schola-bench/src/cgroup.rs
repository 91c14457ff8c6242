//! Machine sizes emulated on this machine with Linux control groups, for the capacity accuracy
//! benchmark: a child group per size with a CPU quota and a memory limit, into which processes
//! are started (`sh -c 'echo $$ > …/cgroup.procs && exec …'`, so they work inside it from their
//! first instruction), and a group with a high CPU weight for the load generator so that the
//! rest of the machine's load takes neither its CPU nor the server's.
//!
//! Both layouts are handled: the unified hierarchy (cgroup v2, `cpu.max`, `memory.max`) and the
//! legacy one (v1, `cpu.cfs_quota_us`, `memory.limit_in_bytes`), where the groups are made
//! below this process's own group of each controller. Everything made is removed on drop, and by
//! [`install_interrupt_cleanup`] on Ctrl-C or SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

const ROOT: &str = "/sys/fs/cgroup";
const PERIOD_US: u64 = 100_000;
/// CPU weight of our groups against the rest of the machine (v2 `cpu.weight` 1–10000,
/// default 100; v1 `cpu.shares`, default 1024): the emulated machine gets its quota even
/// while other work runs.
const WEIGHT_V2: u64 = 10_000;
const SHARES_V1: u64 = 102_400;

/// One machine size: cores (may be fractional: a quota) and memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub cores: f64,
    pub memory: u64,
}

impl Size {
    /// `0.5 core / 1 GiB`.
    pub fn label(&self) -> String {
        let gib = self.memory as f64 / f64::from(1u32 << 30);
        let cores = if self.cores == 1.0 { "core" } else { "cores" };
        format!("{} {cores} / {} GiB", trim(self.cores), trim(gib))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `0.5:1G,1:2G,1.5:3G` (memory with K, M or G, powers of 1024).
pub fn parse_sizes(text: &str) -> Result<Vec<Size>> {
    let mut sizes = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((cores, memory)) = part.split_once(':') else {
            bail!("size '{part}': expected CORES:MEMORY such as 1:2G");
        };
        let cores: f64 = cores
            .trim()
            .parse()
            .with_context(|| format!("size '{part}': cores '{cores}' is not a number"))?;
        if !(0.05..=1_024.0).contains(&cores) {
            bail!("size '{part}': cores must be between 0.05 and 1024");
        }
        let memory = parse_bytes(memory.trim())
            .with_context(|| format!("size '{part}': memory '{memory}' is not like 512M or 2G"))?;
        if memory < 64 << 20 {
            bail!("size '{part}': memory must be at least 64M");
        }
        sizes.push(Size { cores, memory });
    }
    if sizes.is_empty() {
        bail!("no size given (e.g. --sizes 0.5:1G,1:2G)");
    }
    Ok(sizes)
}

fn parse_bytes(text: &str) -> Result<u64> {
    let (num, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let mult: u64 = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        other => bail!("unknown unit '{other}'"),
    };
    let n: f64 = num.trim().parse()?;
    if !n.is_finite() || n <= 0.0 {
        bail!("not a positive size");
    }
    Ok((n * mult as f64) as u64)
}

/// Which hierarchy layout this machine has, with the directory our groups go below for each
/// controller, and the group this process was in (to return to).
#[derive(Debug, Clone)]
enum Layout {
    V2 {
        parent: PathBuf,
        own: PathBuf,
    },
    V1 {
        cpu_parent: PathBuf,
        memory_parent: PathBuf,
        own_cpu: PathBuf,
    },
}

fn detect() -> Result<Layout> {
    let root = Path::new(ROOT);
    let own =
        std::fs::read_to_string("/proc/self/cgroup").context("cannot read /proc/self/cgroup")?;
    if root.join("cgroup.controllers").exists() {
        let controllers = std::fs::read_to_string(root.join("cgroup.controllers"))
            .context("cannot read /sys/fs/cgroup/cgroup.controllers")?;
        for c in ["cpu", "memory"] {
            if !controllers.split_whitespace().any(|x| x == c) {
                bail!(
                    "cgroup v2 at {ROOT} has no '{c}' controller (cgroup.controllers: {controllers:?})"
                );
            }
        }
        let path = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .unwrap_or("/");
        return Ok(Layout::V2 {
            parent: root.to_path_buf(),
            own: root.join(path.trim_start_matches('/')),
        });
    }
    // legacy: one hierarchy per controller; our groups go below our own group of each
    let path_of = |controller: &str| -> Option<String> {
        own.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, list, path) = (f.next()?, f.next()?, f.next()?);
            list.split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
    };
    let mount = |controller: &str| -> Option<PathBuf> {
        ["", ",cpuacct"]
            .iter()
            .map(|extra| root.join(format!("{controller}{extra}")))
            .chain([root.join("cpu,cpuacct")])
            .find(|p| p.is_dir())
    };
    let (Some(cpu_mount), Some(memory_mount)) = (mount("cpu"), mount("memory")) else {
        bail!("no cgroup v2 at {ROOT} and no v1 'cpu' and 'memory' hierarchies below it");
    };
    let cpu_path = path_of("cpu").unwrap_or_else(|| "/".into());
    let memory_path = path_of("memory").unwrap_or_else(|| "/".into());
    let own_cpu = cpu_mount.join(cpu_path.trim_start_matches('/'));
    Ok(Layout::V1 {
        cpu_parent: own_cpu.clone(),
        memory_parent: memory_mount.join(memory_path.trim_start_matches('/')),
        own_cpu,
    })
}

/// What has to be undone, shared with the interrupt handler.
#[derive(Debug, Default)]
pub struct Cleanup {
    /// Groups we made, deepest last (removed in reverse).
    dirs: Vec<PathBuf>,
    /// Where to write our pid to leave the load generator's group.
    own_procs: Option<PathBuf>,
    /// Temp directories to remove when interrupted (normally removed by their owners).
    pub temp_dirs: Vec<PathBuf>,
}

impl Cleanup {
    /// Kills what is left in our groups (only our own children can be there), returns this
    /// process to its own group and removes the groups.
    fn run(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(p) = self.own_procs.take()
            && let Err(e) = std::fs::write(&p, std::process::id().to_string())
        {
            problems.push(format!("cannot return to {}: {e}", p.display()));
        }
        for dir in self.dirs.iter().rev() {
            kill_members(dir);
        }
        for dir in std::mem::take(&mut self.dirs).into_iter().rev() {
            if let Err(e) = remove_group(&dir) {
                problems.push(e);
            }
        }
        problems
    }
}

fn kill_members(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
        return;
    };
    for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        if pid as u32 != std::process::id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// `rmdir`, retried for a few seconds while killed members exit.
fn remove_group(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    let start = Instant::now();
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if start.elapsed() > Duration::from_secs(5) => {
                return Err(format!("cannot remove {}: {e}", dir.display()));
            }
            Err(_) => {
                kill_members(dir);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Our groups: `schola-capacity-<pid>` with a `load` group for this process and one group per
/// machine size.
pub struct Groups {
    layout: Layout,
    bases: Vec<PathBuf>,
    cleanup: Arc<Mutex<Cleanup>>,
}

/// One emulated machine: start processes inside it with [`SizeGroup::command`].
#[derive(Debug, Clone)]
pub struct SizeGroup {
    /// `cgroup.procs` of each hierarchy.
    procs: Vec<PathBuf>,
    pub size: Size,
}

impl SizeGroup {
    /// A command that runs `program` inside this group from its start.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new("/bin/sh");
        let procs: Vec<String> = self.procs.iter().map(|p| p.display().to_string()).collect();
        c.arg("-c")
            .arg(
                "IFS=:; for f in $SCHOLA_CGROUP_PROCS; do echo $$ > \"$f\" || exit 125; done; \
                 unset IFS SCHOLA_CGROUP_PROCS; exec \"$@\"",
            )
            .arg("sh")
            .arg(program)
            .env("SCHOLA_CGROUP_PROCS", procs.join(":"));
        c
    }
}

impl Groups {
    pub fn create(cleanup: Arc<Mutex<Cleanup>>) -> Result<Groups> {
        let layout = detect()?;
        let name = format!("schola-capacity-{}", std::process::id());
        let bases = match &layout {
            Layout::V2 { parent, .. } => {
                // the controllers must be enabled for the children of the root and of our base
                // (cpuset only where it is offered; it is not needed for a quota)
                enable(parent, &["cpu", "memory"], &["cpuset"])?;
                vec![parent.join(&name)]
            }
            Layout::V1 {
                cpu_parent,
                memory_parent,
                ..
            } => vec![cpu_parent.join(&name), memory_parent.join(&name)],
        };
        let groups = Groups {
            layout,
            bases,
            cleanup,
        };
        for b in &groups.bases {
            groups.make(b)?;
        }
        if let Layout::V2 { .. } = groups.layout {
            enable(&groups.bases[0], &["cpu", "memory"], &["cpuset"])?;
        }
        Ok(groups)
    }

    fn make(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir(dir).with_context(|| {
            format!(
                "cannot make the control group {} (this benchmark must run as root)",
                dir.display()
            )
        })?;
        if let Ok(mut c) = self.cleanup.lock() {
            c.dirs.push(dir.to_path_buf());
        }
        Ok(())
    }

    /// Moves this process (the load generator) into a group with a high CPU weight and no
    /// quota; it returns to its own group on drop.
    pub fn enter_load_group(&self) -> Result<()> {
        let (dir, weight_file, weight, own) = match &self.layout {
            Layout::V2 { own, .. } => (
                self.bases[0].join("load"),
                "cpu.weight",
                WEIGHT_V2,
                own.join("cgroup.procs"),
            ),
            Layout::V1 { own_cpu, .. } => (
                self.bases[0].join("load"),
                "cpu.shares",
                SHARES_V1,
                own_cpu.join("cgroup.procs"),
            ),
        };
        self.make(&dir)?;
        write(&dir.join(weight_file), &weight.to_string())?;
        if let Ok(mut c) = self.cleanup.lock() {
            c.own_procs = Some(own);
        }
        write(&dir.join("cgroup.procs"), &std::process::id().to_string())
    }

    /// A group limited to `size`, named `size-<index>`.
    pub fn size_group(&self, index: usize, size: Size) -> Result<SizeGroup> {
        let name = format!("size-{index}");
        let quota = ((size.cores * PERIOD_US as f64).round() as u64).max(1_000);
        let mut procs = Vec::new();
        match &self.layout {
            Layout::V2 { .. } => {
                let dir = self.bases[0].join(&name);
                self.make(&dir)?;
                write(&dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?;
                write(&dir.join("cpu.weight"), &WEIGHT_V2.to_string())?;
                write(&dir.join("memory.max"), &size.memory.to_string())?;
                // a machine of this size would swap to its own disk, not to ours: none at all
                if dir.join("memory.swap.max").exists() {
                    write(&dir.join("memory.swap.max"), "0")?;
                }
                procs.push(dir.join("cgroup.procs"));
            }
            Layout::V1 { .. } => {
                let cpu = self.bases[0].join(&name);
                self.make(&cpu)?;
                write(&cpu.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&cpu.join("cpu.cfs_quota_us"), &quota.to_string())?;
                write(&cpu.join("cpu.shares"), &SHARES_V1.to_string())?;
                let memory = self.bases[1].join(&name);
                self.make(&memory)?;
                write(
                    &memory.join("memory.limit_in_bytes"),
                    &size.memory.to_string(),
                )?;
                procs.push(cpu.join("cgroup.procs"));
                procs.push(memory.join("cgroup.procs"));
            }
        }
        Ok(SizeGroup { procs, size })
    }

    /// Removes a size's group once its processes are gone (they are killed if not).
    pub fn remove_size_group(&self, group: &SizeGroup) -> Result<()> {
        let dirs: Vec<PathBuf> = group
            .procs
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        for d in &dirs {
            remove_group(d).map_err(anyhow::Error::msg)?;
        }
        if let Ok(mut c) = self.cleanup.lock() {
            c.dirs.retain(|d| !dirs.contains(d));
        }
        Ok(())
    }
}

impl Drop for Groups {
    fn drop(&mut self) {
        if let Ok(mut c) = self.cleanup.lock() {
            for p in c.run() {
                eprintln!("warning: {p}");
            }
        }
    }
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .with_context(|| format!("cannot write '{value}' to {}", path.display()))
}

/// Enables `required` controllers (and `optional` ones where offered) for the children of
/// the v2 group `dir`.
fn enable(dir: &Path, required: &[&str], optional: &[&str]) -> Result<()> {
    let control = dir.join("cgroup.subtree_control");
    let offered = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let enabled = std::fs::read_to_string(&control).unwrap_or_default();
    for c in required.iter().chain(optional) {
        if enabled.split_whitespace().any(|x| x == *c) {
            continue;
        }
        if !offered.split_whitespace().any(|x| x == *c) {
            if required.contains(c) {
                bail!("{}: the '{c}' controller is not offered", dir.display());
            }
            continue;
        }
        let r = std::fs::write(&control, format!("+{c}"));
        if let Err(e) = r
            && required.contains(c)
        {
            bail!("cannot enable '{c}' in {}: {e}", control.display());
        }
    }
    Ok(())
}

/// On Ctrl-C or SIGTERM: kill what runs in our groups, remove them and the registered temp
/// directories, and exit with 130.
pub fn install_interrupt_cleanup(cleanup: Arc<Mutex<Cleanup>>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    let mut term = rt
        .block_on(async {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        })
        .context("cannot listen for SIGTERM")?;
    std::thread::spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        eprintln!("\ninterrupted: stopping the servers and removing the control groups ...");
        if let Ok(mut c) = cleanup.lock() {
            for p in c.run() {
                eprintln!("warning: {p}");
            }
            for d in &c.temp_dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        }
        std::process::exit(130);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_as_people_write_them() {
        let s = parse_sizes("0.5:1G, 1:2G,1.5:3072M").unwrap();
        assert_eq!(
            s,
            vec![
                Size {
                    cores: 0.5,
                    memory: 1 << 30
                },
                Size {
                    cores: 1.0,
                    memory: 2 << 30
                },
                Size {
                    cores: 1.5,
                    memory: 3 << 30
                },
            ]
        );
        assert_eq!(s[0].label(), "0.5 cores / 1 GiB");
        assert_eq!(s[1].label(), "1 core / 2 GiB");
        assert_eq!(parse_sizes("2:1.5GiB").unwrap()[0].memory, 3 << 29);
        for bad in ["", "1", "x:1G", "1:1T", "0:1G", "1:1M"] {
            assert!(parse_sizes(bad).is_err(), "{bad}");
        }
    }
}
