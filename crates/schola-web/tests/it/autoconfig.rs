//! Mail-client autoconfiguration as Thunderbird and Outlook see it: the servers, ports and
//! encryption they would set up, for no sign-in; and what a hostile or oversized request gets.

use std::time::Duration;

use schola_core::audit::Actor;
use schola_core::directory::School;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::kit::*;

const THUNDERBIRD: [&str; 2] = [
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/mail/config-v1.1.xml",
];
const AUTODISCOVER: [&str; 2] = [
    "/autodiscover/autodiscover.xml",
    "/Autodiscover/Autodiscover.xml",
];
const OUTLOOK_2006A: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The text of the first element named `name` below `node`.
fn text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.descendants()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no <{name}>"))
}

fn assert_xml_headers(r: &reqwest::Response) {
    assert_eq!(
        r.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
}

/// One server of a clientConfig: (type, hostname, port, socketType, authentication, username).
fn tb_server(n: roxmltree::Node) -> [String; 6] {
    [
        n.attribute("type").unwrap_or_default(),
        text(n, "hostname"),
        text(n, "port"),
        text(n, "socketType"),
        text(n, "authentication"),
        text(n, "username"),
    ]
    .map(String::from)
}

#[tokio::test]
async fn thunderbird_finds_imap_993_ssl_and_smtp_587_starttls_for_the_school() {
    let s = Server::start("");
    // no sign-in: a fresh client without cookies, as Thunderbird is
    let c = s.client();
    for path in THUNDERBIRD {
        let r = c
            .get(s.url(&format!(
                "{path}?emailaddress=anke.lehmann%40see.schule.example"
            )))
            .header("host", "Mail.See.Schule.Example:8443")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_xml_headers(&r);
        let cache = r.headers()["cache-control"].to_str().unwrap().to_string();
        assert!(cache.contains("max-age="), "{path}: {cache}");
        let body = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&body).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "clientConfig");
        assert_eq!(root.attribute("version"), Some("1.1"));
        let provider = root
            .children()
            .find(|n| n.has_tag_name("emailProvider"))
            .unwrap();
        assert_eq!(provider.attribute("id"), Some("see.schule.example"));
        assert_eq!(text(provider, "domain"), "see.schule.example");
        assert_eq!(text(provider, "displayName"), "Testschule Am See");
        let servers = |kind: &str| {
            provider
                .children()
                .filter(|n| n.has_tag_name(kind))
                .map(tb_server)
                .collect::<Vec<_>>()
        };
        let host = "mail.see.schule.example";
        let who = "%EMAILADDRESS%";
        let pw = "password-cleartext";
        assert_eq!(
            servers("incomingServer"),
            [
                ["imap", host, "993", "SSL", pw, who].map(String::from),
                ["imap", host, "143", "STARTTLS", pw, who].map(String::from),
            ],
            "{path}: IMAP over TLS first"
        );
        assert_eq!(
            servers("outgoingServer"),
            [
                ["smtp", host, "587", "STARTTLS", pw, who].map(String::from),
                ["smtp", host, "465", "SSL", pw, who].map(String::from),
            ],
            "{path}: submission with STARTTLS first"
        );
    }

    // the school's name is shown as the admin typed it, whatever characters it has
    let name = "Grundschule \"Am See\" <Nord> & Süd's";
    s.store()
        .set_school(
            &Actor::system("test"),
            &School {
                name: name.into(),
                mail_domain: "see.schule.example".into(),
                default_language: None,
            },
        )
        .unwrap();
    let body = s.page(&c, THUNDERBIRD[0]).await;
    assert!(!body.contains("<Nord>"), "{body}");
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(text(doc.root_element(), "displayName"), name);
}

#[tokio::test]
async fn a_hostile_host_header_is_never_written_into_the_answer() {
    let s = Server::start("");
    let c = s.client();
    let hostile = [
        "\"><script>alert(1)</script>",
        "mail.see.schule.example\"/><hostname>evil.example",
        "evil.example:443'<x>",
    ];
    for host in hostile {
        for path in [THUNDERBIRD[0], THUNDERBIRD[1], AUTODISCOVER[0]] {
            let request = if path.starts_with("/autodiscover") {
                c.post(s.url(path))
                    .body(autodiscover_request("anke.lehmann@see.schule.example"))
            } else {
                c.get(s.url(path))
            };
            let r = request.header("host", host).send().await.unwrap();
            assert_eq!(r.status(), 400, "{path} with Host {host}");
            let body = r.text().await.unwrap();
            assert!(
                !body.contains("script") && !body.contains("evil") && !body.contains("<x>"),
                "{path} with Host {host}: {body}"
            );
        }
    }

    // an HTTP/1.0 client that sends no Host gets this machine's name, when it is a host name
    let mut tls = s.tls_from("127.0.0.1".parse().unwrap()).await;
    tls.write_all(format!("GET {} HTTP/1.0\r\n\r\n", THUNDERBIRD[0]).as_bytes())
        .await
        .unwrap();
    let answer = read_all(&mut tls).await;
    let machine = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    match schola_web::autoconfig::host_name(machine.trim()) {
        Some(name) => {
            assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
            assert!(
                answer.contains(&format!("<hostname>{name}</hostname>")),
                "{answer}"
            );
        }
        None => assert!(answer.starts_with("HTTP/1.0 400"), "{answer}"),
    }
}

fn autodiscover_request(address: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n\
         <Request>\r\n<EMailAddress>{address}</EMailAddress>\r\n\
         <AcceptableResponseSchema>{OUTLOOK_2006A}</AcceptableResponseSchema>\r\n\
         </Request>\r\n</Autodiscover>\r\n"
    )
}

/// One `<Protocol>` of an autodiscover answer, by its `<Type>`.
fn protocol<'a, 'i>(doc: &'a roxmltree::Document<'i>, kind: &str) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.has_tag_name("Protocol") && text(*n, "Type") == kind)
        .unwrap_or_else(|| panic!("no {kind} protocol"))
}

#[tokio::test]
async fn outlook_gets_imap_993_and_smtp_587_for_a_school_address() {
    let s = Server::start("");
    let c = s.client();
    for path in AUTODISCOVER {
        let r = c
            .post(s.url(path))
            .header("host", "autodiscover.see.schule.example")
            .header("content-type", "text/xml")
            .body(autodiscover_request("Anke.Lehmann@See.Schule.Example"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_xml_headers(&r);
        // the answer names an address: no cache keeps it
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&body).unwrap();
        let response = doc
            .descendants()
            .find(|n| n.has_tag_name("Response"))
            .unwrap();
        assert_eq!(response.tag_name().namespace(), Some(OUTLOOK_2006A));
        assert_eq!(text(response, "Action"), "settings");
        let fields = |kind: &str, names: &[&str]| {
            let p = protocol(&doc, kind);
            names.iter().map(|n| text(p, n)).collect::<Vec<_>>()
        };
        let (host, me) = (
            "autodiscover.see.schule.example",
            "anke.lehmann@see.schule.example",
        );
        assert_eq!(
            fields(
                "IMAP",
                &["Server", "Port", "SSL", "LoginName", "SPA", "AuthRequired"]
            ),
            [host, "993", "on", me, "off", "on"],
            "{path}"
        );
        assert_eq!(
            fields(
                "SMTP",
                &[
                    "Server",
                    "Port",
                    "Encryption",
                    "LoginName",
                    "AuthRequired",
                    "UsePOPAuth"
                ]
            ),
            [host, "587", "TLS", me, "on", "on"],
            "{path}"
        );
    }
}

/// The schema's error code of an autodiscover answer.
fn error_code(body: &str) -> String {
    let doc = roxmltree::Document::parse(body).unwrap();
    assert!(
        !doc.descendants().any(|n| n.has_tag_name("Protocol")),
        "{body}"
    );
    text(doc.root_element(), "ErrorCode").to_string()
}

#[tokio::test]
async fn outlook_requests_that_are_broken_or_not_ours_get_400_and_an_error_outlook_reads() {
    let s = Server::start("");
    let c = s.client();
    let activesync = autodiscover_request("anke.lehmann@see.schule.example").replace(
        OUTLOOK_2006A,
        "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
    );
    let cases: [(&str, Vec<u8>, &str); 7] = [
        (
            "not xml",
            b"EMailAddress=a@see.schule.example".to_vec(),
            "600",
        ),
        (
            "cut off",
            autodiscover_request("anke.lehmann@see.schule.example").as_bytes()[..150].to_vec(),
            "600",
        ),
        ("empty", Vec::new(), "600"),
        (
            "not utf-8",
            b"<Autodiscover>\xff\xfe</Autodiscover>".to_vec(),
            "600",
        ),
        (
            "another domain",
            autodiscover_request("anke@other.example").into_bytes(),
            "500",
        ),
        (
            "a subdomain",
            autodiscover_request("anke@evil.see.schule.example").into_bytes(),
            "500",
        ),
        ("activesync", activesync.into_bytes(), "601"),
    ];
    for (what, body, code) in cases {
        let r = c
            .post(s.url(AUTODISCOVER[0]))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{what}");
        assert_xml_headers(&r);
        assert_eq!(error_code(&r.text().await.unwrap()), code, "{what}");
    }
    // a GET carries no address
    let r = c.get(s.url(AUTODISCOVER[1])).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_code(&r.text().await.unwrap()), "600");
}

/// Everything the server sends until it closes the connection (or 10 s pass).
async fn read_all(tls: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, tls.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            // closed, reset (we may still have been sending) or timed out
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_one_mebibyte_autodiscover_body_is_refused_without_being_read() {
    let s = Server::start("");
    let mib = 1024 * 1024;

    // announced: the answer comes at once, before any of the body was sent
    let mut tls = s.tls_from("127.0.0.1".parse().unwrap()).await;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: mail.see.schule.example\r\nContent-Type: text/xml\r\n\
         Content-Length: {mib}\r\n\r\n",
        AUTODISCOVER[0]
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let answer = read_all(&mut tls).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("<ErrorCode>600</ErrorCode>"), "{answer}");

    // not announced (chunked): refused once 16 KiB have come, while the client is still sending
    let tls = s.tls_from("127.0.0.1".parse().unwrap()).await;
    let (mut rx, mut tx) = tokio::io::split(tls);
    let path = AUTODISCOVER[0];
    let sender = tokio::spawn(async move {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: mail.see.schule.example\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        );
        tx.write_all(head.as_bytes()).await?;
        let chunk = vec![b'<'; 64 * 1024];
        for _ in 0..mib / chunk.len() {
            tx.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            tx.write_all(&chunk).await?;
            tx.write_all(b"\r\n").await?;
        }
        tx.write_all(b"0\r\n\r\n").await
    });
    let answer = read_all(&mut rx).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let _ = sender.await;

    // and the server goes on answering
    let r = s
        .client()
        .post(s.url(AUTODISCOVER[0]))
        .body(autodiscover_request("anke.lehmann@see.schule.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
