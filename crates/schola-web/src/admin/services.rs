//! The services page: each Schola daemon and the system services it depends on, with health,
//! version and uptime (from systemd and dpkg, asked without privileges, see
//! `schola_core::services`), the command that turns an absent one on; the limits this server
//! runs with and where each comes from; and the load right now.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::services::{self, Health, Kind, ServiceStatus};

use crate::guard::Need;
use crate::i18n::Tr;
use crate::limits::{Limits, memory_bytes};
use crate::pages::{Layout, PageResult, gate, html};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/services", web::get().to(page));
}

/// How long `systemctl` and `dpkg-query` may take each before the page goes without them.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Template)]
#[template(path = "admin_services.html")]
struct ServicesPage {
    layout: Layout,
    systemd: bool,
    dpkg: bool,
    services: Vec<ServiceRow>,
    limits: Vec<LimitRow>,
    load: Vec<LimitRow>,
}

struct ServiceRow {
    name: String,
    kind: String,
    /// `ok`, `off` or `bad`: the row's CSS class, besides the words.
    tone: &'static str,
    health: String,
    version: String,
    uptime: String,
    turn_on: Option<String>,
    not_available: bool,
    note: Option<String>,
}

/// One row of the limits and load tables: what, how much, and where it comes from.
struct LimitRow {
    label: String,
    value: String,
    source: String,
}

fn health_key(h: Health) -> &'static str {
    match h {
        Health::Running => "services-health-running",
        Health::Starting => "services-health-starting",
        Health::Stopping => "services-health-stopping",
        Health::Stopped => "services-health-stopped",
        Health::Failed => "services-health-failed",
        Health::Off => "services-health-off",
        Health::Unknown => "services-health-unknown",
    }
}

fn tone(h: Health) -> &'static str {
    match h {
        Health::Running => "ok",
        Health::Failed | Health::Stopped => "bad",
        _ => "off",
    }
}

/// A duration the way an admin reads an uptime: the two largest units.
fn uptime(t: &Tr, secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    let n = |x: u64| t.number(x as i64);
    if d > 0 {
        t.targs("services-uptime-days", &[("d", n(d)), ("h", n(h))])
    } else if h > 0 {
        t.targs("services-uptime-hours", &[("h", n(h)), ("m", n(m))])
    } else {
        t.t1("services-uptime-minutes", "m", &n(m))
    }
}

fn service_row(t: &Tr, s: &ServiceStatus, now: i64) -> ServiceRow {
    let mut health = t.t(health_key(s.health));
    if let Some(sub) = s.sub_state.as_deref().filter(|sub| {
        !matches!(
            (s.health, *sub),
            (Health::Running, "running") | (Health::Stopped, "dead") | (Health::Failed, "failed")
        )
    }) {
        health = format!("{health} ({sub})");
    }
    let uptime = s
        .uptime_secs
        .map(|u| {
            t.targs(
                "services-uptime-since",
                &[
                    ("uptime", uptime(t, u)),
                    ("since", t.datetime(now - u as i64)),
                ],
            )
        })
        .unwrap_or_default();
    let note = match s.health {
        _ if s.from_process => Some(t.t("services-from-process")),
        Health::Failed => Some(t.t1("services-failed-log", "unit", s.known.unit)),
        Health::Off if s.known.kind == Kind::System => {
            Some(t.t1("services-comes-with", "package", s.known.comes_with))
        }
        _ => None,
    };
    ServiceRow {
        name: s.known.name.to_string(),
        kind: t.t(match s.known.kind {
            Kind::Schola => "services-kind-schola",
            Kind::System => "services-kind-system",
        }),
        tone: tone(s.health),
        health,
        version: s.version.clone().unwrap_or_default(),
        uptime,
        not_available: s.health == Health::Off && !s.known.released,
        turn_on: s.turn_on.clone(),
        note,
    }
}

/// The limits in force, each with where it comes from. New limits are one line each.
fn limit_rows(t: &Tr, l: &Limits, cfg: &schola_core::Config) -> Vec<LimitRow> {
    let cores = schola_core::Config::cores() as i64;
    let n = |x: usize| t.number(x as i64);
    let secs = |d: Duration| t.t1("services-seconds", "n", &t.number(d.as_secs() as i64));
    let set_in = |key: &str| t.t1("services-source-config", "key", key);
    let derived = |set: bool, key: &str, how: String| if set { set_in(key) } else { how };
    let memory_gib = memory_bytes().map_or(0, |b| (b >> 30) as i64);
    let built_in = t.t("services-source-built-in");
    let row = |label: &str, value: String, source: String| LimitRow {
        label: t.t(label),
        value,
        source,
    };
    vec![
        row(
            "services-limit-workers",
            n(l.workers),
            derived(
                cfg.web.workers != 0,
                "[web] workers",
                t.tn("services-source-cores", cores),
            ),
        ),
        row(
            "services-limit-connections",
            n(l.max_connections),
            derived(
                cfg.web.max_connections != 0,
                "[web] max_connections",
                t.t1("services-source-school", "gib", &t.number(memory_gib)),
            ),
        ),
        row(
            "services-limit-connections-per-client",
            n(l.max_connections_per_client),
            derived(
                cfg.web.max_connections_per_client != 0,
                "[web] max_connections_per_client",
                t.t("services-source-per-client"),
            ),
        ),
        row(
            "services-limit-handshakes-per-client",
            n(l.handshakes_per_client),
            t.t("services-source-handshakes-per-client"),
        ),
        row(
            "services-limit-connections-per-worker",
            n(l.connections_per_worker()),
            t.t("services-source-per-worker"),
        ),
        row(
            "services-limit-blocking-threads",
            n(l.blocking_threads_per_worker),
            built_in.clone(),
        ),
        row(
            "services-limit-handshakes",
            n(l.max_handshakes_per_worker),
            built_in.clone(),
        ),
        row(
            "services-limit-in-flight",
            n(l.in_flight),
            derived(
                cfg.web.max_in_flight != 0,
                "[web] max_in_flight",
                t.tn("services-source-in-flight", cores),
            ),
        ),
        row(
            "services-limit-hash-threads",
            n(l.hash_threads),
            derived(
                cfg.auth.hash_threads != 0,
                "[auth] hash_threads",
                t.tn("services-source-cores", cores),
            ),
        ),
        row(
            "services-limit-signins-waiting",
            n(l.signins_waiting),
            derived(
                cfg.web.max_signins_waiting != 0,
                "[web] max_signins_waiting",
                t.t("services-source-signins"),
            ),
        ),
        row(
            "services-limit-request-timeout",
            secs(l.request_timeout),
            built_in.clone(),
        ),
        row(
            "services-limit-handshake-timeout",
            secs(l.handshake_timeout),
            built_in.clone(),
        ),
        row(
            "services-limit-body-timeout",
            secs(l.body_timeout),
            derived(
                cfg.web.body_timeout_secs != 0,
                "[web] body_timeout_secs",
                built_in.clone(),
            ),
        ),
        row(
            "services-limit-body-rate",
            t.t1(
                "services-bytes-per-second",
                "n",
                &t.number(l.body_min_rate as i64),
            ),
            built_in.clone(),
        ),
        row("services-limit-keep-alive", secs(l.keep_alive), built_in),
        row(
            "services-limit-metrics",
            {
                let addrs = crate::metrics::listeners(cfg);
                if addrs.is_empty() {
                    t.t("services-metrics-off")
                } else {
                    addrs
                        .iter()
                        .map(|a| format!("http://{a}/metrics"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            },
            derived(
                cfg.web.metrics_listen.is_some(),
                "[web] metrics_listen",
                t.t("services-source-metrics"),
            ),
        ),
    ]
}

async fn page(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let uptime = state.started.elapsed().as_secs();
    let st = state.clone();
    let (school, sessions, probe) = web::block(move || -> schola_core::Result<_> {
        let probe = services::probe(PROBE_TIMEOUT).with_this_process(
            "schola-web",
            schola_core::VERSION,
            uptime,
        );
        Ok((st.store.school()?, st.store.count_sessions()?, probe))
    })
    .await??;
    let layout = Layout::for_session(&school, &s, &req);
    let t = layout.t;
    let now = state.store.now();
    let n = |x: usize| t.number(x as i64);
    let l = &state.limits;
    let of = |now: usize, limit: usize| {
        t.targs("services-load-of", &[("n", n(now)), ("limit", n(limit))])
    };
    let load = vec![
        LimitRow {
            label: t.t("services-load-sessions"),
            value: n(sessions),
            source: t.t("services-load-sessions-note"),
        },
        LimitRow {
            label: t.t("services-load-signins"),
            value: of(state.pool.queued(), l.signins_waiting),
            source: t.t("services-load-signins-note"),
        },
        LimitRow {
            label: t.t("services-load-in-flight"),
            value: of(state.admission.in_flight(), l.in_flight),
            source: t.t("services-load-in-flight-note"),
        },
    ];
    let view = ServicesPage {
        systemd: probe.systemd,
        dpkg: probe.dpkg,
        services: probe
            .services
            .iter()
            .map(|s| service_row(&t, s, now))
            .collect(),
        limits: limit_rows(&t, l, &state.cfg),
        load,
        layout,
    };
    Ok(html(StatusCode::OK, view.render()?))
}

#[cfg(test)]
mod tests {
    use schola_core::directory::Language;

    use super::*;

    #[test]
    fn uptimes_read_naturally() {
        let t = Tr::new(Language::En);
        assert_eq!(uptime(&t, 59), "0 min");
        assert_eq!(uptime(&t, 3 * 3600 + 125), "3 h 2 min");
        assert_eq!(uptime(&t, 2 * 86_400 + 5 * 3600 + 7), "2 d 5 h");
    }

    #[test]
    fn every_limit_says_where_it_comes_from() {
        let t = Tr::new(Language::En);
        let mut cfg = schola_core::Config::default();
        cfg.web.max_in_flight = 77;
        let l = Limits::derive_for(&cfg, 2, 4 << 30, 1_000);
        let rows = limit_rows(&t, &l, &cfg);
        assert_eq!(rows.len(), 16);
        let in_flight = rows.iter().find(|r| r.value == "77").unwrap();
        assert!(
            in_flight.source.contains("[web] max_in_flight"),
            "{}",
            in_flight.source
        );
        assert!(
            rows.iter()
                .all(|r| !r.source.is_empty() && !r.label.is_empty())
        );
        assert!(rows[0].source.contains("core"), "{}", rows[0].source);
        // keys named in tables rather than in `t("…")` calls are checked here
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for r in limit_rows(&t, &l, &cfg) {
                assert!(!r.label.starts_with("services-"), "{lang}: {}", r.label);
                assert!(!r.source.starts_with("services-"), "{lang}: {}", r.source);
            }
            let healths = [
                Health::Running,
                Health::Starting,
                Health::Stopping,
                Health::Stopped,
                Health::Failed,
                Health::Off,
                Health::Unknown,
            ];
            for h in healths {
                assert_ne!(t.t(health_key(h)), health_key(h), "{lang}");
            }
        }
    }
}
