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
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, gate, html, redirect, school};
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
        .route("/admin/updates/events", web::get().to(events));
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
    state_label: String,
    upgrades: Vec<PackageVersion>,
    space_problems: Vec<String>,
    log: String,
    log_next: u64,
    error: Option<String>,
}

fn when(t: &Tr, at: Option<i64>) -> String {
    at.map(|at| format!("{} UTC", t.datetime(at)))
        .unwrap_or_default()
}

/// Why a button did nothing, said in the admin's language.
enum Refusal {
    Expired,
    UnknownAction(String),
    NotManaged(String),
    Busy,
    NoSpace(String),
    /// The status file could not be read (an error from the core, shown as it is).
    Unreadable(String),
}

impl Refusal {
    fn text(&self, t: &Tr) -> String {
        match self {
            Refusal::Expired => t.t("form-expired"),
            Refusal::UnknownAction(a) => t.t1("unknown-action", "action", &format!("{a:?}")),
            Refusal::NotManaged(dir) => t.t1("updates-refused-not-managed", "dir", dir),
            Refusal::Busy => t.t("updates-refused-busy"),
            Refusal::NoSpace(p) => t.t1("updates-refused-space", "problems", p),
            Refusal::Unreadable(e) => e.clone(),
        }
    }
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
    interrupted: bool,
}

fn snapshot(state: &AppState, paths: &UpdatePaths) -> Snapshot {
    let mut error = None;
    let mut status = paths.read_status().unwrap_or_else(|e| {
        error = Some(e.to_string());
        Status::default()
    });
    let pending = paths.request().exists();
    let helper = paths.helper_running();
    let mut interrupted = false;
    if status.state == Some(RunState::Running) && !helper && !pending {
        // the helper's lock is free, so the run that wrote "running" was killed
        status.state = Some(RunState::Failed);
        interrupted = true;
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
        interrupted,
    }
}

async fn render(
    req: &HttpRequest,
    state: &Data,
    session: &schola_core::session::Session,
    code: StatusCode,
    refusal: Option<Refusal>,
) -> PageResult {
    let paths = UpdatePaths::from_config(&state.cfg);
    let managed = paths.managed();
    let st = state.clone();
    let p = paths.clone();
    let snap = web::block(move || snapshot(&st, &p)).await?;
    let mut status = snap.status;
    let layout = Layout::for_session(&school(state).await?, session, req);
    let t = layout.t;
    if snap.interrupted {
        status.message = t.t("run-interrupted");
    }
    let state_label = match (snap.pending, status.state) {
        (true, _) => t.t("state-waiting"),
        (false, Some(RunState::Running)) => t.t("state-running"),
        (false, Some(RunState::Succeeded)) => t.t("state-finished"),
        (false, Some(RunState::Failed)) => t.t("state-failed"),
        (false, None) => String::new(),
    };
    let error = refusal
        .map(|r| r.text(&t))
        .or(snap.error.map(|e| Refusal::Unreadable(e).text(&t)));
    let page = UpdatesPage {
        layout,
        managed,
        update_dir: paths.update_dir.display().to_string(),
        web_version: schola_core::VERSION,
        busy: snap.busy,
        pending: snap.pending,
        started: when(&t, status.started),
        finished: when(&t, status.finished),
        checked: when(&t, status.checked),
        state_label,
        upgrades: status.upgrades().cloned().collect(),
        space_problems: snap.space_problems,
        log: snap.log,
        log_next: snap.log_next,
        error,
        status,
    };
    Ok(html(code, page.render()?))
}

async fn page(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    render(&req, &state, &s, StatusCode::OK, None).await
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
        return render(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            Some(Refusal::Expired),
        )
        .await;
    }
    let Some(action) = schola_core::updates::Action::parse(&form.action) else {
        let refusal = Refusal::UnknownAction(form.action.clone());
        return render(&req, &state, &s, StatusCode::BAD_REQUEST, Some(refusal)).await;
    };
    let paths = UpdatePaths::from_config(&state.cfg);
    let st = state.clone();
    let p = paths.clone();
    let refusal = web::block(move || -> Option<Refusal> {
        if !p.managed() {
            return Some(Refusal::NotManaged(p.update_dir.display().to_string()));
        }
        if p.request().exists() || p.helper_running() {
            return Some(Refusal::Busy);
        }
        if action == schola_core::updates::Action::Upgrade {
            let problems = schola_core::updates::space_problems(&st.cfg)
                .unwrap_or_else(|e| vec![e.to_string()]);
            if !problems.is_empty() {
                return Some(Refusal::NoSpace(problems.join("; ")));
            }
        }
        None
    })
    .await?;
    if let Some(refusal) = refusal {
        return render(&req, &state, &s, StatusCode::CONFLICT, Some(refusal)).await;
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
