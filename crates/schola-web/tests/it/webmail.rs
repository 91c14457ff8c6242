//! The webmail's pages where no mail server answers, and its forms' protections. Reading,
//! writing and the hostile-HTML check run against real Postfix and Dovecot in the browser test
//! (tests/browser/webmail.test.mjs).

use crate::kit::*;

/// A free loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn without_mail_running_the_pages_say_so_and_how_to_turn_it_on() {
    let s = Server::start(&format!("[mail.ports]\nimap = {}\n", closed_port()));
    // signed out: the sign-in page first
    let anon = s.client();
    for path in ["/mail", "/mail/read?folder=INBOX&uid=1", "/mail/compose"] {
        assert_eq!(
            location(&anon.get(s.url(path)).send().await.unwrap()),
            "/login",
            "{path}"
        );
    }
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    // no master secret yet (schola-mail never ran here)
    let r = c.get(s.url("/mail")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Mail is not switched on") && body.contains("apt install schola-mail"),
        "{body}"
    );
    // a secret, but nothing answers IMAP
    std::fs::write(
        s.dir.path().join("state/mail-webmail.secret"),
        "0123456789abcdef",
    )
    .unwrap();
    for path in [
        "/mail",
        "/mail/read?folder=INBOX&uid=1",
        "/mail/part?folder=INBOX&uid=1&n=0",
    ] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 503, "{path}");
        assert!(
            r.text().await.unwrap().contains("Mail is not switched on"),
            "{path}"
        );
    }
    // the start page links to the mail
    assert!(s.page(&c, "/").await.contains("href=\"/mail\""));
    // writing needs no mail server to show the form, with the sender's own address
    let form = s.page(&c, "/mail/compose").await;
    assert!(
        form.contains("joerg.mueller@see.schule.example")
            && form.contains("enctype=\"multipart/form-data\""),
        "{form}"
    );
}

/// A multipart request's content type and body.
type Body = (String, Vec<u8>);

/// A multipart body with the given text fields and one file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Body {
    let boundary = "----schola-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn sending_and_moving_need_the_pages_token_and_origin() {
    let s = Server::start(&format!(
        "[mail.ports]\nimap = {}\nsubmission = {}\n",
        closed_port(),
        closed_port() + 1
    ));
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let csrf = hidden_csrf(&s.page(&c, "/mail/compose").await).unwrap();
    let to = [
        ("to", "anke.lehmann@see.schule.example"),
        ("subject", "x"),
        ("body", "y"),
    ];
    // no token; a forged one; a file before the token; the right token from another site
    let mut forged = vec![("csrf", "forged")];
    forged.extend(to);
    let mut right = vec![("csrf", csrf.as_str())];
    right.extend(to);
    let cases: Vec<(&str, Body, Option<&str>)> = vec![
        ("no token", multipart(&to, None), None),
        ("forged token", multipart(&forged, None), None),
        (
            "file before the token",
            {
                let (ct, mut b) = multipart(&[], Some(("a.txt", b"hello")));
                let (_, rest) = multipart(&right, None);
                b.truncate(b.len() - "------schola-test-boundary--\r\n".len());
                b.extend_from_slice(&rest);
                (ct, b)
            },
            None,
        ),
        (
            "foreign origin",
            multipart(&right, None),
            Some("https://evil.example"),
        ),
    ];
    for (what, (ct, body), origin) in cases {
        let mut req = c
            .post(s.url("/mail/send"))
            .header("content-type", ct)
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        assert!(
            r.text().await.unwrap().contains("The form had expired"),
            "{what}"
        );
    }
    // moving and deleting: the token first, before any mail server is asked
    for form in [
        vec![
            ("csrf", "forged"),
            ("folder", "INBOX"),
            ("uid", "1"),
            ("action", "delete"),
        ],
        vec![
            ("folder", "INBOX"),
            ("uid", "1"),
            ("action", "delete"),
            ("csrf", ""),
        ],
    ] {
        let r = c.post(s.url("/mail/act")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
    // with the token, an attachment over the limit is refused while it arrives
    let big = vec![b'x'; 26 * 1024 * 1024];
    let (ct, body) = multipart(&right, Some(("big.bin", &big)));
    let r = c
        .post(s.url("/mail/send"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("bigger than 25 MB"));
}
