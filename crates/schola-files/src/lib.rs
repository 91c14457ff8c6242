//! schola-files: homes, group shares and the staff exchange, reached through the portal's file
//! pages and WebDAV (both forwarded by schola-web over a Unix socket) and over SMB through Samba.
//!
//! One module, [`policy`], decides who may do what on which path for every way in.
pub mod samba;
