//! schola-files: homes, group shares and the staff exchange, reached through the portal's file
//! pages and WebDAV (both forwarded by schola-web over a Unix socket) and over SMB through Samba.
//!
//! One module, [`policy`], decides who may do what on which path for every way in. Paths are
//! parsed and checked by [`names`], mapped to disk by [`layout`], touched without following
//! links by [`fsops`]; uploads never lose data ([`atomic`]); [`quota`] limits every owner;
//! [`trash`] and [`handout`] are the portal's extras; [`dav`] and [`api`] are the two HTTP ways
//! in, served by [`server`]; [`samba`] provisions SMB.

pub mod api;
pub mod atomic;
pub mod dav;
pub mod fsops;
pub mod handout;
pub mod layout;
pub mod listing;
pub mod names;
pub mod policy;
pub mod props;
pub mod quota;
pub mod samba;
pub mod server;
pub mod small_get;
pub mod trash;
pub mod twins;

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
