//! Static assets: precompressed, fingerprinted, cached for a year when the URL carries the
//! current fingerprint.

use crate::kit::*;

#[tokio::test]
async fn static_assets_come_precompressed_with_a_long_cache() {
    let s = Server::start("");
    let c = s.client();
    let login = s.page(&c, "/login").await;
    let start = login
        .find("/static/schola.css?v=")
        .expect("the page links the stylesheet");
    let href = &login[start..];
    let href = &href[..href.find('"').unwrap()];

    let get = async |path: &str, enc: &str| {
        c.get(s.url(path))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap()
    };
    let header = |r: &reqwest::Response, h: &str| {
        r.headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let plain = get(href, "identity").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(
        header(&plain, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&plain, "content-type"), "text/css; charset=utf-8");
    assert_eq!(header(&plain, "content-encoding"), "");
    let etag = header(&plain, "etag");
    let css = plain.bytes().await.unwrap();
    assert!(css.starts_with(b"/* Schola"));

    let br = get(href, "gzip, deflate, br").await;
    assert_eq!(header(&br, "content-encoding"), "br");
    assert_eq!(header(&br, "vary"), "Accept-Encoding");
    let br = br.bytes().await.unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&br[..], 4096), &mut out).unwrap();
    assert_eq!(out, css, "the brotli variant is the stylesheet");
    assert!(
        br.len() * 2 < css.len(),
        "brotli saves: {} of {}",
        br.len(),
        css.len()
    );

    let gz = get(href, "gzip;q=1, br;q=0").await;
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    let gz = gz.bytes().await.unwrap();
    out.clear();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
    assert_eq!(out, css);

    // an old fingerprint (a page from before an upgrade) gets today's file, briefly cached
    let old = get("/static/schola.css?v=000000000000", "identity").await;
    assert_eq!(header(&old, "cache-control"), "public, max-age=300");
    assert_eq!(old.bytes().await.unwrap(), css);

    let again = c
        .get(s.url(href))
        .header("if-none-match", etag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(get("/static/nothing.css", "br").await.status(), 404);
    assert_eq!(get("/static/..%2Fbuild.rs", "br").await.status(), 404);
    let icon = get("/favicon.ico", "identity").await;
    assert_eq!(header(&icon, "content-type"), "image/svg+xml");
}
