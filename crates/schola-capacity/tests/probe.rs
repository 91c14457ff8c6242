//! The probe on the machine that runs the tests: real /proc, a real argon2 benchmark and a real
//! (small) disk benchmark in a temporary state directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use std::path::Path;
use std::time::Instant;

use schola_capacity::probe::{self, BENCH_PREFIX, ProbeOptions, ROLE_DATABASE, ROLE_FILES};
use schola_core::Config;

fn config(root: &Path) -> Config {
    let mut cfg = Config {
        profile: schola_core::config::Profile::Dev,
        ..Config::default()
    };
    cfg.paths.state_dir = root.join("state");
    cfg.paths.data_dir = root.join("data");
    std::fs::create_dir_all(&cfg.paths.state_dir).unwrap();
    std::fs::create_dir_all(&cfg.paths.data_dir).unwrap();
    cfg
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(BENCH_PREFIX))
        .collect()
}

#[test]
fn the_probe_measures_this_machine_within_its_budget() {
    let root = tempfile::tempdir().unwrap();
    let cfg = config(root.path());
    let opts = ProbeOptions {
        argon2_seconds: 1.0,
        disk_bench: true,
        disk_max_bytes: 16 << 20,
        disk_max_seconds: 2.0,
    };
    let t = Instant::now();
    let m = probe::probe(&cfg, 500, &opts);
    let took = t.elapsed().as_secs_f64();
    eprintln!("{}", serde_json::to_string_pretty(&m).unwrap());
    eprintln!("probe took {took:.1} s");

    assert!(m.cores >= 1);
    let a = m.argon2;
    assert_eq!(a.threads, m.cores, "one thread per core");
    assert!(a.verify_ms > 0.0 && a.verifies_per_sec > 0.0, "{a:?}");
    // all cores together cannot beat every core at the idle single-verify speed by much, and
    // even on a shared machine they manage a quarter of one core
    let one_core = 1_000.0 / a.verify_ms;
    assert!(
        a.verifies_per_sec <= one_core * a.threads as f64 * 1.5,
        "{a:?}: more than all cores can do"
    );
    assert!(
        a.verifies_per_sec >= one_core * 0.25,
        "{a:?}: implausibly slow"
    );
    assert!(a.seconds >= opts.argon2_seconds, "{a:?}");

    let mem = m.memory;
    assert!(mem.total > mem.available && mem.available > 0, "{mem:?}");
    assert!(mem.swap_free <= mem.swap_total, "{mem:?}");

    assert_eq!(
        m.filesystems.len(),
        1,
        "state and data share the temp dir's mount"
    );
    let fs = m.filesystem(ROLE_DATABASE).unwrap();
    assert!(fs.has_role(ROLE_FILES));
    assert!(fs.size > 0 && fs.free > 0 && fs.used > 0, "{fs:?}");
    let b = fs.bench.expect("the disk benchmark ran");
    assert!(
        b.bytes_written > 0 && b.bytes_written <= opts.disk_max_bytes,
        "{b:?}"
    );
    // the final fsyncs may run over the time budget a little
    assert!(b.seconds <= opts.disk_max_seconds + 3.0, "{b:?}");
    assert!(b.seq_write > 0.0 && b.fsyncs_per_sec > 0.0, "{b:?}");
    assert!(b.read_iops > 0.0 && b.write_iops > 0.0, "{b:?}");
    assert!(
        leftovers(&cfg.paths.state_dir).is_empty(),
        "the temporary file is gone"
    );

    assert!(m.open_files.soft >= 1 && m.open_files.hard >= m.open_files.soft);
    assert_eq!(
        m.open_files.web, m.open_files.hard,
        "a dev server runs schola-web by hand"
    );
    assert_eq!(m.limits.web_workers, m.cores);
    assert!(m.limits.all.iter().all(|l| l.source == "derived"));
    assert!(!m.hostname.is_empty() && !m.cpu_model.is_empty());
    assert!(m.uptime_secs.is_some_and(|u| u > 0));
    assert!(m.nics.iter().all(|n| n.name != "lo"));
    // argon2 ~1 s, the disk ≤ 2 s plus its fsyncs, the rest is reading /proc
    assert!(took < 10.0, "probe took {took:.1} s");
}

#[test]
fn without_the_disk_benchmark_nothing_is_written() {
    let root = tempfile::tempdir().unwrap();
    let cfg = config(root.path());
    let opts = ProbeOptions {
        argon2_seconds: 0.1,
        disk_bench: false,
        ..ProbeOptions::default()
    };
    let m = probe::probe(&cfg, 500, &opts);
    assert!(m.filesystems.iter().all(|f| f.bench.is_none()));
    assert!(m.argon2.verifies_per_sec > 0.0);
}
