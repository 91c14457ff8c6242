//! The Backup page and the portal's "restore my files" against the files the root-side backup
//! helper would read and write.

use schola_core::backups::{
    BackupPaths, CheckResult, Failure, LastBackup, Request, RunState, SnapshotInfo, Status,
};

use crate::kit::*;

const SET_UP: &str = "[backup]\nrepository = \"/media/backup/schola\"\npassword_file = \"/etc/schola/backup.pass\"\n";
/// 2026-11-24 02:00 UTC and the night before.
const NIGHT: i64 = 1_795_485_600;
const NIGHT_BEFORE: i64 = NIGHT - 86_400;
const SNAP: &str = "4f2a9c1e7b3d5a60c8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
const OLDER: &str = "0badc0de7b3d5a60c8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

fn paths(s: &Server) -> BackupPaths {
    BackupPaths::from_config(&schola_core::Config::load(&s.config_path).unwrap())
}

/// Two backups, then a night on which the disk was not plugged in.
fn status() -> Status {
    Status {
        repository: Some("/media/backup/schola".into()),
        action: Some("backup".into()),
        state: Some(RunState::Failed),
        started: Some(NIGHT + 86_400),
        finished: Some(NIGHT + 86_400 + 2),
        message: "the repository /media/backup/schola is not there".into(),
        first_attempt: Some(NIGHT_BEFORE),
        last_success: Some(LastBackup {
            time: NIGHT,
            snapshot: SNAP.into(),
            data_added: 1_572_864,
            total_bytes: 10 << 30,
            files_new: 12,
            files_changed: 3,
            duration_secs: 252.4,
        }),
        last_failure: Some(Failure {
            time: NIGHT + 86_400,
            message: "the repository /media/backup/schola is not there".into(),
            target_missing: true,
        }),
        last_check: Some(CheckResult {
            time: NIGHT,
            ok: true,
            message: "no errors were found".into(),
        }),
        snapshots: vec![
            SnapshotInfo {
                id: SNAP.into(),
                short_id: SNAP[..8].into(),
                time: NIGHT,
            },
            SnapshotInfo {
                id: OLDER.into(),
                short_id: OLDER[..8].into(),
                time: NIGHT_BEFORE,
            },
        ],
    }
}

fn set_up_server() -> (Server, BackupPaths) {
    let s = Server::start(SET_UP);
    let p = paths(&s);
    p.write_status(&status()).unwrap();
    (s, p)
}

async fn signed_in(s: &Server, login: &str, pw: &str) -> reqwest::Client {
    let c = s.client();
    assert_eq!(s.sign_in(&c, login, pw).await.status(), 303);
    c
}

async fn post(
    s: &Server,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(s.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn backup_page_shows_the_helpers_status_to_admins_only() {
    let (s, _) = set_up_server();
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let admin = s.page(&c, "/admin").await;
    assert!(
        admin.contains("href=\"/admin/backup\""),
        "in the admin menu"
    );
    // the start page says the last attempt failed
    let line = admin
        .split("id=\"backup-summary\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no backup line: {admin}"));
    assert!(
        line.contains("The backup of 25 Nov 2026 02:00 UTC failed: the backup disk was not there"),
        "{line}"
    );
    let body = s.page(&c, "/admin/backup").await;
    assert!(body.contains("<code>/media/backup/schola</code>"), "{body}");
    assert!(
        body.contains("24 Nov 2026 02:00 UTC: 1.5 MiB added, took 4 min 12 s"),
        "{body}"
    );
    // the failure is after the last success, and the disk was missing
    assert!(
        body.contains("The backup of 25 Nov 2026 02:00 UTC failed:"),
        "{body}"
    );
    assert!(body.contains("the backup disk was not there. It is tried again every hour"));
    assert!(body.contains("24 Nov 2026 02:00 UTC: all right"));
    // the list of backups, newest first, with their short ids, and in both restore forms
    let list = &body[body.find("id=\"backup-list\"").unwrap()..];
    let (new, old) = (
        list.find("<code>4f2a9c1e</code>"),
        list.find("<code>0badc0de</code>"),
    );
    assert!(new.is_some() && new < old, "{list}");
    assert!(list.contains("23 Nov 2026 02:00 UTC"));
    assert_eq!(
        body.matches(&format!("<option value=\"{SNAP}\"")).count(),
        2
    );
    assert!(body.contains("Restored &lt;date&gt;") || body.contains("Restored &#60;date&#62;"));
    assert!(
        !body.contains("http-equiv=\"refresh\""),
        "nothing runs: no reload"
    );

    // a run in progress is shown and the page follows it
    let mut running = status();
    running.state = Some(RunState::Running);
    running.action = Some("restore-mailbox".into());
    running.started = Some(NIGHT + 90_000);
    paths(&s).write_status(&running).unwrap();
    // the helper holds its lock while it runs (flock, as scholactl's helper takes it)
    let lock = std::fs::File::create(paths(&s).status_dir.join("lock")).unwrap();
    lock.lock().unwrap();
    let body = s.page(&c, "/admin/backup").await;
    assert!(
        body.contains("Running now: restore of a mailbox, since 25 Nov 2026 03:00 UTC."),
        "{body}"
    );
    assert!(body.contains("<meta http-equiv=\"refresh\""));
    // killed: "running" in the status, but nobody holds the lock
    drop(lock);
    let body = s.page(&c, "/admin/backup").await;
    assert!(!body.contains("Running now"), "{body}");
    assert!(
        body.contains(
            "The restore of a mailbox started 25 Nov 2026 03:00 UTC stopped before it finished"
        ),
        "{body}"
    );

    for (login, pw) in [
        ("joerg.mueller", STUDENT_PW),
        ("anke.lehmann", "Tafelkreide-7"),
    ] {
        let other = signed_in(&s, login, pw).await;
        let r = other.get(s.url("/admin/backup")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{login}");
        let csrf = s.csrf(&other, "/").await;
        let r = post(
            &s,
            &other,
            "/admin/backup",
            &[("csrf", &csrf), ("action", "run")],
        )
        .await;
        assert_eq!(r.status(), 403, "{login}");
        assert!(!paths(&s).request().exists());
    }
}

#[tokio::test]
async fn without_a_backup_the_page_says_how_and_the_portal_offers_no_restore() {
    let s = Server::start("");
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let body = s.page(&c, "/admin/backup").await;
    assert!(
        body.contains("No backup is set up on this server."),
        "{body}"
    );
    assert!(body.contains("scholactl backup init") && body.contains("password_file"));
    let csrf = hidden_csrf(&body).unwrap();
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[("csrf", &csrf), ("action", "run")],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(!paths(&s).request().exists());

    let student = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    assert!(!s.page(&student, "/files").await.contains("/files/restore"));
    let r = student.get(s.url("/files/restore")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn back_up_now_needs_the_form_token_and_leaves_one_request() {
    let (s, p) = set_up_server();
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let csrf = s.csrf(&c, "/admin/backup").await;
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[("csrf", "forged"), ("action", "run")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(!p.request().exists(), "nothing asked without the token");
    let r = c
        .post(s.url("/admin/backup"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("action", "run")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!p.request().exists(), "nothing asked from another site");
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[("csrf", &csrf), ("action", "reboot")],
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[("csrf", &csrf), ("action", "run")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/admin/backup?asked=1");
    let body = s.page(&c, "/admin/backup?asked=1").await;
    assert!(
        body.contains("Asked. The result shows here when it is done."),
        "{body}"
    );
    assert!(body.contains("A request is waiting for the backup helper"));
    // one request at a time
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[("csrf", &csrf), ("action", "run")],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("already waiting"));
    assert_eq!(p.take_request().unwrap(), Some(Request::Run));

    let log = s.store().audit_log(Some("backup."), 10, 0).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "admin");
}

#[tokio::test]
async fn backup_restore_with_a_bad_path_or_an_unknown_login_is_refused_and_says_why() {
    let (s, p) = set_up_server();
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let csrf = s.csrf(&c, "/admin/backup").await;
    let files = |login: &'static str, snapshot: &'static str, path: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("action", "files".to_string()),
            ("login", login.to_string()),
            ("snapshot", snapshot.to_string()),
            ("path", path.to_string()),
        ]
    };
    let r = c
        .post(s.url("/admin/backup"))
        .form(&files("joerg.mueller", SNAP, "../x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("The path ../x does not stay inside the person"),
        "{body}"
    );
    // the form comes back as it was sent
    assert!(
        body.contains("id=\"files-path\" name=\"path\" value=\"../x\""),
        "{body}"
    );
    assert!(body.contains(&format!("<option value=\"{SNAP}\" selected>")));

    let r = c
        .post(s.url("/admin/backup"))
        .form(&files("nobody.here", SNAP, "Documents"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("There is no person with the login nobody.here."),
        "{body}"
    );
    let r = c
        .post(s.url("/admin/backup"))
        .form(&files("joerg.mueller", "deadbeefdeadbeef", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose a backup from the list.")
    );
    assert!(!p.request().exists(), "nothing was asked");

    // the mailbox of a person who exists, from a backup of the list
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[
            ("csrf", &csrf),
            ("action", "mailbox"),
            ("login", "Joerg.Mueller "),
            ("snapshot", OLDER),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        p.take_request().unwrap(),
        Some(Request::RestoreMailbox {
            snapshot: OLDER.into(),
            login: "joerg.mueller".into(),
        })
    );
    let r = c
        .post(s.url("/admin/backup"))
        .form(&files("anke.lehmann", SNAP, "/Unterricht/4b/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        p.take_request().unwrap(),
        Some(Request::RestoreFiles {
            snapshot: SNAP.into(),
            login: "anke.lehmann".into(),
            path: "/Unterricht/4b/".into(),
            language: None,
        })
    );
}

#[tokio::test]
async fn portal_restore_asks_for_the_sessions_own_files_only() {
    let (s, p) = set_up_server();
    let c = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    assert!(
        s.page(&c, "/files")
            .await
            .contains("href=\"/files/restore\""),
        "the files page links to it"
    );
    let body = s.page(&c, "/files/restore").await;
    assert!(body.contains("Restore my files"), "{body}");
    assert!(body.contains(&format!(
        "<option value=\"{SNAP}\">24 Nov 2026 02:00 UTC</option>"
    )));
    let csrf = hidden_csrf(&body).unwrap();

    let r = post(
        &s,
        &c,
        "/files/restore",
        &[("csrf", "forged"), ("snapshot", SNAP), ("path", "")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post(
        &s,
        &c,
        "/files/restore",
        &[
            ("csrf", &csrf),
            ("snapshot", SNAP),
            ("path", "../anke.lehmann"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("does not stay inside your files")
    );
    assert!(!p.request().exists());

    // a login in the form is not read: the session's own is asked for
    let r = post(
        &s,
        &c,
        "/files/restore",
        &[
            ("csrf", &csrf),
            ("snapshot", SNAP),
            ("path", "Dokumente"),
            ("login", "anke.lehmann"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, format!("/files/restore?asked={SNAP}"));
    let body = s.page(&c, &to).await;
    assert!(
        body.contains("Restored 2026-11-24 0200"),
        "the folder the files land in is named: {body}"
    );
    assert_eq!(
        p.take_request().unwrap(),
        Some(Request::RestoreFiles {
            snapshot: SNAP.into(),
            login: "joerg.mueller".into(),
            path: "Dokumente".into(),
            // the helper names the folder as this (English) page announced it
            language: Some(schola_core::directory::Language::En),
        })
    );
    let log = s.store().audit_log(Some("backup."), 10, 0).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "joerg.mueller");
}

#[tokio::test]
async fn the_backup_is_set_up_on_the_page_and_its_recovery_sheet_printed() {
    let s = Server::start("");
    let p = paths(&s);
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let body = s.page(&c, "/admin/backup").await;
    assert!(body.contains("Set up the backup"), "{body}");
    let csrf = hidden_csrf(&body).unwrap();
    let setup = async |target: &str| {
        post(
            &s,
            &c,
            "/admin/backup",
            &[("csrf", &csrf), ("action", "setup"), ("target", target)],
        )
        .await
    };
    let r = setup("media/backup").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap().replace("&#39;", "'");
    assert!(body.contains("must be a folder's full path"), "{body}");
    assert!(
        body.contains("value=\"media/backup\""),
        "what was typed is kept"
    );
    assert_eq!(s.store().backup_target().unwrap(), None);
    assert!(!p.request().exists());

    let r = setup("/media/backup/schola").await;
    assert_eq!(location(&r), "/admin/backup?asked=1");
    assert_eq!(
        s.store().backup_target().unwrap().as_deref(),
        Some("/media/backup/schola")
    );
    assert_eq!(p.take_request().unwrap(), Some(Request::Init));
    let phrase = std::fs::read_to_string(s.dir.path().join("state/backup.pass")).unwrap();
    let phrase = phrase.trim();
    assert_eq!(phrase.len(), 29, "{phrase}");

    let body = s.page(&c, "/admin/backup").await;
    assert!(body.contains("<code>/media/backup/schola</code>"), "{body}");
    assert!(
        body.contains("href=\"/admin/backup/recovery-sheet.pdf\""),
        "{body}"
    );
    assert!(
        !body.contains(phrase),
        "the passphrase is only on the sheet, not on the page"
    );
    let r = c
        .get(s.url("/admin/backup/recovery-sheet.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let pdf = r.bytes().await.unwrap();
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(has(phrase.as_bytes()), "the passphrase is on the sheet");
    assert!(has(b"/media/backup/schola"));
    assert!(has(b"Backup recovery sheet"));

    // nobody else gets it
    let student = signed_in(&s, "joerg.mueller", STUDENT_PW).await;
    let r = student
        .get(s.url("/admin/backup/recovery-sheet.pdf"))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert!(!body.windows(phrase.len()).any(|w| w == phrase.as_bytes()));

    // an SFTP target: the page shows the key Schola signs in with (made by the helper)
    let r = setup("sftp:backup@nas.schule.example:/srv/schola").await;
    assert_eq!(location(&r), "/admin/backup?asked=1");
    p.take_request().unwrap();
    std::fs::create_dir_all(&p.status_dir).unwrap();
    std::fs::write(
        p.status_dir.join("id_ed25519.pub"),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest schola-backup@test\n",
    )
    .unwrap();
    let body = s.page(&c, "/admin/backup").await;
    assert!(
        body.contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest schola-backup@test"),
        "{body}"
    );
    let new_phrase = std::fs::read_to_string(s.dir.path().join("state/backup.pass")).unwrap();
    assert_ne!(
        new_phrase.trim(),
        phrase,
        "a new place gets a new passphrase"
    );
    let kept = std::fs::read_dir(s.dir.path().join("state"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("backup.pass.")
        })
        .count();
    assert_eq!(kept, 1, "the old passphrase is kept beside it");
}

#[tokio::test]
async fn a_backup_set_in_the_configuration_is_not_changed_on_the_page() {
    let (s, p) = set_up_server();
    let c = signed_in(&s, "admin", ADMIN_PW).await;
    let body = s.page(&c, "/admin/backup").await;
    assert!(
        body.contains("scholactl backup recovery-sheet"),
        "root's passphrase file: printed on the server: {body}"
    );
    assert!(!body.contains("name=\"target\""), "no form to change it");
    let csrf = hidden_csrf(&body).unwrap();
    let r = post(
        &s,
        &c,
        "/admin/backup",
        &[
            ("csrf", &csrf),
            ("action", "setup"),
            ("target", "/mnt/other"),
        ],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("set in the configuration file")
    );
    assert_eq!(s.store().backup_target().unwrap(), None);
    assert!(!p.request().exists());
}
