//! The sending rules, answered over Postfix's SMTP access policy delegation protocol
//! (SMTPD_POLICY_README): Postfix sends `name=value` lines ending with an empty line for each
//! recipient, and gets `action=...` and an empty line back. Rules, in order:
//!
//! 1. a list takes posts only from signed-in teachers, staff and admins, and from its own
//!    members where the list is named in `[mail] member_posting`;
//! 2. with `students_internal_only`, students may mail only the school's own domains;
//! 3. mail from outside (no sign-in) may not claim a sender address of the school's own
//!    domains: a forged "teacher" address is the first trick of a phishing mail to pupils;
//! 4. each signed-in sender may address so many recipients per sliding hour (students and
//!    everyone else have their own limit); past it the recipient is deferred (450), so a
//!    client sending a legitimate message tries again later.
//!
//! Every refusal names the rule in words a teacher or student understands; Postfix puts the
//! text in its SMTP reply.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use schola_core::config::Mail as MailConfig;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::book::{Book, Route};

/// Longest request line and most lines accepted (Postfix sends about 30 short attributes).
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 100;

/// The attributes of one policy request that the rules read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Request {
    pub protocol_state: String,
    pub sasl_username: String,
    pub sender: String,
    pub recipient: String,
}

impl Request {
    fn set(&mut self, name: &str, value: &str) {
        let slot = match name {
            "protocol_state" => &mut self.protocol_state,
            "sasl_username" => &mut self.sasl_username,
            "sender" => &mut self.sender,
            "recipient" => &mut self.recipient,
            _ => return,
        };
        *slot = value.to_string();
    }
}

/// Recipients per signed-in sender over the last hour.
#[derive(Default)]
pub struct RateLimiter {
    sent: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl RateLimiter {
    /// Counts one recipient for `login` at `now` unless that would exceed `limit` in the hour
    /// before `now`; returns whether it was counted.
    pub fn admit(&self, login: &str, limit: u32, now: i64) -> bool {
        if limit == 0 {
            return true;
        }
        let Ok(mut sent) = self.sent.lock() else {
            return true;
        };
        let times = sent.entry(login.to_string()).or_default();
        while times.front().is_some_and(|&t| t <= now - 3600) {
            times.pop_front();
        }
        if times.len() >= limit as usize {
            return false;
        }
        times.push_back(now);
        true
    }

    /// Forgets senders with nothing in the last hour (run now and then).
    pub fn prune(&self, now: i64) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.retain(|_, t| t.back().is_some_and(|&last| last > now - 3600));
        }
    }
}

/// The action for one request (the value of `action=`).
pub fn decide(
    book: &Book,
    cfg: &MailConfig,
    rate: &RateLimiter,
    now: i64,
    req: &Request,
) -> String {
    if req.protocol_state != "RCPT" || req.recipient.is_empty() {
        return "DUNNO".into();
    }
    let sender = (!req.sasl_username.is_empty())
        .then(|| book.account(&req.sasl_username))
        .flatten();
    if let Some(Route::List(l)) = book.route(&req.recipient) {
        let list = &book.lists[l];
        let may_post = match sender {
            None => false,
            Some(m) if m.is_staff() => true,
            Some(m) => {
                cfg.member_posting
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&list.name))
                    && list.members.iter().any(|&i| book.mailboxes[i].id == m.id)
            }
        };
        if !may_post {
            let who = if cfg
                .member_posting
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&list.name))
            {
                "teachers and the list's members"
            } else {
                "teachers"
            };
            return format!(
                "REJECT 5.7.1 Only {who} may send to the list {}; sign in with your school account or write to the teacher directly",
                list.address
            );
        }
    }
    let Some(m) = sender else {
        let domain = req.sender.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if req.sasl_username.is_empty() && book.is_domain(domain) {
            return format!(
                "REJECT 5.7.1 Mail from {} must be sent signed in to the school's server (port 587), not from outside",
                req.sender
            );
        }
        return "DUNNO".into();
    };
    if !m.is_staff() && cfg.students_internal_only {
        let domain = req.recipient.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if !book.is_domain(domain) {
            return format!(
                "REJECT 5.7.1 Students may only send mail to addresses of the school ({}); {} is outside",
                book.domains.join(", "),
                req.recipient
            );
        }
    }
    let limit = if m.is_staff() {
        cfg.staff_recipients_per_hour
    } else {
        cfg.student_recipients_per_hour
    };
    if !rate.admit(&m.login, limit, now) {
        return format!(
            "450 4.7.1 {} has sent mail to {limit} recipients in the last hour, the school's limit; try again later",
            m.login
        );
    }
    "DUNNO".into()
}

/// Serves one connection: a request, an answer, and so on until Postfix closes it.
pub async fn serve<S>(
    stream: S,
    book: impl Fn() -> std::sync::Arc<Book>,
    cfg: &MailConfig,
    rate: &RateLimiter,
    now: impl Fn() -> i64,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let (r, mut w) = tokio::io::split(stream);
    let mut r = tokio::io::BufReader::new(r);
    let mut line = String::new();
    loop {
        let mut req = Request::default();
        let mut lines = 0;
        loop {
            line.clear();
            let n = (&mut r).take(MAX_LINE as u64).read_line(&mut line).await?;
            if n == 0 {
                return Ok(());
            }
            if !line.ends_with('\n') {
                let _ = w
                    .write_all(b"action=DEFER_IF_PERMIT policy request line too long\n\n")
                    .await;
                return Ok(());
            }
            let l = line.trim_end_matches(['\n', '\r']);
            if l.is_empty() {
                break;
            }
            lines += 1;
            if lines > MAX_LINES {
                let _ = w
                    .write_all(b"action=DEFER_IF_PERMIT policy request too long\n\n")
                    .await;
                return Ok(());
            }
            if let Some((k, v)) = l.split_once('=') {
                req.set(k, v);
            }
        }
        let action = decide(&book(), cfg, rate, now(), &req);
        w.write_all(format!("action={action}\n\n").as_bytes())
            .await?;
        w.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::tests::school;

    fn rcpt(user: &str, to: &str) -> Request {
        Request {
            protocol_state: "RCPT".into(),
            sasl_username: user.into(),
            sender: String::new(),
            recipient: to.into(),
        }
    }

    #[test]
    fn lists_take_posts_from_teachers_and_named_lists_from_members() {
        let b = Book::build(&school(), &[]);
        let mut cfg = MailConfig::default();
        let rate = RateLimiter::default();
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("carla", "5a@s.test")),
            "DUNNO"
        );
        let refused = decide(&b, &cfg, &rate, 0, &rcpt("anna", "lehrer@s.test"));
        assert!(
            refused.starts_with("REJECT 5.7.1 Only teachers may send to the list lehrer@s.test"),
            "{refused}"
        );
        assert!(decide(&b, &cfg, &rate, 0, &rcpt("anna", "5a@s.test")).starts_with("REJECT"));
        assert!(
            decide(&b, &cfg, &rate, 0, &rcpt("", "5a@s.test")).starts_with("REJECT"),
            "anonymous"
        );
        cfg.member_posting = vec!["5A".into()];
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("anna", "5a@s.test")),
            "DUNNO"
        );
        assert!(decide(&b, &cfg, &rate, 0, &rcpt("anna", "lehrer@s.test")).starts_with("REJECT"));
        // a student mailing a teacher is fine
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("anna", "carla@s.test")),
            "DUNNO"
        );
    }

    #[test]
    fn mail_from_outside_may_not_claim_a_school_address() {
        let b = Book::build(&school(), &[]);
        let cfg = MailConfig::default();
        let rate = RateLimiter::default();
        let mut req = rcpt("", "anna@s.test");
        req.sender = "carla@S.TEST".into();
        let r = decide(&b, &cfg, &rate, 0, &req);
        assert!(
            r.starts_with("REJECT 5.7.1 Mail from carla@S.TEST must be sent signed in"),
            "{r}"
        );
        req.sender = "mutter@example.org".into();
        assert_eq!(decide(&b, &cfg, &rate, 0, &req), "DUNNO");
        // bounces (empty sender) still arrive
        req.sender = String::new();
        assert_eq!(decide(&b, &cfg, &rate, 0, &req), "DUNNO");
        // signed in, the sender check is Postfix's (reject_sender_login_mismatch)
        let mut req = rcpt("carla", "anna@s.test");
        req.sender = "carla@s.test".into();
        assert_eq!(decide(&b, &cfg, &rate, 0, &req), "DUNNO");
    }

    #[test]
    fn students_may_be_kept_inside_the_school() {
        let b = Book::build(&school(), &[]);
        let mut cfg = MailConfig::default();
        let rate = RateLimiter::default();
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("anna", "x@example.org")),
            "DUNNO"
        );
        cfg.students_internal_only = true;
        let r = decide(&b, &cfg, &rate, 0, &rcpt("anna", "x@example.org"));
        assert!(
            r.starts_with(
                "REJECT 5.7.1 Students may only send mail to addresses of the school (s.test)"
            ),
            "{r}"
        );
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("anna", "carla@s.test")),
            "DUNNO"
        );
        assert_eq!(
            decide(&b, &cfg, &rate, 0, &rcpt("carla", "x@example.org")),
            "DUNNO"
        );
    }

    #[test]
    fn the_rate_limit_counts_recipients_over_a_sliding_hour() {
        let b = Book::build(&school(), &[]);
        let cfg = MailConfig {
            student_recipients_per_hour: 3,
            ..MailConfig::default()
        };
        let rate = RateLimiter::default();
        for t in 0..3 {
            assert_eq!(
                decide(&b, &cfg, &rate, t, &rcpt("anna", "carla@s.test")),
                "DUNNO"
            );
        }
        let r = decide(&b, &cfg, &rate, 10, &rcpt("anna", "carla@s.test"));
        assert!(
            r.starts_with("450 4.7.1 anna has sent mail to 3 recipients in the last hour"),
            "{r}"
        );
        // ben has his own count; an hour after the first, anna may again
        assert_eq!(
            decide(&b, &cfg, &rate, 10, &rcpt("ben", "carla@s.test")),
            "DUNNO"
        );
        assert_eq!(
            decide(&b, &cfg, &rate, 3600, &rcpt("anna", "carla@s.test")),
            "DUNNO"
        );
        rate.prune(100_000);
        assert!(rate.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn speaks_the_policy_protocol() {
        let b = std::sync::Arc::new(Book::build(&school(), &[]));
        let (client, server) = tokio::io::duplex(4096);
        let task = tokio::spawn({
            let b = b.clone();
            async move {
                let cfg = MailConfig::default();
                let rate = RateLimiter::default();
                serve(server, move || b.clone(), &cfg, &rate, || 0).await
            }
        });
        let (mut cr, mut cw) = tokio::io::split(client);
        cw.write_all(
            b"request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=anna\nrecipient=lehrer@s.test\nsize=12\n\n\
              request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=carla\nrecipient=5a@s.test\n\n",
        )
        .await
        .unwrap();
        cw.shutdown().await.unwrap();
        let mut got = String::new();
        cr.read_to_string(&mut got).await.unwrap();
        let answers: Vec<&str> = got.split("\n\n").collect();
        assert!(
            answers[0].starts_with("action=REJECT 5.7.1 Only teachers"),
            "{got}"
        );
        assert_eq!(answers[1], "action=DUNNO");
        task.await.unwrap().unwrap();
    }
}
