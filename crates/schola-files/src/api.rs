//! The HTTP side: `/dav/...` (WebDAV through dav-server) and the portal's JSON `/api/...` (see
//! the crate's spec). The identity comes from `X-Schola-Person`, set by schola-web after it has
//! authenticated the request (and stripped any such header from the client): no header is 401,
//! an unknown or disabled person 403. Errors are `{"error": "<message naming the path>"}`.
//!
//! Uploads stream to an [`AtomicWriter`] chunk by chunk (memory stays flat whatever the size):
//! an announced size beyond the free quota is refused up front with 507, a body without a
//! length is stopped at the limit, and nothing becomes visible before the whole body is in and
//! fsynced. Resumable uploads keep their state in `.uploads/<token>.json` next to
//! `<token>.part`; each chunk is fsynced before its new offset is recorded.

use std::io::{Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, Responder as _, ResponseError, web};
use dav_server::actix::{DavRequest, DavResponse};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::atomic::{AtomicWriter, WriteError};
use crate::fsops::{self, FsErr};
use crate::names::VPath;
use crate::policy::{self, Actor, Area, Denied, Op, QuotaOwner, Target};
use crate::quota::QuotaError;
use crate::server::Files;

type Data = web::Data<Files>;

/// An error answered as `{"error": ...}` (plus `extra` fields).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub msg: String,
    pub extra: Option<serde_json::Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut body = json!({"error": self.msg});
        if let (Some(serde_json::Value::Object(extra)), Some(b)) =
            (&self.extra, body.as_object_mut())
        {
            b.extend(extra.clone());
        }
        // Close after an error: an upload's unread rest must not be parsed as a next request,
        // nor keep the connection waiting for it.
        HttpResponse::build(self.status).force_close().json(body)
    }
}

fn e(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError {
        status,
        msg: msg.into(),
        extra: None,
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let s = match &d {
            Denied::BadName(_) => StatusCode::BAD_REQUEST,
            Denied::NotFound(_) => StatusCode::NOT_FOUND,
            Denied::Forbidden { .. } => StatusCode::FORBIDDEN,
        };
        e(s, d.to_string())
    }
}

impl From<FsErr> for ApiError {
    fn from(f: FsErr) -> Self {
        let s = match &f {
            FsErr::NotFound(_) => StatusCode::NOT_FOUND,
            FsErr::Exists(_) => StatusCode::CONFLICT,
            FsErr::Invalid(_) => StatusCode::BAD_REQUEST,
            FsErr::Quota(_) | FsErr::DiskFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            FsErr::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        e(s, f.to_string())
    }
}

impl From<QuotaError> for ApiError {
    fn from(q: QuotaError) -> Self {
        e(StatusCode::INSUFFICIENT_STORAGE, q.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        e(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (a worker failed)",
        )
    }
}

fn write_err(path: &str, w: WriteError) -> ApiError {
    match w {
        WriteError::Quota { .. } => e(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("{path}: {w}; nothing was stored"),
        ),
        WriteError::DiskFull => e(StatusCode::INSUFFICIENT_STORAGE, format!("{path}: {w}")),
        WriteError::Io(_) => e(StatusCode::INTERNAL_SERVER_ERROR, format!("{path}: {w}")),
    }
}

fn internal(err: impl std::fmt::Display) -> ApiError {
    e(StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
}

/// The person the request acts for.
pub async fn actor(req: &HttpRequest, files: &Data) -> Result<Arc<Actor>, ApiError> {
    let id: i64 = req
        .headers()
        .get("X-Schola-Person")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            e(
                StatusCode::UNAUTHORIZED,
                "not signed in (no X-Schola-Person)",
            )
        })?;
    if let Ok(cache) = files.actors.lock()
        && let Some((at, actor)) = cache.get(&id)
        && at.elapsed() < crate::server::ACTOR_TTL
    {
        return Ok(actor.clone());
    }
    let store = files.store.clone();
    let (person, groups) = web::block(move || -> schola_core::Result<_> {
        Ok((store.person(id)?, store.groups_of(id)?))
    })
    .await?
    .map_err(internal)?;
    let person = person.ok_or_else(|| e(StatusCode::FORBIDDEN, format!("no person #{id}")))?;
    if !person.is_active() {
        return Err(e(
            StatusCode::FORBIDDEN,
            format!("the account {} is disabled", person.login),
        ));
    }
    files
        .quotas
        .remember_person(person.id, &person.login, person.quota_mb, person.role);
    // the home's usage is walked once per daemon run: begin it now, in the background, rather
    // than in the person's first upload
    let owner = QuotaOwner::Person {
        id: person.id,
        login: person.login.clone(),
    };
    if !files.quotas.is_counted(&owner) {
        let q = files.quotas.clone();
        actix_web::rt::task::spawn_blocking(move || q.usage(&owner));
    }
    let actor = Arc::new(Actor {
        id: person.id,
        login: person.login,
        role: person.role,
        groups: groups
            .into_iter()
            .map(|(g, m)| (g.name, g.kind, m))
            .collect(),
    });
    if let Ok(mut cache) = files.actors.lock() {
        if cache.len() >= 10_000 {
            cache.retain(|_, (at, _)| at.elapsed() < crate::server::ACTOR_TTL);
        }
        cache.insert(id, (std::time::Instant::now(), actor.clone()));
    }
    Ok(actor)
}

fn target(files: &Files, actor: &Actor, path: &str, op: Op) -> Result<Target, ApiError> {
    let vp = VPath::parse(path).map_err(Denied::from)?;
    let t = policy::resolve(&files.layout, actor, &vp, op)?;
    fsops::ensure_area(&t)?;
    Ok(t)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dav", web::to(dav))
        .route("/dav/{tail:.*}", web::to(dav))
        .route("/api/list", web::get().to(list))
        .route("/api/download", web::get().to(download))
        .route("/api/mkdir", web::post().to(mkdir))
        .route("/api/rename", web::post().to(rename))
        .route("/api/copy", web::post().to(copy))
        .route("/api/delete", web::post().to(delete))
        .route("/api/trash", web::get().to(trash_list))
        .route("/api/restore", web::post().to(restore))
        .route("/api/upload", web::put().to(upload))
        .route("/api/uploads", web::post().to(upload_start))
        .route("/api/uploads/{token}", web::get().to(upload_status))
        .route("/api/uploads/{token}", web::put().to(upload_chunk))
        .route("/api/uploads/{token}/finish", web::post().to(upload_finish))
        .route("/api/usage", web::get().to(usage))
        .route("/api/usage/people", web::get().to(usage_people))
        .route("/api/handouts", web::post().to(handout_create))
        .route("/api/handouts", web::get().to(handout_list))
        .route(
            "/api/handouts/{id}/collect",
            web::post().to(handout_collect),
        );
}

fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Most bytes of a PROPFIND body read (a request for every property of every namespace a
/// client knows is a few KiB).
const PROPFIND_LIMIT: usize = 256 * 1024;

async fn dav(req: HttpRequest, dreq: DavRequest, files: Data) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let inside = dav_server::davpath::DavPath::new(req.uri().path()).is_ok_and(|p| {
        let b = p.as_bytes();
        b == b"/dav" || b.starts_with(b"/dav/")
    });
    if !inside {
        return Err(e(
            StatusCode::BAD_REQUEST,
            format!(
                "the path {} is not allowed (it leaves the share or has invalid characters)",
                req.path()
            ),
        ));
    }
    // The policy first, with the API's clear errors: dav-server would answer 409 for a hidden
    // area, and a DELETE of a collection deletes its members before failing on the root.
    let op = match req.method().as_str() {
        "DELETE" | "MOVE" => Some(Op::Delete),
        "PUT" | "MKCOL" => Some(Op::Write),
        _ => None,
    };
    let path = percent_decode(req.path().strip_prefix("/dav").unwrap_or(""));
    let checked = match op {
        Some(op) => Some(target(&files, &actor, &path, op)?),
        None => None,
    };
    if req.method() == actix_web::http::Method::PUT
        && let Some(len) = content_length(&req)
        && let Some(t) = checked
    {
        // Refuse up front, with a message, what cannot fit.
        if let Some(o) = t.quota.clone() {
            let q = files.quotas.clone();
            let counted = q.is_counted(&o);
            let check = move || {
                let old = fsops::walk(&t)
                    .ok()
                    .flatten()
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .unwrap_or(0);
                (q.free(&o) + old, q.limit_of(&o))
            };
            // a few stats inline (as reads are); a usage not yet counted walks the home: off
            // the event loop
            let (free, limit) = if counted {
                check()
            } else {
                web::block(check).await?
            };
            if len > free {
                return Err(QuotaError {
                    needed: len,
                    free,
                    limit,
                }
                .into());
            }
        }
    }
    if req.method() == actix_web::http::Method::GET
        && !crate::small_get::LEAVE_TO_DAV_SERVER
            .iter()
            .any(|h| req.headers().contains_key(*h))
        && let Some(f) = crate::small_get::read(&files.layout, &actor, &path)
    {
        // a plain GET of a small file (crate::small_get); inline, as dav-server reads files
        let mut resp = HttpResponse::Ok();
        if let Some(t) = f.modified {
            resp.insert_header((header::LAST_MODIFIED, header::HttpDate::from(t)));
        }
        if let Some(tag) = f.etag {
            resp.insert_header((header::ETAG, tag));
        }
        return Ok(resp
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CONTENT_TYPE, f.content_type))
            .body(f.body));
    }
    let login = actor.login.clone();
    let listing = req.method().as_str() == "PROPFIND"
        && req.headers().get("depth").map(|v| v.as_bytes()) == Some(b"1")
        && path.ends_with('/');
    let resp = if listing {
        // a folder's listing: answered directly when it can be (crate::listing)
        let (parts, body) = dreq.request.into_parts();
        let body =
            http_body_util::BodyExt::collect(http_body_util::Limited::new(body, PROPFIND_LIMIT))
                .await
                .map_err(|_| {
                    e(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("a PROPFIND body can be at most {PROPFIND_LIMIT} bytes"),
                    )
                })?
                .to_bytes();
        if let Some(wants) = crate::listing::wanted(&body) {
            let (layout, who, p) = (files.layout.clone(), Arc::clone(&actor), path.clone());
            let doc = web::block(move || crate::listing::folder(&layout, &who, &p, &wants)).await?;
            if let Some(doc) = doc {
                return Ok(HttpResponse::build(StatusCode::MULTI_STATUS)
                    .insert_header((header::CONTENT_TYPE, "application/xml; charset=utf-8"))
                    .insert_header((header::CACHE_CONTROL, "no-cache"))
                    .insert_header((header::PRAGMA, "no-cache"))
                    .body(doc));
            }
        }
        let req = http::Request::from_parts(parts, http_body_util::Full::new(body));
        files
            .dav_handler(&login)
            .handle_guarded(req, login, actor)
            .await
    } else {
        files
            .dav_handler(&login)
            .handle_guarded(dreq.request, login, actor)
            .await
    };
    let head_len = (req.method() == actix_web::http::Method::HEAD)
        .then(|| {
            resp.headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        })
        .flatten();
    let mut resp = respond(resp, &req);
    if let Some(len) = head_len {
        // dav-server's HEAD answer has an empty body, from which actix would write
        // `content-length: 0`; a HEAD must name the length of the GET's body.
        resp = resp.set_body(actix_web::body::BoxBody::new(HeadBody(len)));
    }
    if resp.status().as_u16() >= 400 {
        resp.head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(resp)
}

/// dav-server's answer as actix's, its streamed body gathered into larger pieces: dav-server
/// sends every entry of a PROPFIND as a piece of its own, which would cost a write (and, in
/// schola-web, a wake-up and a TLS record) per entry.
fn respond(resp: http::Response<dav_server::body::Body>, req: &HttpRequest) -> HttpResponse {
    use dav_server::body::BodyType;
    let (parts, body) = resp.into_parts();
    match body.inner {
        b @ BodyType::AsyncStream(..) => {
            let status = StatusCode::from_u16(parts.status.as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut builder = HttpResponse::build(status);
            for (name, value) in parts.headers.iter() {
                builder.append_header((name.as_str(), value.as_bytes()));
            }
            builder.streaming(Gather {
                inner: dav_server::body::Body { inner: b },
                buf: bytes::BytesMut::new(),
                done: false,
            })
        }
        inner => {
            let resp = http::Response::from_parts(parts, dav_server::body::Body { inner });
            DavResponse::from(resp).respond_to(req)
        }
    }
}

/// Most bytes gathered before they are passed on.
const GATHER: usize = 64 * 1024;

/// A stream that passes on what its inner stream has ready in pieces of up to [`GATHER`]
/// bytes, and never holds back what it has while the inner stream waits.
struct Gather<S> {
    inner: S,
    buf: bytes::BytesMut,
    done: bool,
}

impl<S> futures_util::Stream for Gather<S>
where
    S: futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
{
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        while !this.done {
            match std::pin::Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(b))) => {
                    if this.buf.is_empty() && b.len() >= GATHER {
                        return Poll::Ready(Some(Ok(b)));
                    }
                    this.buf.extend_from_slice(&b);
                    if this.buf.len() >= GATHER {
                        return Poll::Ready(Some(Ok(this.buf.split().freeze())));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    this.buf.clear();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => this.done = true,
                Poll::Pending if this.buf.is_empty() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Some(Ok(this.buf.split().freeze()))),
            }
        }
        if this.buf.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Ok(this.buf.split().freeze())))
        }
    }
}

/// The body of a HEAD answer: none, but the size of the GET's (actix writes the length, sends no
/// bytes for a HEAD request).
struct HeadBody(u64);

impl actix_web::body::MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.0)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<bytes::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Deserialize)]
struct PathQ {
    path: String,
}

async fn list(
    req: HttpRequest,
    q: web::Query<PathQ>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let t = target(&files, &actor, &q.path, Op::List)?;
    let writable =
        !matches!(t.area, Area::Root | Area::GroupsRoot) && policy::may(&actor, &t.area, Op::Write);
    let entries = if matches!(t.area, Area::Root | Area::GroupsRoot) {
        policy::virtual_entries(&actor, &t.area)
            .into_iter()
            .map(|name| fsops::Entry {
                name,
                dir: true,
                size: 0,
                modified: 0,
            })
            .collect()
    } else {
        let tt = t.clone();
        web::block(move || -> Result<_, ApiError> {
            let m = fsops::existing(&tt)?;
            if !m.is_dir() {
                return Err(e(
                    StatusCode::BAD_REQUEST,
                    format!("{} is not a folder", tt.display()),
                ));
            }
            fsops::list(&tt).map_err(|err| FsErr::io(&tt, err).into())
        })
        .await??
    };
    Ok(HttpResponse::Ok()
        .json(json!({"path": t.display(), "entries": entries, "writable": writable})))
}

async fn download(
    req: HttpRequest,
    q: web::Query<PathQ>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let t = target(&files, &actor, &q.path, Op::Read)?;
    let name = t.rel.last().cloned().unwrap_or_default();
    let tt = t.clone();
    let file = web::block(move || -> Result<NamedFile, ApiError> {
        let m = fsops::existing(&tt)?;
        if m.is_dir() {
            return Err(e(
                StatusCode::BAD_REQUEST,
                format!("{} is a folder", tt.display()),
            ));
        }
        NamedFile::open(&tt.real).map_err(|err| FsErr::io(&tt, err).into())
    })
    .await??;
    let cd = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::FilenameExt(header::ExtendedValue {
            charset: header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.into_bytes(),
        })],
    };
    let mut resp = file
        .use_etag(true)
        .use_last_modified(true)
        .set_content_disposition(cd)
        .into_response(&req);
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("sandbox"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct MkdirReq {
    path: String,
}

async fn mkdir(
    req: HttpRequest,
    body: web::Json<MkdirReq>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let t = target(&files, &actor, &body.path, Op::Write)?;
    let p = t.display();
    web::block(move || fsops::mkdir(&t)).await??;
    Ok(HttpResponse::Created().json(json!({"path": p})))
}

#[derive(Deserialize)]
struct FromTo {
    from: String,
    to: String,
}

async fn rename(
    req: HttpRequest,
    body: web::Json<FromTo>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let f = target(&files, &actor, &body.from, Op::Delete)?;
    let t = target(&files, &actor, &body.to, Op::Write)?;
    let p = t.display();
    let q = files.quotas.clone();
    web::block(move || fsops::rename(&f, &t, false, &q)).await??;
    Ok(HttpResponse::Ok().json(json!({"path": p})))
}

async fn copy(
    req: HttpRequest,
    body: web::Json<FromTo>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let f = target(&files, &actor, &body.from, Op::Read)?;
    let t = target(&files, &actor, &body.to, Op::Write)?;
    let p = t.display();
    let files2 = files.clone();
    web::block(move || fsops::copy(&files2.layout, &f, &t, &files2.quotas)).await??;
    Ok(HttpResponse::Created().json(json!({"path": p})))
}

#[derive(Deserialize)]
struct DeleteReq {
    paths: Vec<String>,
}

async fn delete(
    req: HttpRequest,
    body: web::Json<DeleteReq>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let mut ids = Vec::new();
    for p in &body.paths {
        let t = target(&files, &actor, p, Op::Delete)?;
        let files2 = files.clone();
        let login = actor.login.clone();
        ids.push(
            web::block(move || {
                crate::trash::delete(&files2.layout, &files2.quotas, &login, &t, crate::now())
            })
            .await??,
        );
    }
    Ok(HttpResponse::Ok().json(json!({"trashed": ids})))
}

async fn trash_list(req: HttpRequest, files: Data) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let items = web::block(move || crate::trash::list(&files2.layout, &actor.login)).await?;
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Deserialize)]
struct IdReq {
    id: String,
}

async fn restore(
    req: HttpRequest,
    body: web::Json<IdReq>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let id = body.id.clone();
    let p = web::block(move || crate::trash::restore(&files2.layout, &files2.quotas, &actor, &id))
        .await??;
    Ok(HttpResponse::Ok().json(json!({"path": p.to_string()})))
}

/// Checks a new file's place and quota; returns the writer and what it replaces.
fn prepare_write(
    files: &Files,
    t: &Target,
    len: Option<u64>,
) -> Result<(AtomicWriter, u64, Option<crate::quota::Reservation>), ApiError> {
    let old = fsops::check_new(t)?;
    if old.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(e(
            StatusCode::CONFLICT,
            format!("{} is a folder", t.display()),
        ));
    }
    let old_size = old.map(|m| m.len()).unwrap_or(0);
    let owner = t.quota.clone().ok_or_else(|| {
        e(
            StatusCode::FORBIDDEN,
            format!("you may not write to {}", t.display()),
        )
    })?;
    let limit = files.quotas.limit_of(&owner);
    let free = files.quotas.free(&owner) + old_size;
    let res = match len {
        Some(n) if n > free => {
            return Err(QuotaError {
                needed: n,
                free,
                limit,
            }
            .into());
        }
        Some(n) => Some(
            files
                .quotas
                .reserve(&owner, limit, n.saturating_sub(old_size))?,
        ),
        None => None,
    };
    let w = AtomicWriter::create(&files.layout, t.real.clone(), free)
        .map_err(|err| FsErr::io(t, err))?;
    Ok((w, old_size, res))
}

async fn write_chunk(
    w: AtomicWriter,
    b: bytes::Bytes,
) -> Result<(AtomicWriter, Result<(), WriteError>), ApiError> {
    web::block(move || {
        let mut w = w;
        let r = w.write(&b);
        (w, r)
    })
    .await
    .map_err(ApiError::from)
}

async fn upload(
    req: HttpRequest,
    mut payload: web::Payload,
    q: web::Query<PathQ>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let t = target(&files, &actor, &q.path, Op::Write)?;
    let len = content_length(&req);
    let (files2, tt) = (files.clone(), t.clone());
    let (mut w, old_size, _res) = web::block(move || prepare_write(&files2, &tt, len)).await??;
    let path = t.display();
    // Chunks are gathered up to BATCH bytes: fewer trips to the blocking pool, memory bounded.
    let mut pending = bytes::BytesMut::new();
    loop {
        let chunk = payload.next().await;
        let end = chunk.is_none();
        if let Some(chunk) = chunk {
            let chunk = chunk.map_err(|err| {
                e(
                    StatusCode::BAD_REQUEST,
                    format!("{path}: the upload was cut off ({err}); nothing was stored"),
                )
            })?;
            if w.written() + (pending.len() + chunk.len()) as u64 > w.budget() {
                let budget = w.budget();
                return Err(write_err(&path, WriteError::Quota { budget }));
            }
            pending.extend_from_slice(&chunk);
        }
        if pending.len() >= crate::atomic::BATCH || (end && !pending.is_empty()) {
            let (w2, r) = write_chunk(w, pending.split().freeze()).await?;
            w = w2;
            r.map_err(|err| write_err(&path, err))?;
        }
        if end {
            break;
        }
    }
    if let Some(n) = len
        && w.written() != n
    {
        return Err(e(
            StatusCode::BAD_REQUEST,
            format!("{path}: the upload was cut off; nothing was stored"),
        ));
    }
    let size = web::block(move || w.commit())
        .await?
        .map_err(|err| FsErr::io(&t, err))?;
    if let Some(o) = &t.quota {
        files.quotas.charge(o, size as i64 - old_size as i64);
    }
    Ok(HttpResponse::Created().json(json!({"path": path, "size": size})))
}

/// A resumable upload's state, in `.uploads/<token>.json`.
#[derive(Debug, Serialize, Deserialize)]
struct UploadState {
    person_id: i64,
    path: String,
    size: u64,
    offset: u64,
    updated_at: i64,
}

fn token_ok(t: &str) -> bool {
    t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())
}

fn load_state(files: &Files, actor: &Actor, token: &str) -> Result<UploadState, ApiError> {
    let nf = || {
        e(
            StatusCode::NOT_FOUND,
            format!("no upload {token} (finished, expired or never started)"),
        )
    };
    if !token_ok(token) {
        return Err(nf());
    }
    let b =
        std::fs::read(files.layout.uploads().join(format!("{token}.json"))).map_err(|_| nf())?;
    let s: UploadState = serde_json::from_slice(&b).map_err(|_| nf())?;
    if s.person_id != actor.id {
        return Err(nf());
    }
    Ok(s)
}

fn save_state(files: &Files, token: &str, s: &UploadState) -> Result<(), ApiError> {
    let dir = files.layout.uploads();
    let tmp = dir.join(format!("{token}.json.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(internal)?;
    f.write_all(&serde_json::to_vec(s).map_err(internal)?)
        .map_err(internal)?;
    f.sync_all().map_err(internal)?;
    std::fs::rename(&tmp, dir.join(format!("{token}.json"))).map_err(internal)
}

#[derive(Deserialize)]
struct StartReq {
    path: String,
    size: u64,
}

async fn upload_start(
    req: HttpRequest,
    body: web::Json<StartReq>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let t = target(&files, &actor, &body.path, Op::Write)?;
    let size = body.size;
    let files2 = files.clone();
    let token = web::block(move || -> Result<String, ApiError> {
        let old = fsops::check_new(&t)?;
        if old.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(e(
                StatusCode::CONFLICT,
                format!("{} is a folder", t.display()),
            ));
        }
        let old_size = old.map(|m| m.len()).unwrap_or(0);
        if let Some(o) = &t.quota {
            let free = files2.quotas.free(o) + old_size;
            if size > free {
                return Err(QuotaError {
                    needed: size,
                    free,
                    limit: files2.quotas.limit_of(o),
                }
                .into());
            }
        }
        let token = format!(
            "{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        std::fs::create_dir_all(files2.layout.uploads()).map_err(internal)?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(files2.layout.uploads().join(format!("{token}.part")))
            .map_err(|err| FsErr::io(&t, err))?;
        save_state(
            &files2,
            &token,
            &UploadState {
                person_id: actor.id,
                path: t.display(),
                size,
                offset: 0,
                updated_at: crate::now(),
            },
        )?;
        Ok(token)
    })
    .await??;
    Ok(HttpResponse::Created().json(json!({"id": token, "offset": 0})))
}

async fn upload_status(
    req: HttpRequest,
    token: web::Path<String>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let s = load_state(&files, &actor, &token)?;
    Ok(HttpResponse::Ok().json(json!({"offset": s.offset, "size": s.size})))
}

#[derive(Deserialize)]
struct OffsetQ {
    offset: u64,
}

async fn upload_chunk(
    req: HttpRequest,
    token: web::Path<String>,
    q: web::Query<OffsetQ>,
    mut payload: web::Payload,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let token = token.into_inner();
    let mut s = load_state(&files, &actor, &token)?;
    if q.offset != s.offset {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            msg: format!(
                "{}: the upload is at byte {}, not {}; send from there",
                s.path, s.offset, q.offset
            ),
            extra: Some(json!({"offset": s.offset})),
        });
    }
    let _busy = Busy::take(&files, &token).ok_or_else(|| ApiError {
        status: StatusCode::CONFLICT,
        msg: format!("{}: another chunk of this upload is being sent", s.path),
        extra: Some(json!({"offset": s.offset})),
    })?;
    let part = files.layout.uploads().join(format!("{token}.part"));
    let start = s.offset;
    let mut f = web::block(move || -> std::io::Result<std::fs::File> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&part)?;
        f.set_len(start)?;
        f.seek(std::io::SeekFrom::Start(start))?;
        Ok(f)
    })
    .await?
    .map_err(internal)?;
    let mut at = s.offset;
    let mut failure = None;
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(err) => {
                failure = Some(e(
                    StatusCode::BAD_REQUEST,
                    format!("{}: the chunk was cut off ({err})", s.path),
                ));
                break;
            }
        };
        if at + chunk.len() as u64 > s.size {
            failure = Some(e(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{}: more data than the announced {} bytes", s.path, s.size),
            ));
            break;
        }
        let n = chunk.len() as u64;
        let (f2, r) = web::block(move || {
            let r = f.write_all(&chunk);
            (f, r)
        })
        .await?;
        f = f2;
        if let Err(err) = r {
            failure = Some(if crate::atomic::is_enospc(&err) {
                e(
                    StatusCode::INSUFFICIENT_STORAGE,
                    format!("{}: the disk is full", s.path),
                )
            } else {
                internal(err)
            });
            break;
        }
        at += n;
    }
    let start = s.offset;
    let ok = failure.is_none();
    let f = web::block(move || if ok { f.sync_all() } else { f.set_len(start) }).await?;
    if let Some(fail) = failure {
        return Err(fail);
    }
    f.map_err(internal)?;
    s.offset = at;
    s.updated_at = crate::now();
    let files2 = files.clone();
    let tok = token.clone();
    let st = web::block(move || save_state(&files2, &tok, &s).map(|()| s)).await??;
    Ok(HttpResponse::Ok().json(json!({"offset": st.offset})))
}

/// Marks a resumable upload as receiving a chunk; released when dropped.
struct Busy {
    files: Data,
    token: String,
}

impl Busy {
    fn take(files: &Data, token: &str) -> Option<Busy> {
        let mut b = files.busy_uploads.lock().unwrap_or_else(|p| p.into_inner());
        b.insert(token.to_string()).then(|| Busy {
            files: files.clone(),
            token: token.to_string(),
        })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut b = self
            .files
            .busy_uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        b.remove(&self.token);
    }
}

async fn upload_finish(
    req: HttpRequest,
    token: web::Path<String>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let token = token.into_inner();
    let s = load_state(&files, &actor, &token)?;
    if s.offset != s.size {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            msg: format!(
                "{}: only {} of {} bytes have arrived",
                s.path, s.offset, s.size
            ),
            extra: Some(json!({"offset": s.offset})),
        });
    }
    let _busy = Busy::take(&files, &token).ok_or_else(|| {
        e(
            StatusCode::CONFLICT,
            format!("{}: a chunk of this upload is still being sent", s.path),
        )
    })?;
    let t = target(&files, &actor, &s.path, Op::Write)?;
    let files2 = files.clone();
    let path = t.display();
    let size = s.size;
    web::block(move || -> Result<(), ApiError> {
        let old = fsops::check_new(&t)?;
        if old.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(e(
                StatusCode::CONFLICT,
                format!("{} is a folder", t.display()),
            ));
        }
        let old_size = old.map(|m| m.len()).unwrap_or(0);
        let _res = match &t.quota {
            Some(o) => Some(files2.quotas.reserve(
                o,
                files2.quotas.limit_of(o),
                size.saturating_sub(old_size),
            )?),
            None => None,
        };
        let dir = files2.layout.uploads();
        let part = dir.join(format!("{token}.part"));
        std::fs::File::open(&part)
            .and_then(|f| f.sync_all())
            .map_err(internal)?;
        std::fs::rename(&part, &t.real).map_err(|err| FsErr::io(&t, err))?;
        crate::atomic::sync_dir(&t.real);
        let _ = std::fs::remove_file(dir.join(format!("{token}.json")));
        if let Some(o) = &t.quota {
            files2.quotas.charge(o, size as i64 - old_size as i64);
        }
        Ok(())
    })
    .await??;
    Ok(HttpResponse::Ok().json(json!({"path": path, "size": size})))
}

/// Removes resumable uploads untouched for 24 hours and temporary files left by a crash.
pub fn purge_stale_uploads(layout: &crate::layout::Layout, now: i64) {
    let cutoff = now - 86_400;
    for e in std::fs::read_dir(layout.uploads())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(token) = name.strip_suffix(".json") {
            let stale = std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<UploadState>(&b).ok())
                .is_none_or(|s| s.updated_at < cutoff);
            if stale {
                let _ = std::fs::remove_file(layout.uploads().join(format!("{token}.part")));
                let _ = std::fs::remove_file(e.path());
            }
        } else if name.starts_with(crate::names::INTERNAL_PREFIX)
            && fsops::newest_mtime(&e.path()) < cutoff
        {
            let _ = std::fs::remove_dir_all(e.path());
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn used_limit(files: &Files, o: &QuotaOwner) -> serde_json::Value {
    json!({"used": files.quotas.usage(o), "limit": files.quotas.limit_of(o)})
}

async fn usage(req: HttpRequest, files: Data) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let v = web::block(move || {
        let home = used_limit(
            &files2,
            &QuotaOwner::Person {
                id: actor.id,
                login: actor.login.clone(),
            },
        );
        let groups: serde_json::Map<String, serde_json::Value> = policy::share_groups(&actor)
            .map(|(g, _, _)| {
                (
                    g.clone(),
                    used_limit(&files2, &QuotaOwner::Group(g.clone())),
                )
            })
            .collect();
        json!({"home": home, "groups": groups})
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct LoginsQ {
    logins: String,
}

async fn usage_people(
    req: HttpRequest,
    q: web::Query<LoginsQ>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    if actor.role != schola_core::directory::Role::Admin {
        return Err(e(
            StatusCode::FORBIDDEN,
            "only admins may see other people's usage",
        ));
    }
    let files2 = files.clone();
    let logins = q.logins.clone();
    let v = web::block(move || -> Result<_, ApiError> {
        let mut out = serde_json::Map::new();
        for l in logins.split(',').map(str::trim).filter(|l| !l.is_empty()) {
            let Some(p) = files2.store.person_by_login(l).map_err(internal)? else {
                continue;
            };
            files2
                .quotas
                .remember_person(p.id, &p.login, p.quota_mb, p.role);
            out.insert(
                p.login.clone(),
                used_limit(
                    &files2,
                    &QuotaOwner::Person {
                        id: p.id,
                        login: p.login,
                    },
                ),
            );
        }
        Ok(out)
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct HandoutReq {
    group: String,
    path: String,
    title: String,
    deadline: i64,
}

async fn handout_create(
    req: HttpRequest,
    body: web::Json<HandoutReq>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let body = body.into_inner();
    let h = web::block(move || -> Result<_, ApiError> {
        let source = VPath::parse(&body.path).map_err(Denied::from)?;
        if !policy::may(&actor, &Area::Group(body.group.clone()), Op::Write) {
            return Err(e(
                StatusCode::FORBIDDEN,
                format!("you may not hand out to the group {}", body.group),
            ));
        }
        let students: Vec<(i64, String)> = files2
            .store
            .group_members(&body.group)
            .map_err(internal)?
            .into_iter()
            .filter(|(p, _)| p.role == schola_core::directory::Role::Student && p.is_active())
            .map(|(p, _)| {
                files2
                    .quotas
                    .remember_person(p.id, &p.login, p.quota_mb, p.role);
                (p.id, p.login)
            })
            .collect();
        Ok(crate::handout::handout(
            &files2.layout,
            &files2.quotas,
            &actor,
            &body.group,
            &students,
            &source,
            &body.title,
            body.deadline,
            crate::now(),
        )?)
    })
    .await??;
    Ok(HttpResponse::Created().json(h))
}

async fn handout_list(req: HttpRequest, files: Data) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let v = web::block(move || crate::handout::list(&files2.layout, actor.id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn handout_collect(
    req: HttpRequest,
    id: web::Path<String>,
    files: Data,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &files).await?;
    let files2 = files.clone();
    let id = id.into_inner();
    let v = web::block(move || -> Result<_, ApiError> {
        let h = crate::handout::load(&files2.layout, &id)?;
        if h.teacher_id != actor.id && actor.role != schola_core::directory::Role::Admin {
            return Err(e(StatusCode::NOT_FOUND, format!("no hand-out {id}")));
        }
        Ok(crate::handout::collect(
            &files2.layout,
            &files2.quotas,
            &id,
            crate::now(),
        )?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[actix_web::test]
    async fn gather_joins_ready_pieces_and_keeps_every_byte() {
        let pieces: Vec<std::io::Result<bytes::Bytes>> = (0..10_000)
            .map(|i| Ok(bytes::Bytes::from(format!("<D:response>{i}</D:response>"))))
            .collect();
        let whole: Vec<u8> = pieces
            .iter()
            .flat_map(|p| p.as_ref().unwrap().to_vec())
            .collect();
        let out: Vec<bytes::Bytes> = Gather {
            inner: futures_util::stream::iter(pieces),
            buf: bytes::BytesMut::new(),
            done: false,
        }
        .map(|r| r.unwrap())
        .collect()
        .await;
        assert_eq!(out.concat(), whole);
        assert!(
            out.len() <= whole.len() / GATHER + 1,
            "{} pieces",
            out.len()
        );
        assert!(out.iter().all(|p| p.len() <= GATHER + 64));
    }

    /// A source that yields its pieces and says "not yet" where a `None` stands.
    struct Scripted(std::collections::VecDeque<Option<&'static str>>);

    impl futures_util::Stream for Scripted {
        type Item = std::io::Result<bytes::Bytes>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            match self.0.pop_front() {
                Some(Some(p)) => {
                    std::task::Poll::Ready(Some(Ok(bytes::Bytes::from_static(p.as_bytes()))))
                }
                Some(None) => {
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
                None => std::task::Poll::Ready(None),
            }
        }
    }

    #[actix_web::test]
    async fn gather_passes_on_what_it_has_while_the_source_waits() {
        let mut g = Gather {
            inner: Scripted([Some("a"), Some("b"), None, Some("c")].into()),
            buf: bytes::BytesMut::new(),
            done: false,
        };
        assert_eq!(g.next().await.unwrap().unwrap(), "ab");
        assert_eq!(g.next().await.unwrap().unwrap(), "c");
        assert!(g.next().await.is_none());
    }
}
