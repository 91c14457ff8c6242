//! The file shares, as schola-web serves them: who is asking is decided here, what they may do
//! with which file is decided by schola-files (its `policy.rs`), which gets every request over
//! its Unix socket ([`crate::files_proxy`]).
//!
//! - `/dav`, `/dav/...`: WebDAV for mounted drives, all methods, HTTP Basic only (no cookie is
//!   looked at, so a page of another site cannot make a browser act on the files). A password is
//!   checked against the credential cache first (a mounted drive sends it with every request);
//!   only a miss goes through the sign-in back-off and an argon2 verify on the password pool.
//! - `/files/api/...`: the portal's file browser (`static/files.js`), forwarded to
//!   schola-files' `/api/...` as the person of the session cookie; every request that is not a
//!   GET or HEAD needs the session's CSRF token in `X-CSRF-Token` and no foreign `Origin`.
//! - `/files`: the page itself.
//! - `OPTIONS /` answers with the DAV headers, so Windows' WebDAV redirector, which probes the
//!   server's root before the mapped folder, goes on to `/dav`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine as _;
use prometheus_client::metrics::counter::Counter;
use schola_core::directory::Role;
use schola_core::throttle::{self, Gate};

use crate::files_proxy::{Flavour, ProxyError, error_response};
use crate::guard::{self, Need};
use crate::pages::{Layout, PageResult, gate, html};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub const REALM: &str = "Basic realm=\"Schola\", charset=\"UTF-8\"";

/// What the WebDAV sign-ins cost, for the metrics (and the tests): a mounted drive should show
/// many cache hits and few verifies.
#[derive(Debug, Default)]
pub struct DavAuthCounters {
    /// Requests let in by the credential cache, without a hash.
    pub cache_hits: Counter,
    /// argon2 verifies run for WebDAV (right or wrong password).
    pub verifies: Counter,
    /// Wrong passwords, unknown logins, disabled people.
    pub failures: Counter,
    /// Refused by the back-off before any verify.
    pub deferred: Counter,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dav", web::route().to(dav))
        .route("/dav/{tail:.*}", web::route().to(dav))
        .route("/files", web::get().to(files_page))
        .route("/files/api/{tail:.*}", web::route().to(api))
        .route("/", web::method(Method::OPTIONS).to(root_options));
}

/// `OPTIONS /`: what a WebDAV client probing the server's root needs to go on.
async fn root_options() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("DAV", "1, 2"))
        .insert_header(("MS-Author-Via", "DAV"))
        .insert_header((header::ALLOW, "OPTIONS, GET, HEAD"))
        .finish()
}

fn unauthorized() -> HttpResponse {
    let mut r = error_response(
        StatusCode::UNAUTHORIZED,
        "Sign in with your school login and password.",
        Flavour::Text,
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    r
}

/// `Authorization: Basic base64(login:password)`, if present and well-formed.
pub fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.trim().to_lowercase(), password.to_string()))
}

/// The outcome of a Basic sign-in.
enum Basic {
    Person(i64),
    Refused,
    Wait(i64),
}

async fn basic_signin(req: &HttpRequest, state: &Data) -> Result<Basic, crate::pages::PageError> {
    let Some((login, password)) = basic_credentials(req) else {
        return Ok(Basic::Refused);
    };
    if login.is_empty() || password.chars().count() > schola_core::password::MAX_PASSWORD_CHARS {
        return Ok(Basic::Refused);
    }
    let ip = guard::client_ip(req);
    let addr = throttle::address_key(ip);
    let st = state.clone();
    let l = login.clone();
    let creds = web::block(move || st.store.credentials(&l)).await??;
    let counters = &state.dav_auth;
    // the cache first: a hit costs no hash, and is bound to the stored hash (a new password
    // misses) and to an active person (a disabled one is refused here, cached or not)
    if let Some((p, Some(hash))) = &creds
        && p.is_active()
        && state
            .credcache
            .check(&login, &password, p.id, hash, state.store.now())
    {
        counters.cache_hits.inc();
        return Ok(Basic::Person(p.id));
    }
    let st = state.clone();
    let (l, a) = (login.clone(), addr.clone());
    if let Gate::Wait(secs) = web::block(move || st.store.signin_gate(&l, &a)).await?? {
        counters.deferred.inc();
        tracing::info!(login = %login, client = %addr, wait = secs, "WebDAV sign-in deferred by back-off");
        return Ok(Basic::Wait(secs));
    }
    let (person, hash) = match creds {
        Some((p, h)) if p.is_active() => (Some(p), h),
        _ => (None, None),
    };
    counters.verifies.inc();
    let mut ok = state.pool.verify(hash.clone(), password.clone()).await?;
    if !ok && let Some(p) = &person {
        ok = crate::pages::upstream_signin(state, p.id, hash.is_some(), password.clone()).await?;
    }
    let st = state.clone();
    match person {
        Some(p) if ok => {
            let (l, a) = (login.clone(), addr);
            // the hash now stored (an upstream sign-in may just have stored one)
            let stored = web::block(move || -> schola_core::Result<_> {
                st.store.record_signin_success(&l, &a)?;
                Ok(st.store.credentials(&l)?.and_then(|(_, h)| h))
            })
            .await??;
            if let Some(h) = stored {
                state
                    .credcache
                    .remember(&login, &password, p.id, &h, state.store.now());
            }
            tracing::info!(login = %login, client = ?ip, "WebDAV sign-in");
            Ok(Basic::Person(p.id))
        }
        _ => {
            counters.failures.inc();
            let l = login.clone();
            web::block(move || st.store.record_signin_failure(&l, &addr)).await??;
            tracing::info!(login = %login, client = ?ip, "WebDAV sign-in failed");
            Ok(Basic::Refused)
        }
    }
}

/// The path and query of the request, with `from` (a prefix of the path) replaced by `to`.
fn upstream_uri(req: &HttpRequest, from: &str, to: &str) -> String {
    let uri = req.uri();
    let path = uri.path();
    let rest = path.strip_prefix(from).unwrap_or(path);
    match uri.query() {
        Some(q) => format!("{to}{rest}?{q}"),
        None => format!("{to}{rest}"),
    }
}

async fn dav(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let person = match basic_signin(&req, &state).await? {
        Basic::Person(id) => id,
        Basic::Refused => return Ok(unauthorized()),
        Basic::Wait(secs) => {
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many wrong passwords for this login. Please wait {secs} seconds."),
                Flavour::Text,
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
    };
    let uri = upstream_uri(&req, "", "");
    Ok(
        match state.files.forward(&req, payload, &uri, person).await {
            Ok(r) => r,
            Err(e) => e.response(Flavour::Text),
        },
    )
}

/// True for requests that change something (they need the CSRF token).
fn changes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn api(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let Some(s) = guard::session(&req, &state).await? else {
        return Ok(error_response(
            StatusCode::UNAUTHORIZED,
            "You are not signed in (any more). Please sign in again.",
            Flavour::Json,
        ));
    };
    if changes(req.method()) {
        let token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !guard::eq(token, &s.csrf) || !guard::same_origin(&req) {
            tracing::info!(login = %s.person.login, path = req.path(), "file request refused: CSRF token or origin");
            return Ok(error_response(
                StatusCode::FORBIDDEN,
                "This request did not come from the school's own page. Please reload the page.",
                Flavour::Json,
            ));
        }
    }
    let uri = upstream_uri(&req, "/files/api", "/api");
    Ok(
        match state.files.forward(&req, payload, &uri, s.person.id).await {
            Ok(r) => r,
            Err(e) => e.response(Flavour::Json),
        },
    )
}

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    layout: Layout,
    is_teacher: bool,
    /// The groups a teacher may hand out to: (name, display name).
    groups: Vec<(String, String)>,
    /// The strings files.js shows, as `data-t-<key>` (placeholders as `{name}`).
    texts: Vec<(&'static str, String)>,
    mount_url: String,
    /// A backup is set up: the page links to "restore my files".
    restore: bool,
}

/// What files.js says, translated here: (key without `files-`, text).
fn script_texts(t: &crate::i18n::Tr) -> Vec<(&'static str, String)> {
    let plain = [
        "loading",
        "empty",
        "folder",
        "download",
        "rename",
        "rename-prompt",
        "copy",
        "copy-prompt",
        "delete",
        "deleted",
        "trash-empty",
        "restore",
        "down",
        "upload-resume",
        "root",
        "handout-done",
        "handout-none",
        "collect",
    ];
    let mut out: Vec<(&'static str, String)> = plain
        .iter()
        .map(|k| (*k, t.t(&format!("files-{k}"))))
        .collect();
    let with = |key: &'static str, args: &[&'static str]| {
        let values: Vec<(&'static str, String)> =
            args.iter().map(|a| (*a, format!("{{{a}}}"))).collect();
        (key, t.targs(&format!("files-{key}"), &values))
    };
    out.extend([
        with("delete-confirm", &["name"]),
        with("restored", &["path"]),
        with("error", &["error"]),
        with("upload-progress", &["name", "percent"]),
        with("upload-done", &["name"]),
        with("upload-failed", &["name", "error"]),
        with("usage", &["used", "limit"]),
        with("collected", &["path", "late"]),
    ]);
    out
}

async fn files_page(req: HttpRequest, state: Data) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let is_teacher = matches!(s.person.role, Role::Teacher | Role::Staff | Role::Admin);
    let st = state.clone();
    let pid = s.person.id;
    let (school, groups) = web::block(move || -> schola_core::Result<_> {
        Ok((st.store.school()?, st.store.groups_of(pid)?))
    })
    .await??;
    let groups = groups
        .into_iter()
        .filter(|(g, _)| is_teacher && g.kind != schola_core::directory::GroupKind::Staff)
        .map(|(g, _)| (g.name.clone(), g.display_name.clone()))
        .collect();
    let layout = Layout::for_session(&school, &s, &req);
    let mount_url = format!("https://{}/dav/", req.connection_info().host());
    let page = FilesPage {
        texts: script_texts(&layout.t),
        layout,
        is_teacher,
        groups,
        mount_url,
        restore: crate::backup::is_configured(&state).await?,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

/// One person's usage and limit in bytes, as schola-files counts them.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Usage {
    pub used: u64,
    pub limit: u64,
}

/// The usage of `login`'s home for the admin's person page, asked of schola-files on behalf of
/// the admin `admin_id`. `Err` holds a sentence saying why it is not known (for example, the
/// file service is not running); the page shows it instead of failing.
pub async fn usage_of(state: &Data, admin_id: i64, login: &str) -> Result<Option<Usage>, String> {
    let uri = format!(
        "/api/usage/people?logins={}",
        crate::pages::urlencode(login)
    );
    let body = state
        .files
        .get_json(&uri, admin_id)
        .await
        .map_err(|e| match e {
            ProxyError::Down { .. } => "The file service is not running.".to_string(),
            other => other.to_string(),
        })?;
    let map: std::collections::HashMap<String, Usage> =
        serde_json::from_slice(&body).map_err(|e| format!("the file service answered: {e}"))?;
    Ok(map.get(login).copied())
}

/// The sentence the admin's person page shows about `login`'s files: usage of limit, or why
/// it is not known. Asks schola-files for at most 5 s; the page never fails because of it.
pub async fn usage_text(state: &Data, t: &crate::i18n::Tr, admin_id: i64, login: &str) -> String {
    let asked = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        usage_of(state, admin_id, login),
    )
    .await
    .unwrap_or_else(|_| Err("no answer within 5 s".into()));
    match asked {
        Ok(Some(u)) => t.targs(
            "files-person-usage-text",
            &[
                ("used", human_bytes(t, u.used)),
                ("limit", human_bytes(t, u.limit)),
            ],
        ),
        Ok(None) => t.t("files-person-usage-none"),
        Err(e) => t.t1("files-person-usage-down", "error", &e),
    }
}

/// 1572864 -> "1.5 MiB" (binary units, one decimal where it matters, the language's comma).
pub fn human_bytes(t: &crate::i18n::Tr, n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let text = if unit == 0 {
        n.to_string()
    } else {
        let one = format!("{v:.1}");
        one.strip_suffix(".0").map(str::to_string).unwrap_or(one)
    };
    let text = match t.lang {
        schola_core::directory::Language::En => text,
        _ => text.replace('.', ","),
    };
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_parsed() {
        let enc = base64::engine::general_purpose::STANDARD.encode("Joerg.Mueller:pa:ss wörd");
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Basic {enc}")))
            .to_http_request();
        assert_eq!(
            basic_credentials(&req),
            Some(("joerg.mueller".into(), "pa:ss wörd".into()))
        );
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer abc"))
            .to_http_request();
        assert_eq!(basic_credentials(&req), None);
        assert!(changes(&Method::POST) && changes(&Method::from_bytes(b"PROPFIND").unwrap()));
        assert!(!changes(&Method::GET));
    }

    #[test]
    fn sizes_are_written_in_binary_units() {
        use schola_core::directory::Language;
        let en = crate::i18n::Tr::new(Language::En);
        assert_eq!(human_bytes(&en, 0), "0 B");
        assert_eq!(human_bytes(&en, 1_572_864), "1.5 MiB");
        assert_eq!(human_bytes(&en, 1 << 30), "1 GiB");
        assert_eq!(human_bytes(&en, 1023), "1023 B");
        assert_eq!(
            human_bytes(&crate::i18n::Tr::new(Language::De), 1_572_864),
            "1,5 MiB"
        );
    }
}
