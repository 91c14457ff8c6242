//! The portal API: the authorization matrix, hostile names, downloads, trash.

use serde_json::json;

use crate::kit::{Server, enc, write};

/// role × area × op over the API, with the status each must get.
#[test]
fn authorization_matrix_over_the_api() {
    let s = Server::start();
    write(&s.home("ben.b").join("secret.txt"), b"ben's secret");
    write(&s.data.join("groups/4b/info.txt"), b"class info");
    write(&s.data.join("groups/5a/info.txt"), b"5a info");
    write(&s.data.join("exchange/plan.txt"), b"staff plan");

    // Students never see another student's home: /home is always your own.
    assert_eq!(s.names("anna.a", "/"), ["home", "groups"]);
    assert_eq!(s.names("anna.a", "/groups"), ["4b"]);
    assert_eq!(s.names("tina.t", "/"), ["home", "groups", "exchange"]);
    assert_eq!(
        s.names("tina.t", "/groups"),
        ["4b"],
        "staff groups have no share"
    );
    assert!(s.names("anna.a", "/home").is_empty());
    let r = s.get("anna.a", "/api/download?path=/home/ben.b/secret.txt");
    assert_eq!(r.status, 404);
    assert!(!r.text().contains("ben's secret"));
    let r = s.get("anna.a", "/api/download?path=/home/../ben.b/secret.txt");
    assert_eq!(r.status, 400, "{}", r.text());

    // (who, op, path, status)
    let cases: &[(&str, &str, &str, u16)] = &[
        ("anna.a", "list", "/groups/4b", 200),
        ("anna.a", "read", "/groups/4b/info.txt", 200),
        ("anna.a", "write", "/groups/4b/new.txt", 403),
        ("anna.a", "mkdir", "/groups/4b/d", 403),
        ("anna.a", "delete", "/groups/4b/info.txt", 403),
        ("anna.a", "list", "/groups/5a", 404),
        ("anna.a", "read", "/groups/5a/info.txt", 404),
        ("anna.a", "list", "/exchange", 404),
        ("anna.a", "read", "/exchange/plan.txt", 404),
        ("anna.a", "write", "/exchange/x.txt", 404),
        ("anna.a", "write", "/home/mine.txt", 201),
        ("anna.a", "mkdir", "/home/d", 201),
        ("anna.a", "delete", "/home/mine.txt", 200),
        ("anna.a", "delete", "/home", 403),
        ("anna.a", "write", "/x.txt", 404),
        ("anna.a", "write", "/groups/x.txt", 404),
        ("anna.a", "write", "/groups", 403),
        ("carl.c", "list", "/groups/4b", 404),
        ("carl.c", "read", "/groups/5a/info.txt", 200),
        ("tina.t", "write", "/groups/4b/t.txt", 201),
        ("tina.t", "mkdir", "/groups/4b/d", 201),
        ("tina.t", "delete", "/groups/4b/t.txt", 200),
        ("tina.t", "delete", "/groups/4b", 403),
        ("tina.t", "list", "/groups/5a", 404),
        ("tina.t", "read", "/exchange/plan.txt", 200),
        ("tina.t", "write", "/exchange/t.txt", 201),
        ("tom.t", "write", "/groups/4b/tom.txt", 201),
        ("tom.t", "delete", "/groups/4b/tom.txt", 200),
        ("admin", "list", "/exchange", 200),
        ("admin", "list", "/groups/4b", 404),
        ("eve.e", "list", "/home", 403),
        ("nobody", "list", "/home", 401),
    ];
    for &(who, op, path, want) in cases {
        let r = match op {
            "list" => s.list(who, path),
            "read" => s.get(who, &format!("/api/download?path={}", enc(path))),
            "write" => s.upload(who, path, b"data"),
            "mkdir" => s.post(who, "/api/mkdir", json!({"path": path})),
            "delete" => s.post(who, "/api/delete", json!({"paths": [path]})),
            _ => unreachable!(),
        };
        assert_eq!(r.status, want, "{who} {op} {path}: {}", r.text());
        if want >= 400 {
            assert!(
                r.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{who} {op} {path}"
            );
        }
    }
    // Moving a class file into one's home is a delete in the class share: refused.
    let r = s.post(
        "anna.a",
        "/api/rename",
        json!({"from": "/groups/4b/info.txt", "to": "/home/info.txt"}),
    );
    assert_eq!(r.status, 403);
    assert!(s.data.join("groups/4b/info.txt").exists());
    let r = s.post(
        "tina.t",
        "/api/rename",
        json!({"from": "/groups/4b", "to": "/home/4b"}),
    );
    assert_eq!(r.status, 403);
    // Copying a class file into one's home is fine.
    let r = s.post(
        "anna.a",
        "/api/copy",
        json!({"from": "/groups/4b/info.txt", "to": "/home/info.txt"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        std::fs::read(s.home("anna.a").join("info.txt")).unwrap(),
        b"class info"
    );
    // Only admins see others' usage.
    assert_eq!(
        s.get("anna.a", "/api/usage/people?logins=ben.b").status,
        403
    );
    let r = s.get("admin", "/api/usage/people?logins=ben.b,anna.a");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ben.b"]["used"], 12);
    assert_eq!(r.json()["ben.b"]["limit"], 1024 * 1024 * 1024);
    let u = s.get("tina.t", "/api/usage").json();
    assert_eq!(u["home"]["limit"], 10u64 * 1024 * 1024 * 1024);
    assert!(u["groups"]["4b"]["used"].as_u64().unwrap() > 0);
}

#[test]
fn hostile_names_are_refused_with_a_clear_error() {
    let s = Server::start();
    let home = s.home("anna.a");
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink("/etc", home.join("etc")).unwrap();
    std::os::unix::fs::symlink(s.home("ben.b"), home.join("ben")).unwrap();
    write(&s.home("ben.b").join("secret.txt"), b"ben's secret");

    for (raw, what) in [
        ("/home/..%2F..%2Fetc%2Fpasswd", "not allowed"),
        ("/home/%2e%2e/ben.b/secret.txt", "not allowed"),
        ("/home/a%00b", "not allowed"),
        ("/home/CON.txt", "reserved device name"),
        ("/home/nul", "reserved device name"),
        ("/home/report.", "end with a dot"),
        ("/home/a%3Ab", "cannot contain"),
        ("/home/.~schola-x", "reserved for Schola"),
    ] {
        let r = s.req(
            "anna.a",
            "PUT",
            &format!("/api/upload?path={raw}"),
            &[],
            b"x",
        );
        assert_eq!(r.status, 400, "{raw}: {}", r.text());
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(
            msg.contains(what) && msg.contains("the name"),
            "{raw}: {msg}"
        );
    }
    // Planted symlinks are never followed, neither to /etc nor into another home.
    for p in ["/home/etc/passwd", "/home/ben/secret.txt"] {
        let r = s.get("anna.a", &format!("/api/download?path={}", enc(p)));
        assert_eq!(r.status, 404, "{p}: {}", r.text());
        assert!(r.text().contains("not found"));
    }
    assert_eq!(s.list("anna.a", "/home/ben").status, 404);
    assert_eq!(
        s.upload("anna.a", "/home/ben/planted.txt", b"x").status,
        404
    );
    assert!(!s.home("ben.b").join("planted.txt").exists());
    assert!(
        s.names("anna.a", "/home").is_empty(),
        "links are not listed"
    );

    // NFD is stored as NFC; a case or accent twin of an existing name is refused.
    assert_eq!(
        s.upload("anna.a", "/home/A\u{0308}pfel.txt", b"1").status,
        201
    );
    assert!(home.join("\u{00C4}pfel.txt").exists());
    let r = s.upload("anna.a", "/home/\u{00E4}PFEL.txt", b"2");
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("differs only in case")
    );
    let r = s.post("anna.a", "/api/mkdir", json!({"path": "/home/ÄPFEL.TXT"}));
    assert_eq!(r.status, 409);
    assert_eq!(s.names("anna.a", "/home"), ["\u{00C4}pfel.txt"]);
    // The same name (NFD spelling) overwrites the file itself.
    assert_eq!(
        s.upload("anna.a", "/home/A\u{0308}pfel.txt", b"3").status,
        201
    );
    assert_eq!(std::fs::read(home.join("\u{00C4}pfel.txt")).unwrap(), b"3");
}

#[test]
fn download_supports_range_and_never_renders_html() {
    let s = Server::start();
    let body = b"<script>alert(1)</script> and more";
    assert_eq!(
        s.upload("anna.a", "/home/<script>.html", body).status,
        400,
        "'<' is refused"
    );
    assert_eq!(
        s.upload("anna.a", "/home/Lösung & Test.html", body).status,
        201
    );
    let url = format!("/api/download?path={}", enc("/home/Lösung & Test.html"));
    let r = s.get("anna.a", &url);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(
        r.header("content-disposition").unwrap(),
        "attachment; filename*=UTF-8''L%C3%B6sung%20&%20Test.html"
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("content-security-policy"), Some("sandbox"));
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let r = s.req("anna.a", "GET", &url, &[("Range", "bytes=2-7")], b"");
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &body[2..8]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 2-7/{}", body.len()).as_str())
    );
}

#[test]
fn trash_delete_restore_and_name_clash() {
    let s = Server::start();
    assert_eq!(
        s.post("anna.a", "/api/mkdir", json!({"path": "/home/Mappe"}))
            .status,
        201
    );
    assert_eq!(s.upload("anna.a", "/home/Mappe/a.txt", b"one").status, 201);
    let r = s.post(
        "anna.a",
        "/api/delete",
        json!({"paths": ["/home/Mappe/a.txt"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(s.names("anna.a", "/home/Mappe").is_empty());
    let t = s.get("anna.a", "/api/trash").json();
    assert_eq!(t.as_array().unwrap().len(), 1);
    assert_eq!(t[0]["path"], "/home/Mappe/a.txt");
    assert_eq!(t[0]["size"], 3);
    let id = t[0]["id"].as_str().unwrap().to_string();
    // Nobody else can restore it.
    assert_eq!(
        s.post("ben.b", "/api/restore", json!({"id": id})).status,
        404
    );
    assert_eq!(s.upload("anna.a", "/home/Mappe/a.txt", b"two").status, 201);
    let r = s.post("anna.a", "/api/restore", json!({"id": id}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["path"], "/home/Mappe/a (2).txt");
    let dir = s.home("anna.a").join("Mappe");
    assert_eq!(std::fs::read(dir.join("a (2).txt")).unwrap(), b"one");
    assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"two");
    assert!(
        s.get("anna.a", "/api/trash")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A deleted folder comes back whole, even when its parent was deleted meanwhile.
    let r = s.post("anna.a", "/api/delete", json!({"paths": ["/home/Mappe"]}));
    assert_eq!(r.status, 200);
    let id = s.get("anna.a", "/api/trash").json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.post("anna.a", "/api/restore", json!({"id": id}));
    assert_eq!(r.json()["path"], "/home/Mappe");
    assert_eq!(s.names("anna.a", "/home/Mappe"), ["a (2).txt", "a.txt"]);
}
