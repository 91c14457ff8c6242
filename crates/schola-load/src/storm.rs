//! The 8:00 sign-in storm: people arrive at seeded uniform random times within a window and
//! sign in like a browser at home (new TCP + TLS connection, `GET /login`, `POST /login`,
//! `GET /`). A 503 with `Retry-After` is the waiting room: it is honoured (wait, then do what
//! the page's reload does) and counted; anything else is an error. [`run_storm`] is the whole
//! storm for `scholactl check --storm` and the capacity benchmark; [`storm`] is its core for
//! callers that bring their own runtime and target.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rand::{Rng as _, SeedableRng as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::browser::{self, Failure};
use crate::client::{Connection, Sources, Target};
use crate::stats::{Tally, percentile};

/// A request without an answer after this long is an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// People signing in at once, at most (arrivals beyond it wait for a free place).
pub const MAX_ACTIVE_PEOPLE: usize = 4_096;
/// Error examples a [`StormReport`] keeps.
const EXAMPLES: usize = 5;

/// A storm against a running Schola on this machine.
#[derive(Debug, Clone)]
pub struct StormSpec {
    /// The running appliance, on loopback.
    pub addr: SocketAddr,
    /// Login and password of each person.
    pub accounts: Vec<(String, String)>,
    /// Arrivals are spread (random, seeded) over this window.
    pub window: Duration,
    /// Hard stop for the whole storm (≤ window + slack); who is not on the start page by then
    /// counts as an error.
    pub deadline: Duration,
    pub seed: u64,
    /// 127.0.0.x source addresses to spread the people over (1 = just 127.0.0.1), so that the
    /// server sees many homes rather than one address.
    pub source_addresses: usize,
}

/// What a storm measured.
#[derive(Debug, Clone, PartialEq)]
pub struct StormReport {
    pub people: usize,
    /// People who got to their start page.
    pub signed_in: usize,
    /// Anything but success and the waiting room.
    pub errors: usize,
    /// Up to 5, most frequent first, readable (`POST /login -> 500 (3×): …`).
    pub error_examples: Vec<String>,
    /// 503 with Retry-After answers seen (each waited out and retried).
    pub waiting_room: usize,
    /// Press "sign in" → start page shown, waiting-room retries included.
    pub p50_signin: Duration,
    pub p99_signin: Duration,
    /// The start page request alone.
    pub p99_start_page: Duration,
    /// Completed sign-ins ÷ (last completion − first arrival).
    pub signins_per_sec: f64,
    pub elapsed: Duration,
}

/// Runs the storm on its own runtime and blocks until it is over (at most `spec.deadline`
/// plus a few seconds to close connections). Call it outside any async runtime.
pub fn run_storm(spec: &StormSpec) -> Result<StormReport> {
    let target = Target::loopback_any_certificate(spec.addr)?;
    let sources = if spec.source_addresses > 1 {
        Sources::for_target(spec.addr, spec.source_addresses)
    } else {
        Sources::for_target(spec.addr, 0)
    };
    let people = schedule(&spec.accounts, &sources, spec.window, spec.seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the load generator's async runtime")?;
    let result = rt.block_on(storm(&target, people, spec.deadline, None));
    // connections of people stopped at the deadline are dropped here, not waited for
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(result.report())
}

/// One person of a storm: who, with which password, from where, and when (after the start).
#[derive(Debug, Clone)]
pub struct Arrival {
    pub login: String,
    pub password: String,
    pub from: Option<IpAddr>,
    pub at: Duration,
}

/// Uniform random arrival offsets in `[0, window)`, sorted; the same for the same seed.
pub fn arrival_times(n: usize, window: Duration, seed: u64) -> Vec<Duration> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let nanos = window.as_nanos().min(u128::from(u64::MAX)) as u64;
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            if nanos == 0 {
                Duration::ZERO
            } else {
                Duration::from_nanos(rng.random_range(0..nanos))
            }
        })
        .collect();
    times.sort_unstable();
    times
}

/// The people of a storm, in order of arrival: person `i` is `accounts[i]` and connects from
/// source address `i`; who arrives when is a seeded shuffle, so the order is random but
/// reproducible.
pub fn schedule(
    accounts: &[(String, String)],
    sources: &Sources,
    window: Duration,
    seed: u64,
) -> Vec<Arrival> {
    let times = arrival_times(accounts.len(), window, seed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    // Fisher–Yates, so who comes first is random but reproducible
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order
        .into_iter()
        .zip(times)
        .filter_map(|(i, at)| {
            let (login, password) = accounts.get(i)?;
            Some(Arrival {
                login: login.clone(),
                password: password.clone(),
                from: sources.get(i),
                at,
            })
        })
        .collect()
}

/// What happened to one person.
#[derive(Debug, Default)]
struct Outcome {
    arrived: Duration,
    /// When "sign in" was first pressed (the first `POST /login` sent).
    pressed: Option<Duration>,
    /// When the `POST /login` was answered with the session (after the run's start).
    signed_in: Option<Duration>,
    /// When the start page was loaded.
    done: Option<Duration>,
    /// Latency of the `POST /login` that succeeded.
    post: Option<Duration>,
    /// Latency of the `GET /` that showed the start page.
    start_page: Option<Duration>,
    /// 503s (waiting room) this person was sent, each followed by a wait and a retry.
    waits: u64,
    /// Connections the server closed between requests, reopened as a browser would.
    reconnects: u64,
    session: Option<String>,
    error: Option<Failure>,
}

/// The result of a storm, with every sample kept.
#[derive(Debug, Default)]
pub struct StormResult {
    /// People scheduled.
    pub people: usize,
    /// People who arrived before the deadline.
    pub arrived: usize,
    /// The first arrival after the run's start.
    pub first_arrival: Duration,
    /// Sorted times of the successful sign-ins after the run's start.
    pub signed_in_at: Vec<Duration>,
    /// Sorted times from arrival to the loaded start page.
    pub to_start_page: Vec<Duration>,
    /// Sorted times from the first press of "sign in" to the loaded start page.
    pub pressed_to_start_page: Vec<Duration>,
    /// Sorted latencies of the successful `POST /login`s.
    pub post: Vec<Duration>,
    /// Sorted latencies of the `GET /` that showed the start page.
    pub start_page: Vec<Duration>,
    /// The latest start page load after the run's start.
    pub last_done: Duration,
    pub waits: u64,
    pub reconnects: u64,
    pub errors: Tally,
    /// Session cookies of the people who got in.
    pub sessions: Vec<String>,
    pub elapsed: Duration,
}

impl StormResult {
    fn add(&mut self, o: Outcome) {
        self.waits += o.waits;
        self.reconnects += o.reconnects;
        if let Some(t) = o.signed_in {
            self.signed_in_at.push(t);
        }
        if let Some(p) = o.post {
            self.post.push(p);
        }
        if let Some(p) = o.start_page {
            self.start_page.push(p);
        }
        if let Some(done) = o.done {
            self.to_start_page.push(done.saturating_sub(o.arrived));
            if let Some(pressed) = o.pressed {
                self.pressed_to_start_page
                    .push(done.saturating_sub(pressed));
            }
            self.last_done = self.last_done.max(done);
        }
        if let Some(s) = o.session {
            self.sessions.push(s);
        }
        if let Some(f) = o.error {
            self.errors.add(f.cause, f.detail);
        }
    }

    /// The figures of [`StormReport`].
    pub fn report(&self) -> StormReport {
        let done = self.to_start_page.len();
        let span = self.last_done.saturating_sub(self.first_arrival);
        let signins_per_sec = if done == 0 || span.is_zero() {
            0.0
        } else {
            done as f64 / span.as_secs_f64()
        };
        let p = |v: &[Duration], q| percentile(v, q).unwrap_or_default();
        StormReport {
            people: self.people,
            signed_in: done,
            errors: usize::try_from(self.errors.total()).unwrap_or(usize::MAX),
            error_examples: self.errors.examples(EXAMPLES),
            waiting_room: usize::try_from(self.waits).unwrap_or(usize::MAX),
            p50_signin: p(&self.pressed_to_start_page, 0.50),
            p99_signin: p(&self.pressed_to_start_page, 0.99),
            p99_start_page: p(&self.start_page, 0.99),
            signins_per_sec,
            elapsed: self.elapsed,
        }
    }
}

/// One storm: every person arrives at their time and signs in; people still under way at
/// `deadline` (after the start) are stopped and count as errors. With `progress_every`, a line
/// of counts goes to stderr that often.
pub async fn storm(
    target: &Target,
    people: Vec<Arrival>,
    deadline: Duration,
    progress_every: Option<Duration>,
) -> StormResult {
    let n = people.len();
    let start = tokio::time::Instant::now();
    let end = start + deadline;
    let places = Arc::new(Semaphore::new(MAX_ACTIVE_PEOPLE));
    let progress = Arc::new(Progress::default());
    let mut tasks = JoinSet::new();
    let mut result = StormResult {
        people: n,
        first_arrival: people.iter().map(|p| p.at).min().unwrap_or_default(),
        ..Default::default()
    };

    let reporter = progress_every.map(|every| {
        let progress = Arc::clone(&progress);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                eprintln!("  {}", progress.line(start.elapsed()));
            }
        })
    });

    let run = async {
        for p in people {
            tokio::time::sleep_until(start + p.at).await;
            let Ok(place) = Arc::clone(&places).acquire_owned().await else {
                break;
            };
            let target = target.clone();
            let progress = Arc::clone(&progress);
            progress.arrived.fetch_add(1, Ordering::Relaxed);
            tasks.spawn(async move {
                let o = person(&target, &p, start.into_std(), &progress).await;
                drop(place);
                o
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(o) => result.add(o),
                Err(e) => result.errors.add("client task", e.to_string()),
            }
        }
    };
    let finished = tokio::time::timeout_at(end, run).await.is_ok();
    if let Some(r) = reporter {
        r.abort();
    }
    if !finished {
        tasks.abort_all();
        let unfinished = n
            .saturating_sub(result.to_start_page.len())
            .saturating_sub(result.errors.total() as usize);
        for _ in 0..unfinished {
            result.errors.add(
                "unfinished at the run's deadline",
                format!(
                    "not on the start page {} s after the run's start",
                    deadline.as_secs()
                ),
            );
        }
    }
    result.arrived = progress.arrived.load(Ordering::Relaxed) as usize;
    result.elapsed = start.elapsed();
    result.signed_in_at.sort_unstable();
    result.to_start_page.sort_unstable();
    result.pressed_to_start_page.sort_unstable();
    result.post.sort_unstable();
    result.start_page.sort_unstable();
    result
}

/// Counters for the progress lines of a long run.
#[derive(Debug, Default)]
struct Progress {
    arrived: AtomicU64,
    signed_in: AtomicU64,
    done: AtomicU64,
    waits: AtomicU64,
    errors: AtomicU64,
}

impl Progress {
    fn line(&self, t: Duration) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{:>4} s: {} arrived, {} signed in, {} on the start page, {} waits (503), {} errors",
            t.as_secs(),
            get(&self.arrived),
            get(&self.signed_in),
            get(&self.done),
            get(&self.waits),
            get(&self.errors)
        )
    }
}

/// One person's morning: a new connection from their home, the sign-in form, the sign-in, the
/// start page.
async fn person(target: &Target, p: &Arrival, start: Instant, progress: &Progress) -> Outcome {
    let mut o = Outcome {
        arrived: p.at,
        ..Default::default()
    };
    match sign_in_and_load(target, p, start, &mut o, progress).await {
        Ok(()) => {
            o.done = Some(start.elapsed());
            progress.done.fetch_add(1, Ordering::Relaxed);
        }
        Err(f) => {
            o.error = Some(f);
            progress.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    o
}

async fn sign_in_and_load(
    target: &Target,
    p: &Arrival,
    start: Instant,
    o: &mut Outcome,
    progress: &Progress,
) -> Result<(), Failure> {
    let mut conn = open(target, p.from).await?;
    let session = loop {
        reopen_if_closed(&mut conn, target, p.from, o).await?;
        let form = match timed("GET /login", browser::login_form(&mut conn)).await {
            Ok(form) => form,
            Err(f) => {
                wait_room(f, o, progress).await?;
                continue;
            }
        };
        reopen_if_closed(&mut conn, target, p.from, o).await?;
        let t0 = Instant::now();
        o.pressed.get_or_insert_with(|| start.elapsed());
        match timed(
            "POST /login",
            browser::post_login(&mut conn, target, &form, &p.login, &p.password),
        )
        .await
        {
            Ok(session) => {
                o.post = Some(t0.elapsed());
                o.signed_in = Some(start.elapsed());
                progress.signed_in.fetch_add(1, Ordering::Relaxed);
                break session;
            }
            Err(f) => wait_room(f, o, progress).await?,
        }
    };
    loop {
        reopen_if_closed(&mut conn, target, p.from, o).await?;
        let t0 = Instant::now();
        match timed("GET /", browser::start_page(&mut conn, &session)).await {
            Ok(()) => {
                o.start_page = Some(t0.elapsed());
                break;
            }
            Err(f) => wait_room(f, o, progress).await?,
        }
    }
    o.session = Some(session);
    conn.close().await;
    Ok(())
}

/// A new connection, bounded by [`REQUEST_TIMEOUT`].
pub async fn open(target: &Target, from: Option<IpAddr>) -> Result<Connection, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, target.connect_from(from)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(Failure::transport("connect", e)),
        Err(_) => Err(Failure::timeout("connect", REQUEST_TIMEOUT)),
    }
}

/// A browser opens a new connection when the server has closed the idle one: so do we.
async fn reopen_if_closed(
    conn: &mut Connection,
    target: &Target,
    from: Option<IpAddr>,
    o: &mut Outcome,
) -> Result<(), Failure> {
    if conn.is_closed() {
        *conn = open(target, from).await?;
        o.reconnects += 1;
    }
    Ok(())
}

/// One step, bounded by [`REQUEST_TIMEOUT`].
pub async fn timed<T>(
    step: &str,
    f: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(Failure::timeout(step, REQUEST_TIMEOUT)),
    }
}

/// The waiting room: a 503 with `Retry-After` is waited out and counted; anything else is the
/// error it is.
async fn wait_room(f: Failure, o: &mut Outcome, progress: &Progress) -> Result<(), Failure> {
    match f.retry_after {
        Some(d) => {
            o.waits += 1;
            progress.waits.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(d).await;
            Ok(())
        }
        None => Err(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_uniform_sorted_within_the_window_and_reproducible() {
        let w = Duration::from_secs(300);
        let t = arrival_times(10_000, w, 800);
        assert_eq!(t.len(), 10_000);
        assert!(t.windows(2).all(|p| p[0] <= p[1]), "sorted");
        assert!(t.iter().all(|d| *d < w), "within the window");
        assert_eq!(t, arrival_times(10_000, w, 800), "same seed, same times");
        assert_ne!(t, arrival_times(10_000, w, 801));
        // ten 30 s slices each get about a tenth
        for slice in 0..10u64 {
            let from = Duration::from_secs(slice * 30);
            let to = from + Duration::from_secs(30);
            let n = t.iter().filter(|d| **d >= from && **d < to).count();
            assert!((800..=1_200).contains(&n), "slice {slice}: {n}");
        }
        assert_eq!(arrival_times(3, Duration::ZERO, 1), vec![Duration::ZERO; 3]);
    }

    #[test]
    fn everyone_is_scheduled_once_from_a_source_address() {
        let accounts: Vec<(String, String)> = (0..500)
            .map(|i| (format!("p{i}"), format!("pw{i}")))
            .collect();
        let sources = Sources::for_target("127.0.0.1:443".parse().unwrap(), 100);
        let s = schedule(&accounts, &sources, Duration::from_secs(60), 7);
        let mut who: Vec<&str> = s.iter().map(|a| a.login.as_str()).collect();
        assert_ne!(
            who[..10],
            ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"]
        );
        who.sort_unstable();
        who.dedup();
        assert_eq!(who.len(), 500);
        assert!(s.windows(2).all(|p| p[0].at <= p[1].at));
        assert!(s.iter().all(|a| a.from.is_some()));
        assert!(
            s.iter()
                .all(|a| a.password == format!("pw{}", &a.login[1..])),
            "each person keeps their own password"
        );
    }

    #[test]
    fn the_report_counts_from_the_first_arrival_to_the_last_start_page() {
        let ms = Duration::from_millis;
        let mut r = StormResult {
            people: 3,
            first_arrival: ms(1_000),
            ..Default::default()
        };
        for (arrived, pressed, done, page) in [(1_000, 1_010, 1_300, 20), (2_000, 2_010, 3_000, 40)]
        {
            r.add(Outcome {
                arrived: ms(arrived),
                pressed: Some(ms(pressed)),
                done: Some(ms(done)),
                start_page: Some(ms(page)),
                waits: 1,
                ..Default::default()
            });
        }
        r.add(Outcome {
            arrived: ms(2_500),
            error: Some(Failure::protocol(
                "POST /login -> 500",
                "POST /login answered 500 Internal Server Error".into(),
            )),
            ..Default::default()
        });
        r.pressed_to_start_page.sort_unstable();
        r.start_page.sort_unstable();
        let rep = r.report();
        assert_eq!((rep.people, rep.signed_in, rep.errors), (3, 2, 1));
        assert_eq!(rep.waiting_room, 2);
        assert_eq!((rep.p50_signin, rep.p99_signin), (ms(290), ms(990)));
        assert_eq!(rep.p99_start_page, ms(40));
        // 2 sign-ins from 1.0 s (first arrival) to 3.0 s (last start page)
        assert!((rep.signins_per_sec - 1.0).abs() < 1e-9);
        assert_eq!(
            rep.error_examples,
            vec!["POST /login -> 500 (1×): POST /login answered 500 Internal Server Error"]
        );
    }

    #[test]
    fn only_loopback_is_a_target() {
        let spec = StormSpec {
            addr: "192.0.2.1:443".parse().unwrap(),
            accounts: vec![("a".into(), "b".into())],
            window: Duration::from_secs(1),
            deadline: Duration::from_secs(2),
            seed: 1,
            source_addresses: 1,
        };
        let e = run_storm(&spec).unwrap_err().to_string();
        assert!(e.contains("not a loopback address"), "{e}");
    }
}
