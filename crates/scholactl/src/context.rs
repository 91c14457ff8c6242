//! What every command needs: the configuration, the store, the login scheme and new passwords
//! (generated, or read from stdin and checked against the policy).

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow, bail};
use schola_core::login::LoginScheme;
use schola_core::password::PasswordPolicy;
use schola_core::{Config, Store};

use crate::output;

/// The global options, resolved.
#[derive(Debug)]
pub struct Ctx {
    /// The main configuration file (from `--config`, `$SCHOLA_CONFIG` or the appliance path).
    pub config_path: PathBuf,
    pub json: bool,
}

impl Ctx {
    pub fn config(&self) -> Result<Config> {
        load_config(&self.config_path)
    }

    /// Opens the school's database, which `init` (or `demo`) must have made. Only a database of
    /// exactly this version's schema is used: an older one needs `scholactl db migrate` (which the
    /// package runs on upgrade), one from a newer Schola is refused.
    pub fn store(&self, cfg: &Config) -> Result<Store> {
        if cfg.database_path().exists() {
            become_state_owner(cfg)?;
        }
        open_existing_store(cfg)
    }
}

/// Opens the school's database as the running user, which `init` (or `demo`) must have made.
/// Only `backup` calls this directly: it stays root to read what the schola user cannot.
pub fn open_existing_store(cfg: &Config) -> Result<Store> {
    let db = cfg.database_path();
    if !db.exists() {
        bail!(
            "there is no database at {}; set the school up first with 'scholactl init' \
             (or give the right configuration with --config)",
            db.display()
        );
    }
    Store::open_current(&db, std::sync::Arc::new(schola_core::SystemClock))
        .with_context(|| format!("cannot open the database {}", db.display()))
}

pub fn load_config(path: &std::path::Path) -> Result<Config> {
    if !path.exists() {
        bail!(
            "there is no configuration file at {}; give one with --config PATH or {}",
            path.display(),
            schola_core::config::ENV_VAR
        );
    }
    Ok(Config::load(path)?)
}

/// On the appliance the state directory and the database belong to the `schola` user. When root
/// runs scholactl, it takes on that owner (user and group) before touching the database, so the
/// files SQLite creates (`-wal`, `-shm`, backups) stay usable by the daemons.
pub fn become_state_owner(cfg: &Config) -> Result<()> {
    use nix::unistd::{Gid, Uid, geteuid, setgid, setgroups, setuid};
    use std::os::unix::fs::MetadataExt as _;
    if !geteuid().is_root() {
        return Ok(());
    }
    let dir = &cfg.paths.state_dir;
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(());
    };
    if meta.uid() == 0 {
        return Ok(());
    }
    let (uid, gid) = (Uid::from_raw(meta.uid()), Gid::from_raw(meta.gid()));
    setgroups(&[gid])
        .and_then(|()| setgid(gid))
        .and_then(|()| setuid(uid))
        .with_context(|| format!("cannot act as uid {uid}, the owner of {}", dir.display()))
}

/// Opens (creating and migrating if needed) the database named by the configuration.
pub fn open_store(cfg: &Config) -> Result<Store> {
    become_state_owner(cfg)?;
    let (store, migration) = Store::open(&cfg.database_path())?;
    if let Some(m) = migration
        && m.from > 0
    {
        let backup = m
            .backup
            .map(|b| format!("; the old version is kept in {}", b.display()));
        output::note(&format!(
            "upgraded the database from schema version {} to {}{}",
            m.from,
            m.to,
            backup.unwrap_or_default()
        ));
    }
    Ok(store)
}

pub fn login_scheme(cfg: &Config) -> Result<LoginScheme> {
    LoginScheme::parse(&cfg.directory.login_scheme)
        .map_err(|e| anyhow!("directory.login_scheme in the configuration: {e}"))
}

pub fn password_policy(cfg: &Config) -> PasswordPolicy {
    PasswordPolicy {
        min_length: cfg.auth.password_min_length,
    }
}

/// A new password and whether it was generated (and so must be shown once).
#[derive(Debug)]
pub struct NewPassword {
    pub password: String,
    pub generated: bool,
}

impl NewPassword {
    /// Reads the password from stdin and checks it for `login`, or generates one.
    pub fn obtain(cfg: &Config, from_stdin: bool, login: &str) -> Result<NewPassword> {
        let policy = password_policy(cfg);
        if from_stdin {
            let password = read_password_line()?;
            policy
                .check(login, &password)
                .map_err(|e| anyhow!("the password on standard input is not accepted: {e}"))?;
            Ok(NewPassword {
                password,
                generated: false,
            })
        } else {
            Ok(NewPassword {
                password: generate_password(&policy, login)?,
                generated: true,
            })
        }
    }

    /// The password, if it was generated and has to be shown.
    pub fn shown(&self) -> Option<&str> {
        self.generated.then_some(self.password.as_str())
    }
}

/// A readable password long enough for the configured policy (groups of four are added when the
/// minimum length is above the usual 14 characters).
pub fn generate_password(policy: &PasswordPolicy, login: &str) -> Result<String> {
    Ok(schola_core::directory_admin::generate_password(
        policy, login,
    )?)
}

fn read_password_line() -> Result<String> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if n == 0 {
        bail!("--password-stdin was given but standard input is empty");
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(password.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_long_minimums() {
        for min in [6, 8, 14, 15, 20, 40] {
            let p = generate_password(&PasswordPolicy { min_length: min }, "anna.mueller").unwrap();
            assert!(p.chars().count() >= min, "{min}: {p}");
        }
    }
}
