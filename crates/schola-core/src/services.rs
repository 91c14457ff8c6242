//! The services of the appliance — Schola's daemons and the Debian services they bring — and
//! what systemd and dpkg say about each, for the admin UI's services page and the CLI.
//!
//! Everything here works without privileges: `systemctl show` (read-only over the system bus)
//! and `dpkg-query` (reads dpkg's status file), each run once for all services with a short
//! timeout. The parsing and the judgement are pure functions so tests need neither.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What kind of service a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One of Schola's own daemons.
    Schola,
    /// A Debian service a Schola daemon depends on.
    System,
}

/// A service Schola knows about, whether installed or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The name the page shows.
    pub name: &'static str,
    pub unit: &'static str,
    /// The Debian package whose version is shown.
    pub package: &'static str,
    pub kind: Kind,
    /// The Schola package that installs and sets it up (`apt install <this>` turns it on).
    pub comes_with: &'static str,
    /// Whether `comes_with` is published yet.
    pub released: bool,
}

/// Schola's daemons first, then the system services, each after the daemon that brings it.
pub const KNOWN: &[Known] = &[
    Known {
        name: "schola-web",
        unit: "schola-web.service",
        package: "schola-web",
        kind: Kind::Schola,
        comes_with: "schola-web",
        released: true,
    },
    Known {
        name: "schola-files",
        unit: "schola-files.service",
        package: "schola-files",
        kind: Kind::Schola,
        comes_with: "schola-files",
        released: true,
    },
    Known {
        name: "schola-mail",
        unit: "schola-mail.service",
        package: "schola-mail",
        kind: Kind::Schola,
        comes_with: "schola-mail",
        released: true,
    },
    Known {
        name: "schola-dirsync",
        unit: "schola-dirsync.service",
        package: "schola-dirsync",
        kind: Kind::Schola,
        comes_with: "schola-dirsync",
        released: true,
    },
    Known {
        name: "postfix",
        unit: "postfix.service",
        package: "postfix",
        kind: Kind::System,
        comes_with: "schola-mail",
        released: true,
    },
    Known {
        name: "dovecot",
        unit: "dovecot.service",
        package: "dovecot-core",
        kind: Kind::System,
        comes_with: "schola-mail",
        released: true,
    },
    Known {
        name: "samba",
        unit: "smbd.service",
        package: "samba",
        kind: Kind::System,
        comes_with: "schola-files",
        released: true,
    },
];

/// How a service is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Running,
    Starting,
    Stopping,
    /// Installed, not running.
    Stopped,
    Failed,
    /// Not installed.
    Off,
    /// Installed (or maybe), but there is no systemd to ask.
    Unknown,
}

/// One service's state as the services page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub known: Known,
    pub health: Health,
    /// systemd's finer state (`running`, `exited`, `auto-restart`, …) when it has one.
    pub sub_state: Option<String>,
    pub version: Option<String>,
    /// Seconds since the service became active.
    pub uptime_secs: Option<u64>,
    /// The command (run as root) that turns the service on, when it is not running.
    pub turn_on: Option<String>,
    /// True when the row describes this process rather than what systemd says.
    pub from_process: bool,
}

/// The services page's view of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// systemd is the init system (PID 1), so unit states are known.
    pub systemd: bool,
    /// dpkg answered, so installed versions are known.
    pub dpkg: bool,
    pub services: Vec<ServiceStatus>,
}

/// What `systemctl show` says about one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState {
    pub load: String,
    pub active: String,
    pub sub: String,
    /// `ActiveEnterTimestampMonotonic` in microseconds; 0 when never active.
    pub active_enter_mono_us: u64,
}

const SHOW_PROPERTIES: &str = "Id,LoadState,ActiveState,SubState,ActiveEnterTimestampMonotonic";

/// True when systemd is the init system (sd_booted(3): `/run/systemd/system` exists).
pub fn systemd_booted() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Asks systemd and dpkg about every known service; each command gets `timeout`.
pub fn probe(timeout: Duration) -> Probe {
    let systemd = systemd_booted();
    let units = if systemd {
        let mut args = vec!["show", "-p", SHOW_PROPERTIES];
        args.extend(KNOWN.iter().map(|k| k.unit));
        run("systemctl", &args, timeout).map(|out| parse_show(&out))
    } else {
        None
    };
    let mut args = vec!["-W", "-f", DPKG_FORMAT];
    args.extend(KNOWN.iter().map(|k| k.package));
    let installed = run("dpkg-query", &args, timeout).map(|out| parse_dpkg(&out));
    let now = monotonic_us();
    Probe {
        systemd,
        dpkg: installed.is_some(),
        services: KNOWN
            .iter()
            .map(|k| {
                assess(
                    *k,
                    systemd.then_some(units.as_ref()).flatten(),
                    installed.as_ref(),
                    now,
                    systemd,
                )
            })
            .collect(),
    }
}

impl Probe {
    /// Fills the row of the calling daemon (`name`) from the process itself when systemd does
    /// not know it as running: a development or demo server, or one started by hand.
    pub fn with_this_process(mut self, name: &str, version: &str, uptime_secs: u64) -> Probe {
        if let Some(s) = self.services.iter_mut().find(|s| s.known.name == name)
            && (s.health != Health::Running || s.version.is_none())
        {
            if s.health != Health::Running {
                s.health = Health::Running;
                s.uptime_secs = Some(uptime_secs);
                s.sub_state = None;
                s.turn_on = None;
                s.from_process = true;
            }
            if s.version.is_none() {
                s.version = Some(version.to_string());
                s.from_process = true;
            }
        }
        self
    }
}

/// Judges one service from systemd's and dpkg's answers (`None` = could not ask).
pub fn assess(
    known: Known,
    units: Option<&HashMap<String, UnitState>>,
    installed: Option<&HashMap<String, String>>,
    now_mono_us: Option<u64>,
    systemd: bool,
) -> ServiceStatus {
    let version = installed.and_then(|i| i.get(known.package)).cloned();
    let package_known = installed.map(|i| i.contains_key(known.package));
    let unit = units.and_then(|u| u.get(known.unit));
    let unit_loaded = unit.map(|u| u.load != "not-found");
    let mut status = ServiceStatus {
        known,
        health: Health::Unknown,
        sub_state: None,
        version,
        uptime_secs: None,
        turn_on: None,
        from_process: false,
    };
    let not_installed = (package_known == Some(false) && unit_loaded != Some(true))
        || (unit_loaded == Some(false) && package_known != Some(true));
    if not_installed {
        status.health = Health::Off;
        status.turn_on = Some(format!("apt install {}", known.comes_with));
        return status;
    }
    let Some(u) = unit.filter(|u| systemd && u.load != "not-found") else {
        return status;
    };
    status.sub_state = Some(u.sub.clone()).filter(|s| !s.is_empty());
    status.health = match u.active.as_str() {
        "active" | "reloading" => Health::Running,
        "activating" => Health::Starting,
        "deactivating" => Health::Stopping,
        "failed" => Health::Failed,
        "inactive" => Health::Stopped,
        _ => Health::Unknown,
    };
    status.turn_on = match status.health {
        _ if u.load == "masked" => Some(format!(
            "systemctl unmask {0} && systemctl enable --now {0}",
            known.unit
        )),
        Health::Stopped => Some(format!("systemctl enable --now {}", known.unit)),
        Health::Failed => Some(format!("systemctl restart {}", known.unit)),
        _ => None,
    };
    if status.health == Health::Running
        && u.active_enter_mono_us > 0
        && let Some(now) = now_mono_us
    {
        status.uptime_secs = now
            .checked_sub(u.active_enter_mono_us)
            .map(|us| us / 1_000_000);
    }
    status
}

/// Parses `systemctl show -p … unit…`: one block of `Key=value` lines per unit, blocks
/// separated by an empty line, keyed by the unit's `Id`.
pub fn parse_show(text: &str) -> HashMap<String, UnitState> {
    let mut units = HashMap::new();
    for block in text.split("\n\n") {
        let mut id = None;
        let mut state = UnitState::default();
        for line in block.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "Id" => id = Some(value.to_string()),
                "LoadState" => state.load = value.to_string(),
                "ActiveState" => state.active = value.to_string(),
                "SubState" => state.sub = value.to_string(),
                "ActiveEnterTimestampMonotonic" => {
                    state.active_enter_mono_us = value.parse().unwrap_or(0)
                }
                _ => {}
            }
        }
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            units.insert(id, state);
        }
    }
    units
}

const DPKG_FORMAT: &str = "${Package}\t${db:Status-Status}\t${Version}\n";

/// Parses `dpkg-query -W -f '${Package}\t${db:Status-Status}\t${Version}\n'`: the installed
/// packages with their versions. Packages dpkg knows but that are not installed (removed,
/// half-installed) are left out.
pub fn parse_dpkg(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            let (package, status, version) = (parts.next()?, parts.next()?, parts.next()?);
            let package = package.split(':').next().unwrap_or(package);
            (status == "installed" && !version.is_empty())
                .then(|| (package.to_string(), version.to_string()))
        })
        .collect()
}

/// CLOCK_MONOTONIC in microseconds, the clock of systemd's `…TimestampMonotonic`.
fn monotonic_us() -> Option<u64> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    let secs = u64::try_from(t.tv_sec()).ok()?;
    let nanos = u64::try_from(t.tv_nsec()).ok()?;
    Some(secs * 1_000_000 + nanos / 1_000)
}

/// Runs a command and returns its standard output, whatever its exit status (dpkg-query
/// exits 1 when one of several packages is unknown but still prints the others). `None` when
/// it cannot be started or does not finish within `timeout` (it is killed then).
fn run(program: &str, args: &[&str], timeout: Duration) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .env("SYSTEMD_PAGER", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tracing::debug!(program, error = %e, "cannot run"))
        .ok()?;
    let mut stdout = child.stdout.take()?;
    // read on a thread so a chatty child never blocks on a full pipe while we wait
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                tracing::warn!(program, ?timeout, "no answer in time; killed");
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    reader.join().ok()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOW: &str = "Id=schola-web.service\nLoadState=loaded\nActiveState=active\nSubState=running\nActiveEnterTimestampMonotonic=5000000\n\n\
        Id=schola-files.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nActiveEnterTimestampMonotonic=0\n\n\
        Id=postfix.service\nActiveState=failed\nLoadState=loaded\nSubState=failed\nActiveEnterTimestampMonotonic=0\n\n\
        Id=smbd.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nActiveEnterTimestampMonotonic=0\n\n\
        Id=dovecot.service\nLoadState=masked\nActiveState=inactive\nSubState=dead\nActiveEnterTimestampMonotonic=0\n";

    fn known(name: &str) -> Known {
        *KNOWN.iter().find(|k| k.name == name).unwrap()
    }

    #[test]
    fn systemd_and_dpkg_answers_become_states_and_commands() {
        let units = parse_show(SHOW);
        assert_eq!(units.len(), 5);
        assert_eq!(units["postfix.service"].active, "failed", "any key order");
        let installed = parse_dpkg(
            "schola-web\tinstalled\t0.4.0\nsamba\tinstalled\t2:4.17.12+dfsg-0+deb12u1\n\
             postfix\tinstalled\t3.7.11-0+deb12u1\ndovecot-core:amd64\tinstalled\t1:2.3.19.1\n\
             schola-files\tnot-installed\t\nschola-mail\tconfig-files\t0.3.0\n",
        );
        assert_eq!(installed.len(), 4, "{installed:?}");
        let now = Some(3_605_000_000);
        let at = |name| assess(known(name), Some(&units), Some(&installed), now, true);

        let web = at("schola-web");
        assert_eq!(
            (web.health, web.version.as_deref(), web.uptime_secs),
            (Health::Running, Some("0.4.0"), Some(3600))
        );
        assert_eq!(web.turn_on, None);
        let files = at("schola-files");
        assert_eq!(files.health, Health::Off);
        assert_eq!(files.turn_on.as_deref(), Some("apt install schola-files"));
        assert!(files.known.released);
        assert!(at("schola-mail").known.released);
        assert_eq!(
            at("postfix").turn_on.as_deref(),
            Some("systemctl restart postfix.service")
        );
        let samba = at("samba");
        assert_eq!(
            (samba.health, samba.turn_on.as_deref()),
            (Health::Stopped, Some("systemctl enable --now smbd.service"))
        );
        assert!(
            at("dovecot")
                .turn_on
                .unwrap()
                .starts_with("systemctl unmask")
        );
        // schola-mail is not in `systemctl show`'s answer and only its config files remain
        let mail = at("schola-mail");
        assert_eq!(
            (mail.health, mail.turn_on.as_deref()),
            (Health::Off, Some("apt install schola-mail"))
        );
    }

    #[test]
    fn without_systemd_only_packages_are_known_and_this_process_speaks_for_itself() {
        let installed = parse_dpkg("samba\tinstalled\t2:4.17\n");
        let samba = assess(known("samba"), None, Some(&installed), None, false);
        assert_eq!(
            (samba.health, samba.version.as_deref()),
            (Health::Unknown, Some("2:4.17"))
        );
        let mail = assess(known("postfix"), None, Some(&installed), None, false);
        assert_eq!(
            (mail.health, mail.turn_on.as_deref()),
            (Health::Off, Some("apt install schola-mail"))
        );
        let web = assess(known("schola-web"), None, None, None, false);
        assert_eq!(web.health, Health::Unknown, "no dpkg, no systemd");
        let probe = Probe {
            systemd: false,
            dpkg: false,
            services: vec![web],
        }
        .with_this_process("schola-web", "9.9.9", 42);
        let web = &probe.services[0];
        assert_eq!(
            (web.health, web.version.as_deref(), web.uptime_secs),
            (Health::Running, Some("9.9.9"), Some(42))
        );
        assert!(web.from_process);
    }

    #[test]
    fn commands_that_hang_are_killed_and_missing_ones_are_none() {
        let started = Instant::now();
        assert_eq!(run("sleep", &["5"], Duration::from_millis(100)), None);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(
            run("schola-no-such-program", &[], Duration::from_secs(1)),
            None
        );
        assert_eq!(
            run("sh", &["-c", "echo hi; exit 1"], Duration::from_secs(5)).as_deref(),
            Some("hi\n")
        );
        assert!(monotonic_us().is_some_and(|us| us > 0));
    }
}
