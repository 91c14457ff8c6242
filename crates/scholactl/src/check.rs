//! `scholactl check`: the capacity self-check on the command line — a table (in colour on a
//! terminal) or `--json`, exit status 0 (all OK), 1 (a WARN), 2 (a FAIL), 3 (could not run).
//!
//! `--storm` first runs the synthetic 8:00 morning against the running web server (loopback
//! only, bounded, refused in school hours unless `--force`) with temporary accounts;
//! `--fix` applies the safe configuration fixes; `--run-request` is the capacity helpers'
//! entry (systemd units started by the admin UI's requests and the daily timer).

use std::io::IsTerminal as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use schola_capacity::check::{self as cap, CheckOptions};
use schola_capacity::probe::ProbeOptions;
use schola_capacity::{Action, Check, Level, Resource, StormMeasurement, format};
use schola_core::capacity_request::{CapacityRequest, RequestDir};
use schola_core::{Config, Store};

use crate::cli::{CheckArgs, RequestKind};
use crate::context::Ctx;
use crate::output;

/// Exit status when the check could not run at all.
pub const COULD_NOT_RUN: u8 = 3;

/// The drop-in `--fix` writes, next to the main configuration file.
const FIX_FILE: &str = "conf.d/50-capacity.toml";

/// More people than the predicted capacity offered in a storm, so the measurement finds the
/// server's limit instead of the offered load.
const STORM_OVERLOAD: f64 = 1.3;
/// Bounds of a storm's size.
const STORM_PEOPLE: (usize, usize) = (50, 5_000);
/// Time the stragglers get after the window before the storm is stopped.
const STORM_SLACK: Duration = Duration::from_secs(30);

pub fn run(ctx: &Ctx, args: CheckArgs) -> Result<u8> {
    match args.run_request {
        Some(RequestKind::Check) => return run_check_request(ctx),
        Some(RequestKind::Fix) => return run_fix_request(ctx),
        None => {}
    }
    if args.fix {
        return fix(ctx, None);
    }
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let mut opts = options(args.quick);
    if args.storm {
        opts.storm = Some(storm(&cfg, &store, args.storm_seconds, args.force)?);
    }
    let trigger = if args.storm { "storm" } else { &args.trigger };
    let (check, notes) = cap::run(&cfg, &store, &opts, store.now())?;
    for n in &notes {
        output::note(n);
    }
    if !args.no_save {
        cap::save(&store, &check, trigger)?;
    }
    if ctx.json {
        output::print_json(&check)?;
    } else {
        output::print(&render(&check, colour()))?;
    }
    Ok(check.level.exit_code())
}

fn options(quick: bool) -> CheckOptions {
    let mut probe = ProbeOptions::default();
    if quick {
        probe.disk_bench = false;
        probe.argon2_seconds = 1.0;
    }
    CheckOptions {
        probe,
        storm: None,
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// Colour only for a person at a terminal who has not asked for none (no-color.org).
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn badge(level: Level, colour: bool) -> String {
    let (text, code) = match level {
        Level::Ok => ("OK", "32"),
        Level::Warn => ("WARN", "33"),
        Level::Fail => ("FAIL", "1;31"),
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.into()
    }
}

fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::SigninCpu => "sign-in CPU",
        Resource::RequestCpu => "page CPU",
        Resource::Memory => "memory",
        Resource::Connections => "connections",
        Resource::OpenFiles => "open files",
        Resource::DiskSpace => "disk space",
        Resource::DiskWrite => "disk writes",
        Resource::Uplink => "uplink",
        Resource::Network => "network link",
    }
}

/// Headroom in per cent; past 1,000 % the exact figure says nothing more.
pub fn headroom(h: f64) -> String {
    if h > 1_000.0 {
        "> 1,000 %".into()
    } else {
        format!("{} %", format::number(h.round()))
    }
}

/// What limits the largest school, in words.
fn bound_words(by: &str) -> &'static str {
    match by {
        "storm" => "by the sign-in rate the storm measured",
        "memory" => "limited by the memory",
        "connections" => "limited by the web server's connection limit",
        _ => "by the model's sign-in rate",
    }
}

/// The readable report: school, machine, verdicts, health, the largest school.
pub fn render(c: &Check, colour: bool) -> String {
    let mut out = String::new();
    let m = &c.machine;
    out.push_str(&format!(
        "Capacity check of {} — {} people ({} students, {} teachers, {} staff, {} admins)\n",
        if c.school_name.is_empty() {
            "this school"
        } else {
            &c.school_name
        },
        format::number(c.school.people() as f64),
        format::number(c.school.students as f64),
        format::number(c.school.teachers as f64),
        format::number(c.school.staff as f64),
        format::number(c.school.admins as f64),
    ));
    out.push_str(&format!(
        "Machine: {} cores ({}), {} RAM{}, argon2id {} verifies/s on all cores\n\n",
        m.cores,
        m.cpu_model,
        format::bytes(m.memory.total as f64),
        if m.memory.cgroup_limited {
            " (cgroup limit)"
        } else {
            ""
        },
        format::number(m.argon2.verifies_per_sec),
    ));
    // the badge's escape codes must not count towards the column width
    let pad = |cell: String, plain: usize, width: usize| {
        format!("{cell}{}", " ".repeat(width.saturating_sub(plain)))
    };
    let mut rows: Vec<[String; 6]> = vec![[
        "RESOURCE".into(),
        "VERDICT".into(),
        "NEEDED".into(),
        "HAVE".into(),
        "HEADROOM".into(),
        "WHAT TO DO".into(),
    ]];
    for v in &c.verdicts {
        rows.push([
            resource_name(v.resource).into(),
            v.level.as_str().to_uppercase(),
            format::quantity(v.needed),
            format!(
                "{}{}",
                match v.headroom_pct {
                    None if v.needed.value > 0.0 => "unknown".into(),
                    _ => format::quantity(v.have),
                },
                if v.measured { " (measured)" } else { "" }
            ),
            v.headroom_pct.map(headroom).unwrap_or_else(|| "–".into()),
            v.action.as_ref().map(Action::to_string).unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for (n, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let shown = if i == 1 && n > 0 {
                Level::parse(&cell.to_lowercase())
                    .map(|l| badge(l, colour))
                    .unwrap_or_else(|| cell.clone())
            } else {
                cell.clone()
            };
            if i + 1 < r.len() {
                line.push_str(&pad(shown, cell.chars().count(), widths[i] + 2));
            } else {
                line.push_str(&shown);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("\nHealth\n");
    for h in &c.health {
        let action = h
            .action
            .as_ref()
            .map(|a| format!(" — {a}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}  {}: {}{action}\n",
            pad(badge(h.level, colour), h.level.as_str().len(), "WARN".len()),
            h.key,
            h.detail
        ));
    }
    if let Some(s) = &c.storm {
        out.push_str(&format!(
            "\nMeasured storm: {} people within {} s; {} sign-ins/s sustained (model: {}), p99 sign-in {} ms, {} waiting-room answers, {} errors\n",
            format::number(s.people as f64),
            format::number(s.window_secs),
            format::number(s.signins_per_sec),
            format::number(s.predicted_signins_per_sec),
            format::number(s.p99_signin_ms),
            format::number(s.waiting_room as f64),
            format::number(s.errors as f64),
        ));
    }
    out.push_str(&format!(
        "\nThis machine holds the 8:00 sign-in of a school of up to {} people ({} of them within {} minutes), {}; this school has {}.\n",
        format::number(c.largest_school as f64),
        format::quantity(schola_capacity::Quantity::new(
            c.profile.storm_share,
            schola_capacity::Unit::Share
        )),
        format::number(c.profile.storm_window_secs / 60.0),
        bound_words(&c.largest_school_by),
        format::number(c.school.people() as f64),
    ));
    out.push_str(&format!("Overall: {}\n", badge(c.level, colour)));
    out
}

/// School hours, when a storm would hurt real people: Monday to Friday, 7:00 to 16:00, local
/// time (from `date`, which knows the machine's time zone).
fn school_hours() -> Result<bool> {
    let out = Command::new("date")
        .arg("+%u %H")
        .output()
        .context("cannot read the local time with 'date'")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(str::parse::<u32>);
    match (it.next(), it.next()) {
        (Some(Ok(day)), Some(Ok(hour))) => Ok(day <= 5 && (7..16).contains(&hour)),
        _ => bail!("cannot read the local time from 'date': {text:?}"),
    }
}

/// The running web server's address on this machine, loopback only.
fn web_address(cfg: &Config) -> Result<SocketAddr> {
    let listen = cfg
        .web
        .listen
        .first()
        .ok_or_else(|| anyhow!("the configuration has no [web] listen address"))?;
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip if ip.is_loopback() => ip,
        ip => bail!(
            "the web server listens on {ip}, not on loopback: a storm runs against loopback only"
        ),
    };
    Ok(SocketAddr::new(ip, listen.port()))
}

/// Removes the storm's accounts when dropped, also when the storm fails half-way.
struct StormAccounts<'a>(&'a Store);

impl Drop for StormAccounts<'_> {
    fn drop(&mut self) {
        match self.0.remove_storm_accounts() {
            Ok(n) => output::note(&format!("removed the storm's {n} temporary accounts")),
            Err(e) => output::note(&format!(
                "could not remove the storm's temporary accounts ({e}); the next check removes them"
            )),
        }
    }
}

fn storm(cfg: &Config, store: &Store, window_secs: u64, force: bool) -> Result<StormMeasurement> {
    if !force && school_hours()? {
        bail!(
            "it is school hours (Monday to Friday, 7:00 to 16:00): a storm now would slow the \
             school down; run it after school, or add --force"
        );
    }
    let addr = web_address(cfg)?;
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)).with_context(|| {
        format!("the web server does not answer on {addr}; start it first (a storm measures the running server)")
    })?;
    output::note("measuring this machine's sign-in rate (argon2id, 2 s) …");
    let probe = ProbeOptions {
        disk_bench: false,
        ..ProbeOptions::default()
    };
    let machine = schola_capacity::probe::probe(cfg, store.count_people(None)?, &probe);
    let predicted = schola_capacity::model::signin_capacity(&machine);
    let window = Duration::from_secs(window_secs);
    let people = ((predicted * window_secs as f64 * STORM_OVERLOAD).ceil() as usize)
        .clamp(STORM_PEOPLE.0, STORM_PEOPLE.1);
    output::note(&format!(
        "storm: {people} temporary students sign in within {window_secs} s against {addr} \
         (the model expects {} sign-ins/s) …",
        format::number(predicted)
    ));
    let password = format!(
        "{}-{}",
        schola_core::token::readable_password(),
        schola_core::token::readable_password()
    );
    let phc = schola_core::password::hash_password(cfg.auth.argon2, &password)?;
    let logins = store.create_storm_accounts(people, &phc)?;
    let _cleanup = StormAccounts(store);
    let at = store.now();
    let spec = schola_load::StormSpec {
        addr,
        accounts: logins.into_iter().map(|l| (l, password.clone())).collect(),
        window,
        deadline: window + STORM_SLACK,
        seed: at as u64,
        source_addresses: if addr.is_ipv4() { 32 } else { 1 },
    };
    let r = schola_load::run_storm(&spec).context("the storm could not run")?;
    if r.errors > 0 {
        output::note(&format!(
            "the storm saw {} errors, e.g. {}",
            r.errors,
            r.error_examples.join("; ")
        ));
    }
    Ok(StormMeasurement {
        at,
        people: r.people,
        window_secs: window_secs as f64,
        signins_per_sec: r.signins_per_sec,
        p99_signin_ms: r.p99_signin.as_secs_f64() * 1000.0,
        p99_start_page_ms: r.p99_start_page.as_secs_f64() * 1000.0,
        errors: r.errors,
        waiting_room: r.waiting_room,
        predicted_signins_per_sec: predicted,
    })
}

/// The daily timer and the dashboard's "check now": a full check, stored (user schola).
fn run_check_request(ctx: &Ctx) -> Result<u8> {
    let cfg = ctx.config()?;
    let requests = RequestDir::from_config(&cfg);
    let asked = match requests.take(true) {
        Ok(found) => found.is_some(),
        Err(e) => {
            output::note(&e.to_string());
            false
        }
    };
    let store = ctx.store(&cfg)?;
    let version = env!("CARGO_PKG_VERSION");
    let upgraded = cap::latest(&store)?.is_some_and(|c| c.version != version);
    // the first check of a new version is the one schola-web's postinst asked for
    let trigger = match (upgraded, asked) {
        (true, _) => "upgrade",
        (false, true) => "web",
        (false, false) => "timer",
    };
    let (check, notes) = cap::run(&cfg, &store, &options(false), store.now())?;
    for n in &notes {
        output::note(n);
    }
    cap::save(&store, &check, trigger)?;
    output::print(&render(&check, false))?;
    Ok(check.level.exit_code())
}

/// The dashboard's fix button (root, `schola-capacity-fix.service`): the request names one
/// setting; it is applied only when a fresh check proposes exactly that.
fn run_fix_request(ctx: &Ctx) -> Result<u8> {
    let cfg = ctx.config()?;
    let Some(req) = RequestDir::from_config(&cfg).take(false)? else {
        output::note("no fix was requested");
        return Ok(0);
    };
    fix(ctx, Some(req))
}

/// Runs a fresh check as the state owner (a child process: this one may stay root to write the
/// configuration), then applies its fixable actions — or only `only`, when it is among them.
fn fix(ctx: &Ctx, only: Option<CapacityRequest>) -> Result<u8> {
    let exe = std::env::current_exe().context("cannot find scholactl's own path")?;
    let out = Command::new(exe)
        .arg("--config")
        .arg(&ctx.config_path)
        .args(["--json", "check", "--quick", "--no-save"])
        .output()
        .context("cannot run the check")?;
    let check: Check = serde_json::from_slice(&out.stdout).map_err(|e| {
        anyhow!(
            "the check did not run ({e}): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    let proposed: Vec<(String, String, u64)> = check
        .verdicts
        .iter()
        .filter_map(|v| match &v.action {
            Some(Action::SetConfig {
                section,
                key,
                value,
            }) => Some((section.clone(), key.clone(), *value)),
            _ => None,
        })
        .collect();
    let chosen: Vec<(String, String, u64)> = match &only {
        None => proposed,
        Some(CapacityRequest::Fix {
            section,
            key,
            value,
        }) => {
            let want = (section.clone(), key.clone(), *value);
            if !proposed.contains(&want) {
                bail!(
                    "the requested fix [{section}] {key} = {value} is not what the check proposes now; nothing was changed"
                );
            }
            vec![want]
        }
        Some(CapacityRequest::Check) => Vec::new(),
    };
    if chosen.is_empty() {
        output::print("Nothing to fix: the check proposes no configuration change.\n")?;
        return Ok(check.level.exit_code());
    }
    for (section, key, value) in &chosen {
        // the same rules as a request from the web page: known keys, sane values
        CapacityRequest::fix(section, key, *value)?;
    }
    let file = write_fixes(&ctx.config_path, &chosen)?;
    let mut text = String::new();
    for (section, key, value) in &chosen {
        text.push_str(&format!(
            "set [{section}] {key} = {value} in {}\n",
            file.display()
        ));
    }
    text.push_str(&restart_web());
    output::print(&text)?;
    Ok(0)
}

/// Sets the keys in the drop-in, keeping what it had; the whole configuration must still load,
/// else the drop-in is put back as it was.
fn write_fixes(config_path: &Path, fixes: &[(String, String, u64)]) -> Result<PathBuf> {
    let dir = config_path.parent().unwrap_or(Path::new("."));
    let file = dir.join(FIX_FILE);
    let old = match std::fs::read_to_string(&file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let mut table: toml::Table = match &old {
        Some(t) => t
            .parse()
            .with_context(|| format!("{} is not valid TOML", file.display()))?,
        None => toml::Table::new(),
    };
    for (section, key, value) in fixes {
        let s = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(s) = s.as_table_mut() else {
            bail!("[{section}] in {} is not a table", file.display());
        };
        s.insert(key.clone(), toml::Value::Integer(*value as i64));
    }
    let text = format!(
        "# Written by `scholactl check --fix` (the capacity check's safe fixes); edit or remove\n\
         # it like any other drop-in.\n{}",
        toml::to_string(&table).context("cannot write the fixes as TOML")?
    );
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &file))
        .with_context(|| format!("cannot write {}", file.display()))?;
    if let Err(e) = Config::load(config_path) {
        let _ = match &old {
            Some(t) => std::fs::write(&file, t),
            None => std::fs::remove_file(&file),
        };
        bail!(
            "the fixed configuration does not load ({e}); {} was put back",
            file.display()
        );
    }
    Ok(file)
}

/// Restarts schola-web under systemd; elsewhere (the demo) says what to do.
fn restart_web() -> String {
    if !schola_core::services::systemd_booted() {
        return "Restart the web server (the demo: stop and start it again) to apply.\n".into();
    }
    match Command::new("systemctl")
        .args(["try-restart", "schola-web.service"])
        .status()
    {
        Ok(s) if s.success() => "schola-web was restarted with the new limits.\n".into(),
        _ => "could not restart schola-web; run: systemctl restart schola-web\n".into(),
    }
}
