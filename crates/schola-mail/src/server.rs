//! The daemon: three Unix sockets (socketmap, policy, Dovecot's dict) answered from one
//! address book in memory, and a follower that rebuilds the book when the change journal
//! moves (checked every second, so a person created by an import can receive mail within
//! seconds, without a restart). When the school's mail domain appears (the first-run setup) or
//! changes, it asks root's `schola-mail-config.path` to write Postfix's and Dovecot's
//! configuration again, with a request file, as schola-files asks for its Samba runs.
//!
//! The sockets are created mode 0666; who may connect is decided by their directory
//! (`/run/schola-mail`, 0750 schola:postfix on the appliance, with Dovecot's user in the group).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use schola_core::config::Mail as MailConfig;
use schola_core::{Config, Store};
use tokio::net::UnixListener;

use crate::book::Book;
use crate::policy::RateLimiter;

/// How often the journal head is checked.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The shared state of all connections.
pub struct Mail {
    book: RwLock<Arc<Book>>,
    /// One rebuild at a time.
    rebuilding: std::sync::Mutex<()>,
    pub cfg: MailConfig,
    pub rate: RateLimiter,
    pub store: Store,
    /// The webmail's master secret (see [`crate::auth::MASTER_USER`]); `None`: no webmail.
    pub master: Option<crate::auth::MasterSecret>,
    /// Account lookups Dovecot made (each sign-in its auth cache could not answer, and each
    /// delivery's userdb lookup); `scripts/bench mail` reads it.
    pub account_lookups: std::sync::atomic::AtomicU64,
    /// Where to ask for Postfix's and Dovecot's configuration to be written again
    /// ([`config_request_path`], watched by `schola-mail-config.path`); `None`: nobody to ask
    /// (the tests write the configuration themselves).
    pub config_request: Option<PathBuf>,
    /// The school's mail domain as stored when the book was built (empty before the setup).
    /// A change of it moves no journal entry (it is a setting), so it is compared on its own.
    domain: Mutex<String>,
    /// The domain changed and the configuration has not been asked for yet.
    config_owed: AtomicBool,
}

impl Mail {
    pub fn new(store: Store, cfg: MailConfig) -> anyhow::Result<Mail> {
        let dir = store
            .mail_directory()
            .context("cannot read the directory")?;
        let book = Book::build(&dir, &cfg.extra_domains);
        Ok(Mail {
            book: RwLock::new(Arc::new(book)),
            // the configuration for the domain at start is written before every start
            // (schola-mail.service wants schola-mail-config.service first)
            domain: Mutex::new(dir.domain),
            config_owed: AtomicBool::new(false),
            config_request: None,
            rebuilding: std::sync::Mutex::new(()),
            cfg,
            rate: RateLimiter::default(),
            store,
            account_lookups: Default::default(),
            master: None,
        })
    }

    pub fn book(&self) -> Arc<Book> {
        match self.book.read() {
            Ok(b) => b.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the book if the journal moved or the school's mail domain changed; returns the
    /// logins whose cached sign-in must go. A new mail domain also makes a request for the
    /// configuration owed ([`Mail::ask_for_config`]).
    pub fn refresh(&self) -> anyhow::Result<Vec<String>> {
        let _one = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.book();
        let domain = self.store.school()?.mail_domain;
        let same_domain = domain == *self.domain.lock().unwrap_or_else(|p| p.into_inner());
        if same_domain && self.store.journal_head()? == old.journal_seq {
            return Ok(Vec::new());
        }
        let dir = self.store.mail_directory()?;
        {
            let mut known = self.domain.lock().unwrap_or_else(|p| p.into_inner());
            if dir.domain != *known {
                log::info!(
                    "the school's mail domain is now '{}' (it was '{}')",
                    dir.domain,
                    known
                );
                if !dir.domain.is_empty() {
                    self.config_owed.store(true, Ordering::SeqCst);
                }
                known.clone_from(&dir.domain);
            }
        }
        let new = Arc::new(Book::build(&dir, &self.cfg.extra_domains));
        let changed = new
            .changed_accounts(&old)
            .into_iter()
            .map(String::from)
            .collect();
        log::info!(
            "address book rebuilt at journal {}: {} mailboxes, {} lists",
            new.journal_seq,
            new.mailboxes.len(),
            new.lists.len()
        );
        match self.book.write() {
            Ok(mut b) => *b = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        Ok(changed)
    }

    /// Leaves the request for Postfix's and Dovecot's configuration if [`Mail::refresh`] saw a
    /// new mail domain: after the first-run setup, mail works without a restart. The request
    /// carries nothing (root's helper reads the directory itself); a failure is logged once
    /// with what the admin can do instead.
    pub fn ask_for_config(&self) {
        if !self.config_owed.swap(false, Ordering::SeqCst) {
            return;
        }
        let Some(path) = &self.config_request else {
            return;
        };
        match leave_request(path) {
            Ok(()) => log::info!(
                "asked for Postfix's and Dovecot's configuration to be written ({})",
                path.display()
            ),
            Err(e) => log::error!(
                "cannot ask for the mail configuration to be written ({}): {e}; Postfix and Dovecot keep their previous one until: systemctl start schola-mail-config",
                path.display()
            ),
        }
    }
}

/// Where schola-mail asks root's helper (`schola-mail-config.path` starts
/// `schola-mail-config.service`) to write Postfix's and Dovecot's configuration again.
pub fn config_request_path(cfg: &Config) -> PathBuf {
    cfg.paths.state_dir.join("mail-request").join("config")
}

fn leave_request(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::write(path, "config\n")
}

/// What a lookup that found nothing is answered from: the book after catching up with the
/// journal. A teacher who mails a student a second after the import created them must not get
/// "user unknown" because the follower had not looked yet; unknown addresses cost one read of
/// the journal's head.
fn fresh_book(m: &Mail) -> Option<Arc<Book>> {
    let before = m.book().journal_seq;
    if let Err(e) = tokio::task::block_in_place(|| m.refresh()) {
        log::warn!("cannot follow the directory: {e:#}");
    }
    let now = m.book();
    (now.journal_seq != before).then_some(now)
}

/// Acts on the journal entries mail must act on (from its own cursor, `mail`): a purged
/// person's mailbox `<vmail_dir>/<id>` is moved to `<vmail_dir>/archive/<login>-<time>`, where
/// the backup keeps it with their archived files. Idempotent: a mailbox already moved (or never
/// made) is skipped.
pub fn follow_journal(store: &Store, vmail_dir: &Path) -> schola_core::Result<usize> {
    store.follow_journal("mail", 200, |e| {
        if e.kind != "person.purged" {
            return Ok(());
        }
        let (Some(id), Some(login)) = (e.person_id, e.data.get("login").and_then(|l| l.as_str())) else {
            return Ok(());
        };
        // a login is made of these; anything else is not used as a file name
        if login.is_empty()
            || login.starts_with('.')
            || !login.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            log::warn!("a purged person's login {login:?} is not usable as a folder name; their mailbox stays at {id}");
            return Ok(());
        }
        let mailbox = vmail_dir.join(id.to_string());
        if mailbox.symlink_metadata().is_err() {
            return Ok(());
        }
        let archive = vmail_dir.join("archive");
        let dest = archive.join(format!("{login}-{}", e.at));
        match std::fs::create_dir_all(&archive).and_then(|()| std::fs::rename(&mailbox, &dest)) {
            Ok(()) => log::info!("{login} was purged: their mail is kept in {}", dest.display()),
            Err(err) => log::error!("cannot archive the mailbox {}: {err}", mailbox.display()),
        }
        Ok(())
    })
}

fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot remove the old socket {}", path.display()));
        }
    }
    let l =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .with_context(|| format!("cannot open up {}", path.display()))?;
    Ok(l)
}

/// The three sockets.
#[derive(Debug, Clone)]
pub struct Sockets {
    pub socketmap: PathBuf,
    pub policy: PathBuf,
    pub auth: PathBuf,
}

impl Sockets {
    pub fn from_config(cfg: &Config) -> Sockets {
        Sockets {
            socketmap: cfg.mail_socketmap_socket(),
            policy: cfg.mail_policy_socket(),
            auth: cfg.mail_auth_socket(),
        }
    }
}

/// Serves until SIGTERM or SIGINT. `ready` is called once the sockets listen.
pub fn run(cfg: &Config, ready: impl FnOnce(&Sockets)) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let store = Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock))
            .context("cannot open the database")?;
        let mut mail = Mail::new(store, cfg.mail.clone())?;
        mail.config_request = Some(config_request_path(cfg));
        let secret = cfg.mail_webmail_secret();
        mail.master = Some(
            crate::auth::MasterSecret::load_or_create(&secret).with_context(|| {
                format!(
                    "cannot read or make the webmail's secret {}",
                    secret.display()
                )
            })?,
        );
        let mail = Arc::new(mail);
        let sockets = Sockets::from_config(cfg);
        let stop = serve(mail, &sockets)?;
        ready(&sockets);
        shutdown_signal().await;
        drop(stop);
        Ok(())
    })
}

/// Starts serving on the runtime this is called in; serving stops when the returned guard is
/// dropped.
pub fn serve(mail: Arc<Mail>, sockets: &Sockets) -> anyhow::Result<Guard> {
    let sm = bind(&sockets.socketmap)?;
    let pol = bind(&sockets.policy)?;
    let auth = bind(&sockets.auth)?;
    let mut tasks = vec![
        accept_each(sm, mail.clone(), "socketmap", |stream, m| async move {
            crate::socketmap::serve(stream, || m.book(), || fresh_book(&m)).await
        }),
        accept_each(pol, mail.clone(), "policy", |stream, m| async move {
            let now = || m.store.now();
            crate::policy::serve(stream, || m.book(), &m.cfg, &m.rate, now).await
        }),
        accept_each(auth, mail.clone(), "auth", |stream, m| async move {
            let book = || {
                m.account_lookups
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                m.book()
            };
            let (cfg, master) = (&m.cfg, m.master.as_ref());
            crate::auth::serve(stream, book, || fresh_book(&m), cfg, &cfg.vmail_dir, master).await
        }),
    ];
    let m = mail;
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned = 0;
        loop {
            tick.tick().await;
            let m2 = m.clone();
            let followed =
                tokio::task::spawn_blocking(move || follow_journal(&m2.store, &m2.cfg.vmail_dir));
            match followed.await {
                Ok(Err(e)) => log::warn!("cannot follow the change journal: {e}"),
                Err(e) => log::warn!("the journal follower stopped: {e}"),
                Ok(Ok(_)) => {}
            }
            let m2 = m.clone();
            let refreshed = tokio::task::spawn_blocking(move || {
                let changed = m2.refresh();
                m2.ask_for_config();
                changed
            });
            match refreshed.await {
                Ok(Ok(changed)) if !changed.is_empty() => {
                    flush_auth_cache(&m.cfg.dovecot_config, &changed).await;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => log::warn!("cannot follow the directory: {e:#}"),
                Err(e) => log::warn!("the directory follower stopped: {e}"),
            }
            pruned += 1;
            if pruned % 600 == 0 {
                m.rate.prune(m.store.now());
            }
        }
    }));
    Ok(Guard(tasks))
}

/// Accepts connections on `listener` for ever, serving each in a task of its own with `serve`;
/// a connection that ends in an error is logged under `what`.
fn accept_each<F, Fut, E>(
    listener: UnixListener,
    mail: Arc<Mail>,
    what: &'static str,
    serve: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(tokio::net::UnixStream, Arc<Mail>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            };
            let served = serve(stream, mail.clone());
            tokio::spawn(async move {
                if let Err(e) = served.await {
                    log::warn!("{what}: {e}");
                }
            });
        }
    })
}

/// After a failed accept (out of file descriptors, most likely): say so and wait a moment
/// instead of spinning.
async fn accept_failed(e: &std::io::Error) {
    log::error!("cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Stops the server's tasks when dropped.
pub struct Guard(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Guard {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Drops cached sign-ins so a disabled person or an old password is refused at once.
async fn flush_auth_cache(dovecot_config: &Path, logins: &[String]) {
    if !dovecot_config.exists() {
        return;
    }
    let out = tokio::process::Command::new("doveadm")
        .arg("-c")
        .arg(dovecot_config)
        .args(["auth", "cache", "flush"])
        .args(logins)
        .output()
        .await;
    match out {
        Ok(o) if o.status.success() => {
            log::info!("dropped cached mail sign-ins of {}", logins.join(", "))
        }
        Ok(o) => log::warn!(
            "doveadm auth cache flush failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => log::warn!("cannot run doveadm to drop cached sign-ins: {e}"),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schola_core::audit::Actor;
    use schola_core::directory::School;

    fn set_domain(store: &Store, domain: &str) {
        let school = School {
            name: "Lindenschule".into(),
            mail_domain: domain.into(),
            default_language: None,
        };
        store.set_school(&Actor::cli(), &school).unwrap();
    }

    #[test]
    fn a_new_mail_domain_asks_for_the_configuration_once() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&tmp.path().join("schola.db")).unwrap();
        let mut mail = Mail::new(store.clone(), MailConfig::default()).unwrap();
        let request = tmp.path().join("mail-request/config");
        mail.config_request = Some(request.clone());
        let step = |mail: &Mail| {
            mail.refresh().unwrap();
            mail.ask_for_config();
        };

        // before the setup: no domain, nothing to write
        step(&mail);
        assert!(!request.exists());

        // the setup stores the domain; it is a setting, the journal does not move
        let head = store.journal_head().unwrap();
        set_domain(&store, "lindenschule.example");
        assert_eq!(store.journal_head().unwrap(), head);
        step(&mail);
        assert!(request.exists(), "no request after the domain appeared");
        assert_eq!(mail.book().domains, ["lindenschule.example"]);

        // root's helper took it; nothing new, no new request
        std::fs::remove_file(&request).unwrap();
        step(&mail);
        assert!(!request.exists(), "a request without a change");

        // the admin changes the domain
        set_domain(&store, "linden.schule.example");
        step(&mail);
        assert!(request.exists(), "no request after the domain changed");
        assert_eq!(mail.book().domains, ["linden.schule.example"]);
    }
}
