//! The whole-server restore ("disaster recovery"): a school's snapshot put back on new hardware
//! (or a reinstalled machine) — database, configuration, TLS material and secrets, files, mail
//! and Samba's passwords — each into the place the *target's* configuration names.
//!
//! Every backup carries a [`Manifest`] beside the database copy (`backup-staging/layout.json`):
//! where each piece lived on the machine it came from. A restore first reads it, then lets
//! restic restore each piece into a staging folder on the file system of its destination (so
//! putting it in place is a rename, not a second copy), checks and migrates the database copy
//! there, and only then moves the pieces into place, the database last: until the database is
//! in place the target does not look like a restored school, and a failure on the way is
//! reported with what was restored and what not. The staging folders are removed in every case.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schola_core::{Config, Store, SystemClock};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::{Layout, Restic};

/// The manifest's file name inside the backup's staging directory.
pub const MANIFEST: &str = "layout.json";

/// Where a backed-up school's pieces were, written at backup time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The Schola version that made the backup.
    pub schola_version: String,
    pub host: String,
    pub config_file: Option<PathBuf>,
    /// True when the whole configuration directory was saved (the appliance's `/etc/schola`),
    /// false when only the file and its `conf.d` were (the dev profile).
    pub config_dir_whole: bool,
    pub state_dir: PathBuf,
    pub data_dir: PathBuf,
    pub vmail_dir: PathBuf,
    /// Samba's password database, if it existed when the backup was made.
    pub samba_passdb: Option<PathBuf>,
}

impl Manifest {
    /// The manifest of `layout`, its paths absolute as restic records them.
    pub fn of(layout: &Layout) -> Manifest {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        Manifest {
            schola_version: schola_core::VERSION.to_string(),
            host: crate::host_name().unwrap_or_default(),
            config_file: layout.config_file.as_deref().map(abs),
            config_dir_whole: layout.config_dir_whole(),
            state_dir: abs(&layout.state_dir),
            data_dir: abs(&layout.data_dir),
            vmail_dir: abs(&layout.vmail_dir),
            samba_passdb: layout
                .samba_passdb
                .exists()
                .then(|| abs(&layout.samba_passdb)),
        }
    }

    fn staging_dir(&self) -> PathBuf {
        self.state_dir.join("backup-staging")
    }
}

/// What a whole-server restore did, for the CLI (and later the admin UI).
#[derive(Debug, Clone, Serialize)]
pub struct ServerRestore {
    /// The snapshot's full id.
    pub snapshot: String,
    pub from_host: String,
    pub from_version: String,
    /// The database's schema version in the backup, and after the restore.
    pub schema_from: i64,
    pub schema_to: i64,
    /// How many people the restored school has.
    pub people: usize,
    /// What was put where, in the order it was done.
    pub restored: Vec<Piece>,
    pub notes: Vec<String>,
}

/// One piece put in place.
#[derive(Debug, Clone, Serialize)]
pub struct Piece {
    pub what: String,
    pub to: PathBuf,
}

/// Options of [`restore_server`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerOptions {
    /// Replace a school that is already there (people in the target's database).
    pub replace: bool,
}

/// Restores the whole school from `snapshot` (`latest` or an id) into `target`.
///
/// Refused, with nothing changed, when the snapshot is unknown, was not made by a Schola that
/// writes the manifest, holds a database from a newer Schola, or when the target already holds
/// a school with people and `opts.replace` is not set.
pub fn restore_server(
    restic: &Restic,
    snapshot: &str,
    target: &Layout,
    opts: ServerOptions,
) -> Result<ServerRestore> {
    crate::check_snapshot_name(snapshot)?;
    restic.ready()?;
    let snap = resolve_snapshot(restic, snapshot)?;
    let target_db = target.state_dir.join(DB_NAME);
    if !opts.replace {
        refuse_existing_school(&target_db)?;
    }
    let old_staging = snap
        .paths
        .iter()
        .map(PathBuf::from)
        .find(|p| p.file_name().is_some_and(|n| n == "backup-staging"))
        .ok_or_else(|| Error::NoManifest {
            snapshot: snap.short_id.clone(),
        })?;

    let mut staging = Staging::default();
    let state_stage = staging.make(target.state_dir.join("restore-staging"))?;

    // 1. the manifest: where everything was
    let manifest_path = old_staging.join(MANIFEST);
    restic.restore_many(&snap.id, std::slice::from_ref(&manifest_path), &state_stage)?;
    let manifest: Manifest = std::fs::read(under(&state_stage, &manifest_path))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| Error::NoManifest {
            snapshot: snap.short_id.clone(),
        })?;

    // 2. every piece into a staging folder on its destination's file system; nothing in place
    //    is touched yet, so a failure here (a full disk, a broken repository) changes nothing
    let mut state_includes = vec![
        manifest.staging_dir().join(DB_NAME),
        manifest.state_dir.join("tls"),
        manifest.state_dir.join("branding"),
        manifest.state_dir.join("*.secret"),
    ];
    if let Some(file) = &manifest.config_file {
        let dir = parent(file);
        if manifest.config_dir_whole {
            state_includes.push(dir.to_path_buf());
        } else {
            state_includes.push(file.clone());
            state_includes.push(dir.join("conf.d"));
        }
    }
    if let Some(passdb) = &manifest.samba_passdb {
        state_includes.push(passdb.clone());
    }
    restic.restore_many(&snap.id, &state_includes, &state_stage)?;
    std::fs::create_dir_all(&target.data_dir).map_err(io("cannot create", &target.data_dir))?;
    std::fs::create_dir_all(&target.vmail_dir).map_err(io("cannot create", &target.vmail_dir))?;
    let data_stage = staging.make(target.data_dir.join(".schola-restore"))?;
    restic.restore_many(
        &snap.id,
        std::slice::from_ref(&manifest.data_dir),
        &data_stage,
    )?;
    let vmail_stage = staging.make(target.vmail_dir.join(".schola-restore"))?;
    restic.restore_many(
        &snap.id,
        std::slice::from_ref(&manifest.vmail_dir),
        &vmail_stage,
    )?;

    // 3. the database copy: open it where it is, refuse one from a newer Schola, and bring an
    //    older one to this version's schema (Store::open, as `scholactl db migrate` does; its
    //    pre-migration copy stays in the staging folder and goes with it — the backup has it)
    let staged_db = under(&state_stage, &manifest.staging_dir().join(DB_NAME));
    if !staged_db.is_file() {
        return Err(Error::NotInSnapshot {
            path: manifest.staging_dir().join(DB_NAME),
            snapshot: snap.short_id.clone(),
        });
    }
    let schema_from = Store::open_existing(&staged_db, Arc::new(SystemClock))?.schema_version()?;
    let (people, schema_to) = {
        let (store, _) = Store::open(&staged_db)?;
        (store.count_people(None)?, store.schema_version()?)
    };

    // 4. into place, the database last
    let mut done = Done::default();
    let placed = place_all(
        &manifest,
        target,
        &state_stage,
        &data_stage,
        &vmail_stage,
        &staged_db,
        &mut done,
    );
    if let Err(cause) = placed {
        let mut not_done: Vec<String> = PIECES
            .iter()
            .filter(|p| !done.pieces.iter().any(|d| d.what == **p))
            .map(|p| p.to_string())
            .collect();
        not_done.dedup();
        return Err(Error::PartlyRestored {
            done: done.pieces.iter().map(|p| p.what.clone()).collect(),
            not_done,
            cause: Box::new(cause),
        });
    }
    let Done { pieces, mut notes } = done;

    if let Some(file) = &manifest.config_file
        && let Some(now) = &target.config_file
        && file != now
    {
        notes.push(format!(
            "the configuration was at {} on {}; it is now at {}",
            file.display(),
            manifest.host,
            now.display()
        ));
    }
    if let Some(cfg) = &target.config_file {
        notes.extend(config_moves(cfg, target));
    }
    if schema_from != schema_to {
        notes.push(format!(
            "the database was upgraded from schema version {schema_from} to {schema_to}"
        ));
    }
    Ok(ServerRestore {
        snapshot: snap.id,
        from_host: manifest.host,
        from_version: manifest.schola_version,
        schema_from,
        schema_to,
        people,
        restored: pieces,
        notes,
    })
}

const DB_NAME: &str = "schola.db";

/// The pieces of a school, in the order they are put in place.
const PIECES: &[&str] = &[
    "the files",
    "the mail",
    "the TLS certificate",
    "the school's logo",
    "the secrets",
    "the configuration",
    "Samba's passwords",
    "the database",
];

#[derive(Default)]
struct Done {
    pieces: Vec<Piece>,
    notes: Vec<String>,
}

impl Done {
    fn push(&mut self, what: &str, to: &Path) {
        self.pieces.push(Piece {
            what: what.to_string(),
            to: to.to_path_buf(),
        });
    }
}

/// Moves each staged piece to its place in `target`.
///
/// Ownership: restic restores the numeric uid and gid the files had on the old machine, which
/// on new hardware may be nobody or another user. Each tree is given the owner of the
/// destination directory the package made for it, which is the user the daemons run as:
/// `state_dir` and `data_dir` belong to `schola` (debian/schola-common.tmpfiles: schola-web,
/// schola-dirsync and schola-files run as it, and Samba's shares use it as `force user`),
/// `vmail_dir` to `vmail` (schola-mail.tmpfiles: Dovecot's mail processes), the configuration
/// keeps the owner and mode of the file it replaces (root:schola on the appliance, read by the
/// daemons) and Samba's passdb takes its directory's owner (root). Modes come from the backup.
fn place_all(
    manifest: &Manifest,
    target: &Layout,
    state_stage: &Path,
    data_stage: &Path,
    vmail_stage: &Path,
    staged_db: &Path,
    done: &mut Done,
) -> Result<()> {
    for (what, stage, from, to) in [
        (
            "the files",
            data_stage,
            &manifest.data_dir,
            &target.data_dir,
        ),
        (
            "the mail",
            vmail_stage,
            &manifest.vmail_dir,
            &target.vmail_dir,
        ),
    ] {
        let owner = owner_of(to)?;
        let src = under(stage, from);
        if !src.is_dir() {
            done.notes
                .push(format!("{what} ({}) are not in the backup", from.display()));
            continue;
        }
        for entry in read_dir(&src)? {
            let dest = to.join(entry.file_name().unwrap_or_default());
            replace(&entry, &dest)?;
            chown_tree(&dest, owner, &mut done.notes);
        }
        done.push(what, to);
    }

    let state_owner = owner_of(&target.state_dir)?;
    for (what, name) in [
        ("the TLS certificate", "tls"),
        ("the school's logo", "branding"),
    ] {
        let src = under(state_stage, &manifest.state_dir.join(name));
        if src.exists() {
            let dest = target.state_dir.join(name);
            replace(&src, &dest)?;
            chown_tree(&dest, state_owner, &mut done.notes);
            done.push(what, &dest);
        }
    }
    let old_state = under(state_stage, &manifest.state_dir);
    let secrets: Vec<PathBuf> = read_dir(&old_state)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "secret"))
        .collect();
    if !secrets.is_empty() {
        for src in &secrets {
            let dest = target.state_dir.join(src.file_name().unwrap_or_default());
            replace(src, &dest)?;
            chown_tree(&dest, state_owner, &mut done.notes);
        }
        done.push("the secrets", &target.state_dir);
    }

    if let (Some(old), Some(new)) = (&manifest.config_file, &target.config_file) {
        place_config(manifest, old, new, state_stage, done)?;
    }

    if let Some(old) = &manifest.samba_passdb {
        let src = under(state_stage, old);
        let dest = &target.samba_passdb;
        match dest.parent().filter(|d| d.is_dir()) {
            Some(dir) if src.is_file() => {
                let owner = owner_of(dir)?;
                replace(&src, dest)?;
                chown_tree(dest, owner, &mut done.notes);
                done.push("Samba's passwords", dest);
            }
            _ => done.notes.push(format!(
                "Samba's passwords are in the backup but {} does not exist here (Samba is not \
                 installed): SMB needs its passwords set again",
                parent(dest).display()
            )),
        }
    }

    // the database last: a stale -wal or -shm beside it would be applied to the wrong file
    let db = target.state_dir.join(DB_NAME);
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_there(&target.state_dir.join(format!("{DB_NAME}{suffix}")))?;
    }
    if db.exists() {
        let kept = target.state_dir.join(format!("{DB_NAME}.before-restore"));
        std::fs::rename(&db, &kept).map_err(io("cannot move aside", &db))?;
        done.notes.push(format!(
            "the database that was here is kept as {}",
            kept.display()
        ));
    }
    move_path(staged_db, &db)?;
    chown_tree(&db, state_owner, &mut done.notes);
    done.push("the database", &db);
    Ok(())
}

/// The configuration file (keeping the owner and mode of the file it replaces), its `conf.d`,
/// and on the appliance the other files of `/etc/schola` that the target does not have yet
/// (the target's backup password file, which the admin just used, is never replaced).
fn place_config(
    manifest: &Manifest,
    old: &Path,
    new: &Path,
    state_stage: &Path,
    done: &mut Done,
) -> Result<()> {
    let src = under(state_stage, old);
    if !src.is_file() {
        done.notes.push(format!(
            "the configuration {} is not in the backup",
            old.display()
        ));
        return Ok(());
    }
    let new_dir = parent(new);
    let dir_owner = owner_of(new_dir)?;
    let kept = std::fs::metadata(new).ok();
    replace(&src, new)?;
    match kept {
        Some(meta) => {
            let _ = std::fs::set_permissions(
                new,
                std::os::unix::fs::PermissionsExt::from_mode(meta.mode()),
            );
            chown_tree(new, (meta.uid(), meta.gid()), &mut done.notes);
        }
        None => chown_tree(new, dir_owner, &mut done.notes),
    }
    let old_dir = under(state_stage, parent(old));
    let conf_d = old_dir.join("conf.d");
    if conf_d.is_dir() {
        let dest = new_dir.join("conf.d");
        replace(&conf_d, &dest)?;
        chown_tree(&dest, dir_owner, &mut done.notes);
    }
    if manifest.config_dir_whole {
        for entry in read_dir(&old_dir)? {
            let dest = new_dir.join(entry.file_name().unwrap_or_default());
            if std::fs::symlink_metadata(&dest).is_err() {
                move_path(&entry, &dest)?;
                chown_tree(&dest, dir_owner, &mut done.notes);
            }
        }
    }
    done.push("the configuration", new);
    Ok(())
}

/// What the restored configuration names differently from where the pieces were put (a
/// configuration with absolute paths of another machine); empty on the appliance and with the
/// dev profile, whose paths are relative to the file.
fn config_moves(config_file: &Path, target: &Layout) -> Vec<String> {
    let cfg = match Config::load(config_file) {
        Ok(cfg) => cfg,
        Err(e) => {
            return vec![format!(
                "the restored configuration does not load here: {e}; correct it before starting Schola"
            )];
        }
    };
    let now = Layout::of(&cfg);
    let mut notes = Vec::new();
    for (what, named, put) in [
        ("state_dir", &now.state_dir, &target.state_dir),
        ("data_dir", &now.data_dir, &target.data_dir),
        ("vmail_dir", &now.vmail_dir, &target.vmail_dir),
    ] {
        if named != put {
            notes.push(format!(
                "the restored configuration names {} as {what}, but it was restored to {}: \
                 correct the configuration or move it there",
                named.display(),
                put.display()
            ));
        }
    }
    notes
}

/// A snapshot by `latest` or an id prefix; an unknown or ambiguous one is refused.
fn resolve_snapshot(restic: &Restic, name: &str) -> Result<crate::Snapshot> {
    let mut snaps = restic.snapshots()?;
    if snaps.is_empty() {
        return Err(Error::NoSnapshot {
            repo: restic.target().repo.clone(),
        });
    }
    if name == "latest" {
        snaps.sort_by(|a, b| a.time.cmp(&b.time));
        return snaps.pop().ok_or_else(|| Error::NoSnapshot {
            repo: restic.target().repo.clone(),
        });
    }
    let mut found: Vec<crate::Snapshot> = snaps
        .into_iter()
        .filter(|s| s.id.starts_with(&name.to_ascii_lowercase()))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::UnknownSnapshot {
            name: name.to_string(),
            repo: restic.target().repo.clone(),
        }),
        _ => Err(Error::Failed {
            what: "find the backup".into(),
            code: None,
            detail: format!("'{name}' names more than one backup; give more of its id"),
        }),
    }
}

/// Refuses a target whose database holds people (or cannot be read to tell).
fn refuse_existing_school(db: &Path) -> Result<()> {
    if !db.exists() {
        return Ok(());
    }
    let people = Store::open_existing(db, Arc::new(SystemClock))
        .and_then(|s| s.count_people(None))
        .map_err(|e| Error::TargetInUse {
            db: db.to_path_buf(),
            detail: format!("its database cannot be read ({e})"),
        })?;
    if people > 0 {
        return Err(Error::TargetInUse {
            db: db.to_path_buf(),
            detail: format!("it holds a school with {people} people"),
        });
    }
    Ok(())
}

/// The staging folders of one restore, removed when it ends, however it ends.
#[derive(Default)]
struct Staging {
    dirs: Vec<PathBuf>,
}

impl Staging {
    fn make(&mut self, dir: PathBuf) -> Result<PathBuf> {
        // left over by a restore that was killed: its contents are the backup's, not the school's
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io("cannot remove", &dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
        // the staging folders hold password hashes and secrets until they are moved
        let _ = std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700));
        self.dirs.push(dir.clone());
        Ok(dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Where restic put `original` when restoring under `stage`.
fn under(stage: &Path, original: &Path) -> PathBuf {
    stage.join(original.strip_prefix("/").unwrap_or(original))
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("/"))
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { what, path, source }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io("cannot read", dir))? {
        out.push(e.map_err(io("cannot read", dir))?.path());
    }
    out.sort();
    Ok(out)
}

fn owner_of(path: &Path) -> Result<(u32, u32)> {
    let m = std::fs::metadata(path).map_err(io("cannot read", path))?;
    Ok((m.uid(), m.gid()))
}

fn remove_if_there(path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .map_err(io("cannot replace", path))
}

/// `src` takes the place of `dest` (whatever was there is removed).
fn replace(src: &Path, dest: &Path) -> Result<()> {
    remove_if_there(dest)?;
    move_path(src, dest)
}

/// A rename; across file systems (the configuration in `/etc`, Samba's passdb) a copy that
/// keeps the modes, then the source is removed.
fn move_path(src: &Path, dest: &Path) -> Result<()> {
    match std::fs::rename(src, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(18) => {
            // EXDEV
            copy_tree(src, dest)?;
            remove_if_there(src)
        }
        Err(e) => Err(Error::Io {
            what: "cannot move into place",
            path: dest.to_path_buf(),
            source: e,
        }),
    }
}

fn copy_tree(src: &Path, dest: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(src).map_err(io("cannot read", src))?;
    if meta.file_type().is_symlink() {
        let link = std::fs::read_link(src).map_err(io("cannot read", src))?;
        std::os::unix::fs::symlink(link, dest).map_err(io("cannot create", dest))
    } else if meta.is_dir() {
        std::fs::create_dir_all(dest).map_err(io("cannot create", dest))?;
        std::fs::set_permissions(dest, meta.permissions()).map_err(io("cannot create", dest))?;
        for entry in read_dir(src)? {
            copy_tree(&entry, &dest.join(entry.file_name().unwrap_or_default()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dest)
            .map(|_| ())
            .map_err(io("cannot copy to", dest))
    }
}

/// Gives `path` and everything below it `owner`. Not being allowed to (a test run by a normal
/// user, whose files are its own anyway) is a note, not a failure.
fn chown_tree(path: &Path, owner: (u32, u32), notes: &mut Vec<String>) {
    let mut stack = vec![path.to_path_buf()];
    let mut failed = None;
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if (meta.uid(), meta.gid()) != owner
            && let Err(e) = std::os::unix::fs::lchown(&p, Some(owner.0), Some(owner.1))
        {
            failed.get_or_insert((p.clone(), e));
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
        }
    }
    if let Some((p, e)) = failed {
        notes.push(format!(
            "cannot give {} the owner {}:{} ({e}); run the restore as root",
            p.display(),
            owner.0,
            owner.1
        ));
    }
}
