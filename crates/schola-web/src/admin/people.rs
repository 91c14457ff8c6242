//! People: the list at `/admin` (search as you type, filters by role, status and class, pages),
//! creating a person with an initial password that is shown once, and the person's page (edit,
//! classes and groups, disable/enable, password reset).
//!
//! Every change goes through a schola-core `Store` method, which writes the audit log and the
//! change journal in the same transaction. The helpers at the top are shared with `groups`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{
    Group, GroupKind, MemberRole, NewPerson, Person, PersonFilter, Role, Status,
};
use schola_core::directory_admin::{PersonEdit, generate_password};
use schola_core::session::Session;
use serde::Deserialize;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{
    Layout, PageError, PageResult, capitalise, gate, html, kind_key, message, redirect, role_key,
    school, status_key, urlencode,
};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(admin))
        .route("/admin/people/new", web::get().to(new_person_page))
        .route("/admin/people/new", web::post().to(create_person))
        .route("/admin/people/{login}", web::get().to(person_page))
        .route("/admin/people/{login}", web::post().to(edit_person))
        .route("/admin/people/{login}/status", web::post().to(set_status))
        .route(
            "/admin/people/{login}/password",
            web::post().to(reset_password),
        )
        .route("/admin/people/{login}/groups", web::post().to(memberships));
}

// ---- shared with groups.rs ----

/// Who makes a change from the admin UI: the signed-in admin and their address.
pub(crate) fn actor(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

/// A form is accepted only with the session's CSRF token and from our own origin.
pub(crate) fn form_ok(req: &HttpRequest, s: &Session, csrf: &str) -> bool {
    guard::eq(csrf, &s.csrf) && guard::same_origin(req)
}

/// The answer to a form without a valid CSRF token: 403, nothing changed.
pub(crate) async fn expired(req: &HttpRequest, state: &Data, s: &Session) -> PageResult {
    message(
        req,
        state,
        Some(s),
        StatusCode::FORBIDDEN,
        "forbidden-title",
        "form-expired",
    )
    .await
}

pub(crate) async fn not_found(req: &HttpRequest, state: &Data, s: &Session) -> PageResult {
    message(
        req,
        state,
        Some(s),
        StatusCode::NOT_FOUND,
        "not-found-title",
        "not-found-text",
    )
    .await
}

/// A message for the top of a page, translated once the page's language is known.
pub(crate) enum Msg {
    Key(&'static str),
    /// A plural message: `$count` and `$n`.
    Count(&'static str, i64),
    /// The core's own words (a refused change).
    Text(String),
}

impl Msg {
    pub(crate) fn show(&self, t: &Tr) -> String {
        match self {
            Msg::Key(k) => t.t(k),
            Msg::Count(k, n) => t.tn(k, n),
            Msg::Text(s) => s.clone(),
        }
    }
}

/// A change the core refused (bad input, a duplicate, an unknown name) as the status and the
/// message the form shows; anything else is a server error.
pub(crate) fn refusal(e: schola_core::Error) -> Result<(StatusCode, Msg), PageError> {
    use schola_core::Error as E;
    match e {
        E::Invalid(_) | E::NotFound(_) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Msg::Text(capitalise(&e.to_string())),
        )),
        E::Duplicate(_) => Ok((StatusCode::CONFLICT, Msg::Text(capitalise(&e.to_string())))),
        other => Err(other.into()),
    }
}

/// One `<option>` of a `<select>`.
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A labelled list of options (`<optgroup>`).
pub(crate) struct OptGroup {
    pub label: String,
    pub opts: Vec<Opt>,
}

pub(crate) fn role_options(t: &Tr, chosen: &str) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: t.t(role_key(*r)),
            selected: r.as_str() == chosen,
        })
        .collect()
}

/// The groups for a `<select>`, classes first, each kind under its own heading.
pub(crate) fn group_options(t: &Tr, groups: &[Group], chosen: &str) -> Vec<OptGroup> {
    GroupKind::ALL
        .iter()
        .map(|k| OptGroup {
            label: t.t(kind_key(*k)),
            opts: groups
                .iter()
                .filter(|g| g.kind == *k)
                .map(|g| Opt {
                    value: g.name.clone(),
                    label: if g.display_name == g.name {
                        g.name.clone()
                    } else {
                        format!("{} ({})", g.display_name, g.name)
                    },
                    selected: g.name == chosen,
                })
                .collect(),
        })
        .filter(|og| !og.opts.is_empty())
        .collect()
}

/// A choice from a `<select>` that the form did not offer.
pub(crate) fn bad_choice() -> (StatusCode, Msg) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Msg::Key("people-bad-choice"),
    )
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

// ---- the list ----

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    /// "3 students", one per role, with the language's plural.
    counts: Vec<String>,
    q: String,
    roles: Vec<Opt>,
    statuses: Vec<Opt>,
    classes: Vec<OptGroup>,
    people: Vec<Person>,
    total: i64,
    page: usize,
    pages: usize,
    prev_link: Option<String>,
    next_link: Option<String>,
    /// The backup's state, when one is set up.
    backup: Option<crate::backup::Summary>,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    page: String,
}

const PAGE_SIZE: usize = 50;
/// No school has more pages than this; it keeps `page * PAGE_SIZE` far from overflowing.
const MAX_PAGE: usize = 100_000;

pub(crate) async fn admin(
    req: HttpRequest,
    state: Data,
    query: web::Query<AdminQuery>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let q = query.into_inner();
    let role: Option<Role> = q.role.parse().ok();
    let status: Option<Status> = q.status.parse().ok();
    let class = Some(q.class.trim().to_string()).filter(|c| !c.is_empty());
    let wanted = q.page.parse::<usize>().unwrap_or(1).clamp(1, MAX_PAGE);
    let filter = PersonFilter {
        role,
        status,
        query: Some(q.q.clone()).filter(|x| !x.trim().is_empty()),
        group: class.clone(),
    };
    let st = state.clone();
    let (school, page, (people, total), groups, counts, backup) =
        web::block(move || -> schola_core::Result<_> {
            // an unreadable status is shown (and explained) on the Backup page only
            let backup = crate::backup::configured(&st)
                .then(|| {
                    schola_core::backups::BackupPaths::from_config(&st.cfg)
                        .read_status()
                        .ok()
                })
                .flatten();
            let counts: Vec<(Role, usize)> = Role::ALL
                .iter()
                .map(|r| st.store.count_people(Some(*r)).map(|n| (*r, n)))
                .collect::<Result<_, _>>()?;
            let mut page = wanted;
            let mut found = st
                .store
                .list_people(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)?;
            // past the last page (people were removed, or a hand-made address): show the last
            if found.0.is_empty() && found.1 > 0 {
                page = found.1.div_ceil(PAGE_SIZE);
                found = st
                    .store
                    .list_people(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)?;
            }
            Ok((
                st.store.school()?,
                page,
                found,
                st.store.list_groups(None)?,
                counts,
                backup,
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
        if let Some(st) = status {
            url.push_str(&format!("&status={st}"));
        }
        if let Some(c) = &class {
            url.push_str(&format!("&class={}", urlencode(c)));
        }
        url
    };
    let layout = Layout::for_session(&school, &s, &req);
    let t = layout.t;
    let page_view = AdminPage {
        counts: counts
            .iter()
            .map(|(r, n)| t.tn(&format!("{}-count", role_key(*r)), *n as i64))
            .collect(),
        q: q.q.clone(),
        roles: role_options(&t, role.map(Role::as_str).unwrap_or("")),
        statuses: Status::ALL
            .iter()
            .map(|x| Opt {
                value: x.as_str().into(),
                label: t.t(status_key(*x)),
                selected: Some(*x) == status,
            })
            .collect(),
        classes: group_options(&t, &groups, class.as_deref().unwrap_or("")),
        backup: backup.map(|b| crate::backup::summary(&t, &b)),
        total: total as i64,
        people,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        layout,
    };
    Ok(html(StatusCode::OK, page_view.render()?))
}

// ---- a new person ----

#[derive(Default)]
struct NewValues {
    given_name: String,
    family_name: String,
    role: String,
    class: String,
    login: String,
    mail: String,
}

#[derive(Template)]
#[template(path = "admin_people_new.html")]
struct NewPersonPage {
    layout: Layout,
    v: NewValues,
    roles: Vec<Opt>,
    classes: Vec<OptGroup>,
    error: Option<String>,
}

async fn render_new(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    v: NewValues,
    error: Option<Msg>,
) -> PageResult {
    let st = state.clone();
    let (school, groups) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.list_groups(None)?))
    })
    .await??;
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let page = NewPersonPage {
        roles: role_options(&t, &v.role),
        classes: group_options(&t, &groups, &v.class),
        v,
        error: error.map(|e| e.show(&t)),
        layout,
    };
    Ok(html(status, page.render()?))
}

#[derive(Deserialize)]
pub struct ClassQuery {
    #[serde(default)]
    class: String,
}

async fn new_person_page(req: HttpRequest, state: Data, q: web::Query<ClassQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let v = NewValues {
        role: Role::Student.as_str().into(),
        class: q.into_inner().class,
        ..Default::default()
    };
    render_new(&req, &state, &s, StatusCode::OK, v, None).await
}

#[derive(Deserialize)]
pub struct NewForm {
    csrf: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    mail: String,
}

#[derive(Template)]
#[template(path = "admin_people_password.html")]
struct PasswordPage {
    layout: Layout,
    person: Person,
    password: String,
    created: bool,
}

/// Creates a person (in the chosen class, in the same transaction) with a generated initial
/// password, and shows that password this once.
async fn create_person(req: HttpRequest, state: Data, form: web::Form<NewForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    if !form_ok(&req, &s, &f.csrf) {
        return expired(&req, &state, &s).await;
    }
    let v = NewValues {
        given_name: f.given_name,
        family_name: f.family_name,
        role: f.role,
        class: f.class.trim().to_string(),
        login: f.login.trim().to_string(),
        mail: f.mail.trim().to_string(),
    };
    let Ok(role) = v.role.parse::<Role>() else {
        let (status, e) = bad_choice();
        return render_new(&req, &state, &s, status, v, Some(e)).await;
    };
    let password = generate_password(&state.password_policy(), &v.login)?;
    let hash = state.pool.hash(password.clone()).await?;
    let new = NewPerson {
        login: Some(v.login.clone()).filter(|l| !l.is_empty()),
        given_name: v.given_name.clone(),
        family_name: v.family_name.clone(),
        role: Some(role),
        mail: Some(v.mail.clone()).filter(|m| !m.is_empty()),
        password_hash: Some(hash),
        ..Default::default()
    };
    let class = Some(v.class.clone()).filter(|c| !c.is_empty());
    let st = state.clone();
    let who = actor(&req, &s);
    let made = web::block(move || -> schola_core::Result<Person> {
        let id = st.store.batch(&who, |b| {
            let (id, login) = b.create_person(&new, &st.scheme())?;
            if let Some(c) = &class {
                b.add_member(c, &login, MemberRole::Member)?;
            }
            Ok(id)
        })?;
        st.store
            .person(id)?
            .ok_or_else(|| schola_core::Error::NotFound(format!("person #{id}")))
    })
    .await?;
    match made {
        Ok(person) => {
            tracing::info!(admin = %s.person.login, login = %person.login, "person created");
            show_password(&req, &state, &s, person, password, true).await
        }
        Err(e) => {
            let (status, msg) = refusal(e)?;
            render_new(&req, &state, &s, status, v, Some(msg)).await
        }
    }
}

async fn show_password(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    person: Person,
    password: String,
    created: bool,
) -> PageResult {
    let page = PasswordPage {
        layout: Layout::for_session(&school(state).await?, s, req),
        person,
        password,
        created,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

// ---- the person's page ----

struct EditValues {
    given_name: String,
    family_name: String,
    display_name: String,
    mail: String,
    quota_mb: String,
}

impl EditValues {
    fn of(p: &Person) -> EditValues {
        EditValues {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            display_name: p.display_name.clone(),
            mail: p.mail.clone().unwrap_or_default(),
            quota_mb: p.quota_mb.map(|q| q.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_people_person.html")]
struct PersonPage {
    layout: Layout,
    person: Person,
    v: EditValues,
    roles: Vec<Opt>,
    memberships: Vec<(Group, MemberRole)>,
    groups: Vec<OptGroup>,
    grace_days: i64,
    /// Their files' usage and quota, or why it is not known.
    files_usage: String,
    notice: Option<String>,
    error: Option<String>,
}

/// What the person's page says above everything else.
enum Outcome {
    None,
    Notice(Msg),
    Refused(Msg),
}

/// The person's page; `values` keeps what a refused edit form said.
async fn render_person(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    login: String,
    status: StatusCode,
    outcome: Outcome,
    values: Option<(EditValues, String)>,
) -> PageResult {
    let st = state.clone();
    let found = web::block(move || -> schola_core::Result<_> {
        let Some(p) = st.store.person_by_login(&login)? else {
            return Ok(None);
        };
        Ok(Some((
            st.store.school()?,
            st.store.groups_of(p.id)?,
            st.store.list_groups(None)?,
            p,
        )))
    })
    .await??;
    let Some((school, memberships, groups, person)) = found else {
        return not_found(req, state, s).await;
    };
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let (notice, error) = match outcome {
        Outcome::None => (None, None),
        Outcome::Notice(n) => (Some(n.show(&t)), None),
        Outcome::Refused(e) => (None, Some(e.show(&t))),
    };
    let (v, role) = values.unwrap_or_else(|| (EditValues::of(&person), person.role.to_string()));
    let files_usage = crate::files::usage_text(state, &t, s.person.id, &person.login).await;
    let page = PersonPage {
        files_usage,
        roles: role_options(&t, &role),
        groups: group_options(&t, &groups, ""),
        grace_days: state.cfg.directory.purge_grace_days,
        v,
        memberships,
        person,
        notice,
        error,
        layout,
    };
    Ok(html(status, page.render()?))
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: String,
}

/// The notices a redirect after a change asks for (`?saved=…`), each a translation key.
const PERSON_NOTICES: &[(&str, &str)] = &[
    ("edit", "people-saved"),
    ("disabled", "people-disabled-notice"),
    ("enabled", "people-enabled-notice"),
    ("group-added", "people-group-added"),
    ("group-removed", "people-group-removed"),
];

async fn person_page(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    q: web::Query<Saved>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let outcome = PERSON_NOTICES
        .iter()
        .find(|(k, _)| *k == q.saved)
        .map_or(Outcome::None, |(_, key)| Outcome::Notice(Msg::Key(key)));
    render_person(
        &req,
        &state,
        &s,
        path.into_inner(),
        StatusCode::OK,
        outcome,
        None,
    )
    .await
}

fn person_url(login: &str) -> String {
    format!("/admin/people/{}", urlencode(login))
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    mail: String,
    #[serde(default)]
    quota_mb: String,
}

async fn edit_person(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<EditForm>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    if !form_ok(&req, &s, &f.csrf) {
        return expired(&req, &state, &s).await;
    }
    let login = path.into_inner();
    let values = EditValues {
        given_name: f.given_name,
        family_name: f.family_name,
        display_name: f.display_name,
        mail: f.mail,
        quota_mb: f.quota_mb.trim().to_string(),
    };
    let role = f.role;
    let refuse = |status, msg, values, role| {
        render_person(
            &req,
            &state,
            &s,
            login.clone(),
            status,
            Outcome::Refused(msg),
            Some((values, role)),
        )
    };
    let Ok(r) = role.parse::<Role>() else {
        let (status, msg) = bad_choice();
        return refuse(status, msg, values, role).await;
    };
    let quota = match values.quota_mb.as_str() {
        "" => None,
        q => match q.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                let msg = Msg::Key("people-bad-quota");
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, msg, values, role).await;
            }
        },
    };
    let edit = PersonEdit {
        given_name: values.given_name.clone(),
        family_name: values.family_name.clone(),
        display_name: values.display_name.clone(),
        role: r,
        mail: Some(values.mail.clone()),
        quota_mb: quota,
    };
    let st = state.clone();
    let who = actor(&req, &s);
    let l = login.clone();
    match web::block(move || st.store.update_person(&who, &l, &edit)).await? {
        Ok(_) => Ok(redirect(&format!("{}?saved=edit", person_url(&login)))),
        Err(schola_core::Error::NotFound(_)) => not_found(&req, &state, &s).await,
        Err(e) => {
            let (status, msg) = refusal(e)?;
            refuse(status, msg, values, role).await
        }
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    #[serde(default)]
    action: String,
}

/// Disables (with the configured grace period before the purge) or enables an account.
async fn set_status(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !form_ok(&req, &s, &form.csrf) {
        return expired(&req, &state, &s).await;
    }
    let login = path.into_inner();
    let disable = match form.action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => {
            let (status, msg) = bad_choice();
            return render_person(&req, &state, &s, login, status, Outcome::Refused(msg), None)
                .await;
        }
    };
    let st = state.clone();
    let who = actor(&req, &s);
    let l = login.clone();
    let grace = state.cfg.directory.purge_grace_days;
    let done = web::block(move || {
        if disable {
            st.store.disable_person(&who, &l, grace)
        } else {
            st.store.enable_person(&who, &l)
        }
    })
    .await?;
    match done {
        Ok(_) => {
            let saved = if disable { "disabled" } else { "enabled" };
            Ok(redirect(&format!("{}?saved={saved}", person_url(&login))))
        }
        Err(schola_core::Error::NotFound(_)) => not_found(&req, &state, &s).await,
        Err(e) => {
            let (status, msg) = refusal(e)?;
            render_person(&req, &state, &s, login, status, Outcome::Refused(msg), None).await
        }
    }
}

/// Makes a new password, shows it once, and ends the person's sessions.
async fn reset_password(
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
    let login = path.into_inner();
    let st = state.clone();
    let l = login.clone();
    let Some(person) = web::block(move || st.store.person_by_login(&l)).await?? else {
        return not_found(&req, &state, &s).await;
    };
    let password = generate_password(&state.password_policy(), &person.login)?;
    let hash = state.pool.hash(password.clone()).await?;
    let st = state.clone();
    let who = actor(&req, &s);
    let pid = person.id;
    let own = pid == s.person.id;
    let ip = guard::client_ip(&req).map(|i| i.to_string());
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let new_session = web::block(move || -> schola_core::Result<_> {
        st.store.set_password_hash(&who, pid, &hash)?;
        // an admin resetting their own password stays signed in in this browser
        own.then(|| st.store.create_session(pid, ip.as_deref(), ua.as_deref()))
            .transpose()
    })
    .await??;
    tracing::info!(admin = %s.person.login, login = %person.login, "password reset");
    let mut resp = show_password(&req, &state, &s, person, password, false).await?;
    if let Some(n) = new_session {
        resp.add_cookie(&guard::session_cookie(&n.token))
            .map_err(|e| schola_core::Error::Invalid(format!("session cookie: {e}")))?;
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct MembershipForm {
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    role: String,
}

/// Adds the person to a group (as member or owner) or removes them from one.
async fn memberships(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<MembershipForm>,
) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    if !form_ok(&req, &s, &f.csrf) {
        return expired(&req, &state, &s).await;
    }
    let login = path.into_inner();
    let (add, role) = match (f.op.as_str(), f.role.parse::<MemberRole>()) {
        ("add", Ok(r)) => (true, r),
        ("remove", Ok(r)) => (false, r),
        _ => {
            let (status, msg) = bad_choice();
            return render_person(&req, &state, &s, login, status, Outcome::Refused(msg), None)
                .await;
        }
    };
    let st = state.clone();
    let who = actor(&req, &s);
    let (l, g) = (login.clone(), f.group.trim().to_string());
    let done = web::block(move || {
        if add {
            st.store.add_member(&who, &g, &l, role)
        } else {
            st.store.remove_member(&who, &g, &l, role)
        }
    })
    .await?;
    match done {
        Ok(_) => {
            let saved = if add { "group-added" } else { "group-removed" };
            Ok(redirect(&format!("{}?saved={saved}", person_url(&login))))
        }
        Err(e) => {
            let (status, msg) = refusal(e)?;
            render_person(&req, &state, &s, login, status, Outcome::Refused(msg), None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use schola_core::directory::Language;

    use super::*;

    #[test]
    fn the_notices_after_a_change_are_translated() {
        for lang in Language::ALL {
            let t = Tr::new(*lang);
            for (_, key) in PERSON_NOTICES {
                assert_ne!(t.t(key), *key, "{lang}: {key}");
            }
        }
    }
}
