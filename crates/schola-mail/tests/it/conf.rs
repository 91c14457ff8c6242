//! The generated Postfix and Dovecot configuration, compared with the reviewed copies in
//! `tests/snapshots/`. A change to a generator shows up here as a diff to review; after
//! reviewing it, `SCHOLA_UPDATE_SNAPSHOTS=1 cargo test -p schola-mail --test it conf` writes the
//! new copies. (That the files work is what the other tests here show, with real servers.)

use std::path::{Path, PathBuf};

use schola_core::config::Mail as MailConfig;
use schola_mail::conf::{self, Listen, Ports, Setup};

/// The appliance's layout for a school with a class list whose members may post.
fn appliance() -> Setup {
    Setup {
        hostname: "schule.example".into(),
        domain: "lindenschule.example".into(),
        listen: Listen::All,
        ports: Ports::default(),
        postfix_dir: "/etc/postfix".into(),
        postfix_queue_dir: "/var/spool/postfix".into(),
        postfix_data_dir: "/var/lib/postfix".into(),
        postfix_log: None,
        dovecot_dir: "/etc/dovecot/schola".into(),
        dovecot_base_dir: "/run/dovecot".into(),
        dovecot_state_dir: None,
        dovecot_log: None,
        instance_name: "dovecot".into(),
        tls_cert: "/var/lib/schola/tls/cert.pem".into(),
        tls_key: "/var/lib/schola/tls/key.pem".into(),
        socketmap_socket: "/run/schola-mail/socketmap.sock".into(),
        policy_socket: "/run/schola-mail/policy.sock".into(),
        auth_socket: "/run/schola-mail/auth.sock".into(),
        lmtp_socket: "/run/dovecot/schola-lmtp".into(),
        sasl_socket: "/run/dovecot/schola-auth".into(),
        vmail_dir: "/var/vmail".into(),
        vmail_user: "vmail".into(),
        vmail_uid: 110,
        schola_user: "schola".into(),
        login_processes: 2,
        mail: MailConfig::default(),
    }
}

fn snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

#[test]
fn generated_configuration_matches_the_reviewed_snapshots() {
    let update = std::env::var_os("SCHOLA_UPDATE_SNAPSHOTS").is_some();
    let mut differ = Vec::new();
    for f in conf::render(&appliance()) {
        let path = snapshots().join(f.name.replace('/', "__"));
        if update {
            std::fs::write(&path, &f.text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != f.text {
            let line = want
                .lines()
                .zip(f.text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(want.lines().count().min(f.text.lines().count()));
            differ.push(format!(
                "{} differs from {} from line {}:\n  snapshot:  {:?}\n  generated: {:?}",
                f.name,
                path.display(),
                line + 1,
                want.lines().nth(line).unwrap_or("<end>"),
                f.text.lines().nth(line).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{}\n(review, then: SCHOLA_UPDATE_SNAPSHOTS=1 cargo test -p schola-mail --test it conf)",
        differ.join("\n")
    );
}

#[test]
fn the_sockets_postfix_names_are_the_ones_schola_mail_and_dovecot_serve() {
    let s = appliance();
    let files = conf::render(&s);
    let text = |name: &str| files.iter().find(|f| f.name == name).unwrap().text.clone();
    let main = text("postfix/main.cf");
    for map in ["domains", "mailboxes", "aliases", "senders"] {
        assert!(
            main.contains(&format!(
                "socketmap:unix:/run/schola-mail/socketmap.sock:{map}"
            )),
            "{map}"
        );
    }
    assert!(main.contains("check_policy_service unix:/run/schola-mail/policy.sock"));
    assert!(main.contains("virtual_transport = lmtp:unix:/run/dovecot/schola-lmtp"));
    assert!(main.contains("smtpd_sasl_path = /run/dovecot/schola-auth"));
    let master = text("postfix/master.cf");
    assert!(
        master.contains("check_policy_service,unix:/run/schola-mail/policy.sock"),
        "submission asks the policy too"
    );
    assert!(master.contains("reject_sender_login_mismatch"));
    let dovecot = text("dovecot/dovecot.conf");
    // Dovecot names sockets inside its base_dir relative to it
    assert!(dovecot.contains("unix_listener schola-lmtp {"));
    assert!(dovecot.contains("unix_listener schola-auth {"));
    assert!(
        text("dovecot/schola-auth.conf.ext")
            .contains("uri = proxy:/run/schola-mail/auth.sock:schola")
    );
    // no plaintext passwords over the network, TLS only
    assert!(dovecot.contains("ssl = required"));
    assert!(dovecot.contains("disable_plaintext_auth = yes"));
}
