//! Mail-client autoconfiguration: a teacher types an address and a password into Thunderbird or
//! Outlook, and the client learns the IMAP and SMTP servers from here. Thunderbird asks for a
//! clientConfig v1.1 file (`/.well-known/autoconfig/mail/config-v1.1.xml`, and
//! `/mail/config-v1.1.xml` on `autoconfig.<domain>`); Outlook posts its address to
//! `/autodiscover/autodiscover.xml` and gets the POX "outlook" response.
//!
//! Both are public, read-only lookups (no sign-in, no CSRF) that pass through the waiting room
//! like every page. They name no person and do not say whether an address exists: the answer for
//! any address in the school's mail domain is the same. The mail server's name is the `Host` the
//! client asked (the name it already reached this server by), checked to be a DNS name or an IP
//! literal; every value goes into the XML through [`Xml`], which escapes it.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use actix_web::http::header::{self, ContentType};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;

use crate::pages::PageError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// The largest autodiscover request read. Outlook's is about 350 bytes.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

const XML: &str = "application/xml; charset=utf-8";
/// Clients ask once, when an account is set up; an hour keeps a changed mail domain from
/// lingering in caches for long.
const CACHE_CONFIG: &str = "public, max-age=3600";
/// Answers that echo an address, and refusals, are not kept.
const CACHE_NONE: &str = "no-store";

const AUTODISCOVER_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        web::get().to(thunderbird),
    )
    .route("/mail/config-v1.1.xml", web::get().to(thunderbird));
    for path in [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
    ] {
        cfg.route(path, web::post().to(autodiscover))
            .route(path, web::get().to(autodiscover));
    }
}

/// Where the mail server is and how to reach it: the same for every address of the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServers {
    /// The school's mail domain, lower case.
    pub domain: String,
    /// Further domains mail is accepted for (`[mail] extra_domains`), lower case.
    pub other_domains: Vec<String>,
    pub school_name: String,
    /// The host name (or IP address) clients connect to for IMAP and SMTP.
    pub host: String,
}

/// The host part of a `Host` header, lower case and without its port, if it is a DNS name or an
/// IP literal (an IPv6 one without its brackets). Anything else is `None`: it is no name a mail
/// client could connect to, so it is not repeated back.
pub fn host_name(header: &str) -> Option<String> {
    let (host, port) = if let Some(rest) = header.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = inside.parse().ok()?;
        return port_ok(after.strip_prefix(':'), after.is_empty()).then(|| ip.to_string());
    } else {
        match header.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (header, None),
        }
    };
    if !port_ok(port, port.is_none()) {
        return None;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(ip.to_string());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    (!name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok))
        .then(|| name.to_ascii_lowercase())
}

/// `port` (the text after a `:`) is 1 to 5 digits, or absent where absence is allowed.
fn port_ok(port: Option<&str>, absent_ok: bool) -> bool {
    match port {
        Some(p) => (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
        None => absent_ok,
    }
}

/// The name mail clients should connect to: the `Host` the request came with, or (for an
/// HTTP/1.0 request without one) this machine's host name. `None` when the header is there but
/// is no host name, or when neither gives one.
fn server_host(req: &HttpRequest) -> Option<String> {
    match req.headers().get(header::HOST) {
        Some(v) => v.to_str().ok().and_then(host_name),
        None => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .and_then(|h| host_name(h.trim())),
    }
}

/// What both endpoints need: the host, the school's name and its mail domain. `Err` is the
/// refusal to send (a bad `Host`, or a school without a mail domain yet).
async fn servers(
    req: &HttpRequest,
    state: &Data,
) -> Result<Result<MailServers, Refusal>, PageError> {
    let Some(host) = server_host(req) else {
        return Ok(Err(Refusal::BadHost));
    };
    let school = crate::pages::school(state).await?;
    if school.mail_domain.is_empty() {
        return Ok(Err(Refusal::NoMailDomain));
    }
    Ok(Ok(MailServers {
        domain: school.mail_domain.to_ascii_lowercase(),
        other_domains: state.cfg.mail.extra_domains.clone(),
        school_name: school.name,
        host,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    BadHost,
    NoMailDomain,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::BadHost => StatusCode::BAD_REQUEST,
            Refusal::NoMailDomain => StatusCode::NOT_FOUND,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Refusal::BadHost => "the Host header is not a host name",
            Refusal::NoMailDomain => "this school has no mail domain yet",
        }
    }
}

fn xml_response(status: StatusCode, cache: &str, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, XML))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

// ---------------------------------------------------------------------------------------------
// Thunderbird

/// `GET /.well-known/autoconfig/mail/config-v1.1.xml` and `GET /mail/config-v1.1.xml`.
/// Thunderbird's `?emailaddress=` is not needed: the username is `%EMAILADDRESS%`, which the
/// client fills in, so the answer is the same for everyone and may be cached.
async fn thunderbird(req: HttpRequest, state: Data) -> Result<HttpResponse, PageError> {
    Ok(match servers(&req, &state).await? {
        Ok(s) => xml_response(StatusCode::OK, CACHE_CONFIG, client_config(&s)),
        Err(r) => HttpResponse::build(r.status())
            .content_type(ContentType::plaintext())
            .insert_header((header::CACHE_CONTROL, CACHE_NONE))
            .body(r.text()),
    })
}

/// The clientConfig v1.1 document: IMAP on 993 (TLS) then 143 (STARTTLS), SMTP submission on
/// 587 (STARTTLS) then 465 (TLS); the client tries them in this order.
pub fn client_config(s: &MailServers) -> String {
    let mut x = Xml::new();
    x.open("clientConfig", &[("version", "1.1")]);
    x.open("emailProvider", &[("id", &s.domain)]);
    x.leaf("domain", &s.domain);
    for d in &s.other_domains {
        x.leaf("domain", d);
    }
    x.leaf("displayName", &s.school_name);
    x.leaf("displayShortName", &s.school_name);
    for (kind, port, socket) in [
        ("incomingServer", "993", "SSL"),
        ("incomingServer", "143", "STARTTLS"),
        ("outgoingServer", "587", "STARTTLS"),
        ("outgoingServer", "465", "SSL"),
    ] {
        let protocol = if kind == "incomingServer" {
            "imap"
        } else {
            "smtp"
        };
        x.open(kind, &[("type", protocol)]);
        x.leaf("hostname", &s.host);
        x.leaf("port", port);
        x.leaf("socketType", socket);
        x.leaf("authentication", "password-cleartext");
        x.leaf("username", "%EMAILADDRESS%");
        x.close();
    }
    x.close();
    x.close();
    x.finish()
}

// ---------------------------------------------------------------------------------------------
// Outlook

/// Why an autodiscover request gets no settings, with the schema's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutodiscoverError {
    /// Not an autodiscover request (not XML, no address, a DTD, a GET): 600.
    Invalid,
    /// A response schema other than Outlook's, e.g. ActiveSync's: 601.
    SchemaNotOffered,
    /// An address outside the school's mail domain, or no address at all: 500.
    UnknownAddress,
}

impl AutodiscoverError {
    fn code_and_message(&self) -> (&'static str, &'static str) {
        match self {
            AutodiscoverError::Invalid => ("600", "Invalid Request"),
            AutodiscoverError::SchemaNotOffered => ("601", "Provider is not available"),
            AutodiscoverError::UnknownAddress => ("500", "The e-mail address cannot be found."),
        }
    }
}

/// `POST` (and `GET`) `/autodiscover/autodiscover.xml`. A body larger than
/// [`MAX_REQUEST_BYTES`] is answered 413 as soon as that is known and the connection closed
/// (the rest is not read); anything that is not an Outlook request for an address of the school
/// gets 400 and the schema's error response, never a 500.
async fn autodiscover(
    req: HttpRequest,
    state: Data,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let body = match read_bounded(&req, payload, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(status) => {
            tracing::debug!(%status, "autodiscover request refused: body too large or broken");
            let mut resp = xml_response(
                status,
                CACHE_NONE,
                autodiscover_error(&AutodiscoverError::Invalid),
            );
            // the rest of the body was not read, so this connection cannot carry another request
            resp.head_mut().set_connection_type(ConnectionType::Close);
            return Ok(resp);
        }
    };
    let servers = match servers(&req, &state).await? {
        Ok(s) => s,
        Err(Refusal::BadHost) => {
            return Ok(xml_response(
                StatusCode::BAD_REQUEST,
                CACHE_NONE,
                autodiscover_error(&AutodiscoverError::Invalid),
            ));
        }
        Err(Refusal::NoMailDomain) => {
            return Ok(xml_response(
                StatusCode::BAD_REQUEST,
                CACHE_NONE,
                autodiscover_error(&AutodiscoverError::UnknownAddress),
            ));
        }
    };
    let answer = match std::str::from_utf8(&body) {
        Ok(text) => requested_address(text).and_then(|a| {
            school_address(&a, &servers.domain).or_else(|e| {
                servers
                    .other_domains
                    .iter()
                    .find_map(|d| school_address(&a, d).ok())
                    .ok_or(e)
            })
        }),
        Err(_) => Err(AutodiscoverError::Invalid),
    };
    Ok(match answer {
        Ok(address) => xml_response(
            StatusCode::OK,
            CACHE_NONE,
            autodiscover_settings(&servers, &address),
        ),
        Err(e) => {
            // debug, not info: the internet's scanners ask every server for this path
            tracing::debug!(error = ?e, "autodiscover request refused");
            xml_response(StatusCode::BAD_REQUEST, CACHE_NONE, autodiscover_error(&e))
        }
    })
}

/// The request body, at most `limit` bytes. `Err(413)` when it is (or announces to be) longer;
/// `Err(400)` when it broke off.
async fn read_bounded(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, StatusCode> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
        if body.len() + chunk.len() > limit {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The `<EMailAddress>` of an Outlook autodiscover request. The document must be
/// `<Autodiscover><Request>…` (any namespace: clients differ) and have no DTD; a requested
/// response schema other than Outlook's is refused.
pub fn requested_address(body: &str) -> Result<String, AutodiscoverError> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1024,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(body, opts)
        .map_err(|_| AutodiscoverError::Invalid)?;
    let root = doc.root_element();
    if root.tag_name().name() != "Autodiscover" {
        return Err(AutodiscoverError::Invalid);
    }
    let request = root
        .children()
        .find(|n| n.is_element() && n.tag_name().name() == "Request")
        .ok_or(AutodiscoverError::Invalid)?;
    let child_text = |name: &str| {
        request
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().trim().to_string())
    };
    if let Some(schema) = child_text("AcceptableResponseSchema")
        && schema != OUTLOOK_RESPONSE
    {
        return Err(AutodiscoverError::SchemaNotOffered);
    }
    match child_text("EMailAddress") {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(AutodiscoverError::Invalid),
    }
}

/// The address in Schola's spelling (lower case, the characters Schola makes addresses of), if
/// it belongs to `domain`.
pub fn school_address(address: &str, domain: &str) -> Result<String, AutodiscoverError> {
    let clean = schola_core::directory::clean_mail(address)
        .map_err(|_| AutodiscoverError::UnknownAddress)?;
    match clean.rsplit_once('@') {
        Some((_, d)) if d.eq_ignore_ascii_case(domain) => Ok(clean),
        _ => Err(AutodiscoverError::UnknownAddress),
    }
}

/// The POX "outlook" (2006a) response: IMAP on 993 with TLS, SMTP submission on 587 with
/// STARTTLS ("TLS" in Outlook's words), both signing in with the whole address.
pub fn autodiscover_settings(s: &MailServers, address: &str) -> String {
    let mut x = Xml::new();
    x.open("Autodiscover", &[("xmlns", AUTODISCOVER_RESPONSE)]);
    x.open("Response", &[("xmlns", OUTLOOK_RESPONSE)]);
    x.open("Account", &[]);
    x.leaf("AccountType", "email");
    x.leaf("Action", "settings");
    x.open("Protocol", &[]);
    x.leaf("Type", "IMAP");
    x.leaf("Server", &s.host);
    x.leaf("Port", "993");
    x.leaf("DomainRequired", "off");
    x.leaf("LoginName", address);
    x.leaf("SPA", "off");
    x.leaf("SSL", "on");
    x.leaf("AuthRequired", "on");
    x.close();
    x.open("Protocol", &[]);
    x.leaf("Type", "SMTP");
    x.leaf("Server", &s.host);
    x.leaf("Port", "587");
    x.leaf("DomainRequired", "off");
    x.leaf("LoginName", address);
    x.leaf("SPA", "off");
    x.leaf("Encryption", "TLS");
    x.leaf("AuthRequired", "on");
    x.leaf("UsePOPAuth", "on");
    x.leaf("SMTPLast", "off");
    x.close();
    x.close();
    x.close();
    x.close();
    x.finish()
}

/// The schema's error response: `<Response><Error><ErrorCode>…`, nothing about the request.
pub fn autodiscover_error(e: &AutodiscoverError) -> String {
    let (code, message) = e.code_and_message();
    let mut x = Xml::new();
    x.open("Autodiscover", &[("xmlns", AUTODISCOVER_RESPONSE)]);
    x.open("Response", &[]);
    x.open("Error", &[]);
    x.leaf("ErrorCode", code);
    x.leaf("Message", message);
    x.leaf("DebugData", "");
    x.close();
    x.close();
    x.close();
    x.finish()
}

// ---------------------------------------------------------------------------------------------
// Writing XML

/// A small XML writer: every attribute value and text is escaped on the way in, so no caller can
/// forget to. Element names are the callers' constants.
pub struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    pub fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"");
            escape_into(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('>');
    }

    pub fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push('\n');
        self.open.push(name);
    }

    pub fn leaf(&mut self, name: &str, text: &str) {
        self.start(name, &[]);
        escape_into(&mut self.out, text);
        let _ = writeln!(self.out, "</{name}>");
    }

    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.indent();
            let _ = writeln!(self.out, "</{name}>");
        }
    }

    /// The document, with any element still open closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

impl Default for Xml {
    fn default() -> Xml {
        Xml::new()
    }
}

/// Escapes text for an element or a double-quoted attribute. Characters XML 1.0 does not allow
/// at all (most C0 controls) are dropped: no escape makes them legal.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers() -> MailServers {
        MailServers {
            other_domains: vec!["alt.schule.example".into()],
            domain: "see.schule.example".into(),
            school_name: "Schule \"Am See\" <Nord> & Süd's".into(),
            host: "mail.see.schule.example".into(),
        }
    }

    #[test]
    fn host_names_lose_their_port_and_anything_else_is_refused() {
        let ok = [
            ("mail.See.Schule.example:8443", "mail.see.schule.example"),
            ("schola", "schola"),
            ("schola.local.", "schola.local"),
            ("192.168.1.10:443", "192.168.1.10"),
            ("[fd00::1]:8443", "fd00::1"),
            ("[::1]", "::1"),
            ("xn--mnster-3ya.example", "xn--mnster-3ya.example"),
        ];
        for (given, want) in ok {
            assert_eq!(host_name(given).as_deref(), Some(want), "{given}");
        }
        for bad in [
            "",
            ":443",
            "<script>alert(1)</script>",
            "a\"b.example",
            "mail.example:",
            "mail.example:99999x",
            "mail..example",
            "-mail.example",
            "mail_1.example",
            "mail.example:443:443",
            "[fd00::1",
            "[not-an-ip]:443",
            "[::1]443",
            "münster.example",
            "a b.example",
            &"a".repeat(64),
        ] {
            assert_eq!(host_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut x = Xml::new();
        x.open("a", &[("v", "\"<&>'")]);
        x.leaf("b", "<script>&amp;\u{1}\tx");
        let out = x.finish();
        assert!(
            out.contains(r#"<a v="&quot;&lt;&amp;&gt;&apos;">"#),
            "{out}"
        );
        assert!(out.contains("<b>&lt;script&gt;&amp;amp;&#9;x</b>"), "{out}");
    }

    #[test]
    fn both_documents_are_well_formed_with_awkward_names() {
        let s = servers();
        let tb = client_config(&s);
        let doc = roxmltree::Document::parse(&tb).unwrap();
        let name = doc
            .descendants()
            .find(|n| n.has_tag_name("displayName"))
            .and_then(|n| n.text());
        assert_eq!(name, Some(s.school_name.as_str()));
        // every domain the school's mail server takes is offered
        let domains: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("domain"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(domains, vec![s.domain.as_str(), "alt.schule.example"]);
        let ad = autodiscover_settings(&s, "anke.lehmann@see.schule.example");
        roxmltree::Document::parse(&ad).unwrap();
        for e in [
            AutodiscoverError::Invalid,
            AutodiscoverError::SchemaNotOffered,
            AutodiscoverError::UnknownAddress,
        ] {
            roxmltree::Document::parse(&autodiscover_error(&e)).unwrap();
        }
    }

    fn request(address: &str) -> String {
        format!(
            "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover \
             xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
             <Request><EMailAddress>{address}</EMailAddress><AcceptableResponseSchema>{OUTLOOK_RESPONSE}\
             </AcceptableResponseSchema></Request></Autodiscover>"
        )
    }

    #[test]
    fn outlook_requests_are_read_and_others_refused() {
        assert_eq!(
            requested_address(&request(" Anke.Lehmann@See.Schule.Example ")).as_deref(),
            Ok("Anke.Lehmann@See.Schule.Example")
        );
        let mobilesync = request("a@b.example").replace(
            OUTLOOK_RESPONSE,
            "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
        );
        assert_eq!(
            requested_address(&mobilesync),
            Err(AutodiscoverError::SchemaNotOffered)
        );
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY a \"aaaa\">]>\
                      <Autodiscover><Request><EMailAddress>&a;</EMailAddress></Request></Autodiscover>";
        for bad in [
            "",
            "EMailAddress=a@b.example",
            "<Autodiscover><Request><EMailAddress>a@b.example</EMailAddress></Request>",
            "<Other><Request><EMailAddress>a@b.example</EMailAddress></Request></Other>",
            "<Autodiscover><Request><EMailAddress> </EMailAddress></Request></Autodiscover>",
            "<Autodiscover><Request/></Autodiscover>",
            laughs,
        ] {
            assert_eq!(
                requested_address(bad),
                Err(AutodiscoverError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_schools_addresses_get_settings() {
        let d = "see.schule.example";
        assert_eq!(
            school_address("Anke.Lehmann@See.Schule.Example", d).as_deref(),
            Ok("anke.lehmann@see.schule.example")
        );
        for other in [
            "anke@other.example",
            "anke@mail.see.schule.example",
            "see.schule.example",
            "a<b@see.schule.example",
            "a@b@see.schule.example",
        ] {
            assert_eq!(
                school_address(other, d),
                Err(AutodiscoverError::UnknownAddress),
                "{other}"
            );
        }
    }
}
