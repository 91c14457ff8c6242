//! The services page: each daemon's health, version and uptime, and the limits in force.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
