//! The admin UI. Every handler here starts with `gate(&req, &state, Need::Admin)`, the one
//! place that decides who may open an admin page.

pub mod audit;
pub mod capacity;
pub mod groups;
pub mod import;
pub mod notices;
pub mod people;
pub mod services;
pub mod settings;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(people::routes)
        .configure(groups::routes)
        .configure(import::routes)
        .configure(audit::routes)
        .configure(services::routes)
        .configure(settings::routes)
        .configure(notices::routes)
        .configure(capacity::routes);
}
