//! Reads a form with files (`multipart/form-data`), or a plain one, into memory with a limit per
//! file: a file over its limit is marked as too big (and its bytes dropped) rather than cutting
//! the request short, so the page can say which file was too big. Past [`MAX_REQUEST_BYTES`] in
//! all, reading stops.

use std::collections::HashMap;

use actix_web::{FromRequest as _, HttpRequest, web};
use futures_util::StreamExt as _;

/// Everything a form with files may send, however big its files are; beyond this the request
/// is refused without reading on.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Longest text field.
const MAX_TEXT_BYTES: usize = 8 * 1024;
const MAX_PARTS: usize = 32;

#[derive(Debug, Default)]
pub struct Fields {
    text: HashMap<String, String>,
    files: HashMap<String, File>,
}

#[derive(Debug, Default)]
pub struct File {
    pub data: Vec<u8>,
    /// More than the file's limit was sent; `data` is empty.
    pub too_big: bool,
}

impl Fields {
    /// A text field, or "" if it was not sent.
    pub fn text(&self, name: &str) -> String {
        self.text.get(name).cloned().unwrap_or_default()
    }

    /// A file that was chosen (a file field left empty counts as not sent).
    pub fn file(&mut self, name: &str) -> Option<File> {
        self.files
            .remove(name)
            .filter(|f| f.too_big || !f.data.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormError {
    /// More than [`MAX_REQUEST_BYTES`], or a text field over its limit.
    TooLarge,
    /// Not a form, or a broken one.
    Malformed,
}

/// Reads the request's form. `limits` names the file fields accepted and their largest size;
/// any other file is dropped as too big.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &[(&str, usize)],
) -> Result<Fields, FormError> {
    let multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        let mut p = payload.into_inner();
        let form = web::Form::<HashMap<String, String>>::from_request(req, &mut p)
            .await
            .map_err(|_| FormError::Malformed)?;
        return Ok(Fields {
            text: form.into_inner(),
            files: HashMap::new(),
        });
    }
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields = Fields::default();
    let mut total = 0usize;
    let mut count = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|_| FormError::Malformed)?;
        count += 1;
        if count > MAX_PARTS {
            return Err(FormError::Malformed);
        }
        let Some(cd) = part.content_disposition().cloned() else {
            return Err(FormError::Malformed);
        };
        let name = cd.get_name().unwrap_or_default().to_string();
        let is_file = cd.get_filename().is_some();
        let limit = if is_file {
            limits
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, l)| *l)
        } else {
            MAX_TEXT_BYTES
        };
        let mut data = Vec::new();
        let mut too_big = false;
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| FormError::Malformed)?;
            total += chunk.len();
            if total > MAX_REQUEST_BYTES {
                return Err(FormError::TooLarge);
            }
            if too_big {
                continue;
            }
            if data.len() + chunk.len() > limit {
                too_big = true;
                data = Vec::new();
            } else {
                data.extend_from_slice(&chunk);
            }
        }
        if is_file {
            fields.files.insert(name, File { data, too_big });
        } else if too_big {
            return Err(FormError::TooLarge);
        } else {
            let text = String::from_utf8(data).map_err(|_| FormError::Malformed)?;
            fields.text.insert(name, text);
        }
    }
    Ok(fields)
}
