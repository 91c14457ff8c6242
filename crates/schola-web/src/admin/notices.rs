//! Notices for the start page: write, list, remove.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
