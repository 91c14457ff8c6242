//! Disaster recovery from the first-run setup: a freshly installed server, still without an
//! administrator, is pointed at the school's backup (the target and the passphrase from the
//! recovery sheet) and the root backup helper restores the whole school into it, then restarts
//! the services; the next page load signs in to the restored school.
//!
//! It is a separate form of the wizard (`/setup/restore`), guarded the same way: only while no
//! administrator exists, with the setup code from the console, CSRF and same origin. The web
//! server only keeps the target and the passphrase and leaves the request; the helper refuses it
//! when a school with people is already there.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::backups::{BackupPaths, Request, RunState};
use schola_core::directory::School;

use crate::guard;
use crate::pages::{Layout, PageResult, capitalise, pre_signin_form, redirect};
use crate::state::AppState;

type Data = web::Data<AppState>;

/// The action the helper records in its status while it restores a whole school.
const ACTION: &str = "restore-server";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/setup/restore", web::get().to(page))
        .route("/setup/restore", web::post().to(submit));
}

#[derive(Template)]
#[template(path = "setup_restore.html")]
struct RestorePage {
    layout: Layout,
    csrf: String,
    code_path: String,
    backup_target: String,
    /// The helper is restoring (the page reloads itself).
    running: bool,
    /// The helper's last word on a whole-server restore (its failure, or that it is done).
    status: Option<String>,
    failed: bool,
    error: Option<String>,
    /// This server's own SFTP key (made by the helper at the first try), which the backup server
    /// does not know yet: it knew the old server's.
    public_key: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct Form {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    setup_code: String,
    #[serde(default)]
    backup_target: String,
    #[serde(default)]
    passphrase: String,
}

fn render(
    req: &HttpRequest,
    status: StatusCode,
    state: &Data,
    (csrf, new_cookie): (String, bool),
    target: &str,
    error: Option<String>,
) -> PageResult {
    let layout = Layout::plain(&School::default(), Some(req));
    let paths = BackupPaths::from_config(&state.cfg);
    let st = paths.read_status().unwrap_or_default();
    let ours = st.action.as_deref() == Some(ACTION);
    // "running" with no helper holding the lock: the restore was killed, and is shown as failed
    let alive = paths.helper_running();
    let running = ours && st.state == Some(RunState::Running) && alive;
    let failed = ours
        && (st.state == Some(RunState::Failed) || (st.state == Some(RunState::Running) && !alive));
    let public_key = schola_core::backups::is_sftp(target)
        .then(|| paths.sftp_public_key())
        .flatten();
    let body = RestorePage {
        csrf: csrf.clone(),
        code_path: state.setup_code_path().display().to_string(),
        backup_target: target.to_string(),
        running,
        status: if ours && st.state == Some(RunState::Running) && !alive {
            Some(layout.t.t("setup-restore-stopped"))
        } else {
            ours.then(|| st.message.clone())
        },
        failed,
        error,
        public_key,
        layout,
    }
    .render()?;
    Ok(pre_signin_form(status, body, &csrf, new_cookie))
}

async fn page(req: HttpRequest, state: Data) -> PageResult {
    if state.setup_done() {
        return Ok(redirect("/login"));
    }
    let csrf = guard::login_csrf(&req);
    let target = state
        .store
        .backup_target()
        .ok()
        .flatten()
        .unwrap_or_default();
    render(&req, StatusCode::OK, &state, csrf, &target, None)
}

async fn submit(req: HttpRequest, state: Data, form: web::Form<Form>) -> PageResult {
    if state.setup_done() {
        return Ok(redirect("/login"));
    }
    let (csrf, new_cookie) = guard::login_csrf(&req);
    let f = form.into_inner();
    let fail = |status, msg: String| {
        render(
            &req,
            status,
            &state,
            (csrf.clone(), new_cookie),
            &f.backup_target,
            Some(msg),
        )
    };
    let t = Layout::plain(&School::default(), Some(&req)).t;
    if new_cookie || !guard::eq(&f.csrf, &csrf) || !guard::same_origin(&req) {
        return fail(StatusCode::FORBIDDEN, t.t("form-expired"));
    }
    if !state.setup_code_matches(&f.setup_code) {
        tracing::warn!(client = ?guard::client_ip(&req), "restore from a backup with a wrong setup code");
        return fail(StatusCode::FORBIDDEN, t.t("setup-wrong-code"));
    }
    let target = match schola_core::settings::check_backup_target(&f.backup_target) {
        Ok(t) => t,
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, capitalise(&e.to_string())),
    };
    let phrase = f.passphrase.trim();
    if phrase.is_empty() || phrase.len() > 1024 || phrase.chars().any(char::is_control) {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            t.t("setup-restore-passphrase-missing"),
        );
    }
    let st = state.clone();
    let phrase = phrase.to_string();
    let actor = Actor::system("first-run setup");
    let asked = web::block(move || -> schola_core::Result<()> {
        st.store.set_backup_target(&actor, Some(&target))?;
        schola_core::backups::write_passphrase(&st.cfg, &phrase, st.store.now())?;
        BackupPaths::from_config(&st.cfg).write_request(&Request::RestoreServer {
            snapshot: "latest".into(),
        })
    })
    .await?;
    match asked {
        Ok(()) => {
            tracing::info!(
                "first-run setup: a restore of the whole school from its backup was asked for"
            );
            Ok(redirect("/setup/restore"))
        }
        Err(e @ schola_core::Error::Invalid(_)) => {
            fail(StatusCode::CONFLICT, capitalise(&e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
