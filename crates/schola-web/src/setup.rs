//! First-run setup: while the school has no administrator, `/setup` asks for the setup code
//! shown on the console, the school's name, mail domain and default language, and the first
//! administrator's password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{Language, NewPerson, School};
use serde::Deserialize;

use crate::guard;
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, capitalise, policy_message, pre_signin_form, redirect};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/setup", web::get().to(setup_page))
        .route("/setup", web::post().to(setup_submit));
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    csrf: String,
    code_path: String,
    school_name: String,
    mail_domain: String,
    default_language: String,
    languages: Vec<(&'static str, String)>,
    admin_login: String,
    min_length: usize,
    error: Option<String>,
}

/// Every language with its own name, for a language menu.
pub(crate) fn language_menu() -> Vec<(&'static str, String)> {
    Language::ALL
        .iter()
        .map(|l| (l.as_str(), Tr::native_name(*l)))
        .collect()
}

fn render_setup(
    req: &HttpRequest,
    status: StatusCode,
    state: &Data,
    csrf: String,
    new_cookie: bool,
    f: &SetupForm,
    error: Option<&dyn Fn(&Tr) -> String>,
) -> PageResult {
    let layout = Layout::plain(&School::default(), Some(req));
    let error = error.map(|e| e(&layout.t));
    let body = SetupPage {
        csrf: csrf.clone(),
        code_path: state.setup_code_path().display().to_string(),
        school_name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
        default_language: if f.default_language.is_empty() {
            layout.t.code().to_string()
        } else {
            f.default_language.clone()
        },
        languages: language_menu(),
        admin_login: if f.admin_login.is_empty() {
            "admin".into()
        } else {
            f.admin_login.clone()
        },
        min_length: state.password_policy.min_length,
        error,
        layout,
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
    default_language: String,
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
        &req,
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
    let fail = |status, msg: &dyn Fn(&Tr) -> String| {
        render_setup(
            &req,
            status,
            &state,
            csrf.clone(),
            new_cookie,
            &f,
            Some(msg),
        )
    };
    if new_cookie || !guard::eq(&f.csrf, &csrf) || !guard::same_origin(&req) {
        return fail(StatusCode::FORBIDDEN, &|t| t.t("form-expired"));
    }
    if !state.setup_code_matches(&f.setup_code) {
        tracing::warn!(client = ?guard::client_ip(&req), "first-run setup with a wrong setup code");
        return fail(StatusCode::FORBIDDEN, &|t| t.t("setup-wrong-code"));
    }
    let login = f.admin_login.trim().to_lowercase();
    let login = if login.is_empty() {
        "admin".to_string()
    } else {
        login
    };
    if f.password != f.password_confirm {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, &|t| {
            t.t("passwords-differ")
        });
    }
    if let Err(e) = state.password_policy.check(&login, &f.password) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, &|t| policy_message(t, &e));
    }
    let hash = state.pool.hash(f.password.clone()).await?;
    let st = state.clone();
    let actor = Actor::person(&login, guard::client_ip(&req).map(|i| i.to_string()));
    let school = School {
        name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
        default_language: Language::from_tag(&f.default_language),
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
            let msg = capitalise(&e.to_string());
            fail(StatusCode::UNPROCESSABLE_ENTITY, &|_| msg.clone())
        }
        Err(e) => Err(e.into()),
    }
}
