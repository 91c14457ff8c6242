//! `scripts/bench files`: the file shares (issue 8) of a real `schola-files` behind a real
//! `schola-web`, over HTTPS on loopback, each figure next to a limit or a peer measured in the
//! same run:
//!
//! 1. a 1 GiB WebDAV `PUT` into a student's home, streamed from a generator (never a buffer of
//!    the upload's size), against `dd if=/dev/zero bs=1M conv=fsync` into the same data
//!    directory (run before and after it; goal >= 0.7 of dd's rate); `schola-files`' resident
//!    memory is sampled every 100 ms during the upload (goal: growth < 32 MiB);
//! 2. 20 students upload 200 MiB each at once while a second client signs in over and over (a
//!    new person each time, the real sign-in form on a new TLS connection): goal sign-in
//!    p99 < 1 s; the aggregate upload rate is shown;
//! 3. WebDAV `PROPFIND Depth: 1` on a 10,000-entry folder, and `GET` and `PUT` of 1,000 4 KiB
//!    files, against Apache's mod_dav (Debian's `apache2`, started here with a private
//!    configuration, never through systemd) serving a copy of the same tree over HTTPS with the
//!    same certificate, Basic auth and keep-alive; the same client with the same connections for
//!    both. Goal: Schola faster on each.
//!
//! Every phase has a hard deadline; a phase that fails to run is a FAIL row and the others still
//! run. Exit 0 only when every goal is met.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use rand::RngCore as _;
use schola_core::password::hash_password_for;
use schola_load::browser::{self, Failure};
use schola_load::client::Target;

use crate::server::{self, BenchDir, FilesGuard, PASSWORD, ServerGuard};
use crate::stats::{self, Table, Tally, Verdict, count, human, p50_95_99, percentile};

/// Phase 1: the upload's rate at least this share of dd's.
const DD_GOAL: f64 = 0.70;
/// Phase 1: growth of schola-files' resident memory during the upload.
const RSS_GROWTH_GOAL_KIB: u64 = 32 * 1024;
/// Phase 2: sign-in p99 while the uploads run.
const SIGNIN_P99_GOAL: Duration = Duration::from_secs(1);
/// How long the servers may take to get ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// One dd run.
const DD_DEADLINE: Duration = Duration::from_secs(300);
/// Phase 1's upload.
const BIG_DEADLINE: Duration = Duration::from_secs(600);
/// Phase 2 as a whole.
const PARALLEL_DEADLINE: Duration = Duration::from_secs(900);
/// One operation of phase 3 against one server.
const DAV_OP_DEADLINE: Duration = Duration::from_secs(300);
/// One sign-in.
const SIGNIN_TIMEOUT: Duration = Duration::from_secs(30);
/// People the second client of phase 2 signs in as, one after the other (then again from the
/// first, if the uploads outlast them).
const SIGNIN_PEOPLE: usize = 1_000;
/// The generator's block: the upload is this block over and over, sent as slices of it.
const BLOCK: usize = 1 << 20;
/// Size of each small file of phase 3.
const SMALL_SIZE: usize = 4096;
/// Size of each entry of the big folder of phase 3.
const ENTRY_SIZE: usize = 64;
/// PROPFIND bodies ask for the properties file managers ask for.
const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/><D:creationdate/></D:prop></D:propfind>"#;

#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    /// Size of the single upload of phase 1, in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub big_mib: u64,
    /// Parallel uploads of phase 2 (one student each).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub parallel: u64,
    /// Size of each upload of phase 2, in MiB.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub parallel_mib: u64,
    /// Entries of the folder listed with PROPFIND in phase 3.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub entries: u64,
    /// Small files fetched with GET and written with PUT in phase 3.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub small: u64,
    /// Keep-alive connections of the client in phase 3 (the same for Schola and Apache).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub connections: u64,
    /// PROPFIND requests per connection in phase 3.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub propfinds: u64,
    /// Rounds of phase 3, Schola and Apache taking turns; each figure is the median of the
    /// rounds (the machines are shared and noisy).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=25))]
    pub rounds: u64,
    /// Run only this phase (1, 2 or 3); repeat for several. Default: all.
    #[arg(long = "phase", value_parser = clap::value_parser!(u8).range(1..=3))]
    pub phases: Vec<u8>,
    /// Measure only the peers (dd, Apache mod_dav), without schola-files: to check the
    /// benchmark's own parts.
    #[arg(long, hide = true)]
    pub peer_only: bool,
}

impl FilesArgs {
    fn phase(&self, n: u8) -> bool {
        self.phases.is_empty() || self.phases.contains(&n)
    }
}

/// What every phase needs: where the servers are and who is who.
struct Bench {
    /// schola-web's HTTPS address.
    web: SocketAddr,
    cert: PathBuf,
    key: PathBuf,
    data: PathBuf,
    files_pid: Option<u32>,
    web_pid: u32,
    /// Signs in through the real form (phase 2).
    target: Target,
    peer_only: bool,
}

pub fn run(args: &FilesArgs) -> Result<bool> {
    let quota_mb = (args.big_mib + 1024).max(args.parallel_mib + 1024);
    let bench = BenchDir::create_with("", &format!("[files]\nstudent_quota_mb = {quota_mb}\n"))?;
    let data = bench.cfg.paths.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot make the data directory {}", data.display()))?;
    let argon = bench.cfg.auth.argon2;
    println!(
        "schola-bench files: {} cores, data directory {} ({}), student quota {quota_mb} MiB{}",
        schola_core::Config::cores(),
        data.display(),
        filesystem_of(&data),
        if args.peer_only {
            "; PEERS ONLY (dd, Apache), no schola-files"
        } else {
            ""
        }
    );
    if let Some(load) = stats::load_average()
        && load > 0.5
    {
        eprintln!(
            "warning: load average {load:.2} before the run: other processes use the machine"
        );
    }

    // students: [0] the big upload, [1] the WebDAV tree, [2..2+parallel] phase 2's uploads,
    // then the people phase 2's second client signs in as
    let parallel = args.parallel as usize;
    let people = 2 + parallel + SIGNIN_PEOPLE;
    eprintln!(
        "setting up a school with {} students in {}",
        count(people as u64),
        bench.dir.path().display()
    );
    let hash = hash_password_for(argon, PASSWORD).context("cannot hash the bench password")?;
    let logins = bench.populate(&hash, people)?;
    let (big_login, dav_login) = (logins[0].clone(), logins[1].clone());
    let uploaders = logins[2..2 + parallel].to_vec();
    let signers = Arc::new(logins[2 + parallel..].to_vec());

    // the tree of phase 3, written before schola-files starts (it counts the home's usage then)
    let tree = data.join("home").join(&dav_login);
    if args.phase(3) {
        let t = Instant::now();
        write_tree(&tree, args.entries as usize, args.small as usize)?;
        eprintln!(
            "wrote the WebDAV tree ({} entries, {} small files) in {:.1} s",
            count(args.entries),
            count(args.small),
            t.elapsed().as_secs_f64()
        );
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // declared after `bench`, so both are killed before the directory is removed
    let files = if args.peer_only {
        None
    } else {
        let f = FilesGuard::start(&bench, READY_TIMEOUT)?;
        eprintln!(
            "schola-files is listening on {} (log: {})",
            bench.cfg.files_socket().display(),
            bench.files_log_path().display()
        );
        Some(f)
    };
    let (web, target) = rt.block_on(ServerGuard::start(&bench, READY_TIMEOUT))?;
    eprintln!(
        "schola-web is ready at https://{} (log: {})",
        target.addr,
        bench.log_path().display()
    );
    let ctx = Bench {
        web: bench.addr,
        cert: bench.cert_path(),
        key: bench.cfg.tls_dir().join("key.pem"),
        data: data.clone(),
        files_pid: files.as_ref().map(FilesGuard::pid),
        web_pid: web.pid(),
        target,
        peer_only: args.peer_only,
    };

    let mut tables = Vec::new();
    if args.phase(1) {
        eprintln!("phase 1: a {} MiB upload next to dd ...", args.big_mib);
        tables.push(or_fail(
            "1. one big upload over HTTPS, against dd conv=fsync",
            big_upload(&rt, &ctx, &big_login, args.big_mib),
        ));
    }
    if args.phase(2) && !args.peer_only {
        eprintln!(
            "phase 2: {parallel} uploads of {} MiB at once, signing in meanwhile ...",
            args.parallel_mib
        );
        tables.push(or_fail(
            "2. parallel uploads while people sign in",
            rt.block_on(parallel_uploads(
                &ctx,
                &uploaders,
                Arc::clone(&signers),
                args.parallel_mib,
            )),
        ));
    }
    if args.phase(3) {
        eprintln!("phase 3: WebDAV against Apache mod_dav ...");
        tables.push(or_fail(
            "3. WebDAV against Apache mod_dav, same tree, same client",
            dav_against_apache(&rt, &ctx, &tree, &dav_login, args),
        ));
    }
    let logs = [
        files
            .as_ref()
            .map(|f| ("schola-files", f.log_tail(15), bench.files_log_path())),
        Some(("schola-web", web.log_tail(15), bench.log_path())),
    ];
    drop(web);
    drop(files);
    drop(rt);

    let mut pass = true;
    for t in &tables {
        print!("{}", t.render());
        pass &= t.passed();
    }
    if !pass {
        for (name, tail, path) in logs.into_iter().flatten() {
            println!("\n{name}'s log ({}) ends:\n{tail}", path.display());
        }
    }
    if args.peer_only {
        println!("\nfiles benchmark: peers only, no verdict on Schola");
        return Ok(pass);
    }
    println!("\nfiles benchmark: {}", if pass { "PASS" } else { "FAIL" });
    Ok(pass)
}

/// A phase's table, or a table with the error as a FAIL row.
fn or_fail(title: &str, r: Result<Table>) -> Table {
    r.unwrap_or_else(|e| {
        let mut t = Table::new(title);
        t.row("the phase could not run", "error", "", "", Verdict::Fail);
        t.note(format!("  error: {e:#}"));
        t
    })
}

// ---------------------------------------------------------------------------------------------
// phase 1

fn big_upload(rt: &tokio::runtime::Runtime, ctx: &Bench, login: &str, mib: u64) -> Result<Table> {
    let mut t = Table::new("1. one big upload over HTTPS, against dd conv=fsync");
    // dd's rate varies from run to run with the disk's other load: two runs before the upload
    // and two after, and the median of the four
    let mut dd_rates = vec![dd(&ctx.data, mib)?, dd(&ctx.data, mib)?];
    if ctx.peer_only {
        dd_rates.push(dd(&ctx.data, mib)?);
        dd_rates.push(dd(&ctx.data, mib)?);
        t.info(
            format!("dd bs=1M count={mib} conv=fsync, same filesystem (4 runs)"),
            list_rates(&dd_rates),
        );
        t.info("dd, median", format!("{:.0} MiB/s", median(&mut dd_rates)));
        apache_reference(rt, ctx, login, mib, &mut t);
        return Ok(t);
    }
    let len = mib << 20;
    let client = https_client(ctx.web, &ctx.cert, 1)?;
    let url = format!("https://{}/dav/home/big.bin", authority(ctx.web));
    let pids: Vec<u32> = ctx.files_pid.into_iter().chain([ctx.web_pid]).collect();
    sync()?;
    let before: Vec<u64> = pids.iter().map(|p| rss_kib(*p)).collect();
    let upload = rt.block_on(async {
        let watch = RssWatch::start(pids.clone());
        let r = tokio::time::timeout(
            BIG_DEADLINE,
            put_generated(&client, &url, login, len, block()),
        )
        .await;
        let peaks = watch.stop().await;
        (r, peaks)
    });
    let (took, peaks) = match upload {
        (Ok(Ok(took)), peaks) => (took, peaks),
        (Ok(Err(e)), _) => return Err(e),
        (Err(_), _) => bail!(
            "the {mib} MiB upload did not finish within {} s",
            BIG_DEADLINE.as_secs()
        ),
    };
    let stored = rt.block_on(stored_length(&client, &url, login))?;
    if stored != len {
        bail!("after the upload, PROPFIND {url} says {stored} bytes, not {len}");
    }
    dd_rates.push(dd(&ctx.data, mib)?);
    dd_rates.push(dd(&ctx.data, mib)?);
    t.info(
        format!("dd bs=1M count={mib} conv=fsync, same filesystem (2 before, 2 after)"),
        list_rates(&dd_rates),
    );
    let dd_rate = median(&mut dd_rates);
    apache_reference(rt, ctx, login, mib, &mut t);
    let rate = mib as f64 / took.as_secs_f64();
    let ratio = rate / dd_rate;
    t.row(
        format!(
            "WebDAV PUT of {mib} MiB over HTTPS ({:.1} s)",
            took.as_secs_f64()
        ),
        format!("{rate:.0} MiB/s"),
        format!(">= {DD_GOAL:.2} x dd's median ({dd_rate:.0} MiB/s)"),
        format!("{ratio:.2}"),
        Verdict::of(ratio >= DD_GOAL),
    );
    let growth = |i: usize| {
        peaks
            .get(i)
            .copied()
            .unwrap_or(0)
            .saturating_sub(before.get(i).copied().unwrap_or(0))
    };
    if ctx.files_pid.is_some() {
        let g = growth(0);
        t.row(
            format!(
                "schola-files RSS growth during it (from {})",
                stats::mib(before[0])
            ),
            stats::mib(g),
            format!("< {}", stats::mib(RSS_GROWTH_GOAL_KIB)),
            format!("{:.2}", g as f64 / RSS_GROWTH_GOAL_KIB as f64),
            Verdict::of(g < RSS_GROWTH_GOAL_KIB),
        );
    }
    let w = pids.len() - 1;
    t.info(
        format!(
            "schola-web RSS growth during it (from {})",
            stats::mib(before[w])
        ),
        stats::mib(growth(w)),
    );
    t.note(
        "  RSS sampled every 100 ms from /proc/<pid>/status; `sync` before each dd and the upload",
    );
    // free the disk for the next phases
    let _ = std::fs::remove_file(ctx.data.join("home").join(login).join("big.bin"));
    Ok(t)
}

/// For reference, not a goal: the same upload into Apache mod_dav (which does not fsync) with
/// the same client, over HTTPS with the same certificate: what TLS on both ends of loopback
/// leaves on this machine. A row in `t`, or a note when Apache cannot run.
fn apache_reference(
    rt: &tokio::runtime::Runtime,
    ctx: &Bench,
    login: &str,
    mib: u64,
    t: &mut Table,
) {
    let r = (|| -> Result<f64> {
        let empty = tempfile::tempdir().context("cannot make a temp directory")?;
        let apache = Apache::start(ctx, empty.path(), login)?;
        let client = https_client(apache.addr, &ctx.cert, 1)?;
        let url = format!("https://{}/dav/home/big.bin", authority(apache.addr));
        sync()?;
        let took = rt.block_on(async {
            let took = tokio::time::timeout(
                BIG_DEADLINE,
                put_generated(&client, &url, login, mib << 20, block()),
            )
            .await
            .with_context(|| format!("no answer within {} s", BIG_DEADLINE.as_secs()))??;
            let n = stored_length(&client, &url, login).await?;
            if n != mib << 20 {
                bail!("PROPFIND {url} says {n} bytes, not {}", mib << 20);
            }
            Ok(took)
        })?;
        Ok(mib as f64 / took.as_secs_f64())
    })();
    match r {
        Ok(rate) => t.info(
            "for reference: the same PUT into Apache mod_dav (no fsync), same client".to_string(),
            format!("{rate:.0} MiB/s"),
        ),
        Err(e) => t.note(format!("  (the Apache reference upload failed: {e:#})")),
    }
}

/// `sync`, then `dd if=/dev/zero of=<dir>/dd.bin bs=1M count=<mib> conv=fsync`: its rate in
/// MiB/s.
fn dd(dir: &Path, mib: u64) -> Result<f64> {
    sync()?;
    let out = dir.join("dd.bin");
    let t = Instant::now();
    let mut child = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", out.display()))
        .arg("bs=1M")
        .arg(format!("count={mib}"))
        .arg("conv=fsync")
        .arg("status=none")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run dd (coreutils)")?;
    let status = wait_deadline(&mut child, DD_DEADLINE, "dd")?;
    let took = t.elapsed();
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read as _;
            let _ = e.read_to_string(&mut err);
        }
        bail!(
            "dd into {} failed ({status}): {}",
            out.display(),
            err.trim()
        );
    }
    Ok(mib as f64 / took.as_secs_f64())
}

/// Writes back dirty pages, so that a measurement does not pay for the one before it.
fn sync() -> Result<()> {
    run_tool(&mut Command::new("sync"), "sync")
}

/// `812, 640 MiB/s`.
fn list_rates(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
        + " MiB/s"
}

/// The median (the mean of the middle two of an even number); 0 when empty.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Waits for `child` until `deadline` has passed, then kills it and fails.
fn wait_deadline(
    child: &mut Child,
    deadline: Duration,
    what: &str,
) -> Result<std::process::ExitStatus> {
    let t = Instant::now();
    loop {
        if let Some(s) = child
            .try_wait()
            .with_context(|| format!("waiting for {what}"))?
        {
            return Ok(s);
        }
        if t.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish within {} s", deadline.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resident memory of `pid` in KiB, 0 when it cannot be read.
fn rss_kib(pid: u32) -> u64 {
    stats::memory(&pid.to_string()).map_or(0, |m| m.rss_kib)
}

/// Samples the resident memory of some processes every 100 ms until stopped; the peak of each.
struct RssWatch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<u64>>,
}

impl RssWatch {
    fn start(pids: Vec<u32>) -> RssWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut peak = vec![0u64; pids.len()];
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                for (p, pid) in peak.iter_mut().zip(&pids) {
                    *p = (*p).max(rss_kib(*pid));
                }
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
            }
        });
        RssWatch { stop, task }
    }

    async fn stop(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// phase 2

/// Result of one upload of phase 2.
struct Upload {
    took: Duration,
}

async fn parallel_uploads(
    ctx: &Bench,
    uploaders: &[String],
    signers: Arc<Vec<String>>,
    mib: u64,
) -> Result<Table> {
    let mut t = Table::new("2. parallel uploads while people sign in");
    let len = mib << 20;
    let client = https_client(ctx.web, &ctx.cert, uploaders.len())?;
    let done = Arc::new(AtomicBool::new(false));
    let block = block();

    // the second client: one sign-in after the other, a new person each time
    let signer = {
        let done = Arc::clone(&done);
        let target = ctx.target.clone();
        tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut failures = Tally::default();
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) {
                let login = &signers[i % signers.len()];
                i += 1;
                match tokio::time::timeout(SIGNIN_TIMEOUT, sign_in(&target, login)).await {
                    Ok(Ok(d)) => ok.push(d),
                    Ok(Err(f)) => {
                        failures.add(f.cause, f.detail);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(_) => failures.add(
                        "timeout",
                        format!("no answer within {} s", SIGNIN_TIMEOUT.as_secs()),
                    ),
                }
            }
            ok.sort_unstable();
            (ok, failures)
        })
    };

    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for login in uploaders {
        let client = client.clone();
        let login = login.clone();
        let url = format!("https://{}/dav/home/parallel.bin", authority(ctx.web));
        let block = block.clone();
        tasks.spawn(async move {
            let r = put_generated(&client, &url, &login, len, block).await;
            (login, url, r)
        });
    }
    let all = async {
        let mut ups = Vec::new();
        let mut errors = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok((_, _, Ok(took))) => ups.push(Upload { took }),
                Ok((login, url, Err(e))) => errors.push(format!("{login}: {url}: {e:#}")),
                Err(e) => errors.push(format!("upload task: {e}")),
            }
        }
        (ups, errors)
    };
    let finished = tokio::time::timeout(PARALLEL_DEADLINE, all).await;
    let wall = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (ok, failures) = match tokio::time::timeout(SIGNIN_TIMEOUT * 2, signer).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => bail!("the sign-in client failed: {e}"),
        Err(_) => bail!("the sign-in client did not stop"),
    };
    let Ok((ups, errors)) = finished else {
        bail!(
            "the {} uploads did not finish within {} s",
            uploaders.len(),
            PARALLEL_DEADLINE.as_secs()
        );
    };
    // every upload arrived whole
    let mut short = Vec::new();
    for login in uploaders {
        let url = format!("https://{}/dav/home/parallel.bin", authority(ctx.web));
        match stored_length(&client, &url, login).await {
            Ok(n) if n == len => {}
            Ok(n) => short.push(format!("{login}: {n} bytes, not {len}")),
            Err(e) => short.push(format!("{login}: {e:#}")),
        }
        let _ = std::fs::remove_file(ctx.data.join("home").join(login).join("parallel.bin"));
    }

    let total_mib = (mib * ups.len() as u64) as f64;
    let mut per: Vec<Duration> = ups.iter().map(|u| u.took).collect();
    per.sort_unstable();
    t.info(
        format!(
            "{} x {mib} MiB WebDAV PUT at once: aggregate ({:.1} s)",
            uploaders.len(),
            wall.as_secs_f64()
        ),
        format!("{:.0} MiB/s", total_mib / wall.as_secs_f64()),
    );
    t.info("time of each upload", p50_95_99(&per));
    t.row(
        "uploads failed or incomplete",
        count((errors.len() + short.len()) as u64),
        "0",
        "",
        Verdict::of(errors.is_empty() && short.is_empty()),
    );
    let p99 = percentile(&ok, 0.99);
    t.row(
        format!(
            "sign-in p99 meanwhile ({} sign-ins, new TLS connection each)",
            count(ok.len() as u64)
        ),
        p99.map_or("-".into(), human),
        format!("< {}", human(SIGNIN_P99_GOAL)),
        p99.map_or(String::new(), |p| {
            format!("{:.2}", p.as_secs_f64() / SIGNIN_P99_GOAL.as_secs_f64())
        }),
        Verdict::of(p99.is_some_and(|p| p < SIGNIN_P99_GOAL)),
    );
    t.info("sign-in latency", p50_95_99(&ok));
    t.row(
        "failed sign-ins",
        count(failures.total()),
        "0",
        "",
        Verdict::of(failures.total() == 0),
    );
    for e in errors.iter().chain(&short).take(5) {
        t.note(format!("  upload: {e}"));
    }
    if failures.total() > 0 {
        t.note(format!("  failed sign-ins by cause:\n{}", failures.lines()));
    }
    Ok(t)
}

/// One sign-in on a new connection (`GET /login`, `POST /login`), as schola-load does; the time
/// from connecting to the POST's answer.
async fn sign_in(target: &Target, login: &str) -> Result<Duration, Failure> {
    let t0 = Instant::now();
    let mut conn = target
        .connect()
        .await
        .map_err(|e| Failure::transport("connect", e))?;
    let form = browser::login_form(&mut conn).await?;
    let session = browser::post_login(&mut conn, target, &form, login, PASSWORD).await;
    let latency = t0.elapsed();
    conn.close().await;
    session.map(|_| latency)
}

// ---------------------------------------------------------------------------------------------
// phase 3

/// The tree of phase 3 in `dir`: `many/` with `entries` files of 64 bytes, `small/` with
/// `small` files of 4 KiB (random content).
fn write_tree(dir: &Path, entries: usize, small: usize) -> Result<()> {
    let many = dir.join("many");
    let smalls = dir.join("small");
    for d in [&many, &smalls] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot make {}", d.display()))?;
    }
    let mut rng = rand::rng();
    let mut buf = vec![0u8; SMALL_SIZE];
    for i in 0..entries {
        rng.fill_bytes(&mut buf[..ENTRY_SIZE]);
        let p = many.join(format!("entry-{i:06}.txt"));
        std::fs::write(&p, &buf[..ENTRY_SIZE])
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    for i in 0..small {
        rng.fill_bytes(&mut buf);
        let p = smalls.join(small_name(i));
        std::fs::write(&p, &buf).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

fn small_name(i: usize) -> String {
    format!("small-{i:05}.bin")
}

/// Times of one server in phase 3.
struct DavTimes {
    propfind: Duration,
    get: Duration,
    put: Duration,
}

impl DavTimes {
    /// The median of each time over the rounds.
    fn median(rounds: &[DavTimes]) -> DavTimes {
        let m = |f: fn(&DavTimes) -> Duration| {
            let mut v: Vec<f64> = rounds.iter().map(|r| f(r).as_secs_f64()).collect();
            Duration::from_secs_f64(median(&mut v))
        };
        DavTimes {
            propfind: m(|r| r.propfind),
            get: m(|r| r.get),
            put: m(|r| r.put),
        }
    }
}

fn dav_against_apache(
    rt: &tokio::runtime::Runtime,
    ctx: &Bench,
    tree: &Path,
    login: &str,
    args: &FilesArgs,
) -> Result<Table> {
    let mut t = Table::new("3. WebDAV against Apache mod_dav, same tree, same client");
    let conns = args.connections as usize;
    let apache = Apache::start(ctx, tree, login)?;
    eprintln!(
        "Apache {} is ready at https://{} (config: {})",
        apache.version,
        apache.addr,
        apache.conf.display()
    );
    let run = |name: &str, addr: SocketAddr, round: u64| -> Result<DavTimes> {
        eprintln!("  {name}, round {} ...", round + 1);
        let clients = (0..conns)
            .map(|_| https_client(addr, &ctx.cert, 1))
            .collect::<Result<Vec<_>>>()?;
        let base = format!("https://{}/dav/home", authority(addr));
        rt.block_on(dav_ops(&clients, &base, login, args, round))
            .with_context(|| format!("against {name} at {base}"))
    };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..args.rounds {
        if !ctx.peer_only {
            ours.push(run("Schola", ctx.web, round)?);
        }
        theirs.push(run("Apache mod_dav", apache.addr, round)?);
    }
    drop(apache);
    let schola = (!ours.is_empty()).then(|| DavTimes::median(&ours));
    let peer = DavTimes::median(&theirs);

    let ops = [
        (
            format!(
                "PROPFIND Depth 1 of {} entries, {} x",
                count(args.entries),
                args.connections * args.propfinds
            ),
            schola.as_ref().map(|s| s.propfind),
            peer.propfind,
        ),
        (
            format!("GET of {} files of 4 KiB", count(args.small)),
            schola.as_ref().map(|s| s.get),
            peer.get,
        ),
        (
            format!("PUT of {} files of 4 KiB", count(args.small)),
            schola.as_ref().map(|s| s.put),
            peer.put,
        ),
    ];
    for (what, ours, theirs) in ops {
        match ours {
            Some(ours) => {
                let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
                t.row(
                    format!("{what}: Schola"),
                    format!("{:.2} s", ours.as_secs_f64()),
                    format!("< Apache {:.2} s", theirs.as_secs_f64()),
                    format!("{ratio:.2}"),
                    Verdict::of(ours < theirs),
                );
            }
            None => t.info(
                format!("{what}: Apache"),
                format!("{:.2} s", theirs.as_secs_f64()),
            ),
        }
    }
    t.note(format!(
        "  both over HTTPS (HTTP/1.1, same certificate), Basic auth, {conns} keep-alive \
         connections opened before the timing; ratio = Schola / Apache; each time the median \
         of {} rounds, the two servers taking turns",
        args.rounds
    ));
    t.note(
        "  Apache: Debian's apache2, mpm_event, mod_dav_fs, htpasswd (MD5) file; Schola: \
         schola-web (auth) -> Unix socket -> schola-files",
    );
    t.note(
        "  a PUT: mod_dav_fs writes a temp file and renames it, without fsync; schola-files \
         also fsyncs the file and its folder before answering",
    );
    // What those fsyncs cost by themselves on this disk, in the same run: the part of Schola's
    // PUT time that mod_dav_fs does not spend.
    if let Some(ours) = schola.as_ref().map(|s| s.put) {
        let floor = sync_floor(&ctx.data, args.small as usize, conns)?;
        t.info(
            format!(
                "the same {} files, only written, fsynced and renamed ({conns} in parallel)",
                count(args.small)
            ),
            format!("{:.2} s", floor.as_secs_f64()),
        );
        t.info(
            "Schola's PUT time beyond that, against Apache's".to_string(),
            format!(
                "{:.2} s vs {:.2} s",
                ours.saturating_sub(floor).as_secs_f64(),
                peer.put.as_secs_f64()
            ),
        );
    }
    Ok(t)
}

/// The time to write `files` files of [`SMALL_SIZE`] as schola-files commits an upload (a
/// temporary file, fsync, rename into the folder, fsync of the folder) and nothing else,
/// `parallel` at a time, in a fresh folder under `data` (same filesystem as the shares).
fn sync_floor(data: &Path, files: usize, parallel: usize) -> Result<Duration> {
    let dir = data.join(format!("sync-floor-{}", std::process::id()));
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot make {}", tmp.display()))?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..parallel.max(1))
        .map(|_| {
            let (dir, tmp, next) = (dir.clone(), tmp.clone(), Arc::clone(&next));
            std::thread::spawn(move || -> std::io::Result<()> {
                let buf = vec![7u8; SMALL_SIZE];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files {
                        return Ok(());
                    }
                    let t = tmp.join(format!("{i}.tmp"));
                    let mut f = std::fs::File::create(&t)?;
                    std::io::Write::write_all(&mut f, &buf)?;
                    f.sync_all()?;
                    drop(f);
                    std::fs::rename(&t, dir.join(small_name(i)))?;
                    std::fs::File::open(&dir)?.sync_all()?;
                }
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a writer thread panicked"))?
            .with_context(|| format!("cannot write in {}", dir.display()))?;
    }
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(took)
}

/// PROPFIND, GET and PUT against one server, each spread over `clients` (one keep-alive
/// connection each); the wall time of each.
async fn dav_ops(
    clients: &[reqwest::Client],
    base: &str,
    login: &str,
    args: &FilesArgs,
    round: u64,
) -> Result<DavTimes> {
    // open the connections (TLS, sign-in) before any timing
    for c in clients {
        let r = dav(c, "PROPFIND", &format!("{base}/"), login)
            .header("Depth", "0")
            .body(PROPFIND_BODY)
            .send()
            .await
            .context("PROPFIND Depth 0 of the home")?;
        expect(r, 207, "PROPFIND Depth 0 of the home").await?;
    }
    let n = clients.len();
    let login: Arc<str> = Arc::from(login);

    // PROPFIND Depth 1 of the big folder
    let entries = args.entries as usize;
    let url = format!("{base}/many/");
    let l = Arc::clone(&login);
    let propfind = timed_op(clients, n * args.propfinds as usize, move |c, _| {
        let (url, login) = (url.clone(), Arc::clone(&l));
        async move {
            let r = dav(&c, "PROPFIND", &url, &login)
                .header("Depth", "1")
                .body(PROPFIND_BODY)
                .send()
                .await?;
            let body = expect(r, 207, "PROPFIND Depth 1 of many/").await?;
            let found = responses(&body);
            if found != entries + 1 {
                bail!(
                    "PROPFIND Depth 1 of many/ listed {found} resources, not {} ({} bytes)",
                    entries + 1,
                    body.len()
                );
            }
            Ok(())
        }
    })
    .await?;

    // GET of the small files
    let b = base.to_string();
    let l = Arc::clone(&login);
    let get = timed_op(clients, args.small as usize, move |c, i| {
        let url = format!("{b}/small/{}", small_name(i));
        let login = Arc::clone(&l);
        async move {
            let r = c
                .get(&url)
                .basic_auth(&login, Some(PASSWORD))
                .send()
                .await?;
            let body = expect(r, 200, "GET").await?;
            if body.len() != SMALL_SIZE {
                bail!("GET {url}: {} bytes, not {SMALL_SIZE}", body.len());
            }
            Ok(())
        }
    })
    .await?;

    // PUT of as many new small files into a new folder
    let folder = format!("{base}/put-{}-{round}/", std::process::id());
    let r = dav(&clients[0], "MKCOL", &folder, &login).send().await?;
    expect(r, 201, "MKCOL").await?;
    let content = {
        let mut b = vec![0u8; SMALL_SIZE];
        rand::rng().fill_bytes(&mut b);
        Bytes::from(b)
    };
    let l = Arc::clone(&login);
    let put = timed_op(clients, args.small as usize, move |c, i| {
        let url = format!("{folder}{}", small_name(i));
        let body = content.clone();
        let login = Arc::clone(&l);
        async move {
            let r = c
                .put(&url)
                .basic_auth(&login, Some(PASSWORD))
                .body(body)
                .send()
                .await?;
            expect(r, 201, "PUT").await?;
            Ok(())
        }
    })
    .await?;
    Ok(DavTimes { propfind, get, put })
}

/// `total` requests over the clients (each takes the next index until none is left, one
/// request at a time on its connection); the wall time, or the first error.
async fn timed_op<F, Fut>(clients: &[reqwest::Client], total: usize, op: F) -> Result<Duration>
where
    F: Fn(reqwest::Client, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in clients {
        let (c, next, op) = (c.clone(), Arc::clone(&next), op.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok(());
                }
                op(c.clone(), i).await?;
            }
        });
    }
    let all = async {
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => bail!("client task: {e}"),
            }
        }
        Ok(())
    };
    match tokio::time::timeout(DAV_OP_DEADLINE, all).await {
        Ok(r) => r.map(|()| start.elapsed()),
        Err(_) => bail!(
            "{total} requests did not finish within {} s",
            DAV_OP_DEADLINE.as_secs()
        ),
    }
}

fn dav(c: &reqwest::Client, method: &str, url: &str, login: &str) -> reqwest::RequestBuilder {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    c.request(m, url).basic_auth(login, Some(PASSWORD))
}

/// The body of a response with the status `want` (201 also accepts 204, 200 also 203), or an
/// error naming the request and what came back.
async fn expect(r: reqwest::Response, want: u16, what: &str) -> Result<Bytes> {
    let status = r.status().as_u16();
    let url = r.url().to_string();
    let body = r.bytes().await.with_context(|| format!("{what} {url}"))?;
    let ok = status == want || (want == 201 && status == 204);
    if !ok {
        bail!(
            "{what} {url} answered {status}, not {want}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)]).trim()
        );
    }
    Ok(body)
}

/// How many `<response>` elements (any namespace prefix) a multistatus body has.
fn responses(body: &[u8]) -> usize {
    let text = String::from_utf8_lossy(body);
    let mut n = 0;
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("response>") {
        let before = &rest[..i];
        if let Some(lt) = before.rfind('<') {
            let tag = &before[lt + 1..];
            // a closing tag: "</" or "</prefix:"
            if tag == "/" || (tag.starts_with('/') && tag.ends_with(':') && !tag.contains(' ')) {
                n += 1;
            }
        }
        rest = &rest[i + "response>".len()..];
    }
    n
}

/// Apache httpd with mod_dav_fs serving a copy of the tree over HTTPS on loopback, from a
/// private configuration in a temp directory; killed when dropped.
struct Apache {
    child: Child,
    addr: SocketAddr,
    conf: PathBuf,
    version: String,
    _dir: tempfile::TempDir,
}

/// The user Apache's workers run as and who owns its copy of the tree (Apache refuses root).
const APACHE_USER: &str = "www-data";
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

impl Apache {
    fn start(ctx: &Bench, tree: &Path, login: &str) -> Result<Apache> {
        let bin = Path::new("/usr/sbin/apache2");
        if !bin.exists() {
            bail!(
                "{} is missing: install Debian's apache2 (scripts/bench files does: apt-get install apache2)",
                bin.display()
            );
        }
        let version = Command::new(bin)
            .arg("-v")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .and_then(|l| l.split_once("Apache/"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "(unknown version)".into());
        let dir = tempfile::Builder::new()
            .prefix("schola-bench-apache-")
            .tempdir()
            .context("cannot make a temp directory for Apache")?;
        let d = dir.path();
        // the workers (www-data) must reach the tree and the lock database
        set_mode(d, 0o755)?;
        let copy = d.join("tree");
        run_tool(
            Command::new("cp").arg("-a").arg(tree).arg(&copy),
            "cp -a (copying the tree for Apache)",
        )?;
        let lock = d.join("lock");
        let run = d.join("run");
        for p in [&lock, &run] {
            std::fs::create_dir(p).with_context(|| format!("cannot make {}", p.display()))?;
        }
        run_tool(
            Command::new("chown")
                .arg("-R")
                .arg(format!("{APACHE_USER}:{APACHE_USER}"))
                .arg(&copy)
                .arg(&lock),
            "chown (giving Apache's copy of the tree to www-data)",
        )?;
        let htpasswd = d.join("htpasswd");
        run_tool(
            Command::new("htpasswd")
                .arg("-c")
                .arg("-b")
                .arg("-m")
                .arg(&htpasswd)
                .arg(login)
                .arg(PASSWORD),
            "htpasswd (apache2-utils)",
        )?;
        // the same certificate and key as schola-web, so both pay the same handshake
        let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
        std::fs::copy(&ctx.cert, &cert)
            .with_context(|| format!("cannot copy {}", ctx.cert.display()))?;
        std::fs::copy(&ctx.key, &key)
            .with_context(|| format!("cannot copy {}", ctx.key.display()))?;
        let addr = server::free_port()?;
        let conf = d.join("apache2.conf");
        let text = apache_conf(d, &copy, &lock, &run, &htpasswd, &cert, &key, addr);
        std::fs::write(&conf, text).with_context(|| format!("cannot write {}", conf.display()))?;
        let log = d.join("apache2.out");
        let out = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("log file")?;
        let child = Command::new(bin)
            .arg("-f")
            .arg(&conf)
            .arg("-DFOREGROUND")
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut apache = Apache {
            child,
            addr,
            conf,
            version,
            _dir: dir,
        };
        apache.wait_ready(&ctx.cert, login)?;
        Ok(apache)
    }

    fn wait_ready(&mut self, cert: &Path, login: &str) -> Result<()> {
        let client = https_client(self.addr, cert, 1)?;
        let url = format!("https://{}/dav/home/", authority(self.addr));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a tokio runtime")?;
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().context("apache2")? {
                bail!(
                    "apache2 exited ({status}) before it was ready: {}",
                    self.logs()
                );
            }
            let r = rt.block_on(async {
                let r = dav(&client, "PROPFIND", &url, login)
                    .header("Depth", "0")
                    .send()
                    .await?;
                Ok::<_, anyhow::Error>(r.status().as_u16())
            });
            let last = match r {
                Ok(207) => return Ok(()),
                Ok(s) => format!("PROPFIND {url} answered {s}"),
                Err(e) => format!("{e:#}"),
            };
            if start.elapsed() > READY_TIMEOUT {
                bail!(
                    "apache2 was not ready after {} s (last: {last}): {}",
                    READY_TIMEOUT.as_secs(),
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let d = self._dir.path();
        let read = |n: &str| std::fs::read_to_string(d.join(n)).unwrap_or_default();
        let text = format!("{}{}", read("apache2.out"), read("error.log"));
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(20);
        lines[from..].iter().map(|l| format!("\n  | {l}")).collect()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        // SIGTERM lets the parent stop its workers; kill it if it does not
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(clippy::too_many_arguments)]
fn apache_conf(
    dir: &Path,
    tree: &Path,
    lock: &Path,
    run: &Path,
    htpasswd: &Path,
    cert: &Path,
    key: &Path,
    addr: SocketAddr,
) -> String {
    let m = APACHE_MODULES;
    let (dir, tree, lock, run, htpasswd, cert, key) = (
        dir.display(),
        tree.display(),
        lock.display(),
        run.display(),
        htpasswd.display(),
        cert.display(),
        key.display(),
    );
    format!(
        r#"# written by schola-bench files: Apache mod_dav as the peer of schola-files
ServerRoot "{dir}"
ServerName localhost
Listen {addr}
PidFile "{run}/apache2.pid"
DefaultRuntimeDir "{run}"
Mutex file:{run} default
ErrorLog "{dir}/error.log"
LogLevel warn
User {APACHE_USER}
Group {APACHE_USER}

LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authn_file_module {m}/mod_authn_file.so
LoadModule auth_basic_module {m}/mod_auth_basic.so
LoadModule alias_module {m}/mod_alias.so
LoadModule mime_module {m}/mod_mime.so
LoadModule dav_module {m}/mod_dav.so
LoadModule dav_fs_module {m}/mod_dav_fs.so
LoadModule socache_shmcb_module {m}/mod_socache_shmcb.so
LoadModule ssl_module {m}/mod_ssl.so

TypesConfig /etc/mime.types
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
Timeout 300
LimitRequestBody 0

SSLEngine on
SSLCertificateFile "{cert}"
SSLCertificateKeyFile "{key}"
SSLSessionCache "shmcb:{run}/ssl_scache(512000)"

DavLockDB "{lock}/DavLock"
DocumentRoot "{run}"
Alias /dav/home "{tree}"
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory "{tree}">
    Dav On
    Options None
    AllowOverride None
    AuthType Basic
    AuthName "schola-bench"
    AuthUserFile "{htpasswd}"
    Require valid-user
</Directory>
"#
    )
}

fn set_mode(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", p.display()))
}

/// Runs a tool to its end (within a minute); fails with its output when it fails.
fn run_tool(cmd: &mut Command, what: &str) -> Result<()> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {what}"))?;
    let status = wait_deadline(&mut child, Duration::from_secs(60), what)?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read as _;
            let _ = e.read_to_string(&mut err);
        }
        bail!("{what} failed ({status}): {}", err.trim());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// the HTTPS client

/// `localhost:PORT`: the name in the servers' certificate, resolved to `addr`.
fn authority(addr: SocketAddr) -> String {
    format!("{}:{}", schola_load::client::SERVER_NAME, addr.port())
}

/// An HTTP/1.1 client over TLS that trusts exactly the bench certificate, sends `localhost` to
/// `addr` (loopback only), and keeps up to `idle` connections alive.
fn https_client(addr: SocketAddr, cert: &Path, idle: usize) -> Result<reqwest::Client> {
    if !addr.ip().is_loopback() {
        bail!("{addr} is not a loopback address; the benchmark only targets this machine");
    }
    let pem = std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?;
    let cert = reqwest::Certificate::from_pem(&pem)
        .with_context(|| format!("{}: not a PEM certificate", cert.display()))?;
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .resolve(schola_load::client::SERVER_NAME, addr)
        .http1_only()
        .pool_max_idle_per_host(idle)
        .pool_idle_timeout(Duration::from_secs(600))
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .context("cannot build the HTTPS client")
}

/// One PUT of `len` bytes produced by [`Generated`], with Basic auth; its time.
async fn put_generated(
    client: &reqwest::Client,
    url: &str,
    login: &str,
    len: u64,
    block: Bytes,
) -> Result<Duration> {
    let t = Instant::now();
    let r = client
        .put(url)
        .basic_auth(login, Some(PASSWORD))
        .header(reqwest::header::CONTENT_LENGTH, len)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(reqwest::Body::wrap(Generated { left: len, block }))
        .send()
        .await
        .with_context(|| format!("PUT {url} as {login}"))?;
    expect(r, 201, &format!("PUT as {login}:")).await?;
    Ok(t.elapsed())
}

/// The stored size of `url`: `getcontentlength` of `PROPFIND Depth: 0` (what a WebDAV client
/// reads back; schola-files answers HEAD with Content-Length 0).
async fn stored_length(client: &reqwest::Client, url: &str, login: &str) -> Result<u64> {
    let r = dav(client, "PROPFIND", url, login)
        .header("Depth", "0")
        .body(PROPFIND_BODY)
        .send()
        .await
        .with_context(|| format!("PROPFIND {url}"))?;
    let body = expect(r, 207, "PROPFIND Depth 0").await?;
    let text = String::from_utf8_lossy(&body);
    content_length(&text)
        .with_context(|| format!("PROPFIND {url}: no getcontentlength in {}", text.trim()))
}

/// The number in the first `<...getcontentlength>N</...getcontentlength>` of a multistatus.
fn content_length(text: &str) -> Option<u64> {
    let start = text.find("getcontentlength>")? + "getcontentlength>".len();
    let rest = &text[start..];
    rest[..rest.find('<')?].trim().parse().ok()
}

/// The generator's block: 1 MiB of random bytes (nothing along the way can compress it or
/// skip zeros).
fn block() -> Bytes {
    let mut b = vec![0u8; BLOCK];
    rand::rng().fill_bytes(&mut b);
    Bytes::from(b)
}

/// A request body of `left` more bytes, made of slices of one shared block: whatever the
/// upload's size, the client holds one block.
struct Generated {
    left: u64,
    block: Bytes,
}

impl HttpBody for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 || self.block.is_empty() {
            return Poll::Ready(None);
        }
        let n = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(self.block.len());
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.block.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// `ext4 on /dev/vda` for the output, from `df`; `?` when it cannot be read.
fn filesystem_of(p: &Path) -> String {
    Command::new("df")
        .arg("--output=fstype,source")
        .arg(p)
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let line = text.lines().nth(1)?.to_string();
            let mut it = line.split_whitespace();
            Some(format!("{} on {}", it.next()?, it.next()?))
        })
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), 0.0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [400.0, 1300.0, 900.0, 1000.0]), 950.0);
        assert_eq!(list_rates(&[812.4, 640.0]), "812, 640 MiB/s");
    }

    #[test]
    fn reads_the_content_length_of_a_propfind() {
        let body = r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/home/x.bin</D:href><D:propstat><D:prop><D:getcontentlength>5000</D:getcontentlength></D:prop></D:propstat></D:response></D:multistatus>"#;
        assert_eq!(content_length(body), Some(5000));
        let plain = "<multistatus><getcontentlength> 7 </getcontentlength></multistatus>";
        assert_eq!(content_length(plain), Some(7));
        assert_eq!(content_length("<multistatus/>"), None);
    }

    #[test]
    fn counts_responses_whatever_the_prefix() {
        let body = br#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href></D:response><D:response><D:href>/b</D:href><D:responsedescription>x</D:responsedescription></D:response></D:multistatus>"#;
        assert_eq!(responses(body), 2);
        let plain = br#"<multistatus xmlns="DAV:"><response></response></multistatus>"#;
        assert_eq!(responses(plain), 1);
        assert_eq!(responses(b""), 0);
    }

    #[tokio::test]
    async fn the_generator_yields_exactly_the_length_in_block_slices() {
        let block = Bytes::from(vec![7u8; 1000]);
        let body = Generated {
            left: 2500,
            block: block.clone(),
        };
        assert_eq!(body.size_hint().exact(), Some(2500));
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(all.len(), 2500);
        assert!(all.iter().all(|b| *b == 7));
    }

    #[test]
    fn apache_conf_names_the_tree_and_the_port() {
        let addr: SocketAddr = "127.0.0.1:4443".parse().unwrap();
        let p = Path::new;
        let c = apache_conf(
            p("/t"),
            p("/t/tree"),
            p("/t/lock"),
            p("/t/run"),
            p("/t/htpasswd"),
            p("/t/cert.pem"),
            p("/t/key.pem"),
            addr,
        );
        assert!(c.contains("Listen 127.0.0.1:4443\n"));
        assert!(c.contains("Alias /dav/home \"/t/tree\""));
        assert!(c.contains("DavLockDB \"/t/lock/DavLock\""));
        assert!(c.contains("KeepAlive On"));
    }
}
