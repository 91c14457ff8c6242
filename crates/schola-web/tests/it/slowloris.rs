//! Overload from one address: a slow-loris client or a flood must not keep the others out, is
//! capped quickly rather than held, and a request body that stops arriving is ended.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::kit::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A server with the limits in `web` and its metrics listener on.
fn server_with(web: &str) -> Server {
    Server::start_with_dropin(&format!("[web]\nmetrics_listen = [\"127.0.0.1:0\"]\n{web}"))
}

/// A connection that starts a TLS handshake (a record header announcing a ClientHello) and
/// never sends the rest.
async fn loris(from: IpAddr, s: &Server) -> TcpStream {
    let mut c = tcp_from(from, s.addr()).await;
    c.write_all(&[0x16, 0x03, 0x01, 0x00, 0xc8]).await.unwrap();
    c
}

/// True if the server closes `c` within `within`; the connection stays open on our side.
async fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_slow_loris_from_one_address_does_not_keep_the_others_out() {
    // one worker with room for 30 connections; one address may hold 10 of them
    let s = server_with("workers = 1\nmax_connections = 30\nmax_connections_per_client = 10\n");
    let flooder = ip("127.0.0.2");

    // the flooder takes all it may: 10 connections stuck in the TLS handshake
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(loris(flooder, &s).await);
    }
    let most = "schola_connections_most_by_one_client";
    let taken = eventually(5, async || metric(&s.scrape().await, most) == Some(10.0)).await;
    assert!(
        taken.is_some(),
        "the server holds the flooder's 10 connections"
    );

    // its next connection gets the waiting room at once, in the browser's language, and is
    // closed after it
    let t = Instant::now();
    let r = s
        .client_from(Some(flooder))
        .get(s.url("/login"))
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["connection"], "close");
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.headers().contains_key("content-security-policy"));
    assert!(r.text().await.unwrap().contains("Einen Moment bitte"));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // far past its cap: a few more connections are kept for a busy answer (3 s at most), the
    // rest are closed at once instead of waiting in the handshake
    let mut extra = Vec::new();
    for _ in 0..30 {
        extra.push(loris(flooder, &s).await);
    }
    let checks: Vec<_> = extra
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let closed = closed_within(&mut c, Duration::from_secs(1)).await;
                (c, closed)
            })
        })
        .collect();
    let mut closed_at_once = 0;
    let mut extra = Vec::new();
    for c in checks {
        let (c, closed) = c.await.unwrap();
        closed_at_once += usize::from(closed);
        extra.push(c);
    }
    assert!(
        closed_at_once >= 30 - 8,
        "only {closed_at_once} of 30 extra connections were closed within a second"
    );

    // with 40 connections from the flooder open on its side, someone else signs in at once and
    // sees their start page (without the cap, 30 half-open handshakes fill the server for 10 s)
    let c = s.client_from(Some(ip("127.0.0.3")));
    let t = Instant::now();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let home = s.page(&c, "/").await;
    assert!(home.contains("Jörg Müller"), "{home}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "sign-in took {:?}",
        t.elapsed()
    );

    let m = s.scrape().await;
    assert_eq!(
        metric(&m, "schola_connections_per_client_limit"),
        Some(10.0)
    );
    assert!(metric(&m, r#"schola_connections_refused_total{reason="closed"}"#).unwrap() >= 22.0);
    assert!(metric(&m, r#"schola_connections_refused_total{reason="busy"}"#).unwrap() >= 1.0);

    drop(extra);
    // the held handshakes still end at the handshake timeout (10 s), as anyone's would
    let ends: Vec<_> = held
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move { closed_within(&mut c, Duration::from_secs(15)).await })
        })
        .collect();
    for e in ends {
        assert!(e.await.unwrap(), "a half-open handshake was held forever");
    }
}

/// Writes a sign-in POST head announcing a 200-byte body, and the first bytes of it.
async fn start_post(s: &Server) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tls = s.tls_from(ip("127.0.0.1")).await;
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 200\r\n\r\nlogin=joerg",
        s.addr()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    tls
}

/// Reads the whole answer until the server closes the connection (at most 10 s).
async fn read_until_closed(
    tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await {
            Err(_) => panic!(
                "the connection was not closed: {}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_request_body_that_stops_or_trickles_gets_408_and_is_closed() {
    let s = server_with("body_timeout_secs = 1\n");

    // stops: the rest of the body never comes
    let t = Instant::now();
    let mut tls = start_post(&s).await;
    let answer = read_until_closed(&mut tls).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("took too long"), "{answer}");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );

    // trickles: a byte every 200 ms never pauses for a second, but is far below the minimum rate
    let t = Instant::now();
    let mut tls = start_post(&s).await;
    let (mut rd, mut wr) = tokio::io::split(&mut tls);
    let trickle = async {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if wr.write_all(b"x").await.is_err() || wr.flush().await.is_err() {
                break;
            }
        }
    };
    let mut answer = Vec::new();
    let read = async {
        let _ = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut answer)).await;
    };
    tokio::select! {
        () = read => {}
        () = trickle => panic!("the trickle was allowed to go on for 20 s"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());

    // a body that arrives normally is not affected
    let c = s.client();
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let m = s.scrape().await;
    assert_eq!(metric(&m, "schola_http_body_timeouts_total"), Some(2.0));
    assert_eq!(
        metric(
            &m,
            r#"schola_http_requests_total{route="/login",method="POST",status="408"}"#
        ),
        Some(2.0)
    );
}
