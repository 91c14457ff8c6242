//! `schola-bench login`: how close the HTTPS sign-in rate of a real `schola-web` comes to the raw
//! argon2id verify rate of this machine.
//!
//! (a) All cores verify a precomputed hash of the configured parameters in a loop: the ceiling.
//! (b) Many clients sign in over HTTPS, each sign-in on a new TCP + TLS connection without session
//! resumption (`GET /login` for the CSRF token, then `POST /login`), round-robin over bench
//! students so per-account back-off never applies. The goal is (b) >= 0.8 (a) with no failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use schola_core::Config;
use schola_core::password::hash_password_for;
use schola_load::browser::{self, Failure};
use schola_load::client::Target;

use crate::server::{BenchDir, PASSWORD, ServerGuard};
use crate::stats::{Tally, human, load_average, percentile};
use crate::verify::{VerifyRate, verify_rate};

/// How many students sign in (round-robin).
const STUDENTS: usize = 200;
/// The goal: sign-ins per second over HTTPS at least this share of raw verifies per second.
const GOAL: f64 = 0.80;
/// A sign-in that takes longer than this counts as failed.
const SIGNIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to answer `/healthz` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// How long the HTTPS sign-in phase (b) runs, in seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Concurrent HTTPS clients in phase (b).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub clients: u64,
    /// How long the raw argon2id verify phase (a) runs, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub verify_seconds: u64,
}

/// Runs the benchmark; `Ok(true)` when the goal is met without failed sign-ins.
pub fn run(args: &LoginArgs) -> Result<bool> {
    let cores = Config::cores();
    let bench = BenchDir::create()?;
    let argon = bench.cfg.auth.argon2;
    println!(
        "schola-bench login: {cores} cores, argon2id m={} KiB t={} p={}",
        argon.memory_kib, argon.iterations, argon.parallelism
    );

    if let Some(load) = load_average()
        && load > 0.25 * cores as f64
    {
        eprintln!(
            "warning: load average {load:.2} on {cores} cores before the run: other processes \
             use the CPU, so (a) and (b) may be measured under different load"
        );
    }
    eprintln!(
        "setting up a school with {STUDENTS} students in {}",
        bench.dir.path().display()
    );
    let hash = hash_password_for(argon, PASSWORD).context("cannot hash the bench password")?;
    let logins = bench.populate(&hash, STUDENTS)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // declared after `bench`, so the server is killed before its directory is removed
    let (server, target) = rt.block_on(ServerGuard::start(&bench, READY_TIMEOUT))?;
    eprintln!(
        "schola-web is ready at https://{} (log: {})",
        target.addr,
        bench.log_path().display()
    );

    // (a) runs half before and half after (b), so that a change in the machine's other load
    // during the run affects both sides of the ratio alike
    let half = Duration::from_secs_f64(args.verify_seconds as f64 / 2.0);
    eprintln!(
        "(a) verifying on {cores} threads for {:.1} s ...",
        half.as_secs_f64()
    );
    let a1 = verify_rate(argon, &hash.phc, PASSWORD, cores, half)?;

    eprintln!(
        "(b) signing in with {} clients for {} s ...",
        args.clients, args.seconds
    );
    let b = rt.block_on(signin_rate(
        target,
        Arc::new(logins),
        args.clients as usize,
        Duration::from_secs(args.seconds),
    ));
    eprintln!(
        "(a) verifying on {cores} threads for {:.1} s more ...",
        half.as_secs_f64()
    );
    let a2 = verify_rate(argon, &hash.phc, PASSWORD, cores, half)?;
    let a: VerifyRate = a1.plus(a2);
    drop(server);
    drop(rt);

    let label_a = format!(
        "(a) argon2id verify rate, {} threads, {:.1} s (half before, half after (b)):",
        a.threads,
        a.elapsed.as_secs_f64()
    );
    let label_b = format!(
        "(b) HTTPS sign-in rate, {} clients, new TLS each, {:.1} s:",
        args.clients,
        b.elapsed.as_secs_f64()
    );
    let width = label_a.len().max(label_b.len());
    let rate_a = a.rate();
    let rate_b = b.rate();
    println!("{label_a:<width$} {rate_a:>7.1} /s");
    let failed = b.failed();
    let latency = match (b.percentile(0.50), b.percentile(0.99)) {
        (Some(p50), Some(p99)) => format!("; p50 {}, p99 {}", human(p50), human(p99)),
        _ => String::new(),
    };
    println!(
        "{label_b:<width$} {rate_b:>7.1} /s  ({} ok, {failed} failed{latency})",
        b.ok.len()
    );
    let ratio = if rate_a > 0.0 { rate_b / rate_a } else { 0.0 };
    let pass = ratio >= GOAL && failed == 0;
    println!(
        "ratio (b)/(a): {ratio:.2}  goal >= {GOAL:.2}  {}",
        if pass { "PASS" } else { "FAIL" }
    );
    if ratio > 1.05 {
        // a sign-in costs one verify plus TLS and HTTP: more of them than raw verifies means
        // something else used the CPU during (a)
        eprintln!(
            "note: (b) above (a) means the machine was busier during (a) than during (b); \
             run again on a quiet machine"
        );
    }
    if failed > 0 {
        println!("failed sign-ins by cause:");
        print!("{}", b.failures.lines());
    }
    Ok(pass)
}

/// Result of phase (b).
#[derive(Default)]
struct SigninRate {
    /// Latency of each successful sign-in (new connection to the POST's answer).
    ok: Vec<Duration>,
    /// Failures by cause, with one example message.
    failures: Tally,
    elapsed: Duration,
}

impl SigninRate {
    fn rate(&self) -> f64 {
        self.ok.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn failed(&self) -> u64 {
        self.failures.total()
    }

    /// Nearest-rank percentile of the successful sign-ins' latency; `ok` must be sorted.
    fn percentile(&self, p: f64) -> Option<Duration> {
        percentile(&self.ok, p)
    }

    fn merge(&mut self, other: SigninRate) {
        self.ok.extend(other.ok);
        self.failures.merge(other.failures);
    }

    fn fail(&mut self, f: Failure) {
        self.failures.add(f.cause, f.detail);
    }
}

/// `clients` tasks sign in one after the other until `duration` has passed; sign-ins under way
/// then are finished (bounded by [`SIGNIN_TIMEOUT`]) and the elapsed time covers them.
async fn signin_rate(
    target: Target,
    logins: Arc<Vec<String>>,
    clients: usize,
    duration: Duration,
) -> SigninRate {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let target = target.clone();
        let logins = Arc::clone(&logins);
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            let mut out = SigninRate::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let login = &logins[i % logins.len()];
                match tokio::time::timeout(SIGNIN_TIMEOUT, sign_in(&target, login, PASSWORD)).await
                {
                    Ok(Ok(latency)) => out.ok.push(latency),
                    Ok(Err(f)) => {
                        out.fail(f);
                        // do not spin on a server that refuses at once
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(_) => out.fail(Failure::protocol(
                        "timeout",
                        format!("no answer within {} s", SIGNIN_TIMEOUT.as_secs()),
                    )),
                }
            }
            out
        });
    }
    let mut all = SigninRate::default();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(r) => all.merge(r),
            Err(e) => all.fail(Failure::protocol("client task", e.to_string())),
        }
    }
    all.elapsed = start.elapsed();
    all.ok.sort_unstable();
    all
}

/// One sign-in on a new connection; the time from connecting to the POST's answer.
async fn sign_in(target: &Target, login: &str, password: &str) -> Result<Duration, Failure> {
    let t0 = Instant::now();
    let mut conn = target
        .connect()
        .await
        .map_err(|e| Failure::transport("connect", e))?;
    let form = browser::login_form(&mut conn).await?;
    let session = browser::post_login(&mut conn, target, &form, login, password).await;
    let latency = t0.elapsed();
    conn.close().await;
    session.map(|_| latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_the_sorted_sign_ins() {
        let r = SigninRate {
            ok: (1..=100).map(Duration::from_millis).collect(),
            ..Default::default()
        };
        assert_eq!(r.percentile(0.50), Some(Duration::from_millis(50)));
        assert_eq!(r.percentile(0.99), Some(Duration::from_millis(99)));
        assert_eq!(SigninRate::default().percentile(0.5), None);
    }
}
