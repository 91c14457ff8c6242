//! The webmail's IMAP side: one short session per request, to Dovecot on loopback, signed in as
//! the person through Dovecot's master user (`<login>*schola-webmail` and the secret schola-mail
//! keeps in `<state_dir>/mail-webmail.secret`). The portal never holds anyone's mail password;
//! Dovecot checks the secret and still refuses a disabled person.
//!
//! Plain IMAP on 127.0.0.1: Dovecot counts a connection from the machine itself as secured, and
//! nothing leaves the machine.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use async_imap::types::{Flag, NameAttribute};
use futures_util::TryStreamExt as _;
use tokio::net::TcpStream;

/// The Dovecot master user the portal signs in as (schola-mail's `auth::MASTER_USER`).
pub const MASTER_USER: &str = "schola-webmail";

/// How long one IMAP step may take before the page says the mail server does not answer.
const STEP: Duration = Duration::from_secs(30);

/// Where the mail servers are, from the config.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub imap: SocketAddr,
    pub submission: SocketAddr,
    pub secret_file: PathBuf,
}

impl Endpoint {
    pub fn from_config(cfg: &schola_core::Config) -> Endpoint {
        let lo = std::net::Ipv4Addr::LOCALHOST;
        Endpoint {
            imap: SocketAddr::from((lo, cfg.mail.ports.imap)),
            submission: SocketAddr::from((lo, cfg.mail.ports.submission)),
            secret_file: cfg.mail_webmail_secret(),
        }
    }

    /// The master user's secret, or why there is none.
    pub fn secret(&self) -> Result<String, MailError> {
        match std::fs::read_to_string(&self.secret_file) {
            Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Ok(_) => Err(MailError::Off(format!(
                "{} is empty",
                self.secret_file.display()
            ))),
            Err(e) => Err(MailError::Off(format!(
                "cannot read {}: {e} (schola-mail makes it when it starts)",
                self.secret_file.display()
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Mail is not running on this server (no secret, nothing listening).
    #[error("mail is not available: {0}")]
    Off(String),
    /// The mail server did not answer in time or the connection broke.
    #[error("the mail server did not answer: {0}")]
    Unreachable(String),
    /// The mail server refused what was asked, with its reason.
    #[error("{0}")]
    Refused(String),
    /// No such folder or message (any more).
    #[error("not found")]
    NotFound,
}

fn imap_err(e: async_imap::error::Error) -> MailError {
    match e {
        async_imap::error::Error::No(t) | async_imap::error::Error::Bad(t) => MailError::Refused(t),
        other => MailError::Unreachable(other.to_string()),
    }
}

async fn step<T>(
    f: impl std::future::Future<Output = Result<T, async_imap::error::Error>>,
) -> Result<T, MailError> {
    match tokio::time::timeout(STEP, f).await {
        Ok(r) => r.map_err(imap_err),
        Err(_) => Err(MailError::Unreachable(format!(
            "no answer within {} s",
            STEP.as_secs()
        ))),
    }
}

/// A special folder, by its RFC 6154 use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Inbox,
    Drafts,
    Sent,
    Junk,
    Trash,
    Archive,
    Other,
}

#[derive(Debug, Clone)]
pub struct Folder {
    /// The name IMAP knows it by (Dovecot's separator is `/`).
    pub name: String,
    pub special: Special,
    pub unseen: u32,
}

/// One line of the message list.
#[derive(Debug, Clone)]
pub struct Summary {
    pub uid: u32,
    pub seen: bool,
    pub size: u32,
    /// The message's header, as stored (parsed by the caller).
    pub header: Vec<u8>,
}

/// A page of a folder, newest first.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Messages in the folder (or matching the search).
    pub total: usize,
    pub items: Vec<Summary>,
}

/// A quota as Dovecot reports it, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub used_kib: u64,
    pub limit_kib: u64,
}

pub struct Imap {
    s: async_imap::Session<TcpStream>,
}

impl std::fmt::Debug for Imap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Imap")
    }
}

/// `text` as an IMAP quoted string (the search words; no line breaks). Folder names need not:
/// async-imap quotes them itself.
pub fn quoted(text: &str) -> String {
    let mut q = String::with_capacity(text.len() + 2);
    q.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                q.push('\\');
                q.push(c);
            }
            '\r' | '\n' | '\0' => q.push(' '),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Search words as IMAP sends them: a quoted string when they are ASCII, else a
/// non-synchronizing literal (RFC 7888 LITERAL+, which Dovecot offers), since 8-bit characters
/// are not allowed in a quoted string.
pub fn search_string(text: &str) -> String {
    if text.is_ascii() {
        return quoted(text);
    }
    let clean: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\0') {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("{{{}+}}\r\n{clean}", clean.len())
}

impl Imap {
    /// Signs in to the person's mailbox.
    pub async fn open(ep: &Endpoint, login: &str) -> Result<Imap, MailError> {
        let secret = ep.secret()?;
        let tcp = match tokio::time::timeout(STEP, TcpStream::connect(ep.imap)).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                return Err(MailError::Off(format!(
                    "nothing answers IMAP on {}: {e}",
                    ep.imap
                )));
            }
            Err(_) => {
                return Err(MailError::Unreachable(format!(
                    "IMAP on {} did not answer",
                    ep.imap
                )));
            }
        };
        let mut client = async_imap::Client::new(tcp);
        match tokio::time::timeout(STEP, client.read_response()).await {
            Ok(Ok(Some(_))) => {}
            _ => {
                return Err(MailError::Unreachable(format!(
                    "no IMAP greeting from {}",
                    ep.imap
                )));
            }
        }
        let user = format!("{login}*{MASTER_USER}");
        let login = tokio::time::timeout(STEP, client.login(user, secret)).await;
        match login {
            Ok(Ok(s)) => Ok(Imap { s }),
            Ok(Err((e, _))) => Err(match e {
                async_imap::error::Error::No(t) => {
                    MailError::Refused(format!("the mail server did not let the portal in ({t})"))
                }
                other => imap_err(other),
            }),
            Err(_) => Err(MailError::Unreachable("the sign-in took too long".into())),
        }
    }

    /// Every folder, INBOX first, then the special ones, then the rest by name; with the
    /// number of unread messages when `unread` (one STATUS per folder, so only the folder list
    /// asks for it; `unseen` is 0 otherwise).
    pub async fn folders(&mut self, unread: bool) -> Result<Vec<Folder>, MailError> {
        let names: Vec<(String, Special)> = step(async {
            let list = self.s.list(Some(""), Some("*")).await?;
            let names: Vec<async_imap::types::Name> = list.try_collect().await?;
            Ok(names
                .iter()
                .filter(|n| !n.attributes().contains(&NameAttribute::NoSelect))
                .map(|n| {
                    let special = if n.name().eq_ignore_ascii_case("INBOX") {
                        Special::Inbox
                    } else {
                        n.attributes()
                            .iter()
                            .find_map(|a| match a {
                                NameAttribute::Drafts => Some(Special::Drafts),
                                NameAttribute::Sent => Some(Special::Sent),
                                NameAttribute::Junk => Some(Special::Junk),
                                NameAttribute::Trash => Some(Special::Trash),
                                NameAttribute::Archive => Some(Special::Archive),
                                _ => None,
                            })
                            .unwrap_or(Special::Other)
                    };
                    (n.name().to_string(), special)
                })
                .collect())
        })
        .await?;
        let mut out = Vec::with_capacity(names.len());
        for (name, special) in names {
            let unseen = if unread {
                step(self.s.status(&name, "(UNSEEN)"))
                    .await?
                    .unseen
                    .unwrap_or(0)
            } else {
                0
            };
            out.push(Folder {
                name,
                special,
                unseen,
            });
        }
        out.sort_by(|a, b| {
            let rank = |f: &Folder| match f.special {
                Special::Inbox => 0,
                Special::Drafts => 1,
                Special::Sent => 2,
                Special::Archive => 3,
                Special::Junk => 4,
                Special::Trash => 5,
                Special::Other => 6,
            };
            rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
        });
        Ok(out)
    }

    async fn select(&mut self, folder: &str) -> Result<(), MailError> {
        match step(self.s.select(folder)).await {
            Ok(_) => Ok(()),
            Err(MailError::Refused(_)) => Err(MailError::NotFound),
            Err(e) => Err(e),
        }
    }

    /// Page `page` (from 0) of `folder`, `per` messages a page, newest first; only the messages
    /// whose text has `search` in it, when given.
    pub async fn page(
        &mut self,
        folder: &str,
        search: Option<&str>,
        page: usize,
        per: usize,
    ) -> Result<ListPage, MailError> {
        self.select(folder).await?;
        let criteria = match search {
            Some(q) => format!("CHARSET UTF-8 TEXT {}", search_string(q)),
            None => "ALL".into(),
        };
        let uids: HashSet<u32> = step(self.s.uid_search(criteria)).await?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable_by(|a, b| b.cmp(a));
        let total = uids.len();
        let chosen: Vec<u32> = uids
            .into_iter()
            .skip(page.saturating_mul(per))
            .take(per)
            .collect();
        if chosen.is_empty() {
            return Ok(ListPage {
                total,
                items: Vec::new(),
            });
        }
        let set = chosen
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fetched = step(async {
            let stream = self
                .s
                .uid_fetch(&set, "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])")
                .await?;
            let v: Vec<async_imap::types::Fetch> = stream.try_collect().await?;
            Ok(v)
        })
        .await?;
        let mut items: Vec<Summary> = fetched
            .iter()
            .filter_map(|f| {
                Some(Summary {
                    uid: f.uid?,
                    seen: f.flags().any(|fl| fl == Flag::Seen),
                    size: f.size.unwrap_or(0),
                    header: f.header().unwrap_or_default().to_vec(),
                })
            })
            .collect();
        items.sort_unstable_by_key(|m| std::cmp::Reverse(m.uid));
        Ok(ListPage { total, items })
    }

    /// The whole message (marking it read), or `None` when it is gone.
    pub async fn message(&mut self, folder: &str, uid: u32) -> Result<Vec<u8>, MailError> {
        self.select(folder).await?;
        let fetched = step(async {
            let stream = self.s.uid_fetch(uid.to_string(), "(UID BODY[])").await?;
            let v: Vec<async_imap::types::Fetch> = stream.try_collect().await?;
            Ok(v)
        })
        .await?;
        fetched
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec)
            .ok_or(MailError::NotFound)
    }

    /// Moves a message to another folder.
    pub async fn move_to(&mut self, folder: &str, uid: u32, to: &str) -> Result<(), MailError> {
        self.select(folder).await?;
        step(self.s.uid_mv(uid.to_string(), to)).await
    }

    /// Deletes a message for good (what the Trash folder does; elsewhere the caller moves).
    pub async fn delete(&mut self, folder: &str, uid: u32) -> Result<(), MailError> {
        self.select(folder).await?;
        step(async {
            let updates = self
                .s
                .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Deleted)")
                .await?;
            let _: Vec<_> = updates.try_collect().await?;
            let gone = self.s.uid_expunge(uid.to_string()).await?;
            let _: Vec<_> = gone.try_collect().await?;
            Ok(())
        })
        .await
    }

    /// Keeps a copy of a sent message in `folder`, marked read.
    pub async fn append(&mut self, folder: &str, message: &[u8]) -> Result<(), MailError> {
        step(self.s.append(folder, Some("(\\Seen)"), None, message)).await
    }

    /// The mailbox's storage quota, when there is one.
    pub async fn quota(&mut self) -> Result<Option<Quota>, MailError> {
        let (_, quotas) = step(self.s.get_quota_root("INBOX")).await?;
        Ok(quotas
            .iter()
            .flat_map(|q| q.resources.iter())
            .find_map(|r| {
                matches!(r.name, async_imap::types::QuotaResourceName::Storage).then_some(Quota {
                    used_kib: r.usage,
                    limit_kib: r.limit,
                })
            }))
    }

    /// Signs out (a failure here changes nothing for the person).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.s.logout()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_cannot_break_out_of_their_string() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(quoted("x\r\nA1 LOGOUT"), "\"x  A1 LOGOUT\"");
        assert_eq!(search_string("Lösung"), "{7+}\r\nLösung");
        assert_eq!(search_string("Ü\r\nA1 LOGOUT"), "{13+}\r\nÜ  A1 LOGOUT");
        assert_eq!(search_string("plan"), "\"plan\"");
    }
}
