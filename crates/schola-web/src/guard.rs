//! Request-level security: session cookies, CSRF tokens, the client's address, and the one
//! place that decides who may see which page ([`require`]).

use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, web};
use schola_core::directory::Role;
use schola_core::session::Session;
use subtle::ConstantTimeEq as _;

use crate::state::AppState;

/// The `__Host-` prefix makes the browser insist on Secure, Path=/ and no Domain, so no other
/// host can plant or read these cookies.
pub const SESSION_COOKIE: &str = "__Host-schola_session";
/// The CSRF token for forms shown before sign-in (login, setup), as a double-submit cookie.
pub const CSRF_COOKIE: &str = "__Host-schola_csrf";

pub fn session_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .finish()
}

pub fn expired_session_cookie() -> Cookie<'static> {
    let mut c = session_cookie("");
    c.make_removal();
    c
}

pub fn csrf_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token.to_string())
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .finish()
}

pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

pub fn eq(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A form post is accepted only from our own pages: if the browser names an origin, it must be
/// this host.
pub fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    let host = req.connection_info().host().to_string();
    origin
        .strip_prefix("https://")
        .is_some_and(|o| o.eq_ignore_ascii_case(&host))
}

/// The token for a pre-sign-in form: the one in the browser's cookie, or a new one.
pub fn login_csrf(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() >= 32 => (c.value().to_string(), false),
        _ => (schola_core::token::random_token(32), true),
    }
}

/// The signed-in person's live session, if any.
pub async fn session(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Result<Option<Session>, schola_core::Error> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    if token.is_empty() {
        return Ok(None);
    }
    let st = state.clone();
    web::block(move || st.store.session(&token, st.sessions))
        .await
        .map_err(|e| schola_core::Error::Invalid(format!("internal error: {e}")))?
}

/// Who may open a page. Every handler states what it needs through this one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    SignedIn,
    Admin,
}

pub enum Access {
    Allowed(Session),
    SignInFirst,
    Forbidden(Session),
}

pub fn require(session: Option<Session>, need: Need) -> Access {
    match (session, need) {
        (None, _) => Access::SignInFirst,
        (Some(s), Need::SignedIn) => Access::Allowed(s),
        (Some(s), Need::Admin) if s.person.role == Role::Admin => Access::Allowed(s),
        (Some(s), Need::Admin) => Access::Forbidden(s),
    }
}
