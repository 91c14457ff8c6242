//! The school's logo: checked on upload (PNG or JPEG by their magic bytes, at most
//! [`MAX_LOGO_BYTES`]; no SVG, which can carry script), kept in the state directory
//! (`branding/logo.png` or `logo.jpg`, written atomically), held in memory and served at
//! `/branding/logo?v=<hash>` with a long cache: the address changes whenever the logo does.

use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use crate::state::AppState;

/// Largest logo accepted: a header logo needs far less, and every page refers to it.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Kind::Png => "logo.png",
            Kind::Jpeg => "logo.jpg",
        }
    }

    /// What the first bytes say the file is; the name and the browser's content type are not
    /// trusted.
    pub fn sniff(data: &[u8]) -> Option<Kind> {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else {
            None
        }
    }
}

/// A logo in memory, as served.
#[derive(Debug, Clone)]
pub struct Logo {
    pub kind: Kind,
    pub bytes: web::Bytes,
    /// The first 16 hex digits of the SHA-256 of the bytes.
    pub hash: String,
}

/// Why an uploaded logo was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoProblem {
    Empty,
    TooBig,
    NotAnImage,
}

impl Logo {
    /// Checks an uploaded file.
    pub fn check(data: Vec<u8>) -> Result<Logo, LogoProblem> {
        if data.is_empty() {
            return Err(LogoProblem::Empty);
        }
        if data.len() > MAX_LOGO_BYTES {
            return Err(LogoProblem::TooBig);
        }
        let kind = Kind::sniff(&data).ok_or(LogoProblem::NotAnImage)?;
        let hash = hex::encode(&Sha256::digest(&data)[..8]);
        Ok(Logo {
            kind,
            bytes: data.into(),
            hash,
        })
    }

    pub fn url(&self) -> String {
        format!("/branding/logo?v={}", self.hash)
    }
}

fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("branding")
}

/// The stored logo, if there is one (read once at start).
pub fn load(state_dir: &Path) -> Option<Logo> {
    [Kind::Png, Kind::Jpeg].into_iter().find_map(|k| {
        let path = dir(state_dir).join(k.file_name());
        let data = std::fs::read(&path).ok()?;
        match Logo::check(data) {
            Ok(l) if l.kind == k => Some(l),
            _ => {
                tracing::warn!(path = %path.display(), "the stored logo is not a PNG or JPEG of at most 512 KiB; not shown");
                None
            }
        }
    })
}

/// Writes the logo (temporary file, fsync, rename) and removes one of the other kind; `None`
/// removes the logo.
pub fn store(state_dir: &Path, logo: Option<&Logo>) -> anyhow::Result<()> {
    let d = dir(state_dir);
    std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    if let Some(l) = logo {
        crate::tls::write_private(&d.join(l.kind.file_name()), &l.bytes, 0o644)?;
    }
    for k in [Kind::Png, Kind::Jpeg] {
        if logo.is_some_and(|l| l.kind == k) {
            continue;
        }
        let path = d.join(k.file_name());
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    Ok(())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/branding/logo", web::get().to(serve));
}

#[derive(serde::Deserialize)]
pub struct Version {
    #[serde(default)]
    v: String,
}

/// The logo, for everyone (the sign-in page shows it too). Under its current address it may be
/// cached for a year; under an old or no address browsers must ask again (ETag).
async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<Version>,
) -> HttpResponse {
    let Some(logo) = state.logo() else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no logo");
    };
    let etag = format!("\"{}\"", logo.hash);
    let cache = if q.v == logo.hash {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache));
    if matches {
        return resp.finish();
    }
    resp.content_type(logo.kind.content_type())
        .body(logo.bytes.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn only_png_and_jpeg_by_their_first_bytes() {
        assert_eq!(Logo::check(PNG.to_vec()).unwrap().kind, Kind::Png);
        assert_eq!(
            Logo::check(vec![0xFF, 0xD8, 0xFF, 0xE0]).unwrap().kind,
            Kind::Jpeg
        );
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(
            Logo::check(svg.to_vec()).unwrap_err(),
            LogoProblem::NotAnImage
        );
        assert_eq!(Logo::check(Vec::new()).unwrap_err(), LogoProblem::Empty);
        let mut big = PNG.to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert_eq!(Logo::check(big).unwrap_err(), LogoProblem::TooBig);
    }

    #[test]
    fn stored_logo_is_found_again_and_replaced_by_the_other_kind() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_none());
        let png = Logo::check(PNG.to_vec()).unwrap();
        store(dir.path(), Some(&png)).unwrap();
        assert_eq!(load(dir.path()).unwrap().hash, png.hash);
        let jpeg = Logo::check(vec![0xFF, 0xD8, 0xFF, 0xE0, 1]).unwrap();
        store(dir.path(), Some(&jpeg)).unwrap();
        assert!(!dir.path().join("branding/logo.png").exists());
        assert_eq!(load(dir.path()).unwrap().kind, Kind::Jpeg);
        store(dir.path(), None).unwrap();
        assert!(load(dir.path()).is_none());
    }
}
