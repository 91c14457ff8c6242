//! What a browser does against Schola, one step at a time: fetch the sign-in form (CSRF cookie
//! and field), post it with the same-origin `Origin`, and load the start page with the session
//! cookie. Each step turns any answer but the expected one into a [`Failure`]; a 503 from the
//! waiting room keeps its `Retry-After` so that the caller can wait and try again.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{HeaderMap, header};

use crate::client::{Connection, Response, Stage, Target, TransportError};

pub const CSRF_COOKIE: &str = "__Host-schola_csrf";
pub const SESSION_COOKIE: &str = "__Host-schola_session";

/// The pre-sign-in CSRF token, both as the cookie and as the form field the page carries.
#[derive(Debug, Clone)]
pub struct LoginForm {
    pub cookie: String,
    pub field: String,
}

/// Why one step failed: `cause` is what failures are counted by.
#[derive(Debug)]
pub struct Failure {
    pub cause: String,
    pub detail: String,
    /// Set for a 503 that carries a usable `Retry-After`: the waiting room, not an error.
    pub retry_after: Option<Duration>,
}

impl Failure {
    pub fn status(step: &str, resp: &Response) -> Failure {
        let retry = resp
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!(", Retry-After: {v}"))
            .unwrap_or_default();
        let (cause, retry_after) = if resp.status.as_u16() == 503 {
            match retry_after(&resp.headers) {
                Some(d) => (format!("{step} -> 503"), Some(d)),
                None => (format!("{step} -> 503 without a usable Retry-After"), None),
            }
        } else {
            (format!("{step} -> {}", resp.status.as_u16()), None)
        };
        Failure {
            cause,
            detail: format!("{step} answered {}{retry}", resp.status),
            retry_after,
        }
    }

    pub fn protocol(cause: &str, detail: String) -> Failure {
        Failure {
            cause: cause.into(),
            detail,
            retry_after: None,
        }
    }

    pub fn transport(step: &str, e: anyhow::Error) -> Failure {
        let cause = match e.downcast_ref::<TransportError>().map(|t| t.stage) {
            Some(Stage::Connect) => "connect".to_string(),
            Some(Stage::Tls) => "TLS handshake".to_string(),
            Some(Stage::Http) => format!("{step}: connection"),
            None => format!("{step}: error"),
        };
        Failure {
            cause,
            detail: format!("{e:#}"),
            retry_after: None,
        }
    }

    pub fn timeout(step: &str, after: Duration) -> Failure {
        Failure {
            cause: format!("{step}: timeout"),
            detail: format!("no answer within {} s", after.as_secs()),
            retry_after: None,
        }
    }
}

/// `Retry-After` in seconds (the form the waiting room sends; an HTTP date is not expected).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().map(Duration::from_secs)
}

fn request(
    builder: hyper::http::request::Builder,
    body: Bytes,
) -> Result<hyper::Request<Full<Bytes>>, Failure> {
    builder
        .body(Full::new(body))
        .map_err(|e| Failure::protocol("request", e.to_string()))
}

/// `GET /login`: the form's CSRF token (cookie and hidden field).
pub async fn login_form(conn: &mut Connection) -> Result<LoginForm, Failure> {
    let req = request(
        conn.request("GET", "/login")
            .header(header::ACCEPT, "text/html"),
        Bytes::new(),
    )?;
    let page = conn
        .send(req)
        .await
        .map_err(|e| Failure::transport("GET /login", e))?;
    if page.status.as_u16() != 200 {
        return Err(Failure::status("GET /login", &page));
    }
    let cookie = page.set_cookie(CSRF_COOKIE).ok_or_else(|| {
        Failure::protocol(
            "GET /login: no CSRF cookie",
            format!("no Set-Cookie {CSRF_COOKIE}"),
        )
    })?;
    let field = csrf_field(&String::from_utf8_lossy(&page.body)).ok_or_else(|| {
        Failure::protocol(
            "GET /login: no CSRF field",
            "no <input name=\"csrf\" value=\"...\"> in the page".into(),
        )
    })?;
    Ok(LoginForm { cookie, field })
}

/// `POST /login` with the form's token and the same-origin `Origin`: the session cookie of the
/// `303` answer.
pub async fn post_login(
    conn: &mut Connection,
    target: &Target,
    form: &LoginForm,
    login: &str,
    password: &str,
) -> Result<String, Failure> {
    let body = form_urlencode(&[
        ("csrf", &form.field),
        ("login", login),
        ("password", password),
    ]);
    let req = request(
        conn.request("POST", "/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("{CSRF_COOKIE}={}", form.cookie))
            .header(header::ORIGIN, &target.origin)
            .header(header::ACCEPT, "text/html"),
        Bytes::from(body),
    )?;
    let resp = conn
        .send(req)
        .await
        .map_err(|e| Failure::transport("POST /login", e))?;
    if resp.status.as_u16() != 303 {
        return Err(Failure::status("POST /login", &resp));
    }
    match resp.set_cookie(SESSION_COOKIE) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Failure::protocol(
            "POST /login -> 303 without session",
            format!("303 without Set-Cookie {SESSION_COOKIE}"),
        )),
    }
}

/// `GET /` with the session cookie: the signed-in start page (200 with the welcome), not a
/// redirect to the sign-in page.
pub async fn start_page(conn: &mut Connection, session: &str) -> Result<(), Failure> {
    let req = request(
        conn.request("GET", "/")
            .header(header::COOKIE, format!("{SESSION_COOKIE}={session}"))
            .header(header::ACCEPT, "text/html"),
        Bytes::new(),
    )?;
    let page = conn
        .send(req)
        .await
        .map_err(|e| Failure::transport("GET /", e))?;
    if page.status.as_u16() != 200 {
        return Err(Failure::status("GET /", &page));
    }
    // the sign-out form is on every page of a signed-in person, in every language
    const SIGNED_IN: &[u8] = br#"action="/logout""#;
    if !page.body.windows(SIGNED_IN.len()).any(|w| w == SIGNED_IN) {
        return Err(Failure::protocol(
            "GET /: not the start page",
            "200 without the sign-out form in the page".into(),
        ));
    }
    Ok(())
}

/// The value of the form field `name="csrf"` in an HTML page, whatever the attribute order.
pub fn csrf_field(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find("<input") {
        let tag_and_more = &rest[at..];
        let end = tag_and_more.find('>')?;
        let tag = &tag_and_more[..end];
        if attr(tag, "name").as_deref() == Some("csrf") {
            return attr(tag, "value");
        }
        rest = &tag_and_more[end..];
    }
    None
}

/// A quoted attribute's value in one tag, with the usual entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            let end = after
                .find(|c: char| c.is_whitespace() || c == '/')
                .unwrap_or(after.len());
            return Some(unescape(&after[..end]));
        }
        let value = &after[1..];
        let end = value.find(quote)?;
        return Some(unescape(&value[..end]));
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `application/x-www-form-urlencoded`, as browsers send it.
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_csrf_field_in_any_attribute_order() {
        let html = r#"<form method="post"><input type="text" name="login" value="x">
            <input type="hidden" name="csrf" value="abc-123_&amp;"><input name="password"></form>"#;
        assert_eq!(csrf_field(html).as_deref(), Some("abc-123_&"));
        let html = r#"<input value='tok' type=hidden name=csrf>"#;
        assert_eq!(csrf_field(html).as_deref(), Some("tok"));
        let html = r#"<input type="hidden" data-name="csrf" name="xcsrf" value="no">"#;
        assert_eq!(csrf_field(html), None);
        assert_eq!(csrf_field("<p>nothing</p>"), None);
    }

    #[test]
    fn encodes_forms_like_a_browser() {
        assert_eq!(
            form_urlencode(&[
                ("csrf", "a+b/c="),
                ("login", "anna.mueller"),
                ("password", "Grün & 7")
            ]),
            "csrf=a%2Bb%2Fc%3D&login=anna.mueller&password=Gr%C3%BCn+%26+7"
        );
    }

    #[test]
    fn reads_retry_after_in_seconds() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::RETRY_AFTER, v.parse().unwrap());
            retry_after(&h)
        };
        assert_eq!(with("4"), Some(Duration::from_secs(4)));
        assert_eq!(with(" 6 "), Some(Duration::from_secs(6)));
        assert_eq!(with("0"), Some(Duration::ZERO));
        assert_eq!(with("-1"), None);
        assert_eq!(with("2.5"), None);
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
