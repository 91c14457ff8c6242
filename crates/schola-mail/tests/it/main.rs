#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test
//! schola-mail against Debian's Postfix and Dovecot (see kit.rs).

mod conf;
mod kit;
mod mail;
