//! Uploads that never lose data: quota edges, a cut connection, a full disk, resumable chunks.

use std::io::Write as _;

use serde_json::json;

use crate::kit::{Server, read_response};

const MIB: usize = 1024 * 1024;

#[test]
fn quota_edges_up_front_and_while_streaming() {
    let s = Server::start();
    // dora.d has a 1 MiB quota: exactly the limit is fine, one byte more is not.
    let full = vec![7u8; MIB];
    let r = s.upload("dora.d", "/home/full.bin", &full);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.upload("dora.d", "/home/one.bin", b"x");
    assert_eq!(r.status, 507, "{}", r.text());
    assert_eq!(
        r.json()["error"],
        "this upload needs 1 bytes but only 0 bytes of the 1 MiB quota is free"
    );
    // Replacing a file counts only the difference.
    assert_eq!(s.upload("dora.d", "/home/full.bin", &full).status, 201);
    assert_eq!(
        s.post(
            "dora.d",
            "/api/delete",
            json!({"paths": ["/home/full.bin"]})
        )
        .status,
        200
    );
    // Announced too large: refused before any data, over the API and over DAV.
    let r = s.upload("dora.d", "/home/big.bin", &vec![1u8; MIB + 1]);
    assert_eq!(r.status, 507);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("of the 1 MiB quota is free")
    );
    let r = s.req(
        "dora.d",
        "PUT",
        "/dav/home/big.bin",
        &[],
        &vec![1u8; MIB + 1],
    );
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(r.text().contains("quota"));
    // No length (chunked): stopped at the limit, nothing left behind.
    for path in [
        "/api/upload?path=/home/chunked.bin",
        "/dav/home/chunked.bin",
    ] {
        let mut c = s.open("dora.d", "PUT", path, &[("Transfer-Encoding", "chunked")]);
        // The server stops reading at the limit: do not wait on a full socket buffer.
        c.set_write_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        let chunk = vec![2u8; 64 * 1024];
        for _ in 0..20 {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            if c.write_all(&frame).is_err() {
                break;
            }
        }
        let _ = c.write_all(b"0\r\n\r\n");
        // The 507 may come, or the connection may be reset while we still send: either way
        // nothing may be stored.
        let raw = crate::kit::read_raw(&mut c);
        if !raw.is_empty() {
            let r = crate::kit::parse_response(&raw);
            assert_eq!(r.status, 507, "{path}: {}", r.text());
        }
        s.wait_no_leftovers();
        assert!(!s.home("dora.d").join("chunked.bin").exists(), "{path}");
    }
    assert!(s.names("dora.d", "/home").is_empty());
    let u = s.get("dora.d", "/api/usage").json();
    assert_eq!(u["home"], json!({"used": 0, "limit": MIB}));
}

#[test]
fn a_cut_upload_keeps_the_old_version_and_leaves_nothing() {
    let s = Server::start();
    assert_eq!(s.upload("anna.a", "/home/f.bin", b"old").status, 201);
    assert_eq!(
        s.req("anna.a", "PUT", "/dav/home/g.bin", &[], b"old")
            .status,
        201
    );
    let len = 4 * MIB;
    for path in ["/api/upload?path=/home/f.bin", "/dav/home/g.bin"] {
        let len_s = len.to_string();
        let mut c = s.open("anna.a", "PUT", path, &[("Content-Length", &len_s)]);
        c.write_all(&vec![9u8; len / 2]).unwrap();
        c.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(c);
        s.wait_no_leftovers();
    }
    assert_eq!(
        std::fs::read(s.home("anna.a").join("f.bin")).unwrap(),
        b"old"
    );
    assert_eq!(
        std::fs::read(s.home("anna.a").join("g.bin")).unwrap(),
        b"old"
    );
    assert_eq!(s.names("anna.a", "/home"), ["f.bin", "g.bin"]);
    // A whole upload still works afterwards.
    let body = vec![5u8; len];
    let mut c = s.open(
        "anna.a",
        "PUT",
        "/api/upload?path=/home/f.bin",
        &[("Content-Length", &len.to_string())],
    );
    c.write_all(&body).unwrap();
    assert_eq!(read_response(&mut c).status, 201);
    assert_eq!(std::fs::read(s.home("anna.a").join("f.bin")).unwrap(), body);
}

#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let s = Server::start_opts(true);
    assert_eq!(
        s.upload("anna.a", "/home/keep.txt", b"precious").status,
        201
    );
    assert_eq!(s.upload("anna.a", "/home/big.bin", b"old big").status, 201);
    for (m, path) in [
        ("PUT", "/api/upload?path=/home/big.bin"),
        ("PUT", "/dav/home/big.bin"),
    ] {
        let r = s.req("anna.a", m, path, &[], &vec![3u8; 3 * MIB]);
        assert_eq!(r.status, 507, "{path}: {}", r.text());
        if path.starts_with("/api") {
            assert!(
                r.json()["error"]
                    .as_str()
                    .unwrap()
                    .contains("the disk is full"),
                "{}",
                r.text()
            );
        }
        s.wait_no_leftovers();
    }
    assert_eq!(
        std::fs::read(s.home("anna.a").join("keep.txt")).unwrap(),
        b"precious"
    );
    assert_eq!(
        std::fs::read(s.home("anna.a").join("big.bin")).unwrap(),
        b"old big"
    );
    // The space is back: a small upload works.
    assert_eq!(
        s.upload("anna.a", "/home/small.txt", &vec![1u8; 100_000])
            .status,
        201
    );
}

#[test]
fn resumable_upload_with_a_wrong_offset_and_a_resume() {
    let s = Server::start();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let r = s.post(
        "anna.a",
        "/api/uploads",
        json!({"path": "/home/video.mp4", "size": body.len()}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = s.req(
        "anna.a",
        "PUT",
        &format!("/api/uploads/{id}?offset=0"),
        &[],
        &body[..100_000],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["offset"], 100_000);
    // Sending the first chunk again: 409 with where to go on from.
    let r = s.req(
        "anna.a",
        "PUT",
        &format!("/api/uploads/{id}?offset=0"),
        &[],
        &body[..100_000],
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["offset"], 100_000);
    // The token is anna's alone.
    assert_eq!(s.get("ben.b", &format!("/api/uploads/{id}")).status, 404);
    // A chunk cut in the middle does not move the offset.
    let mut c = s.open(
        "anna.a",
        "PUT",
        &format!("/api/uploads/{id}?offset=100000"),
        &[("Content-Length", "100000")],
    );
    c.write_all(&body[100_000..150_000]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    drop(c);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        s.get("anna.a", &format!("/api/uploads/{id}")).json(),
        json!({"offset": 100_000, "size": 300_000})
    );
    // Finishing early is refused; nothing is visible yet.
    assert_eq!(
        s.post("anna.a", &format!("/api/uploads/{id}/finish"), json!({}))
            .status,
        409
    );
    assert!(s.names("anna.a", "/home").is_empty());
    let r = s.req(
        "anna.a",
        "PUT",
        &format!("/api/uploads/{id}?offset=100000"),
        &[],
        &body[100_000..],
    );
    assert_eq!(r.json()["offset"], 300_000);
    let r = s.post("anna.a", &format!("/api/uploads/{id}/finish"), json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"path": "/home/video.mp4", "size": 300_000})
    );
    assert_eq!(
        std::fs::read(s.home("anna.a").join("video.mp4")).unwrap(),
        body
    );
    assert_eq!(s.get("anna.a", &format!("/api/uploads/{id}")).status, 404);
    // Too large for the quota: refused at the start.
    let r = s.post(
        "dora.d",
        "/api/uploads",
        json!({"path": "/home/v.mp4", "size": 2 * MIB}),
    );
    assert_eq!(r.status, 507);
}
