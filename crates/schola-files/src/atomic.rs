//! Uploads that never lose data. An [`AtomicWriter`] writes to a new temporary file in
//! `<root>/.uploads/` (same filesystem as the shares, created with `O_EXCL`, mode 0640), stops at
//! its byte budget (the free quota), and only [`AtomicWriter::commit`] makes the data visible:
//! fsync the file, rename it over the target, fsync the directory. Dropping a writer without
//! committing (a cut connection, a quota or disk-full error) removes the temporary file: the
//! previous version of the target stays as it was and nothing partial is ever visible.

use std::fs::File;
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use crate::layout::Layout;
use crate::names::INTERNAL_PREFIX;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the upload is larger than the {} still free in the quota", crate::quota::human(*.budget))]
    Quota { budget: u64 },
    #[error("the disk is full: the upload was not stored (the previous version is kept)")]
    DiskFull,
    #[error("cannot write the upload: {0}")]
    Io(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if is_enospc(&e) {
            WriteError::DiskFull
        } else {
            WriteError::Io(e)
        }
    }
}

pub fn is_enospc(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(c) if c == nix::errno::Errno::ENOSPC as i32 || c == nix::errno::Errno::EDQUOT as i32)
}

/// A random name for a temporary file or directory in `.uploads/`.
pub fn temp_name() -> String {
    format!(
        "{INTERNAL_PREFIX}-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// How much a streaming writer gathers before one write to disk (bounds memory per upload).
pub const BATCH: usize = 1 << 20;

/// Every this many bytes written, an upload asks the kernel to start writing them to disk.
pub const WRITEBACK: u64 = 8 << 20;

#[derive(Debug)]
pub struct AtomicWriter {
    file: Option<File>,
    temp: PathBuf,
    target: PathBuf,
    budget: u64,
    written: u64,
    /// Bytes handed to the kernel's writeback so far (see [`WRITEBACK`]).
    flushed: u64,
}

impl AtomicWriter {
    pub fn create(layout: &Layout, target: PathBuf, budget: u64) -> io::Result<Self> {
        let dir = layout.uploads();
        std::fs::create_dir_all(&dir)?;
        let temp = dir.join(temp_name());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&temp)?;
        Ok(AtomicWriter {
            file: Some(file),
            temp,
            target,
            budget,
            written: 0,
            flushed: 0,
        })
    }

    pub fn write(&mut self, buf: &[u8]) -> Result<(), WriteError> {
        if self.written + buf.len() as u64 > self.budget {
            return Err(WriteError::Quota {
                budget: self.budget,
            });
        }
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| WriteError::Io(io::Error::other("the upload is already finished")))?;
        f.write_all(buf)?;
        self.written += buf.len() as u64;
        if self.written - self.flushed >= WRITEBACK {
            // Start writing what is written to disk now, without waiting for it: the kernel
            // would otherwise keep a whole video dirty in memory until the commit's fsync and
            // only then write it, while the client waits. (POSIX_FADV_DONTNEED starts that
            // writeback for the range, and frees the pages already clean.)
            let _ = nix::fcntl::posix_fadvise(
                &*f,
                self.flushed as i64,
                (self.written - self.flushed) as i64,
                nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
            );
            self.flushed = self.written;
        }
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// The bytes this writer may write in all.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// fsync, rename over the target, fsync the target's directory. Returns the size.
    pub fn commit(mut self) -> io::Result<u64> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("the upload is already finished"))?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temp, &self.target)?;
        sync_dir(&self.target);
        self.temp = PathBuf::new();
        Ok(self.written)
    }
}

/// fsyncs the directory holding `path` (best effort: the rename has happened already).
pub fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            self.file.take();
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn commit_replaces_and_drop_keeps_the_old_version() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::new(dir.path());
        let target = dir.path().join("f.txt");
        std::fs::write(&target, b"old").unwrap();
        let mut w = AtomicWriter::create(&l, target.clone(), 10).unwrap();
        w.write(b"new data").unwrap();
        drop(w);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(l.uploads()).unwrap().count(), 0);
        let mut w = AtomicWriter::create(&l, target.clone(), 10).unwrap();
        w.write(b"new data").unwrap();
        assert!(matches!(
            w.write(b"xxx"),
            Err(WriteError::Quota { budget: 10 })
        ));
        assert_eq!(w.commit().unwrap(), 8);
        assert_eq!(std::fs::read(&target).unwrap(), b"new data");
        assert_eq!(std::fs::read_dir(l.uploads()).unwrap().count(), 0);
    }
}
