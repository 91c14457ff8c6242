//! Generic health checks with the thresholds comparable appliances use (UCS: disk > 90 %;
//! FreedomBox: RAM > 75 % warn, > 90 % error): free disk, RAM, swap, recent OOM kills, mail
//! queue, certificate expiry, every Schola service running, a limit hit in the logs.
//!
//! The checks are pure: [`checks`] looks at a probed [`Machine`] and a [`HealthContext`] the
//! caller gathered (the clock, the previous check's OOM count, the stored load minutes, the
//! services' states, the served certificate, the mail queue), so every threshold is tested on
//! fixed inputs.

use serde::{Deserialize, Serialize};

use schola_core::backups;
use schola_core::load_history::LoadMinute;
use schola_core::services::{self, Health};

use crate::format::{bytes, number};
use crate::probe::{Filesystem, Machine};
use crate::{Action, Level, Quantity, Unit};

/// One health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// Stable key for translations (`capacity-health-<key>`): `disk-free`, `memory`, `swap`,
    /// `oom-kills`, `mail-queue`, `certificate`, `services`, `limits-hit`, `backup`.
    pub key: String,
    pub level: Level,
    /// What was seen (e.g. 93 % used), when there is a number.
    pub value: Option<Quantity>,
    /// The threshold it was compared with.
    pub threshold: Option<Quantity>,
    /// What was seen, in English, naming the thing (`/var/lib/schola is 93 % full`).
    pub detail: String,
    pub action: Option<Action>,
}

/// Disk use (of what an unprivileged user can have, as `df` shows it) above which a filesystem
/// warns. Univention Corporate Server's System diagnostic warns at 90 %; we warn earlier so
/// there is time to act before it fails at the same 90 %.
pub const DISK_WARN_USED: f64 = 0.80;
/// UCS System diagnostic ("Check free disk space"): more than 90 % used is a problem.
pub const DISK_FAIL_USED: f64 = 0.90;
/// FreedomBox's diagnostics: memory more than 75 % used is a warning…
pub const MEMORY_WARN_USED: f64 = 0.75;
/// …and more than 90 % an error.
pub const MEMORY_FAIL_USED: f64 = 0.90;
/// More than half of the swap in use means the machine has been short of RAM for a while (a
/// little swap use is normal: the kernel moves idle pages out).
pub const SWAP_WARN_USED: f64 = 0.50;
/// Postfix's queue: a school sends a few hundred mails a day, so a hundred waiting means
/// delivery is stuck somewhere…
pub const MAIL_QUEUE_WARN: usize = 100;
/// …and a thousand that it has been for a long time (or the server sends spam).
pub const MAIL_QUEUE_FAIL: usize = 1_000;
/// Certificate expiry: Let's Encrypt renews 30 days before the end and warns by mail at 20
/// and 10 days, so less than 30 days left means renewal is not working…
pub const CERT_WARN_DAYS: f64 = 30.0;
/// …and less than a week that browsers will refuse the portal soon.
pub const CERT_FAIL_DAYS: f64 = 7.0;
/// How far back [`LoadMinute`]s are read for `limits-hit`.
pub const LIMITS_WINDOW_SECS: i64 = 24 * 3600;

/// What the health checks need besides the probed machine.
#[derive(Debug, Clone, Default)]
pub struct HealthContext {
    /// Unix time now.
    pub now: i64,
    /// The OOM-kill counter the previous stored check saw (`None`: no previous check).
    pub previous_oom_kills: Option<u64>,
    /// The web server's load per minute, at least the last 24 hours.
    pub recent_load: Vec<LoadMinute>,
    /// What systemd and dpkg say about the services (`None`: not asked).
    pub services: Option<services::Probe>,
    /// The certificate the web server serves (PEM; the first certificate is the server's).
    pub cert_pem: Option<Vec<u8>>,
    /// Mails in Postfix's queue (`None`: mail is not switched on).
    pub mail_queue: Option<usize>,
    /// The backup: `None` when no backup is set up (`[backup] repository`), else what the
    /// backup helper last wrote.
    pub backup: Option<backups::Status>,
}

/// Every health check, in a fixed order: `disk-free` per filesystem, `memory`, `swap`,
/// `oom-kills`, `mail-queue`, `certificate`, `services`, `limits-hit`, `backup`.
pub fn checks(machine: &Machine, ctx: &HealthContext) -> Vec<HealthCheck> {
    let mut out: Vec<HealthCheck> = machine.filesystems.iter().map(disk_free).collect();
    out.push(memory(machine));
    out.push(swap(machine));
    out.push(oom_kills(machine.oom_kills, ctx.previous_oom_kills));
    out.push(mail_queue(ctx.mail_queue));
    out.push(certificate(ctx.cert_pem.as_deref(), ctx.now));
    out.push(services_running(ctx.services.as_ref()));
    out.push(limits_hit(&ctx.recent_load, ctx.now));
    out.push(backup(ctx.backup.as_ref(), ctx.now));
    out
}

/// The level for a share against its two thresholds (strictly above each).
fn level_of(share: f64, warn: f64, fail: f64) -> Level {
    if share > fail {
        Level::Fail
    } else if share > warn {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// `93 %`; one decimal when rounding would hide which side of a threshold the value is on
/// (80.4 % is over 80 % and must not read "80 %").
fn percent(share: f64, thresholds: &[f64]) -> String {
    let rounded = (share * 100.0).round() / 100.0;
    if thresholds.iter().any(|&t| (share > t) != (rounded > t)) {
        format!("{:.1} %", share * 100.0)
    } else {
        format!("{} %", number(rounded * 100.0))
    }
}

fn share_of(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        used as f64 / total as f64
    }
}

/// Rounds up to whole GiB, the smallest step anyone sells disks or RAM in.
fn whole_gib(b: f64) -> u64 {
    const GIB: f64 = (1u64 << 30) as f64;
    ((b.max(0.0) / GIB).ceil() as u64).max(1) << 30
}

fn disk_free(fs: &Filesystem) -> HealthCheck {
    // as `df` counts: the blocks reserved for root are neither used nor available to Schola
    let usable = fs.used.saturating_add(fs.free);
    if usable == 0 {
        return HealthCheck {
            key: "disk-free".into(),
            level: Level::Warn,
            value: None,
            threshold: None,
            detail: format!("the free space of {} cannot be read", fs.path.display()),
            action: None,
        };
    }
    let share = share_of(fs.used, usable);
    let level = level_of(share, DISK_WARN_USED, DISK_FAIL_USED);
    let detail = format!(
        "{} is {} full ({} on {}, {} free of {})",
        fs.path.display(),
        percent(share, &[DISK_WARN_USED, DISK_FAIL_USED]),
        fs.fs_type,
        fs.mount_point.display(),
        bytes(fs.free as f64),
        bytes(fs.size as f64),
    );
    // enough space to get back under the warning threshold
    let action = (level > Level::Ok).then(|| Action::AddDisk {
        bytes: whole_gib(fs.used as f64 / DISK_WARN_USED - usable as f64),
        full_in_days: None,
    });
    HealthCheck {
        key: "disk-free".into(),
        level,
        value: Some(Quantity::new(share, Unit::Share)),
        threshold: Some(Quantity::new(
            if level == Level::Fail {
                DISK_FAIL_USED
            } else {
                DISK_WARN_USED
            },
            Unit::Share,
        )),
        detail,
        action,
    }
}

fn memory(machine: &Machine) -> HealthCheck {
    let m = machine.memory;
    let used = m.total.saturating_sub(m.available);
    let share = share_of(used, m.total);
    let level = level_of(share, MEMORY_WARN_USED, MEMORY_FAIL_USED);
    let what = if m.cgroup_limited {
        "the memory this service may use (its cgroup's limit)"
    } else {
        "the RAM"
    };
    let detail = format!(
        "{} of {} of {what} in use ({}; {} available)",
        percent(share, &[MEMORY_WARN_USED, MEMORY_FAIL_USED]),
        bytes(m.total as f64),
        bytes(used as f64),
        bytes(m.available as f64),
    );
    let action = (level > Level::Ok).then(|| {
        if m.cgroup_limited {
            Action::Investigate {
                what: "raise the memory limit of the container or service (memory.max), or find what uses the memory".into(),
            }
        } else {
            // enough that today's use stays under the warning threshold
            Action::AddMemory {
                bytes: whole_gib(used as f64 / MEMORY_WARN_USED - m.total as f64),
            }
        }
    });
    HealthCheck {
        key: "memory".into(),
        level,
        value: Some(Quantity::new(share, Unit::Share)),
        threshold: Some(Quantity::new(
            if level == Level::Fail {
                MEMORY_FAIL_USED
            } else {
                MEMORY_WARN_USED
            },
            Unit::Share,
        )),
        detail,
        action,
    }
}

fn swap(machine: &Machine) -> HealthCheck {
    let m = machine.memory;
    let threshold = Some(Quantity::new(SWAP_WARN_USED, Unit::Share));
    if m.swap_total == 0 {
        return HealthCheck {
            key: "swap".into(),
            level: Level::Ok,
            value: None,
            threshold,
            detail: "there is no swap: when the RAM runs out, the kernel stops a process at once"
                .into(),
            action: None,
        };
    }
    let used = m.swap_total.saturating_sub(m.swap_free);
    let share = share_of(used, m.swap_total);
    let level = if share > SWAP_WARN_USED {
        Level::Warn
    } else {
        Level::Ok
    };
    HealthCheck {
        key: "swap".into(),
        level,
        value: Some(Quantity::new(share, Unit::Share)),
        threshold,
        detail: format!(
            "{} of {} swap in use ({})",
            percent(share, &[SWAP_WARN_USED]),
            bytes(m.swap_total as f64),
            bytes(used as f64),
        ),
        action: (level > Level::Ok).then(|| Action::Investigate {
            what: "the machine has been short of RAM: find what uses the memory, or add RAM".into(),
        }),
    }
}

fn oom_kills(now: Option<u64>, previous: Option<u64>) -> HealthCheck {
    let investigate = || {
        Action::Investigate {
        what: "processes were stopped for lack of memory: see `journalctl -k -g oom` for which, then add RAM or lower the limits".into(),
    }
    };
    let (level, detail, action) = match (now, previous) {
        (None, _) => (
            Level::Ok,
            "the kernel does not count OOM kills (no oom_kill in /proc/vmstat)".to_string(),
            None,
        ),
        (Some(0), _) => (
            Level::Ok,
            "no process was stopped for lack of memory since boot".to_string(),
            None,
        ),
        // the counter went down: the machine rebooted since the previous check, so every kill
        // counted now happened after it
        (Some(n), Some(p)) if n != p => {
            let new = if n > p { n - p } else { n };
            (
                Level::Fail,
                format!(
                    "{} {} stopped for lack of memory since the previous check",
                    number(new as f64),
                    if new == 1 {
                        "process was"
                    } else {
                        "processes were"
                    }
                ),
                Some(investigate()),
            )
        }
        (Some(n), Some(_)) => (
            Level::Ok,
            format!(
                "{} OOM {} since boot, none since the previous check",
                number(n as f64),
                if n == 1 { "kill" } else { "kills" }
            ),
            None,
        ),
        (Some(n), None) => (
            Level::Warn,
            format!(
                "{} OOM {} since boot (when is not known: this is the first check)",
                number(n as f64),
                if n == 1 { "kill" } else { "kills" }
            ),
            Some(investigate()),
        ),
    };
    HealthCheck {
        key: "oom-kills".into(),
        level,
        value: now.map(|n| Quantity::new(n as f64, Unit::Count)),
        threshold: None,
        detail,
        action,
    }
}

fn mail_queue(queue: Option<usize>) -> HealthCheck {
    let Some(n) = queue else {
        return HealthCheck {
            key: "mail-queue".into(),
            level: Level::Ok,
            value: None,
            threshold: None,
            detail: "mail is not switched on".into(),
            action: None,
        };
    };
    let level = if n > MAIL_QUEUE_FAIL {
        Level::Fail
    } else if n > MAIL_QUEUE_WARN {
        Level::Warn
    } else {
        Level::Ok
    };
    HealthCheck {
        key: "mail-queue".into(),
        level,
        value: Some(Quantity::new(n as f64, Unit::Count)),
        threshold: Some(Quantity::new(
            if level == Level::Fail {
                MAIL_QUEUE_FAIL
            } else {
                MAIL_QUEUE_WARN
            } as f64,
            Unit::Count,
        )),
        detail: format!(
            "{} {} in the mail queue",
            number(n as f64),
            if n == 1 { "mail is" } else { "mails are" }
        ),
        action: (level > Level::Ok).then(|| Action::Investigate {
            what: "mail is not being delivered: see `postqueue -p` for why".into(),
        }),
    }
}

/// The backup: none set up is a WARN; the last run failed, the integrity check failed, or the
/// last backup older than [`backups::STALE_AFTER_SECS`] (a missed night) a WARN; no backup for
/// [`backups::MISSING_AFTER_SECS`] (counted from the first attempt when none ever succeeded) a
/// FAIL.
fn backup(status: Option<&backups::Status>, now: i64) -> HealthCheck {
    let check =
        |level, value: Option<Quantity>, threshold, detail: String, what: Option<String>| {
            HealthCheck {
                key: "backup".into(),
                level,
                value,
                threshold,
                detail,
                action: what.map(|what| Action::Investigate { what }),
            }
        };
    let days = |secs: i64| Quantity::new(secs as f64 / 86_400.0, Unit::Days);
    let Some(s) = status else {
        return check(
            Level::Warn,
            None,
            None,
            "no backup is set up: a broken disk would lose the school's files, mail and accounts"
                .into(),
            Some(
                "set up a backup to a USB disk, a NAS share or an SFTP server: see Backup in \
                 the admin menu"
                    .into(),
            ),
        );
    };
    let failing = s.failing();
    let why = failing.map(|f| {
        if f.target_missing {
            format!("{} (it is tried again every hour)", f.message)
        } else {
            f.message.clone()
        }
    });
    let Some(last) = &s.last_success else {
        let since = s.first_attempt.map_or(0, |t| now - t);
        if since > backups::MISSING_AFTER_SECS {
            return check(
                Level::Fail,
                Some(days(since)),
                Some(days(backups::MISSING_AFTER_SECS)),
                format!(
                    "no backup has succeeded in {} days: {}",
                    number((since / 86_400) as f64),
                    why.as_deref().unwrap_or("no backup has run")
                ),
                Some("make the backup work: see Backup in the admin menu".into()),
            );
        }
        return match why {
            Some(why) => check(
                Level::Warn,
                None,
                None,
                format!("the backup has not succeeded yet: {why}"),
                Some("see Backup in the admin menu".into()),
            ),
            None => check(
                Level::Warn,
                None,
                None,
                "no backup has been made yet: the first runs tonight at 02:00".into(),
                None,
            ),
        };
    };
    let age = now - last.time;
    let when = utc_minute(last.time);
    if age > backups::MISSING_AFTER_SECS {
        return check(
            Level::Fail,
            Some(days(age)),
            Some(days(backups::MISSING_AFTER_SECS)),
            format!(
                "the last backup is {} days old (of {when} UTC){}",
                number((age / 86_400) as f64),
                why.map(|w| format!(": {w}")).unwrap_or_default()
            ),
            Some("make the backup work: see Backup in the admin menu".into()),
        );
    }
    if let Some(why) = why {
        return check(
            Level::Warn,
            None,
            None,
            format!("the last backup failed: {why}; the one before is of {when} UTC"),
            Some("see Backup in the admin menu".into()),
        );
    }
    if age > backups::STALE_AFTER_SECS {
        return check(
            Level::Warn,
            Some(days(age)),
            Some(days(backups::STALE_AFTER_SECS)),
            format!("the last backup is of {when} UTC: last night's did not run"),
            Some(
                "see whether schola-backup.timer is active: systemctl status schola-backup.timer"
                    .into(),
            ),
        );
    }
    if let Some(c) = s.last_check.as_ref().filter(|c| !c.ok) {
        return check(
            Level::Warn,
            None,
            None,
            format!(
                "the backup's integrity check of {} UTC failed: {}",
                utc_minute(c.time),
                c.message
            ),
            Some(
                "see Backup in the admin menu; 'scholactl backup check' says what is damaged"
                    .into(),
            ),
        );
    }
    check(
        Level::Ok,
        None,
        None,
        format!(
            "last backup {when} UTC, {} backups kept",
            number(s.snapshots.len() as f64)
        ),
        None,
    )
}

/// The first certificate's end of validity (Unix time).
fn not_after(pem: &[u8]) -> Result<i64, String> {
    use x509_parser::pem::Pem;
    for p in Pem::iter_from_buffer(pem) {
        let p = p.map_err(|e| format!("not PEM: {e}"))?;
        if p.label == "CERTIFICATE" {
            let cert = p.parse_x509().map_err(|e| e.to_string())?;
            return Ok(cert.validity().not_after.timestamp());
        }
    }
    Err("no certificate in it".into())
}

fn certificate(pem: Option<&[u8]>, now: i64) -> HealthCheck {
    let Some(pem) = pem else {
        return certificate_check(None, now);
    };
    certificate_check(Some(not_after(pem)), now)
}

/// The certificate check on the parsed end date (`None`: no certificate found).
fn certificate_check(not_after: Option<Result<i64, String>>, now: i64) -> HealthCheck {
    let renew = || Action::Investigate {
        what:
            "renew the web server's certificate (or remove [web] tls_cert so Schola makes its own)"
                .into(),
    };
    let mut check = HealthCheck {
        key: "certificate".into(),
        level: Level::Warn,
        value: None,
        threshold: None,
        detail: String::new(),
        action: None,
    };
    match not_after {
        None => check.detail = "no certificate found".into(),
        Some(Err(e)) => {
            check.detail = format!("the web server's certificate cannot be read: {e}");
            check.action = Some(renew());
        }
        Some(Ok(end)) => {
            let days = (end - now) as f64 / 86_400.0;
            let date = utc_date(end);
            check.value = Some(Quantity::new(days, Unit::Days));
            check.level = if days < CERT_FAIL_DAYS {
                Level::Fail
            } else if days < CERT_WARN_DAYS {
                Level::Warn
            } else {
                Level::Ok
            };
            check.threshold = Some(Quantity::new(
                if check.level == Level::Fail {
                    CERT_FAIL_DAYS
                } else {
                    CERT_WARN_DAYS
                },
                Unit::Days,
            ));
            check.detail = if end <= now {
                format!("the web server's certificate expired on {date}")
            } else {
                format!(
                    "the web server's certificate is valid until {date} ({} days from now)",
                    (days.floor() as i64)
                )
            };
            check.action = (check.level > Level::Ok).then(renew);
        }
    }
    check
}

fn services_running(probe: Option<&services::Probe>) -> HealthCheck {
    let mut check = HealthCheck {
        key: "services".into(),
        level: Level::Ok,
        value: None,
        threshold: None,
        detail: String::new(),
        action: None,
    };
    let Some(probe) = probe else {
        check.detail = "the services were not asked about".into();
        return check;
    };
    if !probe.systemd {
        check.detail = "systemd is not running here, so the services' states are not known".into();
        return check;
    }
    let mut problems = Vec::new();
    let mut commands = Vec::new();
    let mut running = Vec::new();
    for s in &probe.services {
        let (level, state) = match s.health {
            Health::Running => {
                running.push(s.known.name);
                continue;
            }
            // systemd is moving it; the next check sees where it ended up
            Health::Starting => (Level::Warn, "starting"),
            Health::Stopping => (Level::Warn, "stopping"),
            Health::Stopped => (Level::Fail, "installed but not running"),
            Health::Failed => (Level::Fail, "failed"),
            Health::Off | Health::Unknown => continue,
        };
        check.level = check.level.max(level);
        problems.push(format!("{} is {state}", s.known.name));
        if let Some(c) = &s.turn_on {
            commands.push(format!("`{c}`"));
        }
    }
    check.value = Some(Quantity::new(problems.len() as f64, Unit::Count));
    check.detail = if problems.is_empty() {
        match running.len() {
            0 => "no Schola service is installed".into(),
            _ => format!("running: {}", running.join(", ")),
        }
    } else {
        problems.join("; ")
    };
    if !problems.is_empty() {
        check.action = Some(Action::Investigate {
            what: if commands.is_empty() {
                "see `systemctl status` and `journalctl -u <service>` for why".into()
            } else {
                format!(
                    "see `journalctl -u <service>` for why, then run {}",
                    commands.join(" and ")
                )
            },
        });
    }
    check
}

fn limits_hit(minutes: &[LoadMinute], now: i64) -> HealthCheck {
    let recent: Vec<&LoadMinute> = minutes
        .iter()
        .filter(|m| m.minute * 60 > now - LIMITS_WINDOW_SECS && m.minute * 60 <= now)
        .collect();
    let waiting: u64 = recent.iter().map(|m| m.waiting_room).sum();
    let refused: u64 = recent.iter().map(|m| m.refused).sum();
    let total = waiting + refused;
    let mut check = HealthCheck {
        key: "limits-hit".into(),
        level: Level::Ok,
        value: Some(Quantity::new(total as f64, Unit::Count)),
        threshold: Some(Quantity::new(0.0, Unit::Count)),
        detail: "no request met a limit in the last 24 hours".into(),
        action: None,
    };
    if total == 0 {
        return check;
    }
    check.level = Level::Warn;
    let mut parts = Vec::new();
    if waiting > 0 {
        parts.push(format!(
            "{} {} the waiting room",
            number(waiting as f64),
            if waiting == 1 {
                "request got"
            } else {
                "requests got"
            }
        ));
    }
    if refused > 0 {
        parts.push(format!(
            "{} {} refused at a connection limit",
            number(refused as f64),
            if refused == 1 {
                "connection was"
            } else {
                "connections were"
            }
        ));
    }
    let busiest = recent
        .iter()
        .max_by_key(|m| (m.waiting_room + m.refused, std::cmp::Reverse(m.minute)));
    if let Some(b) = busiest {
        parts.push(format!(
            "the busiest minute was {} UTC ({})",
            utc_minute(b.minute * 60),
            number((b.waiting_room + b.refused) as f64)
        ));
    }
    check.detail = format!("in the last 24 hours {}", parts.join("; "));
    let mut look = Vec::new();
    if waiting > 0 {
        look.push("the waiting room means the server was working on as many requests as it may: look at [web] max_in_flight and, for sign-ins, the sign-in queue [web] max_signins_waiting and the CPU");
    }
    if refused > 0 {
        look.push("refused connections mean [web] max_connections or the per-client cap [web] max_connections_per_client was reached");
    }
    check.action = Some(Action::Investigate {
        what: look.join("; "),
    });
    check
}

/// `2025-03-01`
fn utc_date(unix: i64) -> String {
    let (y, m, d) = schola_core::clock::civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2025-03-01 08:01`
fn utc_minute(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        utc_date(unix),
        secs / 3_600,
        secs % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use schola_core::services::{KNOWN, Probe, ServiceStatus};

    use super::*;
    use crate::probe::{Argon2Bench, ConfiguredLimits, Memory, OpenFiles};

    const GIB: u64 = 1 << 30;

    fn machine() -> Machine {
        Machine {
            hostname: "schola".into(),
            cpu_model: "test cpu".into(),
            cores: 4,
            cpu_quota: None,
            argon2: Argon2Bench {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1,
                verifies_per_sec: 200.0,
                verify_ms: 20.0,
                threads: 4,
                seconds: 2.0,
            },
            memory: Memory {
                total: 1_000 * GIB,
                available: 500 * GIB,
                swap_total: 0,
                swap_free: 0,
                cgroup_limited: false,
            },
            filesystems: vec![fs(100, 900)],
            nics: vec![],
            open_files: OpenFiles {
                soft: 1024,
                hard: 524_288,
                system_max: None,
                web: 65_536,
            },
            limits: ConfiguredLimits {
                web_workers: 4,
                web_max_connections: 4096,
                web_max_connections_per_client: 1024,
                web_in_flight: 1024,
                web_signins_waiting: 800,
                web_hash_threads: 4,
                all: vec![],
            },
            oom_kills: Some(0),
            uptime_secs: Some(100),
        }
    }

    /// A filesystem with `used` and `free` GiB (and 5 % more reserved for root).
    fn fs(used: u64, free: u64) -> Filesystem {
        Filesystem {
            role: "database+files".into(),
            path: PathBuf::from("/var/lib/schola"),
            mount_point: PathBuf::from("/"),
            fs_type: "ext4".into(),
            size: (used + free) * GIB * 105 / 100,
            free: free * GIB,
            used: used * GIB,
            bench: None,
        }
    }

    #[test]
    fn disk_free_edges() {
        let level = |used, free| disk_free(&fs(used, free)).level;
        assert_eq!(level(790, 210), Level::Ok);
        assert_eq!(level(800, 200), Level::Ok, "80 % is not over 80 %");
        assert_eq!(level(810, 190), Level::Warn);
        assert_eq!(level(890, 110), Level::Warn);
        assert_eq!(level(900, 100), Level::Warn, "90 % is not over 90 %");
        assert_eq!(level(910, 90), Level::Fail);
        let c = disk_free(&fs(930, 70));
        assert_eq!(
            c.detail,
            "/var/lib/schola is 93 % full (ext4 on /, 70 GiB free of 1.0 TiB)"
        );
        assert_eq!(c.threshold, Some(Quantity::new(0.9, Unit::Share)));
        // 930 GiB used needs 1,162.5 GiB to be 80 % full: 163 GiB more
        assert_eq!(
            c.action,
            Some(Action::AddDisk {
                bytes: 163 * GIB,
                full_in_days: None
            })
        );
        assert_eq!(disk_free(&fs(100, 900)).action, None);
        let unreadable = disk_free(&fs(0, 0));
        assert_eq!(
            (unreadable.level, unreadable.detail.as_str()),
            (
                Level::Warn,
                "the free space of /var/lib/schola cannot be read"
            )
        );
        assert!(
            disk_free(&fs(804, 196)).detail.contains("80.4 % full"),
            "rounding must not hide the warning"
        );
    }

    fn with_memory(total: u64, available: u64, cgroup: bool) -> Machine {
        let mut m = machine();
        m.memory.total = total;
        m.memory.available = available;
        m.memory.cgroup_limited = cgroup;
        m
    }

    #[test]
    fn memory_edges() {
        let level = |available| memory(&with_memory(1_000 * GIB, available * GIB, false)).level;
        assert_eq!(level(260), Level::Ok);
        assert_eq!(level(250), Level::Ok, "75 % is not over 75 %");
        assert_eq!(level(240), Level::Warn);
        assert_eq!(level(110), Level::Warn);
        assert_eq!(level(100), Level::Warn, "90 % is not over 90 %");
        assert_eq!(level(90), Level::Fail);
        let c = memory(&with_memory(8 * GIB, GIB / 2, false));
        assert_eq!(
            c.detail,
            "94 % of 8.0 GiB of the RAM in use (7.5 GiB; 512 MiB available)"
        );
        // 7.5 GiB used is 75 % of 10 GiB: add 2 GiB
        assert_eq!(c.action, Some(Action::AddMemory { bytes: 2 * GIB }));
        let limited = memory(&with_memory(2 * GIB, GIB / 10, true));
        assert_eq!(limited.level, Level::Fail);
        assert!(
            limited.detail.contains("cgroup's limit"),
            "{}",
            limited.detail
        );
        assert!(
            matches!(&limited.action, Some(Action::Investigate { what }) if what.contains("memory.max")),
            "a container needs its limit raised, not RAM bought"
        );
    }

    #[test]
    fn swap_edges() {
        let with_swap = |total: u64, free: u64| {
            let mut m = machine();
            m.memory.swap_total = total;
            m.memory.swap_free = free;
            swap(&m)
        };
        let none = with_swap(0, 0);
        assert_eq!(none.level, Level::Ok);
        assert!(none.detail.contains("no swap"), "{}", none.detail);
        assert_eq!(with_swap(1_000, 510).level, Level::Ok);
        assert_eq!(
            with_swap(1_000, 500).level,
            Level::Ok,
            "50 % is not over 50 %"
        );
        let over = with_swap(1_000 * GIB, 490 * GIB);
        assert_eq!(over.level, Level::Warn);
        assert_eq!(over.detail, "51 % of 1,000 GiB swap in use (510 GiB)");
        assert!(over.action.is_some());
    }

    #[test]
    fn oom_kills_since_the_previous_check_fail() {
        let at = |now, prev| oom_kills(now, prev);
        assert_eq!(at(None, None).level, Level::Ok);
        assert_eq!(at(Some(0), None).level, Level::Ok);
        assert_eq!(
            at(Some(0), Some(4)).level,
            Level::Ok,
            "rebooted, none since"
        );
        let unknown_when = at(Some(3), None);
        assert_eq!(unknown_when.level, Level::Warn);
        assert_eq!(
            unknown_when.detail,
            "3 OOM kills since boot (when is not known: this is the first check)"
        );
        let same = at(Some(3), Some(3));
        assert_eq!(same.level, Level::Ok);
        assert_eq!(
            same.detail,
            "3 OOM kills since boot, none since the previous check"
        );
        let grew = at(Some(4), Some(3));
        assert_eq!(grew.level, Level::Fail);
        assert_eq!(
            grew.detail,
            "1 process was stopped for lack of memory since the previous check"
        );
        let rebooted = at(Some(2), Some(5));
        assert_eq!(rebooted.level, Level::Fail, "a reboot since: all 2 are new");
        assert!(
            rebooted.detail.starts_with("2 processes were"),
            "{}",
            rebooted.detail
        );
    }

    #[test]
    fn mail_queue_edges() {
        let off = mail_queue(None);
        assert_eq!(
            (off.level, off.detail.as_str()),
            (Level::Ok, "mail is not switched on")
        );
        assert_eq!(mail_queue(Some(99)).level, Level::Ok);
        assert_eq!(mail_queue(Some(100)).level, Level::Ok);
        assert_eq!(mail_queue(Some(101)).level, Level::Warn);
        assert_eq!(mail_queue(Some(999)).level, Level::Warn);
        assert_eq!(mail_queue(Some(1_000)).level, Level::Warn);
        let full = mail_queue(Some(1_001));
        assert_eq!(full.level, Level::Fail);
        assert_eq!(full.detail, "1,001 mails are in the mail queue");
    }

    const DAY: i64 = 86_400;
    /// 2030-01-01 00:00 UTC
    const END: i64 = 1_893_456_000;

    #[test]
    fn certificate_edges() {
        let left = |secs: i64| certificate_check(Some(Ok(END)), END - secs);
        assert_eq!(left(7 * DAY - 1).level, Level::Fail);
        assert_eq!(
            left(7 * DAY).level,
            Level::Warn,
            "7 days left is not under 7"
        );
        assert_eq!(left(7 * DAY + 1).level, Level::Warn);
        assert_eq!(left(30 * DAY - 1).level, Level::Warn);
        assert_eq!(
            left(30 * DAY).level,
            Level::Ok,
            "30 days left is not under 30"
        );
        assert_eq!(left(30 * DAY + 1).level, Level::Ok);
        assert_eq!(
            left(20 * DAY).detail,
            "the web server's certificate is valid until 2030-01-01 (20 days from now)"
        );
        let expired = left(-DAY);
        assert_eq!(expired.level, Level::Fail);
        assert_eq!(
            expired.detail,
            "the web server's certificate expired on 2030-01-01"
        );
        assert!(expired.action.is_some());
        let none = certificate(None, END);
        assert_eq!(
            (none.level, none.detail.as_str()),
            (Level::Warn, "no certificate found")
        );
        let garbage = certificate(Some(b"not a certificate"), END);
        assert_eq!(garbage.level, Level::Warn);
        assert!(
            garbage.detail.contains("cannot be read"),
            "{}",
            garbage.detail
        );
    }

    #[test]
    fn a_real_certificate_is_read_with_its_date() {
        let mut params = rcgen::CertificateParams::new(vec!["schola.example".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        // the served file may start with the key or a comment; the first certificate counts
        let served = format!("{}{pem}", key.serialize_pem());
        let c = certificate(Some(served.as_bytes()), END - 10 * DAY);
        assert_eq!(c.level, Level::Warn);
        assert!(c.detail.contains("2030-01-01"), "{}", c.detail);
        assert_eq!(c.value.map(|v| v.value.round()), Some(10.0));
    }

    fn status(name: &str, health: Health, turn_on: Option<&str>) -> ServiceStatus {
        ServiceStatus {
            known: *KNOWN.iter().find(|k| k.name == name).unwrap(),
            health,
            sub_state: None,
            version: None,
            uptime_secs: None,
            turn_on: turn_on.map(str::to_string),
            from_process: false,
        }
    }

    #[test]
    fn an_installed_service_that_does_not_run_fails() {
        let probe = |services| Probe {
            systemd: true,
            dpkg: true,
            services,
        };
        let fine = services_running(Some(&probe(vec![
            status("schola-web", Health::Running, None),
            status("schola-mail", Health::Off, Some("apt install schola-mail")),
        ])));
        assert_eq!(fine.level, Level::Ok, "not installed is not a problem");
        assert_eq!(fine.detail, "running: schola-web");
        let bad = services_running(Some(&probe(vec![
            status(
                "schola-web",
                Health::Failed,
                Some("systemctl restart schola-web.service"),
            ),
            status("samba", Health::Starting, None),
        ])));
        assert_eq!(bad.level, Level::Fail);
        assert_eq!(bad.detail, "schola-web is failed; samba is starting");
        assert!(
            matches!(&bad.action, Some(Action::Investigate { what }) if what.contains("systemctl restart schola-web.service")),
            "{:?}",
            bad.action
        );
        let starting = services_running(Some(&probe(vec![status(
            "schola-web",
            Health::Starting,
            None,
        )])));
        assert_eq!(starting.level, Level::Warn);
        let stopped = services_running(Some(&probe(vec![status(
            "schola-web",
            Health::Stopped,
            Some("systemctl enable --now schola-web.service"),
        )])));
        assert_eq!(stopped.level, Level::Fail);
        assert_eq!(stopped.detail, "schola-web is installed but not running");
        let no_systemd = services_running(Some(&Probe {
            systemd: false,
            dpkg: false,
            services: vec![status("schola-web", Health::Unknown, None)],
        }));
        assert_eq!(no_systemd.level, Level::Ok);
        assert_eq!(services_running(None).level, Level::Ok);
    }

    fn load(minute: i64, waiting_room: u64, refused: u64) -> LoadMinute {
        LoadMinute {
            minute,
            waiting_room,
            refused,
            requests: 100,
            ..LoadMinute::default()
        }
    }

    #[test]
    fn limits_hit_in_the_last_day_warn() {
        // 2030-01-01 12:00 UTC
        let now = END + 12 * 3_600;
        let minute = |unix: i64| unix / 60;
        assert_eq!(limits_hit(&[], now).level, Level::Ok);
        assert_eq!(
            limits_hit(&[load(minute(now - DAY), 5, 0)], now).level,
            Level::Ok,
            "exactly 24 hours ago is outside the window"
        );
        assert_eq!(
            limits_hit(&[load(minute(now - DAY) + 1, 1, 0)], now).level,
            Level::Warn,
            "one waiting-room answer inside the window"
        );
        assert_eq!(
            limits_hit(&[load(minute(now - 60), 0, 0)], now).level,
            Level::Ok
        );
        let morning = END + 8 * 3_600;
        let c = limits_hit(
            &[
                load(minute(morning), 40, 0),
                load(minute(morning) + 1, 300, 12),
                load(minute(morning) + 2, 0, 0),
            ],
            now,
        );
        assert_eq!(c.level, Level::Warn);
        assert_eq!(c.value, Some(Quantity::new(352.0, Unit::Count)));
        assert_eq!(
            c.detail,
            "in the last 24 hours 340 requests got the waiting room; 12 connections were refused at a connection limit; the busiest minute was 2030-01-01 08:01 UTC (312)"
        );
        let Some(Action::Investigate { what }) = c.action else {
            panic!("{:?}", c.action)
        };
        assert!(what.contains("max_in_flight") && what.contains("max_signins_waiting"));
        assert!(what.contains("max_connections_per_client"));
        let only_refused = limits_hit(&[load(minute(morning), 0, 3)], now);
        let Some(Action::Investigate { what }) = only_refused.action else {
            panic!()
        };
        assert!(!what.contains("max_in_flight"), "{what}");
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(END - 1), "2029-12-31");
        assert_eq!(utc_minute(END + 8 * 3_600 + 61), "2030-01-01 08:01");
    }

    #[test]
    fn backup_edges() {
        use schola_core::backups::{CheckResult, Failure, LastBackup, Status};
        let now = 1_795_485_600 + 8 * 3600;
        let ok = |time| LastBackup {
            time,
            snapshot: "a1b2c3d4".into(),
            data_added: 1,
            total_bytes: 1,
            files_new: 0,
            files_changed: 0,
            duration_secs: 1.0,
        };
        let level = |s: Option<&Status>| backup(s, now).level;
        assert_eq!(level(None), Level::Warn);
        assert!(backup(None, now).detail.contains("no backup is set up"));
        // set up, nothing run yet
        let mut s = Status::default();
        assert_eq!(level(Some(&s)), Level::Warn);
        // last night's backup
        s.first_attempt = Some(now - 30 * 86_400);
        s.last_success = Some(ok(now - 6 * 3600));
        assert_eq!(level(Some(&s)), Level::Ok);
        // a failure after it
        s.last_failure = Some(Failure {
            time: now - 3600,
            message: "the backup target /media/usb is not there".into(),
            target_missing: true,
        });
        let c = backup(Some(&s), now);
        assert_eq!(c.level, Level::Warn);
        assert!(c.detail.contains("tried again every hour"), "{}", c.detail);
        // missed one night: stale
        s.last_failure = None;
        s.last_success = Some(ok(now - 27 * 3600));
        assert_eq!(level(Some(&s)), Level::Warn);
        // just under three days is still a WARN, over it a FAIL
        s.last_success = Some(ok(now - 3 * 86_400));
        assert_eq!(level(Some(&s)), Level::Warn);
        s.last_success = Some(ok(now - 3 * 86_400 - 1));
        assert_eq!(level(Some(&s)), Level::Fail);
        // never succeeded: WARN until three days after the first attempt
        s.last_success = None;
        s.first_attempt = Some(now - 86_400);
        s.last_failure = Some(Failure {
            time: now - 60,
            message: "the backup password is wrong".into(),
            target_missing: false,
        });
        assert_eq!(level(Some(&s)), Level::Warn);
        s.first_attempt = Some(now - 4 * 86_400);
        let c = backup(Some(&s), now);
        assert_eq!(c.level, Level::Fail);
        assert!(c.detail.contains("password is wrong"), "{}", c.detail);
        // a failed integrity check
        s.last_failure = None;
        s.last_success = Some(ok(now - 3600));
        s.last_check = Some(CheckResult {
            time: now - 1800,
            ok: false,
            message: "pack 1234 is damaged".into(),
        });
        let c = backup(Some(&s), now);
        assert_eq!(c.level, Level::Warn);
        assert!(c.detail.contains("pack 1234"), "{}", c.detail);
    }

    #[test]
    fn checks_come_in_a_fixed_order() {
        let mut m = machine();
        m.filesystems.push(fs(1, 1));
        let keys: Vec<String> = checks(&m, &HealthContext::default())
            .into_iter()
            .map(|c| c.key)
            .collect();
        assert_eq!(
            keys,
            [
                "disk-free",
                "disk-free",
                "memory",
                "swap",
                "oom-kills",
                "mail-queue",
                "certificate",
                "services",
                "limits-hit",
                "backup"
            ]
        );
    }
}
