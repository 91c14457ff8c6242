//! `schola-bench login`: how close the HTTPS sign-in rate of a real `schola-web` comes to the raw
//! argon2id verify rate of this machine.
//!
//! (a) All cores verify a precomputed hash of the configured parameters in a loop: the ceiling.
//! (b) Many clients sign in over HTTPS, each sign-in on a new TCP + TLS connection without session
//! resumption (`GET /login` for the CSRF token, then `POST /login`), round-robin over bench
//! students so per-account back-off never applies. The goal is (b) >= 0.8 (a) with no failures.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header;
use schola_core::Config;
use schola_core::config::Argon2Config;
use schola_core::password::{hash_password, verify_password};

use crate::client::{Stage, Target, TransportError};
use crate::server::{BenchDir, ServerGuard};

/// The password every bench account has.
const PASSWORD: &str = "Bench-Passwort-2024";
/// How many students sign in (round-robin).
const STUDENTS: usize = 200;
/// The goal: sign-ins per second over HTTPS at least this share of raw verifies per second.
const GOAL: f64 = 0.80;
/// A sign-in that takes longer than this counts as failed.
const SIGNIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the server may take to answer `/healthz` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

const CSRF_COOKIE: &str = "__Host-schola_csrf";
const SESSION_COOKIE: &str = "__Host-schola_session";

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
    let hash = hash_password(argon, PASSWORD).context("cannot hash the bench password")?;
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
    let a1 = verify_rate(argon, &hash, cores, half)?;

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
    let a2 = verify_rate(argon, &hash, cores, half)?;
    let a = VerifyRate {
        threads: a1.threads,
        verifies: a1.verifies + a2.verifies,
        elapsed: a1.elapsed + a2.elapsed,
    };
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
        for (cause, (n, example)) in &b.failures {
            println!("  {cause}: {n}  (e.g. {example})");
        }
    }
    Ok(pass)
}

/// Result of phase (a).
struct VerifyRate {
    threads: usize,
    verifies: u64,
    elapsed: Duration,
}

impl VerifyRate {
    fn rate(&self) -> f64 {
        self.verifies as f64 / self.elapsed.as_secs_f64()
    }
}

/// `threads` threads each verify `hash` in a loop for `duration`.
fn verify_rate(
    argon: Argon2Config,
    hash: &str,
    threads: usize,
    duration: Duration,
) -> Result<VerifyRate> {
    // the server verifies hashes made with the configured parameters: so must we
    if !hash.contains(&format!(
        "m={},t={},p={}",
        argon.memory_kib, argon.iterations, argon.parallelism
    )) {
        bail!("the bench hash {hash} was not made with the configured parameters");
    }
    let start = Instant::now();
    let deadline = start + duration;
    let counts: Vec<Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        if !verify_password(hash, PASSWORD) {
                            bail!("the bench hash did not verify");
                        }
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a verify thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut verifies = 0;
    for c in counts {
        verifies += c?;
    }
    Ok(VerifyRate {
        threads,
        verifies,
        elapsed,
    })
}

/// Result of phase (b).
#[derive(Default)]
struct SigninRate {
    /// Latency of each successful sign-in (new connection to the POST's answer).
    ok: Vec<Duration>,
    /// Failures by cause, with one example message.
    failures: BTreeMap<String, (u64, String)>,
    elapsed: Duration,
}

impl SigninRate {
    fn rate(&self) -> f64 {
        self.ok.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn failed(&self) -> u64 {
        self.failures.values().map(|(n, _)| n).sum()
    }

    /// Nearest-rank percentile of the successful sign-ins' latency; `ok` must be sorted.
    fn percentile(&self, p: f64) -> Option<Duration> {
        if self.ok.is_empty() {
            return None;
        }
        let rank = (p * self.ok.len() as f64).ceil() as usize;
        self.ok.get(rank.clamp(1, self.ok.len()) - 1).copied()
    }

    fn merge(&mut self, other: SigninRate) {
        self.ok.extend(other.ok);
        for (cause, (n, example)) in other.failures {
            self.failures.entry(cause).or_insert((0, example)).0 += n;
        }
    }

    fn fail(&mut self, f: Failure) {
        self.failures.entry(f.cause).or_insert((0, f.detail)).0 += 1;
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
                    Err(_) => out.fail(Failure {
                        cause: "timeout".into(),
                        detail: format!("no answer within {} s", SIGNIN_TIMEOUT.as_secs()),
                    }),
                }
            }
            out
        });
    }
    let mut all = SigninRate::default();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(r) => all.merge(r),
            Err(e) => all.fail(Failure {
                cause: "client task".into(),
                detail: e.to_string(),
            }),
        }
    }
    all.elapsed = start.elapsed();
    all.ok.sort_unstable();
    all
}

/// Why one sign-in failed: `cause` is what failures are counted by.
#[derive(Debug)]
struct Failure {
    cause: String,
    detail: String,
}

impl Failure {
    fn status(step: &str, resp: &crate::client::Response) -> Failure {
        let retry = resp
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!(", Retry-After: {v}"))
            .unwrap_or_default();
        Failure {
            cause: format!("{step} -> {}", resp.status.as_u16()),
            detail: format!("{step} answered {}{retry}", resp.status),
        }
    }

    fn protocol(cause: &str, detail: String) -> Failure {
        Failure {
            cause: cause.into(),
            detail,
        }
    }

    fn transport(step: &str, e: anyhow::Error) -> Failure {
        let cause = match e.downcast_ref::<TransportError>().map(|t| t.stage) {
            Some(Stage::Connect) => "connect".to_string(),
            Some(Stage::Tls) => "TLS handshake".to_string(),
            Some(Stage::Http) => format!("{step}: connection"),
            None => format!("{step}: error"),
        };
        Failure {
            cause,
            detail: format!("{e:#}"),
        }
    }
}

/// One sign-in on a new connection; the time from connecting to the POST's answer.
async fn sign_in(target: &Target, login: &str, password: &str) -> Result<Duration, Failure> {
    let t0 = Instant::now();
    let mut conn = target
        .connect()
        .await
        .map_err(|e| Failure::transport("connect", e))?;

    let req = conn
        .request("GET", "/login")
        .header(header::ACCEPT, "text/html")
        .body(Full::new(Bytes::new()))
        .map_err(|e| Failure::protocol("request", e.to_string()))?;
    let page = conn
        .send(req)
        .await
        .map_err(|e| Failure::transport("GET /login", e))?;
    if page.status.as_u16() != 200 {
        return Err(Failure::status("GET /login", &page));
    }
    let cookie = page.set_cookie(CSRF_COOKIE).ok_or_else(|| {
        Failure::protocol(
            "GET /login: no CSRF cookie",
            format!("no Set-Cookie {CSRF_COOKIE}"),
        )
    })?;
    let field = csrf_field(&String::from_utf8_lossy(&page.body)).ok_or_else(|| {
        Failure::protocol(
            "GET /login: no CSRF field",
            "no <input name=\"csrf\" value=\"...\"> in the page".into(),
        )
    })?;

    let form = form_urlencode(&[("csrf", &field), ("login", login), ("password", password)]);
    let req = conn
        .request("POST", "/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{CSRF_COOKIE}={cookie}"))
        .header(header::ORIGIN, &target.origin)
        .header(header::ACCEPT, "text/html")
        .body(Full::new(Bytes::from(form)))
        .map_err(|e| Failure::protocol("request", e.to_string()))?;
    let resp = conn
        .send(req)
        .await
        .map_err(|e| Failure::transport("POST /login", e))?;
    let latency = t0.elapsed();
    conn.close().await;
    if resp.status.as_u16() != 303 {
        return Err(Failure::status("POST /login", &resp));
    }
    if resp.set_cookie(SESSION_COOKIE).is_none_or(|v| v.is_empty()) {
        return Err(Failure::protocol(
            "POST /login -> 303 without session",
            format!("303 without Set-Cookie {SESSION_COOKIE}"),
        ));
    }
    Ok(latency)
}

/// The value of the form field `name="csrf"` in an HTML page, whatever the attribute order.
fn csrf_field(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find("<input") {
        let tag_and_more = &rest[at..];
        let end = tag_and_more.find('>')?;
        let tag = &tag_and_more[..end];
        if attr(tag, "name").as_deref() == Some("csrf") {
            return attr(tag, "value");
        }
        rest = &tag_and_more[end..];
    }
    None
}

/// A quoted attribute's value in one tag, with the usual entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            let end = after
                .find(|c: char| c.is_whitespace() || c == '/')
                .unwrap_or(after.len());
            return Some(unescape(&after[..end]));
        }
        let value = &after[1..];
        let end = value.find(quote)?;
        return Some(unescape(&value[..end]));
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `application/x-www-form-urlencoded`, as browsers send it.
fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The one-minute load average (Linux), to warn about a busy machine.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `812 ms` or `1.3 s`.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_csrf_field_in_any_attribute_order() {
        let html = r#"<form method="post"><input type="text" name="login" value="x">
            <input type="hidden" name="csrf" value="abc-123_&amp;"><input name="password"></form>"#;
        assert_eq!(csrf_field(html).as_deref(), Some("abc-123_&"));
        let html = r#"<input value='tok' type=hidden name=csrf>"#;
        assert_eq!(csrf_field(html).as_deref(), Some("tok"));
        let html = r#"<input type="hidden" data-name="csrf" name="xcsrf" value="no">"#;
        assert_eq!(csrf_field(html), None);
        assert_eq!(csrf_field("<p>nothing</p>"), None);
    }

    #[test]
    fn encodes_forms_like_a_browser() {
        assert_eq!(
            form_urlencode(&[
                ("csrf", "a+b/c="),
                ("login", "anna.mueller"),
                ("password", "Grün & 7")
            ]),
            "csrf=a%2Bb%2Fc%3D&login=anna.mueller&password=Gr%C3%BCn+%26+7"
        );
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let r = SigninRate {
            ok: (1..=100).map(Duration::from_millis).collect(),
            ..Default::default()
        };
        assert_eq!(r.percentile(0.50), Some(Duration::from_millis(50)));
        assert_eq!(r.percentile(0.99), Some(Duration::from_millis(99)));
        assert_eq!(SigninRate::default().percentile(0.5), None);
        assert_eq!(human(Duration::from_millis(812)), "812 ms");
        assert_eq!(human(Duration::from_millis(1320)), "1.3 s");
    }
}
