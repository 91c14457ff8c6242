//! The way to the file shares: schola-web authenticates (HTTP Basic for `/dav`, the session and
//! its CSRF token for the portal's `/files/api`) and streams to schola-files over its Unix
//! socket. schola-files is played here by a small hyper server on a temp socket that echoes
//! what it was sent, counts uploaded bytes and sends large downloads.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper_util::rt::TokioIo;
use schola_core::audit::Actor;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::kit::*;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// What the fake schola-files saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    /// Every `X-Schola-Person` value (there must be exactly one).
    pub person: Vec<String>,
    pub authorization: bool,
    pub cookie: bool,
}

/// The fake schola-files.
pub struct FakeFiles {
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Bytes of request bodies received, and bodies that ended with an error (cut).
    pub received: Arc<AtomicU64>,
    pub cut: Arc<AtomicU64>,
}

static MIB_OF_ZEROS: [u8; 1 << 20] = [0; 1 << 20];

impl FakeFiles {
    pub fn start() -> FakeFiles {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("files.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new(AtomicU64::new(0));
        let cut = Arc::new(AtomicU64::new(0));
        let (s, r, c) = (Arc::clone(&seen), Arc::clone(&received), Arc::clone(&cut));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::UnixListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = l.accept().await else {
                        return;
                    };
                    let (s, r, c) = (Arc::clone(&s), Arc::clone(&r), Arc::clone(&c));
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            handle(req, Arc::clone(&s), Arc::clone(&r), Arc::clone(&c))
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        });
        FakeFiles {
            _dir: dir,
            socket,
            seen,
            received,
            cut,
        }
    }

    /// The `[files]` section pointing schola-web at this fake.
    pub fn config(&self) -> String {
        format!("[files]\nsocket = \"{}\"\n", self.socket.display())
    }

    pub fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn full(status: u16, body: String) -> hyper::Response<Body> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap()
}

async fn handle(
    req: hyper::Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    received: Arc<AtomicU64>,
    cut: Arc<AtomicU64>,
) -> Result<hyper::Response<Body>, Infallible> {
    let h = req.headers();
    let s = Seen {
        method: req.method().to_string(),
        uri: req.uri().to_string(),
        person: h
            .get_all("x-schola-person")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect(),
        authorization: h.contains_key("authorization"),
        cookie: h.contains_key("cookie"),
    };
    seen.lock().unwrap().push(s.clone());
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if path.ends_with("/sink") {
        // `?pace`: a slow disk, at most ~100 MiB/s, so the client is faster than schola-files
        // and only back-pressure keeps schola-web's memory flat
        let pace = query == "pace";
        let mut body = req.into_body();
        let mut n = 0u64;
        loop {
            match body.frame().await {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        if pace && (n >> 20) != ((n + d.len() as u64) >> 20) {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        n += d.len() as u64;
                        received.fetch_add(d.len() as u64, Ordering::Relaxed);
                    }
                }
                Some(Err(_)) => {
                    cut.fetch_add(1, Ordering::Relaxed);
                    return Ok(full(400, "{\"error\":\"cut\"}".into()));
                }
                None => break,
            }
        }
        return Ok(full(201, format!("{{\"bytes\":{n}}}")));
    }
    if let Some(mib) = query.strip_prefix("mib=") {
        let mib: u64 = mib.parse().unwrap();
        let chunks = futures_util::stream::iter(
            (0..mib).map(|_| Ok::<_, Infallible>(Frame::data(Bytes::from_static(&MIB_OF_ZEROS)))),
        );
        return Ok(hyper::Response::builder()
            .status(200)
            .header("content-length", (mib << 20).to_string())
            .header("content-type", "application/octet-stream")
            .body(StreamBody::new(chunks).boxed())
            .unwrap());
    }
    if path == "/api/usage/people" {
        let login = query.trim_start_matches("logins=");
        return Ok(full(
            200,
            format!("{{\"{login}\":{{\"used\":1572864,\"limit\":1073741824}}}}"),
        ));
    }
    let body = serde_json::json!({
        "method": s.method, "uri": s.uri, "person": s.person,
    });
    Ok(hyper::Response::builder()
        .status(if s.method == "PROPFIND" { 207 } else { 200 })
        .header("content-type", "application/json")
        .header("etag", "\"v1\"")
        .header("dav", "1, 2")
        .header(
            "content-disposition",
            "attachment; filename*=UTF-8''a%20b.txt",
        )
        .header("keep-alive", "timeout=99")
        .body(Full::new(Bytes::from(body.to_string())).boxed())
        .unwrap())
}

fn basic(login: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
    )
}

fn propfind() -> reqwest::Method {
    reqwest::Method::from_bytes(b"PROPFIND").unwrap()
}

fn person_id(s: &Server, login: &str) -> String {
    s.store().require_person(login).unwrap().id.to_string()
}

fn server(fake: &FakeFiles, web: &str) -> Server {
    Server::start_with_dropin(&format!(
        "[web]\nmetrics_listen = [\"127.0.0.1:0\"]\n{web}{}",
        fake.config()
    ))
}

#[tokio::test]
async fn dav_needs_basic_auth_and_forwards_only_the_person() {
    let fake = FakeFiles::start();
    let s = server(&fake, "");
    let c = s.client();

    let r = c.request(propfind(), s.url("/dav/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"Schola\", charset=\"UTF-8\""
    );
    let r = c
        .request(propfind(), s.url("/dav/home/"))
        .header("authorization", basic("joerg.mueller", "wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // a session cookie is no way into WebDAV
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let r = c.get(s.url("/dav/home/a.txt")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(fake.count(), 0, "nothing reached schola-files");

    let r = c
        .request(propfind(), s.url("/dav/home/Mathe%20%C3%BCben/?x=1"))
        .header("authorization", basic("Joerg.Mueller", STUDENT_PW))
        .header("x-schola-person", "1")
        .header("X-Schola-Admin", "yes")
        .header("depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    for (h, v) in [
        ("etag", "\"v1\""),
        ("dav", "1, 2"),
        (
            "content-disposition",
            "attachment; filename*=UTF-8''a%20b.txt",
        ),
    ] {
        assert_eq!(r.headers()[h], v, "{h} is passed on");
    }
    assert!(
        r.headers().get("keep-alive").is_none(),
        "hop-by-hop dropped"
    );
    let seen = fake.last();
    assert_eq!(seen.method, "PROPFIND");
    assert_eq!(seen.uri, "/dav/home/Mathe%20%C3%BCben/?x=1");
    assert_eq!(seen.person, vec![person_id(&s, "joerg.mueller")]);
    assert!(!seen.authorization && !seen.cookie, "{seen:?}");

    // Windows' WebDAV redirector probes the root first
    let r = c
        .request(reqwest::Method::OPTIONS, s.url("/"))
        .header("user-agent", "Microsoft-WebDAV-MiniRedir/10.0.19045")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["dav"], "1, 2");
}

#[tokio::test]
async fn fifty_propfinds_cost_one_verify_and_a_new_password_or_disabling_ends_it_at_once() {
    let fake = FakeFiles::start();
    let s = server(&fake, "");
    let c = s.client();
    let t = Instant::now();
    for _ in 0..50 {
        let r = c
            .request(propfind(), s.url("/dav/home/"))
            .header("authorization", basic("joerg.mueller", STUDENT_PW))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 207);
    }
    let m = s.scrape().await;
    assert_eq!(
        metric(&m, "schola_dav_auth_verifies_total"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(metric(&m, "schola_dav_auth_cache_hits_total"), Some(49.0));
    eprintln!("50 PROPFINDs: {:?}", t.elapsed());

    // a new password: the old one stops working at once, the new one works
    let store = s.store();
    let p = store.require_person("joerg.mueller").unwrap();
    let h = schola_core::password::hash_password(FAST, "Neues-Passwort-9").unwrap();
    store
        .set_password_hash(&Actor::system("test"), p.id, &h)
        .unwrap();
    let status = |pw: &'static str| {
        let c = c.clone();
        let url = s.url("/dav/home/");
        async move {
            c.request(propfind(), url)
                .header("authorization", basic("joerg.mueller", pw))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(status(STUDENT_PW).await, 401);
    assert_eq!(status("Neues-Passwort-9").await, 207);
    assert_eq!(status("Neues-Passwort-9").await, 207);
    store
        .disable_person(&Actor::system("test"), "joerg.mueller", 90)
        .unwrap();
    assert_eq!(status("Neues-Passwort-9").await, 401, "disabled: at once");
    let m = s.scrape().await;
    assert_eq!(
        metric(&m, "schola_dav_auth_verifies_total"),
        Some(4.0),
        "{m}"
    );
}

#[tokio::test]
async fn wrong_dav_passwords_meet_the_sign_in_back_off() {
    let fake = FakeFiles::start();
    let s = server(&fake, "");
    let c = s.client();
    let mut deferred = None;
    for i in 0..20 {
        let r = c
            .request(propfind(), s.url("/dav/"))
            .header(
                "authorization",
                basic("joerg.mueller", &format!("guess-{i}")),
            )
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            401 => assert!(r.headers().contains_key("www-authenticate")),
            429 => {
                deferred = Some(r.headers()["retry-after"].to_str().unwrap().to_string());
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let wait: i64 = deferred
        .expect("the back-off defers guesses")
        .parse()
        .unwrap();
    assert!(wait > 0);
    assert_eq!(fake.count(), 0);
    let m = s.scrape().await;
    assert!(metric(&m, "schola_dav_auth_deferred_total").unwrap() >= 1.0);
    // the portal's sign-in shares the back-off
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        429
    );
}

/// The CSRF token of the files page (`data-csrf`).
async fn files_csrf(s: &Server, c: &reqwest::Client) -> String {
    let page = s.page(c, "/files").await;
    let i = page
        .find("data-csrf=\"")
        .unwrap_or_else(|| panic!("{page}"))
        + 11;
    page[i..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn portal_api_forwards_the_session_person_and_needs_the_csrf_token_to_change() {
    let fake = FakeFiles::start();
    let s = server(&fake, "");
    let c = s.client();
    let r = c
        .get(s.url("/files/api/list?path=/home"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("\"error\""));
    assert_eq!(
        s.sign_in(&c, "anke.lehmann", "Tafelkreide-7")
            .await
            .status(),
        303
    );
    let page = s.page(&c, "/files").await;
    assert!(
        page.contains("href=\"/files\""),
        "the navigation links the page"
    );
    assert!(page.contains("files.js?v="), "{page}");
    assert!(page.contains("id=\"handout-form\"") && page.contains("value=\"4b\""));
    assert!(
        !page.contains("<script>") && !page.contains("style="),
        "CSP: nothing inline"
    );
    let csrf = files_csrf(&s, &c).await;
    let me = person_id(&s, "anke.lehmann");

    let r = c
        .get(s.url("/files/api/list?path=%2Fhome%2FMathe"))
        .header("x-schola-person", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = fake.last();
    assert_eq!(seen.uri, "/api/list?path=%2Fhome%2FMathe");
    assert_eq!(seen.person, vec![me.clone()]);
    assert!(!seen.cookie && !seen.authorization);

    let before = fake.count();
    let post = |token: Option<&str>, origin: Option<&str>| {
        let mut b = c
            .post(s.url("/files/api/mkdir"))
            .header("content-type", "application/json")
            .body("{\"path\":\"/home/Neu\"}");
        if let Some(t) = token {
            b = b.header("x-csrf-token", t);
        }
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        b.send()
    };
    assert_eq!(post(None, None).await.unwrap().status(), 403);
    assert_eq!(post(Some("forged"), None).await.unwrap().status(), 403);
    let r = post(Some(&csrf), Some("https://evil.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("reload the page"));
    assert_eq!(
        fake.count(),
        before,
        "refused requests never reach schola-files"
    );
    let origin = s.url("");
    let r = post(Some(&csrf), Some(&origin)).await.unwrap();
    assert_eq!(r.status(), 200);
    let seen = fake.last();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/api/mkdir")
    );
    assert_eq!(seen.person, vec![me]);

    // the admin's person page shows the usage schola-files counts
    let a = s.client();
    assert_eq!(s.sign_in(&a, "admin", ADMIN_PW).await.status(), 303);
    let page = s.page(&a, "/admin/people/joerg.mueller").await;
    assert!(page.contains("1.5 MiB of 1 GiB used"), "{page}");
}

#[tokio::test]
async fn without_schola_files_the_answer_is_503_and_the_pages_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("files.sock");
    let s = Server::start(&format!("[files]\nsocket = \"{}\"\n", missing.display()));
    let c = s.client();
    let r = c
        .request(propfind(), s.url("/dav/"))
        .header("authorization", basic("joerg.mueller", STUDENT_PW))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The file service is not running")
    );
    assert_eq!(
        s.sign_in(&c, "joerg.mueller", STUDENT_PW).await.status(),
        303
    );
    let r = c.get(s.url("/files/api/usage")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("The file service is not running"),
        "{v}"
    );
    assert_eq!(c.get(s.url("/files")).send().await.unwrap().status(), 200);
    let a = s.client();
    assert_eq!(s.sign_in(&a, "admin", ADMIN_PW).await.status(), 303);
    let r = a
        .get(s.url("/admin/people/joerg.mueller"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("The file service did not answer"), "{page}");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap()
}

const BIG_MIB: u64 = 300;

#[tokio::test]
async fn a_large_upload_and_download_stream_through_with_flat_memory() {
    let fake = FakeFiles::start();
    let s = server(&fake, "");
    let pid = s.pid();
    // warm up: the first request allocates the worker's buffers, the pool its threads
    let c = s.client();
    let r = c
        .get(s.url("/dav/small?mib=1"))
        .header("authorization", basic("joerg.mueller", STUDENT_PW))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 1 << 20);
    let base = rss_kib(pid);
    let mut peak = base;

    // up: a raw PUT, written a MiB at a time, with the server's memory sampled on the way
    let t = Instant::now();
    let mut tls = s.tls_from("127.0.0.1".parse().unwrap()).await;
    let head = format!(
        "PUT /dav/home/video.mp4/sink?pace HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
         Content-Length: {}\r\n\r\n",
        s.addr(),
        basic("joerg.mueller", STUDENT_PW),
        BIG_MIB << 20
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    for i in 0..BIG_MIB {
        tls.write_all(&MIB_OF_ZEROS).await.unwrap();
        if i.is_multiple_of(16) {
            peak = peak.max(rss_kib(pid));
        }
    }
    tls.flush().await.unwrap();
    // the answer's head and body may come in separate records: read until the body is there
    let mut answer = String::new();
    let mut buf = vec![0u8; 4096];
    while !answer.ends_with('}') {
        let n = tokio::time::timeout(Duration::from_secs(30), tls.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the answer was complete: {answer}");
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(
        answer.contains(&format!("{{\"bytes\":{}}}", BIG_MIB << 20)),
        "{answer}"
    );
    let up = t.elapsed();

    // down: read as it comes
    let t = Instant::now();
    let mut r = c
        .get(s.url(&format!("/dav/home/video.mp4?mib={BIG_MIB}")))
        .header("authorization", basic("joerg.mueller", STUDENT_PW))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        (BIG_MIB << 20).to_string().as_str()
    );
    let mut got = 0u64;
    let mut chunks = 0u64;
    while let Some(chunk) = r.chunk().await.unwrap() {
        got += chunk.len() as u64;
        chunks += 1;
        if chunks.is_multiple_of(256) {
            peak = peak.max(rss_kib(pid));
        }
    }
    assert_eq!(got, BIG_MIB << 20);
    let down = t.elapsed();
    let growth_mib = (peak - base) as f64 / 1024.0;
    eprintln!(
        "{BIG_MIB} MiB up in {up:?}, down in {down:?}; schola-web RSS {} MiB -> peak {} MiB (+{growth_mib:.1} MiB)",
        base / 1024,
        peak / 1024
    );
    assert!(growth_mib < 32.0, "RSS grew by {growth_mib:.1} MiB");
}

#[tokio::test]
async fn a_stalled_upload_gets_408_and_schola_files_sees_the_body_cut() {
    let fake = FakeFiles::start();
    let s = server(&fake, "body_timeout_secs = 1\n");
    let mut tls = s.tls_from("127.0.0.1".parse().unwrap()).await;
    let head = format!(
        "PUT /dav/home/a.bin/sink HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
         Content-Length: {}\r\n\r\n",
        s.addr(),
        basic("joerg.mueller", STUDENT_PW),
        10 << 20
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    // a steady start: 4 MiB over 2 s, more than body_timeout, is not cut
    for _ in 0..8 {
        tls.write_all(&MIB_OF_ZEROS[..512 << 10]).await.unwrap();
        tls.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // then nothing
    let t = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let cut = async {
        while fake.cut.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), cut)
        .await
        .expect("schola-files saw the body cut, so it keeps no partial file");
    assert_eq!(fake.received.load(Ordering::Relaxed), 4 << 20);
}
