//! Settings: school name and logo, mail domain, login-name scheme, password policy, TLS certificate.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
