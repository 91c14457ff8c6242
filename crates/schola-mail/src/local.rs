//! Debian's Postfix and Dovecot started by hand, beside the system's own, for a demo or a test:
//! `schola-mail local`, `scholactl demo` (as root) and the integration tests' kit. Never used on
//! the appliance, where systemd runs both with the files `schola-mail render-config` puts in
//! /etc.
//!
//! A second instance must not touch the system's mail servers: its own Postfix configuration,
//! queue and data directories, its own Dovecot `instance_name`, `base_dir` and `state_dir`, logs
//! in files of its own, and listeners on 127.0.0.1 only. [`LocalServers::start`] puts all of it
//! under `<state_dir>/mail-local/`; [`LocalServers::launch`] takes any [`Setup`] (the tests' temp
//! dirs). Both servers are stopped when the value is dropped: Postfix first, so nothing is left
//! mid-delivery to Dovecot.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use schola_core::{Config, Store};

use crate::conf::{self, Listen, Ports, Setup};

/// The programs a local instance runs (doveadm: schola-mail drops cached sign-ins with it).
const PROGRAMS: [&str; 3] = ["postfix", "dovecot", "doveadm"];
/// What installs them.
pub const INSTALL: &str = "apt-get install postfix dovecot-imapd dovecot-lmtpd";
/// How long the servers may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a server may take to stop before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Postfix and Dovecot must be started as root (run this as root, e.g. with sudo)")]
    NotRoot,
    #[error("{0} is not installed ({INSTALL})")]
    NotInstalled(&'static str),
    #[error("the system user '{0}' does not exist (create it: adduser --system --group {0})")]
    NoUser(String),
    #[error("the school has no mail domain yet (set it in the first-run setup)")]
    NoDomain,
    #[error(
        "no TLS certificate at {0} yet: schola-web makes one on its first start (start it once, or set [web] tls_cert and tls_key)"
    )]
    NoCertificate(PathBuf),
    #[error(
        "{dir} is closed to other users, so Postfix and Dovecot cannot reach {path} (chmod o+x {dir})"
    )]
    Closed { dir: PathBuf, path: PathBuf },
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot read the school from the database: {0}")]
    Store(#[from] schola_core::Error),
    #[error("{what} failed: {output}\n{logs}")]
    Failed {
        what: String,
        output: String,
        logs: String,
    },
    #[error("nothing listens on 127.0.0.1:{port} ({name}) after {} s\n{logs}", START_TIMEOUT.as_secs())]
    NotListening {
        name: &'static str,
        port: u16,
        logs: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// Whether this machine can run a local instance: root, the three programs, and the mailbox
/// owner `vmail_user`. The error says what to do about it.
pub fn check_available(vmail_user: &str) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::NotRoot);
    }
    for program in PROGRAMS {
        if !installed(program) {
            return Err(Error::NotInstalled(program));
        }
    }
    system_user(vmail_user)?;
    system_user("postfix").map_err(|_| Error::NotInstalled("postfix"))?;
    Ok(())
}

/// Which of the programs a local instance runs are not installed.
pub fn missing_programs() -> Vec<&'static str> {
    PROGRAMS.into_iter().filter(|p| !installed(p)).collect()
}

fn installed(program: &str) -> bool {
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|d| {
            d.join(program)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn system_user(name: &str) -> Result<nix::unistd::User> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| Error::NoUser(name.to_string()))
}

/// Five distinct free ports on 127.0.0.1 (held together while chosen, so none repeats).
pub fn free_ports() -> std::io::Result<Ports> {
    let held = (0..5)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    let port = |i: usize| -> std::io::Result<u16> { Ok(held[i].local_addr()?.port()) };
    Ok(Ports {
        smtp: port(0)?,
        submission: port(1)?,
        submissions: port(2)?,
        imap: port(3)?,
        imaps: port(4)?,
    })
}

/// Whether nothing listens on any of the five ports on 127.0.0.1.
pub fn ports_free(ports: &Ports) -> bool {
    ports
        .named()
        .iter()
        .all(|&(_, p)| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

/// This machine's host name (what Postfix greets with).
pub fn this_host() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// Where a local instance of `cfg`'s school keeps everything: `<state_dir>/mail-local`.
pub fn local_dir(cfg: &Config) -> PathBuf {
    cfg.paths.state_dir.join("mail-local")
}

/// The local instance's files for `cfg`'s school: listeners on 127.0.0.1 at `[mail.ports]`,
/// everything else under [`local_dir`], the certificate schola-web serves, the sockets where
/// `schola-mail` answers.
pub fn setup_for(cfg: &Config, hostname: &str, domain: &str) -> Result<Setup> {
    let d = local_dir(cfg);
    let m = &cfg.mail;
    let vmail = system_user(&m.vmail_user)?;
    let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".into());
    // the certificate schola-web serves (see `render-config`)
    let (tls_cert, tls_key) = cfg.tls_pair();
    Ok(Setup {
        hostname: hostname.to_string(),
        domain: domain.to_string(),
        listen: Listen::Loopback,
        ports: m.ports,
        postfix_dir: d.join("postfix"),
        postfix_queue_dir: d.join("spool"),
        postfix_data_dir: d.join("postfix-data"),
        postfix_log: Some(d.join("postfix.log")),
        dovecot_dir: d.join("dovecot"),
        // short: Dovecot's sockets live in here, and a socket's path has at most 107 bytes
        dovecot_base_dir: d.join("run"),
        dovecot_state_dir: Some(d.join("dovecot-state")),
        dovecot_log: Some(d.join("dovecot.log")),
        instance_name: "schola-local".into(),
        tls_cert,
        tls_key,
        socketmap_socket: cfg.mail_socketmap_socket(),
        policy_socket: cfg.mail_policy_socket(),
        auth_socket: cfg.mail_auth_socket(),
        lmtp_socket: d.join("run/schola-lmtp"),
        sasl_socket: d.join("run/schola-auth"),
        vmail_dir: m.vmail_dir.clone(),
        vmail_user: m.vmail_user.clone(),
        vmail_uid: vmail.uid.as_raw(),
        schola_user: me,
        // a demo or a test, not 8:00 at a school
        login_processes: 2,
        mail: m.clone(),
    })
}

/// Postfix and Dovecot running on 127.0.0.1 for one school; both stop when this is dropped.
pub struct LocalServers {
    setup: Setup,
    /// The pid of Postfix's master, read once it started: the pid file may be gone by the
    /// time this is dropped (a test's temp dir removed first).
    postfix: Option<i32>,
    dovecot: Option<Child>,
}

impl LocalServers {
    /// Starts Postfix and Dovecot for `cfg`'s school (see [`setup_for`]) and waits until IMAP
    /// and submission take connections. `schola-mail`'s sockets are served by the caller
    /// ([`crate::server::run`] with `mail.dovecot_config` set to [`Self::dovecot_config`]).
    pub fn start(cfg: &Config, hostname: &str) -> Result<LocalServers> {
        check_available(&cfg.mail.vmail_user)?;
        let store = Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock))?;
        let domain = store.school()?.mail_domain;
        drop(store);
        if domain.is_empty() {
            return Err(Error::NoDomain);
        }
        let setup = setup_for(cfg, hostname, &domain)?;
        for path in [&setup.tls_cert, &setup.tls_key] {
            if !path.exists() {
                return Err(Error::NoCertificate(path.clone()));
            }
        }
        LocalServers::launch(setup)
    }

    /// Writes `setup`'s files (Postfix's into `postfix_dir`, Dovecot's into `dovecot_dir`),
    /// makes the directories the servers need, starts Dovecot and Postfix, and waits until IMAP
    /// and submission take connections. A previous instance of the same files that was never
    /// stopped (its process killed) is stopped first.
    pub fn launch(setup: Setup) -> Result<LocalServers> {
        check_available(&setup.vmail_user)?;
        let vmail = system_user(&setup.vmail_user)?;
        let postfix = system_user("postfix")?;
        // Postfix's and Dovecot's unprivileged processes connect to these, and Dovecot's mail
        // processes (as vmail) work in the mailboxes
        for path in [
            &setup.socketmap_socket,
            &setup.policy_socket,
            &setup.auth_socket,
            &setup.lmtp_socket,
            &setup.sasl_socket,
            &setup.vmail_dir,
        ] {
            reachable(path)?;
        }
        stop_stale(&setup);

        conf::write_placed(&conf::render(&setup), |f| place(&setup, f))
            .map_err(io("write the Postfix and Dovecot configuration"))?;
        for dir in [
            &setup.postfix_queue_dir,
            &setup.postfix_data_dir,
            &setup.vmail_dir,
        ] {
            mkdir(dir)?;
        }
        for log in [&setup.postfix_log, &setup.dovecot_log]
            .into_iter()
            .flatten()
        {
            if let Some(dir) = log.parent() {
                mkdir(dir)?;
            }
        }
        // the queue belongs to root (`postfix start` makes its subdirectories), the data
        // directory to postfix, the mailboxes to vmail
        chown(&setup.postfix_data_dir, &postfix)?;
        chown(&setup.vmail_dir, &vmail)?;

        let mut servers = LocalServers {
            setup,
            postfix: None,
            dovecot: None,
        };
        servers.start_dovecot()?;
        servers.start_postfix()?;
        let ports = servers.setup.ports;
        servers.wait_for("IMAP", ports.imap)?;
        servers.wait_for("submission", ports.submission)?;
        log::info!(
            "Postfix and Dovecot for {} on 127.0.0.1: SMTP {}, submission {}, IMAP {} (logs in {})",
            servers.setup.domain,
            ports.smtp,
            ports.submission,
            ports.imap,
            servers
                .setup
                .postfix_log
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new("syslog"))
                .display()
        );
        Ok(servers)
    }

    fn start_dovecot(&mut self) -> Result<()> {
        // what Dovecot says before its log is open (a bad configuration) goes to its log too
        let output = || -> Stdio {
            self.setup
                .dovecot_log
                .as_deref()
                .and_then(|log| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(log)
                        .ok()
                })
                .map_or_else(Stdio::null, Stdio::from)
        };
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(self.dovecot_config())
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            // a Ctrl-C in the terminal is ours to handle: Dovecot is stopped after Postfix
            .process_group(0)
            .spawn()
            .map_err(io("start dovecot"))?;
        self.dovecot = Some(child);
        Ok(())
    }

    fn start_postfix(&mut self) -> Result<()> {
        let out = Command::new("postfix")
            .arg("-c")
            .arg(&self.setup.postfix_dir)
            .arg("start")
            .stdin(Stdio::null())
            .output()
            .map_err(io("run postfix start"))?;
        // whatever happened, a master may be running now
        self.postfix = read_pid(&master_pid_file(&self.setup.postfix_queue_dir));
        if !out.status.success() {
            return Err(Error::Failed {
                what: "postfix start".into(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
                logs: self.logs(),
            });
        }
        Ok(())
    }

    fn wait_for(&mut self, name: &'static str, port: u16) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(child) = &mut self.dovecot
                && let Ok(Some(status)) = child.try_wait()
            {
                self.dovecot = None;
                return Err(Error::Failed {
                    what: "dovecot".into(),
                    output: format!("it exited ({status})"),
                    logs: self.logs(),
                });
            }
            if Instant::now() > deadline {
                return Err(Error::NotListening {
                    name,
                    port,
                    logs: self.logs(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// Dovecot's configuration file (what `doveadm -c` needs: `mail.dovecot_config`).
    pub fn dovecot_config(&self) -> PathBuf {
        self.setup.dovecot_dir.join("dovecot.conf")
    }

    /// The last lines of both logs, for error messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for log in [&self.setup.postfix_log, &self.setup.dovecot_log]
            .into_iter()
            .flatten()
        {
            out.push_str(&format!("--- {}:\n{}\n", log.display(), tail(log, 4096)));
        }
        out
    }
}

impl Drop for LocalServers {
    fn drop(&mut self) {
        if let Some(pid) = self.postfix.take() {
            stop_postfix(pid, &self.setup.postfix_dir);
        }
        if let Some(mut child) = self.dovecot.take() {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(child.try_wait(), Ok(None)) {
                if Instant::now() > deadline {
                    log::warn!("dovecot did not stop in time; killing it");
                    let _ = kill(Pid::from_raw(-pid.as_raw()), Signal::SIGKILL);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }
}

/// Where a generated file goes: Postfix's into `postfix_dir`, Dovecot's into `dovecot_dir`.
fn place(s: &Setup, f: &conf::File) -> PathBuf {
    match (
        f.name.strip_prefix("postfix/"),
        f.name.strip_prefix("dovecot/"),
    ) {
        (Some(rest), _) => s.postfix_dir.join(rest),
        (_, Some(rest)) => s.dovecot_dir.join(rest),
        _ => s.postfix_dir.join(f.name),
    }
}

fn mkdir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))
}

fn chown(path: &Path, user: &nix::unistd::User) -> Result<()> {
    nix::unistd::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| Error::Io {
        what: format!("give {} to {}", path.display(), user.name),
        source: e.into(),
    })
}

/// Refuses a path whose existing parent directories other users cannot pass through: the
/// servers' unprivileged processes would fail later, with a less helpful message.
fn reachable(path: &Path) -> Result<()> {
    for dir in path.ancestors().skip(1) {
        if let Ok(meta) = dir.metadata()
            && meta.permissions().mode() & 0o001 == 0
        {
            return Err(Error::Closed {
                dir: dir.to_path_buf(),
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Stops what a previous instance of the same files left running (its process was killed
/// before it could stop them): its ports and pid files are in the way.
fn stop_stale(s: &Setup) {
    if let Some(pid) = read_pid(&master_pid_file(&s.postfix_queue_dir)) {
        stop_postfix(pid, &s.postfix_dir);
    }
    if let Some(pid) = read_pid(&s.dovecot_base_dir.join("master.pid"))
        && process_name(pid).as_deref() == Some("dovecot")
    {
        log::info!("stopping the Dovecot a previous run left (pid {pid})");
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        wait_gone(pid);
    }
}

/// Stops a Postfix master as `postfix stop` does (SIGTERM, then SIGKILL to its process group
/// when it takes too long), without `postfix stop`'s whole-second waits.
fn stop_postfix(pid: i32, config_dir: &Path) {
    if process_name(pid).as_deref() != Some("master") {
        return;
    }
    log::info!("stopping Postfix ({})", config_dir.display());
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    if !wait_gone(pid) {
        log::warn!("Postfix did not stop in time; killing it");
        let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
        wait_gone(pid);
    }
}

fn master_pid_file(queue_dir: &Path) -> PathBuf {
    queue_dir.join("pid/master.pid")
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The command name of a live process (`None`: no such process, or a zombie: a daemonized
/// master is nobody's child here, and in a container nobody may reap it).
fn process_name(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
    (!rest.starts_with('Z')).then(|| name.to_string())
}

/// Waits until `pid` is gone (or a zombie); false after [`STOP_TIMEOUT`].
fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + STOP_TIMEOUT;
    while process_name(pid).is_some() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The last `max` bytes of a file (from a character boundary).
fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_closed_to_other_users_is_refused_with_its_fix() {
        let d = tempfile::tempdir().unwrap();
        let socket = d.path().join("state/mail-auth.sock");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let e = reachable(&socket).unwrap_err().to_string();
        assert!(
            e.contains(&format!("chmod o+x {}", d.path().display())),
            "{e}"
        );
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        reachable(&socket).unwrap();
    }

    #[test]
    fn free_ports_are_five_different_free_ones() {
        let p = free_ports().unwrap();
        let mut all: Vec<u16> = p.named().iter().map(|&(_, port)| port).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 5);
        assert!(ports_free(&p));
        let _held = TcpListener::bind(("127.0.0.1", p.imap)).unwrap();
        assert!(!ports_free(&p));
    }

    #[test]
    fn a_process_is_known_by_its_name_until_it_is_gone() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        assert_eq!(process_name(pid).as_deref(), Some("sleep"));
        child.kill().unwrap();
        // killed but not yet reaped: a zombie counts as gone
        assert!(wait_gone(pid));
        child.wait().unwrap();
        assert_eq!(process_name(pid), None);
    }
}
