//! The waiting room: at most `Limits::in_flight` requests are worked on at once. Past that, a
//! request is answered at once with 503, a `Retry-After` of a few seconds (jittered, so the
//! browsers that were turned away together do not come back together) and a small page that
//! reloads itself after that time — never an unbounded queue, a hung request or a reset.
//!
//! Health checks and static assets are always admitted: they cost nothing, and a load balancer
//! or a browser's stylesheet must not be turned away.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus_client::metrics::counter::Counter;
use rand::Rng as _;

use crate::state::AppState;

/// Counts the requests being worked on, and (for the metrics) those let in and turned away.
#[derive(Debug, Default)]
pub struct Admission {
    in_flight: AtomicUsize,
    pub admitted: Counter,
    pub turned_away: Counter,
}

/// Gives the slot back when the request is done (or its handler was dropped).
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    fn try_enter(&self, limit: usize) -> Option<Slot<'_>> {
        let prev = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(&self.in_flight);
        (prev < limit).then_some(slot)
    }

    /// Requests being worked on now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

fn always_admitted(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/favicon.ico") || path.starts_with("/static/")
}

/// Seconds a turned-away client waits: 2 to 6, at random.
pub fn retry_after() -> u64 {
    rand::rng().random_range(2..=6)
}

/// The middleware (`actix_web::middleware::from_fn(admission::admit)`).
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if always_admitted(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    match state.admission.try_enter(state.limits.in_flight) {
        Some(_slot) => {
            state.admission.admitted.inc();
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        None => {
            state.admission.turned_away.inc();
            let secs = retry_after();
            tracing::debug!(
                path = req.path(),
                retry = secs,
                "waiting room: request turned away"
            );
            let (req, _) = req.into_parts();
            let resp = crate::pages::waiting_room_for(&req, secs);
            Ok(ServiceResponse::new(req, resp).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_given_back() {
        let a = Admission::default();
        let one = a.try_enter(2).expect("first");
        let two = a.try_enter(2).expect("second");
        assert!(a.try_enter(2).is_none(), "a third is turned away");
        assert_eq!(a.in_flight(), 2, "and leaves no trace");
        drop(one);
        let three = a.try_enter(2).expect("a slot was given back");
        drop((two, three));
        assert_eq!(a.in_flight(), 0);
        assert!((2..=6).contains(&retry_after()));
        assert!(always_admitted("/static/schola.css") && !always_admitted("/login"));
    }
}
