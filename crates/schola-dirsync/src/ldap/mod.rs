//! The upstream directory: people and classes from an OpenLDAP or Active Directory server
//! (`[import.ldap]`), and the upstream password check for the people synced from it.
//!
//! [`fetch`] reads the whole tree on every sync and hands a [`Roster`] to the same diff and
//! apply as a CSV import. The upstream is complete for every role it maps, so a person missing
//! from it has left. What it reads:
//!
//! - **people**: a subtree search under `base_dn` with `user_filter`, read in pages of
//!   `page_size` (RFC 2696 paged results; AD answers at most 1,000 entries per search and
//!   OpenLDAP's default size limit is 500). The stable id is `id_attribute`: `objectGUID`
//!   (16 bytes on AD) becomes the GUID string AD's tools show
//!   (`3f2504e0-4f89-41d3-9a0c-0305e82c3301`), any other attribute (`entryUUID`) is read as
//!   text. Names are cleaned like a CSV's; a login that Schola cannot use is dropped with a
//!   warning (Schola derives one from the name; the person still signs in with their upstream
//!   password, which is checked by binding as their DN). An entry without an id or a name is
//!   rejected naming its DN and the attribute.
//! - **roles**: the server evaluates the filters. `(&(user_filter)(teacher_filter))` and the
//!   same for `staff_filter` are searched for DNs only; teacher wins over staff, everyone else
//!   is a student.
//! - **classes**: groups under `group_base_dn` (else `base_dn`) matching `group_filter` whose
//!   `group_name_attribute` matches the regular expression `class_pattern`; the first capture
//!   group is the class. Members are DNs (`member`, `uniqueMember`), compared case-insensitively
//!   and without the spaces around `=` and `,`, or logins when the attribute is `memberUid`.
//!   Nested groups are not followed.
//!
//! Transport: `ldaps://`, or `ldap://` with StartTLS, through rustls; the server's certificate
//! must chain to `ca_file` (a PEM file, which may hold several certificates) or, without it,
//! to the system's trust anchors. Plain `ldap://` is refused unless the server is on loopback.
//! Every connect and every operation gives up after `timeout_secs`. The service account's
//! password is read from `bind_password_file` (a trailing newline is not part of it); without
//! that file the search is anonymous.

mod conn;
mod map;
#[cfg(feature = "test-slapd")]
pub mod testing;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use schola_core::config::Ldap;

use self::conn::Conn;
use self::map::{Entry, Found, parenthesised};
pub use self::map::{guid_string, normalize_dn};
use crate::roster::Roster;

/// Why the upstream directory could not be read or asked. Every message names the server (the
/// configured URL) and what failed.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    /// The `[import.ldap]` settings cannot work (not an LDAP URL, a broken class pattern).
    #[error("import.ldap: {0}")]
    Config(String),
    /// `ldap://` without StartTLS to a server that is not on this machine.
    #[error(
        "refusing plain LDAP to {url}: the bind password and everyone's names would cross the \
         network unencrypted; use ldaps:// or set import.ldap.starttls = true (plain ldap:// is \
         only allowed to a server on loopback)"
    )]
    Insecure { url: String },
    #[error("cannot read the LDAP bind password file {}: {reason}", path.display())]
    PasswordFile { path: PathBuf, reason: String },
    #[error("cannot use the CA file {} for {url}: {reason}", path.display())]
    CaFile {
        url: String,
        path: PathBuf,
        reason: String,
    },
    /// TCP: refused, unreachable, name not found, the connection dropped.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The TLS handshake or StartTLS failed; for an untrusted certificate the reason names the
    /// CA file (or the system store) that was tried.
    #[error("TLS with {url} failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("{url} did not answer within {secs} s while {what}")]
    Timeout {
        url: String,
        what: String,
        secs: u64,
    },
    #[error("{url} refused the bind as {dn}: {reason}")]
    Bind {
        url: String,
        dn: String,
        reason: String,
    },
    #[error("searching {url} under {base} for {filter} failed: {reason}")]
    Search {
        url: String,
        base: String,
        filter: String,
        reason: String,
    },
}

/// The bind password from its file, without the trailing newline an editor leaves.
fn read_password(path: &Path) -> Result<String, LdapError> {
    let err = |reason: String| LdapError::PasswordFile {
        path: path.to_path_buf(),
        reason,
    };
    let raw = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let password = raw.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        // A simple bind with a DN and no password is an unauthenticated (anonymous) bind.
        return Err(err("it is empty".into()));
    }
    Ok(password.to_string())
}

fn dedup_attrs(attrs: &[&str]) -> Vec<String> {
    let mut seen = HashSet::new();
    attrs
        .iter()
        .filter(|a| !a.is_empty() && seen.insert(a.to_ascii_lowercase()))
        .map(|a| a.to_string())
        .collect()
}

/// Reads every person (and the class groups) from the upstream directory: a paged search
/// (RFC 2696, `page_size`), mapped to a Roster with source = `Source::Ldap`, origin = the URL,
/// profile `ldap`, roles = [Student, Teacher, Staff] (the upstream is complete for every role
/// it maps).
pub async fn fetch(cfg: &Ldap) -> Result<Roster, LdapError> {
    let pattern = Regex::new(&cfg.class_pattern).map_err(|e| {
        LdapError::Config(format!(
            "class_pattern '{}' is not a regular expression: {e}",
            cfg.class_pattern
        ))
    })?;
    let password = cfg
        .bind_password_file
        .as_deref()
        .map(read_password)
        .transpose()?;
    let mut conn = Conn::open(cfg).await?;
    if let Some(password) = password {
        let r = conn.bind(&cfg.bind_dn, &password).await?;
        if r.rc != 0 {
            let mut reason = conn::describe_result(&r);
            if r.rc == 49
                && let Some(file) = &cfg.bind_password_file
            {
                reason.push_str(&format!(
                    "; check bind_dn and the password in {}",
                    file.display()
                ));
            }
            return Err(LdapError::Bind {
                url: cfg.url.clone(),
                dn: cfg.bind_dn.clone(),
                reason,
            });
        }
    } else if !cfg.bind_dn.trim().is_empty() {
        tracing::warn!(
            "import.ldap: bind_dn {} has no bind_password_file; reading {} anonymously",
            cfg.bind_dn,
            cfg.url
        );
    }
    let found = search_all(&mut conn, cfg).await;
    conn.unbind().await;
    Ok(map::roster(cfg, &pattern, found?))
}

async fn search_all(conn: &mut Conn, cfg: &Ldap) -> Result<Found, LdapError> {
    let page = cfg.page_size;
    let user_filter = parenthesised(&cfg.user_filter);
    let attrs = dedup_attrs(&[
        &cfg.id_attribute,
        &cfg.login_attribute,
        &cfg.given_name_attribute,
        &cfg.family_name_attribute,
        &cfg.mail_attribute,
    ]);
    let people = conn
        .paged_search(&cfg.base_dn, &user_filter, attrs, page)
        .await?
        .into_iter()
        .map(Entry::from_search)
        .collect();
    let mut found = Found {
        people,
        ..Found::default()
    };
    for (filter, into) in [
        (&cfg.teacher_filter, &mut found.teachers),
        (&cfg.staff_filter, &mut found.staff),
    ] {
        let Some(f) = filter.as_deref().filter(|f| !f.trim().is_empty()) else {
            continue;
        };
        let both = format!("(&{user_filter}{})", parenthesised(f));
        // `1.1`: no attributes, the DNs are all that is needed
        for e in conn
            .paged_search(&cfg.base_dn, &both, vec!["1.1".into()], page)
            .await?
        {
            into.insert(normalize_dn(&e.dn));
        }
    }
    let group_base = cfg
        .group_base_dn
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or(&cfg.base_dn);
    found.groups = conn
        .paged_search(
            group_base,
            &parenthesised(&cfg.group_filter),
            dedup_attrs(&[&cfg.group_name_attribute, &cfg.group_member_attribute]),
            page,
        )
        .await?
        .into_iter()
        .map(Entry::from_search)
        .collect();
    Ok(found)
}

/// Checks a person's upstream password with a simple bind as `dn` on a fresh connection (same
/// TLS rules); Ok(true) on success, Ok(false) on invalidCredentials (49), Err for everything
/// else (server down, TLS). An empty password is always Ok(false) without contacting the
/// server (unauthenticated bind must never count as success).
pub async fn verify_password(cfg: &Ldap, dn: &str, password: &str) -> Result<bool, LdapError> {
    if password.is_empty() || dn.trim().is_empty() {
        return Ok(false);
    }
    let mut conn = Conn::open(cfg).await?;
    let r = conn.bind(dn, password).await;
    conn.unbind().await;
    let r = r?;
    match r.rc {
        0 => Ok(true),
        49 => Ok(false),
        _ => Err(LdapError::Bind {
            url: cfg.url.clone(),
            dn: dn.to_string(),
            reason: conn::describe_result(&r),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_password_never_reaches_the_server() {
        // port 9 on a documentation address: a connection attempt would fail or hang
        let cfg = Ldap {
            url: "ldaps://192.0.2.1:9".into(),
            ..Ldap::default()
        };
        assert!(!verify_password(&cfg, "uid=a,dc=x", "").await.unwrap());
        assert!(!verify_password(&cfg, "", "secret").await.unwrap());
    }

    #[tokio::test]
    async fn plain_ldap_to_another_host_is_refused_before_connecting() {
        let cfg = Ldap {
            url: "ldap://192.0.2.1:389".into(),
            starttls: false,
            ..Ldap::default()
        };
        let err = verify_password(&cfg, "uid=a,dc=x", "pw")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("ldap://192.0.2.1:389"), "{err}");
        assert!(err.contains("unencrypted"), "{err}");
    }

    #[test]
    fn the_password_file_loses_its_newline_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").unwrap();
        assert_eq!(read_password(&p).unwrap(), "s3cret");
        std::fs::write(&p, "\n").unwrap();
        let err = read_password(&p).unwrap_err().to_string();
        assert!(
            err.contains(&p.display().to_string()) && err.contains("empty"),
            "{err}"
        );
        let missing = dir.path().join("nope");
        let err = read_password(&missing).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[tokio::test]
    async fn a_broken_class_pattern_is_a_config_error() {
        let cfg = Ldap {
            url: "ldaps://192.0.2.1:9".into(),
            class_pattern: "^class-(".into(),
            ..Ldap::default()
        };
        let err = fetch(&cfg).await.unwrap_err().to_string();
        assert!(err.contains("class_pattern"), "{err}");
    }
}
