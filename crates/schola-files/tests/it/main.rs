#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! schola-files end to end: the real binary on a Unix socket, a school made through
//! schola-core, a small HTTP/1.1 client written out by hand (so a test can cut a body in half
//! or send one without a length).

mod api;
mod dav;
mod extras;
mod kit;
mod samba;
mod uploads;
