//! What every request handler shares: the store, the password pool, and the settings derived
//! from the config at start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use schola_core::login::LoginScheme;
use schola_core::password::{PasswordPolicy, PasswordPool};
use schola_core::session::SessionPolicy;
use schola_core::{Config, Store};

use crate::limits::Limits;

#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub pool: Arc<PasswordPool>,
    pub sessions: SessionPolicy,
    pub scheme: LoginScheme,
    pub password_policy: PasswordPolicy,
    pub limits: Limits,
    /// The waiting room's count of requests in progress.
    pub admission: crate::admission::Admission,
    pub cfg: Config,
    /// When this server started, for its uptime on the services page.
    pub started: std::time::Instant,
    /// Once true, stays true: the school has an admin and the setup page is closed.
    setup_done: AtomicBool,
    /// The code the setup page asks for, while setup is open.
    setup_code: Mutex<Option<String>>,
}

impl AppState {
    pub fn new(cfg: Config, store: Store, limits: Limits) -> anyhow::Result<AppState> {
        let pool = PasswordPool::new(limits.hash_threads, limits.signins_waiting, cfg.auth.argon2)?;
        let scheme = LoginScheme::parse(&cfg.directory.login_scheme).map_err(anyhow::Error::msg)?;
        let setup_done = store.has_admin()?;
        Ok(AppState {
            pool,
            sessions: SessionPolicy {
                idle_secs: cfg.auth.session_idle_secs,
                max_secs: cfg.auth.session_max_secs,
            },
            scheme,
            password_policy: PasswordPolicy {
                min_length: cfg.auth.password_min_length,
            },
            limits,
            admission: Default::default(),
            store,
            cfg,
            started: std::time::Instant::now(),
            setup_done: AtomicBool::new(setup_done),
            setup_code: Mutex::new(None),
        })
    }

    /// True once the school has an admin. While it has none, each call asks the database, so
    /// an admin made meanwhile by `scholactl init` closes the setup page at once.
    pub fn setup_done(&self) -> bool {
        if self.setup_done.load(Ordering::Acquire) {
            return true;
        }
        if self.store.has_admin().unwrap_or(false) {
            self.mark_setup_done();
            return true;
        }
        false
    }

    pub fn mark_setup_done(&self) {
        self.setup_done.store(true, Ordering::Release);
        if let Ok(mut c) = self.setup_code.lock() {
            *c = None;
        }
        let _ = std::fs::remove_file(self.setup_code_path());
    }

    pub fn setup_code_path(&self) -> std::path::PathBuf {
        self.cfg.paths.state_dir.join("setup-code")
    }

    /// Makes (or re-reads) the setup code and keeps it in a root-only file, so that only someone
    /// at the server's console can complete the first-run setup.
    pub fn prepare_setup_code(&self) -> anyhow::Result<Option<String>> {
        if self.setup_done() {
            return Ok(None);
        }
        let path = self.setup_code_path();
        let code = match std::fs::read_to_string(&path) {
            Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
            _ => {
                use std::io::Write as _;
                use std::os::unix::fs::OpenOptionsExt as _;
                let code = schola_core::token::readable_password();
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&path)?;
                writeln!(f, "{code}")?;
                code
            }
        };
        if let Ok(mut c) = self.setup_code.lock() {
            *c = Some(code.clone());
        }
        Ok(Some(code))
    }

    pub fn setup_code_matches(&self, given: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let Ok(c) = self.setup_code.lock() else {
            return false;
        };
        match c.as_deref() {
            Some(code) => bool::from(
                code.as_bytes()
                    .ct_eq(given.trim().to_lowercase().as_bytes()),
            ),
            None => false,
        }
    }
}
