//! Webmail in the portal: folders, the message list with paging and search, reading (HTML made
//! harmless, remote images held back until the reader allows them, attachments to download),
//! writing, replying and forwarding with attachments, moving and deleting, and the quota.
//!
//! Every page is rendered on the server and works without script. Each request opens its own
//! short IMAP session to Dovecot ([`imap`]) as the signed-in person, through Dovecot's master
//! user, so the portal keeps no password and no mail of its own; sending goes through Postfix's
//! submission port ([`send`]), so every sending rule applies. Who may read which mailbox is
//! decided in one place: the session's own login is the only mailbox a request can name.

pub mod imap;
pub mod send;
pub mod show;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;
use schola_core::session::Session;
use serde::Deserialize;

use crate::guard::{self, Need};
use crate::i18n::Tr;
use crate::pages::{Layout, PageResult, gate, html};
use crate::state::AppState;
use imap::{Endpoint, Imap, MailError, Special};

type Data = web::Data<AppState>;

/// Messages on one page of the list.
const PER_PAGE: usize = 50;
/// All attachments of one message written in the portal together (Postfix takes 50 MiB, and
/// base64 makes 25 MiB into about 34).
const MAX_ATTACHMENTS: usize = 25 * 1024 * 1024;
/// A text field of the form (the message itself included).
const MAX_TEXT: usize = 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mail", web::get().to(list))
        .route("/mail/read", web::get().to(read))
        .route("/mail/part", web::get().to(part))
        .route("/mail/compose", web::get().to(compose))
        .route("/mail/send", web::post().to(send_mail))
        .route("/mail/act", web::post().to(act));
}

/// A value for a query string.
fn enc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn size_text(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn folder_label(t: &Tr, name: &str, special: Special) -> String {
    match special {
        Special::Inbox => t.t("mail-folder-inbox"),
        Special::Drafts => t.t("mail-folder-drafts"),
        Special::Sent => t.t("mail-folder-sent"),
        Special::Junk => t.t("mail-folder-junk"),
        Special::Trash => t.t("mail-folder-trash"),
        Special::Archive => t.t("mail-folder-archive"),
        Special::Other => name.to_string(),
    }
}

/// The signed-in person, their mailbox opened.
struct Opened {
    s: Session,
    layout: Layout,
    imap: Imap,
}

/// Signs in to the person's mailbox, or the page that says why not.
async fn open(
    req: &HttpRequest,
    state: &Data,
) -> Result<Result<Opened, HttpResponse>, crate::pages::PageError> {
    let s = match gate(req, state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(Err(resp)),
    };
    let school = crate::pages::school(state).await?;
    let layout = Layout::for_session(&school, &s, req);
    connect(state, s, layout).await
}

/// Opens the mailbox of the session's own person: the only mailbox any webmail request reaches.
async fn connect(
    state: &Data,
    s: Session,
    layout: Layout,
) -> Result<Result<Opened, HttpResponse>, crate::pages::PageError> {
    if s.person.mail.is_none() {
        return Ok(Err(problem(
            layout,
            StatusCode::NOT_FOUND,
            "mail-none-title",
            "mail-none-text",
            None,
        )?));
    }
    let ep = Endpoint::from_config(&state.cfg);
    match Imap::open(&ep, &s.person.login).await {
        Ok(imap) => Ok(Ok(Opened { s, layout, imap })),
        Err(e) => {
            tracing::warn!(login = %s.person.login, error = %e, "webmail cannot open the mailbox");
            Ok(Err(mail_error(layout, &e)?))
        }
    }
}

#[derive(Template)]
#[template(path = "mail_problem.html")]
struct ProblemPage {
    layout: Layout,
    title: String,
    text: String,
    detail: Option<String>,
}

fn problem(
    layout: Layout,
    status: StatusCode,
    title: &str,
    text: &str,
    detail: Option<String>,
) -> Result<HttpResponse, crate::pages::PageError> {
    let page = ProblemPage {
        title: layout.t.t(title),
        text: layout.t.t(text),
        layout,
        detail,
    };
    Ok(html(status, page.render()?))
}

fn mail_error(layout: Layout, e: &MailError) -> Result<HttpResponse, crate::pages::PageError> {
    match e {
        MailError::Off(_) => problem(
            layout,
            StatusCode::SERVICE_UNAVAILABLE,
            "mail-off-title",
            "mail-off-text",
            None,
        ),
        MailError::Unreachable(_) => problem(
            layout,
            StatusCode::SERVICE_UNAVAILABLE,
            "mail-down-title",
            "mail-down-text",
            None,
        ),
        MailError::NotFound => problem(
            layout,
            StatusCode::NOT_FOUND,
            "mail-gone-title",
            "mail-gone-text",
            None,
        ),
        MailError::Refused(why) => problem(
            layout,
            StatusCode::BAD_GATEWAY,
            "mail-refused-title",
            "mail-refused-text",
            Some(why.clone()),
        ),
    }
}

struct FolderView {
    href: String,
    label: String,
    unseen: u32,
    current: bool,
}

struct ItemView {
    href: String,
    from: String,
    subject: String,
    date: String,
    size: String,
    seen: bool,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct ListPage {
    layout: Layout,
    folder: String,
    folder_label: String,
    folders: Vec<FolderView>,
    items: Vec<ItemView>,
    q: String,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    quota: Option<(String, u64, u64)>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    folder: Option<String>,
    page: Option<usize>,
    q: Option<String>,
    done: Option<String>,
}

fn folder_views(t: &Tr, folders: &[imap::Folder], current: &str) -> Vec<FolderView> {
    folders
        .iter()
        .map(|f| FolderView {
            href: format!("/mail?folder={}", enc(&f.name)),
            label: folder_label(t, &f.name, f.special),
            unseen: f.unseen,
            current: f.name == current,
        })
        .collect()
}

async fn list(req: HttpRequest, state: Data, q: web::Query<ListQuery>) -> PageResult {
    let Opened {
        layout, mut imap, ..
    } = match open(&req, &state).await? {
        Ok(o) => o,
        Err(resp) => return Ok(resp),
    };
    let q = q.into_inner();
    let folder = q
        .folder
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "INBOX".into());
    let search =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let result = async {
        let folders = imap.folders(true).await?;
        let listed = imap
            .page(&folder, search.as_deref(), page - 1, PER_PAGE)
            .await?;
        let quota = imap.quota().await.unwrap_or(None);
        Ok::<_, MailError>((folders, listed, quota))
    }
    .await;
    imap.close().await;
    let (folders, listed, quota) = match result {
        Ok(r) => r,
        Err(e) => return mail_error(layout, &e),
    };
    let t = &layout.t;
    let special = folders
        .iter()
        .find(|f| f.name == folder)
        .map_or(Special::Other, |f| f.special);
    let pages = listed.total.div_ceil(PER_PAGE).max(1);
    let link = |p: usize| {
        let mut h = format!("/mail?folder={}&page={p}", enc(&folder));
        if let Some(s) = &search {
            h.push_str(&format!("&q={}", enc(s)));
        }
        h
    };
    let items = listed
        .items
        .iter()
        .map(|m| {
            let l = show::line(&m.header);
            ItemView {
                href: format!("/mail/read?folder={}&uid={}", enc(&folder), m.uid),
                from: if l.from.is_empty() {
                    t.t("mail-no-sender")
                } else {
                    l.from
                },
                subject: if l.subject.trim().is_empty() {
                    t.t("mail-no-subject")
                } else {
                    l.subject
                },
                date: l.date,
                size: size_text(u64::from(m.size)),
                seen: m.seen,
            }
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("sent") => Some(t.t("mail-done-sent")),
        Some("moved") => Some(t.t("mail-done-moved")),
        Some("deleted") => Some(t.t("mail-done-deleted")),
        _ => None,
    };
    let page_view = ListPage {
        folder_label: folder_label(t, &folder, special),
        folders: folder_views(t, &folders, &folder),
        items,
        q: search.clone().unwrap_or_default(),
        total: listed.total,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        quota: quota.filter(|q| q.limit_kib > 0).map(|q| {
            let used = q.used_kib * 1024;
            let limit = q.limit_kib * 1024;
            (
                t.targs(
                    "mail-quota",
                    &[("used", size_text(used)), ("limit", size_text(limit))],
                ),
                used,
                limit,
            )
        }),
        notice,
        folder,
        layout,
    };
    Ok(html(StatusCode::OK, page_view.render()?))
}

#[derive(Deserialize)]
struct MessageQuery {
    folder: String,
    uid: u32,
    #[serde(default)]
    images: Option<String>,
}

struct AttachmentView {
    href: String,
    name: String,
    size: String,
}

#[derive(Template)]
#[template(path = "mail_read.html")]
struct ReadPage {
    layout: Layout,
    folder: String,
    folder_href: String,
    uid: u32,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: String,
    html: Option<String>,
    text: Option<String>,
    blocked: i64,
    images_href: String,
    attachments: Vec<AttachmentView>,
    reply_href: String,
    reply_all_href: String,
    forward_href: String,
    move_targets: Vec<(String, String)>,
    in_trash: bool,
}

fn joined(p: &[show::Party]) -> String {
    p.iter()
        .map(show::Party::display)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn read(req: HttpRequest, state: Data, q: web::Query<MessageQuery>) -> PageResult {
    let Opened {
        layout, mut imap, ..
    } = match open(&req, &state).await? {
        Ok(o) => o,
        Err(resp) => return Ok(resp),
    };
    let q = q.into_inner();
    let result = async {
        let raw = imap.message(&q.folder, q.uid).await?;
        let folders = imap.folders(false).await?;
        Ok::<_, MailError>((raw, folders))
    }
    .await;
    imap.close().await;
    let (raw, folders) = match result {
        Ok(r) => r,
        Err(e) => return mail_error(layout, &e),
    };
    let allow = q.images.as_deref() == Some("1");
    let base = format!("folder={}&uid={}", enc(&q.folder), q.uid);
    let part_url = |n: u32| format!("/mail/part?{base}&n={n}");
    let shown = show::show(&raw, allow, &part_url);
    let t = &layout.t;
    let (html_body, text_body) = match shown.body {
        show::Body::Html(h) => (Some(h), None),
        show::Body::Text(s) => (None, Some(s)),
    };
    let in_trash = folders
        .iter()
        .any(|f| f.name == q.folder && f.special == Special::Trash);
    let page = ReadPage {
        folder_href: format!("/mail?folder={}", enc(&q.folder)),
        uid: q.uid,
        subject: if shown.subject.trim().is_empty() {
            t.t("mail-no-subject")
        } else {
            shown.subject.clone()
        },
        from: joined(&shown.from),
        to: joined(&shown.to),
        cc: joined(&shown.cc),
        date: shown.date.clone(),
        html: html_body,
        text: text_body,
        blocked: i64::try_from(shown.blocked_images).unwrap_or(i64::MAX),
        images_href: format!("/mail/read?{base}&images=1"),
        attachments: shown
            .attachments
            .iter()
            .map(|a| AttachmentView {
                href: part_url(a.index),
                name: a.name.clone(),
                size: size_text(a.size as u64),
            })
            .collect(),
        reply_href: format!("/mail/compose?{base}&mode=reply"),
        reply_all_href: format!("/mail/compose?{base}&mode=all"),
        forward_href: format!("/mail/compose?{base}&mode=forward"),
        move_targets: folders
            .iter()
            .filter(|f| f.name != q.folder)
            .map(|f| (f.name.clone(), folder_label(t, &f.name, f.special)))
            .collect(),
        in_trash,
        folder: q.folder,
        layout,
    };
    let mut resp = html(StatusCode::OK, page.render()?);
    if allow {
        // the reader asked for the pictures: this one page may load remote images
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        );
        resp.headers_mut().insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Ok(resp)
}

#[derive(Deserialize)]
struct PartQuery {
    folder: String,
    uid: u32,
    n: u32,
}

/// An attachment, always as a download of its own (never shown inside the portal's origin as
/// a page); pictures may be shown inline, being pictures.
async fn part(req: HttpRequest, state: Data, q: web::Query<PartQuery>) -> PageResult {
    let Opened {
        layout, mut imap, ..
    } = match open(&req, &state).await? {
        Ok(o) => o,
        Err(resp) => return Ok(resp),
    };
    let result = imap.message(&q.folder, q.uid).await;
    imap.close().await;
    let raw = match result {
        Ok(r) => r,
        Err(e) => return mail_error(layout, &e),
    };
    let Some((name, mime, bytes)) = show::attachment(&raw, q.n) else {
        return mail_error(layout, &MailError::NotFound);
    };
    let picture = matches!(
        mime.as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    );
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if picture { "inline" } else { "attachment" },
        name.chars()
            .map(|c| if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            })
            .collect::<String>(),
        enc(&name)
    );
    let ctype = if picture {
        mime.as_str()
    } else {
        "application/octet-stream"
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, ctype))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(bytes))
}

#[derive(Deserialize)]
struct ComposeQuery {
    folder: Option<String>,
    uid: Option<u32>,
    mode: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "mail_compose.html")]
struct ComposePage {
    layout: Layout,
    from: String,
    to: String,
    cc: String,
    subject: String,
    body: String,
    in_reply_to: String,
    references: String,
    fwd_folder: String,
    fwd_uid: String,
    forwarded: Vec<String>,
    error: Option<String>,
    max_mb: usize,
}

fn quote_text(t: &Tr, date: &str, from: &str, text: &str) -> String {
    let mut o = String::from("\n\n");
    o.push_str(&t.targs(
        "mail-quote-intro",
        &[("date", date.to_string()), ("from", from.to_string())],
    ));
    o.push('\n');
    for l in text.lines() {
        o.push_str("> ");
        o.push_str(l);
        o.push('\n');
    }
    o
}

fn prefixed(prefix: &str, subject: &str) -> String {
    let s = subject.trim();
    if s.to_ascii_lowercase()
        .starts_with(&prefix.to_ascii_lowercase())
    {
        s.to_string()
    } else {
        format!("{prefix} {s}")
    }
}

async fn compose(req: HttpRequest, state: Data, q: web::Query<ComposeQuery>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let q = q.into_inner();
    let mut page = ComposePage {
        layout: Layout::for_session(&crate::pages::school(&state).await?, &s, &req),
        from: s.person.mail.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        cc: String::new(),
        subject: String::new(),
        body: String::new(),
        in_reply_to: String::new(),
        references: String::new(),
        fwd_folder: String::new(),
        fwd_uid: String::new(),
        forwarded: Vec::new(),
        error: None,
        max_mb: MAX_ATTACHMENTS / (1024 * 1024),
    };
    if let (Some(folder), Some(uid)) = (q.folder, q.uid) {
        let Opened {
            layout, mut imap, ..
        } = match open(&req, &state).await? {
            Ok(o) => o,
            Err(resp) => return Ok(resp),
        };
        let result = imap.message(&folder, uid).await;
        imap.close().await;
        let raw = match result {
            Ok(r) => r,
            Err(e) => return mail_error(layout, &e),
        };
        let shown = show::show(&raw, false, &|_| String::new());
        let t = &page.layout.t;
        let from = joined(&shown.from);
        match q.mode.as_deref() {
            Some("forward") => {
                page.subject = prefixed("Fwd:", &shown.subject);
                page.body = format!(
                    "\n\n{}\n{}: {from}\n{}: {}\n{}: {}\n{}: {}\n\n{}",
                    t.t("mail-forwarded"),
                    t.t("mail-from"),
                    t.t("mail-date"),
                    shown.date,
                    t.t("mail-subject"),
                    shown.subject,
                    t.t("mail-to"),
                    joined(&shown.to),
                    shown.text
                );
                page.fwd_folder = folder;
                page.fwd_uid = uid.to_string();
                page.forwarded = shown.attachments.iter().map(|a| a.name.clone()).collect();
            }
            mode => {
                let me = s
                    .person
                    .mail
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let back = if shown.reply_to.is_empty() {
                    &shown.from
                } else {
                    &shown.reply_to
                };
                page.to = joined(back);
                if mode == Some("all") {
                    let others: Vec<show::Party> = shown
                        .to
                        .iter()
                        .chain(shown.cc.iter())
                        .filter(|p| p.address.to_ascii_lowercase() != me)
                        .filter(|p| {
                            !back
                                .iter()
                                .any(|b| b.address.eq_ignore_ascii_case(&p.address))
                        })
                        .cloned()
                        .collect();
                    page.cc = joined(&others);
                }
                page.subject = prefixed("Re:", &shown.subject);
                page.body = quote_text(t, &shown.date, &from, &shown.text);
                page.in_reply_to = shown.message_id.clone().unwrap_or_default();
                let mut refs = shown.references.clone();
                refs.extend(shown.message_id.clone());
                page.references = refs.join(" ");
            }
        }
    }
    Ok(html(StatusCode::OK, page.render()?))
}

/// The fields of the compose form.
#[derive(Default)]
struct Posted {
    text: std::collections::HashMap<String, String>,
    files: Vec<(String, String, Vec<u8>)>,
}

enum FormProblem {
    Expired,
    TooBig,
    Malformed,
}

/// Reads the multipart form, checking the CSRF token before taking any file (the form puts it
/// first) and the attachments' total size as they arrive.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    s: &Session,
) -> Result<Posted, FormProblem> {
    if !guard::same_origin(req) {
        return Err(FormProblem::Expired);
    }
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut posted = Posted::default();
    let mut csrf_ok = false;
    let mut total = 0usize;
    let mut count = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|_| FormProblem::Malformed)?;
        count += 1;
        if count > 200 {
            return Err(FormProblem::Malformed);
        }
        let Some(cd) = part.content_disposition().cloned() else {
            return Err(FormProblem::Malformed);
        };
        let name = cd.get_name().unwrap_or_default().to_string();
        let filename = cd.get_filename().map(str::to_string);
        if filename.is_some() && !csrf_ok {
            return Err(FormProblem::Expired);
        }
        let mime = part
            .content_type()
            .map(|m| m.essence_str().to_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut data = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| FormProblem::Malformed)?;
            if filename.is_some() {
                total += chunk.len();
                if total > MAX_ATTACHMENTS {
                    return Err(FormProblem::TooBig);
                }
            } else if data.len() + chunk.len() > MAX_TEXT {
                return Err(FormProblem::TooBig);
            }
            data.extend_from_slice(&chunk);
        }
        match filename {
            // an empty file input sends a part without a name and without content
            Some(f) if f.is_empty() && data.is_empty() => {}
            Some(f) => {
                let name = show::safe_name(
                    Some(&f),
                    u32::try_from(posted.files.len()).unwrap_or(0),
                    &mime,
                );
                posted.files.push((name, mime, data));
            }
            None => {
                let text = String::from_utf8(data).map_err(|_| FormProblem::Malformed)?;
                if name == "csrf" {
                    csrf_ok = guard::eq(&text, &s.csrf);
                    if !csrf_ok {
                        return Err(FormProblem::Expired);
                    }
                }
                posted.text.insert(name, text);
            }
        }
    }
    if !csrf_ok {
        return Err(FormProblem::Expired);
    }
    Ok(posted)
}

async fn send_mail(req: HttpRequest, state: Data, payload: web::Payload) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let school = crate::pages::school(&state).await?;
    let layout = Layout::for_session(&school, &s, &req);
    let posted = match read_form(&req, payload, &s).await {
        Ok(p) => p,
        Err(FormProblem::Expired) => {
            return problem(
                layout,
                StatusCode::FORBIDDEN,
                "mail-refused-title",
                "form-expired",
                None,
            );
        }
        Err(FormProblem::TooBig) => {
            let detail = layout.t.targs(
                "mail-too-big",
                &[("max", (MAX_ATTACHMENTS / (1024 * 1024)).to_string())],
            );
            return problem(
                layout,
                StatusCode::PAYLOAD_TOO_LARGE,
                "mail-refused-title",
                "mail-refused-text",
                Some(detail),
            );
        }
        Err(FormProblem::Malformed) => {
            return problem(
                layout,
                StatusCode::BAD_REQUEST,
                "mail-refused-title",
                "mail-malformed",
                None,
            );
        }
    };
    let Some(from) = s.person.mail.clone() else {
        return problem(
            layout,
            StatusCode::NOT_FOUND,
            "mail-none-title",
            "mail-none-text",
            None,
        );
    };
    let field = |k: &str| posted.text.get(k).cloned().unwrap_or_default();
    let mut draft = send::Draft {
        from_name: s.person.display_name.clone(),
        from: from.clone(),
        to: field("to"),
        cc: field("cc"),
        subject: field("subject"),
        body: field("body"),
        in_reply_to: Some(field("in_reply_to")).filter(|v| !v.trim().is_empty()),
        references: field("references")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        attachments: posted.files,
    };
    let ep = Endpoint::from_config(&state.cfg);
    let again = |layout: Layout, draft: &send::Draft, error: String| -> PageResult {
        let page = ComposePage {
            layout,
            from: draft.from.clone(),
            to: draft.to.clone(),
            cc: draft.cc.clone(),
            subject: draft.subject.clone(),
            body: draft.body.clone(),
            in_reply_to: draft.in_reply_to.clone().unwrap_or_default(),
            references: draft.references.join(" "),
            fwd_folder: field("fwd_folder"),
            fwd_uid: field("fwd_uid"),
            forwarded: Vec::new(),
            error: Some(error),
            max_mb: MAX_ATTACHMENTS / (1024 * 1024),
        };
        Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
    };
    let mut imap = match Imap::open(&ep, &s.person.login).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(login = %s.person.login, error = %e, "webmail cannot open the mailbox");
            return mail_error(layout, &e);
        }
    };
    // a forward carries the original's attachments along
    let fwd_folder = field("fwd_folder");
    if let Ok(uid) = field("fwd_uid").parse::<u32>()
        && !fwd_folder.is_empty()
    {
        match imap.message(&fwd_folder, uid).await {
            Ok(raw) => {
                let mut carried = show::attachments(&raw);
                carried.append(&mut draft.attachments);
                draft.attachments = carried;
            }
            Err(e) => {
                imap.close().await;
                return mail_error(layout, &e);
            }
        }
    }
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let message = match send::build(&draft, &domain) {
        Ok(m) => m,
        Err(e) => {
            imap.close().await;
            return again(layout, &draft, e.to_string());
        }
    };
    let certs: Vec<_> = state
        .tls
        .as_ref()
        .map(|r| r.current().cert.clone())
        .unwrap_or_default();
    if let Err(e) = send::submit(&ep, &certs, &s.person.login, &message).await {
        imap.close().await;
        tracing::info!(login = %s.person.login, error = %e, "webmail: sending refused");
        return match e {
            MailError::Refused(why) => again(layout, &draft, why),
            other => mail_error(layout, &other),
        };
    }
    tracing::info!(login = %s.person.login, attachments = draft.attachments.len(), "webmail: message sent");
    // the copy in Sent; the message is out either way, so a failure here is only logged
    if let Ok(folders) = imap.folders(false).await
        && let Some(sent) = folders.iter().find(|f| f.special == Special::Sent)
        && let Err(e) = imap.append(&sent.name, &message.formatted()).await
    {
        tracing::warn!(login = %s.person.login, error = %e, "webmail: no copy kept in Sent");
    }
    imap.close().await;
    Ok(crate::pages::redirect("/mail?done=sent"))
}

#[derive(Deserialize)]
struct ActForm {
    csrf: String,
    folder: String,
    uid: u32,
    action: String,
    #[serde(default)]
    to: String,
}

/// Moving and deleting.
async fn act(req: HttpRequest, state: Data, form: web::Form<ActForm>) -> PageResult {
    let s = match gate(&req, &state, Need::SignedIn).await? {
        Ok(s) => s,
        Err(resp) => return Ok(resp),
    };
    let layout = Layout::for_session(&crate::pages::school(&state).await?, &s, &req);
    let f = form.into_inner();
    if !guard::eq(&f.csrf, &s.csrf) || !guard::same_origin(&req) {
        return problem(
            layout,
            StatusCode::FORBIDDEN,
            "mail-refused-title",
            "form-expired",
            None,
        );
    }
    let Opened {
        s,
        layout,
        mut imap,
    } = match connect(&state, s, layout).await? {
        Ok(o) => o,
        Err(resp) => return Ok(resp),
    };
    let result = async {
        let folders = imap.folders(false).await?;
        let special = |f: &str| folders.iter().find(|x| x.name == f).map(|x| x.special);
        match f.action.as_str() {
            "move" if special(&f.to).is_some() => {
                imap.move_to(&f.folder, f.uid, &f.to).await?;
                Ok("moved")
            }
            "delete" => {
                let trash = folders.iter().find(|x| x.special == Special::Trash);
                match trash {
                    Some(t) if t.name != f.folder => {
                        imap.move_to(&f.folder, f.uid, &t.name).await?
                    }
                    _ => imap.delete(&f.folder, f.uid).await?,
                }
                Ok("deleted")
            }
            _ => Err(MailError::NotFound),
        }
    }
    .await;
    imap.close().await;
    match result {
        Ok(done) => {
            tracing::info!(login = %s.person.login, action = %f.action, folder = %f.folder, uid = f.uid, "webmail");
            Ok(crate::pages::redirect(&format!(
                "/mail?folder={}&done={done}",
                enc(&f.folder)
            )))
        }
        Err(e) => mail_error(layout, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(enc("Sent Items/Ü&x=1"), "Sent%20Items%2F%C3%9C%26x%3D1");
        assert_eq!(size_text(500), "500 B");
        assert_eq!(size_text(1500), "2 KB");
        assert_eq!(prefixed("Re:", "RE: Hallo"), "RE: Hallo");
        assert_eq!(prefixed("Fwd:", " Plan "), "Fwd: Plan");
    }
}
