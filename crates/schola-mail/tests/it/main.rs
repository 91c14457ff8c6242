//! schola-mail against Debian's Postfix and Dovecot (see kit.rs).

mod conf;
mod kit;
mod mail;
