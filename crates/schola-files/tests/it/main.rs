#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! schola-files' integration tests: one binary, one module per area.

mod samba;
