//! schola-web: the one HTTPS edge of the appliance — portal, admin UI, sign-in and sessions.
//!
//! This is the only crate that knows actix-web and rustls. It asks schola-core for everything
//! it shows or changes; the core decides what is valid, the web layer decides how it looks and
//! who may open which page (`guard::require`).

pub mod admin;
pub mod admission;
pub mod assets;
pub mod autoconfig;
pub mod backup;
pub mod body;
pub mod conn;
pub mod files;
pub mod files_proxy;
pub mod guard;
pub mod i18n;
pub use schola_core::limits;
pub mod listen;
pub mod metrics;
pub mod pages;
pub mod portal;
pub mod setup;
pub mod setup_restore;
pub mod state;
pub mod tls;
pub mod updates;
pub mod webmail;

use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_service::map_config;
use actix_web::dev::AppConfig;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, web};
use anyhow::Context as _;
use schola_core::{Config, Store};

use crate::limits::Limits;
use crate::metrics::Metrics;
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
    /// `http://127.0.0.1:9187/metrics` etc., one per metrics listener (none when it is off).
    pub metrics_urls: Vec<String>,
}

/// Security headers on every response (lower case: they are also set on the busy answers that
/// bypass the app). The CSP allows no inline script or style at all.
pub(crate) const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    ("strict-transport-security", "max-age=31536000"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
];

fn security_headers() -> DefaultHeaders {
    SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |h, &pair| h.add(pair))
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
    // the school's size at start; a restart after a big import picks up the new size
    let people = store
        .count_people(None)
        .context("cannot count the school's people")?;
    let limits = Limits::derive(&cfg, people);
    tracing::info!(
        people,
        max_connections = limits.max_connections,
        in_flight = limits.in_flight,
        "limits derived"
    );
    let listen = cfg.web.listen.clone();
    let state = web::Data::new(AppState::new(
        cfg,
        store,
        limits,
        Some(tls.resolver.clone()),
    )?);
    let setup_code = state.prepare_setup_code()?;

    let gate = conn::Gate::new(&limits);
    let metrics = Arc::new(Metrics::new(state.clone(), Arc::clone(&gate)));
    // the portal matters more than its numbers: a metrics port in use is no reason not to start
    let metrics_server = metrics::serve(Arc::clone(&metrics), &metrics::listeners(&state.cfg))
        .unwrap_or_else(|e| {
            tracing::warn!(error = format!("{e:#}"), "metrics are not served");
            None
        });

    // What actix-web's HttpServer does, with the per-client gate before the TLS handshake
    // (listen.rs says why).
    actix_tls::accept::max_concurrent_tls_connect(limits.max_handshakes_per_worker);
    let mut builder = actix_server::Server::build()
        .workers(limits.workers)
        .max_concurrent_connections(limits.connections_per_worker())
        .worker_max_blocking_threads(limits.blocking_threads_per_worker)
        .shutdown_timeout(10);
    let shutdown = builder.graceful_shutdown_signal();
    let mut urls = Vec::new();
    for addr in &listen {
        let lst = listen::bind(*addr, 4096).with_context(|| format!("cannot listen on {addr}"))?;
        let local = lst.local_addr()?;
        urls.push(format!("https://{local}/"));
        let (state, gate, metrics) = (state.clone(), Arc::clone(&gate), Arc::clone(&metrics));
        let (tls, shutdown) = (tls.config.clone(), shutdown.clone());
        let factory = move || {
            let (state, metrics) = (state.clone(), web::Data::from(Arc::clone(&metrics)));
            let app = move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(metrics.clone())
                    .app_data(web::FormConfig::default().limit(64 * 1024))
                    .wrap(from_fn(admission::admit))
                    .wrap(from_fn(body::deadline))
                    .wrap(security_headers())
                    .wrap(from_fn(metrics::record))
                    .configure(pages::routes)
            };
            let shutdown = shutdown.clone();
            let http = HttpService::build()
                .keep_alive(limits.keep_alive)
                .client_request_timeout(limits.request_timeout)
                // as actix-web's HttpServer: a closing client gets 1 s to finish the close
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local)
                .graceful_shutdown_signal(move || {
                    let s = shutdown.clone();
                    async move { s.notified().await }
                })
                // AppConfig's constructor is crate-private; this is the public one actix-test
                // uses. `true`: the scheme is https.
                .finish(map_config(app(), move |()| {
                    AppConfig::__priv_test_new(true, local.to_string(), local)
                }));
            listen::Edge::new(
                Arc::clone(&gate),
                &tls,
                &limits,
                actix_service::boxed::factory(http),
            )
        };
        builder = builder
            .listen(format!("schola-web-{local}"), lst, factory)
            .with_context(|| format!("cannot listen on {addr}"))?;
    }
    let running = builder.run();
    let (metrics_urls, metrics_handle) = match metrics_server {
        Some((urls, server)) => {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            (urls, Some(handle))
        }
        None => (Vec::new(), None),
    };

    let started = Started {
        urls,
        fingerprint: tls.fingerprint.clone(),
        setup_code,
        limits,
        metrics_urls,
    };
    tracing::info!(urls = ?started.urls, fingerprint = %started.fingerprint, "listening");
    if let Some(code) = &started.setup_code {
        tracing::warn!(code = %code, "no administrator yet: open the setup page and enter this code");
    }
    on_ready(&started);
    schola_core::daemon::notify_ready();
    spawn_housekeeping(state.clone());
    spawn_load_history(state.clone(), Arc::clone(&metrics));
    let result = running.await;
    // the metrics listener ignores signals; it stops with the main server
    if let Some(h) = metrics_handle {
        h.stop(false).await;
    }
    schola_core::daemon::notify_stopping();
    result.context("the web server stopped with an error")
}

/// Watchdog keep-alives (only while the database answers) and removal of expired sessions.
/// Once a minute, the minute's load goes into the store (`load_minutes`): the capacity check
/// reads each day's morning peak from it. Quiet minutes are not written.
fn spawn_load_history(state: web::Data<AppState>, metrics: Arc<Metrics>) {
    actix_web::rt::spawn(async move {
        loop {
            let now = state.store.now();
            // wake just after the next full minute
            let wait = 60 - now.rem_euclid(60);
            actix_web::rt::time::sleep(Duration::from_secs(wait as u64)).await;
            let sample = metrics.take_minute(state.store.now().div_euclid(60) - 1);
            if sample.requests == 0 && sample.refused == 0 {
                continue;
            }
            let s = state.clone();
            match web::block(move || s.store.record_load_minute(&sample)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not record the minute's load"),
                Err(e) => tracing::warn!(error = %e, "could not record the minute's load"),
            }
        }
    });
}

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
