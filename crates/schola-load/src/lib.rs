//! schola-load: Schola's load generator. Browsers at home sign in over HTTPS (a new TCP + TLS
//! connection each, the sign-in form, the sign-in, the start page) at random times within a
//! window, against a Schola on this machine's loopback only. `scholactl check --storm` runs
//! [`run_storm`] against the running appliance; `schola-bench` builds its storm and capacity
//! benchmarks on the same code, so what the check measures is what the benchmarks measure.

pub mod browser;
pub mod client;
pub mod stats;
pub mod storm;

pub use storm::{StormReport, StormSpec, run_storm};
