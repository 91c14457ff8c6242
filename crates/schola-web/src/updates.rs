//! The admin UI's Updates page: installed and available versions with the changelog, a button
//! to check and one to upgrade, and the run's log followed live.
//!
//! schola-web never runs as root and never runs apt. A button only leaves a request (`check`
//! or `upgrade`) for the privileged helper that `schola-update.path` starts, and the page shows
//! what the helper writes back (`schola_core::updates` has the protocol). The log is streamed
//! to the browser as server-sent events by a small script; without JavaScript the page reloads
//! itself while a run is in progress.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::updates::{PackageVersion, RunState, Status, UpdatePaths};
use serde::Deserialize;

use crate::guard::{self, Need};
use crate::pages::{Layout, PageResult, gate, html, redirect, school_name};
use crate::state::AppState;

type Data = web::Data<AppState>;

/// At most this much of the log is put into the page; the rest streams.
const LOG_IN_PAGE: usize = 256 * 1024;
/// One event stream lasts at most this long; the browser then reconnects where it left off.
/// Short, so a restart of schola-web (which an upgrade does) never waits for it.
const STREAM_FOR: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(400);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/updates", web::get().to(page))
        .route("/admin/updates", web::post().to(request))
        .route("/admin/updates/events", web::get().to(events))
        .route("/static/updates.js", web::get().to(script));
}

#[derive(Template)]
#[template(path = "updates.html")]
struct UpdatesPage {
    layout: Layout,
    managed: bool,
    update_dir: String,
    web_version: &'static str,
    status: Status,
    /// A request waits for the helper, or the helper runs.
    busy: bool,
    pending: bool,
    started: String,
    finished: String,
    checked: String,
    state_label: &'static str,
    upgrades: Vec<PackageVersion>,
    space_problems: Vec<String>,
    log: String,
    log_next: u64,
    error: Option<String>,
}

fn when(t: Option<i64>) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

/// What the page shows, read from the files the helper writes.
struct Snapshot {
    status: Status,
    busy: bool,
    pending: bool,
    space_problems: Vec<String>,
    log: String,
    log_next: u64,
    error: Option<String>,
}

fn snapshot(state: &AppState, paths: &UpdatePaths) -> Snapshot {
    let mut error = None;
    let mut status = paths.read_status().unwrap_or_else(|e| {
        error = Some(e.to_string());
        Status::default()
    });
    let pending = paths.request().exists();
    let helper = paths.helper_running();
    if status.state == Some(RunState::Running) && !helper && !pending {
        // the helper's lock is free, so the run that wrote "running" was killed
        status.state = Some(RunState::Failed);
        status.message = "The run was interrupted before it finished. Check the package state \
                          with 'dpkg --audit' on the server, or start the upgrade again."
            .into();
    }
    let space_problems = schola_core::updates::space_problems(&state.cfg)
        .unwrap_or_else(|e| vec![format!("the free disk space could not be read: {e}")]);
    let (log, log_next) = match paths.read_log(0, LOG_IN_PAGE) {
        Ok(c) => (c.text, c.next),
        Err(e) => (format!("({e})"), 0),
    };
    Snapshot {
        busy: pending || helper,
        pending,
        status,
        space_problems,
        log,
        log_next,
        error,
    }
}

async fn render(
    state: &Data,
    session: &schola_core::session::Session,
    code: StatusCode,
    error: Option<String>,
) -> PageResult {
    let paths = UpdatePaths::from_config(&state.cfg);
    let managed = paths.managed();
    let st = state.clone();
    let p = paths.clone();
    let snap = web::block(move || snapshot(&st, &p)).await?;
    let status = snap.status;
    let state_label = match (snap.pending, status.state) {
        (true, _) => "Waiting for the update helper to start",
        (false, Some(RunState::Running)) => "Running",
        (false, Some(RunState::Succeeded)) => "Finished",
        (false, Some(RunState::Failed)) => "Failed",
        (false, None) => "",
    };
    let page = UpdatesPage {
        layout: Layout::for_session(school_name(state).await?, session),
        managed,
        update_dir: paths.update_dir.display().to_string(),
        web_version: schola_core::VERSION,
        busy: snap.busy,
        pending: snap.pending,
        started: when(status.started),
        finished: when(status.finished),
        checked: when(status.checked),
        state_label,
        upgrades: status.upgrades().cloned().collect(),
        space_problems: snap.space_problems,
        log: snap.log,
        log_next: snap.log_next,
        error: error.or(snap.error),
        status,
    };
    Ok(html(code, page.render()?))
}

async fn page(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    render(&state, &s, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct RequestForm {
    csrf: String,
    action: String,
}

async fn request(req: HttpRequest, state: Data, form: web::Form<RequestForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !guard::eq(&form.csrf, &s.csrf) || !guard::same_origin(&req) {
        let msg = "The form had expired. Please try again.".to_string();
        return render(&state, &s, StatusCode::FORBIDDEN, Some(msg)).await;
    }
    let Some(action) = schola_core::updates::Action::parse(&form.action) else {
        let msg = format!("Unknown action {:?}.", form.action);
        return render(&state, &s, StatusCode::BAD_REQUEST, Some(msg)).await;
    };
    let paths = UpdatePaths::from_config(&state.cfg);
    let st = state.clone();
    let p = paths.clone();
    let refusal = web::block(move || -> Option<String> {
        if !p.managed() {
            return Some(format!(
                "Updates are not managed on this server: {} does not exist. Upgrades come \
                 through the packages on an installed appliance.",
                p.update_dir.display()
            ));
        }
        if p.request().exists() || p.helper_running() {
            return Some(
                "An update run is already in progress. Wait for it to finish, then try again."
                    .into(),
            );
        }
        if action == schola_core::updates::Action::Upgrade {
            let problems = schola_core::updates::space_problems(&st.cfg)
                .unwrap_or_else(|e| vec![e.to_string()]);
            if !problems.is_empty() {
                return Some(format!(
                    "Not enough disk space for an upgrade, so it was not started: {}. Free some \
                     space, then try again.",
                    problems.join("; ")
                ));
            }
        }
        None
    })
    .await?;
    if let Some(msg) = refusal {
        return render(&state, &s, StatusCode::CONFLICT, Some(msg)).await;
    }
    let st = state.clone();
    let actor = Actor::person(
        &s.person.login,
        guard::client_ip(&req).map(|i| i.to_string()),
    );
    web::block(move || -> schola_core::Result<()> {
        paths.write_request(action)?;
        st.store.record_event(
            &actor,
            "update.requested",
            None,
            serde_json::json!({ "action": action.as_str() }),
        )
    })
    .await??;
    tracing::info!(admin = %s.person.login, action = action.as_str(), "update requested");
    Ok(redirect("/admin/updates"))
}

#[derive(Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    from: u64,
}

/// Server-sent events: `log` (new whole lines of the log; the event id is the offset to resume
/// from), `reset` (a new run started the log afresh) and `done` (nothing is running any more).
async fn events(req: HttpRequest, state: Data, query: web::Query<EventsQuery>) -> PageResult {
    if let Err(resp) = gate(&req, &state, Need::Admin).await? {
        return Ok(resp);
    }
    let from = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(query.from);
    let tail = Tail {
        paths: UpdatePaths::from_config(&state.cfg),
        offset: from,
        until: Instant::now() + STREAM_FOR,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(tail, |mut t| async move {
        if t.done {
            return None;
        }
        loop {
            let out = t.poll().await;
            if !out.is_empty() {
                return Some((Ok::<_, actix_web::Error>(Bytes::from(out)), t));
            }
            if Instant::now() >= t.until {
                return None;
            }
            actix_web::rt::time::sleep(POLL_EVERY).await;
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream))
}

struct Tail {
    paths: UpdatePaths,
    offset: u64,
    until: Instant,
    first: bool,
    done: bool,
}

impl Tail {
    /// The events since the last call (empty when nothing happened).
    async fn poll(&mut self) -> String {
        let paths = self.paths.clone();
        let offset = self.offset;
        let read = web::block(move || {
            let busy = paths.request().exists() || paths.helper_running();
            (paths.read_log(offset, 64 * 1024), busy)
        })
        .await;
        let mut out = String::new();
        if std::mem::take(&mut self.first) {
            out.push_str("retry: 1000\n\n");
        }
        let (chunk, busy) = match read {
            Ok((Ok(c), busy)) => (c, busy),
            _ => return out,
        };
        if chunk.reset {
            out.push_str("event: reset\ndata:\n\n");
        }
        if !chunk.text.is_empty() {
            out.push_str("event: log\n");
            for line in chunk.text.lines() {
                out.push_str("data: ");
                out.push_str(&line.replace('\r', ""));
                out.push('\n');
            }
            out.push_str(&format!("id: {}\n\n", chunk.next));
        }
        self.offset = chunk.next;
        if !busy && chunk.text.is_empty() {
            out.push_str("event: done\ndata:\n\n");
            self.done = true;
        }
        out
    }
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../static/updates.js"))
}
