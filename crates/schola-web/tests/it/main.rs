//! Integration tests of schola-web: the real binary over real HTTPS. One test binary for the
//! crate (see kit.rs for the harness); add new tests here rather than new files in tests/.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod kit;

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
    assert!(page.contains("joerg.mueller@see.schule.example"));
    let r = c.get(s.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), 403);

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
    let h = schola_core::password::hash_password(FAST, "Neues-Passwort-9").unwrap();
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
        page.contains("1 people match") && page.contains("anke.lehmann"),
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
