//! The audit log, filterable.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
