//! The school's settings that an admin changes in the web UI, in the `settings` key/value table:
//! the school's name, mail domain and default language (first written by the first-run setup),
//! and the login-name scheme and minimum password length, which override the config file's
//! values once an admin has set them.
//!
//! Every change is checked before anything is written (with the same rules the first-run setup
//! uses), and written together with one audit entry per changed key in one transaction.

use std::ops::RangeInclusive;

use rusqlite::{OptionalExtension as _, Transaction, params};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor};
use crate::directory::{Language, School, clean_mail, clean_name};
use crate::error::{Error, Result};
use crate::login::LoginScheme;
use crate::store::Store;

/// The minimum password length an admin may choose. Below 6 a password falls to guessing over
/// the network despite the back-off; above 128 nobody could type one.
pub const PASSWORD_MIN_LENGTH: RangeInclusive<usize> = 6..=128;

const SCHOOL_NAME: &str = "school_name";
const MAIL_DOMAIN: &str = "mail_domain";
const DEFAULT_LANGUAGE: &str = "default_language";
const LOGIN_SCHEME: &str = "login_scheme";
const PASSWORD_MIN: &str = "password_min_length";
const BACKUP_TARGET: &str = "backup_target";

/// What an admin set in place of the config file's values; `None` = the config file's value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PolicyOverrides {
    pub login_scheme: Option<String>,
    pub password_min_length: Option<usize>,
}

/// Checks and cleans the school's name, mail domain and default language: the rules of the
/// first-run setup ([`Store::setup_school`]) and of the settings page.
pub fn check_school(school: &School) -> Result<School> {
    let name = clean_name("the school's name", &school.name)?;
    let domain = school.mail_domain.trim().to_ascii_lowercase();
    clean_mail(&format!("postmaster@{domain}")).map_err(|_| {
        Error::Invalid(format!(
            "'{}' is not a mail domain",
            school.mail_domain.escape_debug()
        ))
    })?;
    Ok(School {
        name,
        mail_domain: domain,
        default_language: school.default_language,
    })
}

/// Checks a login-name scheme such as `{given}.{family}`; returns it trimmed and parsed.
pub fn check_login_scheme(scheme: &str) -> Result<(String, LoginScheme)> {
    let s = scheme.trim();
    if s.is_empty() {
        return Err(Error::Invalid("the login-name scheme is empty".into()));
    }
    if s.len() > 64 {
        return Err(Error::Invalid(
            "the login-name scheme is longer than 64 characters".into(),
        ));
    }
    let parsed = LoginScheme::parse(s).map_err(Error::Invalid)?;
    Ok((s.to_string(), parsed))
}

pub fn check_password_min_length(n: usize) -> Result<usize> {
    if PASSWORD_MIN_LENGTH.contains(&n) {
        Ok(n)
    } else {
        Err(Error::Invalid(format!(
            "the minimum password length must be between {} and {}, not {n}",
            PASSWORD_MIN_LENGTH.start(),
            PASSWORD_MIN_LENGTH.end()
        )))
    }
}

/// Checks a backup target typed in the admin UI or the wizard: an absolute path (a USB disk's
/// or a mounted NAS share's folder) or `sftp:user@host:/path`.
pub fn check_backup_target(target: &str) -> Result<String> {
    let t = target.trim();
    let bad = |why: &str| {
        Err(Error::Invalid(format!(
            "the backup target {:?} {why}",
            t.chars().take(100).collect::<String>()
        )))
    };
    if t.is_empty() {
        return bad("is empty: give a folder such as /media/backup/schola or sftp:user@host:/path");
    }
    if t.len() > 1024 || t.chars().any(char::is_control) {
        return bad("is too long or holds a control character");
    }
    if let Some(rest) = t.strip_prefix("sftp:") {
        let ok = rest.split_once(':').is_some_and(|(host, path)| {
            !host.is_empty() && !host.starts_with('-') && !path.is_empty()
        });
        return if ok {
            Ok(t.to_string())
        } else {
            bad("is not sftp:user@host:/path")
        };
    }
    if !t.starts_with('/') {
        return bad("must be a folder's full path (starting with /) or sftp:user@host:/path");
    }
    if t.split('/').any(|part| part == "..") {
        return bad("may not hold '..'");
    }
    Ok(t.to_string())
}

impl Store {
    /// The backup target an admin set in the web UI (`[backup] repository` of the
    /// configuration wins over it).
    pub fn backup_target(&self) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [BACKUP_TARGET],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.sqlite_err(e))
    }

    /// Sets (or, with `None`, removes) the backup target, checked, with an audit entry.
    pub fn set_backup_target(&self, actor: &Actor, target: Option<&str>) -> Result<Option<String>> {
        let clean = target.map(check_backup_target).transpose()?;
        let now = self.now();
        self.write(|tx| {
            change(tx, now, actor, BACKUP_TARGET, clean.as_deref()).map_err(|e| self.sqlite_err(e))
        })?;
        Ok(clean)
    }

    /// The login-name scheme and minimum password length an admin has set, if any.
    pub fn policy_overrides(&self) -> Result<PolicyOverrides> {
        let conn = self.conn()?;
        let get = |k: &str| -> Result<Option<String>> {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sqlite_err(e))
        };
        Ok(PolicyOverrides {
            login_scheme: get(LOGIN_SCHEME)?,
            password_min_length: get(PASSWORD_MIN)?.and_then(|v| v.parse().ok()),
        })
    }

    /// Changes the school's name, mail domain and default language (`None` removes the
    /// default). Returns the settings as stored.
    pub fn set_school(&self, actor: &Actor, school: &School) -> Result<School> {
        let clean = check_school(school)?;
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            change(tx, now, actor, SCHOOL_NAME, Some(&clean.name)).map_err(sql)?;
            change(tx, now, actor, MAIL_DOMAIN, Some(&clean.mail_domain)).map_err(sql)?;
            change(
                tx,
                now,
                actor,
                DEFAULT_LANGUAGE,
                clean.default_language.map(Language::as_str),
            )
            .map_err(sql)?;
            Ok(())
        })?;
        Ok(clean)
    }

    /// Sets (or, with `None`, removes) the admin's login-name scheme and minimum password
    /// length. Both are checked before either is written.
    pub fn set_policy_overrides(
        &self,
        actor: &Actor,
        policy: &PolicyOverrides,
    ) -> Result<PolicyOverrides> {
        let scheme = policy
            .login_scheme
            .as_deref()
            .map(check_login_scheme)
            .transpose()?
            .map(|(s, _)| s);
        let min = policy
            .password_min_length
            .map(check_password_min_length)
            .transpose()?;
        let now = self.now();
        self.write(|tx| {
            let sql = |e| self.sqlite_err(e);
            change(tx, now, actor, LOGIN_SCHEME, scheme.as_deref()).map_err(sql)?;
            change(
                tx,
                now,
                actor,
                PASSWORD_MIN,
                min.map(|n| n.to_string()).as_deref(),
            )
            .map_err(sql)?;
            Ok(())
        })?;
        Ok(PolicyOverrides {
            login_scheme: scheme,
            password_min_length: min,
        })
    }
}

/// Writes one setting (`None` deletes it) and, if its value changed, an audit entry with the old
/// and the new value.
fn change(
    tx: &Transaction<'_>,
    now: i64,
    actor: &Actor,
    key: &str,
    value: Option<&str>,
) -> rusqlite::Result<()> {
    let old: Option<String> = tx
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    if old.as_deref() == value {
        return Ok(());
    }
    match value {
        Some(v) => tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, v],
        )?,
        None => tx.execute("DELETE FROM settings WHERE key = ?1", [key])?,
    };
    audit::record(
        tx,
        now,
        actor,
        "settings.changed",
        Some(key),
        json!({"old": old, "new": value}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[test]
    fn backup_targets_are_checked_and_audited() {
        let (store, _, _d) = testing::store();
        assert_eq!(store.backup_target().unwrap(), None);
        for good in ["/media/usb/schola", " sftp:backup@nas.local:/srv/restic "] {
            let set = store.set_backup_target(&admin(), Some(good)).unwrap();
            assert_eq!(set.as_deref(), Some(good.trim()));
            assert_eq!(store.backup_target().unwrap().as_deref(), Some(good.trim()));
        }
        for bad in [
            "",
            "media/usb",
            "/media/../etc",
            "sftp:-oProxyCommand=x:/p",
            "sftp:host",
            "/a\nb",
        ] {
            let e = store.set_backup_target(&admin(), Some(bad)).unwrap_err();
            assert!(e.to_string().starts_with("the backup target"), "{bad}: {e}");
        }
        assert_eq!(
            store.backup_target().unwrap().as_deref(),
            Some("sftp:backup@nas.local:/srv/restic"),
            "a refused target changes nothing"
        );
        store.set_backup_target(&admin(), None).unwrap();
        assert_eq!(store.backup_target().unwrap(), None);
    }

    fn admin() -> Actor {
        Actor::person("admin", Some("10.0.0.5".into()))
    }

    fn school(name: &str, domain: &str) -> School {
        School {
            name: name.into(),
            mail_domain: domain.into(),
            default_language: Some(Language::Nl),
        }
    }

    #[test]
    fn school_settings_are_cleaned_stored_and_audited_per_changed_key() {
        let (store, _, _d) = testing::store();
        let stored = store
            .set_school(
                &admin(),
                &school("  Basisschool De Linde ", "Linde.School.Example "),
            )
            .unwrap();
        assert_eq!(stored.name, "Basisschool De Linde");
        assert_eq!(stored.mail_domain, "linde.school.example");
        assert_eq!(store.school().unwrap(), stored);
        let log = store.audit_log(Some("settings"), 10, 0).unwrap();
        assert_eq!(log.len(), 3, "name, domain, language: {log:?}");

        // only what changed is audited; removing the default language deletes the key
        store
            .set_school(
                &admin(),
                &School {
                    default_language: None,
                    ..stored.clone()
                },
            )
            .unwrap();
        let log = store.audit_log(Some("settings"), 10, 0).unwrap();
        assert_eq!(log.len(), 4);
        assert_eq!(log[0].target.as_deref(), Some("default_language"));
        assert_eq!(log[0].detail, r#"{"new":null,"old":"nl"}"#);
        assert_eq!(log[0].client_addr.as_deref(), Some("10.0.0.5"));
        assert_eq!(store.school().unwrap().default_language, None);
    }

    #[test]
    fn bad_school_settings_change_nothing() {
        let (store, _, _d) = testing::store();
        store
            .set_school(&admin(), &school("Linde", "linde.example"))
            .unwrap();
        for (bad, why) in [
            (school("", "linde.example"), "is empty"),
            (school("Linde\u{7}", "linde.example"), "control character"),
            (school(&"x".repeat(101), "linde.example"), "at most 100"),
            (school("Linde", "linde"), "not a mail domain"),
            (school("Linde", "li nde.example"), "not a mail domain"),
            (school("Linde", "a@b.example"), "not a mail domain"),
        ] {
            let e = store.set_school(&admin(), &bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert_eq!(store.school().unwrap().name, "Linde");
        assert_eq!(store.audit_log(Some("settings"), 10, 0).unwrap().len(), 3);
    }

    #[test]
    fn policy_overrides_are_checked_together_and_can_be_removed() {
        let (store, _, _d) = testing::store();
        assert_eq!(
            store.policy_overrides().unwrap(),
            PolicyOverrides::default()
        );
        let set = PolicyOverrides {
            login_scheme: Some(" {g}{family} ".into()),
            password_min_length: Some(12),
        };
        let stored = store.set_policy_overrides(&admin(), &set).unwrap();
        assert_eq!(stored.login_scheme.as_deref(), Some("{g}{family}"));
        assert_eq!(store.policy_overrides().unwrap(), stored);

        for bad in [
            PolicyOverrides {
                login_scheme: Some("{given}+{family}".into()),
                password_min_length: Some(10),
            },
            PolicyOverrides {
                login_scheme: Some("{nickname}".into()),
                password_min_length: Some(10),
            },
            PolicyOverrides {
                login_scheme: Some("{given}".into()),
                password_min_length: Some(5),
            },
            PolicyOverrides {
                login_scheme: Some("{given}".into()),
                password_min_length: Some(129),
            },
            PolicyOverrides {
                login_scheme: Some("   ".into()),
                password_min_length: None,
            },
        ] {
            assert!(
                matches!(
                    store.set_policy_overrides(&admin(), &bad),
                    Err(Error::Invalid(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(store.policy_overrides().unwrap(), stored, "nothing changed");

        store
            .set_policy_overrides(&admin(), &PolicyOverrides::default())
            .unwrap();
        assert_eq!(
            store.policy_overrides().unwrap(),
            PolicyOverrides::default()
        );
        assert_eq!(store.audit_log(Some("settings"), 10, 0).unwrap().len(), 4);
    }

    #[test]
    fn minimum_length_bounds() {
        assert!(check_password_min_length(6).is_ok());
        assert!(check_password_min_length(128).is_ok());
        let e = check_password_min_length(4).unwrap_err().to_string();
        assert!(e.contains("between 6 and 128, not 4"), "{e}");
    }
}
