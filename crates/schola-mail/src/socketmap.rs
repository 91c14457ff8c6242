//! Postfix's socketmap protocol (socketmap_table(5)): each request is a netstring
//! `<name> <key>`, each reply a netstring `OK <value>`, `NOTFOUND `, `TEMP <reason>`,
//! `TIMEOUT <reason>` or `PERM <reason>`. Postfix keeps a connection open and asks one question
//! after another on it.
//!
//! The maps, as main.cf names them (see [`crate::conf`]):
//! - `domains` (virtual_mailbox_domains): the school's domains;
//! - `mailboxes` (virtual_mailbox_maps): the addresses that are a mailbox;
//! - `aliases` (virtual_alias_maps): old addresses and `login@domain` to the current address,
//!   lists to their members;
//! - `senders` (smtpd_sender_login_maps): which login may send as an address.

use tokio::io::{AsyncBufRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::book::{Book, Route};

/// The longest request accepted (an address is at most 254 octets; a map name a few).
pub const MAX_REQUEST: usize = 2048;
/// Postfix refuses replies longer than this (socketmap_table(5)).
pub const MAX_REPLY: usize = 100_000;

/// The reply to one request (without the netstring framing).
pub fn answer(book: &Book, request: &[u8]) -> String {
    let Ok(request) = std::str::from_utf8(request) else {
        return "PERM the request is not UTF-8".into();
    };
    let Some((name, key)) = request.split_once(' ') else {
        return "PERM the request has no key (expected '<map> <key>')".into();
    };
    let reply = match name {
        "domains" => book.is_domain(key).then(|| key.to_ascii_lowercase()),
        "mailboxes" => match book.route(key) {
            Some(Route::Mailbox(i)) => Some(format!("{}/", book.mailboxes[i].id)),
            _ => None,
        },
        "aliases" => match book.route(key) {
            Some(Route::Alias(i)) => Some(book.mailboxes[i].address.clone()),
            Some(Route::List(l)) => {
                let list = &book.lists[l];
                let mut out = String::new();
                for &i in &list.members {
                    if !out.is_empty() {
                        out.push(',');
                    }
                    out.push_str(&book.mailboxes[i].address);
                }
                // an empty list has nobody to deliver to: the address is unknown
                (!out.is_empty()).then_some(out)
            }
            Some(Route::Mailbox(_)) | None => None,
        },
        "senders" => match book.route(key) {
            Some(Route::Mailbox(i) | Route::Alias(i)) => Some(book.mailboxes[i].login.clone()),
            _ => None,
        },
        other => return format!("PERM no map named '{}'", other.escape_debug()),
    };
    match reply {
        Some(v) if v.len() + 3 <= MAX_REPLY => format!("OK {v}"),
        Some(_) => "PERM the answer is longer than Postfix accepts".into(),
        None => "NOTFOUND ".into(),
    }
}

/// Whether a request that found nothing names an address of the school's domains that nobody
/// has: someone created since the book was built, perhaps. (Postfix also asks the alias map
/// for every mailbox, and partial keys like `@domain`; those are not worth a second look.)
fn may_be_new(book: &Book, request: &[u8]) -> bool {
    let Some(key) = std::str::from_utf8(request)
        .ok()
        .and_then(|r| r.split_once(' '))
        .map(|(_, k)| k)
    else {
        return false;
    };
    match key.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && book.is_domain(domain) && book.route(key).is_none()
        }
        None => false,
    }
}

/// Why reading a netstring stopped.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the connection was closed")]
    Closed,
    #[error("a malformed netstring: {0}")]
    Malformed(&'static str),
    #[error("a request longer than {MAX_REQUEST} bytes")]
    TooLong,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one netstring into `buf` (cleared first).
pub async fn read_netstring<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<(), FrameError> {
    buf.clear();
    let mut len: usize = 0;
    let mut digits = 0;
    loop {
        let mut b = [0u8; 1];
        if r.read(&mut b).await? == 0 {
            return Err(if digits == 0 {
                FrameError::Closed
            } else {
                FrameError::Malformed("the connection ended inside a length")
            });
        }
        match b[0] {
            d @ b'0'..=b'9' => {
                digits += 1;
                len = len * 10 + usize::from(d - b'0');
                if len > max {
                    return Err(FrameError::TooLong);
                }
            }
            b':' if digits > 0 => break,
            _ => return Err(FrameError::Malformed("expected digits and ':'")),
        }
    }
    buf.resize(len, 0);
    r.read_exact(buf).await?;
    let mut comma = [0u8; 1];
    r.read_exact(&mut comma).await?;
    if comma[0] != b',' {
        return Err(FrameError::Malformed("expected ',' after the data"));
    }
    Ok(())
}

/// Appends `data` as a netstring.
pub fn netstring(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(data);
    out.push(b',');
}

/// Serves one connection until Postfix closes it or sends something malformed. A request
/// answered `NOTFOUND` is asked again of `fresh()`'s book when it has one (the directory moved
/// since the book was built).
pub async fn serve<S>(
    stream: S,
    book: impl Fn() -> std::sync::Arc<Book>,
    fresh: impl Fn() -> Option<std::sync::Arc<Book>>,
) -> Result<(), FrameError>
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let (r, mut w) = tokio::io::split(stream);
    let mut r = tokio::io::BufReader::new(r);
    let mut req = Vec::with_capacity(256);
    let mut out = Vec::with_capacity(256);
    loop {
        match read_netstring(&mut r, &mut req, MAX_REQUEST).await {
            Ok(()) => {}
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => {
                // say why before hanging up, so Postfix's log names the problem
                out.clear();
                netstring(&mut out, format!("PERM {e}").as_bytes());
                let _ = w.write_all(&out).await;
                return Err(e);
            }
        }
        let mut reply = answer(&book(), &req);
        if reply.starts_with("NOTFOUND")
            && may_be_new(&book(), &req)
            && let Some(b) = fresh()
        {
            reply = answer(&b, &req);
        }
        out.clear();
        netstring(&mut out, reply.as_bytes());
        w.write_all(&out).await?;
        // several requests in one read: answer them all before flushing
        if r.buffer().is_empty() {
            w.flush().await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::tests::school;

    fn ask(b: &Book, req: &str) -> String {
        answer(b, req.as_bytes())
    }

    #[test]
    fn answers_the_four_maps() {
        let b = Book::build(&school(), &[]);
        assert_eq!(ask(&b, "domains s.test"), "OK s.test");
        assert_eq!(ask(&b, "domains S.Test"), "OK s.test");
        assert_eq!(ask(&b, "domains example.org"), "NOTFOUND ");
        assert_eq!(ask(&b, "mailboxes anna@s.test"), "OK 1/");
        assert_eq!(
            ask(&b, "mailboxes ben@s.test"),
            "NOTFOUND ",
            "an alias is not a mailbox"
        );
        assert_eq!(ask(&b, "aliases ben.old@s.test"), "OK ben.berg@s.test");
        assert_eq!(
            ask(&b, "aliases 5a@s.test"),
            "OK anna@s.test,ben.berg@s.test,carla@s.test"
        );
        assert_eq!(ask(&b, "aliases anna@s.test"), "NOTFOUND ");
        assert_eq!(ask(&b, "aliases @s.test"), "NOTFOUND ");
        assert_eq!(ask(&b, "senders ben.old@s.test"), "OK ben");
        assert_eq!(
            ask(&b, "senders 5a@s.test"),
            "NOTFOUND ",
            "nobody sends as a list"
        );
        assert!(ask(&b, "passwords anna").starts_with("PERM no map named"));
        assert!(ask(&b, "domains").starts_with("PERM"));
    }

    #[test]
    fn only_unknown_school_addresses_are_asked_again() {
        let b = Book::build(&school(), &[]);
        assert!(may_be_new(&b, b"mailboxes lena@s.test"));
        assert!(
            !may_be_new(&b, b"aliases anna@s.test"),
            "a mailbox has no alias"
        );
        assert!(!may_be_new(&b, b"aliases @s.test"));
        assert!(!may_be_new(&b, b"mailboxes someone@example.org"));
        assert!(!may_be_new(&b, b"domains example.org"));
    }

    #[tokio::test]
    async fn serves_pipelined_requests_and_refuses_garbage() {
        let b = std::sync::Arc::new(Book::build(&school(), &[]));
        let (client, server) = tokio::io::duplex(4096);
        let task = tokio::spawn({
            let b = b.clone();
            async move { serve(server, move || b.clone(), || None).await }
        });
        let (mut cr, mut cw) = tokio::io::split(client);
        let mut req = Vec::new();
        netstring(&mut req, b"mailboxes carla@s.test");
        netstring(&mut req, b"domains nope.test");
        req.extend_from_slice(b"99999999:x,");
        cw.write_all(&req).await.unwrap();
        let mut got = Vec::new();
        cr.read_to_end(&mut got).await.unwrap();
        let mut want = Vec::new();
        netstring(&mut want, b"OK 3/");
        netstring(&mut want, b"NOTFOUND ");
        netstring(&mut want, b"PERM a request longer than 2048 bytes");
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
        assert!(matches!(task.await.unwrap(), Err(FrameError::TooLong)));
    }
}
