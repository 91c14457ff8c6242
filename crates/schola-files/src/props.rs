//! WebDAV dead properties (PROPPATCH, RFC 4918 §9.2), kept in one extended attribute of the file
//! or folder itself (`user.schola.dav`, JSON). So a rename or a move keeps them with no extra
//! step, a delete takes them along, and no side file can drift from its file. Windows Explorer
//! and macOS Finder set such properties (times, attributes) after every upload; litmus's `props`
//! suite checks the semantics.
//!
//! The attribute is bounded by the file system (ext4: the properties of one file share ~4 KiB);
//! a PROPPATCH that does not fit is refused with 507 for its properties and changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The extended attribute holding a resource's dead properties.
pub const ATTR: &str = "user.schola.dav";
/// Most bytes the properties of one resource may take (the whole JSON).
pub const MAX_BYTES: usize = 3 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prop {
    pub name: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// The property's element as raw XML.
    #[serde(default)]
    pub xml: Option<String>,
}

impl Prop {
    fn key(&self) -> String {
        key(self.namespace.as_deref(), &self.name)
    }
}

fn key(namespace: Option<&str>, name: &str) -> String {
    format!("{{{}}}{name}", namespace.unwrap_or(""))
}

/// What a PROPPATCH did.
#[derive(Debug, PartialEq, Eq)]
pub enum Patched {
    Done,
    /// The properties would not fit: nothing was changed.
    TooLarge,
}

/// Set on a folder once an entry in it may have dead properties. A PROPFIND of a folder without
/// it reads no attribute per entry: big folders, where properties are rare, list as fast as a
/// plain directory read. The mark is never taken off (it only costs those reads again).
pub const DIR_ATTR: &str = "user.schola.davdir";

/// Whether entries of the folder `dir` may have dead properties (see [`DIR_ATTR`]).
pub fn children_may_have(dir: &Path) -> bool {
    matches!(xattr::get(dir, DIR_ATTR), Ok(Some(_)))
}

fn mark_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !children_may_have(dir) => xattr::set(dir, DIR_ATTR, b"1"),
        _ => Ok(()),
    }
}

/// After `path` came into its folder by a move or a restore: its properties, if it has any,
/// stay visible in the folder's listing.
pub fn arrived(path: &Path) {
    if any(path)
        && let Err(e) = mark_parent(path)
    {
        tracing::warn!(path = %path.display(), "cannot mark the folder as holding properties: {e}");
    }
}

/// Whether `path` has dead properties at all: one `lgetxattr`, no walk. A PROPFIND of a folder
/// asks this for every entry, and most files have none.
pub fn any(path: &Path) -> bool {
    matches!(xattr::get(path, ATTR), Ok(Some(_)))
}

/// The stored properties of `path` (none when the attribute is absent or unreadable).
pub fn read(path: &Path) -> BTreeMap<String, Prop> {
    match xattr::get(path, ATTR) {
        Ok(Some(bytes)) => serde_json::from_slice::<Vec<Prop>>(&bytes)
            .map(|v| v.into_iter().map(|p| (p.key(), p)).collect())
            .unwrap_or_default(),
        _ => BTreeMap::new(),
    }
}

/// Applies sets (`true`) and removes (`false`) in order, all or nothing (RFC 4918: a PROPPATCH
/// is atomic). Removing a property that is not there succeeds.
pub fn patch(path: &Path, changes: &[(bool, Prop)]) -> std::io::Result<Patched> {
    let mut props = read(path);
    for (set, p) in changes {
        if *set {
            props.insert(p.key(), p.clone());
        } else {
            props.remove(&p.key());
        }
    }
    if props.is_empty() {
        return match xattr::remove(path, ATTR) {
            Ok(()) => Ok(Patched::Done),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENODATA) => Ok(Patched::Done),
            Err(e) => Err(e),
        };
    }
    let json = serde_json::to_vec(&props.into_values().collect::<Vec<_>>())
        .map_err(std::io::Error::other)?;
    if json.len() > MAX_BYTES {
        return Ok(Patched::TooLarge);
    }
    // the folder first: a property it does not know of would be missing from its listing
    mark_parent(path)?;
    match xattr::set(path, ATTR, &json) {
        Ok(()) => Ok(Patched::Done),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(nix::libc::ENOSPC) | Some(nix::libc::E2BIG)
            ) =>
        {
            Ok(Patched::TooLarge)
        }
        Err(e) => Err(e),
    }
}

/// Copies the properties of `from` to `to` (COPY keeps dead properties).
pub fn copy(from: &Path, to: &Path) {
    if let Ok(Some(bytes)) = xattr::get(from, ATTR) {
        let _ = xattr::set(to, ATTR, &bytes);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn prop(ns: &str, name: &str, value: &str) -> Prop {
        Prop {
            name: name.into(),
            prefix: Some("x".into()),
            namespace: Some(ns.into()),
            xml: Some(format!("<x:{name} xmlns:x=\"{ns}\">{value}</x:{name}>")),
        }
    }

    #[test]
    fn set_remove_rename_and_too_large() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, b"x").unwrap();
        let a = prop("urn:a", "colour", "blau");
        let b = prop("urn:b", "colour", "grün");
        assert_eq!(
            patch(&f, &[(true, a.clone()), (true, b.clone())]).unwrap(),
            Patched::Done
        );
        assert_eq!(
            read(&f).len(),
            2,
            "same name, other namespace: two properties"
        );
        assert_eq!(patch(&f, &[(false, a.clone())]).unwrap(), Patched::Done);
        assert_eq!(read(&f).into_values().collect::<Vec<_>>(), vec![b.clone()]);
        assert!(children_may_have(dir.path()), "the folder knows");
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(!children_may_have(&sub));
        let g = sub.join("b.txt");
        std::fs::rename(&f, &g).unwrap();
        arrived(&g);
        assert_eq!(read(&g).len(), 1, "a rename keeps them");
        assert!(children_may_have(&sub), "the new folder knows after a move");
        let big = prop("urn:c", "big", &"z".repeat(MAX_BYTES));
        assert_eq!(patch(&g, &[(true, big)]).unwrap(), Patched::TooLarge);
        assert_eq!(read(&g).len(), 1, "a refused patch changes nothing");
        assert_eq!(patch(&g, &[(false, b)]).unwrap(), Patched::Done);
        assert!(read(&g).is_empty());
        assert_eq!(
            patch(&g, &[(false, a)]).unwrap(),
            Patched::Done,
            "removing nothing is fine"
        );
    }
}
