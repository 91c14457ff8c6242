//! File operations below an area root, blocking. Callers run a few stats or an open of one
//! entry inline (cheaper than a thread hand-off) and everything else — folder reads, trees, data,
//! fsync — with `web::block`/`spawn_blocking`.
//!
//! Nothing here follows a symbolic link: [`walk`] checks every component from the area root
//! down with `symlink_metadata`, and a link planted on disk (pointing to `/etc` or into another
//! home) is reported as "not found"; listings skip links; copies never descend into them. A new
//! name that is a case or normalization twin of an existing sibling ([`crate::names::same_name`])
//! is refused as existing, so Windows and macOS clients never see two entries they cannot tell
//! apart. Writes that create data (copy) build the result in `.uploads/` first and rename it
//! into place, so a failure leaves nothing half-done.

use std::fs::Metadata;
use std::io;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;

use crate::layout::Layout;
use crate::names::INTERNAL_PREFIX;
use crate::policy::{Area, Target};
use crate::quota::{QuotaError, Quotas};
use crate::twins;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub dir: bool,
    pub size: u64,
    pub modified: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum FsErr {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Quota(#[from] QuotaError),
    #[error("the disk is full: {0} was not stored")]
    DiskFull(String),
    #[error("{path}: {err}")]
    Io { path: String, err: io::Error },
}

impl FsErr {
    pub fn io(t: &Target, err: io::Error) -> FsErr {
        match err.kind() {
            _ if crate::atomic::is_enospc(&err) => FsErr::DiskFull(t.display()),
            io::ErrorKind::NotFound => FsErr::NotFound(t.display()),
            io::ErrorKind::AlreadyExists => FsErr::Exists(t.display()),
            _ => FsErr::Io {
                path: t.display(),
                err,
            },
        }
    }
}

fn modified(m: &Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Checks the path from the area root down without following links. `Ok(None)`: the last
/// component does not exist (its parent does and is a directory).
pub fn walk(t: &Target) -> Result<Option<Metadata>, FsErr> {
    let mut p = t.area_root();
    let nf = || FsErr::NotFound(t.display());
    let check = |p: &Path, last: bool| -> Result<Option<Metadata>, FsErr> {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => Err(nf()),
            Ok(m) if !last && !m.is_dir() => Err(nf()),
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && last => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(nf()),
            Err(e) => Err(FsErr::io(t, e)),
        }
    };
    if matches!(t.area, Area::Root | Area::GroupsRoot) {
        return Ok(std::fs::symlink_metadata(&t.real).ok());
    }
    let n = t.rel.len();
    let mut m = check(&p, n == 0)?;
    for (i, r) in t.rel.iter().enumerate() {
        p.push(r);
        m = check(&p, i + 1 == n)?;
    }
    Ok(m)
}

/// Like [`walk`], but the target must exist.
pub fn existing(t: &Target) -> Result<Metadata, FsErr> {
    walk(t)?.ok_or_else(|| FsErr::NotFound(t.display()))
}

/// Creates the area's root directory (a home on first use, a group share) if missing.
pub fn ensure_area(t: &Target) -> Result<(), FsErr> {
    if matches!(t.area, Area::Root | Area::GroupsRoot) {
        return Ok(());
    }
    let root = t.area_root();
    match std::fs::symlink_metadata(&root) {
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => Err(FsErr::NotFound(t.display())),
        Ok(_) => Ok(()),
        Err(_) => std::fs::create_dir_all(&root).map_err(|e| FsErr::io(t, e)),
    }
}

/// Checks that `t` may be created: its parent exists (no links), no twin sibling; returns the
/// existing entry's metadata if the very name exists.
pub fn check_new(t: &Target) -> Result<Option<Metadata>, FsErr> {
    let m = walk(t)?;
    // replacing a file by its very name needs no twin search (a twin would be older than it)
    if m.is_none()
        && let (Some(parent), Some(name)) = (t.real.parent(), t.rel.last())
        && let Some(other) = twins::twin(parent, name)
    {
        return Err(FsErr::Exists(format!(
            "{} (as '{other}', which differs only in case or accents)",
            t.display()
        )));
    }
    Ok(m)
}

/// A directory's entries, without links, non-UTF-8 names and our own temporary files.
pub fn list(t: &Target) -> io::Result<Vec<Entry>> {
    Ok(read_folder(t)?
        .into_iter()
        .map(|(name, m)| Entry {
            name,
            dir: m.is_dir(),
            size: if m.is_dir() { 0 } else { m.len() },
            modified: modified(&m),
        })
        .collect())
}

/// The entries of the folder `t` with their metadata, folders first, then by name: no
/// symlinks, none of our own temporary files.
pub fn read_folder(t: &Target) -> io::Result<Vec<(String, Metadata)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(&t.real)? {
        let e = e?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if name.starts_with(INTERNAL_PREFIX) {
            continue;
        }
        // relative to the open folder (fstatat, no symlink followed): no path walk per entry
        let Ok(m) = e.metadata() else {
            continue;
        };
        if m.file_type().is_symlink() {
            continue;
        }
        v.push((name, m));
    }
    v.sort_by_cached_key(|(name, m)| (!m.is_dir(), name.to_lowercase()));
    Ok(v)
}

pub fn mkdir(t: &Target) -> Result<(), FsErr> {
    if check_new(t)?.is_some() {
        return Err(FsErr::Exists(t.display()));
    }
    std::fs::create_dir(&t.real).map_err(|e| FsErr::io(t, e))
}

/// Moves `from` to `to`; refuses an existing destination unless `overwrite`. Moving between
/// quota owners checks and moves the usage.
pub fn rename(from: &Target, to: &Target, overwrite: bool, quotas: &Quotas) -> Result<(), FsErr> {
    let m = existing(from)?;
    if to.real.starts_with(&from.real) && m.is_dir() {
        return Err(FsErr::Invalid(format!(
            "cannot move {} into itself ({})",
            from.display(),
            to.display()
        )));
    }
    let old = check_new(to)?;
    if let Some(old) = &old {
        if !overwrite {
            return Err(FsErr::Exists(to.display()));
        }
        if old.is_dir() != m.is_dir() {
            return Err(FsErr::Exists(to.display()));
        }
    }
    let size = if m.is_dir() {
        size_of(&from.real)
    } else {
        m.len()
    };
    let _res = match (&from.quota, &to.quota) {
        (Some(a), Some(b)) if a != b => Some(quotas.reserve(b, quotas.limit_of(b), size)?),
        _ => None,
    };
    let old_size = match &old {
        Some(o) if o.is_dir() => {
            let s = size_of(&to.real);
            std::fs::remove_dir(&to.real).map_err(|e| FsErr::io(to, e))?;
            s
        }
        Some(o) => o.len(),
        None => 0,
    };
    std::fs::rename(&from.real, &to.real).map_err(|e| FsErr::io(from, e))?;
    crate::atomic::sync_dir(&to.real);
    crate::props::arrived(&to.real);
    if let (Some(a), Some(b)) = (&from.quota, &to.quota) {
        quotas.charge(a, -(size as i64));
        quotas.charge(b, size as i64 - old_size as i64);
    }
    Ok(())
}

/// Copies a file or a tree (links skipped) within the destination's quota. The copy is built in
/// `.uploads/` and renamed into place: a failure leaves nothing behind.
pub fn copy(layout: &Layout, from: &Target, to: &Target, quotas: &Quotas) -> Result<(), FsErr> {
    let m = existing(from)?;
    if to.real.starts_with(&from.real) && m.is_dir() {
        return Err(FsErr::Invalid(format!(
            "cannot copy {} into itself ({})",
            from.display(),
            to.display()
        )));
    }
    if check_new(to)?.is_some() {
        return Err(FsErr::Exists(to.display()));
    }
    let size = if m.is_dir() {
        size_of(&from.real)
    } else {
        m.len()
    };
    let owner = to.quota.clone();
    let _res = match &owner {
        Some(o) => Some(quotas.reserve(o, quotas.limit_of(o), size)?),
        None => None,
    };
    copy_into_place(layout, &from.real, &to.real).map_err(|e| FsErr::io(to, e))?;
    if let Some(o) = &owner {
        quotas.charge(o, size as i64);
    }
    Ok(())
}

/// Copies `src` (file or tree, links skipped, modification times kept) to a temporary place
/// in `.uploads/`, fsyncs, then renames it to `dst` (which must not exist).
pub fn copy_into_place(layout: &Layout, src: &Path, dst: &Path) -> io::Result<()> {
    std::fs::create_dir_all(layout.uploads())?;
    let tmp = layout.uploads().join(crate::atomic::temp_name());
    let r = copy_tree(src, &tmp).and_then(|()| {
        if dst.exists() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists"));
        }
        std::fs::rename(&tmp, dst)
    });
    if r.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::remove_file(&tmp);
    } else {
        crate::atomic::sync_dir(dst);
    }
    r
}

fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    let m = std::fs::symlink_metadata(src)?;
    if m.file_type().is_symlink() {
        return Ok(());
    }
    if m.is_dir() {
        std::fs::create_dir(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            if e.file_name().to_string_lossy().starts_with(INTERNAL_PREFIX) {
                continue;
            }
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
    } else {
        let mut r = std::fs::File::open(src)?;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dst)?;
        io::copy(&mut r, &mut w)?;
        w.sync_all()?;
        if let Ok(t) = m.modified() {
            let _ = w.set_modified(t);
        }
    }
    Ok(())
}

/// Recursive size in bytes (links not followed, unreadable parts count 0).
pub fn size_of(path: &Path) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if m.file_type().is_symlink() {
        0
    } else if m.is_dir() {
        std::fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| size_of(&e.path())).sum())
            .unwrap_or(0)
    } else {
        m.len()
    }
}

/// The newest modification time in a tree (unix seconds).
pub fn newest_mtime(path: &Path) -> i64 {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let mut t = modified(&m);
    if m.is_dir() && !m.file_type().is_symlink() {
        for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
            t = t.max(newest_mtime(&e.path()));
        }
    }
    t
}

/// `name (2).ext`, `name (3).ext`, … : the first name not taken (nor twinned) in `dir`.
pub fn free_name(dir: &Path, name: &str) -> String {
    let taken = |n: &str| dir.join(n).symlink_metadata().is_ok() || twins::twin(dir, n).is_some();
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2..)
        .map(|n| format!("{stem} ({n}){ext}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::names::VPath;
    use crate::policy::{Actor, Op, resolve};
    use schola_core::directory::Role;

    #[test]
    fn symlinks_are_never_followed_and_twins_refused() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::new(dir.path());
        l.create().unwrap();
        let a = Actor {
            id: 1,
            login: "a".into(),
            role: Role::Student,
            groups: vec![],
        };
        let home = l.home("a");
        std::fs::create_dir_all(&home).unwrap();
        std::os::unix::fs::symlink("/etc", home.join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", home.join("pw")).unwrap();
        std::fs::write(home.join("Äpfel.txt"), b"x").unwrap();
        let t = |p: &str, op| resolve(&l, &a, &VPath::parse(p).unwrap(), op).unwrap();
        assert!(matches!(
            walk(&t("/home/etc/passwd", Op::Read)),
            Err(FsErr::NotFound(_))
        ));
        assert!(matches!(
            walk(&t("/home/pw", Op::Read)),
            Err(FsErr::NotFound(_))
        ));
        let names: Vec<_> = list(&t("/home", Op::List))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["Äpfel.txt"]);
        assert!(matches!(
            mkdir(&t("/home/äPFEL.TXT", Op::Write)),
            Err(FsErr::Exists(_))
        ));
        assert_eq!(free_name(&home, "Äpfel.txt"), "Äpfel (2).txt");
    }
}
