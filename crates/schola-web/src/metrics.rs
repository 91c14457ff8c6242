//! Prometheus metrics, served at `/metrics` on their own plain-HTTP listener (by default
//! `127.0.0.1:9187` on the appliance, none in the dev profile; `[web] metrics_listen`).
//!
//! The listener is a separate actix-server with its own worker, so it still answers while the
//! HTTPS workers are at their connection limit — which is when an operator wants the numbers.
//! Requests are counted by route *pattern* (`match_pattern()`) and never by raw path, so a
//! client requesting made-up paths cannot grow the metrics without bound. Values that live
//! elsewhere (the sign-in queue, the waiting room, the per-client connection counts) are read at
//! scrape time.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_http::{HttpService, Method, Request, Response, StatusCode};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use anyhow::Context as _;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use schola_core::Config;
use schola_core::config::Profile;
use schola_core::load_history::LoadMinute;

use crate::conn::Gate;
use crate::state::AppState;

/// Where the metrics listener listens when the config does not say.
pub const APPLIANCE_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9187);

/// The metrics listeners this config asks for (see [`schola_core::config::Web::metrics_listen`]).
pub fn listeners(cfg: &Config) -> Vec<SocketAddr> {
    match (&cfg.web.metrics_listen, cfg.profile) {
        (Some(addrs), _) => addrs.clone(),
        (None, Profile::Appliance) => vec![APPLIANCE_LISTEN],
        (None, Profile::Dev) => Vec::new(),
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Seconds; from a cached page to a sign-in waiting for its hash under load.
const LATENCY_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The registry and the metrics the web layer records itself.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    state: web::Data<AppState>,
    gate: Arc<Gate>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    signins: Family<OutcomeLabels, Counter>,
    /// Requests ended with 408 because their body stopped arriving.
    pub body_timeouts: Counter,
    signin_queue: Gauge,
    signin_queue_capacity: Gauge,
    in_flight: Gauge,
    in_flight_limit: Gauge,
    connections_open: Gauge,
    connections_busy: Gauge,
    connection_clients: Gauge,
    connections_most_by_one_client: Gauge,
    connections_per_client_limit: Gauge,
    /// This minute's load, taken and reset once a minute for the load history.
    minute: Minute,
}

/// Upper bounds (milliseconds) of the per-minute latency buckets: fine enough to tell 150 ms
/// from 2 s, which the capacity check's morning peak needs; the last bucket is "slower".
const MINUTE_BUCKETS_MS: [f64; 24] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 35.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0,
    1500.0, 2000.0, 3000.0, 5000.0, 7500.0, 10000.0, 20000.0, 30000.0, 60000.0,
];

/// Counters of the current minute (see [`Metrics::take_minute`]).
#[derive(Debug, Default)]
struct Minute {
    signins: AtomicU64,
    signin_failures: AtomicU64,
    requests: AtomicU64,
    latency: [AtomicU64; MINUTE_BUCKETS_MS.len() + 1],
    /// The cumulative counters' values at the last take, for their per-minute difference.
    last_waiting: AtomicU64,
    last_refused: AtomicU64,
}

impl Minute {
    fn observe(&self, signin: Option<bool>, took: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match signin {
            Some(true) => self.signins.fetch_add(1, Ordering::Relaxed),
            Some(false) => self.signin_failures.fetch_add(1, Ordering::Relaxed),
            None => 0,
        };
        let ms = took.as_secs_f64() * 1000.0;
        let i = MINUTE_BUCKETS_MS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(MINUTE_BUCKETS_MS.len());
        self.latency[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// The 99th percentile from bucket counts, as the bucket's upper bound (an overestimate by at
/// most one bucket); the last bucket counts as twice the largest bound.
fn p99_ms(counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (total as f64 * 0.99).ceil() as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(
                MINUTE_BUCKETS_MS
                    .get(i)
                    .copied()
                    .unwrap_or(MINUTE_BUCKETS_MS[MINUTE_BUCKETS_MS.len() - 1] * 2.0),
            );
        }
    }
    None
}

impl Metrics {
    pub fn new(state: web::Data<AppState>, gate: Arc<Gate>) -> Metrics {
        let mut registry = Registry::with_prefix("schola");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTPS requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "time from the request head to the response, by route pattern",
            Unit::Seconds,
            latency.clone(),
        );
        let signins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "signins",
            "sign-in attempts by outcome: success, failure (wrong password or unknown login), \
             deferred (back-off), busy (waiting room or full queue), refused (bad form or origin)",
            signins.clone(),
        );
        let body_timeouts = Counter::default();
        registry.register(
            "http_body_timeouts",
            "requests ended with 408 because their body stopped arriving",
            body_timeouts.clone(),
        );
        registry.register(
            "waiting_room_admitted",
            "requests let in by the waiting room",
            state.admission.admitted.clone(),
        );
        registry.register(
            "waiting_room_turned_away",
            "requests answered 503 by the waiting room",
            state.admission.turned_away.clone(),
        );
        let dav = &state.dav_auth;
        registry.register(
            "dav_auth_cache_hits",
            "WebDAV requests let in by the credential cache, without a password hash",
            dav.cache_hits.clone(),
        );
        registry.register(
            "dav_auth_verifies",
            "password hashes verified for WebDAV sign-ins (cache misses)",
            dav.verifies.clone(),
        );
        registry.register(
            "dav_auth_failures",
            "WebDAV sign-ins refused: wrong password, unknown login or disabled person",
            dav.failures.clone(),
        );
        registry.register(
            "dav_auth_deferred",
            "WebDAV sign-ins refused by the back-off before any password check",
            dav.deferred.clone(),
        );
        registry.register(
            "connections_refused",
            "connections past their client's cap: busy (answered 503), closed (closed at once), \
             handshakes (too many handshakes in progress)",
            gate.refused.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let signin_queue = gauge(
            &mut registry,
            "signin_queue_depth",
            "password checks waiting or running",
        );
        let signin_queue_capacity = gauge(
            &mut registry,
            "signin_queue_capacity",
            "password checks that may wait before sign-ins get 503",
        );
        let in_flight = gauge(
            &mut registry,
            "requests_in_flight",
            "requests being worked on",
        );
        let in_flight_limit = gauge(
            &mut registry,
            "requests_in_flight_limit",
            "requests worked on at once before the waiting room",
        );
        let connections_open = gauge(
            &mut registry,
            "connections_open",
            "HTTPS connections being served",
        );
        let connections_busy = gauge(
            &mut registry,
            "connections_busy",
            "connections past their client's cap being answered 503",
        );
        let connection_clients = gauge(
            &mut registry,
            "connection_clients",
            "client addresses (IPv6: /64 networks) with a connection",
        );
        let connections_most_by_one_client = gauge(
            &mut registry,
            "connections_most_by_one_client",
            "the most connections one client address holds",
        );
        let connections_per_client_limit = gauge(
            &mut registry,
            "connections_per_client_limit",
            "open connections one client address may hold",
        );
        Metrics {
            registry,
            state,
            gate,
            requests,
            latency,
            signins,
            body_timeouts,
            signin_queue,
            signin_queue_capacity,
            in_flight,
            in_flight_limit,
            connections_open,
            connections_busy,
            connection_clients,
            connections_most_by_one_client,
            connections_per_client_limit,
            minute: Minute::default(),
        }
    }

    /// The load since the last call (about a minute), for `Store::record_load_minute`; the
    /// minute's counters start again from zero.
    pub fn take_minute(&self, minute: i64) -> LoadMinute {
        let m = &self.minute;
        let take = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        let counts: Vec<u64> = m.latency.iter().map(take).collect();
        let delta =
            |last: &AtomicU64, now: u64| now.saturating_sub(last.swap(now, Ordering::Relaxed));
        LoadMinute {
            minute,
            signins: take(&m.signins),
            signin_failures: take(&m.signin_failures),
            requests: take(&m.requests),
            waiting_room: delta(&m.last_waiting, self.state.admission.turned_away.get()),
            refused: delta(
                &m.last_refused,
                self.gate.refused_total.load(Ordering::Relaxed),
            ),
            p99_ms: p99_ms(&counts),
            connections: self.gate.open() as u64,
        }
    }

    fn observe(&self, route: String, method: &Method, status: StatusCode, took: Duration) {
        let method = method_label(method);
        if route == "/login" && method == "POST" {
            let outcome = match status.as_u16() {
                303 => "success",
                401 => "failure",
                429 => "deferred",
                503 => "busy",
                _ => "refused",
            };
            self.signins.get_or_create(&OutcomeLabels { outcome }).inc();
        }
        let signin = (route == "/login" && method == "POST")
            .then_some(status.as_u16())
            .and_then(|s| match s {
                303 => Some(true),
                401 => Some(false),
                _ => None,
            });
        self.minute.observe(signin, took);
        self.requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method,
                status: status.as_u16(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(took.as_secs_f64());
    }

    /// The exposition text, with the gauges read now.
    pub fn render(&self) -> String {
        let as_gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let st = &self.state;
        self.signin_queue.set(as_gauge(st.pool.queued()));
        self.signin_queue_capacity.set(as_gauge(st.pool.capacity()));
        self.in_flight.set(as_gauge(st.admission.in_flight()));
        self.in_flight_limit.set(as_gauge(st.limits.in_flight));
        self.connections_open.set(as_gauge(self.gate.open()));
        self.connections_busy.set(as_gauge(self.gate.busy()));
        self.connection_clients.set(as_gauge(self.gate.clients()));
        self.connections_most_by_one_client
            .set(as_gauge(self.gate.most_by_one_client()));
        self.connections_per_client_limit
            .set(as_gauge(st.limits.max_connections_per_client));
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn respond(&self, req: &Request) -> Response<String> {
        if req.path() != "/metrics" {
            return Response::with_body(StatusCode::NOT_FOUND, "not found: try /metrics\n".into());
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return Response::with_body(StatusCode::METHOD_NOT_ALLOWED, String::new());
        }
        let mut res = Response::with_body(StatusCode::OK, self.render());
        res.headers_mut().insert(
            actix_http::header::CONTENT_TYPE,
            actix_http::header::HeaderValue::from_static(
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
        );
        res
    }
}

/// A bounded set of method labels: clients can send any method name.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// The middleware (`actix_web::middleware::from_fn(metrics::record)`), outermost, so that it
/// sees every answer, the waiting room's and the body deadline's included.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await;
    };
    let start = Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().clone();
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    metrics.observe(route, &method, status, start.elapsed());
    res
}

/// Starts the metrics listener(s); returns their URLs and the running server, or nothing when
/// none is configured.
pub fn serve(
    metrics: Arc<Metrics>,
    addrs: &[SocketAddr],
) -> anyhow::Result<Option<(Vec<String>, actix_server::Server)>> {
    if addrs.is_empty() {
        return Ok(None);
    }
    // one worker and a few connections: this is for a Prometheus server and an admin's curl
    let mut builder = actix_server::Server::build()
        .workers(1)
        .max_concurrent_connections(64)
        .disable_signals()
        .shutdown_timeout(1);
    let mut urls = Vec::new();
    for addr in addrs {
        let lst = crate::listen::bind(*addr, 64)
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        let local = lst.local_addr()?;
        urls.push(format!("http://{local}/metrics"));
        let m = Arc::clone(&metrics);
        builder = builder.listen(format!("schola-metrics-{local}"), lst, move || {
            let m = Arc::clone(&m);
            HttpService::build()
                .client_request_timeout(Duration::from_secs(5))
                .finish(actix_service::fn_service(move |req: Request| {
                    let m = Arc::clone(&m);
                    async move { Ok::<_, Infallible>(m.respond(&req)) }
                }))
                .tcp()
        })?;
    }
    Ok(Some((urls, builder.run())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_bucket_that_holds_the_99th_percentile() {
        let mut counts = vec![0u64; MINUTE_BUCKETS_MS.len() + 1];
        assert_eq!(p99_ms(&counts), None);
        counts[3] = 990; // <= 10 ms
        counts[16] = 10; // <= 2 s
        assert_eq!(p99_ms(&counts), Some(10.0));
        counts[16] = 11;
        assert_eq!(p99_ms(&counts), Some(2000.0));
        counts[MINUTE_BUCKETS_MS.len()] = 100;
        assert_eq!(
            p99_ms(&counts),
            Some(120_000.0),
            "slower than the last bound"
        );
    }
}
