//! schola-dirsync: people and classes from school administration software (CSV exports) and
//! from an upstream LDAP or Active Directory.
//!
//! Every source becomes a [`roster::Roster`] (checked rows, rejected rows with their line and
//! reason, repairs as warnings). [`plan`] compares a roster with the directory and computes the
//! whole change before anything is written; [`apply`] writes it in one transaction through
//! schola-core, whose change journal tells mail and files about the new people. The same path
//! serves `scholactl import`, the admin UI and the daemon (drop folder, scheduled LDAP sync,
//! purges after the grace period).

pub mod apply;
pub mod csv;
pub mod daemon;
pub mod ldap;
pub mod letters;
pub mod plan;
pub mod roster;
