//! `schola-bench capacity-accuracy`: the accuracy bar of the capacity check. For each emulated
//! machine size (a control group with a CPU quota and a memory limit, see [`crate::cgroup`])
//! the capacity model predicts the largest school whose 8:00 sign-in storm stays within target,
//! and storms against a real `schola-web` inside that group measure it; the prediction must lie
//! within ±25 % of the measurement on every size.
//!
//! Target of a storm of N people: round(0.8 × N) of them arrive at random within the window
//! (the profile's storm share), no error but the waiting room, and p99 from pressing "sign in"
//! to the start page under 2 s. The measured largest N is bisected (geometrically) around the
//! prediction until the largest passing and the smallest failing N are within 10 % of each
//! other (±5 %), with at most `--max-trials` storms per size.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use schola_capacity::model;
use schola_capacity::probe::{Machine, ProbeOptions};
use schola_capacity::profile::Profile;
use schola_core::Config;
use schola_core::password::hash_password_for;
use schola_load::{StormReport, StormSpec, run_storm};
use serde::{Deserialize, Serialize};

use crate::cgroup::{self, Cleanup, Groups, Size, SizeGroup};
use crate::server::{self, BenchDir, PASSWORD, ServerGuard};
use crate::stats::{self, count, human};

/// The accuracy bar: |predicted − measured| ÷ measured at most this.
const ACCURACY: f64 = 0.25;
/// A storm is within target when p99 from "sign in" to the start page is below this.
const P99_TARGET: Duration = Duration::from_secs(2);
/// Share of the school in the storm (the profile's default).
const STORM_SHARE: f64 = 0.8;
/// The search starts between these multiples of the prediction …
const LOW: f64 = 0.4;
const HIGH: f64 = 1.8;
/// … and widens by this factor (at most twice) when the measurement lies outside.
const WIDEN: f64 = 1.5;
/// Stop when the smallest failing N is at most this much above the largest passing one.
const PRECISION: f64 = 1.10;
/// A storm's deadline after its window: who is not in by then is an error.
const SLACK: Duration = Duration::from_secs(30);
/// The longest wait for the server to go quiet between storms.
const SETTLE: Duration = Duration::from_secs(20);
/// Seconds of the probe's argon2id benchmark.
const PROBE_SECONDS: f64 = 3.0;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Students per class, so that a start page lists a class as a real one does.
const CLASS_SIZE: usize = 25;

#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    /// Machine sizes as CORES:MEMORY, comma-separated; cores may be fractional (a CPU quota),
    /// as the load generator needs the rest of this machine.
    #[arg(long, default_value = "0.5:1G,1:2G,1.5:3G")]
    pub sizes: String,
    /// Seconds the storm's arrivals are spread over (the profile's storm window).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=600))]
    pub window: u64,
    /// Storms per size, at most.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(2..=20))]
    pub max_trials: u64,
    /// Loopback source addresses the people connect from (127.0.0.2 on).
    #[arg(long, default_value_t = 2_048, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub addresses: u64,
    /// Seed of the arrival times.
    #[arg(long, default_value_t = 800)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The schola.toml whose argon2id parameters the server uses.
    #[arg(long)]
    pub config: std::path::PathBuf,
    /// The storm window in seconds.
    #[arg(long)]
    pub window: u64,
}

/// What `capacity-probe` prints (one JSON object).
#[derive(Debug, Serialize, Deserialize)]
struct Prediction {
    machine: Machine,
    signin_capacity: f64,
    largest_school: usize,
    /// Which model made it: `schola-capacity` or the stand-in of this file.
    model: String,
}

/// `schola-bench capacity-probe` (hidden): the capacity check's own probe and model, run
/// inside the size's control group so that they see what the server sees.
pub fn probe(args: &ProbeArgs) -> Result<bool> {
    let cfg = Config::load(&args.config)?;
    let opts = ProbeOptions {
        argon2_seconds: PROBE_SECONDS,
        disk_bench: false,
        ..ProbeOptions::default()
    };
    let machine = schola_capacity::probe::probe(&cfg, 0, &opts);
    let profile = Profile {
        storm_window_secs: args.window as f64,
        storm_share: STORM_SHARE,
        ..Profile::default()
    };
    let bounds = model::school_bounds(&machine, &profile);
    let out = Prediction {
        signin_capacity: model::signin_capacity(&machine),
        // the storm is the sign-in path of schola-web alone, one connection per person: the
        // connection bound (six per browser all morning) and the memory bound (with the planned
        // file and mail services) are reported, but they are not what a storm can confirm
        largest_school: bounds.signin,
        model: format!(
            "schola-capacity: sign-in bound {} (held against the storms), connection bound {}, \
             memory bound {} (with the planned file and mail services), utilisation target {:.2}",
            count(bounds.signin as u64),
            count(bounds.connections as u64),
            count(bounds.memory as u64),
            model::utilisation_target(&machine)
        ),
        machine,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(true)
}

/// One storm of the search.
#[derive(Debug)]
struct Trial {
    /// School size N; round(0.8 × N) of them sign in.
    school: usize,
    /// Sign-ins per second offered: people ÷ window.
    offered: f64,
    report: StormReport,
    server_cpu: Option<Duration>,
    pass: bool,
}

/// One size's outcome.
#[derive(Debug)]
struct Row {
    size: Size,
    prediction: Prediction,
    /// The largest N that passed (0 when none did) and the smallest that failed.
    measured: usize,
    failed_at: Option<usize>,
    trials: Vec<Trial>,
}

impl Row {
    fn error(&self) -> Option<f64> {
        (self.measured > 0).then(|| {
            (self.prediction.largest_school as f64 - self.measured as f64) / self.measured as f64
        })
    }

    fn pass(&self) -> bool {
        self.error().is_some_and(|e| e.abs() <= ACCURACY)
    }

    /// Sign-ins per second the largest passing storm offered (people ÷ window).
    fn passing_rate(&self) -> Option<f64> {
        let t = self
            .trials
            .iter()
            .filter(|t| t.pass)
            .max_by_key(|t| t.school)?;
        Some(t.offered)
    }

    /// schola-web's CPU per completed sign-in in the largest passing storm.
    fn cpu_per_signin(&self) -> Option<Duration> {
        let t = self
            .trials
            .iter()
            .filter(|t| t.pass)
            .max_by_key(|t| t.school)?;
        let cpu = t.server_cpu?;
        (t.report.signed_in > 0).then(|| cpu / t.report.signed_in as u32)
    }
}

pub fn run(args: &CapacityArgs) -> Result<bool> {
    let sizes = cgroup::parse_sizes(&args.sizes)?;
    let window = Duration::from_secs(args.window);
    let per_storm = window + SLACK + Duration::from_secs(10);
    // the search usually needs five storms: the prediction, one end, three halvings
    let typical =
        per_storm.as_secs() * args.max_trials.min(5) * sizes.len() as u64 + 30 * sizes.len() as u64;
    let worst = per_storm.as_secs() * args.max_trials * sizes.len() as u64
        + (SETTLE.as_secs() + 30) * sizes.len() as u64;
    let labels: Vec<String> = sizes.iter().map(Size::label).collect();
    println!(
        "schola-bench capacity-accuracy: sizes {}; storm: {:.0} % of the school within {} s; \
         target: no error but the waiting room, p99 sign-in to start page < {}",
        labels.join(", "),
        STORM_SHARE * 100.0,
        args.window,
        human(P99_TARGET)
    );
    println!(
        "this takes about {} min (at most {} min: {} storms per size of at most {} s each)",
        typical.div_ceil(60),
        worst.div_ceil(60),
        args.max_trials,
        (window + SLACK).as_secs()
    );
    if let Some(load) = stats::load_average()
        && load > 0.5 * Config::cores() as f64
    {
        eprintln!(
            "warning: load average {load:.2} before the run: the server's group gets its CPU \
             quota first, but the load generator shares the rest with the other processes"
        );
    }
    server::raise_open_files_limit()?;
    let cleanup = Arc::new(Mutex::new(Cleanup::default()));
    cgroup::install_interrupt_cleanup(Arc::clone(&cleanup))?;
    let groups = Groups::create(Arc::clone(&cleanup))?;
    groups.enter_load_group()?;
    let exe = std::env::current_exe().context("cannot find this executable")?;

    let mut rows = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        println!("\n== {} ==", size.label());
        let group = groups.size_group(i, *size)?;
        let row = measure(&exe, &group, args, &cleanup);
        groups.remove_size_group(&group)?;
        rows.push(row?);
    }
    drop(groups);

    print!("{}", table(&rows, args.window));
    let pass = rows.iter().all(Row::pass);
    println!(
        "\nschola-bench capacity-accuracy: {}",
        if pass {
            "PASS (every prediction within ±25 % of the measurement)"
        } else {
            "FAIL (see the rows marked FAIL)"
        }
    );
    Ok(pass)
}

/// Predicts and measures one size: the probe, then a server with enough students, then storms.
fn measure(
    exe: &Path,
    group: &SizeGroup,
    args: &CapacityArgs,
    cleanup: &Arc<Mutex<Cleanup>>,
) -> Result<Row> {
    let bench = BenchDir::create()?;
    if let Ok(mut c) = cleanup.lock() {
        c.temp_dirs.push(bench.dir.path().to_path_buf());
    }
    eprintln!("probing inside the group ({PROBE_SECONDS} s of argon2id) ...");
    let out = group
        .command(exe)
        .arg("capacity-probe")
        .arg("--config")
        .arg(&bench.config_path)
        .arg("--window")
        .arg(args.window.to_string())
        .output()
        .context("cannot run the capacity probe")?;
    if !out.status.success() {
        bail!(
            "the capacity probe failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let prediction: Prediction = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the capacity probe printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let predicted = prediction.largest_school.max(1);
    println!(
        "predicted: {} people (cores seen {}, argon2id {:.1} verifies/s, one verify {:.0} ms, \
         sign-in capacity {:.1} /s; model: {})",
        count(predicted as u64),
        prediction.machine.cores,
        prediction.machine.argon2.verifies_per_sec,
        prediction.machine.argon2.verify_ms,
        prediction.signin_capacity,
        prediction.model
    );

    // enough students for the largest storm the search may try (two widenings up)
    let largest = (predicted as f64 * HIGH * WIDEN * WIDEN).ceil() as usize;
    let students = storm_people(largest);
    eprintln!(
        "setting up a school with {} students ...",
        count(students as u64)
    );
    let argon = bench.cfg.auth.argon2;
    let hash = hash_password_for(argon, PASSWORD).context("cannot hash the bench password")?;
    let logins = bench.populate_classes(&hash, students, CLASS_SIZE)?;
    let accounts: Vec<(String, String)> = logins
        .into_iter()
        .map(|l| (l, PASSWORD.to_string()))
        .collect();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // declared after `bench`, so the server is killed before its directory is removed
    let (server, target) =
        rt.block_on(ServerGuard::start_in(&bench, READY_TIMEOUT, Some(group)))?;
    drop(rt);
    let pid = server.pid().to_string();
    eprintln!(
        "schola-web (pid {pid}) is ready at https://{} inside the group",
        target.addr
    );

    let mut search = Search::new(predicted);
    let mut trials = Vec::new();
    while let Some(school) = search.next() {
        if trials.len() as u64 >= args.max_trials {
            break;
        }
        let school = school.min(largest);
        settle(&pid);
        let people = storm_people(school);
        let spec = StormSpec {
            addr: target.addr,
            accounts: accounts[..people].to_vec(),
            window: Duration::from_secs(args.window),
            deadline: Duration::from_secs(args.window) + SLACK,
            seed: args.seed,
            source_addresses: args.addresses as usize,
        };
        let cpu0 = stats::cpu_time(&pid);
        let report = run_storm(&spec)?;
        let server_cpu = stats::cpu_time(&pid)
            .zip(cpu0)
            .map(|(b, a)| b.saturating_sub(a));
        let pass = within_target(&report);
        println!(
            "{}",
            trial_line(trials.len() + 1, school, &spec, &report, pass)
        );
        for e in &report.error_examples {
            println!("      {e}");
        }
        search.record(school, pass);
        trials.push(Trial {
            school,
            offered: people as f64 / spec.window.as_secs_f64(),
            report,
            server_cpu,
            pass,
        });
        if school >= largest && pass {
            break;
        }
    }
    let warnings = server.log_tail(200);
    drop(server);
    let warnings: Vec<&str> = warnings
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    if !warnings.is_empty() {
        eprintln!(
            "the server's last warnings and errors:\n{}",
            warnings[warnings.len().saturating_sub(10)..].join("\n")
        );
    }
    Ok(Row {
        size: group.size,
        prediction,
        measured: search.passed.unwrap_or(0),
        failed_at: search.failed,
        trials,
    })
}

/// round(0.8 × school), at least one.
fn storm_people(school: usize) -> usize {
    ((school as f64 * STORM_SHARE).round() as usize).max(1)
}

fn within_target(r: &StormReport) -> bool {
    r.errors == 0 && r.signed_in == r.people && r.p99_signin < P99_TARGET
}

fn trial_line(n: usize, school: usize, spec: &StormSpec, r: &StormReport, pass: bool) -> String {
    let offered = spec.accounts.len() as f64 / spec.window.as_secs_f64();
    format!(
        "  storm {n}: school of {} ({} signing in, {offered:.1}/s offered): {:.1} sign-ins/s, \
         p99 sign-in {} (p50 {}), start page p99 {}, waiting room {}, errors {} -> {}",
        count(school as u64),
        count(spec.accounts.len() as u64),
        r.signins_per_sec,
        human(r.p99_signin),
        human(r.p50_signin),
        human(r.p99_start_page),
        count(r.waiting_room as u64),
        count(r.errors as u64),
        if pass { "pass" } else { "FAIL" }
    )
}

/// Waits until the server has been nearly idle for half a second (the previous storm's
/// waiting room drained), at most [`SETTLE`].
fn settle(pid: &str) {
    let start = Instant::now();
    while start.elapsed() < SETTLE {
        let a = stats::cpu_time(pid);
        std::thread::sleep(Duration::from_millis(500));
        match stats::cpu_time(pid).zip(a) {
            Some((b, a)) if b.saturating_sub(a) < Duration::from_millis(25) => return,
            None => return,
            _ => {}
        }
    }
}

/// The geometric search for the largest passing N.
#[derive(Debug)]
struct Search {
    predicted: usize,
    passed: Option<usize>,
    failed: Option<usize>,
    tried: Vec<usize>,
    widened: u32,
}

impl Search {
    fn new(predicted: usize) -> Search {
        Search {
            predicted: predicted.max(1),
            passed: None,
            failed: None,
            tried: Vec::new(),
            widened: 0,
        }
    }

    fn record(&mut self, school: usize, pass: bool) {
        self.tried.push(school);
        if pass {
            self.passed = Some(self.passed.map_or(school, |p| p.max(school)));
        } else {
            self.failed = Some(self.failed.map_or(school, |f| f.min(school)));
        }
    }

    /// The next N to try, or `None` when the bracket is narrow enough (or cannot be found).
    fn next(&mut self) -> Option<usize> {
        let p = self.predicted as f64;
        let candidate = match (self.passed, self.failed) {
            (None, None) => p,
            (Some(lo), None) => {
                if self.tried.len() > 1 {
                    self.widened += 1;
                }
                if self.widened > 2 {
                    return None;
                }
                if self.tried.len() == 1 {
                    p * HIGH
                } else {
                    lo as f64 * WIDEN
                }
            }
            (None, Some(hi)) => {
                if self.tried.len() > 1 {
                    self.widened += 1;
                }
                if self.widened > 2 || hi <= 1 {
                    return None;
                }
                if self.tried.len() == 1 {
                    p * LOW
                } else {
                    hi as f64 / WIDEN / WIDEN
                }
            }
            (Some(lo), Some(hi)) => {
                if hi as f64 <= lo as f64 * PRECISION || hi <= lo + 1 {
                    return None;
                }
                (lo as f64 * hi as f64).sqrt()
            }
        };
        let n = (candidate.round() as usize).max(1);
        (!self.tried.contains(&n)).then_some(n)
    }
}

fn table(rows: &[Row], window: u64) -> String {
    let mut out = format!(
        "\n== capacity accuracy: largest school whose 8:00 storm ({:.0} % within {window} s) stays \
         within target ==\n",
        STORM_SHARE * 100.0
    );
    let head = ["size", "predicted", "measured", "error", ""];
    let mut lines = vec![head.map(String::from).to_vec()];
    for r in rows {
        let measured = match (r.measured, r.failed_at) {
            (0, Some(f)) => format!("< {}", count(f as u64)),
            (m, _) => count(m as u64),
        };
        let error = r
            .error()
            .map(|e| format!("{:+.1} %", e * 100.0))
            .unwrap_or_else(|| "-".into());
        lines.push(vec![
            r.size.label(),
            count(r.prediction.largest_school as u64),
            measured,
            error,
            if r.pass() { "PASS" } else { "FAIL" }.into(),
        ]);
    }
    let mut w = [0usize; 5];
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for l in &lines {
        let line = format!(
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(
        "  error = (predicted − measured) ÷ measured; PASS when within ±25 %; measured = the \
         largest school whose storm passed\n",
    );
    for r in rows {
        let mut note = format!(
            "  {}: argon2id {:.1} verifies/s on {} core(s) seen, one verify {:.0} ms",
            r.size.label(),
            r.prediction.machine.argon2.verifies_per_sec,
            r.prediction.machine.cores,
            r.prediction.machine.argon2.verify_ms
        );
        if let Some(f) = r.failed_at {
            note.push_str(&format!(
                "; the storm of a school of {} failed",
                count(f as u64)
            ));
        }
        if let Some(cpu) = r.cpu_per_signin() {
            note.push_str(&format!(
                "; schola-web CPU per sign-in {} in the largest passing storm",
                human(cpu)
            ));
        }
        if let Some(rate) = r.passing_rate()
            && r.prediction.machine.argon2.verifies_per_sec > 0.0
        {
            note.push_str(&format!(
                ", which offered {rate:.1} sign-ins/s = {:.2} × the verifies/s",
                rate / r.prediction.machine.argon2.verifies_per_sec
            ));
        }
        out.push_str(&note);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_search(predicted: usize, truth: usize) -> (Option<usize>, Option<usize>, usize) {
        let mut s = Search::new(predicted);
        let mut n = 0;
        while let Some(school) = s.next() {
            n += 1;
            s.record(school, school <= truth);
            assert!(n <= 7, "too many storms: {:?}", s.tried);
        }
        (s.passed, s.failed, n)
    }

    #[test]
    fn the_search_brackets_the_truth_within_ten_percent_in_seven_storms() {
        for (predicted, truth) in [
            (1_000, 1_000),
            (1_000, 450),
            (1_000, 1_700),
            (1_000, 700),
            (500, 1_500),
            (1_000, 200),
        ] {
            let (lo, hi, n) = run_search(predicted, truth);
            let (Some(lo), Some(hi)) = (lo, hi) else {
                unreachable!("{predicted} vs {truth}: no bracket ({lo:?}, {hi:?})")
            };
            assert!(
                lo <= truth && truth < hi,
                "{predicted} vs {truth}: {lo}..{hi}"
            );
            assert!(
                hi as f64 <= lo as f64 * PRECISION + 1.0,
                "{predicted} vs {truth}: {lo}..{hi}"
            );
            assert!(n <= 7, "{n}");
        }
        // far off: the search gives up rather than run on
        let (lo, _, n) = run_search(1_000, 10);
        assert!(lo.is_none() && n <= 4);
    }

    #[test]
    fn a_storm_passes_only_without_errors_and_with_a_fast_p99() {
        let ok = StormReport {
            people: 10,
            signed_in: 10,
            errors: 0,
            error_examples: Vec::new(),
            waiting_room: 3,
            p50_signin: Duration::from_millis(300),
            p99_signin: Duration::from_millis(1_900),
            p99_start_page: Duration::from_millis(20),
            signins_per_sec: 1.0,
            elapsed: Duration::from_secs(60),
        };
        assert!(within_target(&ok), "the waiting room alone is no error");
        assert!(!within_target(&StormReport {
            p99_signin: P99_TARGET,
            ..ok.clone()
        }));
        assert!(!within_target(&StormReport {
            errors: 1,
            ..ok.clone()
        }));
        assert!(!within_target(&StormReport { signed_in: 9, ..ok }));
    }
}
