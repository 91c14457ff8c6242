//! Sending from the webmail: the message is built by lettre (MIME, RFC 2047 words, attachments)
//! and handed to Postfix's submission port on loopback, signed in as the person through
//! Dovecot's master user. So the webmail is one more mail client: the same sending rules, rate
//! limits and sender checks apply as for Thunderbird.
//!
//! TLS to submission: Postfix serves the school's certificate (the one schola-web serves). It
//! is trusted as its own anchor, besides the system's CAs; the host name is not checked because
//! the connection goes to 127.0.0.1, where only root can listen on the submission port.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use rustls_pki_types::CertificateDer;

use super::imap::{Endpoint, MASTER_USER, MailError};

/// A message written in the portal.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub from_name: String,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// (file name, MIME type, contents)
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// The addresses of a To or Cc field (comma or semicolon separated), each checked.
pub fn recipients(field: &str) -> Result<Vec<Mailbox>, MailError> {
    field
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<Mailbox>().map_err(|_| {
                MailError::Refused(format!(
                    "'{a}' is not an e-mail address (like name@school.example)"
                ))
            })
        })
        .collect()
}

/// The message, ready to send and to keep in Sent.
pub fn build(d: &Draft, domain: &str) -> Result<Message, MailError> {
    let to = recipients(&d.to)?;
    let cc = recipients(&d.cc)?;
    if to.is_empty() && cc.is_empty() {
        return Err(MailError::Refused("Add at least one recipient.".into()));
    }
    let from: Mailbox = format!("{} <{}>", d.from_name, d.from)
        .parse()
        .or_else(|_| d.from.parse())
        .map_err(|_| MailError::Refused(format!("'{}' cannot send mail", d.from)))?;
    let id = format!(
        "<{}@{}>",
        schola_core::token::random_token(24),
        if domain.is_empty() {
            "localhost"
        } else {
            domain
        }
    );
    let mut b = Message::builder()
        .from(from)
        .subject(d.subject.trim())
        .message_id(Some(id))
        .user_agent(format!("Schola {}", schola_core::VERSION));
    for m in to {
        b = b.to(m);
    }
    for m in cc {
        b = b.cc(m);
    }
    if let Some(id) = &d.in_reply_to {
        b = b.in_reply_to(format!("<{}>", id.trim_matches(['<', '>'])));
    }
    if !d.references.is_empty() {
        let refs: Vec<String> = d
            .references
            .iter()
            .map(|r| format!("<{}>", r.trim_matches(['<', '>'])))
            .collect();
        b = b.references(refs.join(" "));
    }
    let text = SinglePart::plain(d.body.replace("\r\n", "\n"));
    let built = if d.attachments.is_empty() {
        b.singlepart(text)
    } else {
        let mut mp = MultiPart::mixed().singlepart(text);
        for (name, mime, bytes) in &d.attachments {
            let ct = ContentType::parse(mime).unwrap_or_else(|_| {
                ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN)
            });
            // base64 whatever the type: a text file keeps its exact bytes (line ends included),
            // as the person's own file should
            let body = Body::new_with_encoding(bytes.clone(), ContentTransferEncoding::Base64)
                .map_err(|_| MailError::Refused(format!("'{name}' cannot be attached")))?;
            mp = mp.singlepart(Attachment::new(name.clone()).body(body, ct));
        }
        b.multipart(mp)
    };
    built.map_err(|e| MailError::Refused(format!("the message cannot be built: {e}")))
}

/// What the server said, without lettre's framing.
fn server_text(e: &lettre::transport::smtp::Error) -> String {
    let s = e.to_string();
    match s.split_once("): ") {
        Some((_, rest)) => rest.trim().to_string(),
        None => s,
    }
}

/// Sends through Postfix's submission port as `login`.
pub async fn submit(
    ep: &Endpoint,
    school_certs: &[CertificateDer<'static>],
    login: &str,
    message: &Message,
) -> Result<(), MailError> {
    let secret = ep.secret()?;
    let mut tls =
        TlsParameters::builder("localhost".into()).dangerous_accept_invalid_hostnames(true);
    for c in school_certs {
        if let Ok(cert) = Certificate::from_der(c.to_vec()) {
            tls = tls.add_root_certificate(cert);
        }
    }
    let tls = tls
        .build_rustls()
        .map_err(|e| MailError::Off(format!("TLS for submission: {e}")))?;
    let transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ep.submission.ip().to_string())
            .port(ep.submission.port())
            .tls(Tls::Required(tls))
            .hello_name(ClientId::Domain("localhost".into()))
            .credentials(Credentials::new(format!("{login}*{MASTER_USER}"), secret))
            .authentication(vec![Mechanism::Plain])
            .timeout(Some(Duration::from_secs(60)))
            .build();
    match transport.send(message.clone()).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() || e.is_transient() => Err(MailError::Refused(server_text(&e))),
        Err(e) if e.is_client() => Err(MailError::Refused(e.to_string())),
        Err(e) => Err(MailError::Unreachable(format!(
            "submission on {}: {e}",
            ep.submission
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_becomes_a_mime_message() {
        let d = Draft {
            from_name: "Anna Berg".into(),
            from: "anna@school.example".into(),
            to: "carla@school.example; Ben <ben@school.example>".into(),
            subject: "Re: Übung".into(),
            body: "Danke!\r\n> alt".into(),
            in_reply_to: Some("m1@example.org".into()),
            references: vec!["m0@example.org".into(), "<m1@example.org>".into()],
            attachments: vec![("Lösung.txt".into(), "text/plain".into(), b"42\n".to_vec())],
            ..Draft::default()
        };
        let m = build(&d, "school.example").unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(
            raw.contains("To: carla@school.example, Ben <ben@school.example>"),
            "{raw}"
        );
        assert!(raw.contains("In-Reply-To: <m1@example.org>"), "{raw}");
        assert!(
            raw.contains("References: <m0@example.org> <m1@example.org>"),
            "{raw}"
        );
        assert!(raw.contains("@school.example>"), "{raw}");
        assert!(raw.contains("multipart/mixed"), "{raw}");
        let shown = super::super::show::show(raw.as_bytes(), false, &|i| format!("/p/{i}"));
        // the attachment's bytes come back exactly
        assert_eq!(
            super::super::show::attachment(raw.as_bytes(), 0).unwrap().2,
            b"42\n"
        );
        assert_eq!(shown.subject, "Re: Übung");
        assert_eq!(shown.attachments[0].name, "Lösung.txt");
        assert!(shown.text.contains("Danke!"), "{}", shown.text);
    }

    #[test]
    fn bad_recipients_are_named() {
        let d = Draft {
            from: "anna@school.example".into(),
            to: "carla@school.example, not an address".into(),
            ..Draft::default()
        };
        let e = build(&d, "school.example").unwrap_err().to_string();
        assert!(
            e.contains("'not an address' is not an e-mail address"),
            "{e}"
        );
        let none = Draft {
            from: "anna@school.example".into(),
            ..Draft::default()
        };
        assert!(
            build(&none, "")
                .unwrap_err()
                .to_string()
                .contains("at least one recipient")
        );
    }
}
