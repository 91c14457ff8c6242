//! `scholactl upgrade`: Schola's packages upgraded with apt, the Debian way. It refuses to start
//! when a file system the upgrade writes to is short of space (a full disk half-way through an
//! upgrade is the worst time to find out), then runs apt non-interactively; the packages' own
//! maintainer scripts migrate the database with a backup first.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::cli::UpgradeArgs;
use crate::context::Ctx;
use crate::output;

/// Free space an upgrade needs where apt downloads and unpacks packages.
const APT_MIN_FREE: u64 = 512 << 20;

/// Bytes available to unprivileged writers on the file system holding `path`.
fn free_bytes(path: &Path) -> Result<u64> {
    let s = nix::sys::statvfs::statvfs(path)
        .with_context(|| format!("cannot read the free space of {}", path.display()))?;
    Ok(s.blocks_available() as u64 * s.fragment_size() as u64)
}

/// Each place the upgrade writes to, with the space it needs there.
fn space_problems(state_dir: &Path, db: &Path) -> Result<Vec<String>> {
    // the migration's backup is a copy of the database, and its WAL may grow as large again
    let db_size = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let needs = [
        (Path::new("/var/cache/apt/archives"), APT_MIN_FREE),
        (Path::new("/usr"), APT_MIN_FREE),
        (state_dir, 2 * db_size + (64 << 20)),
    ];
    let mut problems = Vec::new();
    for (path, need) in needs {
        if !path.exists() {
            continue;
        }
        let free = free_bytes(path)?;
        if free < need {
            problems.push(format!(
                "{} has {} MiB free and needs {} MiB",
                path.display(),
                free >> 20,
                need.div_ceil(1 << 20)
            ));
        }
    }
    Ok(problems)
}

/// The Schola packages installed here, with their versions.
fn installed() -> Result<Vec<(String, String)>> {
    let out = Command::new("dpkg-query")
        .args([
            "-W",
            "-f=${Package} ${Version} ${db:Status-Abbrev}\\n",
            "schola*",
        ])
        .output()
        .context("cannot run dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (p, v, s) = (f.next()?, f.next()?, f.next()?);
            (s.starts_with('i') && !p.ends_with("-dbgsym")).then(|| (p.to_string(), v.to_string()))
        })
        .collect())
}

/// The version apt would install for `package`.
fn candidate(package: &str) -> Result<Option<String>> {
    let out = Command::new("apt-cache")
        .args(["policy", package])
        .output()
        .context("cannot run apt-cache")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .filter(|c| *c != "(none)")
        .map(str::to_string))
}

fn apt(args: &[&str]) -> Result<()> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("cannot run apt-get")?;
    if !status.success() {
        bail!(
            "apt-get {} failed ({status}); its messages are above",
            args.join(" ")
        );
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: UpgradeArgs) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("upgrading packages needs root: run 'sudo scholactl upgrade'");
    }
    let cfg = ctx.config()?;
    let packages = installed()?;
    if packages.is_empty() {
        bail!(
            "no Schola packages are installed here (this is not an appliance installed from packages)"
        );
    }
    let problems = space_problems(&cfg.paths.state_dir, &cfg.database_path())?;
    if !problems.is_empty() {
        bail!(
            "not enough disk space for an upgrade, nothing was changed: {}",
            problems.join("; ")
        );
    }
    apt(&["update", "-q"])?;
    let mut upgrades = Vec::new();
    for (package, version) in &packages {
        if let Some(c) = candidate(package)?
            && c != *version
        {
            upgrades.push((package.clone(), version.clone(), c));
        }
    }
    if upgrades.is_empty() {
        return output::print("Schola is up to date.\n");
    }
    let mut text = String::from("Upgrades:\n");
    for (p, from, to) in &upgrades {
        text.push_str(&format!("  {p} {from} -> {to}\n"));
    }
    output::print(&text)?;
    if args.check {
        return Ok(());
    }
    let mut install = vec![
        "install",
        "-y",
        "-q",
        "--only-upgrade",
        "-o",
        "Dpkg::Options::=--force-confold",
    ];
    install.extend(upgrades.iter().map(|(p, _, _)| p.as_str()));
    apt(&install).context("the upgrade did not finish; a failed database migration restores its backup, so the data of before is intact")?;
    output::print("Schola is upgraded.\n")
}
