//! A streaming reverse proxy to `schola-files` over its Unix socket (`Config::files_socket()`).
//!
//! schola-web stays the one TLS edge: it authenticates the request (session cookie for the
//! portal's `/files/api/...`, HTTP Basic for `/dav/...`), drops whatever `X-Schola-*` headers the
//! client sent, sets `X-Schola-Person: <id>`, and streams the request to schola-files with hyper's
//! HTTP/1 client; the answer streams back the same way. Neither body is ever held whole:
//!
//! - the request body (actix's `Payload`, which is not `Send`) is pumped by a task on this
//!   worker (`spawn_local`) into a channel of [`CHANNEL_CHUNKS`] chunks that hyper reads from.
//!   When schola-files (or its disk) is slower than the client, the channel is full, the pump
//!   stops reading the payload, actix stops reading the socket, and TCP pushes back on the
//!   client: memory stays a few chunks whatever the size;
//! - the answer's body is handed to actix as a [`MessageBody`] that polls hyper's body, so a
//!   download is sent as fast as the client reads it, with its length when schola-files gave one.
//!
//! The body deadline (`body.rs`) still applies: it wraps the payload the pump reads, so a client
//! that stops sending for `body_timeout` (or trickles below 500 B/s) gets 408, the pump passes
//! the error on, hyper aborts the request to schola-files, and schola-files throws the partial
//! upload away (it only renames a complete temp file into place).
//!
//! Idle connections to schola-files are kept (up to [`MAX_IDLE`]) and reused once the previous
//! answer's body was read to the end. When schola-files is not running, the answer is 503 with
//! "the file service is not running" (JSON for the portal's API, text for WebDAV).

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

/// Chunks of the request body in flight between the pump and hyper. actix hands out chunks of
/// at most a few tens of KiB, so this bounds the request side to well under a MiB.
pub const CHANNEL_CHUNKS: usize = 8;
/// Idle connections to schola-files kept for reuse.
pub const MAX_IDLE: usize = 32;

/// The header that carries the authenticated person to schola-files.
pub const PERSON_HEADER: &str = "x-schola-person";

/// Headers of one hop only (RFC 9110 §7.6.1), never passed on; the framing (`content-length`,
/// `transfer-encoding`) is set by each side's own HTTP stack.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Why a request could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The socket is missing or nobody listens on it.
    #[error("the file service is not running ({path}: {source})")]
    Down { path: String, source: io::Error },
    /// schola-files answered something that is not HTTP, or hung up mid-way.
    #[error("the file service failed to answer: {0}")]
    Upstream(#[from] hyper::Error),
    #[error("the request could not be forwarded: {0}")]
    Request(String),
    /// schola-files refused the request (with its own message).
    #[error("the file service answered {status}: {message}")]
    Status { status: u16, message: String },
}

/// How an error is shown: JSON for the portal's scripts, plain text for WebDAV clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Json,
    Text,
}

/// An error answer in the given flavour.
pub fn error_response(status: StatusCode, message: &str, flavour: Flavour) -> HttpResponse {
    let mut b = HttpResponse::build(status);
    match flavour {
        Flavour::Json => b
            .content_type("application/json")
            .body(serde_json::json!({ "error": message }).to_string()),
        Flavour::Text => b
            .content_type("text/plain; charset=utf-8")
            .body(format!("{message}\n")),
    }
}

impl ProxyError {
    pub fn response(&self, flavour: Flavour) -> HttpResponse {
        match self {
            ProxyError::Down { .. } => {
                tracing::warn!(error = %self, "schola-files cannot be reached");
                let mut r = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The file service is not running. Please try again later or tell the \
                     school's administrator.",
                    flavour,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
                r
            }
            _ => {
                tracing::warn!(error = %self, "forwarding to schola-files failed");
                error_response(
                    StatusCode::BAD_GATEWAY,
                    "The file service failed to answer. Please try again.",
                    flavour,
                )
            }
        }
    }
}

/// Idle connections to schola-files, ready for the next request.
type Pool = Arc<Mutex<Vec<SendRequest<ChannelBody>>>>;

/// The proxy: the socket's path and the idle connections.
#[derive(Debug)]
pub struct FilesProxy {
    socket: PathBuf,
    idle: Pool,
}

impl FilesProxy {
    pub fn new(socket: PathBuf) -> FilesProxy {
        FilesProxy {
            socket,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    fn take_idle(&self) -> Option<SendRequest<ChannelBody>> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    /// Sends `request` on an idle connection, or on a new one when none is idle or the idle one
    /// turns out closed before the request went out (the request comes back then, unsent).
    async fn send(
        &self,
        mut request: hyper::Request<ChannelBody>,
    ) -> Result<(SendRequest<ChannelBody>, hyper::Response<Incoming>), ProxyError> {
        while let Some(mut sender) = self.take_idle() {
            // a connection given back as its answer ended may still be finishing that answer
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(r) => return Ok((sender, r)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(e.into_error().into()),
                },
            }
        }
        let mut sender = self.connect().await?;
        let response = sender.send_request(request).await?;
        Ok((sender, response))
    }

    async fn connect(&self) -> Result<SendRequest<ChannelBody>, ProxyError> {
        let down = |source| ProxyError::Down {
            path: self.socket.display().to_string(),
            source,
        };
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(down)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        actix_web::rt::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "a connection to schola-files ended with an error");
            }
        });
        Ok(sender)
    }

    /// Forwards `req` (with its body `payload`) to schola-files as `upstream` (path and query),
    /// on behalf of `person`, and streams the answer back.
    pub async fn forward(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        upstream: &str,
        person: i64,
    ) -> Result<HttpResponse, ProxyError> {
        let mut builder = hyper::Request::builder()
            .method(req.method().as_str())
            .uri(upstream);
        for (name, value) in req.headers() {
            let n = name.as_str();
            if HOP_BY_HOP.contains(&n)
                || n.starts_with("x-schola-")
                || n == "host"
                || n == "content-length"
                || n == "authorization"
                || n == "cookie"
                || n == "expect"
            {
                continue;
            }
            builder = builder.header(n, value.as_bytes());
        }
        builder = builder
            .header("host", "schola-files")
            .header(PERSON_HEADER, person.to_string());
        if let Some(ip) = req.peer_addr() {
            builder = builder.header("x-forwarded-for", ip.ip().to_string());
        }
        let body = ChannelBody::for_request(req, payload);
        let request = builder
            .body(body)
            .map_err(|e| ProxyError::Request(e.to_string()))?;

        let (sender, response) = self.send(request).await?;
        let (parts, incoming) = response.into_parts();
        let mut out = HttpResponse::build(
            StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
        );
        for (name, value) in &parts.headers {
            let n = name.as_str();
            if HOP_BY_HOP.contains(&n) || n == "content-length" {
                continue;
            }
            out.append_header((n, value.as_bytes()));
        }
        // A HEAD answer has no body but names the length of the GET's: pass that on.
        let len = if req.method() == actix_web::http::Method::HEAD {
            parts
                .headers
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        } else {
            incoming.size_hint().exact()
        };
        Ok(out.body(UpstreamBody {
            inner: incoming,
            len,
            give_back: Some((sender, Arc::clone(&self.idle))),
        }))
    }
}

impl FilesProxy {
    /// A small GET of schola-files' own (not a client's request), e.g. the usage the admin's
    /// person page shows; the answer is read whole (at most 1 MiB).
    pub async fn get_json(&self, uri: &str, person: i64) -> Result<Bytes, ProxyError> {
        let request = hyper::Request::builder()
            .method("GET")
            .uri(uri)
            .header("host", "schola-files")
            .header("accept", "application/json")
            .header(PERSON_HEADER, person.to_string())
            .body(ChannelBody {
                rx: None,
                len: Some(0),
            })
            .map_err(|e| ProxyError::Request(e.to_string()))?;
        let (sender, response) = self.send(request).await?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(d) = frame?.into_data() {
                if out.len() + d.len() > 1 << 20 {
                    return Err(ProxyError::Status {
                        status,
                        message: "the answer is too long".into(),
                    });
                }
                out.extend_from_slice(&d);
            }
        }
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<serde_json::Value>(&out)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&out).chars().take(200).collect());
            return Err(ProxyError::Status { status, message });
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
            && !sender.is_closed()
        {
            idle.push(sender);
        }
        Ok(Bytes::from(out))
    }
}

/// The request body as hyper reads it: chunks from the pump on the actix side.
pub struct ChannelBody {
    rx: Option<mpsc::Receiver<Result<Bytes, io::Error>>>,
    len: Option<u64>,
}

impl ChannelBody {
    /// Empty for requests without a body; else a channel fed by a task on this worker.
    fn for_request(req: &HttpRequest, payload: web::Payload) -> ChannelBody {
        let headers = req.headers();
        let len = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        if !chunked && len.unwrap_or(0) == 0 {
            return ChannelBody {
                rx: None,
                len: Some(0),
            };
        }
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        actix_web::rt::spawn(pump(payload, tx));
        ChannelBody {
            rx: Some(rx),
            len: if chunked { None } else { len },
        }
    }
}

/// Moves the payload into the channel; `send` waits while the channel is full (back-pressure).
async fn pump(mut payload: web::Payload, tx: mpsc::Sender<Result<Bytes, io::Error>>) {
    while let Some(item) = payload.next().await {
        let item = item.map_err(|e| io::Error::other(e.to_string()));
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            // schola-files stopped reading (it answered already), or the client's body broke
            break;
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let Some(rx) = this.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Err(e))) => {
                this.rx = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.rx = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rx.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.len {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// The answer's body as actix sends it; the connection goes back to the pool once read to the
/// end.
struct UpstreamBody {
    inner: Incoming,
    len: Option<u64>,
    give_back: Option<(SendRequest<ChannelBody>, Pool)>,
}

impl UpstreamBody {
    fn done(&mut self) {
        if let Some((sender, idle)) = self.give_back.take()
            && !sender.is_closed()
            && let Ok(mut idle) = idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(sender);
        }
    }
}

impl Drop for UpstreamBody {
    /// actix never reads an empty body (a 201 to a PUT, a 204, a HEAD): its connection goes
    /// back all the same, or every upload would open a new one.
    fn drop(&mut self) {
        if self.inner.is_end_stream() || self.len == Some(0) {
            self.done();
        }
    }
}

impl MessageBody for UpstreamBody {
    type Error = hyper::Error;

    fn size(&self) -> BodySize {
        match self.len {
            Some(n) => BodySize::Sized(n),
            None => BodySize::Stream,
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, hyper::Error>>> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Poll::Ready(Some(Ok(data)));
                    }
                    // trailers and empty frames: nothing to send
                }
                Poll::Ready(Some(Err(e))) => {
                    this.give_back = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done();
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_lower_case() {
        for h in HOP_BY_HOP {
            assert_eq!(h, h.to_ascii_lowercase());
        }
    }
}
