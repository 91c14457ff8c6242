//! What teachers and students notice about school mail, against real Postfix and Dovecot.

use std::process::Command;
use std::time::{Duration, Instant};

use schola_core::directory::Role;
use schola_core::directory_admin::PersonEdit;

use crate::kit::{DOMAIN, PASSWORD, School};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn addr(local: &str) -> String {
    format!("{local}@{DOMAIN}")
}

#[test]
fn a_student_mails_a_teacher_and_the_teacher_mails_the_class() {
    let s = School::start(|_| {});
    let out = s.send(
        Some(("anna", PASSWORD)),
        &addr("anna"),
        &[&addr("carla")],
        "Hausaufgabe Mathe",
        &["--body", "Liebe Frau Weiss, anbei meine Hausaufgabe."],
    );
    assert!(
        out.status.success(),
        "anna's mail was refused:\n{}",
        text(&out)
    );
    let uid = s.wait_for_subject("carla", "Hausaufgabe Mathe");
    assert!(s.fetch("carla", uid).contains("anbei meine Hausaufgabe"));

    s.send_ok("carla", &[&addr("5a")], "Wandertag am Freitag");
    s.wait_for_subject("anna", "Wandertag am Freitag");
    s.wait_for_subject("ben", "Wandertag am Freitag");
    // the list's owner gets her own post too, once
    s.wait_for_subject("carla", "Wandertag am Freitag");
    assert_eq!(
        s.search("carla", "SUBJECT \"Wandertag am Freitag\"").len(),
        1
    );

    // a parent writes from outside, as another mail server would (port 25, no sign-in)
    let out = s.send(
        None,
        "mutter@example.org",
        &[&addr("anna")],
        "Entschuldigung",
        &[],
    );
    assert!(
        out.status.success(),
        "inbound mail was refused:\n{}",
        text(&out)
    );
    s.wait_for_subject("anna", "Entschuldigung");
    // ... but cannot write to a class list, nor to someone who does not exist
    let out = s.send(None, "spam@example.org", &[&addr("5a")], "Angebot", &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Only teachers may send to the list 5a@school.test"),
        "{}",
        text(&out)
    );
    let out = s.send(None, "mutter@example.org", &[&addr("nobody")], "Hallo", &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("User unknown"), "{}", text(&out));
    // nor pose as the school: a forged teacher's address from outside is refused
    let out = s.send(None, &addr("carla"), &[&addr("anna")], "Noten", &[]);
    assert!(
        !out.status.success(),
        "a forged school sender from outside was accepted"
    );
    assert!(
        text(&out).contains("must be sent signed in to the school's server"),
        "{}",
        text(&out)
    );
}

#[test]
fn every_port_a_mail_client_may_be_set_up_with_works() {
    let s = School::start(|_| {});
    // 465: TLS from the first byte
    let out = Command::new("swaks")
        .args([
            "--server",
            &format!("127.0.0.1:{}", s.setup.ports.submissions),
            "--tlsc",
        ])
        .args([
            "--auth",
            "PLAIN",
            "--auth-user",
            &addr("anna"),
            "--auth-password",
            PASSWORD,
        ])
        .args([
            "--from",
            &addr("anna"),
            "--to",
            &addr("carla"),
            "--header",
            "Subject: Port 465",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    s.wait_for_subject("carla", "Port 465");
    // 587 refuses to take a password before STARTTLS
    let out = Command::new("swaks")
        .args([
            "--server",
            &format!("127.0.0.1:{}", s.setup.ports.submission),
        ])
        .args([
            "--auth",
            "PLAIN",
            "--auth-user",
            "anna",
            "--auth-password",
            PASSWORD,
        ])
        .args(["--from", &addr("anna"), "--to", &addr("carla")])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "submission took a password without TLS:\n{}",
        text(&out)
    );
    // 143 with STARTTLS, signing in with the address, as Thunderbird's autoconfig suggests
    let out = Command::new("curl")
        .args([
            "-sS",
            "--insecure",
            "--ssl-reqd",
            "--max-time",
            "20",
            "--user",
            &format!("{}:{PASSWORD}", addr("carla")),
        ])
        .arg(format!("imap://127.0.0.1:{}/INBOX", s.setup.ports.imap))
        .args(["--request", "UID SEARCH SUBJECT \"Port 465\""])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("* SEARCH 1"),
        "{}",
        text(&out)
    );
}

#[test]
fn sending_rules_refuse_with_their_reason() {
    let s = School::start(|m| {
        m.student_recipients_per_hour = 3;
        m.students_internal_only = true;
    });
    // a student to the teachers' list
    let out = s.send(
        Some(("anna", PASSWORD)),
        &addr("anna"),
        &[&addr("lehrer")],
        "Frage",
        &[],
    );
    assert!(
        !out.status.success(),
        "a student's post to lehrer@ was accepted"
    );
    assert!(
        text(&out).contains("Only teachers may send to the list lehrer@school.test"),
        "{}",
        text(&out)
    );
    // a student posing as her teacher
    let out = s.send(
        Some(("anna", PASSWORD)),
        &addr("carla"),
        &[&addr("ben")],
        "Zeugnis",
        &[],
    );
    assert!(!out.status.success(), "anna could send as carla");
    assert!(
        text(&out).contains("not owned by user anna"),
        "{}",
        text(&out)
    );
    // students stay inside the school here
    let out = s.send(
        Some(("anna", PASSWORD)),
        &addr("anna"),
        &["freund@example.org"],
        "Hi",
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Students may only send mail to addresses of the school"),
        "{}",
        text(&out)
    );
    // the rate limit: three recipients an hour, then a temporary refusal that says why
    s.send_ok("anna", &[&addr("ben"), &addr("carla")], "Eins");
    s.send_ok("anna", &[&addr("carla")], "Zwei");
    let out = s.send(
        Some(("anna", PASSWORD)),
        &addr("anna"),
        &[&addr("carla")],
        "Drei",
        &[],
    );
    assert!(
        !out.status.success(),
        "the fourth recipient in an hour was accepted"
    );
    assert!(
        text(&out).contains("450 4.7.1")
            && text(&out).contains("anna has sent mail to 3 recipients in the last hour"),
        "{}",
        text(&out)
    );
    // ben has his own count; teachers theirs
    s.send_ok("ben", &[&addr("carla")], "Ben");
    s.wait_for_subject("carla", "Zwei");
    assert!(s.search("carla", "SUBJECT \"Drei\"").is_empty());
}

#[test]
fn wrong_passwords_and_disabled_people_are_refused() {
    let s = School::start(|_| {});
    let out = s.imap("anna", "falsch", "INBOX", &[]);
    assert!(!out.status.success(), "IMAP took a wrong password");
    let out = s.send(
        Some(("anna", "falsch")),
        &addr("anna"),
        &[&addr("carla")],
        "x",
        &[],
    );
    assert!(!out.status.success(), "submission took a wrong password");
    assert!(text(&out).contains("535"), "{}", text(&out));
    // ben signs in (his sign-in is now in Dovecot's cache), then is disabled
    let out = s.imap("ben", PASSWORD, "INBOX", &["--request", "NOOP"]);
    assert!(out.status.success(), "ben cannot sign in: {}", text(&out));
    s.store.disable_person(&School::actor(), "ben", 30).unwrap();
    s.wait_for_book();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s
        .imap("ben", PASSWORD, "INBOX", &["--request", "NOOP"])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "ben still signs in over IMAP 10 s after being disabled"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = s.send(
        Some(("ben", PASSWORD)),
        &addr("ben"),
        &[&addr("carla")],
        "x",
        &[],
    );
    assert!(!out.status.success(), "a disabled person could send");
    // mail to him is still kept until he is purged
    s.send_ok("carla", &[&addr("ben")], "Zeugnis");
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.maildir_count(s.id("ben")) == 0 {
        assert!(
            Instant::now() < deadline,
            "mail to disabled ben was not kept:\n{}",
            s.log("postfix.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_person_created_by_the_import_receives_mail_within_seconds() {
    use schola_dirsync::apply::{Outcome, Rules, apply_import, prepare};
    use schola_dirsync::csv::{ProfileChoice, read_csv};
    let s = School::start(|_| {});
    let cfg = schola_core::Config::default();
    let roster = read_csv(
        "5a;Vogel;Lena;01.02.2015;9001;\n".as_bytes(),
        "students.csv",
        &ProfileChoice::Auto,
        &cfg.import,
    )
    .unwrap();
    let mut rules = Rules::in_force(&cfg, &s.store).unwrap();
    rules.argon2 = schola_core::config::Argon2Config {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let (id, _) = prepare(&s.store, &School::actor(), &roster, &rules).unwrap();
    let imported = Instant::now();
    let Outcome::Applied(_) = apply_import(&s.store, &School::actor(), id, &rules).unwrap() else {
        panic!("the import was not applied");
    };
    let lena = s
        .store
        .list_people(&Default::default(), 100, 0)
        .unwrap()
        .0
        .into_iter()
        .find(|p| p.given_name == "Lena")
        .expect("Lena was imported");
    let address = lena.mail.clone().expect("Lena has an address");
    // no restart: schola-mail follows the journal; Postfix asks it on the next message
    s.send_ok("carla", &[&address], "Willkommen");
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.maildir_count(lena.id) == 0 {
        assert!(
            Instant::now() < deadline,
            "the imported student had no mail 10 s after the import"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "imported student received mail {:.2} s after the import",
        imported.elapsed().as_secs_f64()
    );
    // and she is on her class's list
    s.send_ok("carla", &[&addr("5a")], "Klassenfahrt");
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.maildir_count(lena.id) < 2 {
        assert!(
            Instant::now() < deadline,
            "the class list did not reach the imported student"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_renamed_person_keeps_their_mail_and_old_address() {
    let s = School::start(|_| {});
    let edit = |family: &str, mail: &str| PersonEdit {
        given_name: "Ben".into(),
        family_name: family.into(),
        display_name: String::new(),
        role: Role::Student,
        mail: Some(mail.into()),
        quota_mb: None,
    };
    s.store
        .update_person(&School::actor(), "ben", &edit("Roth", &addr("ben.roth")))
        .unwrap();
    s.wait_for_book();
    s.send_ok("carla", &[&addr("ben.roth")], "Vor der Heirat");
    s.wait_for_subject("ben", "Vor der Heirat");
    s.store
        .update_person(&School::actor(), "ben", &edit("Klein", &addr("ben.klein")))
        .unwrap();
    s.wait_for_book();
    for (to, subject) in [
        (addr("ben.klein"), "Neue Adresse"),
        (addr("ben.roth"), "Alte Adresse"),
    ] {
        s.send_ok("carla", &[&to], subject);
        s.wait_for_subject("ben", subject);
    }
    // the mail from before the rename is still there, and he signs in with his new address
    assert_eq!(s.search("ben", "SUBJECT \"Vor der Heirat\"").len(), 1);
    let out = s.imap(
        &addr("ben.klein"),
        PASSWORD,
        "INBOX",
        &["--request", "NOOP"],
    );
    assert!(
        out.status.success(),
        "ben cannot sign in with his new address: {}",
        text(&out)
    );
}

#[test]
fn a_full_mailbox_bounces_and_keeps_what_it_has() {
    let s = School::start(|m| m.student_quota_mb = 1);
    let big = s.path().join("big.txt");
    let line = "Dies ist ein langer Aufsatz ueber den Wald und seine Tiere, Zeile fuer Zeile.\n";
    std::fs::write(&big, line.repeat(950 * 1024 / line.len())).unwrap();
    let body = format!("@{}", big.display());
    let out = s.send(
        Some(("carla", PASSWORD)),
        &addr("carla"),
        &[&addr("anna")],
        "Aufsatz",
        &["--body", &body],
    );
    assert!(out.status.success(), "{}", text(&out));
    s.wait_for_subject("anna", "Aufsatz");
    // past 90 %: Dovecot's warning lands in the mailbox
    s.wait_for_subject(
        "anna",
        "Your mailbox is 90 % full / Ihr Postfach ist zu 90 % voll",
    );
    let out = s.send(
        Some(("carla", PASSWORD)),
        &addr("carla"),
        &[&addr("anna")],
        "Noch ein Aufsatz",
        &["--body", &body],
    );
    assert!(out.status.success(), "{}", text(&out));
    // the sender gets the message back, saying why
    let uid = s.wait_for_subject("carla", "Undelivered Mail Returned to Sender");
    let bounce = s.fetch("carla", uid);
    assert!(
        bounce.contains("552") && bounce.to_lowercase().contains("full"),
        "{bounce}"
    );
    // anna's mailbox is as it was: the essay, whole, and the warning
    assert!(s.search("anna", "SUBJECT \"Noch ein Aufsatz\"").is_empty());
    let uid = s.search("anna", "SUBJECT \"Aufsatz\"")[0];
    assert!(s.fetch("anna", uid).len() > 900 * 1024);
}

#[test]
fn a_purged_persons_mail_is_archived_and_their_address_refused() {
    let s = School::start(|_| {});
    s.send_ok("carla", &[&addr("ben")], "Abschlussarbeit");
    s.wait_for_subject("ben", "Abschlussarbeit");
    let id = s.id("ben");
    s.store.disable_person(&School::actor(), "ben", 0).unwrap();
    s.store.purge_person(&School::actor(), "ben", 365).unwrap();
    let archive = s.setup.vmail_dir.join("archive");
    let deadline = Instant::now() + Duration::from_secs(10);
    let kept = loop {
        let found = std::fs::read_dir(&archive)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("ben-"))
            })
            .ok()
            .flatten();
        if let Some(p) = found {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "ben's mailbox was not archived 10 s after the purge"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!s.setup.vmail_dir.join(id.to_string()).exists());
    let files: Vec<_> = std::fs::read_dir(kept.join("Maildir/cur"))
        .into_iter()
        .chain(std::fs::read_dir(kept.join("Maildir/new")))
        .flatten()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "the archive holds ben's one message");
    assert!(
        std::fs::read_to_string(files[0].path())
            .unwrap()
            .contains("Subject: Abschlussarbeit")
    );
    let out = s.send(
        Some(("carla", PASSWORD)),
        &addr("carla"),
        &[&addr("ben")],
        "Noch da?",
        &[],
    );
    assert!(
        !out.status.success(),
        "mail to a purged person was accepted"
    );
    assert!(text(&out).contains("User unknown"), "{}", text(&out));
}

#[test]
fn the_webmail_signs_in_for_active_people_with_its_secret_only() {
    let s = School::start(|_| {});
    let secret = std::fs::read_to_string(s.path().join("webmail.secret")).unwrap();
    s.send_ok("carla", &[&addr("anna")], "Elternabend");
    s.wait_for_subject("anna", "Elternabend");
    // the portal reads anna's mail without her password
    let out = s.imap(
        "anna*schola-webmail",
        &secret,
        "INBOX",
        &["--request", "UID SEARCH SUBJECT Elternabend"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("* SEARCH 1"),
        "{}",
        text(&out)
    );
    // the portal's way in: plain IMAP on 127.0.0.1 (Dovecot counts a same-host connection as
    // secured, so ssl = required lets it sign in without TLS)
    let plain = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "--user",
            &format!("anna*schola-webmail:{secret}"),
        ])
        .arg(format!("imap://127.0.0.1:{}/INBOX", s.setup.ports.imap))
        .args(["--request", "UID SEARCH SUBJECT Elternabend"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("* SEARCH 1"),
        "{}",
        text(&plain)
    );
    // and sends as anna through submission, under anna's sending rules: as herself yes, as
    // her teacher no
    let sent = s.send(
        Some(("anna*schola-webmail", &secret)),
        &addr("anna"),
        &[&addr("carla")],
        "Aus dem Portal",
        &[],
    );
    assert!(sent.status.success(), "{}", text(&sent));
    s.wait_for_subject("carla", "Aus dem Portal");
    let spoof = s.send(
        Some(("anna*schola-webmail", &secret)),
        &addr("carla"),
        &[&addr("ben")],
        "Als Lehrerin",
        &[],
    );
    assert!(
        !spoof.status.success() && text(&spoof).contains("not owned by user anna"),
        "{}",
        text(&spoof)
    );
    // not with a wrong secret, nor as the master user itself, nor for someone disabled
    assert!(
        !s.imap("anna*schola-webmail", "falsch", "INBOX", &[])
            .status
            .success()
    );
    assert!(
        !s.imap("schola-webmail", &secret, "INBOX", &[])
            .status
            .success()
    );
    assert!(
        !s.imap("anna*carla", PASSWORD, "INBOX", &[])
            .status
            .success(),
        "a person is no master user"
    );
    s.store.disable_person(&School::actor(), "ben", 30).unwrap();
    s.wait_for_book();
    assert!(
        !s.imap("ben*schola-webmail", &secret, "INBOX", &[])
            .status
            .success(),
        "the webmail reached a disabled person"
    );
}
