//! The per-person trash: deleting moves an item (file or tree) to `trash/<login>/<id>/item` with
//! `meta.json` ({"path", "deleted_at", "size"}); restoring puts it back at its old path (as
//! "name (2).ext" when that name is taken meanwhile, recreating missing parent folders), subject
//! to the same policy as any write; items older than `trash_days` are purged.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fsops::{self, FsErr};
use crate::layout::Layout;
use crate::names::VPath;
use crate::policy::{self, Actor, Op, Target};
use crate::quota::Quotas;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta {
    pub path: String,
    pub deleted_at: i64,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub path: String,
    pub deleted_at: i64,
    pub size: u64,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() < 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Moves `t` into `login`'s trash and releases its quota. Returns the item's id.
pub fn delete(
    layout: &Layout,
    quotas: &Quotas,
    login: &str,
    t: &Target,
    now: i64,
) -> Result<String, FsErr> {
    let m = fsops::existing(t)?;
    let size = if m.is_dir() {
        fsops::size_of(&t.real)
    } else {
        m.len()
    };
    let id = format!("{now}-{:08x}", rand::random::<u32>());
    let dir = layout.trash(login).join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| FsErr::io(t, e))?;
    let meta = Meta {
        path: t.display(),
        deleted_at: now,
        size,
    };
    let json = serde_json::to_vec(&meta).map_err(|e| FsErr::Invalid(e.to_string()))?;
    std::fs::write(dir.join("meta.json"), json).map_err(|e| FsErr::io(t, e))?;
    if let Err(e) = std::fs::rename(&t.real, dir.join("item")) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(FsErr::io(t, e));
    }
    crate::atomic::sync_dir(&t.real);
    if let Some(o) = &t.quota {
        quotas.charge(o, -(size as i64));
    }
    Ok(id)
}

/// The items in `login`'s trash, newest first.
pub fn list(layout: &Layout, login: &str) -> Vec<Item> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(layout.trash(login))
        .into_iter()
        .flatten()
        .flatten()
    {
        let id = e.file_name().to_string_lossy().to_string();
        if let Ok(b) = std::fs::read(e.path().join("meta.json"))
            && let Ok(m) = serde_json::from_slice::<Meta>(&b)
        {
            v.push(Item {
                id,
                path: m.path,
                deleted_at: m.deleted_at,
                size: m.size,
            });
        }
    }
    v.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at).then(a.id.cmp(&b.id)));
    v
}

/// Puts an item back where it was (under a free name if taken); returns the restored path.
pub fn restore(layout: &Layout, quotas: &Quotas, actor: &Actor, id: &str) -> Result<VPath, FsErr> {
    let nf = || FsErr::NotFound(format!("trash item {id}"));
    if !valid_id(id) {
        return Err(nf());
    }
    let dir = layout.trash(&actor.login).join(id);
    let meta: Meta = std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(nf)?;
    let orig = VPath::parse(&meta.path).map_err(|e| FsErr::Invalid(e.to_string()))?;
    let parent = orig.parent().ok_or_else(nf)?;
    let name = orig.name().ok_or_else(nf)?.to_string();
    // Recreate missing parent folders, each one allowed by the policy.
    let mut p = VPath(parent.0[..parent.0.len().min(1)].to_vec());
    for seg in parent.0.iter().skip(1) {
        p = VPath({
            let mut v = p.0.clone();
            v.push(seg.clone());
            v
        });
        let t = policy::resolve(layout, actor, &p, Op::Write)
            .or_else(|_| policy::resolve(layout, actor, &p, Op::Read))
            .map_err(|e| FsErr::Invalid(e.to_string()))?;
        fsops::ensure_area(&t)?;
        if t.rel.is_empty() {
            continue;
        }
        if fsops::walk(&t)?.is_none() {
            fsops::mkdir(&t)?;
        }
    }
    let pt = policy::resolve(layout, actor, &parent, Op::Read)
        .map_err(|e| FsErr::Invalid(e.to_string()))?;
    fsops::ensure_area(&pt)?;
    let free = fsops::free_name(&pt.real, &name);
    let dest = parent
        .join(&free)
        .map_err(|e| FsErr::Invalid(e.to_string()))?;
    let t = policy::resolve(layout, actor, &dest, Op::Write)
        .map_err(|e| FsErr::Invalid(e.to_string()))?;
    fsops::check_new(&t)?;
    let _res = match &t.quota {
        Some(o) => Some(quotas.reserve(o, quotas.limit_of(o), meta.size)?),
        None => None,
    };
    std::fs::rename(dir.join("item"), &t.real).map_err(|e| FsErr::io(&t, e))?;
    crate::atomic::sync_dir(&t.real);
    crate::props::arrived(&t.real);
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(o) = &t.quota {
        quotas.charge(o, meta.size as i64);
    }
    Ok(dest)
}

/// Removes every item deleted more than `days` days before `now`. Returns how many.
pub fn purge_older(layout: &Layout, days: u32, now: i64) -> usize {
    let cutoff = now - i64::from(days) * 86_400;
    let mut n = 0;
    for person in std::fs::read_dir(layout.trash_root())
        .into_iter()
        .flatten()
        .flatten()
    {
        for item in std::fs::read_dir(person.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p: PathBuf = item.path();
            let meta: Option<Meta> = std::fs::read(p.join("meta.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let old = match meta {
                Some(m) => m.deleted_at < cutoff,
                // A half-made item (crash between mkdir and rename): purge it when old.
                None => fsops::newest_mtime(&p) < cutoff,
            };
            if old && std::fs::remove_dir_all(&p).is_ok() {
                n += 1;
            }
        }
    }
    n
}
