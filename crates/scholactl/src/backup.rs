//! `scholactl backup` and `scholactl restore`: the school's backups through schola-backup
//! (restic). The repository and its password file come from the flags or from `[backup]` in the
//! configuration.
//!
//! These commands run as root and stay root (unlike the directory commands, which take on the
//! state directory's owner): the backup reads `/etc/schola`, the mail and Samba's passwords,
//! which the `schola` user cannot. SQLite, run as root, gives the `-wal` and `-shm` files it
//! may create the database's owner, so the daemons can still open them.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use schola_backup::{Layout, Restic, Retention, Target};
use schola_core::Config;
use serde_json::json;

use crate::cli::{BackupCommand, RepoArgs, RestoreCommand};
use crate::context::Ctx;
use crate::output;

pub fn backup(ctx: &Ctx, cmd: BackupCommand) -> Result<()> {
    let cfg = ctx.config()?;
    match cmd {
        BackupCommand::Init(repo) => {
            let restic = restic(&cfg, &repo)?;
            restic.init()?;
            let repo = &restic.target().repo;
            if ctx.json {
                output::print_json(&json!({ "repository": repo, "created": true }))
            } else {
                output::print(&format!(
                    "made the backup repository {repo}\nkeep the password file's passphrase \
                     somewhere off this machine: without it the backup cannot be read\n"
                ))
            }
        }
        BackupCommand::Run(repo) => {
            let restic = restic(&cfg, &repo)?;
            let store = crate::context::open_existing_store(&cfg)?;
            let outcome = schola_backup::back_up(&restic, &store, &Layout::of(&cfg));
            // a backup to the configured target counts for the dashboard like a nightly one
            if repo.repo.is_none() {
                crate::backup_helper::record_manual(&cfg, &restic, &outcome);
            }
            let report = outcome?;
            if ctx.json {
                return output::print_json(&report);
            }
            let s = &report.summary;
            let mut text = format!(
                "backup {} made in {:.1} s\n  added to the repository: {} (of {} read)\n  \
                 files: {} new, {} changed, {} unchanged\n",
                s.snapshot_id,
                report.duration_secs,
                size(s.data_added),
                size(s.total_bytes_processed),
                s.files_new,
                s.files_changed,
                s.files_unmodified
            );
            for note in &report.notes {
                text.push_str(&format!("  {note}\n"));
            }
            output::print(&text)
        }
        BackupCommand::List(repo) => {
            let snaps = restic(&cfg, &repo)?.snapshots()?;
            if ctx.json {
                return output::print_json(&snaps);
            }
            if snaps.is_empty() {
                return output::print("no backups yet\n");
            }
            let rows: Vec<Vec<String>> = snaps
                .iter()
                .map(|s| {
                    vec![
                        s.short_id.clone(),
                        format!(
                            "{} UTC",
                            s.time.get(..16).unwrap_or(&s.time).replace('T', " ")
                        ),
                        s.hostname.clone(),
                        s.tags.join(","),
                    ]
                })
                .collect();
            output::print(&output::table(&["id", "time", "host", "tags"], &rows))
        }
        BackupCommand::Check(repo) => {
            let restic = restic(&cfg, &repo)?;
            restic.check()?;
            let repo = &restic.target().repo;
            if ctx.json {
                output::print_json(&json!({ "repository": repo, "ok": true }))
            } else {
                output::print(&format!("the backup repository {repo} is intact\n"))
            }
        }
        BackupCommand::Forget {
            repo,
            keep_daily,
            keep_weekly,
            keep_monthly,
        } => {
            let keep = Retention {
                daily: keep_daily.unwrap_or(cfg.backup.keep_daily),
                weekly: keep_weekly.unwrap_or(cfg.backup.keep_weekly),
                monthly: keep_monthly.unwrap_or(cfg.backup.keep_monthly),
            };
            if keep.daily == 0 && keep.weekly == 0 && keep.monthly == 0 {
                bail!("keeping 0 days, 0 weeks and 0 months would delete every backup");
            }
            let outcome = restic(&cfg, &repo)?.forget(keep)?;
            if ctx.json {
                output::print_json(
                    &json!({ "retention": keep, "kept": outcome.kept, "removed": outcome.removed }),
                )
            } else {
                output::print(&format!(
                    "kept {}, removed {} (the last of each of {} days, {} weeks, {} months)\n",
                    output::count(outcome.kept, "backup", "backups"),
                    outcome.removed,
                    keep.daily,
                    keep.weekly,
                    keep.monthly
                ))
            }
        }
        // dispatched by main, for their own exit statuses
        BackupCommand::Nightly { .. }
        | BackupCommand::RunRequest
        | BackupCommand::PreUpgrade { .. }
        | BackupCommand::RecoverySheet { .. } => {
            bail!("internal: dispatched by main")
        }
    }
}

pub fn restore(ctx: &Ctx, cmd: RestoreCommand) -> Result<()> {
    let cfg = ctx.config()?;
    let (what, landed) = match cmd {
        RestoreCommand::File {
            repo,
            snapshot,
            path,
            to,
        } => {
            let restic = restic(&cfg, &repo)?;
            let landed = schola_backup::restore_path(&restic, &snapshot, &path, &to)?;
            (path.display().to_string(), landed)
        }
        RestoreCommand::Mailbox {
            repo,
            snapshot,
            login,
            to,
        } => {
            let restic = restic(&cfg, &repo)?;
            let store = crate::context::open_existing_store(&cfg)?;
            let landed = schola_backup::restore_mailbox(
                &restic,
                &store,
                &Layout::of(&cfg),
                &login,
                &snapshot,
                to.as_deref(),
            )?;
            (format!("the mailbox of {login}"), landed)
        }
        RestoreCommand::Server {
            repo,
            snapshot,
            replace,
        } => return restore_server(ctx, &cfg, &repo, &snapshot, replace),
    };
    if ctx.json {
        output::print_json(&json!({ "restored": what, "to": landed }))
    } else {
        output::print(&format!(
            "restored {} to {}\n",
            output::printable(&what),
            landed.display()
        ))
    }
}

/// The whole school onto this machine. Stays root (like `backup`): it writes the state, the
/// files, the mail, `/etc/schola` and Samba's passdb, and gives each the owner of its place.
fn restore_server(
    ctx: &Ctx,
    cfg: &Config,
    repo: &RepoArgs,
    snapshot: &str,
    replace: bool,
) -> Result<()> {
    let restic = restic(cfg, repo)?;
    let done = schola_backup::restore_server(
        &restic,
        snapshot,
        &Layout::of(cfg),
        schola_backup::ServerOptions { replace },
    )?;
    if ctx.json {
        return output::print_json(&done);
    }
    let mut text = format!(
        "restored the school from backup {} (made on {} by Schola {}): {}\n",
        done.snapshot.get(..8).unwrap_or(&done.snapshot),
        output::printable(&done.from_host),
        output::printable(&done.from_version),
        output::count(done.people, "person", "people"),
    );
    for p in &done.restored {
        text.push_str(&format!("  {} → {}\n", p.what, p.to.display()));
    }
    for note in &done.notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    text.push_str(
        "next: start Schola with 'systemctl restart schola.target' and sign in as before, \
         with the admin password the school had when the backup was made\n",
    );
    output::print(&text)
}

/// The repository from `--repo`/`--password-file`, else from `[backup]`.
fn restic(cfg: &Config, args: &RepoArgs) -> Result<Restic> {
    // the target chosen in the admin UI or the first-run setup, when neither the flags nor the
    // configuration name one (and the school's database is there to ask)
    let ui = || {
        (args.repo.is_none() && cfg.backup.repository.is_none() && cfg.database_path().exists())
            .then(|| crate::context::open_existing_store(cfg).ok())
            .flatten()
            .and_then(|store| schola_core::backups::target(cfg, &store).ok().flatten())
    };
    let ui = ui();
    let repo = args
        .repo
        .clone()
        .or_else(|| cfg.backup.repository.clone())
        .or_else(|| ui.as_ref().map(|t| t.repository.clone()))
        .ok_or_else(|| {
            anyhow!(
                "no backup repository: give --repo PATH, set repository in [backup] of the configuration, or choose one under Backup in the admin UI"
            )
        })?;
    let password_file = args
        .password_file
        .clone()
        .or_else(|| cfg.backup.password_file.clone())
        .or_else(|| ui.as_ref().map(|t| t.password_file.clone()))
        .ok_or_else(|| {
            anyhow!(
                "no backup password file: give --password-file FILE or set password_file in [backup] of the configuration"
            )
        })?;
    // a relative --repo is taken from the current directory, as any path on the command line
    let repo = if repo.contains(':') {
        repo
    } else {
        std::path::absolute(Path::new(&repo))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(repo)
    };
    crate::backup_helper::with_ssh(
        cfg,
        Restic::new(Target {
            repo,
            password_file,
        }),
    )
}

/// Bytes in binary units: "512 B", "3.4 MiB".
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(21 * 1024 * 1024 + 300_000), "21.3 MiB");
    }
}
