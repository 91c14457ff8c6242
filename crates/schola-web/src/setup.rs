//! First-run setup: while the school has no administrator, `/setup` is a wizard in one form
//! (numbered steps, no JavaScript needed): the setup code shown on the console first, then the
//! school (name, logo, mail domain, default language), the first administrator, and the TLS
//! certificate (the self-signed one made at first start, or an uploaded one), and where the
//! nightly backup goes (optional: a passphrase is made for it and the root helper asked to make
//! the repository; the admin prints the recovery sheet from the Backup page).
//!
//! Everything is checked before anything is kept, with the settings page's checks
//! (`schola_core::settings`, `admin::settings`); a refused form comes back with what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{Language, NewPerson, School};

use crate::admin::settings::upload::{self, Fields, FormError};
use crate::admin::settings::{self as settings, CertView, FILE_LIMITS};
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
    upload_cert: bool,
    /// The self-signed certificate served now, so its fingerprint can be compared with the
    /// browser's.
    cert: Option<CertView>,
    max_logo_kib: usize,
    max_pem_kib: usize,
    backup_target: String,
    /// `[backup] repository` of the configuration, which the wizard cannot change.
    backup_in_config: Option<String>,
    error: Option<String>,
    /// Files were sent with a refused form: the browser does not keep them.
    files_again: bool,
}

/// Every language with its own name, for a language menu.
pub(crate) fn language_menu() -> Vec<(&'static str, String)> {
    Language::ALL
        .iter()
        .map(|l| (l.as_str(), Tr::native_name(*l)))
        .collect()
}

/// The wizard's text fields, as typed.
#[derive(Default)]
struct SetupForm {
    csrf: String,
    setup_code: String,
    school_name: String,
    mail_domain: String,
    default_language: String,
    admin_login: String,
    password: String,
    password_confirm: String,
    upload_cert: bool,
    backup_target: String,
    files_sent: bool,
}

impl SetupForm {
    fn from_fields(f: &Fields) -> SetupForm {
        SetupForm {
            csrf: f.text("csrf"),
            setup_code: f.text("setup_code"),
            school_name: f.text("school_name"),
            mail_domain: f.text("mail_domain"),
            default_language: f.text("default_language"),
            admin_login: f.text("admin_login"),
            password: f.text("password"),
            password_confirm: f.text("password_confirm"),
            upload_cert: f.text("certificate_choice") == "upload",
            backup_target: f.text("backup_target"),
            files_sent: false,
        }
    }
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
    let now = state.store.now();
    let cert = state
        .tls
        .as_ref()
        .and_then(|r| crate::tls::describe(r.current().end_entity_cert().ok()?))
        .map(|i| settings::cert_view(&layout.t, &i, now));
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
        min_length: state.password_policy().min_length,
        upload_cert: f.upload_cert,
        cert,
        max_logo_kib: settings::logo::MAX_LOGO_BYTES / 1024,
        max_pem_kib: crate::tls::MAX_PEM_BYTES / 1024,
        backup_target: f.backup_target.clone(),
        backup_in_config: state.cfg.backup.repository.clone(),
        files_again: error.is_some() && f.files_sent,
        error,
        layout,
    }
    .render()?;
    Ok(pre_signin_form(status, body, &csrf, new_cookie))
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

async fn setup_submit(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    if state.setup_done() {
        return Ok(redirect("/login"));
    }
    let (csrf, new_cookie) = guard::login_csrf(&req);
    let mut fields = match upload::read(&req, payload, FILE_LIMITS).await {
        Ok(f) => f,
        Err(e) => {
            let f = SetupForm::default();
            let status = match e {
                FormError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                FormError::Malformed => StatusCode::BAD_REQUEST,
            };
            let mut resp = render_setup(
                &req,
                status,
                &state,
                csrf,
                new_cookie,
                &f,
                Some(&|t: &Tr| settings::form_problem(t, e).1),
            )?;
            if e == FormError::TooLarge {
                resp.head_mut()
                    .set_connection_type(actix_web::http::ConnectionType::Close);
            }
            return Ok(resp);
        }
    };
    let mut f = SetupForm::from_fields(&fields);
    let logo_file = fields.file("logo");
    let cert_file = fields.file("certificate");
    let key_file = fields.file("key");
    f.files_sent = logo_file.is_some() || cert_file.is_some() || key_file.is_some();
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
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // step 2: the school, checked as the settings page checks it
    let school = match schola_core::settings::check_school(&School {
        name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
        default_language: Language::from_tag(&f.default_language),
    }) {
        Ok(s) => s,
        Err(e) => {
            let msg = capitalise(&e.to_string());
            return fail(unprocessable, &|_| msg.clone());
        }
    };
    let logo = match logo_file {
        None => None,
        Some(file) => match settings::checked_logo(Some(file)) {
            Ok(l) => Some(l),
            Err(p) => return fail(unprocessable, &|t| settings::logo_problem(t, p)),
        },
    };

    // step 3: the administrator
    let login = f.admin_login.trim().to_lowercase();
    let login = if login.is_empty() {
        "admin".to_string()
    } else {
        login
    };
    if f.password != f.password_confirm {
        return fail(unprocessable, &|t| t.t("passwords-differ"));
    }
    if let Err(e) = state.password_policy().check(&login, &f.password) {
        return fail(unprocessable, &|t| policy_message(t, &e));
    }

    // step 4: the certificate
    let pair = if f.upload_cert {
        match settings::checked_pair(cert_file, key_file, state.store.now()) {
            Ok(p) => Some(p),
            Err(p) => return fail(unprocessable, &|t| settings::cert_problem(t, &p)),
        }
    } else {
        None
    };

    // step 5: the backup target, checked as the Backup page checks it
    let backup_target = match f.backup_target.trim() {
        "" => None,
        _ if state.cfg.backup.repository.is_some() => None,
        t => match schola_core::settings::check_backup_target(t) {
            Ok(t) => Some(t),
            Err(e) => {
                let msg = capitalise(&e.to_string());
                return fail(unprocessable, &|_| msg.clone());
            }
        },
    };

    let hash = state.pool.hash(f.password.clone()).await?;
    let actor = Actor::person(&login, guard::client_ip(&req).map(|i| i.to_string()));
    // the files first: they were checked, and if the database then refused, a second attempt
    // writes them again
    if let Some(l) = logo
        && let Err(e) = settings::apply_logo(&state, actor.clone(), Some(l)).await
    {
        tracing::error!(error = %format!("{e:#}"), "first-run setup: the logo could not be saved");
        return fail(StatusCode::INTERNAL_SERVER_ERROR, &|t| {
            t.t("settings-write-failed")
        });
    }
    if let Some(p) = pair
        && let Err(e) = settings::apply_certificate(&state, actor.clone(), p).await
    {
        tracing::error!(error = %format!("{e:#}"), "first-run setup: the certificate could not be saved");
        return fail(StatusCode::INTERNAL_SERVER_ERROR, &|t| {
            t.t("settings-write-failed")
        });
    }
    let st = state.clone();
    let scheme = state.scheme();
    let admin = NewPerson {
        login: Some(login.clone()),
        given_name: "School".into(),
        family_name: "Administrator".into(),
        display_name: Some("Administrator".into()),
        password_hash: Some(hash),
        ..Default::default()
    };
    match web::block(move || st.store.setup_school(&actor, &school, admin, &scheme)).await? {
        Ok(p) => {
            state.mark_setup_done();
            tracing::info!(admin = %p.login, "first-run setup done");
            if let Some(target) = backup_target {
                let actor = Actor::person(&p.login, guard::client_ip(&req).map(|i| i.to_string()));
                let st = state.clone();
                // the school is set up either way: a failure here shows on the Backup page
                match web::block(move || set_up_backup(&st, &actor, &target)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "first-run setup: the backup could not be set up")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "first-run setup: the backup could not be set up")
                    }
                }
            }
            Ok(redirect("/login"))
        }
        Err(e @ (schola_core::Error::Invalid(_) | schola_core::Error::Duplicate(_))) => {
            let msg = capitalise(&e.to_string());
            fail(unprocessable, &|_| msg.clone())
        }
        Err(e) => Err(e.into()),
    }
}

/// Keeps the backup target, makes its passphrase and asks the root helper to make the
/// repository (or open the one there). Shared with the Backup page.
pub(crate) fn set_up_backup(
    state: &AppState,
    actor: &Actor,
    target: &str,
) -> schola_core::Result<()> {
    use schola_core::backups::{self, BackupPaths, Request};
    state.store.set_backup_target(actor, Some(target))?;
    backups::write_passphrase(
        &state.cfg,
        &schola_core::token::backup_passphrase(),
        state.store.now(),
    )?;
    BackupPaths::from_config(&state.cfg).write_request(&Request::Init)
}
