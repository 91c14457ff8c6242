//! The most common WebDAV request, answered directly: a PROPFIND of a folder (Depth 1) that
//! asks for live properties, as file managers and mounted drives send for every folder they
//! show. dav-server builds each entry as an XML tree and writes it through a general XML writer,
//! which costs several times the directory read itself in a big folder; here the answer is
//! written straight into one buffer. It is the document dav-server sends for the same request
//! (`tests/it/dav.rs` compares the two). Everything else goes to dav-server: allprop and
//! propname, lock, quota and principal properties, the Microsoft, Apache, ownCloud, Nextcloud,
//! CalDAV and CardDAV properties dav-server answers itself, virtual folders, and folders whose
//! entries may have dead properties ([`crate::props::DIR_ATTR`]).

use std::fmt::Write as _;

use actix_web::http::header::HttpDate;
use dav_server::fs::DavMetaData;

use crate::dav::{Meta, encode_path};
use crate::fsops;
use crate::layout::Layout;
use crate::names::VPath;
use crate::policy::{self, Actor, Area, Op};
use crate::props;

/// A live property the direct answer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    ResourceType,
    ContentLength,
    LastModified,
    ETag,
    ContentType,
}

/// Namespaces whose properties dav-server computes (never dead properties).
const LIVE_NAMESPACES: &[&str] = &[
    "http://apache.org/dav/props/",
    "urn:schemas-microsoft-com:",
    "http://nextcloud.org/ns",
    "http://owncloud.org/ns",
    "urn:ietf:params:xml:ns:caldav",
    "http://calendarserver.org/ns/",
    "urn:ietf:params:xml:ns:carddav",
];

/// What a PROPFIND body asks for, when the direct answer can give it: the live properties in
/// the order asked. Dead properties are left out, as dav-server leaves out what a resource does
/// not have (the caller makes sure the folder holds none). `None`: leave it to dav-server.
pub fn wanted(body: &[u8]) -> Option<Vec<Live>> {
    let root = xmltree::Element::parse(body).ok()?;
    if root.name != "propfind" || root.namespace.as_deref() != Some("DAV:") {
        return None;
    }
    // as dav-server: the first of propname, prop or allprop decides
    let kind = root
        .children
        .iter()
        .filter_map(|n| n.as_element())
        .find(|e| matches!(e.name.as_str(), "propname" | "prop" | "allprop"))?;
    if kind.name != "prop" {
        return None;
    }
    let mut v = Vec::new();
    for e in kind.children.iter().filter_map(|n| n.as_element()) {
        match e.namespace.as_deref() {
            Some("DAV:") => match e.name.as_str() {
                "resourcetype" => v.push(Live::ResourceType),
                "getcontentlength" => v.push(Live::ContentLength),
                "getlastmodified" => v.push(Live::LastModified),
                "getetag" => v.push(Live::ETag),
                "getcontenttype" => v.push(Live::ContentType),
                // no creation time is kept (the metadata gives none), and these two would be
                // dead properties
                "creationdate" | "displayname" | "getcontentlanguage" => {}
                _ => return None,
            },
            Some(ns) if LIVE_NAMESPACES.contains(&ns) => return None,
            _ => {}
        }
    }
    Some(v)
}

/// The 207 document for a Depth 1 PROPFIND of the folder `path` (decoded, below `/dav`, ending
/// in '/'), or `None` when dav-server must answer (including every refusal, so its status codes
/// stay the only ones). Reads the folder: call it off the event loop.
pub fn folder(layout: &Layout, actor: &Actor, path: &str, wants: &[Live]) -> Option<Vec<u8>> {
    let inner = path.strip_suffix('/')?;
    let vp = VPath::parse(if inner.is_empty() { "/" } else { inner }).ok()?;
    // only a path written the one way dav-server writes it back
    let mut canonical = String::new();
    for seg in &vp.0 {
        canonical.push('/');
        canonical.push_str(seg);
    }
    if canonical != inner {
        return None;
    }
    let t = policy::resolve(layout, actor, &vp, Op::List).ok()?;
    if matches!(t.area, Area::Root | Area::GroupsRoot) {
        return None;
    }
    fsops::ensure_area(&t).ok()?;
    let me = fsops::existing(&t).ok()?;
    if !me.is_dir() || props::children_may_have(&t.real) || props::any(&t.real) {
        return None;
    }
    let entries = fsops::read_folder(&t).ok()?;
    let href = format!("/dav{}", encode_path(path.as_bytes()));
    let mut out = String::with_capacity(200 + (entries.len() + 1) * (href.len() + 320));
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">"#);
    response(&mut out, &href, "", &Meta::from(&me), wants);
    for (name, m) in &entries {
        let mut h = href.clone();
        h.push_str(&encode_path(name.as_bytes()));
        if m.is_dir() {
            h.push('/');
        }
        response(&mut out, &h, name, &Meta::from(m), wants);
    }
    out.push_str("</D:multistatus>");
    Some(out.into_bytes())
}

/// One `D:response`, as dav-server writes it: only the properties the resource has, in the
/// order asked, in one 200 propstat (none when it has none of them).
fn response(out: &mut String, href: &str, name: &str, meta: &Meta, wants: &[Live]) {
    out.push_str("<D:response><D:href>");
    out.push_str(href);
    out.push_str("</D:href>");
    let start = out.len();
    out.push_str("<D:propstat><D:prop>");
    let before = out.len();
    for w in wants {
        match w {
            Live::ResourceType if meta.is_dir() => {
                out.push_str("<D:resourcetype><D:collection></D:collection></D:resourcetype>")
            }
            Live::ResourceType => out.push_str("<D:resourcetype></D:resourcetype>"),
            Live::ContentLength if meta.is_dir() => {}
            Live::ContentLength => {
                let _ = write!(
                    out,
                    "<D:getcontentlength>{}</D:getcontentlength>",
                    meta.len()
                );
            }
            Live::LastModified => {
                if let Ok(t) = meta.modified() {
                    let _ = write!(
                        out,
                        "<D:getlastmodified>{}</D:getlastmodified>",
                        HttpDate::from(t)
                    );
                }
            }
            Live::ETag => {
                if let Some(tag) = meta.etag() {
                    let _ = write!(out, "<D:getetag>{tag}</D:getetag>");
                }
            }
            Live::ContentType => {
                out.push_str("<D:getcontenttype>");
                if meta.is_dir() {
                    out.push_str("httpd/unix-directory");
                } else {
                    out.push_str(&content_type(name));
                }
                out.push_str("</D:getcontenttype>");
            }
        }
    }
    if out.len() == before {
        out.truncate(start);
    } else {
        out.push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
    }
    out.push_str("</D:response>");
}

/// The type dav-server names for a file: by the text after the last dot, else octet-stream.
pub(crate) fn content_type(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => actix_files::file_extension_to_mime(ext)
            .essence_str()
            .to_string(),
        _ => "application/octet-stream".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn knows_which_requests_it_can_answer() {
        let ask = |props: &str| {
            wanted(
                format!(
                    r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x" xmlns:Z="urn:schemas-microsoft-com:"><D:prop>{props}</D:prop></D:propfind>"#
                )
                .as_bytes(),
            )
        };
        assert_eq!(
            ask("<D:getetag/><D:resourcetype/><X:colour/><D:creationdate/>"),
            Some(vec![Live::ETag, Live::ResourceType])
        );
        assert_eq!(ask("<D:lockdiscovery/>"), None);
        assert_eq!(ask("<D:quota-used-bytes/>"), None);
        assert_eq!(ask("<Z:Win32FileAttributes/>"), None);
        assert_eq!(
            wanted(br#"<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>"#),
            None
        );
        assert_eq!(wanted(b""), None);
        assert_eq!(wanted(b"<propfind>not dav</propfind>"), None);
    }

    #[test]
    fn content_types_as_dav_server_names_them() {
        assert_eq!(content_type("Referat.pdf"), "application/pdf");
        assert_eq!(content_type("a.tar.gz"), "application/gzip");
        assert_eq!(content_type("README"), "application/octet-stream");
        assert_eq!(content_type("x.unknownext"), "application/octet-stream");
    }
}
