//! The pages: sign-in, sign-out, first-run setup, the start page per role, the admin overview,
//! health checks, and the stylesheet. Server-rendered HTML from compile-time-checked askama
//! templates; no JavaScript is needed anywhere.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{Group, MemberRole, NewPerson, Person, PersonFilter, Role, School};
use schola_core::session::Session;
use schola_core::throttle::{self, Gate};
use serde::Deserialize;

use crate::guard::{self, Access, Need};
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
        let message =
            "The server could not complete this request. The details are in the server's log.";
        let body = MessagePage {
            layout: Layout::plain(String::new()),
            title: "Something went wrong",
            message: message.to_string(),
            is_error: true,
            link: "/",
            link_label: "Back to the start page",
        }
        .render()
        .unwrap_or_else(|_| message.to_string());
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
    let body = BusyPage {
        layout: Layout::plain(String::new()),
        retry,
    }
    .render()
    .unwrap_or_else(|_| "The server is busy. Please try again in a few seconds.".to_string());
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, retry.to_string()))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) type PageResult = Result<HttpResponse, PageError>;

/// What the base template shows on every page.
pub struct Layout {
    pub school: String,
    pub viewer: Option<String>,
    pub csrf: String,
    pub version: &'static str,
}

impl Layout {
    fn plain(school: String) -> Layout {
        Layout {
            school: if school.is_empty() {
                "Schola".into()
            } else {
                school
            },
            viewer: None,
            csrf: String::new(),
            version: schola_core::VERSION,
        }
    }

    pub(crate) fn for_session(school: String, s: &Session) -> Layout {
        Layout {
            viewer: Some(s.person.display_name.clone()),
            csrf: s.csrf.clone(),
            ..Layout::plain(school)
        }
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
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    csrf: String,
    code_path: String,
    school_name: String,
    mail_domain: String,
    admin_login: String,
    min_length: usize,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    person: Person,
    role_label: &'static str,
    is_student: bool,
    owned: Vec<Group>,
    member_of: Vec<Group>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    counts: String,
    q: String,
    role: String,
    roles: Vec<&'static str>,
    people: Vec<Person>,
    people_caption: String,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    groups: Vec<Group>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    title: &'static str,
    message: String,
    is_error: bool,
    link: &'static str,
    link_label: &'static str,
}

pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A page with a form shown before sign-in, setting the CSRF cookie when it is new.
fn pre_signin_form(status: StatusCode, body: String, csrf: &str, new_cookie: bool) -> HttpResponse {
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

pub(crate) async fn school_name(state: &Data) -> Result<String, PageError> {
    let st = state.clone();
    Ok(web::block(move || st.store.school()).await??.name)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/healthz", web::head().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/readyz", web::head().to(readyz))
        .route("/static/schola.css", web::get().to(stylesheet))
        .route("/static/favicon.svg", web::get().to(favicon))
        .route("/favicon.ico", web::get().to(favicon))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login_submit))
        .route("/logout", web::post().to(logout))
        .route("/setup", web::get().to(setup_page))
        .route("/setup", web::post().to(setup_submit))
        .route("/", web::get().to(home))
        .route("/admin", web::get().to(admin))
        .configure(crate::updates::routes)
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

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../static/schola.css"))
}

async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../static/favicon.svg"))
}

async fn not_found(req: HttpRequest, state: Data) -> PageResult {
    let session = guard::session(&req, &state).await?;
    let school = school_name(&state).await?;
    let layout = match &session {
        Some(s) => Layout::for_session(school, s),
        None => Layout::plain(school),
    };
    let page = MessagePage {
        layout,
        title: "Not found",
        message: "There is no page at this address.".into(),
        is_error: false,
        link: "/",
        link_label: "Back to the start page",
    };
    Ok(html(StatusCode::NOT_FOUND, page.render()?))
}

/// The sign-in page. The school's name is read only here, so a successful sign-in (the 8:00
/// hot path) never pays for it.
async fn render_login(
    state: &Data,
    status: StatusCode,
    csrf: String,
    new_cookie: bool,
    login: String,
    error: Option<String>,
) -> PageResult {
    let body = LoginPage {
        layout: Layout::plain(school_name(state).await?),
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
            &state,
            StatusCode::FORBIDDEN,
            csrf,
            new_cookie,
            form.login,
            Some("The sign-in form had expired. Please enter your password again.".into()),
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
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            csrf,
            false,
            form.login,
            Some(format!(
                "Too many wrong passwords. Please wait {secs} seconds, then try again."
            )),
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
    let ok = state.pool.verify(hash, form.password).await?;
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
                &state,
                StatusCode::UNAUTHORIZED,
                csrf,
                false,
                form.login,
                Some("The login or the password is wrong.".into()),
            )
            .await
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
            return Ok(HttpResponse::Forbidden()
                .content_type("text/plain")
                .body("the sign-out form had expired; reload the page"));
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
        Access::Forbidden(s) => {
            let page = MessagePage {
                layout: Layout::for_session(school_name(state).await?, &s),
                title: "Not allowed",
                message: "This page is for the school's administrators.".into(),
                is_error: true,
                link: "/",
                link_label: "Back to the start page",
            };
            Err(html(StatusCode::FORBIDDEN, page.render()?))
        }
    })
}

async fn home(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if s.person.role == Role::Admin {
        return Ok(redirect("/admin"));
    }
    let st = state.clone();
    let pid = s.person.id;
    let (school, groups) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.groups_of(pid)?))
    })
    .await??;
    let (owned, member_of): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(_, r)| *r == MemberRole::Owner);
    let role_label = match s.person.role {
        Role::Student => "Student",
        Role::Teacher => "Teacher",
        Role::Staff => "Staff",
        Role::Admin => "Administrator",
    };
    let page = HomePage {
        layout: Layout::for_session(school.name, &s),
        is_student: s.person.role == Role::Student,
        person: s.person,
        role_label,
        owned: owned.into_iter().map(|(g, _)| g).collect(),
        member_of: member_of.into_iter().map(|(g, _)| g).collect(),
    };
    Ok(html(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    page: Option<usize>,
}

const PAGE_SIZE: usize = 50;

async fn admin(req: HttpRequest, state: Data, query: web::Query<AdminQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let q = query.into_inner();
    let role: Option<Role> = q.role.parse().ok();
    let page = q.page.unwrap_or(1).max(1);
    let filter = PersonFilter {
        role,
        query: Some(q.q.clone()).filter(|x| !x.trim().is_empty()),
        ..Default::default()
    };
    let st = state.clone();
    let (school, (people, total), groups, counts) =
        web::block(move || -> schola_core::Result<_> {
            let counts: Vec<(Role, usize)> = Role::ALL
                .iter()
                .map(|r| st.store.count_people(Some(*r)).map(|n| (*r, n)))
                .collect::<Result<_, _>>()?;
            Ok((
                st.store.school()?,
                st.store
                    .list_people(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)?,
                st.store.list_groups(None)?,
                counts,
            ))
        })
        .await??;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| {
        let mut url = format!("/admin?page={p}");
        if !q.q.is_empty() {
            url.push_str(&format!("&q={}", urlencode(&q.q)));
        }
        if let Some(r) = role {
            url.push_str(&format!("&role={r}"));
        }
        url
    };
    let counts = counts
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let page_view = AdminPage {
        layout: Layout::for_session(school.name, &s),
        counts: format!("Active accounts: {counts}"),
        q: q.q.clone(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        people_caption: format!("{total} people match"),
        people,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        groups,
    };
    Ok(html(StatusCode::OK, page_view.render()?))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn render_setup(
    status: StatusCode,
    state: &Data,
    csrf: String,
    new_cookie: bool,
    f: &SetupForm,
    error: Option<String>,
) -> PageResult {
    let body = SetupPage {
        layout: Layout::plain(String::new()),
        csrf: csrf.clone(),
        code_path: state.setup_code_path().display().to_string(),
        school_name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
        admin_login: if f.admin_login.is_empty() {
            "admin".into()
        } else {
            f.admin_login.clone()
        },
        min_length: state.password_policy.min_length,
        error,
    }
    .render()?;
    Ok(pre_signin_form(status, body, &csrf, new_cookie))
}

#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    setup_code: String,
    #[serde(default)]
    school_name: String,
    #[serde(default)]
    mail_domain: String,
    #[serde(default)]
    admin_login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn setup_page(req: HttpRequest, state: Data) -> PageResult {
    if state.setup_done() {
        return Ok(redirect("/login"));
    }
    let (csrf, new_cookie) = guard::login_csrf(&req);
    render_setup(
        StatusCode::OK,
        &state,
        csrf,
        new_cookie,
        &SetupForm::default(),
        None,
    )
}

async fn setup_submit(req: HttpRequest, state: Data, form: web::Form<SetupForm>) -> PageResult {
    if state.setup_done() {
        return Ok(redirect("/login"));
    }
    let f = form.into_inner();
    let (csrf, new_cookie) = guard::login_csrf(&req);
    let fail =
        |status, msg: String| render_setup(status, &state, csrf.clone(), new_cookie, &f, Some(msg));
    if new_cookie || !guard::eq(&f.csrf, &csrf) || !guard::same_origin(&req) {
        return fail(
            StatusCode::FORBIDDEN,
            "The form had expired. Please fill it in again.".into(),
        );
    }
    if !state.setup_code_matches(&f.setup_code) {
        tracing::warn!(client = ?guard::client_ip(&req), "first-run setup with a wrong setup code");
        return fail(
            StatusCode::FORBIDDEN,
            "The setup code is wrong. It is shown on the server's console.".into(),
        );
    }
    let login = f.admin_login.trim().to_lowercase();
    let login = if login.is_empty() {
        "admin".to_string()
    } else {
        login
    };
    if f.password != f.password_confirm {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ.".into(),
        );
    }
    if let Err(e) = state.password_policy.check(&login, &f.password) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, capitalise(&e));
    }
    let hash = state.pool.hash(f.password.clone()).await?;
    let st = state.clone();
    let actor = Actor::person(&login, guard::client_ip(&req).map(|i| i.to_string()));
    let school = School {
        name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
    };
    let admin = NewPerson {
        login: Some(login.clone()),
        given_name: "School".into(),
        family_name: "Administrator".into(),
        display_name: Some("Administrator".into()),
        password_hash: Some(hash),
        ..Default::default()
    };
    match web::block(move || st.store.setup_school(&actor, &school, admin, &st.scheme)).await? {
        Ok(p) => {
            state.mark_setup_done();
            tracing::info!(admin = %p.login, "first-run setup done");
            Ok(redirect("/login"))
        }
        Err(e @ (schola_core::Error::Invalid(_) | schola_core::Error::Duplicate(_))) => {
            fail(StatusCode::UNPROCESSABLE_ENTITY, capitalise(&e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}
