//! The daemon's shared state and its HTTP server on a Unix socket (`schola-web` forwards the
//! portal's file pages and `/dav/` to it, with the person's id in `X-Schola-Person`), plus the
//! housekeeping: trash and stale-upload purges and the change-journal follower that makes homes
//! for new people and archives the home of a purged person under `archive/<login>-<time>/`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use dav_server::DavHandler;
use schola_core::{Config, Store};

use crate::dav::DavFs;
use crate::layout::Layout;
use crate::policy::Actor;
use crate::quota::Quotas;

/// Everything a request needs, shared by all workers.
pub struct Files {
    pub layout: Layout,
    pub quotas: Quotas,
    pub store: Store,
    pub cfg: Arc<Config>,
    pub davfs: DavFs,
    /// The one lock table of all DAV requests (seen per person through [`crate::dav::ScopedLs`]).
    pub locks: dav_server::memls::MemLs,
    /// Resumable uploads receiving a chunk right now (one chunk at a time per upload).
    pub busy_uploads: std::sync::Mutex<std::collections::HashSet<String>>,
    /// People looked up in the last [`ACTOR_TTL`], by id: a mounted drive sends bursts of
    /// requests (Explorer opens a folder with dozens), which then cost no database reads.
    pub actors: std::sync::Mutex<
        std::collections::HashMap<i64, (std::time::Instant, Arc<crate::policy::Actor>)>,
    >,
}

/// How long a looked-up person (role, groups) is reused. A disabled person is refused by
/// schola-web at once (sessions end, the credential cache checks the account); a new group
/// membership shows within this time.
pub const ACTOR_TTL: std::time::Duration = std::time::Duration::from_secs(2);

impl Files {
    pub fn new(cfg: Config, store: Store) -> std::io::Result<Files> {
        let layout = Layout::new(cfg.paths.data_dir.clone());
        layout.create()?;
        let quotas = Quotas::new(layout.clone(), cfg.files.clone());
        let davfs = DavFs::new(layout.clone(), quotas.clone());
        let locks = *dav_server::memls::MemLs::new();
        Ok(Files {
            layout,
            quotas,
            store,
            cfg: Arc::new(cfg),
            davfs,
            locks,
            busy_uploads: Default::default(),
            actors: Default::default(),
        })
    }
}

impl Files {
    /// The WebDAV handler for one person's request (their view of the shared lock table).
    pub fn dav_handler(&self, login: &str) -> DavHandler<Arc<Actor>> {
        DavHandler::builder()
            .strip_prefix("/dav")
            .filesystem(Box::new(self.davfs.for_request()))
            .locksystem(Box::new(crate::dav::ScopedLs {
                inner: self.locks.clone(),
                login: login.to_string(),
                prefix: "/dav".into(),
            }))
            .hide_symlinks(true)
            .build_handler()
    }
}

/// Serves on `socket` until SIGTERM/SIGINT. `ready` is called once the socket is bound.
pub async fn serve(files: Arc<Files>, socket: &Path, ready: impl FnOnce()) -> std::io::Result<()> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::symlink_metadata(socket) {
        Ok(m) if m.file_type().is_socket_like() => std::fs::remove_file(socket)?,
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} exists and is not a socket; remove it or set files.socket",
                socket.display()
            )));
        }
        Err(_) => {}
    }
    let data = web::Data::from(files);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(crate::api::routes)
    })
    .bind_uds(socket)
    .map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", socket.display()),
        )
    })?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))?;
    ready();
    server.run().await
}

trait SocketLike {
    fn is_socket_like(&self) -> bool;
}
impl SocketLike for std::fs::FileType {
    fn is_socket_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt as _;
        self.is_socket()
    }
}

/// The whole daemon, blocking until SIGTERM or SIGINT: the database opened, housekeeping on its
/// own thread (the journal every 2 s, purges hourly), the API and WebDAV on the Unix socket
/// `Config::files_socket()`. `ready` is called with the socket once it listens. `schola-files`
/// and `scholactl demo` both run this.
pub fn run(cfg: schola_core::Config, ready: impl FnOnce(&Path)) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};
    let store =
        schola_core::Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock))?;
    let socket = cfg.files_socket();
    let files = Arc::new(Files::new(cfg, store).map_err(|e| anyhow::anyhow!("{e}"))?);
    let bg = files.clone();
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut next_purge = Instant::now();
            loop {
                let purge = Instant::now() >= next_purge;
                if purge {
                    next_purge = Instant::now() + Duration::from_secs(3600);
                }
                housekeeping(&bg, crate::now(), purge);
                std::thread::sleep(Duration::from_secs(2));
            }
        })?;
    let sock = socket.clone();
    actix_web::rt::System::new().block_on(serve(files, &socket, move || ready(&sock)))?;
    Ok(())
}

/// One round of housekeeping: purge old trash and stale uploads, follow the journal.
pub fn housekeeping(files: &Files, now: i64, purge: bool) {
    if purge {
        let n = crate::trash::purge_older(&files.layout, files.cfg.files.trash_days, now);
        if n > 0 {
            log::info!(
                "purged {n} items older than {} days from the trash",
                files.cfg.files.trash_days
            );
        }
        crate::api::purge_stale_uploads(&files.layout, now);
        // Writes that bypass us (SMB) are counted again from the next walk on.
        files.quotas.forget_all();
        // And Samba is brought in line hourly even if a request got lost (the run is idempotent
        // and changes nothing when nothing changed).
        if files.cfg.files.samba.is_some()
            && let Err(err) = request_samba_sync(&files.cfg)
        {
            log::error!("cannot ask for a Samba provisioning run: {err}");
        }
    }
    if let Err(e) = follow_journal(files, now) {
        log::error!("following the change journal failed: {e}");
    }
}

/// Journal kinds that change what Samba must know: accounts, passwords, groups and members.
const SAMBA_KINDS: &[&str] = &[
    "person.created",
    "person.updated",
    "person.disabled",
    "person.enabled",
    "person.purged",
    "person.password_changed",
    "person.smb_secret_stored",
    "group.created",
    "group.member_added",
    "group.member_removed",
];

/// Where `schola-files` asks the root helper (`schola-samba-sync.path`) for a provisioning run.
pub fn samba_request_path(cfg: &schola_core::Config) -> std::path::PathBuf {
    cfg.paths.state_dir.join("samba-request").join("sync")
}

/// Leaves the one-word request for `schola-files samba-sync --request` (run as root by
/// `schola-samba-sync.path`). The request carries nothing: the helper reads the directory itself.
pub fn request_samba_sync(cfg: &schola_core::Config) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    let path = samba_request_path(cfg);
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::write(&path, "sync\n")
}

/// Makes homes for new people, archives the homes of purged ones (idempotent), and asks for a
/// Samba provisioning run when accounts, passwords or groups changed (with `[files.samba]`).
pub fn follow_journal(files: &Files, now: i64) -> schola_core::Result<usize> {
    let mut samba = false;
    let n = files.store.follow_journal("files", 200, |e| {
        samba |= SAMBA_KINDS.contains(&e.kind.as_str());
        let login = e.data.get("login").and_then(|l| l.as_str()).unwrap_or("");
        if crate::names::check_name(login).is_err() {
            return Ok(());
        }
        match e.kind.as_str() {
            "person.created" => {
                let home = files.layout.home(login);
                if let Err(err) = std::fs::create_dir_all(&home) {
                    log::error!("cannot create the home {}: {err}", home.display());
                }
            }
            "person.purged" => {
                let home = files.layout.home(login);
                if home.symlink_metadata().is_ok() {
                    let dest = files.layout.archive().join(format!("{login}-{now}"));
                    match std::fs::create_dir_all(files.layout.archive())
                        .and_then(|()| std::fs::rename(&home, &dest))
                    {
                        Ok(()) => log::info!(
                            "{login} was purged: their home is kept in {}",
                            dest.display()
                        ),
                        Err(err) => {
                            log::error!("cannot archive the home {}: {err}", home.display())
                        }
                    }
                }
                if let Some(id) = e.person_id {
                    files.quotas.forget(&crate::policy::QuotaOwner::Person {
                        id,
                        login: login.to_string(),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if samba && files.cfg.files.samba.is_some() {
        match request_samba_sync(&files.cfg) {
            Ok(()) => log::info!("asked for a Samba provisioning run"),
            Err(err) => log::error!(
                "cannot ask for a Samba provisioning run ({}): {err}",
                samba_request_path(&files.cfg).display()
            ),
        }
    }
    Ok(n)
}
