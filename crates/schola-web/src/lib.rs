//! schola-web: the one HTTPS edge of the appliance — portal, admin UI, sign-in and sessions.
//!
//! This is the only crate that knows actix-web and rustls. It asks schola-core for everything
//! it shows or changes; the core decides what is valid, the web layer decides how it looks and
//! who may open which page (`guard::require`).

pub mod admin;
pub mod admission;
pub mod assets;
pub mod guard;
pub mod i18n;
pub mod limits;
pub mod pages;
pub mod portal;
pub mod setup;
pub mod state;
pub mod tls;
pub mod updates;

use std::time::Duration;

use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use schola_core::{Config, Store};

use crate::limits::Limits;
use crate::state::AppState;

/// What a started server tells its caller once every listener is bound.
#[derive(Debug, Clone)]
pub struct Started {
    /// `https://127.0.0.1:8443/` etc., one per listener.
    pub urls: Vec<String>,
    /// SHA-256 fingerprint of the served certificate, `AB:CD:…`.
    pub fingerprint: String,
    /// Set while the school has no admin: the code the first-run setup page asks for.
    pub setup_code: Option<String>,
    pub limits: Limits,
}

/// Security headers on every response. The CSP allows no inline script or style at all.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add(("Strict-Transport-Security", "max-age=31536000"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}

/// Runs the web server until SIGINT/SIGTERM. `on_ready` is called once the listeners are bound.
pub fn run(cfg: Config, on_ready: impl FnOnce(&Started) + Send + 'static) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(serve(cfg, on_ready))
}

async fn serve(
    cfg: Config,
    on_ready: impl FnOnce(&Started) + Send + 'static,
) -> anyhow::Result<()> {
    let db = cfg.database_path();
    // On the appliance only `scholactl db migrate` (run by the package on upgrade) migrates, with
    // a backup; a daemon restarting in a loop must not. A new database, and the dev profile
    // (demo, tests), are set up here.
    let store = if cfg.profile == schola_core::config::Profile::Appliance && db.exists() {
        Store::open_current(&db, std::sync::Arc::new(schola_core::SystemClock))?
    } else {
        let (store, migration) = Store::open(&db)
            .with_context(|| format!("cannot open the database {}", db.display()))?;
        if let Some(m) = migration {
            tracing::info!(from = m.from, to = m.to, backup = ?m.backup, "database schema migrated");
        }
        store
    };
    let tls = tls::load_or_generate(&cfg)?;
    if tls.generated {
        tracing::info!(cert = %tls.cert_path.display(), "generated a self-signed TLS certificate");
    }
    let limits = Limits::derive(&cfg);
    let listen = cfg.web.listen.clone();
    let state = web::Data::new(AppState::new(cfg, store, limits)?);
    let setup_code = state.prepare_setup_code()?;

    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .wrap(actix_web::middleware::from_fn(admission::admit))
            .wrap(security_headers())
            .configure(pages::routes)
    })
    .workers(limits.workers)
    .max_connections(limits.connections_per_worker())
    .max_connection_rate(limits.max_handshakes_per_worker)
    .client_request_timeout(limits.request_timeout)
    .tls_handshake_timeout(limits.handshake_timeout)
    .keep_alive(limits.keep_alive)
    .backlog(4096)
    .shutdown_timeout(10);
    for addr in &listen {
        server = server
            .bind_rustls_0_23(addr, tls.config.clone())
            .with_context(|| format!("cannot listen on {addr}"))?;
    }
    let urls: Vec<String> = server
        .addrs()
        .iter()
        .map(|a| format!("https://{a}/"))
        .collect();
    let running = server.run();

    let started = Started {
        urls,
        fingerprint: tls.fingerprint.clone(),
        setup_code,
        limits,
    };
    tracing::info!(urls = ?started.urls, fingerprint = %started.fingerprint, "listening");
    if let Some(code) = &started.setup_code {
        tracing::warn!(code = %code, "no administrator yet: open the setup page and enter this code");
    }
    on_ready(&started);
    schola_core::daemon::notify_ready();
    spawn_housekeeping(state.clone());
    let result = running.await;
    schola_core::daemon::notify_stopping();
    result.context("the web server stopped with an error")
}

/// Watchdog keep-alives (only while the database answers) and removal of expired sessions.
fn spawn_housekeeping(state: web::Data<AppState>) {
    if let Some(every) = schola_core::daemon::watchdog_interval() {
        let st = state.clone();
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(every);
            loop {
                tick.tick().await;
                let s = st.clone();
                if matches!(web::block(move || s.store.ping()).await, Ok(Ok(()))) {
                    schola_core::daemon::notify_watchdog();
                }
            }
        });
    }
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let s = state.clone();
            match web::block(move || s.store.end_expired_sessions(s.sessions)).await {
                Ok(Ok(n)) if n > 0 => tracing::debug!(sessions = n, "expired sessions removed"),
                Ok(Err(e)) => tracing::warn!(error = %e, "could not remove expired sessions"),
                _ => {}
            }
        }
    });
}
