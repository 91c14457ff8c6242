//! `schola-mail`: school e-mail on Debian's Postfix and Dovecot. This crate answers their
//! questions from the Schola directory and generates their configuration:
//!
//! - [`book`]: the address book (addresses, aliases, lists), rebuilt when the journal moves;
//! - [`socketmap`]: Postfix's lookups;
//! - [`policy`]: the sending rules (who may post to a list, rate limits, inside-only);
//! - [`auth`]: Dovecot's accounts (argon2id hashes, homes, quotas) over its dict protocol;
//! - [`conf`]: main.cf, master.cf and dovecot.conf;
//! - [`server`]: the daemon that serves the three sockets;
//! - [`local`]: Postfix and Dovecot started by hand on 127.0.0.1, for demos and tests.

pub mod auth;
pub mod book;
pub mod conf;
pub mod local;
pub mod policy;
pub mod server;
pub mod socketmap;
