//! The first-run setup wizard: one form in five numbered steps (setup code, school with logo,
//! administrator, certificate, backup target), sent with files; everything checked before
//! anything is kept.

use crate::kit::*;
use crate::settings::{Part, any_cert_client, make_cert, png, post_multipart, served_fingerprint};

fn fresh() -> Server {
    let (dir, path) = school_dir("");
    Server::start_in(dir, path)
}

fn setup_code(s: &Server) -> String {
    std::fs::read_to_string(s.dir.path().join("state/setup-code"))
        .unwrap()
        .trim()
        .to_string()
}

/// The wizard's fields, filled in correctly; tests change one thing at a time.
struct Wizard {
    csrf: String,
    code: String,
    school_name: String,
    mail_domain: String,
    language: String,
    password: String,
    confirm: String,
    logo: Option<Vec<u8>>,
    cert: Option<(String, String)>,
    upload_cert: bool,
    backup_target: String,
}

impl Wizard {
    fn new(csrf: &str, code: &str) -> Wizard {
        Wizard {
            csrf: csrf.into(),
            code: code.into(),
            school_name: "Athénée Royal de Spa".into(),
            mail_domain: "ar-spa.example".into(),
            language: "fr".into(),
            password: "Leuchtturm-77".into(),
            confirm: "Leuchtturm-77".into(),
            logo: None,
            cert: None,
            upload_cert: false,
            backup_target: String::new(),
        }
    }

    async fn send(&self, s: &Server, c: &reqwest::Client) -> (u16, String, String) {
        let mut parts = vec![
            Part::Text("csrf", &self.csrf),
            Part::Text("setup_code", &self.code),
            Part::Text("school_name", &self.school_name),
            Part::Text("mail_domain", &self.mail_domain),
            Part::Text("default_language", &self.language),
            Part::Text("admin_login", "direction"),
            Part::Text("password", &self.password),
            Part::Text("password_confirm", &self.confirm),
            Part::Text(
                "certificate_choice",
                if self.upload_cert {
                    "upload"
                } else {
                    "self-signed"
                },
            ),
            // an empty file field, as a browser sends one
            Part::File("logo", "", self.logo.clone().unwrap_or_default()),
            Part::Text("backup_target", &self.backup_target),
        ];
        if let Some((cert, key)) = &self.cert {
            parts.push(Part::File(
                "certificate",
                "cert.pem",
                cert.clone().into_bytes(),
            ));
            parts.push(Part::File("key", "key.pem", key.clone().into_bytes()));
        }
        let r = post_multipart(s, c, "/setup", &parts).await;
        let status = r.status().as_u16();
        let loc = location(&r);
        let body = r
            .text()
            .await
            .unwrap()
            .replace("&#x27;", "'")
            .replace("&#39;", "'");
        (status, loc, body)
    }
}

#[tokio::test]
async fn the_wizard_sets_up_school_logo_language_admin_and_certificate() {
    let s = fresh();
    let c = any_cert_client();
    let first = served_fingerprint(&s).await;
    let page = s.page(&c, "/setup").await;
    for step in [
        "Step 1: Setup code",
        "Step 2: Your school",
        "Step 3: Administrator",
        "Step 4: Certificate",
        "Step 5: Backup",
    ] {
        assert!(
            page.contains(&format!("<legend>{step}</legend>")),
            "{step}: {page}"
        );
    }
    assert!(page.contains("enctype=\"multipart/form-data\""));
    assert!(
        page.contains(&format!("Its SHA-256 fingerprint is {first}.")),
        "the self-signed certificate's fingerprint, to compare with the browser's: {page}"
    );
    assert!(
        page.contains("value=\"self-signed\" checked"),
        "the self-signed certificate is the default"
    );

    let csrf = hidden_csrf(&page).unwrap();
    let (cert, key, fp) = make_cert("ar-spa.example", -1, 365);
    let mut w = Wizard::new(&csrf, &setup_code(&s));
    w.logo = Some(png());
    w.cert = Some((cert, key));
    w.upload_cert = true;
    w.backup_target = " /media/backup/schola ".into();
    let (status, loc, body) = w.send(&s, &c).await;
    assert_eq!((status, loc.as_str()), (303, "/login"), "{body}");

    // the backup target is kept, a passphrase made (readable by the server's user only), and
    // the root helper asked to make the repository
    assert_eq!(
        s.store().backup_target().unwrap().as_deref(),
        Some("/media/backup/schola")
    );
    let pass = s.dir.path().join("state/backup.pass");
    let phrase = std::fs::read_to_string(&pass).unwrap();
    assert_eq!(phrase.trim().len(), 29, "{phrase}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&pass).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let paths = schola_core::backups::BackupPaths::from_config(
        &schola_core::Config::load(&s.config_path).unwrap(),
    );
    assert_eq!(
        paths.take_request().unwrap(),
        Some(schola_core::backups::Request::Init)
    );

    let school = s.store().school().unwrap();
    assert_eq!(school.name, "Athénée Royal de Spa");
    assert_eq!(school.mail_domain, "ar-spa.example");
    assert_eq!(
        school.default_language,
        Some(schola_core::directory::Language::Fr)
    );
    assert_eq!(
        served_fingerprint(&s).await,
        fp,
        "the uploaded certificate is served"
    );
    assert!(!s.dir.path().join("state/setup-code").exists());

    // the new admin signs in (a browser asking for no language of ours gets French)
    let admin = any_cert_client();
    let login = admin
        .get(s.url("/login"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("<html lang=\"fr\">"), "{login}");
    let src = login
        .split("<img src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = admin.get(s.url(&src)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    assert_eq!(
        s.sign_in(&admin, "direction", "Leuchtturm-77")
            .await
            .status(),
        303
    );
    assert_eq!(
        location(&admin.get(s.url("/")).send().await.unwrap()),
        "/admin"
    );
    // and the setup is closed
    assert_eq!(
        location(&c.get(s.url("/setup")).send().await.unwrap()),
        "/login"
    );
    let (status, loc, _) = w.send(&s, &c).await;
    assert_eq!((status, loc.as_str()), (303, "/login"));
}

/// One wrong thing in an otherwise good wizard.
type Change = Box<dyn Fn(&mut Wizard)>;

#[tokio::test]
async fn the_wizard_refuses_bad_input_keeps_what_was_typed_and_changes_nothing() {
    let s = fresh();
    let c = any_cert_client();
    let first = served_fingerprint(&s).await;
    let csrf = s.csrf(&c, "/setup").await;
    let code = setup_code(&s);
    let (cert, key, _) = make_cert("ar-spa.example", -1, 365);
    let (_, other_key, _) = make_cert("other.example", -1, 365);
    let (old_cert, old_key, _) = make_cert("ar-spa.example", -30, -2);

    let cases: Vec<(Change, u16, &str)> = vec![
        (
            Box::new(|w| w.code = "aaaa-bbbb-cccc".into()),
            403,
            "The setup code is wrong.",
        ),
        (
            Box::new(|w| w.csrf = "forged".into()),
            403,
            "The form had expired.",
        ),
        (
            Box::new(|w| w.school_name = "  ".into()),
            422,
            "The school's name is empty.",
        ),
        (
            Box::new(|w| w.mail_domain = "ar spa".into()),
            422,
            "'ar spa' is not a mail domain.",
        ),
        (
            Box::new(|w| w.logo = Some(b"<svg onload=\"alert(1)\"/>".to_vec())),
            422,
            "The logo must be a PNG or JPEG image",
        ),
        (
            Box::new(|w| {
                let mut big = png();
                big.resize(600 * 1024, 0);
                w.logo = Some(big);
            }),
            422,
            "The logo file is too big: at most 512 KiB",
        ),
        (
            Box::new(|w| w.confirm = "Leuchtturm-78".into()),
            422,
            "The two new passwords differ.",
        ),
        (
            Box::new(|w| {
                w.password = "kurz".into();
                w.confirm = "kurz".into()
            }),
            422,
            "at least 8 characters",
        ),
        (
            Box::new(|w| w.upload_cert = true),
            422,
            "Choose the certificate file.",
        ),
        (
            Box::new(|w| w.backup_target = "media/usb".into()),
            422,
            "must be a folder's full path",
        ),
        (
            {
                let (c, k) = (cert.clone(), other_key.clone());
                Box::new(move |w| {
                    w.upload_cert = true;
                    w.cert = Some((c.clone(), k.clone()));
                })
            },
            422,
            "The private key does not belong to this certificate.",
        ),
        (
            {
                let (c, k) = (old_cert.clone(), old_key.clone());
                Box::new(move |w| {
                    w.upload_cert = true;
                    w.cert = Some((c.clone(), k.clone()));
                })
            },
            422,
            "This certificate expired on",
        ),
    ];
    for (change, status, says) in cases {
        let mut w = Wizard::new(&csrf, &code);
        w.logo = Some(png());
        change(&mut w);
        let (got, _, body) = w.send(&s, &c).await;
        assert_eq!(got, status, "{says}: {body}");
        assert!(
            body.contains("role=\"alert\"") && body.contains(says),
            "{says}: {body}"
        );
        if status == 422 {
            assert!(
                body.contains(&format!("value=\"{}\"", w.school_name)),
                "{says}: the school's name is kept"
            );
            assert!(
                body.contains("choose the logo and the certificate files again"),
                "{says}: files must be chosen again"
            );
        }
        assert!(!s.store().has_admin().unwrap(), "{says}: no admin");
        assert_eq!(s.store().school().unwrap().name, "", "{says}: no school");
        assert_eq!(
            s.store().backup_target().unwrap(),
            None,
            "{says}: no backup"
        );
        assert!(!s.dir.path().join("state/backup.pass").exists(), "{says}");
        assert_eq!(
            served_fingerprint(&s).await,
            first,
            "{says}: same certificate"
        );
        assert!(
            !s.dir.path().join("state/branding").exists(),
            "{says}: no logo stored"
        );
    }

    // files sent with "keep the self-signed certificate" are not used
    let mut w = Wizard::new(&csrf, &code);
    w.cert = Some((cert, key));
    let (status, loc, body) = w.send(&s, &c).await;
    assert_eq!((status, loc.as_str()), (303, "/login"), "{body}");
    assert_eq!(served_fingerprint(&s).await, first);
    assert!(s.store().has_admin().unwrap());
}

/// Disaster recovery from the wizard: a new server is pointed at the school's backup; the web
/// server keeps the target and passphrase and asks the root helper, and shows how it goes.
#[tokio::test]
async fn a_new_server_is_pointed_at_the_schools_backup_from_the_wizard() {
    use schola_core::backups::{BackupPaths, Request, RunState, Status};
    let s = fresh();
    let c = any_cert_client();
    let setup = s.page(&c, "/setup").await;
    assert!(setup.contains("href=\"/setup/restore\""), "{setup}");
    let page = s.page(&c, "/setup/restore").await;
    assert!(
        page.contains("Restore your school from its backup"),
        "{page}"
    );
    let csrf = hidden_csrf(&page).unwrap();
    let code = setup_code(&s);
    let paths = BackupPaths::from_config(&schola_core::Config::load(&s.config_path).unwrap());
    let send = async |code: &str, target: &str, phrase: &str| {
        let r = c
            .post(s.url("/setup/restore"))
            .header("origin", s.url(""))
            .form(&[
                ("csrf", csrf.as_str()),
                ("setup_code", code),
                ("backup_target", target),
                ("passphrase", phrase),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let loc = location(&r);
        let body = r.text().await.unwrap();
        (
            status,
            loc,
            body.replace("&#x27;", "'").replace("&#39;", "'"),
        )
    };
    let phrase = "kx7m-p3qa-9dtn-4wzr-h8ce-tu2b";
    for (code, target, phrase, status, says) in [
        (
            "aaaa-bbbb-cccc",
            "/media/backup/schola",
            phrase,
            403,
            "The setup code is wrong.",
        ),
        (
            code.as_str(),
            "media/backup",
            phrase,
            422,
            "must be a folder's full path",
        ),
        (
            code.as_str(),
            "/media/backup/schola",
            " ",
            422,
            "Type the passphrase from the recovery sheet.",
        ),
    ] {
        let (got, _, body) = send(code, target, phrase).await;
        assert_eq!(got, status, "{says}: {body}");
        assert!(body.contains(says), "{says}: {body}");
        assert!(!paths.request().exists(), "{says}: nothing asked");
        assert_eq!(s.store().backup_target().unwrap(), None, "{says}");
    }
    let (got, loc, body) = send(&code, "/media/backup/schola", phrase).await;
    assert_eq!((got, loc.as_str()), (303, "/setup/restore"), "{body}");
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("state/backup.pass")).unwrap(),
        format!("{phrase}\n")
    );
    assert_eq!(
        s.store().backup_target().unwrap().as_deref(),
        Some("/media/backup/schola")
    );
    assert_eq!(
        paths.take_request().unwrap(),
        Some(Request::RestoreServer {
            snapshot: "latest".into()
        })
    );

    // while the helper restores, the page says so and reloads itself; a failure is shown with
    // the form again
    let mut status = Status {
        action: Some("restore-server".into()),
        state: Some(RunState::Running),
        ..Status::default()
    };
    paths.write_status(&status).unwrap();
    std::fs::create_dir_all(&paths.status_dir).unwrap();
    let lock = std::fs::File::create(paths.status_dir.join("lock")).unwrap();
    lock.lock().unwrap();
    let page = s.page(&c, "/setup/restore").await;
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(
        page.contains("Restoring the school from its backup"),
        "{page}"
    );
    // the helper was killed halfway: the form again, not a page that reloads for ever
    drop(lock);
    let page = s.page(&c, "/setup/restore").await;
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(page.contains("name=\"passphrase\""), "{page}");
    assert!(
        page.contains("The restore did not work: it stopped before it finished"),
        "{page}"
    );
    status.state = Some(RunState::Failed);
    status.message = "the backup password is wrong for /media/backup/schola".into();
    paths.write_status(&status).unwrap();
    let page = s.page(&c, "/setup/restore").await;
    assert!(
        page.contains(
            "The restore did not work: the backup password is wrong for /media/backup/schola"
        ),
        "{page}"
    );
    assert!(page.contains("name=\"passphrase\""));

    // over SFTP the new server signs in with a key of its own, which the SFTP server does not
    // know yet: after the first try the page shows it and says where it goes
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtlc3RrZXlmb3J0aGVuZXdzZXJ2ZXI schola-backup";
    std::fs::write(paths.status_dir.join("id_ed25519.pub"), format!("{key}\n")).unwrap();
    assert!(!page.contains("ssh-ed25519"), "not for a USB disk: {page}");
    let target = "sftp:backup@nas.example:/volume1/schola";
    let (got, loc, body) = send(&code, target, phrase).await;
    assert_eq!((got, loc.as_str()), (303, "/setup/restore"), "{body}");
    assert!(paths.take_request().unwrap().is_some());
    status.message = "the SFTP server nas.example refused Schola's key".into();
    paths.write_status(&status).unwrap();
    let page = s.page(&c, "/setup/restore").await;
    assert!(
        page.contains(&format!("id=\"restore-public-key\">{key}</pre>")),
        "{page}"
    );
    assert!(page.contains("~/.ssh/authorized_keys"), "{page}");
    assert!(page.contains(&format!("value=\"{target}\"")), "{page}");
}
