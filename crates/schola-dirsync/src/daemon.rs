//! The `schola-dirsync` daemon's work, one round at a time:
//!
//! - **Drop folder**: a CSV put into `[import] drop_dir` (default
//!   `/var/lib/schola/import/incoming/`) is read once it has not changed for a few seconds, its
//!   diff is stored as a pending import, and the file moves to `../processed/` (or, when it
//!   cannot be read, to `../failed/` with a `.txt` beside it saying why). With `auto_apply` the
//!   import is applied at once; otherwise it waits for the admin in the admin UI.
//! - **Upstream LDAP/AD**: every `interval_minutes`, the upstream is read and the change applied
//!   (a sync follows its upstream), except when it would disable more than 30 % of the synced
//!   people: then it waits for approval like a dropped file.
//! - **Purges**: people disabled longer than the grace period are purged; the journal's
//!   `person.purged` tells the file and mail daemons to archive what they left.
//!
//! Password letters of accounts made here wait in the letters directory for one download in
//! the admin UI.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use schola_core::audit::Actor;
use schola_core::{Config, Store};
use serde::Serialize;

use crate::apply::{self, Outcome, Rules};
use crate::csv::{self, ProfileChoice};
use crate::letters::{BatchMeta, LetterStore};
use crate::plan::Plan;
use crate::roster::Roster;

/// A dropped file is taken once it has not changed for this long (an `scp` in progress is not).
pub const SETTLE: Duration = Duration::from_secs(3);

/// What one round did, for the log and the tests.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Round {
    /// (file name, import id) of each dropped file taken.
    pub prepared: Vec<(String, i64)>,
    pub applied: Vec<i64>,
    /// (file name, reason) of each file that could not be imported.
    pub failed: Vec<(String, String)>,
    pub purged: usize,
}

fn actor() -> Actor {
    Actor::system("schola-dirsync")
}

/// Takes every settled CSV in the drop folder.
pub fn scan_drop_dir(cfg: &Config, store: &Store, now: SystemTime) -> std::io::Result<Round> {
    let dir = cfg.import_drop_dir();
    let mut round = Round::default();
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp") {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let settled = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= SETTLE);
        if settled {
            files.push(entry.path());
        }
    }
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match take_file(cfg, store, &path, &name) {
            Ok((id, applied)) => {
                move_to(&path, &dir, "processed", &name, None)?;
                round.prepared.push((name, id));
                if applied {
                    round.applied.push(id);
                }
            }
            Err(reason) => {
                log::warn!("drop folder: {name}: {reason}");
                move_to(&path, &dir, "failed", &name, Some(&reason))?;
                round.failed.push((name, reason));
            }
        }
    }
    Ok(round)
}

fn take_file(cfg: &Config, store: &Store, path: &Path, name: &str) -> Result<(i64, bool), String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if len > csv::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "the file is {} MiB; at most {} MiB are read",
            len / (1024 * 1024),
            csv::MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        format!("cannot read the file ({e}); it must be readable by the user schola")
    })?;
    let roster = csv::read_csv(&bytes, name, &ProfileChoice::Auto, &cfg.import)
        .map_err(|e| e.to_string())?;
    let rules = Rules::in_force(cfg, store).map_err(|e| e.to_string())?;
    let (id, plan) = apply::prepare(store, &actor(), &roster, &rules).map_err(|e| e.to_string())?;
    log::info!(
        "drop folder: {name}: import #{id} prepared ({})",
        summary_line(&plan)
    );
    if cfg.import.auto_apply && !mass_leave(&plan) {
        apply_now(cfg, store, id, &rules).map_err(|e| format!("import #{id}: {e}"))?;
        return Ok((id, true));
    }
    Ok((id, false))
}

/// Applies stored import `id` and keeps the letters for one download.
fn apply_now(cfg: &Config, store: &Store, id: i64, rules: &Rules) -> schola_core::Result<()> {
    match apply::apply_import(store, &actor(), id, rules)? {
        Outcome::Applied(done) => {
            log::info!(
                "import #{id} applied: {} created, {} updated, {} moved, {} disabled, {} re-enabled, {} purged",
                done.summary.create,
                done.summary.update,
                done.summary.moves,
                done.summary.disable,
                done.summary.enable,
                done.summary.purge
            );
            if !done.letters.is_empty() {
                let put = LetterStore::new(cfg.letters_dir()).put(
                    &done.letters,
                    &BatchMeta {
                        created_at: store.now(),
                        import_id: Some(id),
                        created_by: actor().name,
                    },
                );
                if let Err(e) = put {
                    log::error!(
                        "import #{id}: the password letters could not be stored in {}: {e}; make new passwords for the new accounts in the admin UI",
                        cfg.letters_dir().display()
                    );
                }
            }
        }
        Outcome::Changed(_) => {
            log::warn!(
                "import #{id}: the directory changed while it was applied; it waits for approval"
            );
        }
    }
    Ok(())
}

fn mass_leave(plan: &Plan) -> bool {
    plan.warnings
        .iter()
        .any(|w| w.line.is_none() && w.message.contains("would be disabled as leavers"))
}

fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    format!(
        "{} new, {} changed, {} moved, {} leaving, {} back, {} purged, {} rejected rows",
        s.create, s.update, s.moves, s.disable, s.enable, s.purge, s.rejected
    )
}

fn move_to(
    path: &Path,
    dir: &Path,
    sub: &str,
    name: &str,
    reason: Option<&str>,
) -> std::io::Result<()> {
    let target_dir = dir
        .parent()
        .map(|p| p.join(sub))
        .unwrap_or_else(|| dir.join(sub));
    std::fs::create_dir_all(&target_dir)?;
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let target = target_dir.join(format!("{stamp}-{name}"));
    std::fs::rename(path, &target)?;
    if let Some(reason) = reason {
        std::fs::write(target.with_extension("txt"), format!("{reason}\n"))?;
    }
    Ok(())
}

/// Syncs the upstream directory once: the change is applied unless it looks like a mistake
/// (see [`mass_leave`]); an empty change stores nothing.
pub async fn sync_ldap(cfg: &Config, store: &Store) -> Result<Option<(i64, bool)>, String> {
    let Some(ldap) = &cfg.import.ldap else {
        return Ok(None);
    };
    let roster: Roster = crate::ldap::fetch(ldap).await.map_err(|e| e.to_string())?;
    let rules = Rules::in_force(cfg, store).map_err(|e| e.to_string())?;
    let plan = apply::diff(store, &roster, &rules).map_err(|e| e.to_string())?;
    if plan.is_empty() {
        log::info!(
            "upstream {}: no change ({} people)",
            ldap.url,
            roster.people.len()
        );
        return Ok(None);
    }
    let (id, plan) = apply::prepare(store, &actor(), &roster, &rules).map_err(|e| e.to_string())?;
    log::info!(
        "upstream {}: import #{id} ({})",
        ldap.url,
        summary_line(&plan)
    );
    if mass_leave(&plan) {
        log::warn!(
            "upstream {}: import #{id} would disable many people; it waits for approval in the admin UI",
            ldap.url
        );
        return Ok(Some((id, false)));
    }
    apply_now(cfg, store, id, &rules).map_err(|e| e.to_string())?;
    Ok(Some((id, true)))
}

/// Purges everyone disabled longer than the grace period.
pub fn purge_due(cfg: &Config, store: &Store) -> schola_core::Result<usize> {
    let due = store.due_purges()?;
    if due.is_empty() {
        return Ok(0);
    }
    let reuse = cfg.directory.login_reuse_days;
    store.batch(&actor(), |b| {
        for (id, login) in &due {
            b.purge(*id, login, reuse)?;
        }
        Ok(())
    })?;
    log::info!(
        "purged {} people disabled longer than {} days",
        due.len(),
        cfg.directory.purge_grace_days
    );
    Ok(due.len())
}
