//! `schola-bench storm`: the 8:00 sign-in storm on loopback, against a real `schola-web`.
//!
//! Phases, all in one run and each with a hard deadline:
//! 1. the argon2id limit: all cores verify the bench hash (half before the storms, half after);
//! 2. storm runs: N people arrive at seeded uniform random times within a window and sign in like
//!    a browser at home (new TCP + TLS connection, `GET /login`, `POST /login`, `GET /`); a 503
//!    from the waiting room is honoured (wait `Retry-After`, try again) and counted, anything
//!    else is an error;
//! 3. the start page rate: many signed-in clients load `/` on keep-alive connections;
//! 4. idle connections: thousands of idle keep-alive TLS connections are held while a second
//!    client measures the start page's latency, and the server's memory is read.
//!
//! Clients connect from many loopback source addresses ([`Sources`]), so the server sees many
//! homes rather than one address.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use hyper::body::Bytes;
use schola_core::Config;
use schola_core::password::hash_password_for;
use schola_load::browser::{self, Failure};
use schola_load::client::{Connection, Sources, Target};
use schola_load::storm::{Arrival, StormResult, open, schedule, storm, timed};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::server::{self, BenchDir, PASSWORD, ServerGuard};
use crate::stats::{self, Table, Tally, Verdict, count, human, mib, p50_95_99, percentile};
use crate::verify::{VerifyRate, verify_rate};

/// Sign-ins per second at least this share of the argon2id limit, when demand exceeds it.
const SIGNIN_GOAL: f64 = 0.80;
/// Start page loads per second for signed-in people.
const START_PAGE_GOAL: f64 = 3_000.0;
/// The second client's p99 while the idle connections are held.
const P99_GOAL: Duration = Duration::from_millis(200);
/// schola-web's resident memory while the idle connections are held.
const RSS_GOAL_KIB: u64 = 300 * 1024;
/// When demand is below the limit, everyone must be in within the window plus this.
const SLACK: Duration = Duration::from_secs(30);

/// How long the server may take to answer `/healthz` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// TLS handshakes the idle client has in progress at once while it opens its connections.
const OPENING_AT_ONCE: usize = 256;
/// The server closes a connection idle for 30 s (`limits.rs`); an idle connection sends
/// `GET /healthz` after this long without a request, so it stays open however long it is held.
const IDLE_PING_EVERY: Duration = Duration::from_secs(20);
/// How often a storm run prints its counts.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// Students per class, so that a start page lists a class.
const CLASS_SIZE: usize = 25;
/// Connections beyond the idle ones that the server's `max_connections` leaves room for.
const CONNECTION_HEADROOM: usize = 2_048;
/// Keep-alive clients of the second client that measures the start page during the idle phase.
const PROBE_CLIENTS: usize = 8;

#[derive(Debug, clap::Args)]
pub struct StormArgs {
    /// People signing in during each storm run [default: 1500; --quick: 150].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub people: Option<u64>,
    /// Only one storm run, with arrivals spread over this many seconds [default: a 300 s run and
    /// a 60 s run; --quick: 30 s and 6 s].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub window: Option<u64>,
    /// Idle keep-alive TLS connections held while the second client measures [default: 10000;
    /// --quick: 1000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub idle: Option<u64>,
    /// Seconds of the start page rate phase [default: 20; --quick: 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub seconds: Option<u64>,
    /// Seconds the second client measures while the idle connections are held [default: 15;
    /// --quick: 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub idle_seconds: Option<u64>,
    /// Concurrent keep-alive clients in the start page rate phase [default: 64].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub clients: Option<u64>,
    /// Seconds of the argon2id verify measurement, half before and half after the storm runs
    /// [default: 10; --quick: 4].
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=3_600))]
    pub verify_seconds: Option<u64>,
    /// Loopback source addresses the clients connect from, round-robin (127.0.0.2 on).
    #[arg(long, default_value_t = 2_048, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub addresses: u64,
    /// Seed of the arrival times.
    #[arg(long, default_value_t = 800)]
    pub seed: u64,
    /// Small values for a smoke run (explicit options still win).
    #[arg(long)]
    pub quick: bool,
}

/// The options with every default resolved.
#[derive(Debug, Clone)]
struct Plan {
    people: usize,
    windows: Vec<Duration>,
    idle: usize,
    rate_seconds: Duration,
    idle_seconds: Duration,
    clients: usize,
    verify_seconds: Duration,
    addresses: usize,
    seed: u64,
}

impl Plan {
    fn from(args: &StormArgs) -> Plan {
        let q = args.quick;
        let pick =
            |v: Option<u64>, normal: u64, quick: u64| v.unwrap_or(if q { quick } else { normal });
        let windows = match args.window {
            Some(w) => vec![w],
            None if q => vec![30, 6],
            None => vec![300, 60],
        };
        Plan {
            people: pick(args.people, 1_500, 150) as usize,
            windows: windows.into_iter().map(Duration::from_secs).collect(),
            idle: pick(args.idle, 10_000, 1_000) as usize,
            rate_seconds: Duration::from_secs(pick(args.seconds, 20, 5)),
            idle_seconds: Duration::from_secs(pick(args.idle_seconds, 15, 5)),
            clients: pick(args.clients, 64, 64) as usize,
            verify_seconds: Duration::from_secs(pick(args.verify_seconds, 10, 4)),
            addresses: args.addresses as usize,
            seed: args.seed,
        }
    }

    /// The server's `[web] max_connections`: the idle connections and room for the rest.
    fn max_connections(&self) -> usize {
        self.idle + CONNECTION_HEADROOM
    }
}

/// Runs every phase; `Ok(true)` when every goal is met.
pub fn run(args: &StormArgs) -> Result<bool> {
    let plan = Plan::from(args);
    let cores = Config::cores();
    let files = server::raise_open_files_limit()?;
    // this process holds the idle connections and the server accepts them: both need a
    // descriptor each (the server inherits the limit)
    let needed = (plan.idle + CONNECTION_HEADROOM) as u64;
    if files < needed {
        bail!(
            "the open files limit is {files}, but {} idle connections need at least {needed}; \
             raise the hard limit (ulimit -Hn) or lower --idle",
            plan.idle
        );
    }
    let web = format!("max_connections = {}\n", plan.max_connections());
    let bench = BenchDir::create_with_web(&web)?;
    let argon = bench.cfg.auth.argon2;
    println!(
        "schola-bench storm: {cores} cores, argon2id m={} KiB t={} p={}",
        argon.memory_kib, argon.iterations, argon.parallelism
    );
    let windows: Vec<String> = plan
        .windows
        .iter()
        .map(|w| format!("{} s", w.as_secs()))
        .collect();
    println!(
        "people {} per storm run, windows {}, start page rate {} s with {} clients, {} idle \
         connections for {} s",
        count(plan.people as u64),
        windows.join(" and "),
        plan.rate_seconds.as_secs(),
        plan.clients,
        count(plan.idle as u64),
        plan.idle_seconds.as_secs()
    );
    println!(
        "server config: [web] max_connections = {} (set by the bench so that {} idle \
         connections fit; other limits derived); open files limit {} for the bench and the server",
        count(plan.max_connections() as u64),
        count(plan.idle as u64),
        count(files)
    );
    if let Some(load) = stats::load_average()
        && load > 0.25 * cores as f64
    {
        eprintln!(
            "warning: load average {load:.2} on {cores} cores before the run: other processes \
             use the CPU, so the figures may be low and the argon2id limit measured under \
             different load"
        );
    }

    let students = plan.people.max(plan.clients + PROBE_CLIENTS);
    eprintln!(
        "setting up a school with {students} students in {}",
        bench.dir.path().display()
    );
    let hash = hash_password_for(argon, PASSWORD).context("cannot hash the bench password")?;
    let logins = bench.populate_classes(&hash, students, CLASS_SIZE)?;
    let accounts: Vec<(String, String)> = logins
        .iter()
        .map(|l| (l.clone(), PASSWORD.to_string()))
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // declared after `bench`, so the server is killed before its directory is removed
    let (server, target) = rt.block_on(ServerGuard::start(&bench, READY_TIMEOUT))?;
    let sources = Sources::for_target(target.addr, plan.addresses);
    let pid = server.pid().to_string();
    eprintln!(
        "schola-web (pid {pid}) is ready at https://{} (log: {})",
        target.addr,
        bench.log_path().display(),
    );
    if !sources.is_empty() {
        // the idle connections and the second client's are the most held at once
        let held = (plan.idle + PROBE_CLIENTS).div_ceil(sources.len());
        let people = plan.people.div_ceil(sources.len());
        println!(
            "clients connect from {} loopback source addresses (127.0.0.2 on, round-robin); per \
             address at most: people of a storm run {people}, held connections {held}",
            count(sources.len() as u64)
        );
    }

    // the server's memory after each phase, to tell what the idle connections cost from what
    // earlier phases left behind
    let mut memory = vec![Checkpoint::read("ready, before any phase", &pid)];

    let half = plan.verify_seconds / 2;
    eprintln!(
        "argon2id limit: verifying on {cores} threads for {:.1} s ...",
        half.as_secs_f64()
    );
    let a1 = verify_rate(argon, &hash.phc, PASSWORD, cores, half)?;
    eprintln!("  {:.1} verifies/s", a1.rate());

    let mut storms = Vec::new();
    for window in &plan.windows {
        eprintln!(
            "storm: {} people within {} s ...",
            plan.people,
            window.as_secs()
        );
        let people = schedule(&accounts[..plan.people], &sources, *window, plan.seed);
        let deadline = storm_deadline(plan.people, *window, a1.rate());
        let cpu0 = stats::cpu_time(&pid);
        let result = rt.block_on(storm(&target, people, deadline, Some(PROGRESS_EVERY)));
        let server_cpu = stats::cpu_time(&pid)
            .zip(cpu0)
            .map(|(b, a)| b.saturating_sub(a));
        storms.push((*window, result, server_cpu));
        memory.push(Checkpoint::read(
            format!("after the {} s storm run", window.as_secs()),
            &pid,
        ));
    }

    eprintln!(
        "argon2id limit: verifying on {cores} threads for {:.1} s more ...",
        half.as_secs_f64()
    );
    let a2 = verify_rate(argon, &hash.phc, PASSWORD, cores, half)?;
    eprintln!("  {:.1} verifies/s", a2.rate());
    let limit = a1.plus(a2);

    // sessions for the start page clients and the second client: the first students sign in
    // once more (the storm runs are over; a person may have several sessions)
    let want = plan.clients + PROBE_CLIENTS;
    eprintln!("signing in {want} clients for the start page phases ...");
    let sign_ins: Vec<Arrival> = (0..want)
        .map(|i| Arrival {
            login: logins[i].clone(),
            password: PASSWORD.to_string(),
            from: sources.get(i),
            at: Duration::ZERO,
        })
        .collect();
    let sessions = rt.block_on(storm(
        &target,
        sign_ins,
        Duration::from_secs(120),
        Some(PROGRESS_EVERY),
    ));
    if sessions.sessions.len() < want {
        bail!(
            "only {} of {want} clients could sign in for the start page phases:\n{}",
            sessions.sessions.len(),
            sessions.errors.lines()
        );
    }
    let (rate_sessions, probe_sessions) = sessions.sessions.split_at(plan.clients);

    eprintln!(
        "start page rate: {} clients for {} s ...",
        plan.clients,
        plan.rate_seconds.as_secs()
    );
    let rate = rt.block_on(start_page_load(
        &target,
        &sources,
        0,
        rate_sessions.to_vec(),
        plan.rate_seconds,
    ));
    memory.push(Checkpoint::read("after the start page rate phase", &pid));

    eprintln!(
        "idle: opening {} keep-alive connections, then measuring for {} s ...",
        plan.idle,
        plan.idle_seconds.as_secs()
    );
    let idle = rt.block_on(idle_phase(
        &target,
        &sources,
        plan.idle,
        probe_sessions.to_vec(),
        plan.idle_seconds,
        &pid,
    ));
    memory.push(Checkpoint {
        when: format!("{} idle connections held", count(idle.open_min as u64)),
        memory: idle.server_memory,
        threads: idle.server_threads,
    });
    let server_log = server.log_tail(400);
    drop(server);
    drop(rt);

    let mut tables = vec![limit_table(cores, a1, a2, limit)];
    for (window, result, server_cpu) in &storms {
        tables.push(storm_table(
            plan.people,
            *window,
            result,
            *server_cpu,
            &limit,
        ));
    }
    tables.push(rate_table(&rate));
    tables.push(idle_table(plan.idle, &idle));
    tables.push(memory_table(&memory));
    let mut pass = true;
    for t in &tables {
        print!("{}", t.render());
        pass &= t.passed();
    }
    println!(
        "\nschola-bench storm: {}",
        if pass {
            "PASS (every goal met)"
        } else {
            "FAIL (see the rows marked FAIL)"
        }
    );
    let warnings = log_warnings(&server_log, 20);
    if !warnings.is_empty() {
        eprintln!("the server's last warnings and errors:\n{warnings}");
    }
    Ok(pass)
}

/// The last `max` lines of a log excerpt that are warnings or errors, without colour codes.
fn log_warnings(log: &str, max: usize) -> String {
    let lines: Vec<String> = log
        .lines()
        .map(strip_ansi)
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    let from = lines.len().saturating_sub(max);
    lines[from..].iter().map(|l| format!("{l}\n")).collect()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A run's hard deadline after its start: half again the time it should take (the window, or
/// the time the measured limit needs for everyone if that is longer) plus a minute.
fn storm_deadline(people: usize, window: Duration, limit: f64) -> Duration {
    let needed = if limit > 0.0 {
        Duration::from_secs_f64((people as f64 / limit).min(3_600.0))
    } else {
        Duration::from_secs(3_600)
    };
    window.max(needed).mul_f64(1.5) + Duration::from_secs(60)
}

/// Start page loads on keep-alive connections.
#[derive(Debug, Default)]
struct LoadResult {
    clients: usize,
    /// Sorted latencies of the 200s.
    ok: Vec<Duration>,
    waits: u64,
    reconnects: u64,
    errors: Tally,
    elapsed: Duration,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// One client per session loads `/` again and again on its keep-alive connection (from source
/// address `first_source + i`) for `duration`.
async fn start_page_load(
    target: &Target,
    sources: &Sources,
    first_source: usize,
    sessions: Vec<String>,
    duration: Duration,
) -> LoadResult {
    let start = Instant::now();
    let deadline = start + duration;
    let clients = sessions.len();
    let mut tasks = JoinSet::new();
    for (i, session) in sessions.into_iter().enumerate() {
        let target = target.clone();
        let from = sources.get(first_source + i);
        tasks.spawn(async move {
            let mut out = LoadResult::default();
            let mut conn: Option<Connection> = None;
            while Instant::now() < deadline {
                let c = match conn.take() {
                    Some(c) if !c.is_closed() => c,
                    old => {
                        if old.is_some() {
                            out.reconnects += 1;
                        }
                        match open(&target, from).await {
                            Ok(c) => c,
                            Err(f) => {
                                out.errors.add(f.cause, f.detail);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                continue;
                            }
                        }
                    }
                };
                let mut c = c;
                let t0 = Instant::now();
                match timed("GET /", browser::start_page(&mut c, &session)).await {
                    Ok(()) => out.ok.push(t0.elapsed()),
                    Err(f) => match f.retry_after {
                        Some(d) => {
                            out.waits += 1;
                            tokio::time::sleep(
                                d.min(deadline.saturating_duration_since(Instant::now())),
                            )
                            .await;
                        }
                        None => {
                            out.errors.add(f.cause, f.detail);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    },
                }
                conn = Some(c);
            }
            if let Some(c) = conn {
                c.close().await;
            }
            out
        });
    }
    let mut all = LoadResult {
        clients,
        ..Default::default()
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => {
                all.ok.extend(r.ok);
                all.waits += r.waits;
                all.reconnects += r.reconnects;
                all.errors.merge(r.errors);
            }
            Err(e) => all.errors.add("client task", e.to_string()),
        }
    }
    // a request started just before the deadline ends after it: count the time it took
    all.elapsed = start.elapsed();
    all.ok.sort_unstable();
    all
}

/// The idle phase's findings.
#[derive(Debug, Default)]
struct IdleResult {
    opened: usize,
    open_time: Duration,
    /// Idle connections open when the second client started, and the fewest open while it ran.
    open_at_start: usize,
    open_min: usize,
    /// Connections the server closed while they were held.
    closed_by_server: usize,
    errors: Tally,
    probe: LoadResult,
    /// The server's memory before the idle connections were opened.
    server_before: Option<stats::Memory>,
    server_memory: Option<stats::Memory>,
    server_fds: Option<usize>,
    server_threads: Option<u64>,
    bench_memory: Option<stats::Memory>,
}

/// Shared between the idle connections and the phase that holds them.
#[derive(Debug, Default)]
struct IdleCounters {
    open: AtomicUsize,
    settled: AtomicUsize,
    refreshed: AtomicUsize,
    closed_by_server: AtomicUsize,
    errors: Mutex<Tally>,
}

impl IdleCounters {
    fn error(&self, f: Failure) {
        if let Ok(mut t) = self.errors.lock() {
            t.add(f.cause, f.detail);
        }
    }
}

/// Opens `idle` keep-alive connections (each from its own source address, one `GET /healthz`
/// each so that the server holds them as idle keep-alive connections rather than as clients
/// that never sent a request), has each of them send one more request so that none is near the
/// server's keep-alive timeout, then lets the second client load the start page for
/// `measure`, and reads the server's memory at the end while they are still held.
async fn idle_phase(
    target: &Target,
    sources: &Sources,
    idle: usize,
    probe_sessions: Vec<String>,
    measure: Duration,
    pid: &str,
) -> IdleResult {
    let server_before = stats::memory(pid);
    let counters = Arc::new(IdleCounters::default());
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let (refresh_tx, refresh_rx) = watch::channel(0u64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let t0 = Instant::now();
    for i in 0..idle {
        let target = target.clone();
        let from = sources.get(i);
        let counters = Arc::clone(&counters);
        let opening = Arc::clone(&opening);
        let refresh = refresh_rx.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move { hold_idle(target, from, counters, opening, refresh, stop).await });
    }
    let mut out = IdleResult {
        server_before,
        ..Default::default()
    };

    // wait until every connection is open or has failed
    let open_deadline = t0 + Duration::from_secs(120);
    let mut last_report = Instant::now();
    while counters.settled.load(Ordering::Acquire) < idle && Instant::now() < open_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "  {} of {idle} open after {:.0} s",
                counters.open.load(Ordering::Relaxed),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    out.open_time = t0.elapsed();
    out.opened = counters.open.load(Ordering::Acquire);
    eprintln!(
        "  {} of {idle} open after {:.1} s; refreshing them ...",
        out.opened,
        out.open_time.as_secs_f64()
    );

    // one request on each, so that all of them have the whole keep-alive time ahead
    let _ = refresh_tx.send(1);
    let refresh_deadline = Instant::now() + Duration::from_secs(30);
    while counters.refreshed.load(Ordering::Acquire) < counters.open.load(Ordering::Acquire)
        && Instant::now() < refresh_deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    out.open_at_start = counters.open.load(Ordering::Acquire);
    out.open_min = out.open_at_start;
    eprintln!(
        "  {} open; the second client loads the start page for {} s ...",
        out.open_at_start,
        measure.as_secs()
    );
    out.probe = start_page_load(target, sources, idle, probe_sessions, measure).await;
    // no connection is added once the opening is over, so the fewest open is the count now
    out.open_min = out.open_at_start.min(counters.open.load(Ordering::Acquire));
    out.server_memory = stats::memory(pid);
    out.server_fds = stats::open_fds(pid);
    out.server_threads = stats::threads(pid);
    out.bench_memory = stats::memory("self");

    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    out.closed_by_server = counters.closed_by_server.load(Ordering::Acquire);
    if let Ok(mut errors) = counters.errors.lock() {
        out.errors = std::mem::take(&mut *errors);
    }
    out
}

/// One idle connection: open it, send `GET /healthz`, then wait; send one request when asked
/// (refresh) and whenever it has been idle for [`IDLE_PING_EVERY`]; close it when told to stop.
async fn hold_idle(
    target: Target,
    from: Option<IpAddr>,
    counters: Arc<IdleCounters>,
    opening: Arc<Semaphore>,
    mut refresh: watch::Receiver<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let opened = async {
        let _place = opening.acquire().await.ok();
        let mut conn = open(&target, from).await?;
        healthz(&mut conn).await?;
        Ok::<_, Failure>(conn)
    }
    .await;
    let mut conn = match opened {
        Ok(c) => c,
        Err(f) => {
            counters.error(f);
            counters.settled.fetch_add(1, Ordering::AcqRel);
            return;
        }
    };
    counters.open.fetch_add(1, Ordering::AcqRel);
    counters.settled.fetch_add(1, Ordering::AcqRel);
    let mut last = tokio::time::Instant::now();
    loop {
        let ping = tokio::select! {
            _ = conn.closed() => {
                counters.open.fetch_sub(1, Ordering::AcqRel);
                counters.closed_by_server.fetch_add(1, Ordering::AcqRel);
                return;
            }
            _ = stop.changed() => break,
            changed = refresh.changed() => {
                if changed.is_err() {
                    break;
                }
                Some(true)
            }
            _ = tokio::time::sleep_until(last + IDLE_PING_EVERY) => Some(false),
        };
        if let Some(counted) = ping {
            if let Err(f) = healthz(&mut conn).await {
                counters.error(f);
                counters.open.fetch_sub(1, Ordering::AcqRel);
                return;
            }
            last = tokio::time::Instant::now();
            if counted {
                counters.refreshed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
    counters.open.fetch_sub(1, Ordering::AcqRel);
    conn.close().await;
}

/// `GET /healthz` on an open connection; anything but 200 is an error.
async fn healthz(conn: &mut Connection) -> Result<(), Failure> {
    let req = conn
        .request("GET", "/healthz")
        .body(http_body_util::Full::new(Bytes::new()))
        .map_err(|e| Failure::protocol("request", e.to_string()))?;
    let resp = timed("GET /healthz", async {
        conn.send(req)
            .await
            .map_err(|e| Failure::transport("GET /healthz", e))
    })
    .await?;
    if resp.status.as_u16() != 200 {
        return Err(Failure::status("GET /healthz", &resp));
    }
    Ok(())
}

/// The server's memory and threads at one point of the run.
#[derive(Debug)]
struct Checkpoint {
    when: String,
    memory: Option<stats::Memory>,
    threads: Option<u64>,
}

impl Checkpoint {
    fn read(when: impl Into<String>, pid: &str) -> Checkpoint {
        Checkpoint {
            when: when.into(),
            memory: stats::memory(pid),
            threads: stats::threads(pid),
        }
    }
}

fn memory_table(points: &[Checkpoint]) -> Table {
    let mut t = Table::new("schola-web memory through the run (for information)");
    for p in points {
        let rss = match p.memory {
            Some(stats::Memory {
                rss_kib,
                anon_kib: Some(anon),
                ..
            }) => format!("{} ({} anonymous)", mib(rss_kib), mib(anon)),
            Some(m) => mib(m.rss_kib),
            None => "-".into(),
        };
        let threads = p
            .threads
            .map(|n| format!("{} threads", count(n)))
            .unwrap_or_default();
        t.info(format!("VmRSS {}", p.when), format!("{rss}, {threads}"));
    }
    t
}

fn per_second(r: f64) -> String {
    format!("{r:.1} /s")
}

fn limit_table(cores: usize, a1: VerifyRate, a2: VerifyRate, all: VerifyRate) -> Table {
    let mut t = Table::new(format!(
        "argon2id limit: raw verifies on {cores} threads, this run"
    ));
    t.info(
        format!("before the storm runs ({:.1} s)", a1.elapsed.as_secs_f64()),
        per_second(a1.rate()),
    );
    t.info(
        format!("after the storm runs ({:.1} s)", a2.elapsed.as_secs_f64()),
        per_second(a2.rate()),
    );
    t.info("limit (both halves)", per_second(all.rate()));
    if let (Some(per), Some(share)) = (all.cpu_per_verify(), all.cpu_share()) {
        t.info("CPU time per verify", human(per));
        t.info(
            "share of the CPUs the verify threads got",
            format!("{:.0} %", share * 100.0),
        );
        t.info(
            format!("limit with all {cores} CPUs to ourselves"),
            per_second(cores as f64 / per.as_secs_f64()),
        );
        if share < 0.9 {
            t.note(
                "  the verify threads got well under all of the CPUs: other processes were \
                 running, so every rate in this run is lower than on a quiet machine",
            );
        }
    }
    t
}

/// Whether a storm run's demand is above what the machine can verify.
fn demand_exceeds(offered: f64, limit: f64) -> bool {
    offered > limit
}

fn storm_table(
    people: usize,
    window: Duration,
    r: &StormResult,
    server_cpu: Option<Duration>,
    verify: &VerifyRate,
) -> Table {
    let limit = verify.rate();
    let offered = people as f64 / window.as_secs_f64();
    let signed_in = r.signed_in_at.len();
    let span = r.signed_in_at.last().copied().unwrap_or(r.elapsed);
    let achieved = if span.is_zero() {
        0.0
    } else {
        signed_in as f64 / span.as_secs_f64()
    };
    let over = demand_exceeds(offered, limit);
    let mut t = Table::new(format!(
        "storm: {} people within {} s (offered {:.1} sign-ins/s, {} the argon2id limit {:.1} /s)",
        count(people as u64),
        window.as_secs(),
        offered,
        if over { "above" } else { "below" },
        limit
    ));
    let everyone = r.to_start_page.len() == people;
    t.row(
        "people on their start page",
        format!(
            "{} / {}",
            count(r.to_start_page.len() as u64),
            count(people as u64)
        ),
        "all",
        "",
        Verdict::of(everyone),
    );
    if over {
        let goal = SIGNIN_GOAL * limit;
        t.row(
            "sign-ins/s (run start to last sign-in)",
            per_second(achieved),
            format!(">= {SIGNIN_GOAL:.2} x limit = {goal:.1} /s"),
            format!("{:.2}", achieved / limit),
            Verdict::of(achieved >= goal),
        );
        if let Some(per) = verify.cpu_per_verify()
            && verify.cpu_share().is_some_and(|share| share < 0.9)
        {
            // with other load, the wall-clock limit is measured low; this one is not
            let quiet = verify.threads as f64 / per.as_secs_f64();
            t.info(
                format!("  sign-ins/s vs the limit with all CPUs to ourselves ({quiet:.1} /s)"),
                format!("{:.2}", achieved / quiet),
            );
        }
    } else {
        t.row(
            "sign-ins/s (run start to last sign-in)",
            per_second(achieved),
            format!("offered {offered:.1} /s"),
            format!("{:.2}", achieved / offered),
            Verdict::Info,
        );
        t.info(
            "sign-ins/s vs the argon2id limit",
            format!("{:.2}", achieved / limit),
        );
        if limit > 0.0 {
            t.note(format!(
                "  demand is below the limit, so the >= {SIGNIN_GOAL:.2} x limit goal does not apply; \
                 demand exceeds it with a window under {:.0} s (--window)",
                people as f64 / limit
            ));
        }
        let by = window + SLACK;
        t.row(
            "last start page loaded at",
            format!("{:.1} s", r.last_done.as_secs_f64()),
            format!("<= window + {} s = {} s", SLACK.as_secs(), by.as_secs()),
            "",
            Verdict::of(everyone && r.last_done <= by),
        );
    }
    t.info(
        "time to start page (arrival to page, waits included)",
        p50_95_99(&r.to_start_page),
    );
    t.info("POST /login answer", p50_95_99(&r.post));
    t.info("503 with Retry-After (waited, retried)", count(r.waits));
    let done = r.to_start_page.len();
    if let (Some(cpu), Some(per_verify)) = (server_cpu, verify.cpu_per_verify())
        && done > 0
    {
        let per_person = cpu / done as u32;
        t.info(
            "schola-web CPU per person (form, sign-in, start page)",
            human(per_person),
        );
        t.info(
            "  argon2id verify CPU / that (the most sign-ins/s vs limit can be)",
            format!("{:.2}", per_verify.as_secs_f64() / per_person.as_secs_f64()),
        );
    }
    if r.reconnects > 0 {
        t.info(
            "connections reopened after the server closed them",
            count(r.reconnects),
        );
    }
    let errors = r.errors.total();
    t.row(
        "other errors (status, reset, timeout)",
        count(errors),
        "0",
        "",
        Verdict::of(errors == 0),
    );
    if errors > 0 {
        t.note(format!("  errors by cause:\n{}", r.errors.lines()));
    }
    t
}

fn rate_table(r: &LoadResult) -> Table {
    let mut t = Table::new(format!(
        "start page, signed in: {} keep-alive clients for {:.1} s",
        r.clients,
        r.elapsed.as_secs_f64()
    ));
    let rate = r.rate();
    t.row(
        "start pages/s",
        per_second(rate),
        format!(">= {START_PAGE_GOAL:.0} /s"),
        format!("{:.2}", rate / START_PAGE_GOAL),
        Verdict::of(rate >= START_PAGE_GOAL),
    );
    t.info("latency", p50_95_99(&r.ok));
    t.info("503 with Retry-After", count(r.waits));
    if r.reconnects > 0 {
        t.info(
            "connections reopened after the server closed them",
            count(r.reconnects),
        );
    }
    let errors = r.errors.total();
    t.row(
        "other errors",
        count(errors),
        "0",
        "",
        Verdict::of(errors == 0),
    );
    if errors > 0 {
        t.note(format!("  errors by cause:\n{}", r.errors.lines()));
    }
    t
}

fn idle_table(idle: usize, r: &IdleResult) -> Table {
    let mut t = Table::new(format!(
        "{} idle keep-alive TLS connections held while a second client ({} clients) loads the \
         start page for {:.1} s",
        count(idle as u64),
        r.probe.clients,
        r.probe.elapsed.as_secs_f64()
    ));
    t.info(
        "idle connections opened",
        format!(
            "{} in {:.1} s",
            count(r.opened as u64),
            r.open_time.as_secs_f64()
        ),
    );
    t.row(
        "idle connections open during the measurement (fewest)",
        count(r.open_min as u64),
        count(idle as u64),
        "",
        Verdict::of(r.open_min >= idle && r.open_at_start >= idle),
    );
    if r.closed_by_server > 0 {
        t.info(
            "idle connections the server closed",
            count(r.closed_by_server as u64),
        );
    }
    let p99 = percentile(&r.probe.ok, 0.99);
    t.row(
        "second client: start page p99",
        p99.map(human).unwrap_or_else(|| "-".into()),
        format!("< {}", human(P99_GOAL)),
        p99.map(|p| format!("{:.2}", p.as_secs_f64() / P99_GOAL.as_secs_f64()))
            .unwrap_or_default(),
        Verdict::of(p99.is_some_and(|p| p < P99_GOAL)),
    );
    t.info("second client: latency", p50_95_99(&r.probe.ok));
    t.info("second client: start pages/s", per_second(r.probe.rate()));
    t.info("second client: 503 with Retry-After", count(r.probe.waits));
    match r.server_memory {
        Some(m) => {
            t.row(
                "schola-web VmRSS",
                mib(m.rss_kib),
                format!("< {}", mib(RSS_GOAL_KIB)),
                format!("{:.2}", m.rss_kib as f64 / RSS_GOAL_KIB as f64),
                Verdict::of(m.rss_kib < RSS_GOAL_KIB),
            );
            if let Some(b) = r.server_before {
                let grown = m.rss_kib.saturating_sub(b.rss_kib);
                let each = if r.open_at_start > 0 {
                    format!(
                        ", {:.1} KiB per idle connection",
                        grown as f64 / r.open_at_start as f64
                    )
                } else {
                    String::new()
                };
                t.info(
                    "schola-web VmRSS before the idle connections",
                    format!("{} (+{}{each})", mib(b.rss_kib), mib(grown)),
                );
            }
            t.info("schola-web VmHWM (peak of the whole run)", mib(m.hwm_kib));
        }
        None => t.row(
            "schola-web VmRSS",
            "cannot read /proc/<pid>/status",
            format!("< {}", mib(RSS_GOAL_KIB)),
            "",
            Verdict::Fail,
        ),
    }
    if let Some(fds) = r.server_fds {
        t.info("schola-web open file descriptors", count(fds as u64));
    }
    if let Some(n) = r.server_threads {
        t.info("schola-web threads", count(n));
    }
    if let Some(m) = r.bench_memory {
        t.info("this bench client's VmRSS", mib(m.rss_kib));
    }
    let total = r.errors.total() + r.probe.errors.total();
    t.row(
        "errors (idle connections and second client)",
        count(total),
        "0",
        "",
        Verdict::of(total == 0),
    );
    if r.errors.total() > 0 {
        t.note(format!(
            "  idle connection errors by cause:\n{}",
            r.errors.lines()
        ));
    }
    if r.probe.errors.total() > 0 {
        t.note(format!(
            "  second client errors by cause:\n{}",
            r.probe.errors.lines()
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_and_demand() {
        // below the limit: the window decides
        assert_eq!(
            storm_deadline(1_500, Duration::from_secs(300), 40.0),
            Duration::from_secs(510)
        );
        // above it: the time the limit needs for everyone decides
        assert_eq!(
            storm_deadline(1_500, Duration::from_secs(60), 10.0),
            Duration::from_secs(285)
        );
        assert!(storm_deadline(10, Duration::from_secs(1), 0.0) <= Duration::from_secs(5_460));
        assert!(demand_exceeds(25.0, 20.0) && !demand_exceeds(5.0, 40.0));
    }

    #[test]
    fn picks_warnings_from_the_log() {
        let log = "  | \u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m signed in\n  | \u{1b}[2m2026\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m slow\n";
        assert_eq!(log_warnings(log, 5), "  | 2026  WARN slow\n");
        assert_eq!(log_warnings("", 5), "");
    }

    #[test]
    fn quick_plan_and_explicit_options() {
        let args = StormArgs {
            people: None,
            window: None,
            idle: Some(500),
            seconds: None,
            idle_seconds: None,
            clients: None,
            verify_seconds: None,
            addresses: 2_048,
            seed: 800,
            quick: true,
        };
        let p = Plan::from(&args);
        assert_eq!(
            (p.people, p.idle, p.windows.len(), p.max_connections()),
            (150, 500, 2, 2_548)
        );
        let p = Plan::from(&StormArgs {
            quick: false,
            window: Some(60),
            ..args
        });
        assert_eq!(
            (p.people, p.windows),
            (1_500, vec![Duration::from_secs(60)])
        );
    }
}
