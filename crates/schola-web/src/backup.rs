//! The admin UI's Backup page (`/admin/backup`) and the portal's "restore my files"
//! (`/files/restore`).
//!
//! schola-web never runs restic and never reads the backup's passphrase. A button only leaves a
//! request for the root-side helper (`scholactl backup run-request`, started by a path unit),
//! and the pages show the status the helper writes back (`schola_core::backups` has the
//! protocol, as `updates` does for the Updates page). Every request is checked here for the
//! person asking (a restore from the portal always names the session's own login) and again
//! by the helper before it acts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::backups::{BackupPaths, Request, RunState, Status};
use schola_core::session::Session;
use serde::Deserialize;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, gate, html, redirect, school};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/backup", web::get().to(admin_page))
        .route("/admin/backup", web::post().to(admin_request))
        .route(
            "/admin/backup/recovery-sheet.pdf",
            web::get().to(recovery_sheet),
        )
        .route("/files/restore", web::get().to(portal_page))
        .route("/files/restore", web::post().to(portal_request));
}

/// The backup target: `[backup]` of the configuration, else the one chosen on this page or in
/// the first-run setup. Reads the database: call it on the blocking pool.
pub(crate) fn target(state: &AppState) -> Option<schola_core::backups::Target> {
    schola_core::backups::target(&state.cfg, &state.store)
        .ok()
        .flatten()
}

/// A backup is set up (see [`target`]). Reads the database: call it on the blocking pool.
pub(crate) fn configured(state: &AppState) -> bool {
    target(state).is_some()
}

/// [`configured`] from an async handler.
pub(crate) async fn is_configured(state: &Data) -> Result<bool, crate::pages::PageError> {
    let st = state.clone();
    Ok(web::block(move || configured(&st)).await?)
}

/// One backup in the list of a restore form.
pub struct SnapshotView {
    pub id: String,
    pub short_id: String,
    pub when: String,
    pub selected: bool,
}

/// What the forms had in them, to show them again after a refusal.
#[derive(Default)]
struct Filled {
    /// `files`, `mailbox` or `setup`: the form the values belong to.
    form: String,
    target: String,
    login: String,
    snapshot: String,
    path: String,
}

/// Why a button did nothing, said in the reader's language.
enum Refusal {
    Expired,
    NotSetUp,
    /// The target is set in the configuration file.
    FromConfig,
    UnknownAction(String),
    Busy,
    UnknownLogin(String),
    UnknownSnapshot,
    BadPath(String),
    /// The core refused or could not read something; its own words.
    Text(String),
}

impl Refusal {
    /// `own`: said to a person about their own files (the portal), not to an admin.
    fn text(&self, t: &Tr, own: bool) -> String {
        match self {
            Refusal::Busy if own => t.t("restore-pending"),
            Refusal::BadPath(p) if own => t.t1("restore-refused-path", "path", p),
            Refusal::Expired => t.t("form-expired"),
            Refusal::NotSetUp => t.t("backup-refused-not-set-up"),
            Refusal::FromConfig => t.t("backup-refused-from-config"),
            Refusal::UnknownAction(a) => t.t1("unknown-action", "action", &format!("{a:?}")),
            Refusal::Busy => t.t("backup-refused-busy"),
            Refusal::UnknownLogin(l) => t.t1("backup-refused-login", "login", l),
            Refusal::UnknownSnapshot => t.t("backup-refused-snapshot"),
            Refusal::BadPath(p) => t.t1("backup-refused-path", "path", p),
            Refusal::Text(s) => s.clone(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refusal::Expired => StatusCode::FORBIDDEN,
            Refusal::NotSetUp | Refusal::Busy | Refusal::FromConfig => StatusCode::CONFLICT,
            Refusal::UnknownAction(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// The status and whether a request waits, read from the files the helper and this server
/// write. An unreadable status shows as an error, with an empty status.
struct Read {
    status: Status,
    pending: bool,
    error: Option<String>,
    target: Option<schola_core::backups::Target>,
    /// The public key Schola signs in to an SFTP target with (made by the helper).
    public_key: Option<String>,
    /// The passphrase file is readable here (written by this page or the setup), so the
    /// recovery sheet can be printed from the browser.
    sheet: bool,
    /// A helper holds its lock now.
    helper_running: bool,
}

async fn read(state: &Data) -> Result<Read, crate::pages::PageError> {
    let paths = BackupPaths::from_config(&state.cfg);
    let st = state.clone();
    Ok(web::block(move || {
        let target = target(&st);
        let public_key = target
            .as_ref()
            .filter(|t| schola_core::backups::is_sftp(&t.repository))
            .and_then(|_| paths.sftp_public_key());
        let sheet = target
            .as_ref()
            .is_some_and(|t| std::fs::File::open(&t.password_file).is_ok());
        let (status, error) = match paths.read_status() {
            Ok(s) => (s, None),
            Err(e) => (
                Status::default(),
                Some(crate::pages::capitalise(&e.to_string())),
            ),
        };
        Read {
            status,
            pending: paths.request().exists(),
            error,
            target,
            public_key,
            sheet,
            helper_running: paths.helper_running(),
        }
    })
    .await?)
}

fn when(t: &Tr, at: i64) -> String {
    format!("{} UTC", t.datetime(at))
}

/// `95 s`, `4 min 12 s`, `1 h 5 min`.
fn duration(t: &Tr, secs: f64) -> String {
    let secs = secs.max(0.0).round() as i64;
    let n = |v: i64| v.to_string();
    match secs {
        0..60 => t.t1("backup-duration-s", "s", &n(secs)),
        60..3600 => t.targs(
            "backup-duration-min",
            &[("min", n(secs / 60)), ("s", n(secs % 60))],
        ),
        _ => t.targs(
            "backup-duration-h",
            &[("h", n(secs / 3600)), ("min", n(secs % 3600 / 60))],
        ),
    }
}

fn snapshot_views(t: &Tr, status: &Status, chosen: &str) -> Vec<SnapshotView> {
    status
        .snapshots
        .iter()
        .map(|s| SnapshotView {
            id: s.id.clone(),
            short_id: s.short_id.clone(),
            when: when(t, s.time),
            selected: s.id == chosen,
        })
        .collect()
}

/// What the helper is doing or was last asked, as words.
fn action_label(t: &Tr, action: &str) -> String {
    match action {
        "backup" => t.t("backup-action-backup"),
        "check" => t.t("backup-action-check"),
        "restore-files" => t.t("backup-action-restore-files"),
        "restore-mailbox" => t.t("backup-action-restore-mailbox"),
        "init" => t.t("backup-action-init"),
        "restore-server" => t.t("backup-action-restore-server"),
        other => other.to_string(),
    }
}

/// The backup's state in one line, for the admin start page.
pub(crate) struct Summary {
    pub text: String,
    pub failing: bool,
}

/// The failure when the last attempt failed, else the last backup.
pub(crate) fn summary(t: &Tr, status: &Status) -> Summary {
    if let Some(f) = status.failing() {
        let why = if f.target_missing {
            t.t("backup-target-missing")
        } else {
            f.message.clone()
        };
        return Summary {
            text: format!(
                "{} {why}",
                t.t1("backup-failed-at", "when", &when(t, f.time))
            ),
            failing: true,
        };
    }
    match &status.last_success {
        Some(b) => Summary {
            text: t.t1("backup-summary-last", "when", &when(t, b.time)),
            failing: false,
        },
        None => Summary {
            text: t.t("backup-summary-none"),
            failing: true,
        },
    }
}

// ---- the admin page ----

#[derive(Template)]
#[template(path = "admin_backup.html")]
struct BackupPage {
    layout: Layout,
    configured: bool,
    repository: String,
    /// Set in the configuration file: this page cannot change it.
    from_config: bool,
    public_key: Option<String>,
    sheet: bool,
    /// What was typed in the set-up form, to show it again after a refusal.
    new_target: String,
    /// A request waits for the helper, or the helper runs: the page reloads itself.
    busy: bool,
    pending: bool,
    running: Option<String>,
    /// The last run was killed (the status says running, no helper holds the lock).
    stopped: Option<String>,
    last_success: Option<LastView>,
    failing: Option<FailView>,
    last_check: Option<CheckView>,
    last_message: String,
    last_failed: bool,
    snapshots: Vec<SnapshotView>,
    filled: Filled,
    notice: Option<String>,
    error: Option<String>,
}

struct LastView {
    when: String,
    added: String,
    duration: String,
}

struct FailView {
    when: String,
    message: String,
    target_missing: bool,
}

struct CheckView {
    when: String,
    ok: bool,
    message: String,
}

async fn render_admin(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    code: StatusCode,
    notice: Option<&'static str>,
    refusal: Option<Refusal>,
    filled: Filled,
) -> PageResult {
    let r = read(state).await?;
    let layout = Layout::for_session(&school(state).await?, s, req);
    let t = layout.t;
    let st = &r.status;
    // a status that says "running" while no helper holds the lock: the run was killed
    let killed = st.state == Some(RunState::Running) && !r.helper_running;
    let running = (st.state == Some(RunState::Running) && !killed).then(|| {
        let what = action_label(&t, st.action.as_deref().unwrap_or("backup"));
        match st.started {
            Some(at) => t.targs(
                "backup-running-since",
                &[("what", what), ("when", when(&t, at))],
            ),
            None => what,
        }
    });
    let stopped = killed.then(|| {
        let what = action_label(&t, st.action.as_deref().unwrap_or("backup"));
        t.targs(
            "backup-stopped",
            &[
                ("what", what),
                (
                    "when",
                    st.started.map(|at| when(&t, at)).unwrap_or_default(),
                ),
            ],
        )
    });
    let page = BackupPage {
        stopped,
        configured: r.target.is_some(),
        repository: r
            .target
            .as_ref()
            .map(|t| t.repository.clone())
            .unwrap_or_default(),
        from_config: r.target.as_ref().is_some_and(|t| t.from_config),
        public_key: r.public_key.clone(),
        sheet: r.sheet,
        new_target: filled.target.clone(),
        busy: r.pending || running.is_some(),
        pending: r.pending,
        running,
        last_success: st.last_success.as_ref().map(|b| LastView {
            when: when(&t, b.time),
            added: crate::files::human_bytes(&t, b.data_added),
            duration: duration(&t, b.duration_secs),
        }),
        failing: st.failing().map(|f| FailView {
            when: when(&t, f.time),
            message: f.message.clone(),
            target_missing: f.target_missing,
        }),
        last_check: st.last_check.as_ref().map(|c| CheckView {
            when: when(&t, c.time),
            ok: c.ok,
            message: c.message.clone(),
        }),
        last_message: st.message.clone(),
        last_failed: st.state == Some(RunState::Failed),
        snapshots: snapshot_views(&t, st, &filled.snapshot),
        filled,
        notice: notice.map(|k| t.t(k)),
        error: refusal.map(|x| x.text(&t, false)).or(r.error),
        layout,
    };
    Ok(html(code, page.render()?))
}

#[derive(Deserialize)]
pub struct Asked {
    #[serde(default)]
    asked: String,
}

async fn admin_page(req: HttpRequest, state: Data, q: web::Query<Asked>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let notice = (!q.asked.is_empty()).then_some("backup-asked");
    render_admin(
        &req,
        &state,
        &s,
        StatusCode::OK,
        notice,
        None,
        Filled::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct AdminForm {
    csrf: String,
    action: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    snapshot: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    target: String,
}

/// The checks every request passes here before it is written: a backup is set up, none waits,
/// the backup is one of the list, the path stays inside the person's files.
async fn check_common(
    state: &Data,
    snapshot: Option<&str>,
    path: Option<&str>,
) -> Result<(), Refusal> {
    let r = read(state)
        .await
        .map_err(|e| Refusal::Text(e.to_string()))?;
    if r.target.is_none() {
        return Err(Refusal::NotSetUp);
    }
    if r.pending {
        return Err(Refusal::Busy);
    }
    if let Some(snap) = snapshot
        && !r.status.snapshots.iter().any(|s| s.id == snap)
    {
        return Err(Refusal::UnknownSnapshot);
    }
    if let Some(p) = path
        && schola_core::backups::relative_path(p).is_err()
    {
        return Err(Refusal::BadPath(p.to_string()));
    }
    Ok(())
}

async fn write(state: &Data, actor: Actor, req: Request) -> Result<(), Refusal> {
    let st = state.clone();
    let result = web::block(move || -> schola_core::Result<()> {
        let paths = BackupPaths::from_config(&st.cfg);
        paths.write_request(&req)?;
        let detail = match &req {
            Request::Run => serde_json::json!({ "action": "run" }),
            Request::RestoreFiles {
                snapshot,
                login,
                path,
                ..
            } => serde_json::json!({
                "action": "restore-files", "snapshot": snapshot, "login": login, "path": path,
            }),
            Request::RestoreMailbox { snapshot, login } => serde_json::json!({
                "action": "restore-mailbox", "snapshot": snapshot, "login": login,
            }),
            Request::Init => serde_json::json!({ "action": "init" }),
            Request::RestoreServer { snapshot } => serde_json::json!({
                "action": "restore-server", "snapshot": snapshot,
            }),
        };
        st.store
            .record_event(&actor, "backup.requested", None, detail)
    })
    .await;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Refusal::Text(crate::pages::capitalise(&e.to_string()))),
        Err(e) => Err(Refusal::Text(e.to_string())),
    }
}

fn actor(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

async fn admin_request(req: HttpRequest, state: Data, form: web::Form<AdminForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    let login = f.login.trim().to_lowercase();
    let snapshot = f.snapshot.trim().to_string();
    let filled = Filled {
        form: f.action.clone(),
        login: f.login.clone(),
        snapshot: snapshot.clone(),
        path: f.path.clone(),
        target: f.target.clone(),
    };
    let refuse = |refusal: Refusal, filled: Filled| {
        render_admin(
            &req,
            &state,
            &s,
            refusal.status(),
            None,
            Some(refusal),
            filled,
        )
    };
    if !guard::eq(&f.csrf, &s.csrf) || !guard::same_origin(&req) {
        return refuse(Refusal::Expired, Filled::default()).await;
    }
    if f.action == "setup" {
        return set_up(&req, &state, &s, f.target.trim(), filled).await;
    }
    let request = match f.action.as_str() {
        "run" => Request::Run,
        // the folder is named in the person's language (or the school's), not the admin's
        "files" => Request::RestoreFiles {
            snapshot: snapshot.clone(),
            login: login.clone(),
            path: f.path.clone(),
            language: None,
        },
        "mailbox" => Request::RestoreMailbox {
            snapshot: snapshot.clone(),
            login: login.clone(),
        },
        other => return refuse(Refusal::UnknownAction(other.to_string()), filled).await,
    };
    let restore = !matches!(request, Request::Run);
    let path = (f.action == "files").then_some(f.path.as_str());
    if let Err(r) = check_common(&state, restore.then_some(snapshot.as_str()), path).await {
        return refuse(r, filled).await;
    }
    if restore {
        let st = state.clone();
        let l = login.clone();
        let known = web::block(move || st.store.person_by_login(&l)).await??;
        if known.is_none() || login.is_empty() {
            return refuse(Refusal::UnknownLogin(f.login.trim().to_string()), filled).await;
        }
    }
    if let Err(r) = write(&state, actor(&req, &s), request).await {
        return refuse(r, filled).await;
    }
    tracing::info!(admin = %s.person.login, action = %f.action, login = %login, "backup helper asked");
    Ok(redirect("/admin/backup?asked=1"))
}

/// "Set up" (or change where the backup goes): the target is checked and kept, a new
/// passphrase made (an old one is kept beside it), and the helper asked to make the repository
/// — or, when the target holds one already, to check that it opens.
async fn set_up(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    target: &str,
    filled: Filled,
) -> PageResult {
    let refuse = |refusal: Refusal, filled: Filled| {
        render_admin(req, state, s, refusal.status(), None, Some(refusal), filled)
    };
    if state.cfg.backup.repository.is_some() {
        return refuse(Refusal::FromConfig, filled).await;
    }
    if let Err(e) = schola_core::settings::check_backup_target(target) {
        return refuse(
            Refusal::Text(crate::pages::capitalise(&e.to_string())),
            filled,
        )
        .await;
    }
    if read(state).await?.pending {
        return refuse(Refusal::Busy, filled).await;
    }
    let st = state.clone();
    let actor = actor(req, s);
    let t = target.to_string();
    let done = web::block(move || crate::setup::set_up_backup(&st, &actor, &t)).await?;
    if let Err(e) = done {
        return refuse(
            Refusal::Text(crate::pages::capitalise(&e.to_string())),
            filled,
        )
        .await;
    }
    tracing::info!(admin = %s.person.login, target = %target, "backup target set");
    Ok(redirect("/admin/backup?asked=1"))
}

/// The recovery sheet, in the admin's language: the target and the passphrase on one printable
/// page. Only where this server can read the passphrase file (the one it made); one kept by
/// root (`[backup] password_file`) is printed with `scholactl backup recovery-sheet`.
async fn recovery_sheet(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let st = state.clone();
    let actor = actor(&req, &s);
    let found = web::block(
        move || -> schola_core::Result<Option<(String, String, String)>> {
            let Some(t) = target(&st) else {
                return Ok(None);
            };
            let Ok(phrase) = std::fs::read_to_string(&t.password_file) else {
                return Ok(None);
            };
            st.store.record_event(
                &actor,
                "backup.recovery_sheet",
                None,
                serde_json::json!({ "target": t.repository }),
            )?;
            Ok(Some((
                t.repository,
                phrase.trim_end_matches(['\n', '\r']).to_string(),
                st.store.school()?.name,
            )))
        },
    )
    .await??;
    let Some((repo, phrase, school_name)) = found else {
        return crate::admin::people::not_found(&req, &state, &s).await;
    };
    let t = Layout::for_session(&school(&state).await?, &s, &req).t;
    let now = state.store.now();
    let made = format!("{} UTC", t.datetime(now));
    let server = req.connection_info().host().to_string();
    let footer = format!("Schola {}", schola_core::VERSION);
    let words = schola_backup::recovery_sheet::Words {
        title: t.t("backup-sheet-title"),
        target_label: t.t("backup-sheet-target"),
        made_label: t.t("backup-sheet-made"),
        server_label: t.t("backup-sheet-server"),
        passphrase_label: t.t("backup-sheet-passphrase"),
        paragraphs: [
            Some(t.t("backup-sheet-keep")),
            Some(t.t("backup-sheet-restore")),
            schola_core::backups::is_sftp(&repo).then(|| t.t("backup-sheet-sftp")),
            Some(t.t1("backup-sheet-restic", "target", &repo)),
        ]
        .into_iter()
        .flatten()
        .collect(),
    };
    let pdf = schola_backup::recovery_sheet::pdf(
        &schola_backup::recovery_sheet::Sheet {
            school: &school_name,
            target: &repo,
            passphrase: &phrase,
            made: &made,
            server: &server,
            footer: &footer,
        },
        &words,
    );
    Ok(actix_web::HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"schola-recovery-sheet.pdf\"",
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(pdf))
}

// ---- the portal's "restore my files" ----

#[derive(Template)]
#[template(path = "files_restore.html")]
struct RestorePage {
    layout: Layout,
    pending: bool,
    snapshots: Vec<SnapshotView>,
    path: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn render_portal(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    code: StatusCode,
    notice: Option<String>,
    refusal: Option<Refusal>,
    filled: Filled,
) -> PageResult {
    let r = read(state).await?;
    let layout = Layout::for_session(&school(state).await?, s, req);
    let t = layout.t;
    let page = RestorePage {
        pending: r.pending,
        snapshots: snapshot_views(&t, &r.status, &filled.snapshot),
        path: filled.path,
        notice,
        // the helper's own errors are for the admin; a person sees only why their form failed
        error: refusal.map(|x| x.text(&t, true)),
        layout,
    };
    Ok(html(code, page.render()?))
}

#[derive(Deserialize)]
pub struct RestoreQuery {
    /// The backup a restore was asked from, to name the folder the files land in.
    #[serde(default)]
    asked: String,
}

async fn portal_page(req: HttpRequest, state: Data, q: web::Query<RestoreQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !is_configured(&state).await? {
        return crate::admin::people::not_found(&req, &state, &s).await;
    }
    let mut notice = None;
    if !q.asked.is_empty() {
        let r = read(&state).await?;
        let t = Layout::for_session(&school(&state).await?, &s, &req).t;
        notice = Some(match r.status.snapshots.iter().find(|x| x.id == q.asked) {
            Some(x) => t.t1(
                "backup-restore-asked",
                "folder",
                &schola_core::backups::restored_folder_name(x.time, t.lang),
            ),
            None => t.t("backup-asked"),
        });
    }
    render_portal(
        &req,
        &state,
        &s,
        StatusCode::OK,
        notice,
        None,
        Filled::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct RestoreForm {
    csrf: String,
    #[serde(default)]
    snapshot: String,
    #[serde(default)]
    path: String,
}

/// A person asks for their own files back. The login is the session's: a `login` field in the
/// form is not read at all.
async fn portal_request(req: HttpRequest, state: Data, form: web::Form<RestoreForm>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !is_configured(&state).await? {
        return crate::admin::people::not_found(&req, &state, &s).await;
    }
    let f = form.into_inner();
    let snapshot = f.snapshot.trim().to_string();
    let refusal = if !guard::eq(&f.csrf, &s.csrf) || !guard::same_origin(&req) {
        Some(Refusal::Expired)
    } else if let Err(r) = check_common(&state, Some(&snapshot), Some(&f.path)).await {
        Some(r)
    } else {
        // the folder is named in the language of the page that announces it
        let t = Layout::for_session(&school(&state).await?, &s, &req).t;
        let request = Request::RestoreFiles {
            snapshot: snapshot.clone(),
            login: s.person.login.clone(),
            path: f.path.clone(),
            language: Some(t.lang),
        };
        write(&state, actor(&req, &s), request).await.err()
    };
    if let Some(r) = refusal {
        let code = r.status();
        let filled = Filled {
            snapshot: snapshot.clone(),
            path: f.path,
            ..Filled::default()
        };
        return render_portal(&req, &state, &s, code, None, Some(r), filled).await;
    }
    tracing::info!(login = %s.person.login, snapshot = %snapshot, "restore of own files asked");
    Ok(redirect(&format!(
        "/files/restore?asked={}",
        crate::pages::urlencode(&snapshot)
    )))
}
