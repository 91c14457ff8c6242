//! WebDAV over the virtual namespace: a [`GuardedFileSystem`] for dav-server whose credentials
//! are the request's [`Actor`]. Every call goes through [`policy::resolve`]; nothing follows a
//! symbolic link ([`fsops::walk`]). Writes go through an [`AtomicWriter`]: the DAV file writes
//! the temporary file and commits in `flush()` (dav-server calls it once the whole body is in);
//! dropped without a flush (the client went away), the old version stays. Writing past the free
//! quota fails with `InsufficientStorage` (507). DELETE of a file moves it to the actor's trash.
//!
//! Locks: one in-memory lock table for all requests, but `/home/...` names a different folder
//! for each person, so [`ScopedLs`] keys locks by the real place (`/home/<login>/...`): Anna's
//! lock on her `/home/x` never blocks Ben's `/home/x`; a lock in a group share does block the
//! other members.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream,
    GuardedFileSystem, OpenOptions, ReadDirMeta,
};
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use dav_server::memls::MemLs;
use futures_util::FutureExt as _;

use crate::atomic::{AtomicWriter, WriteError};
use crate::fsops::{self, FsErr};
use crate::layout::Layout;
use crate::names::VPath;
use crate::policy::{self, Actor, Area, Denied, Op, QuotaOwner, Target};
use crate::props;
use crate::quota::{Quotas, Reservation};

#[derive(Clone)]
pub struct DavFs {
    pub layout: Layout,
    pub quotas: Quotas,
    /// The folder this request listed last, and whether its entries may have dead properties
    /// ([`props::DIR_ATTR`]). A PROPFIND asks for the properties of every entry; when the folder
    /// has none, the answer needs no policy check, no path walk and no attribute read.
    /// Fresh for every request ([`DavFs::for_request`]).
    listed: Arc<std::sync::Mutex<Option<Listed>>>,
}

struct Listed {
    /// The folder's DAV path, ending in '/'.
    dir: Vec<u8>,
    props: bool,
}

impl DavFs {
    pub fn new(layout: Layout, quotas: Quotas) -> DavFs {
        DavFs {
            layout,
            quotas,
            listed: Default::default(),
        }
    }

    /// A copy for one request, with its own memory of what it listed.
    pub fn for_request(&self) -> DavFs {
        DavFs::new(self.layout.clone(), self.quotas.clone())
    }

    fn remember_listing(&self, dir: &DavPath, props: bool) {
        let mut d = dir.as_bytes().to_vec();
        if !d.ends_with(b"/") {
            d.push(b'/');
        }
        if let Ok(mut l) = self.listed.lock() {
            *l = Some(Listed { dir: d, props });
        }
    }

    /// True when `path` is an entry of the folder this request just listed, and that folder
    /// holds no dead properties.
    fn listed_without_props(&self, path: &DavPath) -> bool {
        let b = path.as_bytes();
        let b = b.strip_suffix(b"/").unwrap_or(b);
        let Some(cut) = b.iter().rposition(|&c| c == b'/') else {
            return false;
        };
        let parent = &b[..=cut];
        self.listed
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|l| !l.props && l.dir == parent))
            .unwrap_or(false)
    }
}

fn denied(d: Denied) -> FsError {
    match d {
        Denied::NotFound(_) => FsError::NotFound,
        Denied::BadName(_) | Denied::Forbidden { .. } => FsError::Forbidden,
    }
}

fn write_err(e: WriteError) -> FsError {
    match e {
        WriteError::Quota { .. } | WriteError::DiskFull => FsError::InsufficientStorage,
        WriteError::Io(e) => FsError::from(e),
    }
}

fn fserr(e: FsErr) -> FsError {
    match e {
        FsErr::NotFound(_) => FsError::NotFound,
        FsErr::Exists(_) => FsError::Exists,
        FsErr::Invalid(_) => FsError::Forbidden,
        FsErr::Quota(_) | FsErr::DiskFull(_) => FsError::InsufficientStorage,
        FsErr::Io { err, .. } => FsError::from(err),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> FsResult<T> + Send + 'static,
) -> FsResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or(Err(FsError::GeneralFailure))
}

impl DavFs {
    fn target(&self, path: &DavPath, actor: &Actor, op: Op) -> FsResult<Target> {
        let s = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::NotFound)?;
        let vp = VPath::parse(s).map_err(|_| FsError::Forbidden)?;
        let t = policy::resolve(&self.layout, actor, &vp, op).map_err(denied)?;
        fsops::ensure_area(&t).map_err(fserr)?;
        Ok(t)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Meta {
    len: u64,
    modified: SystemTime,
    dir: bool,
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.modified)
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
}

impl From<&std::fs::Metadata> for Meta {
    fn from(m: &std::fs::Metadata) -> Meta {
        Meta {
            len: if m.is_dir() { 0 } else { m.len() },
            modified: m.modified().unwrap_or(UNIX_EPOCH),
            dir: m.is_dir(),
        }
    }
}

fn virtual_dir() -> Meta {
    Meta {
        len: 0,
        modified: UNIX_EPOCH,
        dir: true,
    }
}

struct Entry {
    name: String,
    meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.clone().into_bytes()
    }
    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        async move { Ok(m) }.boxed()
    }
}

/// A file opened for reading.
#[derive(Debug)]
struct ReadFile {
    file: std::fs::File,
}

impl DavFile for ReadFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m = self
            .file
            .metadata()
            .map(|m| Box::new(Meta::from(&m)) as Box<dyn DavMetaData>);
        async move { m.map_err(FsError::from) }.boxed()
    }
    fn write_buf(&mut self, _buf: Box<dyn bytes::Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        let mut buf = vec![0u8; count.min(1 << 20)];
        let r = self.file.read(&mut buf).map(|n| {
            buf.truncate(n);
            Bytes::from(buf)
        });
        async move { r.map_err(FsError::from) }.boxed()
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let r = self.file.seek(pos);
        async move { r.map_err(FsError::from) }.boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}

/// A file opened for writing: the data goes to a temporary file, committed by `flush()`.
#[derive(Debug)]
struct WriteFile {
    writer: Option<AtomicWriter>,
    expected: Option<u64>,
    old_size: u64,
    owner: Option<QuotaOwner>,
    quotas: Quotas,
    _reservation: Option<Reservation>,
    committed: Option<Meta>,
    pending: bytes::BytesMut,
}

impl WriteFile {
    /// Gathers `b`; writes to disk once [`crate::atomic::BATCH`] bytes are pending.
    fn write(&mut self, b: Bytes) -> FsFuture<'_, ()> {
        async move {
            let w = self.writer.as_ref().ok_or(FsError::GeneralFailure)?;
            if w.written() + (self.pending.len() + b.len()) as u64 > w.budget() {
                return Err(FsError::InsufficientStorage);
            }
            self.pending.extend_from_slice(&b);
            if self.pending.len() >= crate::atomic::BATCH {
                let all = self.pending.split().freeze();
                self.write_out(all).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn write_out(&mut self, b: Bytes) -> FsFuture<'_, ()> {
        async move {
            let mut w = self.writer.take().ok_or(FsError::GeneralFailure)?;
            let (w, r) = tokio::task::spawn_blocking(move || {
                let r = w.write(&b);
                (w, r)
            })
            .await
            .map_err(|_| FsError::GeneralFailure)?;
            r.map_err(write_err)?;
            self.writer = Some(w);
            Ok(())
        }
        .boxed()
    }
}

impl DavFile for WriteFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let m = self.committed.clone().unwrap_or(Meta {
            len: self.writer.as_ref().map(|w| w.written()).unwrap_or(0) + self.pending.len() as u64,
            modified: SystemTime::now(),
            dir: false,
        });
        async move { Ok(Box::new(m) as Box<dyn DavMetaData>) }.boxed()
    }
    fn write_buf(&mut self, mut buf: Box<dyn bytes::Buf + Send>) -> FsFuture<'_, ()> {
        let b = buf.copy_to_bytes(buf.remaining());
        self.write(b)
    }
    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        self.write(buf)
    }
    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        // Only "seek to where we are" (no partial PUT into an existing file).
        let at = self.writer.as_ref().map(|w| w.written()).unwrap_or(0) + self.pending.len() as u64;
        let ok =
            matches!(pos, SeekFrom::Start(n) if n == at) || matches!(pos, SeekFrom::Current(0));
        async move {
            if ok {
                Ok(at)
            } else {
                Err(FsError::NotImplemented)
            }
        }
        .boxed()
    }
    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            let Some(mut w) = self.writer.take() else {
                return Ok(());
            };
            let last = self.pending.split().freeze();
            if let Some(n) = self.expected
                && w.written() + last.len() as u64 != n
            {
                // A short body: keep the old version (dropping `w` removes the temp file).
                return Err(FsError::GeneralFailure);
            }
            // the last piece and the commit in one trip to a blocking thread
            let size = blocking(move || {
                if !last.is_empty() {
                    w.write(&last).map_err(write_err)?;
                }
                w.commit().map_err(|e| {
                    if crate::atomic::is_enospc(&e) {
                        FsError::InsufficientStorage
                    } else {
                        FsError::from(e)
                    }
                })
            })
            .await?;
            if let Some(o) = &self.owner {
                self.quotas.charge(o, size as i64 - self.old_size as i64);
            }
            self.committed = Some(Meta {
                len: size,
                modified: SystemTime::now(),
                dir: false,
            });
            Ok(())
        }
        .boxed()
    }
}

impl GuardedFileSystem<Arc<Actor>> for DavFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            if !options.write && !options.append {
                // inline, like the reads of the file itself (ReadFile): a few stats and an
                // open of cached inodes cost less than handing the work to another thread
                let t = self.target(path, actor, Op::Read)?;
                let m = fsops::existing(&t).map_err(fserr)?;
                if m.is_dir() {
                    return Err(FsError::Forbidden);
                }
                let file = std::fs::File::open(&t.real)?;
                return Ok(Box::new(ReadFile { file }) as Box<dyn DavFile>);
            }
            if options.append {
                return Err(FsError::NotImplemented);
            }
            let t = self.target(path, actor, Op::Write)?;
            let layout = self.layout.clone();
            let quotas = self.quotas.clone();
            // Inline, like opening for reading: a few stats, a look-up of the name's twins and
            // the creation of the temporary file. Only a usage not yet counted (a walk of the
            // home) goes to another thread; the data's fsync does anyway (flush).
            let counted = t.quota.as_ref().is_some_and(|o| quotas.is_counted(o));
            let make = move || {
                let old = fsops::check_new(&t).map_err(fserr)?;
                match &old {
                    Some(m) if m.is_dir() => return Err(FsError::Forbidden),
                    Some(_) if options.create_new => return Err(FsError::Exists),
                    None if !options.create && !options.create_new => {
                        return Err(FsError::NotFound);
                    }
                    _ => {}
                }
                let old_size = old.map(|m| m.len()).unwrap_or(0);
                let (budget, reservation) = match &t.quota {
                    Some(o) => {
                        let free = quotas.free(o) + old_size;
                        let res = match options.size {
                            Some(n) => Some(
                                quotas
                                    .reserve(o, quotas.limit_of(o), n.saturating_sub(old_size))
                                    .map_err(|_| FsError::InsufficientStorage)?,
                            ),
                            None => None,
                        };
                        (free, res)
                    }
                    None => return Err(FsError::Forbidden),
                };
                let writer = AtomicWriter::create(&layout, t.real.clone(), budget)?;
                Ok(Box::new(WriteFile {
                    writer: Some(writer),
                    expected: options.size,
                    old_size,
                    owner: t.quota.clone(),
                    quotas,
                    _reservation: reservation,
                    committed: None,
                    pending: bytes::BytesMut::new(),
                }) as Box<dyn DavFile>)
            };
            if counted {
                make()
            } else {
                blocking(make).await
            }
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let t = self.target(path, actor, Op::List)?;
            let entries: Vec<Box<dyn DavDirEntry>> =
                if matches!(t.area, Area::Root | Area::GroupsRoot) {
                    policy::virtual_entries(actor, &t.area)
                        .into_iter()
                        .map(|name| {
                            Box::new(Entry {
                                name,
                                meta: virtual_dir(),
                            }) as Box<dyn DavDirEntry>
                        })
                        .collect()
                } else {
                    let (props, entries) = blocking(move || {
                        let m = fsops::existing(&t).map_err(fserr)?;
                        if !m.is_dir() {
                            return Err(FsError::Forbidden);
                        }
                        let props = props::children_may_have(&t.real);
                        let list = fsops::read_folder(&t)?;
                        // the same metadata (and so ETag) as a request for the entry itself
                        Ok((
                            props,
                            list.into_iter()
                                .map(|(name, m)| {
                                    Box::new(Entry {
                                        meta: Meta::from(&m),
                                        name,
                                    }) as Box<dyn DavDirEntry>
                                })
                                .collect(),
                        ))
                    })
                    .await?;
                    self.remember_listing(path, props);
                    entries
                };
            let stream: FsStream<Box<dyn DavDirEntry>> =
                Box::pin(futures_util::stream::iter(entries.into_iter().map(Ok)));
            Ok(stream)
        }
        .boxed()
    }

    fn metadata<'a>(
        &'a self,
        path: &'a DavPath,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let t = self.target(path, actor, Op::Read)?;
            if matches!(t.area, Area::Root | Area::GroupsRoot) {
                return Ok(Box::new(virtual_dir()) as Box<dyn DavMetaData>);
            }
            // inline: see open()
            let m = fsops::existing(&t).map_err(fserr)?;
            Ok(Box::new(Meta::from(&m)) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath, actor: &'a Arc<Actor>) -> FsFuture<'a, ()> {
        async move {
            let t = self.target(path, actor, Op::Write)?;
            blocking(move || fsops::mkdir(&t).map_err(fserr)).await
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath, actor: &'a Arc<Actor>) -> FsFuture<'a, ()> {
        async move {
            let t = self.target(path, actor, Op::Delete)?;
            blocking(move || {
                let m = fsops::existing(&t).map_err(fserr)?;
                if !m.is_dir() {
                    return Err(FsError::Forbidden);
                }
                std::fs::remove_dir(&t.real)?;
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath, actor: &'a Arc<Actor>) -> FsFuture<'a, ()> {
        async move {
            let t = self.target(path, actor, Op::Delete)?;
            let layout = self.layout.clone();
            let quotas = self.quotas.clone();
            let login = actor.login.clone();
            blocking(move || {
                let m = fsops::existing(&t).map_err(fserr)?;
                if m.is_dir() {
                    return Err(FsError::Forbidden);
                }
                crate::trash::delete(&layout, &quotas, &login, &t, crate::now()).map_err(fserr)?;
                Ok(())
            })
            .await
        }
        .boxed()
    }

    fn rename<'a>(
        &'a self,
        from: &'a DavPath,
        to: &'a DavPath,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, ()> {
        async move {
            let f = self.target(from, actor, Op::Delete)?;
            let t = self.target(to, actor, Op::Write)?;
            let quotas = self.quotas.clone();
            blocking(move || fsops::rename(&f, &t, true, &quotas).map_err(fserr)).await
        }
        .boxed()
    }

    fn copy<'a>(
        &'a self,
        from: &'a DavPath,
        to: &'a DavPath,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, ()> {
        async move {
            let f = self.target(from, actor, Op::Read)?;
            let t = self.target(to, actor, Op::Write)?;
            let quotas = self.quotas.clone();
            let layout = self.layout.clone();
            blocking(move || {
                if let Some(m) = fsops::walk(&t).map_err(fserr)?
                    && !m.is_dir()
                {
                    // COPY with Overwrite: T onto a file: dav-server expects replacement.
                    let s = m.len();
                    std::fs::remove_file(&t.real)?;
                    if let Some(o) = &t.quota {
                        quotas.charge(o, -(s as i64));
                    }
                }
                fsops::copy(&layout, &f, &t, &quotas).map_err(fserr)
            })
            .await
        }
        .boxed()
    }

    fn have_props<'a>(
        &'a self,
        path: &'a DavPath,
        _actor: &'a Arc<Actor>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        // Asked for every entry of a PROPFIND: no policy or disk work here; get_props and
        // get_prop check the path.
        let virtual_dir = std::str::from_utf8(path.as_bytes())
            .ok()
            .and_then(|p| VPath::parse(p).ok())
            .is_none_or(|vp| vp.0.is_empty() || (vp.0.len() == 1 && vp.0[0] == "groups"));
        futures_util::future::ready(!virtual_dir).boxed()
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, Vec<(http::StatusCode, DavProp)>> {
        async move {
            let t = self.target(path, actor, Op::Write)?;
            if matches!(t.area, Area::Root | Area::GroupsRoot) {
                return Err(FsError::Forbidden);
            }
            blocking(move || {
                fsops::existing(&t).map_err(fserr)?;
                let changes: Vec<(bool, props::Prop)> = patch
                    .iter()
                    .map(|(set, p)| {
                        (
                            *set,
                            props::Prop {
                                name: p.name.clone(),
                                prefix: p.prefix.clone(),
                                namespace: p.namespace.clone(),
                                xml: p
                                    .xml
                                    .as_ref()
                                    .map(|x| String::from_utf8_lossy(x).into_owned()),
                            },
                        )
                    })
                    .collect();
                let status = match props::patch(&t.real, &changes)? {
                    props::Patched::Done => http::StatusCode::OK,
                    props::Patched::TooLarge => http::StatusCode::INSUFFICIENT_STORAGE,
                };
                Ok(patch
                    .into_iter()
                    .map(|(_, p)| (status, DavProp { xml: None, ..p }))
                    .collect())
            })
            .await
        }
        .boxed()
    }

    fn get_props<'a>(
        &'a self,
        path: &'a DavPath,
        do_content: bool,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, Vec<DavProp>> {
        async move {
            if self.listed_without_props(path) {
                // an entry of a big folder, the common case: nothing stored, nothing to check
                return Ok(Vec::new());
            }
            let t = self.target(path, actor, Op::Read)?;
            if matches!(t.area, Area::Root | Area::GroupsRoot) || !props::any(&t.real) {
                // nothing to read, so nothing to check
                return Ok(Vec::new());
            }
            blocking(move || {
                fsops::existing(&t).map_err(fserr)?;
                Ok(props::read(&t.real)
                    .into_values()
                    .map(|p| DavProp {
                        name: p.name,
                        prefix: p.prefix,
                        namespace: p.namespace,
                        xml: if do_content {
                            p.xml.map(String::into_bytes)
                        } else {
                            None
                        },
                    })
                    .collect())
            })
            .await
        }
        .boxed()
    }

    fn get_prop<'a>(
        &'a self,
        path: &'a DavPath,
        prop: DavProp,
        actor: &'a Arc<Actor>,
    ) -> FsFuture<'a, Vec<u8>> {
        async move {
            if self.listed_without_props(path) {
                return Err(FsError::NotFound);
            }
            let t = self.target(path, actor, Op::Read)?;
            if matches!(t.area, Area::Root | Area::GroupsRoot) || !props::any(&t.real) {
                return Err(FsError::NotFound);
            }
            blocking(move || {
                fsops::existing(&t).map_err(fserr)?;
                props::read(&t.real)
                    .into_values()
                    .find(|p| p.name == prop.name && p.namespace == prop.namespace)
                    .and_then(|p| p.xml)
                    .map(String::into_bytes)
                    .ok_or(FsError::NotFound)
            })
            .await
        }
        .boxed()
    }

    fn get_quota<'a>(&'a self, actor: &'a Arc<Actor>) -> FsFuture<'a, (u64, Option<u64>)> {
        async move {
            let o = QuotaOwner::Person {
                id: actor.id,
                login: actor.login.clone(),
            };
            let q = self.quotas.clone();
            let used = blocking(move || Ok((q.usage(&o), q.limit_of(&o)))).await?;
            Ok((used.0, Some(used.1)))
        }
        .boxed()
    }
}

/// The shared lock table seen through one person's namespace (see the module doc).
#[derive(Debug, Clone)]
pub struct ScopedLs {
    pub inner: MemLs,
    pub login: String,
    /// The URL prefix of the DAV paths (`/dav`).
    pub prefix: String,
}

pub(crate) fn encode_path(b: &[u8]) -> String {
    let mut o = String::new();
    for &c in b {
        if c.is_ascii_alphanumeric() || b"/-_.~".contains(&c) {
            o.push(c as char);
        } else {
            o.push_str(&format!("%{c:02X}"));
        }
    }
    o
}

impl ScopedLs {
    fn remap(&self, p: &DavPath, from: &[u8], to: &[u8]) -> DavPath {
        let b = p.as_bytes();
        let rest = match b.strip_prefix(from) {
            Some(r) if r.is_empty() || r.starts_with(b"/") => r,
            _ => return p.clone(),
        };
        let mut full = self.prefix.as_bytes().to_vec();
        full.extend_from_slice(to);
        full.extend_from_slice(rest);
        match DavPath::new(&encode_path(&full)) {
            Ok(mut d) => {
                if d.set_prefix(&self.prefix).is_ok() {
                    d
                } else {
                    p.clone()
                }
            }
            Err(_) => p.clone(),
        }
    }
    fn inward(&self, p: &DavPath) -> DavPath {
        self.remap(p, b"/home", format!("/home/{}", self.login).as_bytes())
    }
    fn outward(&self, mut l: DavLock) -> DavLock {
        let p = self.remap(
            &l.path,
            format!("/home/{}", self.login).as_bytes(),
            b"/home",
        );
        l.path = Box::new(p);
        l
    }
}

impl DavLockSystem for ScopedLs {
    fn lock(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&xmltree::Element>,
        timeout: Option<std::time::Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let p = self.inward(path);
        let owner = owner.cloned();
        let principal = principal.map(str::to_string);
        async move {
            let principal = principal.as_deref();
            match self
                .inner
                .lock(&p, principal, owner.as_ref(), timeout, shared, deep)
                .await
            {
                Ok(l) => Ok(self.outward(l)),
                Err(l) => Err(self.outward(l)),
            }
        }
        .boxed()
    }
    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let p = self.inward(path);
        let token = token.to_string();
        async move { self.inner.unlock(&p, &token).await }.boxed()
    }
    fn refresh(
        &self,
        path: &DavPath,
        token: &str,
        timeout: Option<std::time::Duration>,
    ) -> LsFuture<'_, Result<DavLock, ()>> {
        let p = self.inward(path);
        let token = token.to_string();
        async move {
            self.inner
                .refresh(&p, &token, timeout)
                .await
                .map(|l| self.outward(l))
        }
        .boxed()
    }
    fn check(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let p = self.inward(path);
        let principal = principal.map(str::to_string);
        let tokens = submitted_tokens.to_vec();
        async move {
            self.inner
                .check(&p, principal.as_deref(), ignore_principal, deep, &tokens)
                .await
                .map_err(|l| self.outward(l))
        }
        .boxed()
    }
    fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let p = self.inward(path);
        async move {
            self.inner
                .discover(&p)
                .await
                .into_iter()
                .map(|l| self.outward(l))
                .collect()
        }
        .boxed()
    }
    fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let p = self.inward(path);
        async move { self.inner.delete(&p).await }.boxed()
    }
}
