//! WebDAV: the same authorization over PROPFIND/GET/PUT/DELETE/MKCOL/MOVE, hostile paths,
//! quota, and a LOCK/UNLOCK round trip.

use crate::kit::{Server, write};

const PROPFIND: &[u8] = br#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>"#;

fn propfind(s: &Server, who: &str, path: &str) -> crate::kit::Resp {
    s.req(
        who,
        "PROPFIND",
        path,
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        PROPFIND,
    )
}

#[test]
fn authorization_matrix_over_webdav() {
    let s = Server::start();
    write(&s.home("ben.b").join("secret.txt"), b"ben's secret");
    write(&s.data.join("groups/4b/info.txt"), b"class info");
    write(&s.data.join("groups/5a/info.txt"), b"5a info");
    write(&s.data.join("exchange/plan.txt"), b"staff plan");

    let r = propfind(&s, "anna.a", "/dav/");
    assert_eq!(r.status, 207, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains("/dav/home/") && t.contains("/dav/groups/"),
        "{t}"
    );
    assert!(!t.contains("exchange"), "{t}");
    let t = propfind(&s, "anna.a", "/dav/groups/").text();
    assert!(
        t.contains("/dav/groups/4b/") && !t.contains("5a") && !t.contains("kollegium"),
        "{t}"
    );
    assert!(
        propfind(&s, "tina.t", "/dav/")
            .text()
            .contains("/dav/exchange/")
    );
    let t = propfind(&s, "anna.a", "/dav/home/").text();
    assert!(!t.contains("secret"), "{t}");

    type Case<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)], u16);
    let cases: &[Case] = &[
        (
            "anna.a",
            "PROPFIND",
            "/dav/groups/5a/",
            &[("Depth", "1")],
            404,
        ),
        (
            "anna.a",
            "PROPFIND",
            "/dav/exchange/",
            &[("Depth", "1")],
            404,
        ),
        ("anna.a", "GET", "/dav/groups/4b/info.txt", &[], 200),
        ("anna.a", "GET", "/dav/groups/5a/info.txt", &[], 404),
        ("anna.a", "GET", "/dav/exchange/plan.txt", &[], 404),
        ("anna.a", "GET", "/dav/home/ben.b/secret.txt", &[], 404),
        (
            "anna.a",
            "GET",
            "/dav/home/../../home/ben.b/secret.txt",
            &[],
            400,
        ),
        (
            "anna.a",
            "GET",
            "/dav/home/%2e%2e/%2e%2e/etc/passwd",
            &[],
            400,
        ),
        ("anna.a", "PUT", "/dav/groups/4b/x.txt", &[], 403),
        ("anna.a", "DELETE", "/dav/groups/4b/info.txt", &[], 403),
        ("anna.a", "MKCOL", "/dav/groups/4b/d", &[], 403),
        ("anna.a", "PUT", "/dav/exchange/x.txt", &[], 404),
        ("anna.a", "PUT", "/dav/home/CON.txt", &[], 400),
        ("anna.a", "MKCOL", "/dav/home/CON", &[], 400),
        ("anna.a", "PUT", "/dav/home/a.txt", &[], 201),
        ("anna.a", "PUT", "/dav/home/a.txt", &[], 204),
        ("anna.a", "MKCOL", "/dav/home/d", &[], 201),
        (
            "anna.a",
            "MOVE",
            "/dav/home/d",
            &[("Destination", "/dav/home/e")],
            201,
        ),
        (
            "anna.a",
            "MOVE",
            "/dav/groups/4b/info.txt",
            &[("Destination", "/dav/home/info.txt")],
            403,
        ),
        (
            "anna.a",
            "COPY",
            "/dav/groups/4b/info.txt",
            &[("Destination", "/dav/home/info.txt")],
            201,
        ),
        ("anna.a", "DELETE", "/dav/home/e", &[], 204),
        ("anna.a", "DELETE", "/dav/home/a.txt", &[], 204),
        ("anna.a", "DELETE", "/dav/home/", &[], 403),
        (
            "anna.a",
            "MOVE",
            "/dav/home/",
            &[("Destination", "/dav/home/x/")],
            403,
        ),
        ("tina.t", "PUT", "/dav/groups/4b/t.txt", &[], 201),
        ("tina.t", "PUT", "/dav/exchange/t.txt", &[], 201),
        ("tom.t", "PUT", "/dav/groups/4b/tom.txt", &[], 201),
        ("carl.c", "GET", "/dav/groups/4b/info.txt", &[], 404),
        ("eve.e", "PROPFIND", "/dav/", &[("Depth", "0")], 403),
        ("nobody", "PROPFIND", "/dav/", &[("Depth", "0")], 401),
    ];
    for &(who, m, path, h, want) in cases {
        let r = s.req(who, m, path, h, if m == "PUT" { b"data" } else { b"" });
        assert_eq!(r.status, want, "{who} {m} {path}: {}", r.text());
    }
    let listing: Vec<_> = walk(&s.data);
    assert_eq!(
        std::fs::read(s.home("anna.a").join("info.txt"))
            .unwrap_or_else(|e| panic!("{e}: {listing:#?}")),
        b"class info"
    );
    assert!(s.data.join("groups/4b/info.txt").exists());
    assert!(!s.home("anna.a").join("CON.txt").exists());
    // A DAV delete goes to the trash, like the portal's.
    let t = s.get("anna.a", "/api/trash").json();
    assert!(
        t.as_array()
            .unwrap()
            .iter()
            .any(|i| i["path"] == "/home/a.txt"),
        "{t}"
    );
    // Planted symlinks are not followed over DAV either.
    std::os::unix::fs::symlink("/etc", s.home("anna.a").join("etc")).unwrap();
    assert_eq!(s.get("anna.a", "/dav/home/etc/passwd").status, 404);
    assert!(
        !propfind(&s, "anna.a", "/dav/home/")
            .text()
            .contains("/dav/home/etc")
    );
}

#[test]
fn dav_lock_unlock_round_trip() {
    let s = Server::start();
    let lockinfo = br#"<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>anna</D:owner></D:lockinfo>"#;
    assert_eq!(
        s.req("anna.a", "PUT", "/dav/home/l.txt", &[], b"v1").status,
        201
    );
    let r = s.req(
        "anna.a",
        "LOCK",
        "/dav/home/l.txt",
        &[
            ("Timeout", "Second-600"),
            ("Content-Type", "application/xml"),
        ],
        lockinfo,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.header("lock-token").unwrap().to_string();
    assert!(token.starts_with("<urn:uuid:"), "{token}");
    // Ben's /home/l.txt is another file: anna's lock does not touch it.
    assert_eq!(
        s.req("ben.b", "PUT", "/dav/home/l.txt", &[], b"ben").status,
        201
    );
    // Without the token the file cannot be written; with it, it can.
    assert_eq!(
        s.req("anna.a", "PUT", "/dav/home/l.txt", &[], b"v2").status,
        423
    );
    let r = s.req(
        "anna.a",
        "PUT",
        "/dav/home/l.txt",
        &[("If", &format!("({token})"))],
        b"v3",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.req(
        "anna.a",
        "UNLOCK",
        "/dav/home/l.txt",
        &[("Lock-Token", &token)],
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        s.req("anna.a", "PUT", "/dav/home/l.txt", &[], b"v4").status,
        204
    );
    assert_eq!(s.get("anna.a", "/dav/home/l.txt").body, b"v4");
    assert_eq!(s.get("ben.b", "/dav/home/l.txt").body, b"ben");
    // In a group share, one member's lock holds for the others.
    assert_eq!(
        s.req("tina.t", "PUT", "/dav/groups/4b/plan.txt", &[], b"p1")
            .status,
        201
    );
    let r = s.req(
        "tina.t",
        "LOCK",
        "/dav/groups/4b/plan.txt",
        &[("Content-Type", "application/xml")],
        lockinfo,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("/dav/groups/4b/plan.txt"), "{}", r.text());
    assert_eq!(
        s.req("tom.t", "PUT", "/dav/groups/4b/plan.txt", &[], b"p2")
            .status,
        423
    );
    // The lock's root is reported in the person's own namespace.
    let r = s.req(
        "anna.a",
        "LOCK",
        "/dav/home/m.txt",
        &[("Content-Type", "application/xml")],
        lockinfo,
    );
    assert!(
        r.text().contains("<D:href>/dav/home/m.txt</D:href>"),
        "{}",
        r.text()
    );
    // The quota is reported to DAV clients.
    let r = s.req(
        "anna.a",
        "PROPFIND",
        "/dav/",
        &[("Depth", "0")],
        br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"#,
    );
    assert_eq!(r.status, 207);
    assert!(r.text().contains("quota-used-bytes>2<"), "{}", r.text());
    assert!(
        r.text().contains(&format!(
            "quota-available-bytes>{}<",
            1024 * 1024 * 1024 - 2
        )),
        "{}",
        r.text()
    );
}

fn walk(p: &std::path::Path) -> Vec<String> {
    let mut v = vec![p.display().to_string()];
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            v.extend(walk(&e.path()));
        }
    }
    v
}

/// Dead properties show in a folder's Depth 1 listing, also after the file moved to another
/// folder; a listing of a folder whose entries have none (the fast path) is complete and carries
/// every asked-for property.
#[test]
fn dead_properties_in_folder_listings() {
    let s = Server::start();
    for p in ["/dav/home/a/", "/dav/home/b/"] {
        assert_eq!(s.req("anna.a", "MKCOL", p, &[], b"").status, 201, "{p}");
    }
    for i in 0..300 {
        let p = format!("/dav/home/a/f{i:03}.txt");
        assert_eq!(s.req("anna.a", "PUT", &p, &[], b"12345").status, 201);
    }
    let ask = br#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schola-test"><D:prop><D:getcontentlength/><D:resourcetype/><Z:colour/></D:prop></D:propfind>"#;
    let listing = |dir: &str| {
        let r = s.req(
            "anna.a",
            "PROPFIND",
            dir,
            &[("Depth", "1"), ("Content-Type", "application/xml")],
            ask,
        );
        assert_eq!(r.status, 207, "{}", r.text());
        r.text()
    };
    // a listing in a failure message: its start only
    let short = |t: &str| t.chars().take(600).collect::<String>();
    let t = listing("/dav/home/a/");
    assert_eq!(t.matches("<D:response>").count(), 301, "{}", short(&t));
    assert_eq!(
        t.matches("<D:getcontentlength>5<").count(),
        300,
        "{}",
        short(&t)
    );
    assert!(!t.contains("blau"), "{}", short(&t));
    let patch = br#"<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schola-test"><D:set><D:prop><Z:colour>blau</Z:colour></D:prop></D:set></D:propertyupdate>"#;
    let r = s.req(
        "anna.a",
        "PROPPATCH",
        "/dav/home/a/f007.txt",
        &[("Content-Type", "application/xml")],
        patch,
    );
    assert_eq!(r.status, 207, "{}", r.text());
    let t = listing("/dav/home/a/");
    // (dav-server names an asked-for dead property twice: once asked, once listed)
    let f007 = &t[t.find("/dav/home/a/f007.txt").unwrap_or(0)..];
    let f007 = &f007[..f007.find("</D:response>").unwrap_or(0)];
    assert!(f007.contains(">blau</Z:colour>"), "{f007}");
    assert_eq!(t.matches("blau").count(), f007.matches("blau").count());
    let r = s.req(
        "anna.a",
        "MOVE",
        "/dav/home/a/f007.txt",
        &[("Destination", "/dav/home/b/moved.txt")],
        b"",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let t = listing("/dav/home/b/");
    assert!(t.contains("/dav/home/b/moved.txt"), "{t}");
    assert!(
        t.contains(">blau</Z:colour>"),
        "the moved file keeps it: {t}"
    );
    assert!(!listing("/dav/home/a/").contains("blau"));
}

/// A folder listing answered directly (schola_files::listing) says what dav-server says for the
/// same request: the same resources, hrefs, properties and values, in the same order.
#[test]
fn direct_folder_listing_matches_dav_server() {
    let s = Server::start();
    assert_eq!(
        s.req("anna.a", "MKCOL", "/dav/home/Ordner%20%C3%84/", &[], b"")
            .status,
        201
    );
    for (name, body) in [
        ("Referat%20Gr%C3%BCn.pdf", &b"%PDF-1.4"[..]),
        ("a%26b%25c.txt", b"x"),
        ("leer", b""),
        ("Tabelle.ODS", b"12345"),
        ("archive.tar.gz", b"gz"),
    ] {
        let p = format!("/dav/home/Ordner%20%C3%84/{name}");
        assert_eq!(s.req("anna.a", "PUT", &p, &[], body).status, 201, "{p}");
    }
    assert_eq!(
        s.req(
            "anna.a",
            "MKCOL",
            "/dav/home/Ordner%20%C3%84/Unter/",
            &[],
            b""
        )
        .status,
        201
    );
    let ask = br#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/><D:getcontenttype/><D:creationdate/><D:displayname/><X:colour/></D:prop></D:propfind>"#;
    let listing = || {
        let r = s.req(
            "anna.a",
            "PROPFIND",
            "/dav/home/Ordner%20%C3%84/",
            &[("Depth", "1"), ("Content-Type", "application/xml")],
            ask,
        );
        assert_eq!(r.status, 207, "{}", r.text());
        assert_eq!(
            r.header("content-type"),
            Some("application/xml; charset=utf-8")
        );
        parsed(&r.text())
    };
    let direct = listing();
    assert_eq!(direct.len(), 7, "{direct:?}");
    assert!(
        direct
            .iter()
            .any(|(h, _)| h == "/dav/home/Ordner%20%C3%84/a%26b%25c.txt"),
        "{direct:?}"
    );
    // marking the folder as holding dead properties hands its listing to dav-server
    let dir = s.home("anna.a").join("Ordner \u{00C4}");
    xattr::set(&dir, schola_files::props::DIR_ATTR, b"1").unwrap();
    let by_dav_server = listing();
    assert_eq!(direct, by_dav_server);
}

/// The responses of a multistatus: each href with its properties (namespace, name, text,
/// child element names) in document order.
type Listing = Vec<(String, Vec<(String, String, String, Vec<String>)>)>;

fn parsed(doc: &str) -> Listing {
    let root = xmltree::Element::parse(doc.as_bytes()).unwrap();
    let elems = |e: &xmltree::Element| -> Vec<xmltree::Element> {
        e.children
            .iter()
            .filter_map(|n| n.as_element().cloned())
            .collect()
    };
    let mut out = Vec::new();
    for r in elems(&root) {
        let href = r.get_child("href").unwrap().get_text().unwrap().to_string();
        let mut props = Vec::new();
        for ps in elems(&r).iter().filter(|e| e.name == "propstat") {
            let status = ps.get_child("status").unwrap().get_text().unwrap();
            assert_eq!(status, "HTTP/1.1 200 OK");
            for p in elems(ps.get_child("prop").unwrap()) {
                props.push((
                    p.namespace.clone().unwrap_or_default(),
                    p.name.clone(),
                    p.get_text().map(|t| t.to_string()).unwrap_or_default(),
                    elems(&p).iter().map(|c| c.name.clone()).collect(),
                ));
            }
        }
        out.push((href, props));
    }
    out
}

/// A plain GET of a small file answered directly (schola_files::small_get) gives what
/// dav-server gives: the same bytes and the same headers; bigger files and conditional or range
/// requests still work through dav-server.
#[test]
fn direct_small_get_matches_dav_server() {
    let s = Server::start();
    let small = b"%PDF-1.4 Arbeitsblatt".repeat(100);
    let p = "/dav/home/Arbeitsbl%C3%A4tter%20Kl.%205.pdf";
    assert_eq!(s.req("anna.a", "PUT", p, &[], &small).status, 201);
    let direct = s.get("anna.a", p);
    // If-Match: * changes nothing for an existing file, but hands the request to dav-server
    let by_dav_server = s.req("anna.a", "GET", p, &[("If-Match", "*")], b"");
    assert_eq!(direct.status, 200);
    assert_eq!(direct.body, small);
    assert_eq!(by_dav_server.body, small);
    for h in [
        "content-type",
        "etag",
        "last-modified",
        "accept-ranges",
        "content-length",
    ] {
        assert!(direct.header(h).is_some(), "{h} is missing");
        assert_eq!(direct.header(h), by_dav_server.header(h), "{h}");
    }
    assert_eq!(direct.header("content-type"), Some("application/pdf"));
    // the ETag it names is the one dav-server checks
    let etag = direct.header("etag").unwrap().to_string();
    let r = s.req("anna.a", "GET", p, &[("If-None-Match", &etag)], b"");
    assert_eq!(r.status, 304);
    let r = s.req("anna.a", "GET", p, &[("Range", "bytes=0-3")], b"");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, b"%PDF");
    // a big file is streamed by dav-server, whole
    let big = vec![b'v'; (schola_files::small_get::MAX + 1) as usize];
    assert_eq!(
        s.req("anna.a", "PUT", "/dav/home/film.mp4", &[], &big)
            .status,
        201
    );
    let r = s.get("anna.a", "/dav/home/film.mp4");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), big.len());
    assert_eq!(r.header("content-type"), Some("video/mp4"));
    // another student's home is still not readable this way
    assert_eq!(s.get("ben.b", p).status, 404);
}
