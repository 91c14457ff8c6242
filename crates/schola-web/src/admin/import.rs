//! Import: people and classes from a school administration export. The admin uploads a CSV,
//! reviews the diff that `schola-dirsync` computed (new people, renames, moves, leavers, the
//! rejected rows with their line and reason), and applies or discards it; imports from the
//! drop folder wait here for approval the same way. Applying hands out the new people's
//! password letters, each format downloadable once; the school-year changeover is a diff like
//! any other.
//!
//! The diff, its stored form and the all-or-nothing apply are `schola-dirsync`'s; this module
//! only reads the upload (streamed, capped at `csv::MAX_FILE_BYTES`), renders and dispatches.
//! Everything that touches the database or hashes passwords runs on the blocking pool.

use actix_web::http::{ConnectionType, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;
use schola_core::directory::Role;
use schola_core::imports::ImportRecord;
use schola_core::session::Session;
use schola_dirsync::apply::{self, Outcome, Rules};
use schola_dirsync::csv::{self, ProfileChoice};
use schola_dirsync::letters::{BatchMeta, LetterFormat, LetterHeader, LetterStore};
use schola_dirsync::plan::{Plan, Summary};
use serde::Deserialize;
use serde_json::json;

use super::people::{Msg, Opt, actor, expired, form_ok, not_found};
use crate::guard::Need;
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, capitalise, gate, html, message, redirect, role_key};
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Password letters wait this long for their download, then they are gone.
pub const LETTERS_MAX_AGE_SECS: i64 = 24 * 3600;
/// Longest text field of the upload form (the CSRF token, the profile's name).
const MAX_TEXT_BYTES: usize = 1024;
/// A browser sends four parts; anything far beyond that is not our form.
const MAX_PARTS: usize = 16;
/// How much of an oversized upload is read and dropped before the connection is closed instead.
const MAX_DRAIN_BYTES: usize = 8 * csv::MAX_FILE_BYTES;
/// Applied, discarded and failed imports shown on the overview.
const RECENT: usize = 20;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/import", web::get().to(overview))
        .route("/admin/import/upload", web::post().to(upload))
        .route("/admin/import/promote", web::post().to(promote))
        .route("/admin/import/letters/{file}", web::get().to(download))
        .route(
            "/admin/import/letters/{token}/discard",
            web::post().to(discard_letters),
        )
        .route("/admin/import/{id}", web::get().to(diff_page))
        .route("/admin/import/{id}/apply", web::post().to(approve))
        .route("/admin/import/{id}/discard", web::post().to(discard));
}

fn letter_store(state: &AppState) -> LetterStore {
    LetterStore::new(state.cfg.letters_dir())
}

// ---- the overview ----

/// One stored import in a list.
struct ImportRow {
    id: i64,
    at: String,
    by: String,
    source: String,
    origin: String,
    status: String,
    counts: Summary,
}

impl ImportRow {
    fn of(t: &Tr, r: &ImportRecord) -> ImportRow {
        ImportRow {
            id: r.id,
            at: t.datetime(r.decided_at.unwrap_or(r.created_at)),
            by: r.decided_by.clone().unwrap_or_else(|| r.created_by.clone()),
            source: source_label(t, &r.source),
            origin: r.origin.clone(),
            status: status_label(t, &r.status),
            // a summary another version stored shows as zeros rather than failing the list
            counts: serde_json::from_str(&r.summary).unwrap_or_default(),
        }
    }
}

/// A batch of password letters waiting for its downloads.
struct BatchRow {
    token: String,
    at: String,
    import_id: Option<i64>,
    count: String,
    classes: String,
    pdf_left: bool,
    csv_left: bool,
}

#[derive(Template)]
#[template(path = "admin_import.html")]
struct OverviewPage {
    layout: Layout,
    profiles: Vec<Opt>,
    partial: bool,
    max_mib: usize,
    pending: Vec<ImportRow>,
    recent: Vec<ImportRow>,
    batches: Vec<BatchRow>,
    last_grade: u32,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct OverviewQuery {
    #[serde(default)]
    done: String,
}

/// The notices a redirect to the overview asks for (`?done=…`), each a translation key.
const OVERVIEW_NOTICES: &[(&str, &str)] = &[
    ("discarded", "import-discarded-notice"),
    ("letters-discarded", "import-letters-discarded-notice"),
];

async fn overview(req: HttpRequest, state: Data, q: web::Query<OverviewQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let notice = OVERVIEW_NOTICES
        .iter()
        .find(|(k, _)| *k == q.done)
        .map(|(_, key)| Msg::Key(key));
    render_overview(&req, &state, &s, StatusCode::OK, notice, None, None).await
}

/// The overview; `chosen` keeps the upload form's profile and checkbox after a refusal.
async fn render_overview(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    notice: Option<Msg>,
    error: Option<Say>,
    chosen: Option<(&str, bool)>,
) -> PageResult {
    let st = state.clone();
    let (school, pending, recent, batches) = web::block(move || -> schola_core::Result<_> {
        let now = st.store.now();
        let batches = letter_store(&st)
            .list(now, LETTERS_MAX_AGE_SECS)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, dir = %st.cfg.letters_dir().display(), "the password letters cannot be listed");
                Vec::new()
            });
        let mut recent = Vec::new();
        for status in ["applied", "discarded", "failed"] {
            recent.extend(st.store.list_imports(Some(status), RECENT)?);
        }
        recent.sort_by_key(|r| std::cmp::Reverse(r.id));
        recent.truncate(RECENT);
        Ok((
            st.store.school()?,
            st.store.list_imports(Some("pending"), 50)?,
            recent,
            batches,
        ))
    })
    .await??;
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let (profile, partial) = chosen.unwrap_or(("auto", false));
    let mut profiles = vec![Opt {
        value: "auto".into(),
        label: t.t("import-profile-auto"),
        selected: profile == "auto",
    }];
    profiles.extend(
        csv::profile_names(&state.cfg.import)
            .into_iter()
            .map(|n| Opt {
                selected: n == profile,
                label: n.clone(),
                value: n,
            }),
    );
    let page = OverviewPage {
        profiles,
        partial,
        max_mib: csv::MAX_FILE_BYTES / 1024 / 1024,
        pending: pending.iter().map(|r| ImportRow::of(&t, r)).collect(),
        recent: recent.iter().map(|r| ImportRow::of(&t, r)).collect(),
        batches: batches
            .into_iter()
            .map(|b| BatchRow {
                at: t.datetime(b.created_at),
                import_id: b.import_id,
                count: t.tn("import-letters-count", b.count as i64),
                classes: b.classes.join(", "),
                pdf_left: b.pdf_left,
                csv_left: b.csv_left,
                token: b.token,
            })
            .collect(),
        last_grade: state.cfg.import.last_grade,
        notice: notice.map(|m| m.show(&t)),
        error: error.map(|m| m.show(&t)),
        layout,
    };
    Ok(html(status, page.render()?))
}

fn source_label(t: &Tr, source: &str) -> String {
    match source {
        "csv" => t.t("import-source-csv"),
        "ldap" => t.t("import-source-ldap"),
        "promote" => t.t("import-source-promote"),
        other => other.to_string(),
    }
}

fn status_label(t: &Tr, status: &str) -> String {
    match status {
        "pending" => t.t("import-status-pending"),
        "applied" => t.t("import-status-applied"),
        "discarded" => t.t("import-status-discarded"),
        "failed" => t.t("import-status-failed"),
        other => other.to_string(),
    }
}

// ---- the upload ----

/// The upload form as read from the request.
#[derive(Default)]
struct UploadForm {
    csrf: String,
    profile: String,
    partial: bool,
    /// The file's name as the browser sent it, and its bytes.
    file: Option<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UploadProblem {
    /// The file is bigger than `csv::MAX_FILE_BYTES`. `drained`: the rest of the request was
    /// read (and dropped), so the connection can carry the answer and stay open.
    TooLarge { drained: bool },
    /// Not our form, or a broken one.
    Malformed,
}

/// Reads the multipart upload, keeping at most `csv::MAX_FILE_BYTES` of the file. Past the cap
/// the file's bytes are dropped as they arrive, so a huge upload costs no more memory than the
/// cap; the rest of the request is still read (up to [`MAX_DRAIN_BYTES`]) because a browser that
/// is still sending when the server answers and closes shows "connection reset" instead of the
/// answer.
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<UploadForm, UploadProblem> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        return Err(UploadProblem::Malformed);
    }
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = UploadForm::default();
    let mut count = 0;
    let mut too_large = false;
    let mut dropped = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|_| UploadProblem::Malformed)?;
        count += 1;
        if count > MAX_PARTS {
            return Err(UploadProblem::Malformed);
        }
        let Some(cd) = part.content_disposition().cloned() else {
            return Err(UploadProblem::Malformed);
        };
        let name = cd.get_name().unwrap_or_default().to_string();
        if let Some(filename) = cd.get_filename() {
            if name != "file" || form.file.is_some() {
                return Err(UploadProblem::Malformed);
            }
            let mut data: Vec<u8> = Vec::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(|_| UploadProblem::Malformed)?;
                if too_large {
                    dropped += chunk.len();
                    if dropped > MAX_DRAIN_BYTES {
                        return Err(UploadProblem::TooLarge { drained: false });
                    }
                    continue;
                }
                let need = data.len() + chunk.len();
                if need > csv::MAX_FILE_BYTES {
                    too_large = true;
                    dropped = need;
                    data = Vec::new();
                    continue;
                }
                if need > data.capacity() {
                    // grow as a Vec would, but never past the cap
                    let target = (data.capacity() * 2).max(need).min(csv::MAX_FILE_BYTES);
                    data.reserve_exact(target - data.len());
                }
                data.extend_from_slice(&chunk);
            }
            form.file = Some((filename.to_string(), data));
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| UploadProblem::Malformed)?;
            if text.len() + chunk.len() > MAX_TEXT_BYTES {
                return Err(UploadProblem::Malformed);
            }
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(text).map_err(|_| UploadProblem::Malformed)?;
        match name.as_str() {
            "csrf" => form.csrf = text,
            "profile" => form.profile = text,
            "partial" => form.partial = !text.is_empty(),
            _ => {}
        }
    }
    if too_large {
        return Err(UploadProblem::TooLarge { drained: true });
    }
    Ok(form)
}

/// The file's own name, without a path some browsers send, and short enough to show.
fn origin_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    let name: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if name.is_empty() {
        "upload.csv".into()
    } else {
        name
    }
}

/// Reads an uploaded export, computes its diff and stores it for review (nothing in the
/// directory changes here). A file that cannot be read at all is refused with the reason, and
/// nothing is stored.
async fn upload(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let form = match read_upload(&req, payload).await {
        Ok(f) => f,
        Err(p) => {
            let (status, msg, drained) = match p {
                UploadProblem::TooLarge { drained } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Msg::Count("import-file-too-large", (csv::MAX_FILE_BYTES >> 20) as i64),
                    drained,
                ),
                UploadProblem::Malformed => (
                    StatusCode::BAD_REQUEST,
                    Msg::Key("import-form-malformed"),
                    false,
                ),
            };
            tracing::info!(admin = %s.person.login, problem = ?p, "import upload refused");
            let mut resp =
                render_overview(&req, &state, &s, status, None, Some(msg.into()), None).await?;
            if !drained {
                // the rest of the upload was not read: the browser must not reuse this connection
                resp.head_mut().set_connection_type(ConnectionType::Close);
            }
            return Ok(resp);
        }
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let chosen = Some((form.profile.as_str(), form.partial));
    let refuse =
        |status, say: Say| render_overview(&req, &state, &s, status, None, Some(say), chosen);
    let choice = match form.profile.as_str() {
        "" | "auto" => ProfileChoice::Auto,
        name if csv::profile_names(&state.cfg.import)
            .iter()
            .any(|n| n == name) =>
        {
            ProfileChoice::Named(name.to_string())
        }
        _ => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                Msg::Key("people-bad-choice").into(),
            )
            .await;
        }
    };
    let Some((filename, data)) = form.file.filter(|(n, d)| !n.is_empty() || !d.is_empty()) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Msg::Key("import-no-file").into(),
        )
        .await;
    };
    let origin = origin_name(&filename);
    if data.is_empty() {
        let say = Say::Args("import-file-empty", vec![("file", origin)]);
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, say).await;
    }
    let st = state.clone();
    let who = actor(&req, &s);
    let partial = form.partial;
    let o = origin.clone();
    let prepared = web::block(move || -> schola_core::Result<_> {
        let mut roster = match csv::read_csv(&data, &o, &choice, &st.cfg.import) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        drop(data);
        if partial {
            // a partial list names no leavers: nobody missing from it is disabled
            roster.roles.clear();
        }
        let rules = Rules::in_force(&st.cfg, &st.store)?;
        let (id, _) = apply::prepare(&st.store, &who, &roster, &rules)?;
        Ok(Ok(id))
    })
    .await?;
    match prepared {
        Ok(Ok(id)) => {
            tracing::info!(admin = %s.person.login, import = id, origin = %origin, "import prepared");
            Ok(redirect(&format!("/admin/import/{id}")))
        }
        Ok(Err(e)) => {
            tracing::info!(admin = %s.person.login, origin = %origin, error = %e, "import file refused");
            let say = Say::Args(
                "import-file-unreadable",
                vec![("file", origin), ("reason", e.to_string())],
            );
            refuse(StatusCode::UNPROCESSABLE_ENTITY, say).await
        }
        Err(e) => {
            core_refusal(e, |status, msg| {
                render_overview(&req, &state, &s, status, None, Some(msg.into()), chosen)
            })
            .await
        }
    }
}

/// A message for the overview, translated once the page's language is known: a plain one, or
/// one with named values (the file's name, the reader's reason).
enum Say {
    Plain(Msg),
    Args(&'static str, Vec<(&'static str, String)>),
}

impl From<Msg> for Say {
    fn from(m: Msg) -> Say {
        Say::Plain(m)
    }
}

impl Say {
    fn show(&self, t: &Tr) -> String {
        match self {
            Say::Plain(m) => m.show(t),
            Say::Args(key, values) => t.targs(key, values),
        }
    }
}

/// An error of the core as the admin's page shows it: its own words, with 422 for a refusal
/// (bad input, something missing or taken) and 500 for anything else; an overloaded server
/// still answers with the waiting room.
async fn core_refusal<F, Fut>(e: schola_core::Error, show: F) -> PageResult
where
    F: FnOnce(StatusCode, Msg) -> Fut,
    Fut: std::future::Future<Output = PageResult>,
{
    use schola_core::Error as E;
    let status = match &e {
        E::Overloaded | E::Busy { .. } => return Err(e.into()),
        E::Invalid(_) | E::NotFound(_) => StatusCode::UNPROCESSABLE_ENTITY,
        E::Duplicate(_) => StatusCode::CONFLICT,
        _ => {
            tracing::error!(error = %e, "an import failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    show(status, Msg::Text(capitalise(&e.to_string()))).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Stores the school-year changeover's diff (every class a grade up, the last grade leaves)
/// for review, like an upload.
async fn promote(req: HttpRequest, state: Data, form: web::Form<CsrfOnly>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let st = state.clone();
    let who = actor(&req, &s);
    let last = state.cfg.import.last_grade;
    match web::block(move || apply::prepare_promotion(&st.store, &who, last)).await? {
        Ok((id, _)) => {
            tracing::info!(admin = %s.person.login, import = id, "changeover prepared");
            Ok(redirect(&format!("/admin/import/{id}")))
        }
        Err(e) => {
            core_refusal(e, |status, msg| {
                render_overview(&req, &state, &s, status, None, Some(msg.into()), None)
            })
            .await
        }
    }
}

// ---- one import: its diff, apply, discard ----

/// A row of the new people's table.
struct NewRow {
    line: String,
    name: String,
    login: String,
    role: String,
    classes: String,
}

/// A row of the changed fields' table.
struct UpdateRow {
    line: String,
    login: String,
    field: String,
    from: String,
    to: String,
}

struct MoveRow {
    line: String,
    login: String,
    name: String,
    from: String,
    to: String,
}

/// A person disabled, re-enabled or purged.
struct PersonRow {
    login: String,
    name: String,
    role: String,
    classes: String,
}

struct LineRow {
    line: String,
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "admin_import_diff.html")]
struct DiffPage {
    layout: Layout,
    id: i64,
    /// `pending`: the buttons are shown; otherwise the page is a record.
    status: String,
    status_label: String,
    /// Who decided and when, for an import that is no longer pending.
    decided: Option<String>,
    /// Why applying failed.
    failure: Option<String>,
    source: String,
    origin: String,
    profile: String,
    encoding: String,
    delimiter: String,
    created: String,
    /// Which roles the source is complete for, or that it is a partial list.
    scope: String,
    counts: Summary,
    grace_days: i64,
    create: Vec<NewRow>,
    update: Vec<UpdateRow>,
    moves: Vec<MoveRow>,
    flows: Vec<(String, String, String)>,
    disable: Vec<PersonRow>,
    enable: Vec<PersonRow>,
    purge: Vec<PersonRow>,
    new_classes: String,
    rejected: Vec<LineRow>,
    warnings: Vec<LineRow>,
    empty: bool,
    notice: Option<String>,
    error: Option<String>,
}

fn line_of(t: &Tr, line: Option<u64>) -> String {
    line.map_or_else(|| "—".into(), |l| t.number(l as i64))
}

fn role_name(t: &Tr, r: Role) -> String {
    t.t(role_key(r))
}

fn field_label(t: &Tr, field: &str) -> String {
    match field {
        "given_name" => t.t("import-field-given"),
        "family_name" => t.t("import-field-family"),
        "role" => t.t("col-role"),
        "source" => t.t("import-field-source"),
        "upstream_dn" => t.t("import-field-upstream"),
        other => other.to_string(),
    }
}

/// A stored value of a changed field as the reader says it (roles and sources are words).
fn field_value(t: &Tr, field: &str, value: &str) -> String {
    match field {
        "role" => value
            .parse::<Role>()
            .map_or_else(|_| value.to_string(), |r| role_name(t, r)),
        "source" if value == "by hand" => t.t("import-source-hand"),
        "source" => source_label(t, value),
        _ => value.to_string(),
    }
}

fn delimiter_label(t: &Tr, d: Option<char>) -> String {
    match d {
        None => "—".into(),
        Some('\t') => t.t("import-delimiter-tab"),
        Some(';') => t.t("import-delimiter-semicolon"),
        Some(',') => t.t("import-delimiter-comma"),
        Some(c) => format!("“{c}”"),
    }
}

fn diff_view(
    layout: Layout,
    rec: &ImportRecord,
    plan: &Plan,
    grace_days: i64,
    notice: Option<Msg>,
    error: Option<Msg>,
) -> DiffPage {
    let t = layout.t;
    let classes = |c: &[String]| c.join(", ");
    let person = |a: &schola_dirsync::plan::Affected| PersonRow {
        login: a.login.clone(),
        name: a.name.clone(),
        role: role_name(&t, a.role),
        classes: classes(&a.classes),
    };
    let scope = if rec.source == "promote" {
        let last_grade = serde_json::from_str::<serde_json::Value>(&rec.roster)
            .ok()
            .and_then(|v| v.get("last_grade").and_then(serde_json::Value::as_u64))
            .map_or_else(|| "?".into(), |g| g.to_string());
        t.t1("import-scope-promote", "grade", &last_grade)
    } else if plan.roles.is_empty() {
        t.t("import-scope-partial")
    } else {
        t.t1(
            "import-scope-complete",
            "roles",
            &plan
                .roles
                .iter()
                .map(|r| role_name(&t, *r))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let decided = rec.decided_at.map(|at| {
        t.targs(
            "import-decided",
            &[
                ("status", status_label(&t, &rec.status)),
                ("date", t.datetime(at)),
                ("by", rec.decided_by.clone().unwrap_or_default()),
            ],
        )
    });
    DiffPage {
        id: rec.id,
        status: rec.status.clone(),
        status_label: status_label(&t, &rec.status),
        decided,
        // a failure just now is shown as the page's error instead
        failure: (rec.status == "failed" && error.is_none())
            .then(|| rec.result.clone())
            .flatten()
            .filter(|r| !r.is_empty())
            .map(|r| capitalise(&r)),
        source: source_label(&t, &rec.source),
        origin: plan.origin.clone(),
        profile: plan.profile.clone(),
        encoding: plan.encoding.clone().unwrap_or_else(|| "—".into()),
        delimiter: delimiter_label(&t, plan.delimiter),
        created: t.targs(
            "import-created",
            &[
                ("date", t.datetime(rec.created_at)),
                ("by", rec.created_by.clone()),
            ],
        ),
        scope,
        counts: plan.summary(),
        grace_days,
        create: plan
            .create
            .iter()
            .map(|c| NewRow {
                line: line_of(&t, c.line),
                name: format!("{} {}", c.fields.given_name, c.fields.family_name),
                login: c.login.clone(),
                role: role_name(&t, c.fields.role),
                classes: classes(&c.classes),
            })
            .collect(),
        update: plan
            .update
            .iter()
            .flat_map(|u| {
                u.changes.iter().map(|c| UpdateRow {
                    line: line_of(&t, u.line),
                    login: u.login.clone(),
                    field: field_label(&t, &c.field),
                    from: field_value(&t, &c.field, &c.from),
                    to: field_value(&t, &c.field, &c.to),
                })
            })
            .collect(),
        moves: plan
            .moves
            .iter()
            .map(|m| MoveRow {
                line: line_of(&t, m.line),
                login: m.login.clone(),
                name: m.name.clone(),
                from: if m.from.is_empty() {
                    "—".into()
                } else {
                    classes(&m.from)
                },
                to: if m.to.is_empty() {
                    "—".into()
                } else {
                    classes(&m.to)
                },
            })
            .collect(),
        flows: plan
            .class_flows
            .iter()
            .map(|f| (f.from.clone(), f.to.clone(), t.number(f.people as i64)))
            .collect(),
        disable: plan.disable.iter().map(person).collect(),
        enable: plan.enable.iter().map(person).collect(),
        purge: plan.purge.iter().map(person).collect(),
        new_classes: plan.new_classes.join(", "),
        rejected: plan
            .rejected
            .iter()
            .map(|r| LineRow {
                line: line_of(&t, r.line),
                at: r.at.clone(),
                text: r.reason.clone(),
            })
            .collect(),
        warnings: plan
            .warnings
            .iter()
            .map(|w| LineRow {
                line: line_of(&t, w.line),
                at: String::new(),
                text: w.message.clone(),
            })
            .collect(),
        empty: plan.is_empty(),
        notice: notice.map(|m| m.show(&t)),
        error: error.map(|m| m.show(&t)),
        layout,
    }
}

/// The import's id from the address; anything else is not a page.
fn import_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

#[derive(Deserialize)]
pub struct DiffQuery {
    #[serde(default)]
    changed: String,
}

async fn diff_page(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    q: web::Query<DiffQuery>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let Some(id) = import_id(&path) else {
        return not_found(&req, &state, &s).await;
    };
    let notice = (!q.changed.is_empty()).then_some(Msg::Key("import-changed-notice"));
    render_diff(&req, &state, &s, id, StatusCode::OK, notice, None).await
}

async fn render_diff(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    id: i64,
    status: StatusCode,
    notice: Option<Msg>,
    error: Option<Msg>,
) -> PageResult {
    let st = state.clone();
    let (school, rec) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.import_record(id)?))
    })
    .await??;
    let Some(rec) = rec else {
        return not_found(req, state, s).await;
    };
    let layout = Layout::for_session(&school, s, req);
    let plan: Plan = match serde_json::from_str(&rec.plan) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(import = id, error = %e, "a stored import cannot be read");
            return message(
                req,
                state,
                Some(s),
                StatusCode::INTERNAL_SERVER_ERROR,
                "import-unreadable-title",
                "import-unreadable-text",
            )
            .await;
        }
    };
    let page = diff_view(
        layout,
        &rec,
        &plan,
        state.cfg.directory.purge_grace_days,
        notice,
        error,
    );
    Ok(html(status, page.render()?))
}

/// What applying did, and where the password letters are.
#[derive(Template)]
#[template(path = "admin_import_done.html")]
struct DonePage {
    layout: Layout,
    id: i64,
    counts: Summary,
    /// The letters' token, when there are letters and they were stored.
    token: Option<String>,
    letters: String,
    /// The letters could not be stored: the passwords must be made again.
    letters_lost: bool,
    hours: i64,
}

/// Applies a reviewed import, if the directory is still as it was when the diff was made.
async fn approve(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let Some(id) = import_id(&path) else {
        return not_found(&req, &state, &s).await;
    };
    let st = state.clone();
    let who = actor(&req, &s);
    // the new passwords are hashed on every core: never on an async worker
    let outcome = web::block(move || -> schola_core::Result<_> {
        let rules = Rules::in_force(&st.cfg, &st.store)?;
        apply::apply_import(&st.store, &who, id, &rules)
    })
    .await?;
    let applied = match outcome {
        Ok(Outcome::Changed(_)) => {
            tracing::info!(admin = %s.person.login, import = id, "import diff changed before approval");
            return Ok(redirect(&format!("/admin/import/{id}?changed=1")));
        }
        Ok(Outcome::Applied(a)) => a,
        Err(schola_core::Error::NotFound(_)) => return not_found(&req, &state, &s).await,
        Err(e) => {
            tracing::info!(admin = %s.person.login, import = id, error = %e, "import not applied");
            return core_refusal(e, |status, msg| {
                render_diff(&req, &state, &s, id, status, None, Some(msg))
            })
            .await;
        }
    };
    tracing::info!(
        admin = %s.person.login,
        import = id,
        created = applied.summary.create,
        hashing_ms = applied.hashing.as_millis() as u64,
        rest_ms = applied.rest.as_millis() as u64,
        "import applied"
    );
    let count = applied.letters.len();
    let mut token = None;
    let mut letters_lost = false;
    if count > 0 {
        let st = state.clone();
        let meta = BatchMeta {
            created_at: state.store.now(),
            import_id: Some(id),
            created_by: s.person.login.clone(),
        };
        let letters = applied.letters;
        match web::block(move || letter_store(&st).put(&letters, &meta)).await? {
            Ok(t) => token = Some(t),
            Err(e) => {
                tracing::error!(import = id, error = %e, dir = %state.cfg.letters_dir().display(), "the password letters could not be stored");
                letters_lost = true;
            }
        }
    }
    let school = crate::pages::school(&state).await?;
    let layout = Layout::for_session(&school, &s, &req);
    let t = layout.t;
    let page = DonePage {
        id,
        counts: applied.summary,
        token,
        letters: t.tn("import-letters-count", count as i64),
        letters_lost,
        hours: LETTERS_MAX_AGE_SECS / 3600,
        layout,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

async fn discard(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let Some(id) = import_id(&path) else {
        return not_found(&req, &state, &s).await;
    };
    let st = state.clone();
    let who = actor(&req, &s);
    match web::block(move || st.store.close_import(&who, id, "discarded", "")).await? {
        Ok(()) => {
            tracing::info!(admin = %s.person.login, import = id, "import discarded");
            Ok(redirect("/admin/import?done=discarded"))
        }
        Err(e) => {
            core_refusal(e, |status, msg| {
                render_diff(&req, &state, &s, id, status, None, Some(msg))
            })
            .await
        }
    }
}

// ---- the password letters ----

/// `<token>.pdf` or `<token>.csv`: the token, and whether the PDF is asked for.
fn letters_file(file: &str) -> Option<(&str, bool)> {
    if let Some(token) = file.strip_suffix(".pdf") {
        return Some((token, true));
    }
    file.strip_suffix(".csv").map(|token| (token, false))
}

/// `2026-11-23`, for the file name.
fn iso_date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        Err(_) => unix.to_string(),
    }
}

/// Hands out a batch's letters in one format, once: the passwords are in them, so they leave
/// the server's disk with the download. Each download is written to the audit log.
async fn download(req: HttpRequest, state: Data, path: web::Path<String>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let Some((token, pdf)) = letters_file(&path) else {
        return not_found(&req, &state, &s).await;
    };
    let token = token.to_string();
    let layout = Layout::for_session(&crate::pages::school(&state).await?, &s, &req);
    // the letters speak the admin's language, and name the school as every page does
    let (t, school) = (layout.t, layout.school);
    let portal_url = format!("https://{}/", req.connection_info().host());
    let st = state.clone();
    let who = actor(&req, &s);
    let taken = web::block(move || -> std::io::Result<_> {
        let store = letter_store(&st);
        let now = st.store.now();
        let Some(info) = store
            .list(now, LETTERS_MAX_AGE_SECS)?
            .into_iter()
            .find(|b| b.token == token)
        else {
            return Ok(None);
        };
        let created = t.date(info.created_at);
        let header = LetterHeader {
            school: &school,
            portal_url: &portal_url,
            created: &created,
        };
        let format = if pdf {
            LetterFormat::Pdf
        } else {
            LetterFormat::Csv
        };
        let Some(bytes) = store.take(&token, format, &header, now, LETTERS_MAX_AGE_SECS)? else {
            return Ok(None);
        };
        // the letters are gone from the disk now; a failed audit entry must not lose them
        if let Err(e) = st.store.record_event(
            &who,
            "import.letters_downloaded",
            info.import_id.map(|i| format!("#{i}")).as_deref(),
            json!({"format": if pdf { "pdf" } else { "csv" }, "letters": info.count}),
        ) {
            tracing::error!(error = %e, "the letters' download could not be written to the audit log");
        }
        Ok(Some((bytes, info.created_at)))
    })
    .await?;
    let (bytes, created_at) = match taken {
        Ok(Some(x)) => x,
        Ok(None) => return letters_gone(&req, &state, &s).await,
        Err(e) => {
            tracing::error!(error = %e, dir = %state.cfg.letters_dir().display(), "the password letters cannot be read");
            return Err(schola_core::Error::Invalid(format!("password letters: {e}")).into());
        }
    };
    tracing::info!(admin = %s.person.login, format = if pdf { "pdf" } else { "csv" }, "password letters downloaded");
    let (content_type, ext) = if pdf {
        ("application/pdf", "pdf")
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"password-letters-{}.{ext}\"",
                iso_date(created_at)
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// 410: the letters were downloaded already, have expired, or never were.
async fn letters_gone(req: &HttpRequest, state: &Data, s: &Session) -> PageResult {
    message(
        req,
        state,
        Some(s),
        StatusCode::GONE,
        "import-letters-gone-title",
        "import-letters-gone-text",
    )
    .await
}

/// Removes a batch of letters before anyone downloaded it (printed elsewhere, or made by
/// mistake): the passwords stay as they are, only the letters are gone.
async fn discard_letters(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let token = path.into_inner();
    let st = state.clone();
    let who = actor(&req, &s);
    let gone = web::block(move || -> std::io::Result<bool> {
        let found = letter_store(&st).discard(&token)?;
        if found
            && let Err(e) = st
                .store
                .record_event(&who, "import.letters_discarded", None, json!({}))
        {
            tracing::error!(error = %e, "discarding letters could not be written to the audit log");
        }
        Ok(found)
    })
    .await?;
    match gone {
        Ok(true) => Ok(redirect("/admin/import?done=letters-discarded")),
        Ok(false) => letters_gone(&req, &state, &s).await,
        Err(e) => Err(schola_core::Error::Invalid(format!("password letters: {e}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use schola_core::directory::Language;

    use super::*;

    #[test]
    fn the_words_of_the_import_pages_are_translated() {
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for (_, key) in OVERVIEW_NOTICES {
                assert_ne!(t.t(key), *key, "{lang}: {key}");
            }
            for s in ["pending", "applied", "discarded", "failed"] {
                assert!(!status_label(&t, s).starts_with("import-"), "{lang}: {s}");
            }
            for s in ["csv", "ldap", "promote"] {
                assert!(!source_label(&t, s).starts_with("import-"), "{lang}: {s}");
            }
            assert_ne!(
                t.tn("import-letters-count", 2),
                "import-letters-count",
                "{lang}"
            );
            // keys this module passes around as values, which the i18n test's scan cannot see
            for key in [
                "import-file-empty",
                "import-file-unreadable",
                "import-no-file",
                "import-file-too-large",
                "import-form-malformed",
                "import-changed-notice",
                "import-letters-gone-title",
                "import-letters-gone-text",
                "import-unreadable-title",
                "import-unreadable-text",
                "people-bad-choice",
            ] {
                let values = [
                    ("file", "x".into()),
                    ("reason", "y".into()),
                    ("n", "1".into()),
                ];
                assert_ne!(t.targs(key, &values), key, "{lang}: {key}");
            }
        }
    }

    #[test]
    fn letter_files_and_uploaded_names_are_read_strictly() {
        assert_eq!(letters_file("abc.pdf"), Some(("abc", true)));
        assert_eq!(letters_file("abc.csv"), Some(("abc", false)));
        assert!(letters_file("abc.txt").is_none());
        assert_eq!(origin_name("C:\\Users\\sek\\Schüler.csv"), "Schüler.csv");
        assert_eq!(origin_name("../../etc/passwd"), "passwd");
        assert_eq!(origin_name(""), "upload.csv");
        assert_eq!(import_id("12"), Some(12));
        assert_eq!(import_id("-1"), None);
        assert_eq!(import_id("upload"), None);
    }
}
