//! `scripts/bench mail`: school mail on this machine, with real Postfix and Dovecot (the test
//! kit's school) and a release build of schola-mail.
//!
//! 1. socketmap lookups per second over the Unix socket (4 connections, as several smtpd
//!    processes would hold), for a school of 1,500 people and 60 lists; goal >= 20,000/s;
//! 2. 1,000 messages to a list of 30, end to end: from the first submission (port 587,
//!    STARTTLS with the certificate checked, signed in; 4 connections each sending one message
//!    after another, as a mail client or webmail would) to the last of the 30,000 Maildir files;
//! 3. IMAP sign-ins per second with Dovecot's auth cache cold (every sign-in an argon2id
//!    verification) and warm, next to the argon2id verifications per second all cores do in
//!    the same run.
//!
//! Exit 0 when the lookup goal is met and every message arrived.

// A benchmark run by hand, built like a test (no libtest harness, so clippy does not see it as
// one): a failed step ends it with the reason, as a test's assertion would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "it/kit.rs"]
mod kit;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kit::{DOMAIN, PASSWORD, School};
use schola_core::config::Argon2Config;
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role};
use schola_core::login::LoginScheme;
use schola_core::password::{hash_password, verify_password};

struct Opts {
    people: usize,
    lists: usize,
    lookup_seconds: f64,
    messages: usize,
    members: usize,
    signins: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        people: 1500,
        lists: 60,
        lookup_seconds: 5.0,
        messages: 1000,
        members: 30,
        signins: 200,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--people" => o.people = value().parse().expect("--people N"),
            "--lists" => o.lists = value().parse().expect("--lists N"),
            "--lookup-seconds" => o.lookup_seconds = value().parse().expect("--lookup-seconds S"),
            "--messages" => o.messages = value().parse().expect("--messages N"),
            "--members" => o.members = value().parse().expect("--members N"),
            "--signins" => o.signins = value().parse().expect("--signins N"),
            // cargo's test runner passes these through
            "--bench" | "--nocapture" => {
                i += 1;
                continue;
            }
            other => {
                eprintln!(
                    "scripts/bench mail: unknown option '{other}' (known: --people N --lists N --lookup-seconds S --messages N --members N --signins N)"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    o
}

fn main() {
    let o = opts();
    let started = Instant::now();
    println!(
        "== setting up: a school of {} people and {} lists, Postfix and Dovecot on loopback",
        o.people, o.lists
    );
    let s = School::start(|m| {
        m.staff_recipients_per_hour = 0;
        m.student_recipients_per_hour = 0;
    });
    let actor = School::actor();
    let scheme = LoginScheme::default();
    // people with passwords sign in in phase 3; hashing them is spread over the cores
    let hash = hash_password(Argon2Config::default(), PASSWORD).unwrap();
    let mut logins = Vec::with_capacity(o.people);
    s.store
        .batch(&actor, |b| {
            for n in 0..o.people {
                let login = format!("s{n:05}");
                b.create_person(
                    &NewPerson {
                        login: Some(login.clone()),
                        given_name: format!("Kind{n}"),
                        family_name: "Bench".into(),
                        role: Some(Role::Student),
                        password_hash: (n < o.signins).then(|| schola_core::password::Hashed {
                            phc: hash.clone(),
                            nt: String::new(),
                        }),
                        ..Default::default()
                    },
                    &scheme,
                )?;
                logins.push(login);
            }
            for l in 0..o.lists {
                let name = format!("k{l:02}");
                b.create_group(&NewGroup {
                    name: name.clone(),
                    display_name: None,
                    kind: GroupKind::Class,
                    external_id: None,
                })?;
                for m in 0..o.members {
                    b.add_member(
                        &name,
                        &logins[(l * o.members + m) % o.people],
                        MemberRole::Member,
                    )?;
                }
            }
            Ok(())
        })
        .unwrap();
    s.store
        .add_member(&actor, "k00", "carla", MemberRole::Owner)
        .unwrap();
    s.wait_for_book();
    println!("   ready in {:.1} s", started.elapsed().as_secs_f64());

    let lookups = lookup_rate(&s, &logins, o.lookup_seconds);
    let lookup_ok = lookups >= 20_000.0;
    println!(
        "socketmap lookups: {lookups:.0}/s over 4 connections (goal >= 20,000/s: ratio {:.2}) — {}",
        lookups / 20_000.0,
        if lookup_ok { "PASS" } else { "FAIL" }
    );

    let delivered_all = list_delivery(&s, &logins, &o);

    let (cold, warm, limit) = signins(&s, &logins[..o.signins.min(o.people)]);
    println!(
        "IMAP sign-ins: cache cold {cold:.0}/s, warm {warm:.0}/s; argon2id limit of this machine {limit:.0}/s (cold = {:.2} of it, warm = {:.1} x it)",
        cold / limit,
        warm / limit
    );
    println!("total {:.0} s", started.elapsed().as_secs_f64());
    std::process::exit(if lookup_ok && delivered_all { 0 } else { 1 });
}

/// Lookups per second by 4 connections asking one after another, a realistic mix: a domain,
/// a mailbox, an alias or list, a sender.
fn lookup_rate(s: &School, logins: &[String], seconds: f64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = s.setup.socketmap_socket.clone();
            let logins = logins.to_vec();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut c = UnixStream::connect(&path).unwrap();
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut n = 0u64;
                let mut reply = Vec::new();
                while Instant::now() < until {
                    for k in 0..64 {
                        let i = (t * 7919 + n as usize + k) % logins.len();
                        let req = match k % 4 {
                            0 => format!("domains {DOMAIN}"),
                            1 => format!("mailboxes {}@{DOMAIN}", logins[i]),
                            2 => format!("aliases k{:02}@{DOMAIN}", i % 60),
                            _ => format!("senders {}@{DOMAIN}", logins[i]),
                        };
                        write!(c, "{}:{req},", req.len()).unwrap();
                        reply.clear();
                        r.read_until(b':', &mut reply).unwrap();
                        let len: usize = std::str::from_utf8(&reply[..reply.len() - 1])
                            .unwrap()
                            .parse()
                            .unwrap();
                        let mut body = vec![0; len + 1];
                        r.read_exact(&mut body).unwrap();
                        assert!(
                            body.starts_with(b"OK ") || body.starts_with(b"NOTFOUND"),
                            "{}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    n += 64;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    let start = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// 1,000 messages from a teacher to a list, submitted 4 at a time; returns whether all arrived.
fn list_delivery(s: &School, logins: &[String], o: &Opts) -> bool {
    let members: Vec<i64> = (0..o.members)
        .map(|m| s.id(&logins[m % logins.len()]))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .chain([s.id("carla")])
        .collect();
    let expected = o.messages * members.len();
    println!(
        "== {} messages to k00@{DOMAIN} ({} members with its owner), 4 submissions at a time",
        o.messages,
        members.len()
    );
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let next = next.clone();
            let failed = failed.clone();
            scope.spawn(move || {
                let mut smtp = Smtp::submission(s, "carla");
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if n >= o.messages {
                        break;
                    }
                    if let Err(e) = smtp.send(
                        &format!("carla@{DOMAIN}"),
                        &format!("k00@{DOMAIN}"),
                        &format!("Rundbrief {n}"),
                    ) {
                        eprintln!("message {n}: {e}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                smtp.quit();
            });
        }
    });
    let submitted = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut count = 0;
    while Instant::now() < deadline {
        count = members.iter().map(|&id| s.maildir_count(id)).sum::<usize>();
        if count >= expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let total = start.elapsed();
    println!(
        "   submitted in {:.1} s ({:.0} messages/s, {} refused); last of {count}/{expected} Maildir files after {:.1} s ({:.0} deliveries/s end to end)",
        submitted.as_secs_f64(),
        o.messages as f64 / submitted.as_secs_f64(),
        failed.load(Ordering::Relaxed),
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64()
    );
    count >= expected && failed.load(Ordering::Relaxed) == 0
}

/// A submission client: EHLO, STARTTLS (checking the kit's certificate), AUTH PLAIN, then one
/// message after another on the same connection.
struct Smtp {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

fn reply<R: std::io::BufRead>(r: &mut R) -> (u16, String) {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return (0, format!("{all}<connection closed>"));
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return (line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0), all);
        }
    }
}

impl Smtp {
    fn submission(s: &School, login: &str) -> Smtp {
        use base64::Engine as _;
        let mut tcp = TcpStream::connect(("127.0.0.1", s.setup.ports.submission)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut r = BufReader::new(tcp.try_clone().unwrap());
        assert_eq!(reply(&mut r).0, 220);
        write!(tcp, "EHLO bench.example\r\n").unwrap();
        assert_eq!(reply(&mut r).0, 250);
        write!(tcp, "STARTTLS\r\n").unwrap();
        assert_eq!(reply(&mut r).0, 220);
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls_pki_types::CertificateDer::from(s.cert_der.clone()))
            .unwrap();
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("mail.school.test").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
        let mut smtp = Smtp {
            tls: rustls::StreamOwned::new(conn, tcp),
        };
        smtp.cmd("EHLO bench.example", 250).unwrap();
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{login}\0{PASSWORD}"));
        smtp.cmd(&format!("AUTH PLAIN {token}"), 235).unwrap();
        smtp
    }

    fn cmd(&mut self, line: &str, want: u16) -> Result<(), String> {
        write!(self.tls, "{line}\r\n").map_err(|e| e.to_string())?;
        self.tls.flush().map_err(|e| e.to_string())?;
        let (code, text) = reply(&mut BufReader::new(&mut self.tls));
        if code == want {
            Ok(())
        } else {
            Err(format!("{line} -> {text}"))
        }
    }

    fn send(&mut self, from: &str, to: &str, subject: &str) -> Result<(), String> {
        self.cmd(&format!("MAIL FROM:<{from}>"), 250)?;
        self.cmd(&format!("RCPT TO:<{to}>"), 250)?;
        self.cmd("DATA", 354)?;
        let msg = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLiebe Klasse, morgen faellt die erste Stunde aus.\r\n."
        );
        self.cmd(&msg, 250)
    }

    fn quit(mut self) {
        let _ = self.cmd("QUIT", 221);
    }
}

/// One IMAP sign-in over port 143 (Dovecot counts loopback as secure for plaintext LOGIN).
fn imap_login(port: u16, login: &str) -> bool {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut r = BufReader::new(c.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return false;
    }
    write!(c, "a LOGIN {login} {PASSWORD}\r\nb LOGOUT\r\n").unwrap();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        if let Some(rest) = line.strip_prefix("a ") {
            return rest.starts_with("OK");
        }
    }
}

fn rate_of(s: &School, logins: &[String]) -> f64 {
    let port = s.setup.ports.imap;
    let next = AtomicU64::new(0);
    let bad = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if n >= logins.len() {
                        break;
                    }
                    if !imap_login(port, &logins[n]) {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let bad = bad.load(Ordering::Relaxed);
    assert_eq!(
        bad,
        0,
        "{bad} IMAP sign-ins failed\n{}",
        s.log("dovecot.log")
    );
    logins.len() as f64 / start.elapsed().as_secs_f64()
}

/// (cold, warm, argon2id limit) in sign-ins or verifications per second.
fn signins(s: &School, logins: &[String]) -> (f64, f64, f64) {
    println!(
        "== {} IMAP sign-ins, each person once with the auth cache cold, then again warm",
        logins.len()
    );
    let flush = std::process::Command::new("doveadm")
        .arg("-c")
        .arg(s.setup.dovecot_dir.join("dovecot.conf"))
        .args(["auth", "cache", "flush"])
        .output()
        .unwrap();
    assert!(
        flush.status.success(),
        "doveadm auth cache flush: {}",
        String::from_utf8_lossy(&flush.stderr)
    );
    let asked = || s.mail.account_lookups.load(Ordering::Relaxed);
    let before = asked();
    let cold = rate_of(s, logins);
    let between = asked();
    let warm = rate_of(s, logins);
    println!(
        "   Dovecot asked schola-mail for accounts {} times during the cold round, {} during the warm one",
        between - before,
        asked() - between
    );
    // the ceiling: argon2id verifications of the same hash on every core, for 3 s
    let phc = hash_password(Argon2Config::default(), PASSWORD).unwrap();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let done = AtomicU64::new(0);
    let until = Instant::now() + Duration::from_secs(3);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| {
                while Instant::now() < until {
                    assert!(verify_password(&phc, PASSWORD));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let limit = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    (cold, warm, limit)
}
