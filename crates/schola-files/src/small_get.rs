//! A plain GET of a small file, answered directly: the request a mounted drive or a sync client
//! sends for most files of a school (documents, worksheets, pictures). dav-server's GET opens
//! the file, builds a streamed body and reads it in pieces; a small file is read in one go and
//! sent with its length. The headers are the ones dav-server sends (a test compares them).
//! Conditional and range requests, big files, folders, virtual folders and every refusal go to
//! dav-server.

use std::io::Read as _;
use std::time::SystemTime;

use dav_server::fs::DavMetaData;

use crate::dav::Meta;
use crate::fsops;
use crate::layout::Layout;
use crate::names::VPath;
use crate::policy::{self, Actor, Area, Op};

/// Bigger files are streamed by dav-server.
pub const MAX: u64 = 256 * 1024;

/// Request headers that make a GET more than plain (dav-server evaluates them).
pub const LEAVE_TO_DAV_SERVER: &[&str] = &[
    "range",
    "if-range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if",
];

/// A small file, read.
pub struct SmallFile {
    pub body: Vec<u8>,
    /// Quoted, as in the `ETag` header.
    pub etag: Option<String>,
    pub modified: Option<SystemTime>,
    pub content_type: String,
}

/// The file at `path` (decoded, below `/dav`), when it is a small regular file `actor` may read;
/// `None` otherwise (dav-server answers).
pub fn read(layout: &Layout, actor: &Actor, path: &str) -> Option<SmallFile> {
    if path.ends_with('/') {
        return None;
    }
    let vp = VPath::parse(path).ok()?;
    let name = vp.0.last()?.clone();
    let t = policy::resolve(layout, actor, &vp, Op::Read).ok()?;
    if matches!(t.area, Area::Root | Area::GroupsRoot) {
        return None;
    }
    fsops::ensure_area(&t).ok()?;
    let m = fsops::existing(&t).ok()?;
    if !m.is_file() || m.len() > MAX {
        return None;
    }
    let file = std::fs::File::open(&t.real).ok()?;
    // what the open file is (as dav-server asks the opened file)
    let m = file.metadata().ok()?;
    if !m.is_file() || m.len() > MAX {
        return None;
    }
    let mut body = Vec::with_capacity(m.len() as usize);
    file.take(MAX + 1).read_to_end(&mut body).ok()?;
    if body.len() as u64 != m.len() {
        // changed while being read: let dav-server answer
        return None;
    }
    let meta = Meta::from(&m);
    Some(SmallFile {
        body,
        etag: meta.etag().map(|t| format!("\"{t}\"")),
        modified: meta.modified().ok(),
        content_type: crate::listing::content_type(&name),
    })
}
