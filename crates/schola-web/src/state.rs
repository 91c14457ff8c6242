//! What every request handler shares: the store, the password pool, the settings derived from
//! the config at start, and those an admin changes while the server runs (login-name scheme,
//! password policy, logo, TLS certificate), which apply to the next request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use schola_core::login::LoginScheme;
use schola_core::password::{PasswordPolicy, PasswordPool};
use schola_core::session::SessionPolicy;
use schola_core::settings::PolicyOverrides;
use schola_core::{Config, Store};

use crate::admin::settings::logo::Logo;
use crate::limits::Limits;
use crate::tls::CertResolver;

/// Most WebDAV logins remembered at once (a school's mounted drives; past that the cache is
/// emptied and refills).
const CREDENTIAL_CACHE_ENTRIES: usize = 20_000;

#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub pool: Arc<PasswordPool>,
    pub sessions: SessionPolicy,
    /// The config file's login-name scheme and password policy, or what an admin set instead.
    policy: RwLock<(LoginScheme, PasswordPolicy)>,
    /// The school's logo, served at `/branding/logo`.
    logo: RwLock<Option<Arc<Logo>>>,
    /// What the HTTPS listeners serve, when this process runs them.
    pub tls: Option<Arc<CertResolver>>,
    pub limits: Limits,
    /// The waiting room's count of requests in progress.
    pub admission: crate::admission::Admission,
    /// The way to schola-files (its Unix socket).
    pub files: crate::files_proxy::FilesProxy,
    /// Recently verified WebDAV passwords (`[auth] credential_cache_secs`).
    pub credcache: schola_core::credcache::CredentialCache,
    /// What WebDAV sign-ins cost, for the metrics.
    pub dav_auth: crate::files::DavAuthCounters,
    pub cfg: Config,
    /// When this server started, for its uptime on the services page.
    pub started: std::time::Instant,
    /// Once true, stays true: the school has an admin and the setup page is closed.
    setup_done: AtomicBool,
    /// The code the setup page asks for, while setup is open.
    setup_code: Mutex<Option<String>>,
}

impl AppState {
    /// `tls`: the resolver of the certificate being served, which the settings page replaces.
    pub fn new(
        cfg: Config,
        store: Store,
        limits: Limits,
        tls: Option<Arc<crate::tls::CertResolver>>,
    ) -> anyhow::Result<AppState> {
        let pool = PasswordPool::new(limits.hash_threads, limits.signins_waiting, cfg.auth.argon2)?;
        let overrides = store.policy_overrides()?;
        let policy = effective_policy(&cfg, &overrides)?;
        let logo = crate::admin::settings::logo::load(&cfg.paths.state_dir);
        let setup_done = store.has_admin()?;
        Ok(AppState {
            pool,
            sessions: SessionPolicy {
                idle_secs: cfg.auth.session_idle_secs,
                max_secs: cfg.auth.session_max_secs,
            },
            policy: RwLock::new(policy),
            logo: RwLock::new(logo.map(Arc::new)),
            tls,
            limits,
            admission: Default::default(),
            files: crate::files_proxy::FilesProxy::new(cfg.files_socket()),
            credcache: schola_core::credcache::CredentialCache::new(
                cfg.auth.credential_cache_secs,
                CREDENTIAL_CACHE_ENTRIES,
            ),
            dav_auth: Default::default(),
            store,
            cfg,
            started: std::time::Instant::now(),
            setup_done: AtomicBool::new(setup_done),
            setup_code: Mutex::new(None),
        })
    }

    /// How new logins are formed now.
    pub fn scheme(&self) -> LoginScheme {
        match self.policy.read() {
            Ok(p) => p.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// What new passwords must satisfy now.
    pub fn password_policy(&self) -> PasswordPolicy {
        match self.policy.read() {
            Ok(p) => p.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// Applies an admin's login-name scheme and minimum password length (or, where `None`,
    /// the config file's) from the next request on.
    pub fn apply_policy(&self, overrides: &PolicyOverrides) -> anyhow::Result<()> {
        let p = effective_policy(&self.cfg, overrides)?;
        match self.policy.write() {
            Ok(mut cur) => *cur = p,
            Err(poisoned) => *poisoned.into_inner() = p,
        }
        Ok(())
    }

    pub fn logo(&self) -> Option<Arc<Logo>> {
        match self.logo.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_logo(&self, logo: Option<Logo>) {
        let logo = logo.map(Arc::new);
        match self.logo.write() {
            Ok(mut cur) => *cur = logo,
            Err(poisoned) => *poisoned.into_inner() = logo,
        }
    }

    /// The logo's address, which changes with its content (so browsers may keep it for long).
    pub fn logo_url(&self) -> Option<String> {
        self.logo().map(|l| l.url())
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

/// The config file's scheme and policy with an admin's overrides applied. An override that no
/// longer parses (it was checked when it was set) falls back to the config file, with a warning.
fn effective_policy(
    cfg: &Config,
    overrides: &PolicyOverrides,
) -> anyhow::Result<(LoginScheme, PasswordPolicy)> {
    let from_config =
        || LoginScheme::parse(&cfg.directory.login_scheme).map_err(anyhow::Error::msg);
    let scheme = match overrides.login_scheme.as_deref() {
        Some(s) => match schola_core::settings::check_login_scheme(s) {
            Ok((_, parsed)) => parsed,
            Err(e) => {
                tracing::warn!(error = %e, "the stored login-name scheme is not valid; using the config file's");
                from_config()?
            }
        },
        None => from_config()?,
    };
    let min_length = overrides
        .password_min_length
        .and_then(|n| schola_core::settings::check_password_min_length(n).ok())
        .unwrap_or(cfg.auth.password_min_length);
    Ok((scheme, PasswordPolicy { min_length }))
}
