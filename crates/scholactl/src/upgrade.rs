//! `scholactl upgrade`: Schola's packages upgraded with apt, the Debian way, from the command
//! line or — as the privileged helper `scholactl upgrade --run-request`, started by the path unit
//! `schola-update.path` — from the admin UI's Updates page.
//!
//! It refuses to start when a file system the upgrade writes to is short of space (a full disk
//! half-way through an upgrade is the worst time to find out), then runs apt non-interactively;
//! the packages' own maintainer scripts migrate the database with a backup first. Where the
//! packages made the update directory, every run records its outcome there for the Updates page
//! (`schola_core::updates` has the formats), and holds its lock, so two upgrades never overlap.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, anyhow, bail};
use schola_core::updates::{self, Action, PackageVersion, RunState, Status, UpdatePaths};
use schola_core::{Clock as _, Config, SystemClock};

use crate::cli::UpgradeArgs;
use crate::context::Ctx;
use crate::output;

/// The package whose changelog is shown (all Schola packages share one source changelog).
const CHANGELOG_PACKAGE: &str = "schola-common";

/// Where a run's messages and apt's output go: the terminal, or the Updates page's log.
enum Sink {
    Terminal,
    Log(File),
}

impl Sink {
    fn say(&mut self, line: &str) -> Result<()> {
        match self {
            Sink::Terminal => output::print(&format!("{line}\n")),
            Sink::Log(f) => writeln!(f, "{line}").context("cannot write the update log"),
        }
    }

    /// Standard output and error for a command: the terminal's, or the log.
    fn stdio(&self) -> Result<(Stdio, Stdio)> {
        Ok(match self {
            Sink::Terminal => (Stdio::inherit(), Stdio::inherit()),
            Sink::Log(f) => (
                Stdio::from(f.try_clone().context("cannot share the update log")?),
                Stdio::from(f.try_clone().context("cannot share the update log")?),
            ),
        })
    }

    fn run(&mut self, cmd: &mut Command) -> Result<()> {
        let (out, err) = self.stdio()?;
        let shown = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        self.say(&format!("$ {shown}"))?;
        let status = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .with_context(|| format!("cannot run {shown}"))?;
        if !status.success() {
            bail!("{shown} failed ({status}); its messages are in the log above");
        }
        Ok(())
    }
}

fn apt(args: &[&str]) -> Command {
    let mut cmd = Command::new("apt-get");
    cmd.args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("APT_LISTCHANGES_FRONTEND", "none");
    cmd
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

/// The installed Schola packages, each with the newer version apt offers (from the package
/// lists as they are; run `apt-get update` first).
fn versions() -> Result<Vec<PackageVersion>> {
    let packages = installed()?;
    if packages.is_empty() {
        bail!(
            "no Schola packages are installed here (this is not an appliance installed from packages)"
        );
    }
    packages
        .into_iter()
        .map(|(package, installed)| {
            let available = candidate(&package)?.filter(|c| *c != installed);
            Ok(PackageVersion {
                package,
                installed,
                available,
            })
        })
        .collect()
}

fn upgrade_list(packages: &[PackageVersion]) -> String {
    packages
        .iter()
        .filter_map(|p| {
            let to = p.available.as_deref()?;
            Some(format!("  {} {} -> {to}", p.package, p.installed))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The changelog entries of the version apt offers that are newer than the installed one: the
/// candidate package is downloaded into `work` and its changelog read from it.
fn changelog(sink: &mut Sink, packages: &[PackageVersion], work: &Path) -> Result<String> {
    let Some(p) = packages
        .iter()
        .find(|p| p.package == CHANGELOG_PACKAGE && p.available.is_some())
    else {
        return Ok(String::new());
    };
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    // apt downloads as the unprivileged user _apt, which must be able to write there
    if let Ok(Some(u)) = nix::unistd::User::from_name("_apt") {
        let _ = nix::unistd::chown(work, Some(u.uid), None);
    }
    let result = (|| {
        sink.run(apt(&["download", "-q", CHANGELOG_PACKAGE]).current_dir(work))?;
        let deb = std::fs::read_dir(work)
            .with_context(|| format!("cannot read {}", work.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .ok_or_else(|| anyhow!("apt-get download left no package in {}", work.display()))?;
        let text = read_changelog(&deb)?;
        Ok(updates::changelog_since(&text, &p.installed))
    })();
    let _ = std::fs::remove_dir_all(work);
    result
}

/// `dpkg-deb --fsys-tarfile DEB | tar -xO …/changelog.gz | gzip -dc`, without a shell.
fn read_changelog(deb: &Path) -> Result<String> {
    let member = format!("./usr/share/doc/{CHANGELOG_PACKAGE}/changelog.gz");
    let mut unpack = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut tar = Command::new("tar")
        .args(["-xO", "-f", "-", &member])
        .stdin(unpack.stdout.take().map_or(Stdio::null(), Stdio::from))
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    let gunzip = Command::new("gzip")
        .arg("-dc")
        .stdin(tar.stdout.take().map_or(Stdio::null(), Stdio::from))
        .output()
        .context("cannot run gzip")?;
    let (a, b) = (unpack.wait()?, tar.wait()?);
    if !(a.success() && b.success() && gunzip.status.success()) {
        bail!(
            "cannot read {member} from {}: {}",
            deb.display(),
            String::from_utf8_lossy(&gunzip.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&gunzip.stdout).into_owned())
}

/// What a run found or did.
struct Outcome {
    message: String,
    packages: Vec<PackageVersion>,
    changelog: String,
}

/// `apt-get update`, then the upgrades on offer and (when `work` is given, a directory to
/// download into) their changelog.
fn check(sink: &mut Sink, work: Option<&Path>) -> Result<Outcome> {
    sink.run(&mut apt(&["update", "-q"]))?;
    let packages = versions()?;
    let n = packages.iter().filter(|p| p.available.is_some()).count();
    if n == 0 {
        sink.say("Schola is up to date.")?;
        return Ok(Outcome {
            message: "Schola is up to date.".into(),
            packages,
            changelog: String::new(),
        });
    }
    sink.say(&format!("Upgrades:\n{}", upgrade_list(&packages)))?;
    let changelog = match work.map(|w| changelog(sink, &packages, w)).transpose() {
        Ok(text) => text.unwrap_or_default(),
        Err(e) => {
            // the upgrade itself does not need it
            sink.say(&format!(
                "note: the changelog could not be read: {}",
                crate::one_line(&e)
            ))?;
            String::new()
        }
    };
    Ok(Outcome {
        message: format!(
            "{n} {} available.",
            if n == 1 { "upgrade is" } else { "upgrades are" }
        ),
        packages,
        changelog,
    })
}

fn refuse_without_space(cfg: &Config) -> Result<()> {
    let problems = updates::space_problems(cfg)?;
    if !problems.is_empty() {
        bail!(
            "not enough disk space for an upgrade, nothing was changed: {}",
            problems.join("; ")
        );
    }
    Ok(())
}

/// Installs the newer versions of the installed Schola packages.
fn upgrade(sink: &mut Sink, cfg: &Config) -> Result<Outcome> {
    refuse_without_space(cfg)?;
    let found = check(sink, None)?;
    let names: Vec<&str> = found
        .packages
        .iter()
        .filter(|p| p.available.is_some())
        .map(|p| p.package.as_str())
        .collect();
    if names.is_empty() {
        return Ok(found);
    }
    let mut args = vec![
        "install",
        "-y",
        "-q",
        "--only-upgrade",
        "-o",
        "Dpkg::Options::=--force-confold",
        "-o",
        "Dpkg::Options::=--force-confdef",
    ];
    args.extend(&names);
    sink.run(&mut apt(&args)).context(
        "the upgrade did not finish; a failed database migration restores its backup, so the data of before is intact",
    )?;
    let packages = versions()?;
    let now: Vec<String> = packages
        .iter()
        .filter(|p| names.contains(&p.package.as_str()))
        .map(|p| format!("{} {}", p.package, p.installed))
        .collect();
    let message = format!("Upgraded: {}.", now.join(", "));
    sink.say(&message)?;
    Ok(Outcome {
        message,
        packages,
        changelog: String::new(),
    })
}

/// Runs `action`, recording it in the status file when the packages made the update directory.
fn record(paths: &UpdatePaths, action: Action, mut sink: Sink, cfg: &Config) -> Result<()> {
    let managed = paths.managed();
    let mut status = if managed {
        paths.read_status().unwrap_or_default()
    } else {
        Status::default()
    };
    status.action = Some(action);
    status.state = Some(RunState::Running);
    status.started = Some(SystemClock.now());
    status.finished = None;
    status.message = match action {
        Action::Check => "Checking for updates…".into(),
        Action::Upgrade => "Upgrading…".into(),
    };
    if managed {
        paths.write_status(&status)?;
    }
    let work = if managed {
        paths.update_dir.join("download")
    } else {
        std::env::temp_dir().join("schola-upgrade-download")
    };
    let result = match action {
        Action::Check => check(&mut sink, Some(&work)),
        Action::Upgrade => upgrade(&mut sink, cfg),
    };
    status.finished = Some(SystemClock.now());
    match &result {
        Ok(o) => {
            status.state = Some(RunState::Succeeded);
            status.message = o.message.clone();
            status.packages = o.packages.clone();
            status.changelog = o.changelog.clone();
            status.checked = status.finished;
        }
        Err(e) => {
            status.state = Some(RunState::Failed);
            status.message = crate::one_line(e);
            if let Sink::Log(_) = sink {
                let _ = sink.say(&format!("error: {}", status.message));
            }
        }
    }
    if managed {
        paths.write_status(&status)?;
    }
    result.map(|_| ())
}

fn need_root(what: &str) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("{what} needs root: run 'sudo scholactl upgrade'");
    }
    Ok(())
}

/// Takes the update directory's lock, or says who holds it.
fn lock(paths: &UpdatePaths) -> Result<Option<nix::fcntl::Flock<File>>> {
    if !paths.managed() {
        return Ok(None);
    }
    match paths.lock_exclusive()? {
        Some(l) => Ok(Some(l)),
        None => bail!(
            "another upgrade is running (started from the admin UI's Updates page or with scholactl \
             upgrade); its progress is in {}",
            paths.log().display()
        ),
    }
}

pub fn run(ctx: &Ctx, args: UpgradeArgs) -> Result<()> {
    if args.run_request {
        return run_request(ctx);
    }
    need_root("upgrading packages")?;
    let cfg = ctx.config()?;
    let paths = UpdatePaths::from_config(&cfg);
    if installed()?.is_empty() {
        bail!(
            "no Schola packages are installed here (this is not an appliance installed from packages)"
        );
    }
    let action = if args.check {
        Action::Check
    } else {
        Action::Upgrade
    };
    if action == Action::Upgrade {
        // before anything is recorded: a refusal changes nothing, not even the status
        refuse_without_space(&cfg)?;
    }
    let _lock = lock(&paths)?;
    if paths.managed() {
        // the Updates page shows that this run happened, and where its output went
        std::fs::write(
            paths.log(),
            "Started with 'scholactl upgrade' on the command line; its output went to that terminal.\n",
        )
        .with_context(|| format!("cannot write {}", paths.log().display()))?;
    }
    record(&paths, action, Sink::Terminal, &cfg)?;
    if args.check
        && let Ok(s) = paths.read_status()
        && !s.changelog.is_empty()
    {
        output::print(&format!("\nChanges:\n{}\n", s.changelog))?;
    }
    Ok(())
}

/// The privileged helper: `schola-update.path` starts `schola-update.service` (this, as root)
/// when the web UI leaves a request. One request per run; the path unit starts it again if
/// another arrived meanwhile.
fn run_request(ctx: &Ctx) -> Result<()> {
    need_root("the update helper")?;
    let cfg = ctx.config()?;
    let paths = UpdatePaths::from_config(&cfg);
    if !paths.managed() {
        bail!(
            "the update directory {} does not exist (it comes with the schola-common package)",
            paths.update_dir.display()
        );
    }
    let Some(_lock) = paths.lock_exclusive()? else {
        // the request is dropped: the web UI shows the run in progress and can ask again
        let dropped = paths.take_request();
        bail!(
            "another upgrade is running; the request from the admin UI ({}) was dropped",
            match dropped {
                Ok(Some(a)) => a.as_str().to_string(),
                Ok(None) => "none".into(),
                Err(e) => e.to_string(),
            }
        );
    };
    let mut status = paths.read_status().unwrap_or_default();
    if status.state == Some(RunState::Running) {
        // we hold the lock, so the run that wrote this was killed
        status.state = Some(RunState::Failed);
        status.finished = Some(SystemClock.now());
        status.message = "The previous run was interrupted before it finished; check the \
                          package state with 'dpkg --audit' or run the upgrade again."
            .into();
        paths.write_status(&status)?;
    }
    let action = match paths.take_request() {
        Ok(Some(a)) => a,
        Ok(None) => return Ok(()),
        Err(e) => {
            status.state = Some(RunState::Failed);
            status.message = e.to_string();
            status.finished = Some(SystemClock.now());
            paths.write_status(&status)?;
            return Err(e.into());
        }
    };
    let log = open_log(&paths.log())?;
    record(&paths, action, Sink::Log(log), &cfg)
}

/// The log for this run, started afresh, readable by the web UI.
fn open_log(path: &Path) -> Result<File> {
    let _ = std::fs::remove_file(path);
    use std::os::unix::fs::OpenOptionsExt as _;
    OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
        .with_context(|| format!("cannot create the update log {}", path.display()))
}
