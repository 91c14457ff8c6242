//! A school with real mail servers: Debian's Postfix and Dovecot, started on loopback ports
//! with the configuration `schola-mail` generates, and schola-mail itself answering them from a
//! temporary database. Mail is sent with swaks and read with curl (IMAP), as a user's client
//! would; nothing here is mocked.
//!
//! Needs root (Postfix's master and Dovecot start as root and drop privileges), the packages
//! postfix, dovecot-imapd, dovecot-lmtpd, swaks and curl, and the system user `vmail`:
//! `scripts/install-test-deps` installs them all. `scripts/bench mail` uses it too.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::config::{Argon2Config, Mail as MailConfig};
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role};
use schola_core::login::LoginScheme;
use schola_core::password::{Hashed, hash_password, nt_hash};
use schola_core::{Store, SystemClock};
use schola_mail::auth::MasterSecret;
use schola_mail::conf::{Listen, Setup};
use schola_mail::local::{self, LocalServers};
use schola_mail::server::{self, Mail, Sockets};

pub const DOMAIN: &str = "school.test";
pub const PASSWORD: &str = "Kreide-Tafel-42";

fn need(program: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{program} is not installed; the mail tests need Debian's postfix, dovecot-imapd, dovecot-lmtpd, swaks and curl (run scripts/install-test-deps)"
    );
}

pub struct School {
    /// Postfix and Dovecot, stopped first (Postfix before Dovecot, so nothing is left
    /// mid-delivery); then schola-mail, then the directory goes.
    servers: LocalServers,
    guard: Option<server::Guard>,
    rt: tokio::runtime::Runtime,
    pub mail: Arc<Mail>,
    pub store: Store,
    pub setup: Setup,
    /// The servers' certificate (DER), for clients that check it.
    pub cert_der: Vec<u8>,
    pub dir: tempfile::TempDir,
}

/// The people every test starts with: anna and ben (students in 5a), carla (teacher, owner of
/// 5a, member of lehrer), and an admin.
impl School {
    pub fn start(tune: impl FnOnce(&mut MailConfig)) -> School {
        for p in ["swaks", "curl"] {
            need(p);
        }
        // root, Postfix, Dovecot and the user vmail, each with what to do when missing
        local::check_available("vmail").unwrap_or_else(|e| panic!("the mail tests: {e}"));
        let vmail = nix::unistd::User::from_name("vmail").unwrap().unwrap();
        let mut dir = tempfile::Builder::new()
            .prefix("schola-mail-")
            .tempdir()
            .unwrap();
        // SCHOLA_MAIL_TEST_KEEP=1 keeps the configuration, logs and mailboxes for a look
        if std::env::var_os("SCHOLA_MAIL_TEST_KEEP").is_some() {
            eprintln!("keeping {}", dir.path().display());
            dir.disable_cleanup(true);
        }
        // Postfix and Dovecot's unprivileged processes must reach the sockets in here
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let d = dir.path();
        let (store, _) = Store::open(&d.join("schola.db")).unwrap();
        let actor = Actor::system("test");
        let scheme = LoginScheme::default();
        store
            .setup_school(
                &actor,
                &schola_core::directory::School {
                    name: "Lindenschule".into(),
                    mail_domain: DOMAIN.into(),
                    default_language: None,
                },
                person("Ada", "Admin", "admin", Role::Admin),
                &scheme,
            )
            .unwrap();
        for (given, family, login, role) in [
            ("Anna", "Berg", "anna", Role::Student),
            ("Ben", "Roth", "ben", Role::Student),
            ("Carla", "Weiss", "carla", Role::Teacher),
        ] {
            store
                .create_person(&actor, person(given, family, login, role), &scheme)
                .unwrap();
        }
        for (name, kind) in [("5a", GroupKind::Class), ("lehrer", GroupKind::Staff)] {
            store
                .create_group(
                    &actor,
                    NewGroup {
                        name: name.into(),
                        display_name: None,
                        kind,
                        external_id: None,
                    },
                )
                .unwrap();
        }
        store
            .add_member(&actor, "5a", "anna", MemberRole::Member)
            .unwrap();
        store
            .add_member(&actor, "5a", "ben", MemberRole::Member)
            .unwrap();
        store
            .add_member(&actor, "5a", "carla", MemberRole::Owner)
            .unwrap();
        store
            .add_member(&actor, "lehrer", "carla", MemberRole::Member)
            .unwrap();

        let mut mail_cfg = MailConfig {
            vmail_dir: d.join("vmail"),
            dovecot_config: d.join("dovecot/dovecot.conf"),
            ..MailConfig::default()
        };
        tune(&mut mail_cfg);
        let (cert, key, cert_der) = make_cert(d);
        let setup = Setup {
            hostname: "mail.school.test".into(),
            domain: DOMAIN.into(),
            listen: Listen::Loopback,
            ports: local::free_ports().unwrap(),
            postfix_dir: d.join("postfix"),
            postfix_queue_dir: d.join("spool"),
            postfix_data_dir: d.join("postfix-data"),
            postfix_log: Some(d.join("postfix.log")),
            dovecot_dir: d.join("dovecot"),
            dovecot_base_dir: d.join("dovecot-run"),
            dovecot_state_dir: Some(d.join("dovecot-state")),
            dovecot_log: Some(d.join("dovecot.log")),
            instance_name: format!("schola-test-{}", std::process::id()),
            tls_cert: cert,
            tls_key: key,
            socketmap_socket: d.join("run/socketmap.sock"),
            policy_socket: d.join("run/policy.sock"),
            auth_socket: d.join("run/auth.sock"),
            lmtp_socket: d.join("dovecot-run/schola-lmtp"),
            sasl_socket: d.join("dovecot-run/schola-auth"),
            vmail_dir: mail_cfg.vmail_dir.clone(),
            vmail_user: "vmail".into(),
            vmail_uid: vmail.uid.as_raw(),
            schola_user: "root".into(),
            login_processes: 2,
            mail: mail_cfg.clone(),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let store2 = Store::open_current(&d.join("schola.db"), Arc::new(SystemClock)).unwrap();
        let mut mail = Mail::new(store2, mail_cfg).unwrap();
        mail.master = Some(MasterSecret::load_or_create(&d.join("webmail.secret")).unwrap());
        let mail = Arc::new(mail);
        let sockets = Sockets {
            socketmap: setup.socketmap_socket.clone(),
            policy: setup.policy_socket.clone(),
            auth: setup.auth_socket.clone(),
        };
        let guard = {
            let _enter = rt.enter();
            server::serve(mail.clone(), &sockets).unwrap()
        };

        let servers = LocalServers::launch(setup.clone()).unwrap_or_else(|e| panic!("{e}"));
        School {
            servers,
            guard: Some(guard),
            rt,
            mail,
            store,
            setup,
            cert_der,
            dir,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The last 4 KiB of a log in the test directory (for assertion messages).
    pub fn log(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.path().join(name)).unwrap_or_default();
        let start = text.len().saturating_sub(4096);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text[start..].to_string()
    }

    /// Sends a message with swaks. `auth` is `Some(login)` to sign in (password [`PASSWORD`])
    /// on submission with STARTTLS; `None` sends unauthenticated to port 25 as another server
    /// would.
    pub fn send(
        &self,
        auth: Option<(&str, &str)>,
        from: &str,
        to: &[&str],
        subject: &str,
        extra: &[&str],
    ) -> Output {
        let mut c = Command::new("swaks");
        c.args([
            "--from",
            from,
            "--to",
            &to.join(","),
            "--header",
            &format!("Subject: {subject}"),
        ]);
        c.args(["--timeout", "20"]);
        match auth {
            Some((login, password)) => {
                c.args([
                    "--server",
                    &format!("127.0.0.1:{}", self.setup.ports.submission),
                ]);
                c.args([
                    "-tls",
                    "--auth",
                    "PLAIN",
                    "--auth-user",
                    login,
                    "--auth-password",
                    password,
                ]);
            }
            None => {
                c.args(["--server", &format!("127.0.0.1:{}", self.setup.ports.smtp)]);
            }
        }
        c.args(extra);
        c.output().unwrap()
    }

    /// Sends a message signed in as `login` from their own address, and asserts it was taken.
    pub fn send_ok(&self, login: &str, to: &[&str], subject: &str) {
        let from = format!("{login}@{DOMAIN}");
        let out = self.send(Some((login, PASSWORD)), &from, to, subject, &[]);
        assert!(
            out.status.success(),
            "{login}'s mail '{subject}' to {to:?} was refused:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs curl against the IMAPS port as `login` with `password`; `url_path` follows the port.
    pub fn imap(&self, login: &str, password: &str, url_path: &str, extra: &[&str]) -> Output {
        Command::new("curl")
            .args([
                "-sS",
                "--insecure",
                "--max-time",
                "20",
                "--user",
                &format!("{login}:{password}"),
            ])
            .arg(format!(
                "imaps://127.0.0.1:{}/{url_path}",
                self.setup.ports.imaps
            ))
            .args(extra)
            .output()
            .unwrap()
    }

    /// The UIDs of the messages in `login`'s INBOX that match an IMAP SEARCH, over IMAP.
    pub fn search(&self, login: &str, criteria: &str) -> Vec<u32> {
        let out = self.imap(
            login,
            PASSWORD,
            "INBOX",
            &["--request", &format!("UID SEARCH {criteria}")],
        );
        assert!(
            out.status.success(),
            "IMAP SEARCH as {login} failed: {}\n--- dovecot.log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log("dovecot.log")
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("* SEARCH"))
            .flat_map(|l| {
                l.split_whitespace()
                    .map(|n| n.parse::<u32>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// One whole message of `login`'s INBOX, over IMAP.
    pub fn fetch(&self, login: &str, uid: u32) -> String {
        let out = self.imap(login, PASSWORD, &format!("INBOX;UID={uid}"), &[]);
        assert!(
            out.status.success(),
            "IMAP FETCH as {login} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until `login`'s INBOX (read over IMAP) has a message with `subject`; returns its UID.
    pub fn wait_for_subject(&self, login: &str, subject: &str) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(&uid) = self
                .search(login, &format!("SUBJECT \"{subject}\""))
                .first()
            {
                return uid;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "'{subject}' did not reach {login}'s INBOX in 30 s\n--- postfix.log:\n{}\n--- dovecot.log:\n{}",
                self.log("postfix.log"),
                self.log("dovecot.log")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Message files in a person's Maildir (new and cur).
    pub fn maildir_count(&self, person_id: i64) -> usize {
        let base = self
            .setup
            .vmail_dir
            .join(person_id.to_string())
            .join("Maildir");
        ["new", "cur"]
            .iter()
            .map(|d| {
                std::fs::read_dir(base.join(d))
                    .map(|r| r.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    pub fn id(&self, login: &str) -> i64 {
        self.store.person_by_login(login).unwrap().unwrap().id
    }

    pub fn actor() -> Actor {
        Actor::system("test")
    }

    /// Waits until schola-mail's address book has caught up with the journal.
    pub fn wait_for_book(&self) {
        let head = self.store.journal_head().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.mail.book().journal_seq < head {
            assert!(
                Instant::now() < deadline,
                "schola-mail did not follow the journal in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn person(given: &str, family: &str, login: &str, role: Role) -> NewPerson {
    NewPerson {
        login: Some(login.into()),
        given_name: given.into(),
        family_name: family.into(),
        role: Some(role),
        password_hash: Some(hashed(PASSWORD)),
        ..Default::default()
    }
}

pub fn hashed(password: &str) -> Hashed {
    Hashed {
        phc: hash_password(Argon2Config::default(), password).unwrap(),
        nt: nt_hash(password),
    }
}

fn make_cert(dir: &Path) -> (PathBuf, PathBuf, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["mail.school.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k, cert.der().to_vec())
}
