//! Integration tests of schola-web: the real binary over real HTTPS. One test binary for the
//! crate (see kit.rs for the harness); add new tests here or in a module under tests/it/,
//! never as new files directly in tests/ (each of those is another binary to link).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod admin_pages;
mod assets;
mod autoconfig;
mod backup;
mod capacity;
mod files;
mod groups;
mod import;
mod kit;
mod metrics;
mod people;
mod portal;
mod restore;
mod settings;
mod slowloris;
mod upstream;
mod webmail;
mod wizard;

use std::net::IpAddr;
use std::time::Duration;

use kit::*;
use schola_core::audit::Actor;

#[tokio::test]
async fn health_and_readiness() {
    let s = Server::start("");
    let c = s.client();
    assert_eq!(s.page(&c, "/healthz").await, "ok");
    let r = c.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn fresh_server_leads_to_setup_which_needs_the_console_code() {
    let (dir, path) = school_dir("");
    let s = Server::start_in(dir, path);
    assert!(
        s.log.lock().unwrap().contains("setup code"),
        "the setup code is printed"
    );
    let c = s.client();
    for page in ["/", "/login", "/admin"] {
        let r = c.get(s.url(page)).send().await.unwrap();
        let loc = location(&r);
        assert!(loc == "/setup" || loc == "/login", "{page} -> {loc}");
        if loc == "/login" {
            assert_eq!(
                location(&c.get(s.url("/login")).send().await.unwrap()),
                "/setup"
            );
        }
    }
    let csrf = s.csrf(&c, "/setup").await;
    let form = |code: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("setup_code", code.to_string()),
            ("school_name", "Realschule Überlingen".to_string()),
            ("mail_domain", "rs-ueberlingen.example".to_string()),
            ("admin_login", "admin".to_string()),
            ("password", "Leuchtturm-77".to_string()),
            ("password_confirm", "Leuchtturm-77".to_string()),
        ]
    };
    let r = c
        .post(s.url("/setup"))
        .form(&form("aaaa-bbbb-cccc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("setup code is wrong"));
    assert!(
        !s.store().has_admin().unwrap(),
        "nothing stored after a wrong code"
    );

    let code = std::fs::read_to_string(s.dir.path().join("state/setup-code")).unwrap();
    let r = c
        .post(s.url("/setup"))
        .form(&form(code.trim()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(s.store().school().unwrap().name, "Realschule Überlingen");
    assert!(
        !s.dir.path().join("state/setup-code").exists(),
        "the code is gone once used"
    );
    // setup is closed now, and the new admin can sign in
    assert_eq!(
        location(&c.get(s.url("/setup")).send().await.unwrap()),
        "/login"
    );
    let r = s.sign_in(&c, "admin", "Leuchtturm-77").await;
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn admin_signs_in_sees_people_and_signs_out() {
    let s = Server::start("");
    let c = s.client();
    let r = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(location(&r), "/login");
    let r = s.sign_in(&c, "admin", ADMIN_PW).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-schola_session="), "{cookie}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
    let token = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert_eq!(token.len(), 43, "256-bit token");

    assert_eq!(location(&c.get(s.url("/")).send().await.unwrap()), "/admin");
    let r = c.get(s.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("joerg.mueller") && page.contains("Jörg Müller"),
        "{page}"
    );
    assert!(page.contains("Klasse 4b"));

    let csrf = hidden_csrf(&page).unwrap();
    let r = c
        .post(s.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
    assert_eq!(
        location(&c.get(s.url("/admin")).send().await.unwrap()),
        "/login"
    );

    // the old cookie is dead on the server, not only deleted in the browser
    let replay = s.client();
    let r = replay
        .get(s.url("/admin"))
        .header("cookie", format!("__Host-schola_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
}

#[tokio::test]
async fn student_sees_own_start_page_and_no_admin_pages() {
    let s = Server::start("");
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let page = s.page(&c, "/").await;
    assert!(page.contains("Welcome, Jörg Müller"), "{page}");
    assert!(page.contains("Klasse 4b"));
    assert!(
        !page.contains("href=\"/admin"),
        "a student is shown no link to the administration: {page}"
    );
    let profile = s.page(&c, "/profile").await;
    assert!(
        profile.contains("joerg.mueller@see.schule.example"),
        "{profile}"
    );
    for path in ["/admin", "/admin/updates"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("This page is for the school&#39;s administrators.")
                || body.contains("This page is for the school&#x27;s administrators."),
            "{body}"
        );
    }

    let t = s.client();
    assert_eq!(
        s.sign_in(&t, "anke.lehmann", "Tafelkreide-7")
            .await
            .status(),
        303
    );
    let page = s.page(&t, "/").await;
    assert!(
        page.contains("Classes and groups you teach") && page.contains("Klasse 4b"),
        "{page}"
    );
}

#[tokio::test]
async fn wrong_password_unknown_login_and_disabled_account_are_refused_alike() {
    let s = Server::start("");
    let c = s.client();
    for (login, pw) in [
        ("joerg.mueller", "wrong-password"),
        ("nobody.here", STUDENT_PW),
    ] {
        let r = s.sign_in(&c, login, pw).await;
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("set-cookie").is_none());
        let body = r.text().await.unwrap();
        assert!(
            body.contains("role=\"alert\"") && body.contains("The login or the password is wrong."),
            "{body}"
        );
    }
    s.store()
        .disable_person(&Actor::system("test"), "joerg.mueller", 90)
        .unwrap();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        401
    );
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_change_nothing() {
    let s = Server::start("");
    // no cookie at all
    let c = s.client();
    let r = c
        .post(s.url("/login"))
        .form(&[("csrf", "x"), ("login", "admin"), ("password", ADMIN_PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // cookie present, token in the form differs
    let _ = s.csrf(&c, "/login").await;
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", "forged"),
            ("login", "admin"),
            ("password", ADMIN_PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // right token but posted from another site
    let csrf = s.csrf(&c, "/login").await;
    let r = c
        .post(s.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "admin"),
            ("password", ADMIN_PW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // sign-out needs the session's token
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let r = c
        .post(s.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        c.get(s.url("/admin")).send().await.unwrap().status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn hundred_wrong_passwords_slow_the_guesser_but_not_the_owner() {
    let s = Server::start("");
    let guesser = s.client_from(Some("127.0.0.1".parse::<IpAddr>().unwrap()));
    let mut deferred = 0;
    for i in 0..100 {
        let r = s
            .sign_in(&guesser, "joerg.mueller", &format!("guess-{i}"))
            .await;
        match r.status().as_u16() {
            401 => {}
            429 => {
                let wait: i64 = r
                    .headers()
                    .get("retry-after")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(wait > 0);
                assert!(r.text().await.unwrap().contains("Please wait"));
                deferred += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(deferred > 80, "most guesses were turned away ({deferred})");
    // even the right password from the guesser's device waits now
    assert_eq!(
        s.sign_in(&guesser, "joerg.mueller", STUDENT_PW)
            .await
            .status(),
        429
    );
    // the owner, from another device, gets in within 30 s
    let owner = s.client_from(Some("127.0.0.2".parse::<IpAddr>().unwrap()));
    let took = eventually(30, async || {
        s.sign_in(&owner, "joerg.mueller", STUDENT_PW)
            .await
            .status()
            == 303
    })
    .await;
    assert!(took.is_some(), "the owner could not sign in within 30 s");
}

#[tokio::test]
async fn idle_session_expires() {
    let s = Server::start("[auth]\nsession_idle_secs = 2\n");
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    assert_eq!(c.get(s.url("/")).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(location(&c.get(s.url("/")).send().await.unwrap()), "/login");
}

#[tokio::test]
async fn password_change_ends_existing_sessions() {
    let s = Server::start("");
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let store = s.store();
    let p = store.require_person("joerg.mueller").unwrap();
    let h = schola_core::password::hash_password_for(FAST, "Neues-Passwort-9").unwrap();
    store
        .set_password_hash(&Actor::system("test"), p.id, &h)
        .unwrap();
    assert_eq!(location(&c.get(s.url("/")).send().await.unwrap()), "/login");
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        401
    );
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", "Neues-Passwort-9")
            .await
            .status(),
        303
    );
}

/// Passwords set before SMB support have no NT hash; the first portal sign-in stores it, a
/// failed one does not.
#[tokio::test]
async fn signin_stores_a_missing_smb_password() {
    let s = Server::start("");
    let store = s.store();
    let p = store.require_person("joerg.mueller").unwrap();
    store
        .conn()
        .unwrap()
        .execute("DELETE FROM smb_secrets WHERE person_id = ?1", [p.id])
        .unwrap();
    assert!(!store.has_smb_secret(p.id).unwrap());
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", "falsch-1").await.status(),
        401
    );
    assert!(!store.has_smb_secret(p.id).unwrap());
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let nt = store
        .smb_people()
        .unwrap()
        .into_iter()
        .find(|x| x.id == p.id)
        .and_then(|x| x.nt_hash);
    assert_eq!(nt, Some(schola_core::password::nt_hash(STUDENT_PW)));
}

#[tokio::test]
async fn names_are_escaped_in_pages() {
    let s = Server::start("");
    let store = s.store();
    store
        .create_person(
            &Actor::system("test"),
            schola_core::directory::NewPerson {
                login: Some("mallory".into()),
                given_name: "<script>alert(1)</script>".into(),
                family_name: "\"Quote\" & Co".into(),
                ..Default::default()
            },
            &schola_core::login::LoginScheme::default(),
        )
        .unwrap();
    let c = s.client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let page = s.page(&c, "/admin?q=mallory").await;
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            || page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
}

#[tokio::test]
async fn admin_people_list_searches_filters_and_pages() {
    let s = Server::start("");
    let store = s.store();
    let scheme = schola_core::login::LoginScheme::default();
    store
        .batch(&Actor::system("test"), |b| {
            for i in 0..120 {
                b.create_person(
                    &schola_core::directory::NewPerson {
                        given_name: format!("Kind{i:03}"),
                        family_name: "Özdemir".into(),
                        ..Default::default()
                    },
                    &scheme,
                )?;
            }
            Ok(())
        })
        .unwrap();
    let c = s.client();
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
    let page = s.page(&c, "/admin?q=%C3%96zdemir").await;
    assert!(
        page.contains("120 people match") && page.contains("Page 1 of 3"),
        "{page}"
    );
    let next = page
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap();
    assert!(
        next.starts_with("/admin?page=2") && next.contains("q=%C3%96zdemir"),
        "{next}"
    );
    let page = s.page(&c, "/admin?role=teacher").await;
    assert!(
        page.contains("1 person matches") && page.contains("anke.lehmann"),
        "{page}"
    );
}

#[test]
fn bad_config_stops_the_server_with_file_line_and_key() {
    let (dir, path) = school_dir("[directory]\nlogin_shceme = \"{given}\"\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_schola-web"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let main = path.display().to_string();
    assert!(
        err.contains(&format!("{main}:9:")) && err.contains("login_shceme"),
        "{err}"
    );
    drop(dir);
}

#[test]
fn database_from_a_newer_schola_is_refused() {
    let (dir, path) = school_dir("");
    let store = open_store(&path);
    drop(store);
    let db = dir.path().join("state/schola.db");
    let conn = rusqlite_free_bump(&db);
    assert!(conn);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_schola-web"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer Schola"), "{err}");
}

/// Sets `user_version` to 99 through the sqlite3 command line tool (installed by
/// scripts/install-test-deps), standing in for a database written by a future Schola.
fn rusqlite_free_bump(db: &std::path::Path) -> bool {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("PRAGMA user_version = 99;")
        .output()
        .expect("sqlite3 is needed for this test: run scripts/install-test-deps");
    out.status.success()
}

#[test]
fn only_tls_1_2_and_1_3_are_offered() {
    let s = Server::start("");
    let hostport = s.url.trim_start_matches("https://").to_string();
    let handshake = |version: &str| {
        let out = std::process::Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &hostport,
                version,
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
                "-brief",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl is needed for this test: run scripts/install-test-deps");
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        (
            out.status.success() && text.contains("CONNECTION ESTABLISHED"),
            text,
        )
    };
    for ok in ["-tls1_2", "-tls1_3"] {
        let (connected, text) = handshake(ok);
        assert!(connected, "{ok} should work:\n{text}");
    }
    for old in ["-tls1", "-tls1_1"] {
        let (connected, text) = handshake(old);
        assert!(!connected, "{old} must be refused:\n{text}");
    }
}

#[test]
fn tells_systemd_it_is_ready_only_once_it_listens() {
    let (dir, path) = school_dir("");
    populate(&open_store(&path));
    let sock_path = dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let s = Server::start_with_env(dir, path, &[("NOTIFY_SOCKET", sock_path.as_os_str())]);
    let mut buf = [0u8; 256];
    let n = sock
        .recv(&mut buf)
        .expect("no sd_notify message within 30 s");
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(msg.contains("READY=1"), "{msg}");
    // ready means: a client can connect right now
    let addr = s.url.trim_start_matches("https://");
    std::net::TcpStream::connect(addr).expect("the listener is bound when READY is sent");
}

#[tokio::test]
async fn an_admin_made_by_scholactl_closes_the_setup_page_at_once() {
    let (dir, path) = school_dir("");
    let s = Server::start_in(dir, path);
    let c = s.client();
    assert_eq!(
        location(&c.get(s.url("/login")).send().await.unwrap()),
        "/setup"
    );
    populate(&s.store());
    assert_eq!(c.get(s.url("/login")).send().await.unwrap().status(), 200);
    assert_eq!(
        location(&c.get(s.url("/setup")).send().await.unwrap()),
        "/login"
    );
    assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
}

mod updates {
    //! The Updates page against the files the privileged helper would write.

    use super::*;
    use schola_core::updates::{Action, PackageVersion, RunState, Status, UpdatePaths};

    fn paths(s: &Server) -> UpdatePaths {
        UpdatePaths::from_config(&schola_core::Config::load(&s.config_path).unwrap())
    }

    async fn admin(s: &Server) -> reqwest::Client {
        let c = s.client();
        assert_eq!(s.sign_in(&c, "admin", ADMIN_PW).await.status(), 303);
        c
    }

    async fn post(s: &Server, c: &reqwest::Client, csrf: &str, action: &str) -> reqwest::Response {
        c.post(s.url("/admin/updates"))
            .form(&[("csrf", csrf), ("action", action)])
            .send()
            .await
            .unwrap()
    }

    fn available() -> Status {
        Status {
            action: Some(Action::Check),
            state: Some(RunState::Succeeded),
            started: Some(1_795_420_000),
            finished: Some(1_795_420_030),
            message: "1 upgrade is available.".into(),
            packages: vec![
                PackageVersion {
                    package: "schola-common".into(),
                    installed: "0.1.0".into(),
                    available: Some("0.2.0".into()),
                },
                PackageVersion {
                    package: "schola-web".into(),
                    installed: "0.1.0".into(),
                    available: None,
                },
            ],
            checked: Some(1_795_420_030),
            changelog:
                "schola (0.2.0) stable; urgency=medium\n\n  * New <script>alert(1)</script> page."
                    .into(),
        }
    }

    #[tokio::test]
    async fn without_the_update_directory_updates_are_not_managed_here() {
        let s = Server::start("");
        let c = admin(&s).await;
        let body = s.page(&c, "/admin/updates").await;
        assert!(
            body.contains("Updates are not managed on this server"),
            "{body}"
        );
        let csrf = hidden_csrf(&body).unwrap();
        let r = post(&s, &c, &csrf, "check").await;
        assert_eq!(r.status(), 409);
        assert!(!paths(&s).request().exists());
        // students and teachers never see it
        let student = s.client();
        s.sign_in(&student, "joerg.mueller", STUDENT_PW).await;
        let r = student.get(s.url("/admin/updates")).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = student
            .get(s.url("/admin/updates/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }

    #[tokio::test]
    async fn shows_versions_and_changelog_and_asks_the_helper_once() {
        let s = Server::start("");
        let p = paths(&s);
        std::fs::create_dir_all(&p.update_dir).unwrap();
        p.write_status(&available()).unwrap();
        let c = admin(&s).await;
        let body = s.page(&c, "/admin/updates").await;
        assert!(
            body.contains("<td>schola-common</td><td>0.1.0</td><td><strong>0.2.0</strong></td>"),
            "{body}"
        );
        assert!(body.contains("<td>schola-web</td><td>0.1.0</td><td>up to date</td>"));
        assert!(
            body.contains("New &#60;script&#62;alert(1)&#60;/script&#62; page."),
            "the changelog is escaped: {body}"
        );
        assert!(body.contains("Install the upgrade"));
        assert!(body.contains("Last checked: 23 Nov 2026 "), "{body}");

        // without the page's token nothing is asked
        let r = post(&s, &c, "forged", "upgrade").await;
        assert_eq!(r.status(), 403);
        assert!(!p.request().exists());
        let csrf = hidden_csrf(&body).unwrap();
        let r = post(&s, &c, &csrf, "reboot").await;
        assert_eq!(r.status(), 400);
        assert!(!p.request().exists());

        let r = post(&s, &c, &csrf, "upgrade").await;
        assert_eq!(r.status(), 303);
        assert_eq!(std::fs::read_to_string(p.request()).unwrap(), "upgrade\n");
        let body = s.page(&c, "/admin/updates").await;
        assert!(
            body.contains("Waiting for the update helper to start"),
            "{body}"
        );
        assert!(body.contains("data-busy=\"true\""));
        assert!(body.contains("<noscript><meta http-equiv=\"refresh\""));
        // one request at a time
        let r = post(&s, &c, &csrf, "check").await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("already in progress"));
        assert_eq!(p.take_request().unwrap(), Some(Action::Upgrade));

        let log = s.store().audit_log(Some("update."), 10, 0).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].actor, "admin");
        assert!(log[0].detail.contains("upgrade"));
    }

    /// A server whose update directory says an upgrade is running.
    fn running_upgrade() -> (Server, UpdatePaths, Status) {
        let s = Server::start("");
        let p = paths(&s);
        std::fs::create_dir_all(&p.update_dir).unwrap();
        let mut st = available();
        st.action = Some(Action::Upgrade);
        st.state = Some(RunState::Running);
        st.finished = None;
        p.write_status(&st).unwrap();
        (s, p, st)
    }

    #[tokio::test]
    async fn a_run_that_was_killed_is_shown_as_interrupted() {
        let (s, p, _) = running_upgrade();
        let c = admin(&s).await;
        // a helper holds the lock: running
        let lock = p.lock_exclusive().unwrap().unwrap();
        let body = s.page(&c, "/admin/updates").await;
        assert!(body.contains("<dd id=\"run-state\">Running</dd>"), "{body}");
        drop(lock);
        // no one holds it any more, yet the status says running
        let body = s.page(&c, "/admin/updates").await;
        assert!(
            body.contains("The run was interrupted before it finished"),
            "{body}"
        );
        assert!(body.contains("data-busy=\"false\""));
    }

    /// Reads the event stream until `want` appears (or the stream ends), returning all of it.
    async fn read_until(r: &mut reqwest::Response, want: &str) -> String {
        let mut seen = String::new();
        let read = async {
            while let Some(chunk) = r.chunk().await.unwrap() {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains(want) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(15), read).await;
        seen
    }

    #[tokio::test]
    async fn the_log_streams_live_and_resumes_where_it_left_off() {
        let (s, p, mut st) = running_upgrade();
        let lock = p.lock_exclusive().unwrap().unwrap();
        std::fs::write(p.log(), "$ apt-get update -q\n").unwrap();
        let c = admin(&s).await;

        let mut r = c.get(s.url("/admin/updates/events")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let first = read_until(&mut r, "id: 20\n").await;
        assert!(
            first.contains("event: log\ndata: $ apt-get update -q\nid: 20\n"),
            "{first:?}"
        );
        // a line written later arrives on the open stream; half a line waits for its end
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(p.log())
            .unwrap();
        std::io::Write::write_all(&mut f, b"Unpacking schola-common (0.2.0)\nSetting up").unwrap();
        let more = read_until(&mut r, "id: 52\n").await;
        assert!(
            more.contains("data: Unpacking schola-common (0.2.0)\nid: 52\n"),
            "{more:?}"
        );
        assert!(!more.contains("Setting up"));

        // a browser reconnecting after schola-web restarted continues from its last event id
        let mut again = c
            .get(s.url("/admin/updates/events"))
            .header("Last-Event-ID", "20")
            .send()
            .await
            .unwrap();
        std::io::Write::write_all(&mut f, b" schola-common (0.2.0)\n").unwrap();
        let resumed = read_until(&mut again, "Setting up").await;
        let (unpack, setup) = (
            resumed.find("data: Unpacking schola-common (0.2.0)\n"),
            resumed.find("data: Setting up schola-common (0.2.0)\n"),
        );
        assert!(unpack.is_some() && unpack < setup, "{resumed:?}");
        assert!(!resumed.contains("apt-get update"));

        // the helper finishes: the stream says so and ends
        st.state = Some(RunState::Succeeded);
        p.write_status(&st).unwrap();
        drop(lock);
        let end = read_until(&mut again, "event: done").await;
        assert!(end.contains("event: done"), "{end:?}");
        assert!(
            again.chunk().await.unwrap().is_none(),
            "the stream ends after done"
        );
    }
}

/// The waiting room: with the limits set low, a burst of sign-ins gets 503 with Retry-After and
/// the self-reloading waiting page, never an error or a hang, and every admitted sign-in works.
#[tokio::test]
async fn a_burst_past_the_limits_waits_in_the_waiting_room() {
    let (dir, path) = school_dir("[auth]\nhash_threads = 1\n");
    std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
    std::fs::write(
        dir.path().join("conf.d/50-low-limits.toml"),
        "[web]\nmax_in_flight = 2\nmax_signins_waiting = 1\n",
    )
    .unwrap();
    let store = open_store(&path);
    populate(&store);
    // a costly hash, so that sign-ins overlap (its parameters travel in the hash itself)
    let slow = schola_core::config::Argon2Config {
        memory_kib: 32 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    let hash = schola_core::password::hash_password_for(slow, STUDENT_PW).unwrap();
    let student = store.require_person("joerg.mueller").unwrap();
    store
        .set_password_hash(&Actor::system("test"), student.id, &hash)
        .unwrap();
    drop(store);
    let s = Server::start_in(dir, path);

    // every browser has loaded the sign-in form before the burst
    let mut forms = Vec::new();
    for _ in 0..12 {
        let c = s.client();
        let csrf = s.csrf(&c, "/login").await;
        forms.push((c, csrf));
    }
    let burst = forms.into_iter().map(|(c, csrf)| {
        let url = s.url("/login");
        tokio::spawn(async move {
            let r = c
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "joerg.mueller"),
                    ("password", STUDENT_PW),
                ])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            (status, retry, r.text().await.unwrap())
        })
    });
    let (mut admitted, mut waiting) = (0, 0);
    for h in burst.collect::<Vec<_>>() {
        let (status, retry, body) = h.await.unwrap();
        match status {
            303 => admitted += 1,
            503 => {
                let secs = retry.expect("a 503 says when to come back");
                assert!((2..=6).contains(&secs), "Retry-After {secs}");
                assert!(body.contains("Just a moment"), "{body}");
                assert!(
                    body.contains(&format!("<meta http-equiv=\"refresh\" content=\"{secs}\">")),
                    "the waiting page comes back by itself after Retry-After: {body}"
                );
                waiting += 1;
            }
            other => panic!("a request of the burst got {other}: {body}"),
        }
    }
    assert!(admitted >= 1, "some sign-ins were admitted");
    assert!(waiting >= 1, "some sign-ins waited ({admitted} admitted)");
    // health checks and the stylesheet are never turned away, and the storm passes
    assert_eq!(s.page(&s.client(), "/healthz").await, "ok");
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
}
