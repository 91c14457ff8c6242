//! A throw-away school for benchmarks: a temp directory with a dev-profile `schola.toml`, a store
//! with a school, an admin and bench students, and a real `schola-web` process serving it, killed
//! when the guard is dropped (also on error paths).

use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use schola_core::Config;
use schola_core::Store;
use schola_core::audit::Actor;
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role, School};
use schola_core::login::LoginScheme;
use schola_core::password::Hashed;
use schola_load::client::{Target, get_once};

use crate::cgroup::SizeGroup;

/// The password every bench account has.
pub const PASSWORD: &str = "Bench-Passwort-2024";

/// The temp directory and its configuration, before the server starts.
pub struct BenchDir {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub cfg: Config,
    pub addr: SocketAddr,
}

impl BenchDir {
    /// Makes the temp directory and writes `schola.toml` listening on a free loopback port.
    pub fn create() -> Result<BenchDir> {
        Self::create_with_web("")
    }

    /// Like [`BenchDir::create`], with `web` (TOML lines such as `max_connections = 12000`)
    /// added to the `[web]` table.
    pub fn create_with_web(web: &str) -> Result<BenchDir> {
        Self::create_with(web, "")
    }

    /// Like [`BenchDir::create_with_web`], with `tables` (whole TOML tables such as
    /// `[files]\nstudent_quota_mb = 4096`) appended after `[web]`.
    pub fn create_with(web: &str, tables: &str) -> Result<BenchDir> {
        let dir = tempfile::Builder::new()
            .prefix("schola-bench-")
            .tempdir()
            .context("cannot make a temp directory")?;
        let addr = free_port()?;
        let config_path = dir.path().join("schola.toml");
        let text = format!(
            "profile = \"dev\"\n\n[paths]\nroot = \".\"\n\n[web]\nlisten = [\"{addr}\"]\n{web}\n{tables}"
        );
        std::fs::write(&config_path, text)
            .with_context(|| format!("cannot write {}", config_path.display()))?;
        let cfg = Config::load(&config_path)?;
        Ok(BenchDir {
            dir,
            config_path,
            cfg,
            addr,
        })
    }

    /// Creates the school, its admin and `students` students, all with the password
    /// `hash`; returns the students' logins.
    pub fn populate(&self, hash: &Hashed, students: usize) -> Result<Vec<String>> {
        self.populate_classes(hash, students, 0)
    }

    /// Like [`BenchDir::populate`]; with `class_size` > 0 the students are also put into classes
    /// of that size, so that their start page lists a class like a real one does.
    pub fn populate_classes(
        &self,
        hash: &Hashed,
        students: usize,
        class_size: usize,
    ) -> Result<Vec<String>> {
        let (store, _) = Store::open(&self.cfg.database_path())?;
        let actor = Actor::system("schola-bench");
        let scheme = LoginScheme::default();
        store.setup_school(
            &actor,
            &School {
                name: "Bench School".into(),
                mail_domain: "bench.example".into(),
                default_language: None,
            },
            NewPerson {
                given_name: "Ada".into(),
                family_name: "Admin".into(),
                login: Some("admin".into()),
                password_hash: Some(hash.clone()),
                ..Default::default()
            },
            &scheme,
        )?;
        let logins = store.batch(&actor, |b| {
            let mut logins = Vec::with_capacity(students);
            let classes = if class_size == 0 {
                0
            } else {
                students.div_ceil(class_size)
            };
            for c in 1..=classes {
                b.create_group(&NewGroup {
                    name: format!("class-{c:03}"),
                    display_name: Some(format!("Class {c}")),
                    kind: GroupKind::Class,
                    external_id: None,
                })?;
            }
            for i in 1..=students {
                let (_, login) = b.create_person(
                    &NewPerson {
                        given_name: "Bench".into(),
                        family_name: format!("Student {i:03}"),
                        login: Some(format!("bench.student{i:03}")),
                        role: Some(Role::Student),
                        password_hash: Some(hash.clone()),
                        ..Default::default()
                    },
                    &scheme,
                )?;
                if let Some(c) = (i - 1).checked_div(class_size) {
                    b.add_member(&format!("class-{:03}", c + 1), &login, MemberRole::Member)?;
                }
                logins.push(login);
            }
            Ok(logins)
        })?;
        Ok(logins)
    }

    /// The PEM certificate the server generates on first start.
    pub fn cert_path(&self) -> PathBuf {
        self.cfg.tls_dir().join("cert.pem")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("schola-web.log")
    }

    pub fn files_log_path(&self) -> PathBuf {
        self.dir.path().join("schola-files.log")
    }
}

/// A running `schola-files` (the file share daemon schola-web forwards `/dav` and `/files/api`
/// to over the Unix socket [`Config::files_socket`]); dropping it kills the process and waits.
pub struct FilesGuard {
    child: Child,
    log: PathBuf,
}

impl Drop for FilesGuard {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

impl FilesGuard {
    /// Starts `schola-files --config <dir>/schola.toml` (the binary next to this one), output
    /// to `<dir>/schola-files.log`, and waits until its socket accepts a connection. Start it
    /// before [`ServerGuard::start`], so that schola-web finds it.
    pub fn start(bench: &BenchDir, timeout: Duration) -> Result<FilesGuard> {
        let exe = std::env::current_exe()
            .context("cannot find this executable")?
            .with_file_name("schola-files");
        if !exe.exists() {
            bail!(
                "{} does not exist; build it with `cargo build --release -p schola-files` (scripts/bench files does)",
                exe.display()
            );
        }
        let log_path = bench.files_log_path();
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log2 = log.try_clone().context("log file")?;
        let child = Command::new(&exe)
            .arg("--config")
            .arg(&bench.config_path)
            .current_dir(bench.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let mut guard = FilesGuard {
            child,
            log: log_path,
        };
        let socket = bench.cfg.files_socket();
        let start = Instant::now();
        loop {
            if let Some(status) = guard.child.try_wait().context("schola-files")? {
                bail!(
                    "schola-files exited ({status}) before it was ready; its log ends:\n{}",
                    guard.log_tail(40)
                );
            }
            match std::os::unix::net::UnixStream::connect(&socket) {
                Ok(_) => return Ok(guard),
                Err(e) if start.elapsed() > timeout => bail!(
                    "schola-files did not listen on {} after {} s ({e}); its log ends:\n{}",
                    socket.display(),
                    timeout.as_secs(),
                    guard.log_tail(40)
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The daemon's process id (for its `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `lines` lines of the daemon's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail_of(&self.log, lines)
    }
}

/// A running `schola-web`; dropping it kills the process and waits for it.
pub struct ServerGuard {
    child: Child,
    log: PathBuf,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Kills a daemon the benchmark started and waits for it (both guards' drop).
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `lines` of a daemon's log, or why it cannot be read (both guards' `log_tail`).
fn log_tail_of(log: &Path, lines: usize) -> String {
    tail(log, lines).unwrap_or_else(|e| format!("(cannot read {}: {e})", log.display()))
}

impl ServerGuard {
    /// Starts `schola-web --config <dir>/schola.toml` (the binary next to this one), output to
    /// `<dir>/schola-web.log`, and waits until `GET /healthz` answers 200 over TLS.
    pub async fn start(bench: &BenchDir, timeout: Duration) -> Result<(ServerGuard, Target)> {
        Self::start_in(bench, timeout, None).await
    }

    /// Like [`ServerGuard::start`], inside the control group `group` when one is given.
    pub async fn start_in(
        bench: &BenchDir,
        timeout: Duration,
        group: Option<&SizeGroup>,
    ) -> Result<(ServerGuard, Target)> {
        let exe = std::env::current_exe()
            .context("cannot find this executable")?
            .with_file_name("schola-web");
        if !exe.exists() {
            bail!(
                "{} does not exist; build it with `cargo build --release -p schola-web` (scripts/bench does)",
                exe.display()
            );
        }
        let log_path = bench.log_path();
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log2 = log.try_clone().context("log file")?;
        let mut command = match group {
            Some(g) => g.command(&exe),
            None => Command::new(&exe),
        };
        let child = command
            .arg("--config")
            .arg(&bench.config_path)
            .current_dir(bench.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let mut guard = ServerGuard {
            child,
            log: log_path,
        };
        let target = guard.wait_ready(bench, timeout).await?;
        Ok((guard, target))
    }

    async fn wait_ready(&mut self, bench: &BenchDir, timeout: Duration) -> Result<Target> {
        let start = Instant::now();
        let cert = bench.cert_path();
        let mut last = String::from("the certificate was not generated");
        loop {
            if let Some(status) = self.child.try_wait().context("schola-web")? {
                bail!(
                    "schola-web exited ({status}) before it was ready; its log ends:\n{}",
                    self.log_tail(40)
                );
            }
            if cert.exists() {
                // the file may be half written the first time we look: then try again
                match Target::new(bench.addr, &cert) {
                    Ok(target) => match get_once(&target, "/healthz").await {
                        Ok(s) if s.as_u16() == 200 => return Ok(target),
                        Ok(s) => last = format!("GET /healthz answered {s}"),
                        Err(e) => last = format!("GET /healthz: {e:#}"),
                    },
                    Err(e) => last = format!("{e:#}"),
                }
            }
            if start.elapsed() > timeout {
                bail!(
                    "schola-web was not ready after {} s (last: {last}); its log ends:\n{}",
                    timeout.as_secs(),
                    self.log_tail(40)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's process id (for its `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail_of(&self.log, lines)
    }
}

fn tail(path: &Path, lines: usize) -> std::io::Result<String> {
    const MAX: u64 = 64 * 1024;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(MAX)))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    Ok(all[from..].iter().map(|l| format!("  | {l}\n")).collect())
}

/// Raises this process's limit of open files (`RLIMIT_NOFILE`) to the hard limit, so that it
/// and the `schola-web` it starts afterwards (which inherits the limit) can hold many
/// connections; returns the limit now in force.
pub fn raise_open_files_limit() -> Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).context("cannot read the open files limit")?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
            .with_context(|| format!("cannot raise the open files limit from {soft} to {hard}"))?;
    }
    Ok(hard)
}

/// A loopback address with a port that was free a moment ago.
pub fn free_port() -> Result<SocketAddr> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("cannot find a free port")?;
    Ok(l.local_addr()?)
}
