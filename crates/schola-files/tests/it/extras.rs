//! Hand-out/collect and the change-journal follower.

use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::directory::{NewPerson, Role};
use serde_json::json;

use crate::kit::{Server, now};

#[test]
fn hand_out_and_collect_with_a_late_student() {
    let s = Server::start();
    assert_eq!(
        s.post("tina.t", "/api/mkdir", json!({"path": "/home/Aufgabe"}))
            .status,
        201
    );
    assert_eq!(
        s.upload("tina.t", "/home/Aufgabe/blatt.txt", b"Aufgabe 1")
            .status,
        201
    );
    let deadline = now() + 3600;
    let req =
        json!({"group": "4b", "path": "/home/Aufgabe", "title": "Blatt 1", "deadline": deadline});
    // Students cannot hand out.
    assert_eq!(s.post("anna.a", "/api/handouts", req.clone()).status, 403);
    let r = s.post("tina.t", "/api/handouts", req);
    assert_eq!(r.status, 201, "{}", r.text());
    let h = r.json();
    assert_eq!(h["students"], json!(["anna.a", "ben.b"]));
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(s.names("anna.a", "/home/Handouts/Blatt 1"), ["blatt.txt"]);
    assert_eq!(s.names("ben.b", "/home/Handouts/Blatt 1"), ["blatt.txt"]);
    assert!(
        !s.home("tom.t").join("Handouts").exists(),
        "teachers get no copy"
    );
    assert_eq!(
        s.upload("anna.a", "/home/Handouts/Blatt 1/antwort.txt", b"anna")
            .status,
        201
    );
    assert_eq!(
        s.upload("ben.b", "/home/Handouts/Blatt 1/antwort.txt", b"ben")
            .status,
        201
    );
    // Ben's answer came after the deadline.
    let f = std::fs::File::options()
        .write(true)
        .open(s.home("ben.b").join("Handouts/Blatt 1/antwort.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs((deadline + 60) as u64))
        .unwrap();
    assert_eq!(
        s.post("anna.a", &format!("/api/handouts/{id}/collect"), json!({}))
            .status,
        404
    );
    let r = s.post("tina.t", &format!("/api/handouts/{id}/collect"), json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["late"], json!(["ben.b"]));
    assert_eq!(r.json()["collected"], json!(["anna.a", "ben.b"]));
    assert_eq!(
        s.names("tina.t", "/home/Collected/Blatt 1"),
        ["anna.a", "ben.b (late)"]
    );
    let got = std::fs::read(
        s.home("tina.t")
            .join("Collected/Blatt 1/ben.b (late)/antwort.txt"),
    )
    .unwrap();
    assert_eq!(got, b"ben");
    let list = s.get("tina.t", "/api/handouts").json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn the_journal_makes_homes_and_archives_those_of_purged_people() {
    let s = Server::start();
    let actor = Actor::system("test");
    s.store
        .create_person(
            &actor,
            NewPerson {
                login: Some("neu.n".into()),
                given_name: "Neu".into(),
                family_name: "N".into(),
                role: Some(Role::Student),
                ..Default::default()
            },
            &schola_core::login::LoginScheme::default(),
        )
        .unwrap();
    let home = s.home("neu.n");
    let wait = |f: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(
                Instant::now() < end,
                "timed out; log:\n{}",
                s.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait(&|| home.is_dir());
    // a new account is a change Samba must know: the root helper is asked for a run
    let request = s.state.join("samba-request").join("sync");
    wait(&|| request.is_file());
    std::fs::remove_file(&request).unwrap();
    std::fs::write(home.join("work.txt"), b"keep me").unwrap();
    s.store.disable_person(&actor, "neu.n", 0).unwrap();
    s.store.purge_person(&actor, "neu.n", 365).unwrap();
    wait(&|| !home.exists());
    wait(&|| request.is_file());
    let archived: Vec<_> = std::fs::read_dir(s.data.join("archive"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(archived.len(), 1);
    assert!(
        archived[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("neu.n-")
    );
    assert_eq!(
        std::fs::read(archived[0].join("work.txt")).unwrap(),
        b"keep me"
    );
}

#[test]
fn housekeeping_purges_old_trash_and_stale_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let layout = schola_files::layout::Layout::new(dir.path());
    layout.create().unwrap();
    let t = now();
    for (id, at) in [("old", t - 31 * 86_400), ("new", t - 86_400)] {
        let d = layout.trash("anna.a").join(id);
        std::fs::create_dir_all(d.join("item")).unwrap();
        let meta = json!({"path": format!("/home/{id}"), "deleted_at": at, "size": 0});
        std::fs::write(d.join("meta.json"), meta.to_string()).unwrap();
    }
    assert_eq!(schola_files::trash::purge_older(&layout, 30, t), 1);
    let left = schola_files::trash::list(&layout, "anna.a");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, "new");
    let up = layout.uploads();
    for (tok, at) in [("a".repeat(32), t - 25 * 3600), ("b".repeat(32), t - 3600)] {
        let state =
            json!({"person_id": 1, "path": "/home/x", "size": 10, "offset": 0, "updated_at": at});
        std::fs::write(up.join(format!("{tok}.json")), state.to_string()).unwrap();
        std::fs::write(up.join(format!("{tok}.part")), b"").unwrap();
    }
    schola_files::api::purge_stale_uploads(&layout, t);
    let mut names: Vec<_> = std::fs::read_dir(&up)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{}.json", "b".repeat(32)),
            format!("{}.part", "b".repeat(32))
        ]
    );
}

#[test]
fn sigterm_restart_over_a_stale_socket_check_and_man_page() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut s = Server::start();
    assert_eq!(s.upload("anna.a", "/home/a.txt", b"kept").status, 201);
    s.restart();
    assert_eq!(
        s.get("anna.a", "/api/download?path=/home/a.txt").body,
        b"kept"
    );
    let mode = std::fs::metadata(&s.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_schola-files"))
        .arg("--check")
        .arg("--config")
        .arg(s._dir.path().join("schola.toml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("config OK"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_schola-files"))
        .arg("--generate-man")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH schola-files 8"));
}
