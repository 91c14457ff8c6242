//! Requests from the admin UI's capacity page to the capacity helpers, as small files in
//! `<state_dir>/capacity-request/`, the same privilege boundary the Updates page uses:
//! schola-web (user schola) can leave a request and nothing else.
//!
//! - `check`: run a capacity check now (`schola-check.service`, user schola);
//! - `fix`: apply one safe configuration fix the last check proposed, e.g.
//!   `web.max_connections=4000` (`schola-capacity-fix.service`, root, because it writes
//!   `/etc/schola/conf.d/` and restarts schola-web).
//!
//! The fix helper trusts nothing in the file: the key must be one of [`FIXABLE`] and the value
//! within its range, or the request is refused and removed.

use std::path::PathBuf;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::updates::{take_request_file, write_request_file};

/// Longest request file accepted.
const MAX_REQUEST: u64 = 128;

/// The configuration keys a fix may set, with the range a value must lie in. All of them only
/// raise or lower how much load schola-web accepts; none opens anything new.
pub const FIXABLE: &[(&str, &str, u64, u64)] = &[
    ("web", "max_connections", 256, 200_000),
    ("web", "max_connections_per_client", 16, 200_000),
    ("web", "max_in_flight", 16, 65_536),
    ("web", "max_signins_waiting", 16, 65_536),
];

/// What the capacity page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapacityRequest {
    Check,
    Fix {
        section: String,
        key: String,
        value: u64,
    },
}

impl CapacityRequest {
    /// A fix, checked against [`FIXABLE`].
    pub fn fix(section: &str, key: &str, value: u64) -> Result<CapacityRequest> {
        let Some(&(_, _, lo, hi)) = FIXABLE
            .iter()
            .find(|(s, k, _, _)| *s == section && *k == key)
        else {
            return Err(Error::Invalid(format!(
                "[{}] {} cannot be changed from the capacity page",
                section.escape_debug(),
                key.escape_debug()
            )));
        };
        if !(lo..=hi).contains(&value) {
            return Err(Error::Invalid(format!(
                "[{section}] {key} = {value} is out of range ({lo} to {hi})"
            )));
        }
        Ok(CapacityRequest::Fix {
            section: section.into(),
            key: key.into(),
            value,
        })
    }

    fn file(&self) -> &'static str {
        match self {
            CapacityRequest::Check => "check",
            CapacityRequest::Fix { .. } => "fix",
        }
    }

    fn line(&self) -> String {
        match self {
            CapacityRequest::Check => "check".into(),
            CapacityRequest::Fix {
                section,
                key,
                value,
            } => format!("{section}.{key}={value}"),
        }
    }

    fn parse(file: &str, text: &str) -> Result<CapacityRequest> {
        let t = text.trim();
        let bad = || {
            Error::Invalid(format!(
                "the capacity request '{file}' holds {:?}, which is not a request; it was removed",
                t.chars().take(40).collect::<String>()
            ))
        };
        match file {
            "check" if t == "check" => Ok(CapacityRequest::Check),
            "fix" => {
                let (name, value) = t.split_once('=').ok_or_else(bad)?;
                let (section, key) = name.split_once('.').ok_or_else(bad)?;
                let value: u64 = value.parse().map_err(|_| bad())?;
                CapacityRequest::fix(section, key, value)
            }
            _ => Err(bad()),
        }
    }
}

/// Where requests are left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestDir {
    pub dir: PathBuf,
}

impl RequestDir {
    pub fn from_config(cfg: &Config) -> RequestDir {
        RequestDir {
            dir: cfg.paths.state_dir.join("capacity-request"),
        }
    }

    /// The helpers exist only where the package made the directory (an appliance).
    pub fn managed(&self) -> bool {
        self.dir.is_dir()
    }

    /// True while a request of this kind waits for its helper.
    pub fn waiting(&self, check: bool) -> bool {
        self.dir.join(if check { "check" } else { "fix" }).exists()
    }

    /// The web side: leaves a request. Refused while one of the same kind is waiting.
    pub fn write(&self, req: &CapacityRequest) -> Result<()> {
        write_request_file(
            &self.dir,
            req.file(),
            &req.line(),
            "a request of this kind is already waiting; try again in a minute",
        )
    }

    /// The helper's side: takes (reads and removes) the waiting request of this kind. The file
    /// was written by an unprivileged user: no symbolic link is followed, it must be a small
    /// regular file and hold exactly one valid request.
    pub fn take(&self, check: bool) -> Result<Option<CapacityRequest>> {
        let file = if check { "check" } else { "fix" };
        match take_request_file(&self.dir.join(file), MAX_REQUEST, "the capacity request")? {
            None => Ok(None),
            Some(text) => CapacityRequest::parse(file, &text).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn a_fix_round_trips_and_anything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = RequestDir {
            dir: dir.path().join("capacity-request"),
        };
        let fix = CapacityRequest::fix("web", "max_connections", 4_000).unwrap();
        r.write(&fix).unwrap();
        assert!(r.waiting(false));
        assert!(r.write(&fix).is_err(), "one at a time");
        assert_eq!(r.take(false).unwrap(), Some(fix));
        assert_eq!(r.take(false).unwrap(), None, "taken means removed");

        r.write(&CapacityRequest::Check).unwrap();
        assert_eq!(r.take(true).unwrap(), Some(CapacityRequest::Check));

        assert!(CapacityRequest::fix("paths", "state_dir", 1).is_err());
        assert!(CapacityRequest::fix("web", "max_connections", 10).is_err());
        fs::write(r.dir.join("fix"), "paths.state_dir=5\n").unwrap();
        let e = r.take(false).unwrap_err().to_string();
        assert!(e.contains("[paths] state_dir cannot be changed"), "{e}");
        assert!(!r.dir.join("fix").exists(), "a bad request is removed");
        fs::write(r.dir.join("fix"), "web.max_connections=lots").unwrap();
        assert!(r.take(false).is_err());
    }
}
