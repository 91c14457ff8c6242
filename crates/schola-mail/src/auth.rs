//! Dovecot's accounts, answered over Dovecot's dict protocol (`passdb { driver = dict }` with
//! `uri = proxy:<socket>:schola`): a line per command, `H...` to say hello, `L<key>` to look a
//! key up; the answer is `O<value>`, `N` (not found) or `F<error>`.
//!
//! - `shared/passdb/<user>`: `{"user": <login>, "password": "{ARGON2ID}<PHC string>"}` — the
//!   same argon2id hash every Schola sign-in checks, so there is no second password store. A
//!   disabled person, or one without a password, is not found: they cannot sign in.
//! - `shared/userdb/<user>`: the mailbox's home (`<vmail_dir>/<person id>`: an id never
//!   changes, so a renamed person keeps their mail) and quota. Disabled people are found here,
//!   so mail to them is still delivered until they are purged.
//!
//! - `shared/master/<name>`: the webmail's master user ([`MASTER_USER`]): the SHA-256 of its
//!   secret. Dovecot asks this first for a login `<person>*schola-webmail`, then looks the
//!   person up in `passdb/` without their password — so a disabled person cannot be reached
//!   through the webmail either. The secret is 256 random bits, so a fast hash is enough.
//!
//! `<user>` is what the person typed (their login or any of their addresses) or, for delivery,
//! the recipient address; the answer's `user` makes Dovecot use the login from then on.

use std::path::Path;

use schola_core::config::Mail as MailConfig;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::book::Book;

const MAX_LINE: u64 = 4096;

/// The master user schola-web's webmail signs in as (`<login>*schola-webmail`).
pub const MASTER_USER: &str = "schola-webmail";

/// The webmail's secret, as Dovecot's `{SHA256.HEX}` scheme stores it.
#[derive(Clone)]
pub struct MasterSecret {
    sha256_hex: String,
}

impl MasterSecret {
    pub fn new(secret: &str) -> MasterSecret {
        use sha2::Digest as _;
        MasterSecret {
            sha256_hex: hex::encode(sha2::Sha256::digest(secret.trim().as_bytes())),
        }
    }

    /// Reads the secret from `path`, making it first (0600, 256 random bits) when missing.
    pub fn load_or_create(path: &Path) -> std::io::Result<MasterSecret> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        match std::fs::read_to_string(path) {
            Ok(s) => return Ok(MasterSecret::new(&s)),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let tmp = path.with_extension("new");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(secret.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(MasterSecret::new(&secret))
    }
}

impl std::fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterSecret(<hidden>)")
    }
}

/// The answer to one lookup (a JSON object), or `None` for "not found".
pub fn lookup(
    book: &Book,
    cfg: &MailConfig,
    vmail_dir: &Path,
    master: Option<&MasterSecret>,
    key: &str,
) -> Option<String> {
    let key = key.strip_prefix("shared/").unwrap_or(key);
    if let Some(name) = key.strip_prefix("master/") {
        let m = master.filter(|_| name == MASTER_USER)?;
        return Some(format!(
            "{{\"password\":\"{{SHA256.HEX}}{}\"}}",
            m.sha256_hex
        ));
    }
    if let Some(user) = key.strip_prefix("passdb/") {
        let m = book.account(user)?;
        let hash = m.password_hash.as_deref().filter(|_| m.active)?;
        return Some(format!(
            "{{\"user\":{},\"password\":{}}}",
            json_str(&m.login),
            json_str(&format!("{{ARGON2ID}}{hash}"))
        ));
    }
    if let Some(user) = key.strip_prefix("userdb/") {
        let m = book.account(user)?;
        let mb = if m.is_staff() {
            cfg.staff_quota_mb
        } else {
            cfg.student_quota_mb
        };
        let home = vmail_dir.join(m.id.to_string());
        return Some(format!(
            "{{\"user\":{},\"home\":{},\"quota_rule\":\"*:storage={mb}M\"}}",
            json_str(&m.login),
            json_str(&home.to_string_lossy())
        ));
    }
    None
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Dovecot's tab escaping (`str_tabunescape`): `\x01` followed by `0 1 t r n`.
fn tab_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\x01' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('0') => out.push('\0'),
            Some('1') => out.push('\x01'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Serves one connection of Dovecot's dict client.
pub async fn serve<S>(
    stream: S,
    book: impl Fn() -> std::sync::Arc<Book>,
    fresh: impl Fn() -> Option<std::sync::Arc<Book>>,
    cfg: &MailConfig,
    vmail_dir: &Path,
    master: Option<&MasterSecret>,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let (r, mut w) = tokio::io::split(stream);
    let mut r = tokio::io::BufReader::new(r);
    let mut line = String::new();
    loop {
        line.clear();
        if (&mut r).take(MAX_LINE).read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if !line.ends_with('\n') {
            let _ = w.write_all(b"Fa request line too long\n").await;
            return Ok(());
        }
        let l = line.trim_end_matches(['\n', '\r']);
        let reply = match l.as_bytes().first() {
            // hello: version, value type, user, dict name; nothing is answered
            Some(b'H') => None,
            Some(b'L') => {
                let key = tab_unescape(l[1..].split('\t').next().unwrap_or(""));
                // someone just created signs in: ask the directory as it is now
                let found = lookup(&book(), cfg, vmail_dir, master, &key)
                    .or_else(|| fresh().and_then(|b| lookup(&b, cfg, vmail_dir, master, &key)));
                Some(match found {
                    Some(v) => format!("O{v}\n"),
                    None => "N\n".to_string(),
                })
            }
            Some(_) => Some(format!(
                "Fschola-mail answers lookups only, not '{}'\n",
                l.chars().next().unwrap_or(' ')
            )),
            None => None,
        };
        if let Some(reply) = reply {
            w.write_all(reply.as_bytes()).await?;
            if r.buffer().is_empty() {
                w.flush().await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::tests::school;

    #[test]
    fn passdb_gives_the_argon2id_hash_of_active_people_only() {
        let b = Book::build(&school(), &[]);
        let cfg = MailConfig::default();
        let v = Path::new("/var/vmail");
        let anna = lookup(&b, &cfg, v, None, "shared/passdb/anna").unwrap();
        assert_eq!(
            anna,
            r#"{"user":"anna","password":"{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$anna"}"#
        );
        // an address works as the user name, and the answer names the login
        assert!(
            lookup(&b, &cfg, v, None, "shared/passdb/BEN.BERG@s.test")
                .unwrap()
                .starts_with(r#"{"user":"ben""#)
        );
        assert_eq!(
            lookup(&b, &cfg, v, None, "shared/passdb/dora"),
            None,
            "disabled"
        );
        assert_eq!(
            lookup(&b, &cfg, v, None, "shared/passdb/5a@s.test"),
            None,
            "a list"
        );
        assert_eq!(lookup(&b, &cfg, v, None, "shared/passdb/nobody"), None);
    }

    #[test]
    fn userdb_homes_are_by_id_and_quotas_by_role() {
        let b = Book::build(&school(), &[]);
        let cfg = MailConfig::default();
        let v = Path::new("/var/vmail");
        assert_eq!(
            lookup(&b, &cfg, v, None, "shared/userdb/ben.old@s.test").unwrap(),
            r#"{"user":"ben","home":"/var/vmail/2","quota_rule":"*:storage=512M"}"#
        );
        assert!(
            lookup(&b, &cfg, v, None, "shared/userdb/carla")
                .unwrap()
                .ends_with(r#""*:storage=4096M"}"#)
        );
        assert!(
            lookup(&b, &cfg, v, None, "shared/userdb/dora").is_some(),
            "mail still reaches the disabled"
        );
        assert_eq!(lookup(&b, &cfg, v, None, "shared/other/anna"), None);
    }

    #[test]
    fn the_master_user_is_known_only_with_a_secret() {
        let b = Book::build(&school(), &[]);
        let cfg = MailConfig::default();
        let v = Path::new("/var/vmail");
        let m = MasterSecret::new("geheim\n");
        assert_eq!(
            lookup(&b, &cfg, v, Some(&m), "shared/master/schola-webmail").unwrap(),
            // sha256("geheim"): the file's line end is not part of the secret
            r#"{"password":"{SHA256.HEX}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940"}"#
        );
        assert_eq!(lookup(&b, &cfg, v, Some(&m), "shared/master/anna"), None);
        assert_eq!(
            lookup(&b, &cfg, v, None, "shared/master/schola-webmail"),
            None
        );
        assert_eq!(format!("{m:?}"), "MasterSecret(<hidden>)");
    }

    #[tokio::test]
    async fn speaks_the_dict_protocol() {
        let b = std::sync::Arc::new(Book::build(&school(), &[]));
        let (client, server) = tokio::io::duplex(4096);
        let task = tokio::spawn({
            let b = b.clone();
            async move {
                let cfg = MailConfig::default();
                serve(
                    server,
                    move || b.clone(),
                    || None,
                    &cfg,
                    Path::new("/v"),
                    None,
                )
                .await
            }
        });
        let (mut cr, mut cw) = tokio::io::split(client);
        cw.write_all(
            b"H3\t2\t0\t\tschola\nLshared/passdb/nobody\tanna\nLshared/userdb/anna\nI0\tx\n",
        )
        .await
        .unwrap();
        cw.shutdown().await.unwrap();
        let mut got = String::new();
        cr.read_to_string(&mut got).await.unwrap();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines[0], "N");
        assert!(
            lines[1].starts_with(r#"O{"user":"anna","home":"/v/1""#),
            "{got}"
        );
        assert!(lines[2].starts_with("Fschola-mail answers lookups only"));
        task.await.unwrap().unwrap();
        assert_eq!(tab_unescape("a\x01tb\x01nc\x011"), "a\tb\nc\x01");
    }
}
