//! Test kit: a real `schola-web` process on a free loopback port, a school made in-process
//! through schola-core, and an HTTPS client that trusts exactly the server's certificate.

use std::io::{BufRead as _, BufReader};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::config::Argon2Config;
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role, School};
use schola_core::login::LoginScheme;
use schola_core::{Config, Store};

/// Small argon2 parameters keep the suite fast; the format and code path are the real ones.
pub const FAST: Argon2Config = Argon2Config {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};
pub const ADMIN_PW: &str = "Rektorat-2026!";
pub const STUDENT_PW: &str = "Sonnenblume-42";

pub struct Server {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub url: String,
    pub cert_pem: Vec<u8>,
    pub log: Arc<Mutex<String>>,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn config_text(extra: &str) -> String {
    format!(
        "profile = \"dev\"\n[web]\nlisten = [\"127.0.0.1:0\"]\n[auth.argon2]\nmemory_kib = {}\niterations = {}\nparallelism = {}\n{extra}",
        FAST.memory_kib, FAST.iterations, FAST.parallelism
    )
}

/// A temp dir with a config; `extra` is appended (e.g. an `[auth]` section).
pub fn school_dir(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schola.toml");
    std::fs::write(&path, config_text(extra)).unwrap();
    (dir, path)
}

pub fn open_store(config_path: &std::path::Path) -> Store {
    let cfg = Config::load(config_path).unwrap();
    Store::open(&cfg.database_path()).unwrap().0
}

/// The school "Testschule": admin `admin`, class 4b with student `joerg.mueller`, teacher
/// `anke.lehmann` owning 4b.
pub fn populate(store: &Store) {
    let actor = Actor::system("test");
    let scheme = LoginScheme::default();
    let hash = |pw: &str| schola_core::password::hash_password_for(FAST, pw).unwrap();
    store
        .setup_school(
            &actor,
            &School {
                name: "Testschule Am See".into(),
                mail_domain: "see.schule.example".into(),
                default_language: None,
            },
            NewPerson {
                login: Some("admin".into()),
                given_name: "Ada".into(),
                family_name: "Admin".into(),
                password_hash: Some(hash(ADMIN_PW)),
                ..Default::default()
            },
            &scheme,
        )
        .unwrap();
    store
        .batch(&actor, |b| {
            b.create_group(&NewGroup {
                name: "4b".into(),
                display_name: Some("Klasse 4b".into()),
                kind: GroupKind::Class,
                external_id: None,
            })?;
            let (_, s) = b.create_person(
                &NewPerson {
                    given_name: "Jörg".into(),
                    family_name: "Müller".into(),
                    role: Some(Role::Student),
                    password_hash: Some(hash(STUDENT_PW)),
                    ..Default::default()
                },
                &scheme,
            )?;
            let (_, t) = b.create_person(
                &NewPerson {
                    given_name: "Anke".into(),
                    family_name: "Lehmann".into(),
                    role: Some(Role::Teacher),
                    password_hash: Some(hash("Tafelkreide-7")),
                    ..Default::default()
                },
                &scheme,
            )?;
            b.add_member("4b", &s, MemberRole::Member)?;
            b.add_member("4b", &t, MemberRole::Owner)?;
            Ok(())
        })
        .unwrap();
}

impl Server {
    /// Starts a server on a populated school.
    pub fn start(extra: &str) -> Server {
        let (dir, path) = school_dir(extra);
        populate(&open_store(&path));
        Self::start_in(dir, path)
    }

    /// Starts the real binary and waits until it says where it listens.
    pub fn start_in(dir: tempfile::TempDir, config_path: PathBuf) -> Server {
        Self::start_with_env(dir, config_path, &[])
    }

    pub fn start_with_env(
        dir: tempfile::TempDir,
        config_path: PathBuf,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_schola-web"))
            .envs(env.iter().copied())
            .arg("--config")
            .arg(&config_path)
            .env("RUST_LOG", "info")
            .env_remove("JOURNAL_STREAM")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("schola-web: listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
                log2.lock().unwrap().push_str(&line);
                log2.lock().unwrap().push('\n');
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(u) => u,
            Err(_) => panic!("schola-web did not start:\n{}", log.lock().unwrap()),
        };
        let cfg = Config::load(&config_path).unwrap();
        let cert_pem = std::fs::read(cfg.tls_dir().join("cert.pem")).unwrap();
        Server {
            dir,
            config_path,
            url,
            cert_pem,
            log,
            child,
        }
    }

    /// The schola-web process (for its memory in /proc/<pid>/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn store(&self) -> Store {
        open_store(&self.config_path)
    }

    /// A browser-like client: cookie jar, no automatic redirects, trusts only this server.
    pub fn client(&self) -> reqwest::Client {
        self.client_from(None)
    }

    /// A client whose connections come from `local` (another loopback address = another device).
    pub fn client_from(&self, local: Option<IpAddr>) -> reqwest::Client {
        let cert = reqwest::Certificate::from_pem(&self.cert_pem).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(cert)
            .tls_built_in_root_certs(false)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The HTML of a page, as client `c` sees it.
    pub async fn page(&self, c: &reqwest::Client, path: &str) -> String {
        c.get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Loads the sign-in page and returns the form's CSRF token.
    pub async fn csrf(&self, c: &reqwest::Client, path: &str) -> String {
        let body = self.page(c, path).await;
        hidden_csrf(&body).unwrap_or_else(|| panic!("no csrf field on {path}:\n{body}"))
    }

    /// Signs in through the form; returns the response to the POST.
    pub async fn sign_in(
        &self,
        c: &reqwest::Client,
        login: &str,
        password: &str,
    ) -> reqwest::Response {
        let csrf = self.csrf(c, "/login").await;
        c.post(self.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", login),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }
}

pub fn hidden_csrf(body: &str) -> Option<String> {
    let i = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[i..].split('"').next()?.to_string())
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Polls until `f` is true or `secs` pass.
pub async fn eventually(secs: u64, mut f: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if f().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

impl Server {
    /// Starts a server on a populated school with `dropin` as a conf.d file (for example a
    /// `[web]` section with low limits), the way an admin changes settings.
    pub fn start_with_dropin(dropin: &str) -> Server {
        let (dir, path) = school_dir("");
        std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/50-test.toml"), dropin).unwrap();
        populate(&open_store(&path));
        Self::start_in(dir, path)
    }

    /// The HTTPS listener's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("https://").parse().unwrap()
    }

    /// The metrics listener's URL, as the server printed it (the config must turn it on).
    pub fn metrics_url(&self) -> String {
        let log = self.log.lock().unwrap();
        let line = log
            .lines()
            .find_map(|l| l.strip_prefix("schola-web: metrics on "))
            .unwrap_or_else(|| panic!("no metrics listener:\n{log}"));
        line.to_string()
    }

    /// The metrics text, as Prometheus would scrape it.
    pub async fn scrape(&self) -> String {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(self.metrics_url())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }

    /// A TLS connector that trusts exactly this server's certificate.
    pub fn tls_connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(&self.cert_pem).unwrap();
        roots.add(der).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
    }

    /// A TLS connection from `local` (a loopback address standing for a device).
    pub async fn tls_from(
        &self,
        local: IpAddr,
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = tcp_from(local, self.addr()).await;
        let name = rustls_pki_types::ServerName::IpAddress(self.addr().ip().into());
        self.tls_connector().connect(name, tcp).await.unwrap()
    }
}

/// A TCP connection to `to` from the loopback address `local`.
pub async fn tcp_from(local: IpAddr, to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind((local, 0).into()).unwrap();
    sock.connect(to).await.unwrap()
}

/// The value of one series in a metrics text, e.g. `schola_signins_total{outcome="success"}`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}
