//! Settings: the school's name, mail domain and default language, its logo, the login-name
//! scheme and minimum password length, and the TLS certificate. Every change applies to the
//! next request (the next TLS connection for a certificate), without a restart.
//!
//! The checks live where the first-run setup finds them too: school settings in
//! `schola_core::settings`, the logo in [`logo`], certificates in `crate::tls`; the texts that
//! explain a refusal are here ([`logo_problem`], [`cert_problem`]).

pub mod logo;
pub mod upload;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use schola_core::audit::Actor;
use schola_core::directory::{Language, School};
use schola_core::session::Session;
use schola_core::settings::{PASSWORD_MIN_LENGTH, PolicyOverrides};
use serde::Deserialize;
use serde_json::json;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, capitalise, gate, html, redirect};
use crate::setup::language_menu;
use crate::state::AppState;
use crate::tls::{CertInfo, CertProblem, CheckedPair, Part};

use self::logo::{Logo, LogoProblem, MAX_LOGO_BYTES};
use self::upload::{FormError, MAX_REQUEST_BYTES};

type Data = web::Data<AppState>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/settings", web::get().to(page))
        .route("/admin/settings/school", web::post().to(save_school))
        .route("/admin/settings/logo", web::post().to(save_logo))
        .route("/admin/settings/logo/remove", web::post().to(remove_logo))
        .route("/admin/settings/accounts", web::post().to(save_accounts))
        .route(
            "/admin/settings/certificate",
            web::post().to(save_certificate),
        )
        .configure(logo::routes);
}

/// The upload limits of the forms with files: the logo, and the certificate and its key.
pub(crate) const FILE_LIMITS: &[(&str, usize)] = &[
    ("logo", MAX_LOGO_BYTES),
    ("certificate", crate::tls::MAX_PEM_BYTES),
    ("key", crate::tls::MAX_PEM_BYTES),
];

/// A message shown in one section of the page.
pub struct Note {
    pub section: &'static str,
    pub ok: bool,
    pub text: String,
}

/// The certificate as the page shows it.
pub struct CertView {
    pub subject: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: String,
    pub fingerprint: String,
    pub names: String,
    pub self_signed: bool,
    pub expires_soon: bool,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    layout: Layout,
    note: Option<Note>,
    school_name: String,
    mail_domain: String,
    default_language: String,
    languages: Vec<(&'static str, String)>,
    logo_url: Option<String>,
    max_logo_kib: usize,
    login_scheme: String,
    config_scheme: String,
    min_length: String,
    config_min_length: usize,
    min_allowed: usize,
    max_allowed: usize,
    cert: Option<CertView>,
    /// Set when the config file names the certificate: it is changed there, not here.
    cert_in_config: Option<String>,
    max_pem_kib: usize,
}

/// What the forms show: the stored values, or what was just sent when it was refused.
#[derive(Default)]
struct Values {
    school: Option<(String, String, String)>,
    accounts: Option<(String, String)>,
}

pub(crate) fn cert_view(t: &Tr, info: &CertInfo, now: i64) -> CertView {
    CertView {
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        valid_from: t.date(info.not_before),
        valid_until: t.date(info.not_after),
        fingerprint: info.fingerprint.clone(),
        names: info.names.join(", "),
        self_signed: info.self_signed(),
        expires_soon: info.not_after - now < 30 * 86_400,
    }
}

/// The certificate served now (or, when this process serves none, the one on disk).
fn current_cert(state: &AppState) -> Option<CertInfo> {
    if let Some(r) = &state.tls {
        let key = r.current();
        return crate::tls::describe(key.end_entity_cert().ok()?);
    }
    use rustls_pki_types::pem::PemObject as _;
    let (cert, _, _) = crate::tls::pair_paths(&state.cfg);
    let der = rustls_pki_types::CertificateDer::pem_file_iter(cert)
        .ok()?
        .next()?
        .ok()?;
    crate::tls::describe(&der)
}

async fn render(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    values: Values,
    note: Option<Note>,
) -> PageResult {
    let st = state.clone();
    let (school, overrides, now) = web::block(move || -> schola_core::Result<_> {
        Ok((
            st.store.school()?,
            st.store.policy_overrides()?,
            st.store.now(),
        ))
    })
    .await??;
    let layout = Layout::for_session(&school, s, req);
    let t = layout.t;
    let (school_name, mail_domain, default_language) = values.school.unwrap_or((
        school.name.clone(),
        school.mail_domain.clone(),
        school
            .default_language
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
    ));
    let (login_scheme, min_length) = values.accounts.unwrap_or((
        overrides.login_scheme.clone().unwrap_or_default(),
        overrides
            .password_min_length
            .map(|n| n.to_string())
            .unwrap_or_default(),
    ));
    let (cert_path, _, configured) = crate::tls::pair_paths(&state.cfg);
    let page = SettingsPage {
        note,
        school_name,
        mail_domain,
        default_language,
        languages: language_menu(),
        logo_url: state.logo_url(),
        max_logo_kib: MAX_LOGO_BYTES / 1024,
        login_scheme,
        config_scheme: state.cfg.directory.login_scheme.clone(),
        min_length,
        config_min_length: state.cfg.auth.password_min_length,
        min_allowed: *PASSWORD_MIN_LENGTH.start(),
        max_allowed: *PASSWORD_MIN_LENGTH.end(),
        cert: current_cert(state).map(|i| cert_view(&t, &i, now)),
        cert_in_config: configured.then(|| cert_path.display().to_string()),
        max_pem_kib: crate::tls::MAX_PEM_BYTES / 1024,
        layout,
    };
    Ok(html(status, page.render()?))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

async fn page(req: HttpRequest, state: Data, q: web::Query<SavedQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let note = saved_note(&req, &state, &s, &q.saved).await?;
    render(&req, &state, &s, StatusCode::OK, Values::default(), note).await
}

/// The confirmation after a change (the forms redirect here, so a reload sends nothing again).
async fn saved_note(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    saved: &str,
) -> Result<Option<Note>, crate::pages::PageError> {
    let (section, key) = match saved {
        "school" => ("school", "settings-school-saved"),
        "logo" => ("logo", "settings-logo-saved"),
        "logo-removed" => ("logo", "settings-logo-removed"),
        "accounts" => ("accounts", "settings-accounts-saved"),
        "certificate" => ("certificate", "settings-cert-saved"),
        _ => return Ok(None),
    };
    let school = crate::pages::school(state).await?;
    let t = Layout::for_session(&school, s, req).t;
    Ok(Some(Note {
        section,
        ok: true,
        text: t.t(key),
    }))
}

fn actor_of(req: &HttpRequest, s: &Session) -> Actor {
    Actor::person(
        &s.person.login,
        guard::client_ip(req).map(|i| i.to_string()),
    )
}

/// Renders the page with a refusal in `section`.
async fn refuse(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    status: StatusCode,
    section: &'static str,
    values: Values,
    text: impl FnOnce(&Tr) -> String,
) -> PageResult {
    let school = crate::pages::school(state).await?;
    let t = Layout::for_session(&school, s, req).t;
    let note = Note {
        section,
        ok: false,
        text: text(&t),
    };
    render(req, state, s, status, values, Some(note)).await
}

fn csrf_ok(req: &HttpRequest, s: &Session, csrf: &str) -> bool {
    guard::eq(csrf, &s.csrf) && guard::same_origin(req)
}

#[derive(Deserialize)]
pub struct SchoolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    school_name: String,
    #[serde(default)]
    mail_domain: String,
    #[serde(default)]
    default_language: String,
}

async fn save_school(req: HttpRequest, state: Data, form: web::Form<SchoolForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    let values = || Values {
        school: Some((
            f.school_name.clone(),
            f.mail_domain.clone(),
            f.default_language.clone(),
        )),
        ..Default::default()
    };
    if !csrf_ok(&req, &s, &f.csrf) {
        return refuse(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            "school",
            values(),
            |t| t.t("form-expired"),
        )
        .await;
    }
    let default_language = match f.default_language.as_str() {
        "" => None,
        code => match code.parse::<Language>() {
            Ok(l) => Some(l),
            Err(_) => {
                return refuse(
                    &req,
                    &state,
                    &s,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "school",
                    values(),
                    |t| t.t("settings-language-unknown"),
                )
                .await;
            }
        },
    };
    let school = School {
        name: f.school_name.clone(),
        mail_domain: f.mail_domain.clone(),
        default_language,
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    match web::block(move || st.store.set_school(&actor, &school)).await? {
        Ok(_) => Ok(redirect("/admin/settings?saved=school#school")),
        Err(e @ schola_core::Error::Invalid(_)) => {
            let msg = capitalise(&e.to_string());
            refuse(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "school",
                values(),
                |_| msg,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AccountsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login_scheme: String,
    #[serde(default)]
    password_min_length: String,
}

async fn save_accounts(req: HttpRequest, state: Data, form: web::Form<AccountsForm>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let f = form.into_inner();
    let values = || Values {
        accounts: Some((f.login_scheme.clone(), f.password_min_length.clone())),
        ..Default::default()
    };
    let fail = |status, text: Box<dyn FnOnce(&Tr) -> String>| {
        refuse(&req, &state, &s, status, "accounts", values(), text)
    };
    if !csrf_ok(&req, &s, &f.csrf) {
        return fail(StatusCode::FORBIDDEN, Box::new(|t| t.t("form-expired"))).await;
    }
    let min = f.password_min_length.trim();
    let min = if min.is_empty() {
        None
    } else {
        match min.parse::<usize>() {
            Ok(n) if PASSWORD_MIN_LENGTH.contains(&n) => Some(n),
            _ => {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Box::new(|t| {
                        t.targs(
                            "settings-min-length-range",
                            &[
                                ("min", PASSWORD_MIN_LENGTH.start().to_string()),
                                ("max", PASSWORD_MIN_LENGTH.end().to_string()),
                            ],
                        )
                    }),
                )
                .await;
            }
        }
    };
    let scheme = Some(f.login_scheme.trim().to_string()).filter(|s| !s.is_empty());
    let overrides = PolicyOverrides {
        login_scheme: scheme,
        password_min_length: min,
    };
    let st = state.clone();
    let actor = actor_of(&req, &s);
    match web::block(move || st.store.set_policy_overrides(&actor, &overrides)).await? {
        Ok(stored) => {
            if let Err(e) = state.apply_policy(&stored) {
                tracing::error!(error = %format!("{e:#}"), "the new login-name scheme or password policy could not be applied");
            }
            tracing::info!(by = %s.person.login, scheme = ?stored.login_scheme, min_length = ?stored.password_min_length, "account settings changed");
            Ok(redirect("/admin/settings?saved=accounts#accounts"))
        }
        Err(schola_core::Error::Invalid(reason)) => {
            fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                Box::new(move |t| t.t1("settings-scheme-invalid", "reason", &reason)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Why a logo was refused, in the reader's language.
pub(crate) fn logo_problem(t: &Tr, p: LogoProblem) -> String {
    match p {
        LogoProblem::Empty => t.t("settings-logo-missing"),
        LogoProblem::TooBig => t.t1(
            "settings-logo-too-big",
            "max",
            &(MAX_LOGO_BYTES / 1024).to_string(),
        ),
        LogoProblem::NotAnImage => t.t("settings-logo-not-image"),
    }
}

/// Why a certificate and key were refused, in the reader's language.
pub(crate) fn cert_problem(t: &Tr, p: &CertProblem) -> String {
    let kib = (crate::tls::MAX_PEM_BYTES / 1024).to_string();
    match p {
        CertProblem::Missing(Part::Certificate) => t.t("settings-cert-missing"),
        CertProblem::Missing(Part::Key) => t.t("settings-key-missing"),
        CertProblem::TooBig(Part::Certificate) => t.t1("settings-cert-too-big", "max", &kib),
        CertProblem::TooBig(Part::Key) => t.t1("settings-key-too-big", "max", &kib),
        CertProblem::NotPem(Part::Certificate) => t.t("settings-cert-not-pem"),
        CertProblem::NotPem(Part::Key) => t.t("settings-key-not-pem"),
        CertProblem::NoCertificate => t.t("settings-cert-none"),
        CertProblem::NoKey => t.t("settings-key-none"),
        CertProblem::EncryptedKey => t.t("settings-key-encrypted"),
        CertProblem::Unreadable => t.t("settings-cert-unreadable"),
        CertProblem::KeyMismatch => t.t("settings-key-mismatch"),
        CertProblem::UnsupportedKey => t.t("settings-key-unsupported"),
        CertProblem::Expired { not_after } => {
            t.t1("settings-cert-expired", "date", &t.date(*not_after))
        }
        CertProblem::NotYetValid { not_before } => {
            t.t1("settings-cert-not-yet-valid", "date", &t.date(*not_before))
        }
    }
}

/// Why a form with files could not be read.
pub(crate) fn form_problem(t: &Tr, e: FormError) -> (StatusCode, String) {
    match e {
        FormError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            t.t1(
                "settings-upload-too-large",
                "max",
                &(MAX_REQUEST_BYTES / 1024 / 1024).to_string(),
            ),
        ),
        FormError::Malformed => (StatusCode::BAD_REQUEST, t.t("settings-upload-malformed")),
    }
}

/// The uploaded logo file, checked.
pub(crate) fn checked_logo(file: Option<upload::File>) -> Result<Logo, LogoProblem> {
    match file {
        None => Err(LogoProblem::Empty),
        Some(f) if f.too_big => Err(LogoProblem::TooBig),
        Some(f) => Logo::check(f.data),
    }
}

/// The uploaded certificate and key files, checked at `now`.
pub(crate) fn checked_pair(
    cert: Option<upload::File>,
    key: Option<upload::File>,
    now: i64,
) -> Result<CheckedPair, CertProblem> {
    let data = |f: Option<upload::File>, part| match f {
        None => Err(CertProblem::Missing(part)),
        Some(f) if f.too_big => Err(CertProblem::TooBig(part)),
        Some(f) => Ok(f.data),
    };
    let cert = data(cert, Part::Certificate)?;
    let key = data(key, Part::Key)?;
    crate::tls::check_pair(&cert, &key, now)
}

/// Stores the logo (or removes it), shows it from the next page on, and records who did it.
pub(crate) async fn apply_logo(
    state: &Data,
    actor: Actor,
    logo: Option<Logo>,
) -> anyhow::Result<()> {
    let st = state.clone();
    let l = logo.clone();
    web::block(move || -> anyhow::Result<()> {
        logo::store(&st.cfg.paths.state_dir, l.as_ref())?;
        let detail = match &l {
            Some(l) => {
                json!({"type": l.kind.content_type(), "bytes": l.bytes.len(), "sha256": l.hash})
            }
            None => json!({"removed": true}),
        };
        st.store
            .record_event(&actor, "settings.logo", None, detail)?;
        Ok(())
    })
    .await??;
    state.set_logo(logo);
    Ok(())
}

/// Stores a checked certificate and key, serves them to new connections, and records who did it.
pub(crate) async fn apply_certificate(
    state: &Data,
    actor: Actor,
    pair: CheckedPair,
) -> anyhow::Result<()> {
    let st = state.clone();
    web::block(move || -> anyhow::Result<()> {
        crate::tls::install(&st.cfg, &pair, st.tls.as_deref())?;
        st.store.record_event(
            &actor,
            "settings.certificate",
            Some(&pair.info.subject),
            json!({"sha256": pair.info.fingerprint, "names": pair.info.names, "not_after": pair.info.not_after}),
        )?;
        tracing::info!(fingerprint = %pair.info.fingerprint, names = ?pair.info.names, "a new TLS certificate is served");
        Ok(())
    })
    .await??;
    Ok(())
}

async fn save_logo(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let mut fields = match upload::read(&req, payload, FILE_LIMITS).await {
        Ok(f) => f,
        Err(e) => {
            return refuse_form(&req, &state, &s, "logo", e).await;
        }
    };
    if !csrf_ok(&req, &s, &fields.text("csrf")) {
        return refuse(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            "logo",
            Values::default(),
            |t| t.t("form-expired"),
        )
        .await;
    }
    let logo = match checked_logo(fields.file("logo")) {
        Ok(l) => l,
        Err(p) => {
            return refuse(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "logo",
                Values::default(),
                |t| logo_problem(t, p),
            )
            .await;
        }
    };
    if let Err(e) = apply_logo(&state, actor_of(&req, &s), Some(logo)).await {
        return write_failed(&req, &state, &s, "logo", e).await;
    }
    Ok(redirect("/admin/settings?saved=logo#logo"))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn remove_logo(req: HttpRequest, state: Data, form: web::Form<CsrfOnly>) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    if !csrf_ok(&req, &s, &form.csrf) {
        return refuse(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            "logo",
            Values::default(),
            |t| t.t("form-expired"),
        )
        .await;
    }
    if let Err(e) = apply_logo(&state, actor_of(&req, &s), None).await {
        return write_failed(&req, &state, &s, "logo", e).await;
    }
    Ok(redirect("/admin/settings?saved=logo-removed#logo"))
}

async fn save_certificate(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let s = match gate(&req, &state, Need::Admin).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let mut fields = match upload::read(&req, payload, FILE_LIMITS).await {
        Ok(f) => f,
        Err(e) => return refuse_form(&req, &state, &s, "certificate", e).await,
    };
    if !csrf_ok(&req, &s, &fields.text("csrf")) {
        return refuse(
            &req,
            &state,
            &s,
            StatusCode::FORBIDDEN,
            "certificate",
            Values::default(),
            |t| t.t("form-expired"),
        )
        .await;
    }
    let (_, _, configured) = crate::tls::pair_paths(&state.cfg);
    if configured {
        return refuse(
            &req,
            &state,
            &s,
            StatusCode::CONFLICT,
            "certificate",
            Values::default(),
            |t| t.t("settings-cert-in-config"),
        )
        .await;
    }
    let now = state.store.now();
    let pair = match checked_pair(fields.file("certificate"), fields.file("key"), now) {
        Ok(p) => p,
        Err(p) => {
            return refuse(
                &req,
                &state,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "certificate",
                Values::default(),
                |t| cert_problem(t, &p),
            )
            .await;
        }
    };
    if let Err(e) = apply_certificate(&state, actor_of(&req, &s), pair).await {
        return write_failed(&req, &state, &s, "certificate", e).await;
    }
    Ok(redirect("/admin/settings?saved=certificate#certificate"))
}

async fn refuse_form(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    section: &'static str,
    e: FormError,
) -> PageResult {
    let school = crate::pages::school(state).await?;
    let t = Layout::for_session(&school, s, req).t;
    let (status, text) = form_problem(&t, e);
    let mut resp = refuse(req, state, s, status, section, Values::default(), |_| text).await?;
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // the rest of the upload was not read: the browser must not reuse this connection
        resp.head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(resp)
}

/// A file could not be written: the server's fault, said as such; the details go to the log.
async fn write_failed(
    req: &HttpRequest,
    state: &Data,
    s: &Session,
    section: &'static str,
    e: anyhow::Error,
) -> PageResult {
    tracing::error!(error = %format!("{e:#}"), section, "a setting could not be saved");
    refuse(
        req,
        state,
        s,
        StatusCode::INTERNAL_SERVER_ERROR,
        section,
        Values::default(),
        |t| t.t("settings-write-failed"),
    )
    .await
}
