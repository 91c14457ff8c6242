//! Request bodies must keep arriving. actix-http bounds the time to send the request head
//! (`client_request_timeout`) but not the body, so a client could hold a connection and a
//! waiting-room slot by announcing a body and never sending it, or by trickling it a byte at a
//! time. This middleware wraps the body stream: a pause longer than `Limits::body_timeout`, or
//! an average rate below `Limits::body_min_rate` after the first `body_timeout` (Apache's
//! `mod_reqtimeout` model), ends the request with 408 and closes the connection.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _, HttpResponse, web};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::state::AppState;

/// The request body, with the deadline enforced.
struct Deadline {
    inner: Payload,
    idle: Duration,
    min_rate: u64,
    /// Set at the first poll: time the server takes before reading is not the client's.
    started: Option<Instant>,
    received: u64,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Deadline {
    fn new(inner: Payload, idle: Duration, min_rate: u64, expired: Rc<Cell<bool>>) -> Deadline {
        Deadline {
            inner,
            idle,
            min_rate: min_rate.max(1),
            started: None,
            received: 0,
            timer: Box::pin(tokio::time::sleep(idle)),
            expired,
        }
    }

    /// The next time by which more of the body must have come.
    fn rearm(&mut self, now: Instant, started: Instant) {
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        let by_rate = started + self.idle + earned;
        self.timer.as_mut().reset(by_rate.min(now + self.idle));
    }
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.get() {
            return Poll::Ready(None);
        }
        let started = match this.started {
            Some(s) => s,
            None => {
                let now = Instant::now();
                this.started = Some(now);
                this.rearm(now, now);
                now
            }
        };
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                this.rearm(Instant::now(), started);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.expired.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body stopped arriving",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// 408, and the connection is closed: its half-sent body cannot be skipped.
fn timed_out() -> HttpResponse {
    HttpResponse::build(StatusCode::REQUEST_TIMEOUT)
        .force_close()
        .content_type("text/plain; charset=utf-8")
        .body("The request took too long to arrive. Please try again.")
}

/// The middleware (`actix_web::middleware::from_fn(body::deadline)`).
pub async fn deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limits = req.app_data::<web::Data<AppState>>().map(|s| s.limits);
    let payload = req.take_payload();
    let (Some(limits), false) = (limits, matches!(payload, Payload::None)) else {
        req.set_payload(payload);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let expired = Rc::new(Cell::new(false));
    let body = Deadline::new(
        payload,
        limits.body_timeout,
        limits.body_min_rate,
        Rc::clone(&expired),
    );
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    // (not a clone of the request: routing needs it unshared)
    let client = req.peer_addr().map(|a| a.ip());
    let res = next.call(req).await;
    if !expired.get() {
        return res.map(ServiceResponse::map_into_left_body);
    }
    let res = res.map_err(|_| {
        actix_web::error::InternalError::from_response("request body timed out", timed_out())
    })?;
    let (http_req, _) = res.into_parts();
    tracing::info!(
        client = ?client,
        path = http_req.path(),
        "request body stopped arriving: 408, connection closed"
    );
    if let Some(m) = http_req.app_data::<web::Data<crate::metrics::Metrics>>() {
        m.body_timeouts.inc();
    }
    Ok(ServiceResponse::new(http_req, timed_out()).map_into_right_body())
}
