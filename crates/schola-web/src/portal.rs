//! The portal for students, teachers and staff: the start page (the admin's notices, tiles for
//! the services, classes and groups) and the profile (details, language, password change).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{Group, Language, MemberRole, Person, Role};
use schola_core::notices::Notice;
use schola_core::session::Session;
use serde::Deserialize;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, gate, html, policy_message, redirect, role_key, school};
use crate::setup::language_menu;
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/profile", web::get().to(profile))
        .route("/profile/language", web::post().to(set_language))
        .route("/profile/password", web::post().to(change_password));
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    person: Person,
    is_student: bool,
    notices: Vec<Notice>,
    owned: Vec<Group>,
    member_of: Vec<Group>,
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
    let (pid, role) = (s.person.id, s.person.role);
    let (school, groups, notices) = web::block(move || -> schola_core::Result<_> {
        Ok((
            st.store.school()?,
            st.store.groups_of(pid)?,
            st.store.notices(Some(role))?,
        ))
    })
    .await??;
    let (owned, member_of): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(_, r)| *r == MemberRole::Owner);
    let page = HomePage {
        layout: Layout::for_session(&school, &s, &req),
        is_student: s.person.role == Role::Student,
        person: s.person,
        notices,
        owned: owned.into_iter().map(|(g, _)| g).collect(),
        member_of: member_of.into_iter().map(|(g, _)| g).collect(),
    };
    Ok(html(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    person: Person,
    role_label: String,
    chosen: &'static str,
    languages: Vec<(&'static str, String)>,
    min_length: usize,
    notice: Option<String>,
    error: Option<String>,
}

/// What the profile page says after a form was sent.
enum Outcome {
    None,
    Saved(&'static str),
    Refused(Box<dyn Fn(&Tr) -> String>),
}

async fn render_profile(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    outcome: Outcome,
) -> PageResult {
    let layout = Layout::for_session(&school(state).await?, s, req);
    let t = layout.t;
    let (notice, error) = match outcome {
        Outcome::None => (None, None),
        Outcome::Saved(key) => (Some(t.t(key)), None),
        Outcome::Refused(f) => (None, Some(f(&t))),
    };
    let page = ProfilePage {
        role_label: t.t(role_key(s.person.role)),
        chosen: s.person.language.map(Language::as_str).unwrap_or(""),
        languages: language_menu(),
        min_length: state.password_policy().min_length,
        person: s.person.clone(),
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

async fn profile(req: HttpRequest, state: Data, q: web::Query<Saved>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let outcome = match q.saved.as_str() {
        "language" => Outcome::Saved("language-saved"),
        "password" => Outcome::Saved("password-changed"),
        _ => Outcome::None,
    };
    render_profile(&req, &state, &s, StatusCode::OK, outcome).await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    csrf: String,
    #[serde(default)]
    language: String,
}

async fn set_language(req: HttpRequest, state: Data, form: web::Form<LanguageForm>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !guard::eq(&form.csrf, &s.csrf) || !guard::same_origin(&req) {
        let refused = Outcome::Refused(Box::new(|t: &Tr| t.t("form-expired")));
        return render_profile(&req, &state, &s, StatusCode::FORBIDDEN, refused).await;
    }
    let language = match form.language.as_str() {
        "" => None,
        code => match code.parse::<Language>() {
            Ok(l) => Some(l),
            Err(_) => {
                let refused = Outcome::Refused(Box::new(|t: &Tr| t.t("form-expired")));
                return render_profile(&req, &state, &s, StatusCode::BAD_REQUEST, refused).await;
            }
        },
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    let pid = s.person.id;
    web::block(move || st.store.set_person_language(&actor, pid, language)).await??;
    Ok(redirect("/profile?saved=language"))
}

fn actor_of(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new_password: String,
    confirm: String,
}

/// A person changes their own password: the current one first, then the policy. Every other
/// session of theirs ends (a stolen session dies with the old password); this browser gets a
/// new one.
async fn change_password(
    req: HttpRequest,
    state: Data,
    form: web::Form<PasswordForm>,
) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    let refuse = |status, f: Box<dyn Fn(&Tr) -> String>| {
        render_profile(&req, &state, &s, status, Outcome::Refused(f))
    };
    if !guard::eq(&f.csrf, &s.csrf) || !guard::same_origin(&req) {
        return refuse(StatusCode::FORBIDDEN, Box::new(|t| t.t("form-expired"))).await;
    }
    let st = state.clone();
    let login = s.person.login.clone();
    let creds = web::block(move || st.store.credentials(&login)).await??;
    let hash = creds.and_then(|(_, h)| h);
    if !state.pool.verify(hash, f.current).await? {
        tracing::info!(login = %s.person.login, "password change with a wrong current password");
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(|t| t.t("password-wrong-current")),
        )
        .await;
    }
    if f.new_password != f.confirm {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(|t| t.t("passwords-differ")),
        )
        .await;
    }
    if let Err(e) = state
        .password_policy()
        .check(&s.person.login, &f.new_password)
    {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            Box::new(move |t| policy_message(t, &e)),
        )
        .await;
    }
    let hash = state.pool.hash(f.new_password).await?;
    let st = state.clone();
    let actor = actor_of(&req, &s);
    let pid = s.person.id;
    let ip = guard::client_ip(&req).map(|i| i.to_string());
    let ua = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let new = web::block(move || -> schola_core::Result<_> {
        st.store.set_password_hash(&actor, pid, &hash)?;
        st.store.create_session(pid, ip.as_deref(), ua.as_deref())
    })
    .await??;
    tracing::info!(login = %s.person.login, "password changed by its owner");
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, "/profile?saved=password"))
        .cookie(guard::session_cookie(&new.token))
        .finish())
}
