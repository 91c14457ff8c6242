//! The daemon's rounds: the drop folder and the purge of leavers after the grace period.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use schola_core::audit::Actor;
use schola_core::config::Config;
use schola_core::{ManualClock, Store};
use schola_dirsync::daemon::{SETTLE, purge_due, scan_drop_dir};
use schola_dirsync::letters::LetterStore;

const CSV: &str = "id,role,class,given_name,family_name\n1,student,5a,Anna,Müller\n2,student,5a,Jörg,Groß\n3,student,5b,,Weiß\n";

fn school(auto_apply: bool) -> (Config, Store, ManualClock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "profile = \"dev\"\n\n[auth.argon2]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n\n[import]\nauto_apply = {auto_apply}\n"
    );
    let path = dir.path().join("schola.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = Config::from_str_at(&path, &text).unwrap();
    std::fs::create_dir_all(cfg.import_drop_dir()).unwrap();
    let clock = ManualClock::new(1_788_246_000);
    let (store, _) = Store::open_with_clock(&cfg.database_path(), Arc::new(clock.clone())).unwrap();
    (cfg, store, clock, dir)
}

/// Drops `name` with `bytes`, as if copied there a while ago.
fn drop_file(cfg: &Config, name: &str, bytes: &[u8], age: Duration) {
    let path = cfg.import_drop_dir().join(name);
    std::fs::write(&path, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_dropped_export_waits_for_approval_and_a_file_still_being_copied_waits_too() {
    let (cfg, store, _clock, _dir) = school(false);
    drop_file(&cfg, "students.csv", CSV.as_bytes(), SETTLE * 2);
    drop_file(
        &cfg,
        "half-copied.csv",
        b"id,given_name,family_name\n",
        Duration::ZERO,
    );
    let round = scan_drop_dir(&cfg, &store, SystemTime::now()).unwrap();
    assert_eq!(round.prepared.len(), 1, "{round:?}");
    assert!(round.applied.is_empty());
    let (name, id) = &round.prepared[0];
    assert_eq!(name, "students.csv");
    let rec = store.import_record(*id).unwrap().unwrap();
    assert_eq!(rec.status, "pending");
    assert!(rec.plan.contains("the given name is empty"), "{}", rec.plan);
    // nobody was created: the admin approves first
    assert_eq!(store.count_people(None).unwrap(), 0);
    // the file moved out of the folder; the half-copied one stays for the next round
    assert_eq!(names_in(&cfg.import_drop_dir()), ["half-copied.csv"]);
    let processed = names_in(&cfg.import_drop_dir().parent().unwrap().join("processed"));
    assert!(processed[0].ends_with("-students.csv"), "{processed:?}");
}

#[test]
fn with_auto_apply_the_people_are_there_and_their_letters_wait_for_one_download() {
    let (cfg, store, _clock, _dir) = school(true);
    drop_file(&cfg, "students.csv", CSV.as_bytes(), SETTLE * 2);
    let round = scan_drop_dir(&cfg, &store, SystemTime::now()).unwrap();
    assert_eq!(round.applied.len(), 1, "{round:?}");
    assert_eq!(store.count_people(None).unwrap(), 2);
    assert!(store.person_by_login("joerg.gross").unwrap().is_some());
    let waiting = LetterStore::new(cfg.letters_dir())
        .list(store.now(), 86_400)
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].count, 2);
}

#[test]
fn a_file_that_is_no_export_is_set_aside_with_the_reason() {
    let (cfg, store, _clock, _dir) = school(true);
    drop_file(
        &cfg,
        "scan.csv",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        SETTLE * 2,
    );
    let round = scan_drop_dir(&cfg, &store, SystemTime::now()).unwrap();
    assert_eq!(round.failed.len(), 1);
    assert!(round.failed[0].1.contains("not a text file"), "{round:?}");
    let failed_dir = cfg.import_drop_dir().parent().unwrap().join("failed");
    let files = names_in(&failed_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let why = files.iter().find(|f| f.ends_with(".txt")).unwrap();
    let text = std::fs::read_to_string(failed_dir.join(why)).unwrap();
    assert!(text.contains("not a text file"), "{text}");
    assert!(store.list_imports(None, 10).unwrap().is_empty());
}

#[test]
fn leavers_are_purged_after_the_grace_period_not_before() {
    let (cfg, store, clock, _dir) = school(true);
    drop_file(&cfg, "students.csv", CSV.as_bytes(), SETTLE * 2);
    scan_drop_dir(&cfg, &store, SystemTime::now()).unwrap();
    store
        .disable_person(
            &Actor::cli(),
            "anna.mueller",
            cfg.directory.purge_grace_days,
        )
        .unwrap();
    clock.advance((cfg.directory.purge_grace_days - 1) * 86_400);
    assert_eq!(purge_due(&cfg, &store).unwrap(), 0);
    assert!(store.person_by_login("anna.mueller").unwrap().is_some());
    clock.advance(86_400);
    let head = store.journal_head().unwrap();
    assert_eq!(purge_due(&cfg, &store).unwrap(), 1);
    assert!(store.person_by_login("anna.mueller").unwrap().is_none());
    let purged = store.journal_since(head, 10).unwrap();
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0].kind, "person.purged");
    assert_eq!(purged[0].data["archive"], true);
    assert!(store.person_by_login("joerg.gross").unwrap().is_some());
}
