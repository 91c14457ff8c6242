//! The static assets (stylesheet, icon, the few scripts of progressive enhancement), compiled
//! into the binary by `build.rs` with gzip and brotli variants made at build time.
//!
//! Pages link `url("schola.css")` = `/static/schola.css?v=<content hash>`; a request carrying
//! the current hash is cached by browsers for a year (`immutable`), so at 8:00 a returning
//! browser asks for nothing but the page itself. Without the hash, or with an old one (a page
//! from before an upgrade), the current file is served with a short cache.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    /// The first 12 hex digits of the SHA-256 of the content.
    pub hash: &'static str,
    pub mime: &'static str,
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The URL of a static asset with its content hash, for templates:
/// `{{ crate::assets::url("schola.css") }}`.
pub fn url(name: &str) -> String {
    match find(name) {
        Some(a) => format!("/static/{}?v={}", a.name, a.hash),
        None => {
            tracing::error!(
                asset = name,
                "a page links a static asset that does not exist"
            );
            format!("/static/{name}")
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(serve))
        .route("/static/{name}", web::head().to(serve))
        .route("/favicon.ico", web::get().to(favicon));
}

async fn favicon(req: HttpRequest) -> HttpResponse {
    respond(&req, "favicon.svg")
}

async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    respond(&req, &name)
}

/// Which encodings the browser accepts (`Accept-Encoding`; a `q=0` means "not this one").
fn accepts(req: &HttpRequest, coding: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

fn respond(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some(asset) = find(name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file");
    };
    let etag = format!("\"{}\"", asset.hash);
    let current = web::Query::<Version>::from_query(req.query_string())
        .is_ok_and(|q| q.v.as_deref() == Some(asset.hash));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Encoding"));
    if not_modified {
        return resp.finish();
    }
    resp.content_type(asset.mime);
    let (encoding, body) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts(req, "br") => (Some("br"), br),
        (_, Some(gz)) if accepts(req, "gzip") => (Some("gzip"), gz),
        _ => (None, asset.raw),
    };
    if let Some(e) = encoding {
        resp.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(e)));
    }
    resp.body(body)
}

#[derive(serde::Deserialize)]
struct Version {
    v: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_precompressed_where_it_pays_and_decompresses_to_itself() {
        let css = find("schola.css").unwrap();
        assert_eq!(css.hash.len(), 12);
        let br = css.brotli.expect("the stylesheet compresses with brotli");
        let gz = css.gzip.expect("the stylesheet compresses with gzip");
        assert!(br.len() < gz.len() && gz.len() < css.raw.len());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
        assert_eq!(out, css.raw);
        out.clear();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(br, 4096), &mut out).unwrap();
        assert_eq!(out, css.raw);
        assert!(url("schola.css").starts_with("/static/schola.css?v="));
        assert!(find("updates.js").is_some());
    }
}
