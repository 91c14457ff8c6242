//! The frame every page shares (layout, language, errors, the waiting room, the access gate),
//! sign-in and sign-out, health checks, and the stylesheet. Server-rendered HTML from
//! compile-time-checked askama templates; no JavaScript is needed anywhere.

use std::borrow::Borrow;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use schola_core::directory::{GroupKind, Language, Role, School, Status};
use schola_core::password::PolicyError;
use schola_core::session::Session;
use schola_core::throttle::{self, Gate};
use serde::Deserialize;

use crate::guard::{self, Access, Need};
use crate::i18n::{self, Tr};
use crate::state::AppState;

type Data = web::Data<AppState>;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Core(#[from] schola_core::Error),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("internal: {0}")]
    Blocking(#[from] actix_web::error::BlockingError),
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Core(schola_core::Error::Overloaded | schola_core::Error::Busy { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            return waiting_room(crate::admission::retry_after());
        }
        tracing::error!(error = %self, "request failed");
        let layout = Layout::plain(&School::default(), None);
        let message = layout.t.t("error-text");
        let body = MessagePage {
            title: layout.t.t("error-title"),
            message: message.clone(),
            is_error: true,
            layout,
        }
        .render()
        .unwrap_or(message);
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

#[derive(Template)]
#[template(path = "busy.html")]
struct BusyPage {
    layout: Layout,
    retry: u64,
}

/// The waiting room's answer: 503, `Retry-After`, and a page that reloads itself after the same
/// time. Used when the server has too many requests in progress and when the sign-in queue is full.
pub fn waiting_room(retry: u64) -> HttpResponse {
    waiting_room_in(Language::En, retry)
}

/// The waiting room in the language the browser asks for (no database read: this is the
/// answer of an overloaded server).
pub fn waiting_room_for(req: &HttpRequest, retry: u64) -> HttpResponse {
    let lang = i18n::choose(None, accept_language(req), None);
    waiting_room_in(lang, retry)
}

pub(crate) fn waiting_room_in(lang: Language, retry: u64) -> HttpResponse {
    let t = Tr::new(lang);
    let body = BusyPage {
        layout: Layout {
            t,
            ..Layout::plain(&School::default(), None)
        },
        retry,
    }
    .render()
    .unwrap_or_else(|_| t.t1("busy-text", "secs", &retry.to_string()));
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, retry.to_string()))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) type PageResult = Result<HttpResponse, PageError>;

/// The browser's `Accept-Language`, if it sent one.
pub(crate) fn accept_language(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// What the base template shows on every page, and the translations of the page's language.
pub struct Layout {
    pub school: String,
    pub viewer: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
    pub version: &'static str,
    pub t: Tr,
    /// The address of the school's logo, if it has one.
    pub logo: Option<String>,
    /// For admins, while the latest capacity check says WARN or FAIL.
    pub capacity: Option<crate::admin::capacity::Banner>,
}

impl Layout {
    /// A page for someone not signed in: the language the browser asks for, else the school's.
    pub(crate) fn plain(school: &School, req: Option<&HttpRequest>) -> Layout {
        let lang = i18n::choose(None, req.and_then(accept_language), school.default_language);
        Layout {
            school: if school.name.is_empty() {
                "Schola".into()
            } else {
                school.name.clone()
            },
            viewer: None,
            is_admin: false,
            csrf: String::new(),
            version: schola_core::VERSION,
            t: Tr::new(lang),
            logo: req.and_then(logo_url),
            capacity: None,
        }
    }

    /// A page for a signed-in person: their own language first.
    pub(crate) fn for_session(school: &School, s: &Session, req: &HttpRequest) -> Layout {
        let lang = i18n::choose(
            s.person.language,
            accept_language(req),
            school.default_language,
        );
        let t = Tr::new(lang);
        let is_admin = s.person.role == Role::Admin;
        Layout {
            viewer: Some(s.person.display_name.clone()),
            is_admin,
            csrf: s.csrf.clone(),
            t,
            logo: logo_url(req),
            capacity: is_admin
                .then(|| req.app_data::<Data>())
                .flatten()
                .and_then(|st| crate::admin::capacity::banner(st, &t)),
            ..Layout::plain(school, None)
        }
    }
}

fn logo_url(req: &HttpRequest) -> Option<String> {
    req.app_data::<Data>().and_then(|s| s.logo_url())
}

/// The translation keys of the directory's words.
pub(crate) fn role_key(r: impl Borrow<Role>) -> &'static str {
    match r.borrow() {
        Role::Student => "role-student",
        Role::Teacher => "role-teacher",
        Role::Staff => "role-staff",
        Role::Admin => "role-admin",
    }
}

pub(crate) fn status_key(s: impl Borrow<Status>) -> &'static str {
    match s.borrow() {
        Status::Active => "status-active",
        Status::Disabled => "status-disabled",
    }
}

pub(crate) fn kind_key(k: impl Borrow<GroupKind>) -> &'static str {
    match k.borrow() {
        GroupKind::Class => "kind-class",
        GroupKind::Course => "kind-course",
        GroupKind::Staff => "kind-staff",
        GroupKind::Custom => "kind-custom",
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    login: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub message: String,
    pub is_error: bool,
}

pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A page with a form shown before sign-in, setting the CSRF cookie when it is new.
pub(crate) fn pre_signin_form(
    status: StatusCode,
    body: String,
    csrf: &str,
    new_cookie: bool,
) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8");
    if new_cookie {
        resp.cookie(guard::csrf_cookie(csrf));
    }
    resp.body(body)
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The school's settings (name, default language), read for every page's frame.
pub(crate) async fn school(state: &Data) -> Result<School, PageError> {
    let st = state.clone();
    Ok(web::block(move || st.store.school()).await??)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/healthz", web::head().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/readyz", web::head().to(readyz))
        .configure(crate::assets::routes)
        .configure(crate::autoconfig::routes)
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout))
        .configure(crate::setup::routes)
        .configure(crate::setup_restore::routes)
        .configure(crate::portal::routes)
        .configure(crate::backup::routes)
        .configure(crate::files::routes)
        .configure(crate::webmail::routes)
        .configure(crate::updates::routes)
        .configure(crate::admin::routes)
        .default_service(web::to(not_found));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn readyz(state: Data) -> HttpResponse {
    let st = state.clone();
    match web::block(move || st.store.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Ok(Err(e)) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("database: {e}")),
        Err(e) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("internal: {e}")),
    }
}

/// A page with a short message in the reader's language: not found, not allowed.
pub(crate) async fn message(
    req: &HttpRequest,
    state: &Data,
    session: Option<&Session>,
    status: StatusCode,
    title_key: &str,
    text_key: &str,
) -> PageResult {
    let school = school(state).await?;
    let layout = match session {
        Some(s) => Layout::for_session(&school, s, req),
        None => Layout::plain(&school, Some(req)),
    };
    let page = MessagePage {
        title: layout.t.t(title_key),
        message: layout.t.t(text_key),
        is_error: status.is_client_error() && status != StatusCode::NOT_FOUND,
        layout,
    };
    Ok(html(status, page.render()?))
}

async fn not_found(req: HttpRequest, state: Data) -> PageResult {
    let session = guard::session(&req, &state).await?;
    message(
        &req,
        &state,
        session.as_ref(),
        StatusCode::NOT_FOUND,
        "not-found-title",
        "not-found-text",
    )
    .await
}

/// How the sign-in page went wrong, in the reader's language.
enum LoginError {
    Expired,
    Wrong,
    Wait(i64),
}

/// The sign-in page. The school's settings are read only here, so a successful sign-in (the
/// 8:00 hot path) never pays for them.
async fn render_login(
    req: &HttpRequest,
    state: &Data,
    status: StatusCode,
    csrf: String,
    new_cookie: bool,
    login: String,
    error: Option<LoginError>,
) -> PageResult {
    let layout = Layout::plain(&school(state).await?, Some(req));
    let error = error.map(|e| match e {
        LoginError::Expired => layout.t.t("login-expired"),
        LoginError::Wrong => layout.t.t("login-wrong"),
        LoginError::Wait(secs) => layout.t.t1("login-wait", "secs", &secs.to_string()),
    });
    let body = LoginPage {
        layout,
        csrf: csrf.clone(),
        login,
        error,
    }
    .render()?;
    Ok(pre_signin_form(status, body, &csrf, new_cookie))
}

async fn login_page(req: HttpRequest, state: Data) -> PageResult {
    if !state.setup_done() {
        return Ok(redirect("/setup"));
    }
    if guard::session(&req, &state).await?.is_some() {
        return Ok(redirect("/"));
    }
    let (csrf, new_cookie) = guard::login_csrf(&req);
    render_login(
        &req,
        &state,
        StatusCode::OK,
        csrf,
        new_cookie,
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    login: String,
    password: String,
}

async fn login_submit(req: HttpRequest, state: Data, form: web::Form<LoginForm>) -> PageResult {
    let form = form.into_inner();
    let (csrf, new_cookie) = guard::login_csrf(&req);
    if new_cookie || !guard::eq(&form.csrf, &csrf) || !guard::same_origin(&req) {
        return render_login(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            csrf,
            new_cookie,
            form.login,
            Some(LoginError::Expired),
        )
        .await;
    }
    let login = form.login.trim().to_lowercase();
    let ip = guard::client_ip(&req);
    let addr = throttle::address_key(ip);
    let st = state.clone();
    let (l, a) = (login.clone(), addr.clone());
    let (gate, creds) = web::block(move || -> schola_core::Result<_> {
        let gate = st.store.signin_gate(&l, &a)?;
        let creds = if gate == Gate::Open {
            st.store.credentials(&l)?
        } else {
            None
        };
        Ok((gate, creds))
    })
    .await??;
    if let Gate::Wait(secs) = gate {
        tracing::info!(login = %login, client = %addr, wait = secs, "sign-in deferred by back-off");
        let mut resp = render_login(
            &req,
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            csrf,
            false,
            form.login,
            Some(LoginError::Wait(secs)),
        )
        .await?;
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let (person, hash) = match creds {
        Some((p, h)) if p.is_active() => (Some(p), h),
        _ => (None, None),
    };
    let password = form.password;
    let mut ok = state.pool.verify(hash.clone(), password.clone()).await?;
    if !ok && let Some(p) = &person {
        ok = upstream_signin(&state, p.id, hash.is_some(), password.clone()).await?;
    }
    let st = state.clone();
    match person {
        Some(p) if ok => {
            let ua = req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let ip_text = ip.map(|i| i.to_string());
            let pid = p.id;
            let new = web::block(move || -> schola_core::Result<_> {
                st.store.record_signin_success(&login, &addr)?;
                // passwords set before SMB support have no NT hash yet: store it now that
                // the password is proven (a failure here must not block the sign-in)
                match st.store.ensure_smb_secret(pid, &password) {
                    Ok(true) => tracing::info!(login = %login, "SMB password stored at sign-in"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(login = %login, error = %e, "cannot store the SMB password")
                    }
                }
                st.store
                    .create_session(pid, ip_text.as_deref(), ua.as_deref())
            })
            .await??;
            tracing::info!(login = %p.login, client = ?ip, "signed in");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .cookie(guard::session_cookie(&new.token))
                .finish())
        }
        _ => {
            let l = login.clone();
            web::block(move || st.store.record_signin_failure(&l, &addr)).await??;
            tracing::info!(login = %login, client = ?ip, "sign-in failed");
            render_login(
                &req,
                &state,
                StatusCode::UNAUTHORIZED,
                csrf,
                false,
                form.login,
                Some(LoginError::Wrong),
            )
            .await
        }
    }
}

/// People synced from an upstream LDAP/AD sign in with their upstream password: when the
/// stored hash does not match (or there is none yet), the upstream is asked with a bind as the
/// person's entry, and on success the password's argon2id hash is stored, so the next sign-in,
/// mail and files need no upstream. An upstream that cannot be reached counts as a wrong
/// password and is logged.
pub(crate) async fn upstream_signin(
    state: &Data,
    person_id: i64,
    had_hash: bool,
    password: String,
) -> Result<bool, PageError> {
    let Some(ldap) = state.cfg.import.ldap.clone() else {
        return Ok(false);
    };
    let st = state.clone();
    let Some(dn) = web::block(move || st.store.upstream_dn(person_id)).await?? else {
        return Ok(false);
    };
    match schola_dirsync::ldap::verify_password(&ldap, &dn, &password).await {
        Ok(true) => {
            let hash = state.pool.hash(password).await?;
            let st = state.clone();
            web::block(move || st.store.store_upstream_password(person_id, &hash)).await??;
            tracing::info!(dn = %dn, first = !had_hash, "upstream password accepted and stored");
            Ok(true)
        }
        Ok(false) => Ok(false),
        Err(e) => {
            tracing::warn!(dn = %dn, error = %e, "the upstream directory could not check a password");
            Ok(false)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn logout(req: HttpRequest, state: Data, form: web::Form<CsrfForm>) -> PageResult {
    if let Some(s) = guard::session(&req, &state).await? {
        if !guard::eq(&form.csrf, &s.csrf) || !guard::same_origin(&req) {
            let lang = i18n::choose(s.person.language, accept_language(&req), None);
            return Ok(HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body(Tr::new(lang).t("signout-expired")));
        }
        if let Some(token) = req
            .cookie(guard::SESSION_COOKIE)
            .map(|c| c.value().to_string())
        {
            let st = state.clone();
            web::block(move || st.store.end_session(&token)).await??;
        }
        tracing::info!(login = %s.person.login, "signed out");
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(guard::expired_session_cookie())
        .finish())
}

/// Runs the access decision and turns "sign in first" and "forbidden" into responses.
pub(crate) async fn gate(
    req: &HttpRequest,
    state: &Data,
    need: Need,
) -> Result<Result<Session, HttpResponse>, PageError> {
    if !state.setup_done() {
        return Ok(Err(redirect("/setup")));
    }
    let session = guard::session(req, state).await?;
    Ok(match guard::require(session, need) {
        Access::Allowed(s) => Ok(s),
        Access::SignInFirst => Err(redirect("/login")),
        Access::Forbidden(s) => Err(message(
            req,
            state,
            Some(&s),
            StatusCode::FORBIDDEN,
            "forbidden-title",
            "forbidden-text",
        )
        .await?),
    })
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Why the password policy refused a password, in the reader's language.
pub(crate) fn policy_message(t: &Tr, e: &PolicyError) -> String {
    match e {
        PolicyError::TooShort { min, has } => t.targs(
            "password-too-short",
            &[("min", min.to_string()), ("has", has.to_string())],
        ),
        PolicyError::TooLong { max } => t.t1("password-too-long", "max", &max.to_string()),
        PolicyError::ControlCharacter => t.t("password-control"),
        PolicyError::ContainsLogin => t.t("password-contains-login"),
        PolicyError::TooEasy => t.t("password-too-easy"),
    }
}

/// A core error message as a sentence: capital first letter, full stop.
pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directorys_words_are_translated() {
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            let keys = Role::ALL
                .iter()
                .map(|r| role_key(*r))
                .chain(Status::ALL.iter().map(|s| status_key(*s)))
                .chain(GroupKind::ALL.iter().map(|k| kind_key(*k)));
            for key in keys {
                assert_ne!(t.t(key), key, "{lang}: {key}");
            }
            for r in Role::ALL {
                let key = format!("{}-count", role_key(*r));
                assert_ne!(t.tn(&key, 2), key, "{lang}: {key}");
            }
        }
        assert_eq!(
            Tr::new(Language::De).tn("role-teacher-count", 0),
            "0 Lehrkräfte"
        );
        assert_eq!(
            Tr::new(Language::En).tn("role-student-count", 1),
            "1 student"
        );
    }
}
