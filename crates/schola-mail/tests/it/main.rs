//! schola-mail against Debian's Postfix and Dovecot (see kit.rs).

mod kit;
mod mail;
