//! One capacity check from start to end, as `scholactl check`, the daily timer and the demo run
//! it: read the school from the directory, probe the machine, model the morning, judge each
//! resource, run the health checks, and store the result.

use std::time::Duration;

use schola_core::config::Config;
use schola_core::directory::Role;
use schola_core::store::Store;

use crate::health::{self, HealthContext};
use crate::model::{self, SchoolSize};
use crate::probe::{self, ProbeOptions};
use crate::profile::Profile;
use crate::verdict;
use crate::{Check, StormMeasurement};

/// How long the services probe may ask systemd and dpkg.
const SERVICES_TIMEOUT: Duration = Duration::from_secs(5);

/// What a check needs besides the configuration and the store.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub probe: ProbeOptions,
    /// A storm measured just before (`scholactl check --storm`).
    pub storm: Option<StormMeasurement>,
    /// Schola's version, for the record.
    pub version: String,
}

/// Active people by role.
pub fn school_size(store: &Store) -> schola_core::Result<SchoolSize> {
    Ok(SchoolSize {
        students: store.count_people(Some(Role::Student))?,
        teachers: store.count_people(Some(Role::Teacher))?,
        staff: store.count_people(Some(Role::Staff))?,
        admins: store.count_people(Some(Role::Admin))?,
    })
}

/// The profile the admin saved, or the defaults. A stored profile that no longer reads (an
/// older or hand-edited one) is reported, and the defaults are used.
pub fn profile(store: &Store) -> schola_core::Result<(Profile, Option<String>)> {
    match store.capacity_profile()? {
        None => Ok((Profile::default(), None)),
        Some(text) => match Profile::from_json(&text) {
            Ok(p) => Ok((p, None)),
            Err(e) => Ok((
                Profile::default(),
                Some(format!(
                    "the saved distance-learning profile is not valid ({e}); the defaults were used"
                )),
            )),
        },
    }
}

/// The newest stored check, when it still reads.
pub fn latest(store: &Store) -> schola_core::Result<Option<Check>> {
    Ok(store
        .latest_check()?
        .and_then(|c| serde_json::from_str::<Check>(&c.result).ok()))
}

/// Runs a check at `now` (Unix time). Nothing is stored; see [`save`].
pub fn run(
    cfg: &Config,
    store: &Store,
    opts: &CheckOptions,
    now: i64,
) -> schola_core::Result<(Check, Vec<String>)> {
    let mut notes = Vec::new();
    let school = school_size(store)?;
    let (profile, note) = profile(store)?;
    notes.extend(note);
    let previous = latest(store)?;
    let machine = probe::probe(cfg, school.people(), &opts.probe);
    let needs = model::needs(&school, &profile, &machine);
    let verdicts = verdict::verdicts(&school, &profile, &machine, &needs, opts.storm.as_ref());
    let ctx = HealthContext {
        now,
        previous_oom_kills: previous.as_ref().and_then(|c| c.machine.oom_kills),
        recent_load: store.load_minutes(now - 86_400)?,
        services: Some(schola_core::services::probe(SERVICES_TIMEOUT)),
        cert_pem: std::fs::read(cert_path(cfg)).ok(),
        mail_queue: None,
        backup: schola_core::backups::target(cfg, store)?.map(|_| {
            use schola_core::backups::{BackupPaths, Failure, Status};
            // a damaged status file is reported as the backup's failure
            BackupPaths::from_config(cfg)
                .read_status()
                .unwrap_or_else(|e| Status {
                    last_failure: Some(Failure {
                        time: now,
                        message: e.to_string(),
                        target_missing: false,
                    }),
                    ..Status::default()
                })
        }),
    };
    let health = health::checks(&machine, &ctx);
    let bounds = model::school_bounds(&machine, &profile);
    let (largest_school, largest_school_by) = match &opts.storm {
        // the measurement replaces the model's sign-in bound: the same formula with the
        // measured rate; memory and connections still bound it
        Some(s) if s.signins_per_sec > 0.0 => {
            let measured = (s.signins_per_sec
                * model::utilisation_target(&machine)
                * profile.storm_window_secs
                / profile.storm_share.max(0.01))
            .floor() as usize;
            let smallest = measured.min(bounds.memory).min(bounds.connections);
            (smallest, bound_name(smallest, measured, &bounds, "storm"))
        }
        _ => {
            let smallest = bounds.smallest();
            (
                smallest,
                bound_name(smallest, bounds.signin, &bounds, "signin"),
            )
        }
    };
    let school_name = store.school().map(|s| s.name).unwrap_or_default();
    let level = Check::overall(&verdicts, &health);
    Ok((
        Check {
            at: now,
            version: opts.version.clone(),
            school_name,
            school,
            profile,
            machine,
            needs,
            verdicts,
            health,
            storm: opts.storm.clone(),
            largest_school,
            largest_school_by: largest_school_by.into(),
            level,
        },
        notes,
    ))
}

/// Which bound is the smallest (the sign-in bound wins a tie: it is what the storm measures).
fn bound_name(
    smallest: usize,
    signin: usize,
    bounds: &model::SchoolBounds,
    signin_name: &'static str,
) -> &'static str {
    if smallest == signin {
        signin_name
    } else if smallest == bounds.memory {
        "memory"
    } else {
        "connections"
    }
}

/// Stores a check; returns its id.
pub fn save(store: &Store, check: &Check, trigger: &str) -> schola_core::Result<i64> {
    let json = serde_json::to_string(check).map_err(|e| {
        schola_core::Error::Invalid(format!("cannot encode the check as JSON: {e}"))
    })?;
    store.save_check(check.at, check.level.as_str(), trigger, &json)
}

/// The certificate the web server serves: the configured one, else the generated or uploaded
/// one in the state directory (as schola-web's `tls::pair_paths`).
fn cert_path(cfg: &Config) -> std::path::PathBuf {
    cfg.tls_pair().0
}
