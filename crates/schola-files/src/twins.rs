//! The twin check ([`crate::names::same_name`]) of a new name in a big folder without reading
//! the folder each time. Every new file, folder or move target needs it, and reading a folder of
//! thousands of entries per upload made uploading into it quadratic.
//!
//! A folder of at least [`MIN_ENTRIES`] entries is read once into an index of its names by
//! folded form, and watched with inotify from before that read on. Every change to it, by
//! schola-files, Samba or anyone else, is queued by the kernel as it happens, and the queue is
//! applied before each look-up, so the index is exact: never a guess from timestamps. When the
//! kernel drops events (queue overflow), a folder is moved, or a watch cannot be had, the index
//! is thrown away and the folder read again. At most [`MAX_FOLDERS`] folders are indexed; the
//! least recently used one is dropped for a new one.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::names::NameKey;

/// Smaller folders are simply read (a few hundred entries cost microseconds).
pub const MIN_ENTRIES: usize = 256;
/// Bigger folders are read each time rather than held in memory.
const MAX_ENTRIES: usize = 100_000;
/// Most folders indexed at once.
pub const MAX_FOLDERS: usize = 32;

/// The sibling of `name` in `dir` that is a case or normalization twin (not `name` itself).
pub fn twin(dir: &Path, name: &str) -> Option<String> {
    let key = NameKey::of(name);
    let Some(state) = state() else {
        return scan(dir, name, &key);
    };
    let Ok(mut s) = state.lock() else {
        return scan(dir, name, &key);
    };
    s.twin(dir, name, &key)
        .unwrap_or_else(|| scan(dir, name, &key))
}

/// Reads `dir` for a twin of `name`.
fn scan(dir: &Path, name: &str, key: &NameKey) -> Option<String> {
    let rd = std::fs::read_dir(dir).ok()?;
    for e in rd.flatten() {
        let n = e.file_name();
        let Some(n) = n.to_str() else { continue };
        if n != name && key.matches(n) {
            return Some(n.to_string());
        }
    }
    None
}

fn state() -> Option<&'static Mutex<Index>> {
    static STATE: OnceLock<Option<Mutex<Index>>> = OnceLock::new();
    STATE
        .get_or_init(
            || match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
                Ok(inotify) => Some(Mutex::new(Index {
                    inotify,
                    folders: HashMap::new(),
                    by_watch: HashMap::new(),
                    clock: 0,
                })),
                Err(e) => {
                    tracing::warn!("no inotify ({e}): twin checks read the folder every time");
                    None
                }
            },
        )
        .as_ref()
}

struct Index {
    inotify: Inotify,
    folders: HashMap<PathBuf, Folder>,
    by_watch: HashMap<WatchDescriptor, PathBuf>,
    clock: u64,
}

struct Folder {
    watch: WatchDescriptor,
    /// The folder's (device, inode): a folder moved away and another made in its place is not
    /// the indexed one.
    id: (u64, u64),
    /// Names by folded form (several when twins came in another way).
    names: HashMap<String, Vec<String>>,
    used: u64,
}

impl Folder {
    fn add(&mut self, name: String) {
        let v = self.names.entry(fold(&name)).or_default();
        if !v.contains(&name) {
            v.push(name);
        }
    }

    fn remove(&mut self, name: &str) {
        let k = fold(name);
        if let Some(v) = self.names.get_mut(&k) {
            v.retain(|n| n != name);
            if v.is_empty() {
                self.names.remove(&k);
            }
        }
    }
}

fn fold(name: &str) -> String {
    NameKey::of(name).into_inner()
}

const WATCH: AddWatchFlags = AddWatchFlags::IN_CREATE
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_DELETE_SELF)
    .union(AddWatchFlags::IN_MOVE_SELF)
    .union(AddWatchFlags::IN_ONLYDIR)
    .union(AddWatchFlags::IN_DONT_FOLLOW);

impl Index {
    /// `None`: not indexed (small, huge, or no watch); the caller reads the folder.
    fn twin(&mut self, dir: &Path, name: &str, key: &NameKey) -> Option<Option<String>> {
        self.apply_events();
        let id = std::fs::symlink_metadata(dir)
            .ok()
            .map(|m| (m.dev(), m.ino()))?;
        self.clock += 1;
        let clock = self.clock;
        if self.folders.get(dir).is_some_and(|f| f.id != id) {
            self.drop_folder(dir);
        }
        if !self.folders.contains_key(dir) {
            self.index(dir, id)?;
        }
        let f = self.folders.get_mut(dir)?;
        f.used = clock;
        let found = f
            .names
            .get(key.as_str())
            .and_then(|v| v.iter().find(|n| *n != name).cloned());
        Some(found)
    }

    /// Watches, then reads `dir` (so nothing done in between is missed); keeps it when big.
    fn index(&mut self, dir: &Path, id: (u64, u64)) -> Option<()> {
        // cheap test first: small folders are not worth a watch
        let count = std::fs::read_dir(dir).ok()?.take(MIN_ENTRIES).count();
        if count < MIN_ENTRIES {
            return None;
        }
        if self.folders.len() >= MAX_FOLDERS
            && let Some(oldest) = self
                .folders
                .iter()
                .min_by_key(|(_, f)| f.used)
                .map(|(p, _)| p.clone())
        {
            self.drop_folder(&oldest);
        }
        let watch = self.inotify.add_watch(dir, WATCH).ok()?;
        let mut f = Folder {
            watch,
            id,
            names: HashMap::new(),
            used: self.clock,
        };
        let mut n = 0usize;
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            if let Ok(name) = e.file_name().into_string() {
                f.add(name);
            }
            n += 1;
            if n > MAX_ENTRIES {
                let _ = self.inotify.rm_watch(watch);
                return None;
            }
        }
        self.by_watch.insert(watch, dir.to_path_buf());
        self.folders.insert(dir.to_path_buf(), f);
        // events queued while reading only repeat what the read saw, or come after it
        self.apply_events();
        Some(())
    }

    fn drop_folder(&mut self, dir: &Path) {
        if let Some(f) = self.folders.remove(dir) {
            self.by_watch.remove(&f.watch);
            let _ = self.inotify.rm_watch(f.watch);
        }
    }

    fn drop_all(&mut self) {
        let dirs: Vec<PathBuf> = self.folders.keys().cloned().collect();
        for d in dirs {
            self.drop_folder(&d);
        }
    }

    fn apply_events(&mut self) {
        loop {
            let events = match self.inotify.read_events() {
                Ok(ev) if !ev.is_empty() => ev,
                // EAGAIN: nothing queued
                _ => return,
            };
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                    // events were lost: no index can be trusted
                    self.drop_all();
                    continue;
                }
                let Some(dir) = self.by_watch.get(&ev.wd).cloned() else {
                    continue;
                };
                if ev.mask.intersects(
                    AddWatchFlags::IN_DELETE_SELF
                        | AddWatchFlags::IN_MOVE_SELF
                        | AddWatchFlags::IN_IGNORED
                        | AddWatchFlags::IN_UNMOUNT,
                ) {
                    self.drop_folder(&dir);
                    continue;
                }
                let (Some(f), Some(name)) = (
                    self.folders.get_mut(&dir),
                    ev.name.and_then(|n| n.into_string().ok()),
                ) else {
                    continue;
                };
                if ev
                    .mask
                    .intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
                {
                    f.add(name);
                } else if ev
                    .mask
                    .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM)
                {
                    f.remove(&name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn big_folder() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for i in 0..MIN_ENTRIES + 10 {
            std::fs::write(d.path().join(format!("file-{i:04}.txt")), b"x").unwrap();
        }
        d
    }

    #[test]
    fn an_indexed_folder_follows_every_change() {
        let d = big_folder();
        let p = d.path();
        assert_eq!(twin(p, "FILE-0007.TXT").as_deref(), Some("file-0007.txt"));
        assert_eq!(twin(p, "file-0007.txt"), None, "a name is not its own twin");
        // changes made behind schola-files' back (as Samba would) show at once
        std::fs::write(p.join("Neu.txt"), b"x").unwrap();
        assert_eq!(twin(p, "neu.TXT").as_deref(), Some("Neu.txt"));
        std::fs::rename(p.join("Neu.txt"), p.join("Anders.txt")).unwrap();
        assert_eq!(twin(p, "neu.txt"), None);
        assert_eq!(twin(p, "ANDERS.txt").as_deref(), Some("Anders.txt"));
        std::fs::remove_file(p.join("Anders.txt")).unwrap();
        assert_eq!(twin(p, "anders.txt"), None);
        std::fs::create_dir(p.join("\u{00C4}pfel")).unwrap();
        assert_eq!(
            twin(p, "A\u{0308}PFEL").as_deref(),
            Some("\u{00C4}pfel"),
            "NFD and case"
        );
    }

    #[test]
    fn a_folder_replaced_at_the_same_path_is_read_again() {
        let base = tempfile::tempdir().unwrap();
        let d = big_folder();
        let p = base.path().join("share");
        std::fs::rename(d.path(), &p).unwrap();
        assert!(twin(&p, "FILE-0001.txt").is_some());
        // the parent is renamed: the watch on the folder sees nothing
        let moved = tempfile::tempdir().unwrap();
        std::fs::rename(base.path(), moved.path().join("old")).unwrap();
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("Other.txt"), b"x").unwrap();
        assert_eq!(twin(&p, "FILE-0001.txt"), None);
        assert_eq!(twin(&p, "other.txt").as_deref(), Some("Other.txt"));
    }

    #[test]
    fn small_folders_are_read_each_time() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("A.txt"), b"x").unwrap();
        assert_eq!(twin(d.path(), "a.txt").as_deref(), Some("A.txt"));
        std::fs::remove_file(d.path().join("A.txt")).unwrap();
        assert_eq!(twin(d.path(), "a.txt"), None);
    }
}
