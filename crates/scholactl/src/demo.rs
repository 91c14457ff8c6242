//! `scholactl demo`: a complete demo school on this computer in one command. The first run makes
//! a directory with a dev-profile `schola.toml`, a database with 650 made-up people (see
//! [`crate::demo_data`]) and then runs the web server in-process; later runs reuse all of it.
//! Run as root on a machine with Debian's Postfix and Dovecot, it starts them too (on free
//! loopback ports, beside the system's own), so the webmail and mail clients work.

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, anyhow};
use schola_core::audit::Actor;
use schola_core::config::{Argon2Config, MailPorts};
use schola_core::directory::{
    GroupKind, MemberRole, NewGroup, NewPerson, PersonFilter, Role, School,
};
use schola_core::password::{Hashed, hash_password_for, verify_password};
use schola_core::{Config, Store};
use schola_mail::local::{self, LocalServers};
use serde_json::json;

use crate::cli::DemoArgs;
use crate::context::{self, Ctx, generate_password, login_scheme, password_policy};
use crate::demo_data::{self, DemoSchool};
use crate::output;

/// The password of every demo student and teacher, so anyone can try the portal as one.
pub const DEMO_PASSWORD: &str = "demo-schule-2026";
const ADMIN_LOGIN: &str = "admin";
const ADMIN_PASSWORD_FILE: &str = "demo-admin-password";
const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

pub fn run(ctx: &Ctx, args: DemoArgs) -> Result<()> {
    let dir = prepare_dir(&args.dir, args.listen)?;
    let config_path = dir.join("schola.toml");
    let mut cfg = context::load_config(&config_path)?;
    if let Some(listen) = args.listen {
        cfg.web.listen = vec![listen];
    }
    let store = context::open_store(&cfg)?;
    let admin_password = ensure_admin(&cfg, &store, &dir)?;
    ensure_people(&cfg, &store)?;

    let sample = |role| -> Result<Option<String>> {
        let filter = PersonFilter {
            role: Some(role),
            ..PersonFilter::default()
        };
        Ok(store
            .list_people(&filter, 1, 0)?
            .0
            .into_iter()
            .next()
            .map(|p| p.login))
    };
    // before the threads below take their copies of `cfg`: the ports and the Dovecot they use
    let (servers, mail) = start_mail(&mut cfg, &dir);
    let banner = Banner {
        school: store.school()?.name,
        admin_password,
        student: sample(Role::Student)?,
        teacher: sample(Role::Teacher)?,
        dir: dir.clone(),
        config: config_path,
        drop_dir: cfg.import_drop_dir(),
        json: ctx.json,
        mail,
    };
    drop(store);
    // The file service: homes, class shares, WebDAV, behind schola-web on its Unix socket.
    // SMB needs Samba and root (`schola-files samba-sync` on an appliance): off in the demo.
    let files_cfg = cfg.clone();
    std::thread::Builder::new()
        .name("schola-files".into())
        .spawn(move || {
            if let Err(e) = schola_files::server::run(files_cfg, |_| {}) {
                eprintln!("scholactl demo: the file service stopped: {e:#}");
            }
        })
        .context("cannot start the file service")?;
    // Mail: schola-mail answers Postfix's and Dovecot's questions on its sockets, whether or
    // not the demo could start them (`servers`, stopped when this returns)
    let mail_cfg = cfg.clone();
    std::thread::Builder::new()
        .name("schola-mail".into())
        .spawn(move || {
            if let Err(e) = schola_mail::server::run(&mail_cfg, |_| {}) {
                eprintln!("scholactl demo: the mail lookups stopped: {e:#}");
            }
        })
        .context("cannot start the mail lookups")?;
    let check_cfg = cfg.clone();
    schola_web::run(cfg, move |started| {
        banner.print(started);
        // the capacity page has something to show from the start; the daily timer's job on an
        // appliance
        let sync_cfg = check_cfg.clone();
        std::thread::spawn(move || capacity_check(&check_cfg));
        std::thread::spawn(move || dirsync(&sync_cfg));
    })
    .context("cannot start the web server")?;
    drop(servers);
    Ok(())
}

/// Whether the demo has real mail, and if not, why and what turns it on.
enum MailState {
    On(MailPorts),
    Off(String),
}

/// The drop-in with the demo's mail settings (beside schola.toml, read with it by every
/// program given the demo's config, so schola-web and `scholactl --config` see the same ports).
const MAIL_DROPIN: &str = "conf.d/50-demo-mail.toml";

/// Starts Postfix and Dovecot for the demo when this runs as root and they are installed; sets
/// `cfg`'s `[mail]` to their ports, mailboxes and Dovecot. Mail being off is no reason for the
/// demo not to start: the banner says why and what to do.
fn start_mail(cfg: &mut Config, dir: &Path) -> (Option<LocalServers>, MailState) {
    if let Err(e) = local::check_available(&cfg.mail.vmail_user) {
        let why = match (e, local::missing_programs().as_slice()) {
            (local::Error::NotRoot, []) => {
                "Postfix and Dovecot need root: run the demo as root to turn mail on".to_string()
            }
            (local::Error::NotRoot, _) => format!(
                "Postfix and Dovecot need root and are not installed: {}, then run the demo as root",
                local::INSTALL
            ),
            (other, _) => format!("{other}"),
        };
        return (None, MailState::Off(why));
    }
    output::note("starting Postfix and Dovecot for the demo…");
    match try_start_mail(cfg, dir) {
        Ok(servers) => {
            let ports = servers.setup().ports;
            (Some(servers), MailState::On(ports))
        }
        Err(e) => {
            // with the servers' logs, which do not fit in the banner
            output::note(&format!("Postfix and Dovecot did not start: {e:#}"));
            let why = "Postfix and Dovecot did not start (see above)".to_string();
            (None, MailState::Off(why))
        }
    }
}

fn try_start_mail(cfg: &mut Config, dir: &Path) -> Result<LocalServers> {
    // Postfix and Dovecot serve the portal's certificate: on a first run it is made here
    schola_web::tls::load_or_generate(cfg)?;
    // the ports of the last run, while they are free, so a mail client set up then still works
    let ports = if cfg.mail.ports != MailPorts::default() && local::ports_free(&cfg.mail.ports) {
        cfg.mail.ports
    } else {
        local::free_ports().context("cannot find free ports for the mail servers")?
    };
    let vmail_dir = cfg.paths.state_dir.join("vmail");
    let path = |p: &Path| toml::Value::String(p.to_string_lossy().into_owned()).to_string();
    let mut text = format!(
        "# Written by 'scholactl demo' on each run with mail (as root): where the demo's Postfix\n\
         # and Dovecot listen and keep the mailboxes.\n[mail]\nvmail_dir = {}\n\n[mail.ports]\n",
        path(&vmail_dir)
    );
    for (name, port) in ports.named() {
        text.push_str(&format!("{name} = {port}\n"));
    }
    let dropin = dir.join(MAIL_DROPIN);
    if let Some(parent) = dropin.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&dropin, text).with_context(|| format!("cannot write {}", dropin.display()))?;
    cfg.mail.ports = ports;
    cfg.mail.vmail_dir = vmail_dir;
    let servers = LocalServers::start(cfg, &local::this_host())?;
    // a person disabled in the demo is dropped from this Dovecot's sign-in cache
    cfg.mail.dovecot_config = servers.dovecot_config();
    Ok(servers)
}

/// The directory sync daemon's rounds, in the demo's process: CSV files dropped into the demo's
/// import folder become imports waiting in the admin UI; leavers are purged when due.
fn dirsync(cfg: &Config) {
    let store = match context::open_store(cfg) {
        Ok(s) => s,
        Err(e) => {
            output::note(&format!("the directory sync did not start: {e:#}"));
            return;
        }
    };
    if let Err(e) = std::fs::create_dir_all(cfg.import_drop_dir()) {
        output::note(&format!(
            "the directory sync did not start: cannot make {}: {e}",
            cfg.import_drop_dir().display()
        ));
        return;
    }
    let mut rounds = 0u64;
    loop {
        match schola_dirsync::daemon::scan_drop_dir(cfg, &store, std::time::SystemTime::now()) {
            Ok(round) => {
                for (name, id) in &round.prepared {
                    output::note(&format!(
                        "import: {name} is import #{id}; review it in the admin UI (Import)"
                    ));
                }
                for (name, reason) in &round.failed {
                    output::note(&format!("import: {name} was not imported: {reason}"));
                }
            }
            Err(e) => output::note(&format!("import: cannot read the drop folder: {e}")),
        }
        if rounds.is_multiple_of(720)
            && let Err(e) = schola_dirsync::daemon::purge_due(cfg, &store)
        {
            output::note(&format!("import: purging leavers failed: {e}"));
        }
        rounds += 1;
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
}

/// One capacity check in the background, stored like the timer's; a failure is only noted.
fn capacity_check(cfg: &Config) {
    let run = || -> Result<schola_capacity::Level> {
        let store = context::open_store(cfg)?;
        let opts = schola_capacity::check::CheckOptions {
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        let (check, _) = schola_capacity::check::run(cfg, &store, &opts, store.now())?;
        schola_capacity::check::save(&store, &check, "demo")?;
        Ok(check.level)
    };
    match run() {
        Ok(level) => output::note(&format!(
            "capacity check: {} (details on the admin UI's capacity page or with 'scholactl check')",
            level.as_str().to_uppercase()
        )),
        Err(e) => output::note(&format!("the capacity check did not run: {e:#}")),
    }
}

/// Makes the demo directory and its configuration, unless they exist; returns the directory as
/// an absolute path.
fn prepare_dir(dir: &Path, listen: Option<SocketAddr>) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot find the demo directory {}", dir.display()))?;
    let config = dir.join("schola.toml");
    if !config.exists() {
        let listen = listen
            .map(|l| l.to_string())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let text = format!(
            "# The Schola demo (made by 'scholactl demo'): everything lives in this directory.\n\
             profile = \"dev\"\n\n[paths]\nroot = \".\"\n\n[web]\nlisten = [\"{listen}\"]\n"
        );
        std::fs::write(&config, text)
            .with_context(|| format!("cannot write {}", config.display()))?;
    }
    Ok(dir)
}

/// Sets the school up with its admin on the first run; on later runs reads the admin's password
/// back from the file it was kept in. Returns the password to show, if it is known.
fn ensure_admin(cfg: &Config, store: &Store, dir: &Path) -> Result<Option<String>> {
    let file = dir.join(ADMIN_PASSWORD_FILE);
    let policy = password_policy(cfg);
    if !store.has_admin()? {
        let password = generate_password(&policy, ADMIN_LOGIN)?;
        // kept before the account exists: a run stopped in between makes a new one next time
        write_secret(&file, &password)?;
        let admin = NewPerson {
            login: Some(ADMIN_LOGIN.into()),
            given_name: "Schola".into(),
            family_name: "Admin".into(),
            display_name: Some("Schola admin".into()),
            password_hash: Some(hash_password_for(cfg.auth.argon2, &password)?),
            ..NewPerson::default()
        };
        let school = School {
            name: demo_data::SCHOOL_NAME.into(),
            mail_domain: demo_data::MAIL_DOMAIN.into(),
            default_language: Some(schola_core::directory::Language::De),
        };
        store
            .setup_school(&Actor::cli(), &school, admin, &login_scheme(cfg)?)
            .context("cannot set the demo school up")?;
        return Ok(Some(password));
    }
    let Some((admin, hash)) = store.credentials(ADMIN_LOGIN)? else {
        // a school set up some other way in this directory: nothing to show
        return Ok(None);
    };
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let password = text.trim().to_string();
            if hash
                .as_deref()
                .is_some_and(|h| verify_password(h, &password))
            {
                Ok(Some(password))
            } else {
                output::note(&format!(
                    "the admin password was changed since the demo was made; {} is out of date",
                    file.display()
                ));
                Ok(None)
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let password = generate_password(&policy, ADMIN_LOGIN)?;
            write_secret(&file, &password)?;
            store.set_password_hash(
                &Actor::cli(),
                admin.id,
                &hash_password_for(cfg.auth.argon2, &password)?,
            )?;
            output::note(&format!(
                "{} was missing; the admin has a new password",
                file.display()
            ));
            Ok(Some(password))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

/// Adds the classes, students and teachers on the first run (or after a run stopped before
/// they were stored), all in one transaction.
fn ensure_people(cfg: &Config, store: &Store) -> Result<()> {
    let school = demo_data::generate();
    let first_class = school
        .classes
        .first()
        .map(|c| c.name.as_str())
        .unwrap_or("5a");
    if store.group(first_class)?.is_some() {
        return Ok(());
    }
    let started = Instant::now();
    let count = school.students.len() + school.teachers.len();
    output::note(&format!(
        "making the demo school: {} classes, {} students, {} teachers (hashing {count} passwords on {} cores)…",
        school.classes.len(),
        school.students.len(),
        school.teachers.len(),
        Config::cores()
    ));
    let hashes = hash_all(cfg.auth.argon2, DEMO_PASSWORD, count)?;
    store_school(store, &school, hashes, &login_scheme(cfg)?)
        .context("cannot store the demo school")?;
    output::note(&format!("done in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(())
}

fn store_school(
    store: &Store,
    school: &DemoSchool,
    hashes: Vec<Hashed>,
    scheme: &schola_core::login::LoginScheme,
) -> Result<()> {
    let people = school
        .students
        .iter()
        .map(|p| (p, Role::Student, MemberRole::Member))
        .chain(
            school
                .teachers
                .iter()
                .map(|p| (p, Role::Teacher, MemberRole::Owner)),
        );
    store.batch(&Actor::cli(), |b| {
        for class in &school.classes {
            b.create_group(&NewGroup {
                name: class.name.clone(),
                display_name: Some(class.display_name.clone()),
                kind: GroupKind::Class,
                external_id: None,
            })?;
        }
        b.create_group(&NewGroup {
            name: demo_data::STAFF_GROUP.into(),
            display_name: Some("Kollegium".into()),
            kind: GroupKind::Staff,
            external_id: None,
        })?;
        for ((person, role, membership), hash) in people.zip(hashes) {
            let new = NewPerson {
                external_id: Some(person.external_id.clone()),
                given_name: person.given.clone(),
                family_name: person.family.clone(),
                role: Some(role),
                password_hash: Some(hash),
                ..NewPerson::default()
            };
            let (_, login) = b.create_person(&new, scheme)?;
            for class in &person.classes {
                b.add_member(class, &login, membership)?;
            }
            if role == Role::Teacher {
                b.add_member(demo_data::STAFF_GROUP, &login, MemberRole::Member)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// `count` hashes of `password`, each with its own salt, made on all cores at once.
fn hash_all(cfg: Argon2Config, password: &str, count: usize) -> Result<Vec<Hashed>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let threads = Config::cores().clamp(1, count);
    let mut out = vec![Hashed::default(); count];
    std::thread::scope(|s| -> Result<()> {
        let workers: Vec<_> = out
            .chunks_mut(count.div_ceil(threads))
            .map(|chunk| {
                s.spawn(move || -> schola_core::Result<()> {
                    for slot in chunk {
                        *slot = hash_password_for(cfg, password)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow!("a password hashing thread stopped unexpectedly"))??;
        }
        Ok(())
    })?;
    Ok(out)
}

/// Writes a secret readable only by its owner (mode 0600), replacing what was there.
fn write_secret(path: &Path, secret: &str) -> Result<()> {
    let what = || format!("cannot write {}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(what)?;
    // an existing file keeps its mode on open; make sure it is private
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(what)?;
    f.write_all(format!("{secret}\n").as_bytes())
        .with_context(what)?;
    f.sync_all().with_context(what)?;
    Ok(())
}

/// What the person who ran the demo needs to try it, printed once the server listens.
struct Banner {
    school: String,
    admin_password: Option<String>,
    student: Option<String>,
    teacher: Option<String>,
    dir: PathBuf,
    config: PathBuf,
    drop_dir: PathBuf,
    json: bool,
    mail: MailState,
}

impl Banner {
    fn print(&self, started: &schola_web::Started) {
        let result = if self.json {
            output::print_json(&json!({
                "school": self.school,
                "urls": started.urls,
                "fingerprint": started.fingerprint,
                "admin": {"login": ADMIN_LOGIN, "password": self.admin_password},
                "student": self.student,
                "teacher": self.teacher,
                "demo_password": DEMO_PASSWORD,
                "dir": self.dir,
                "config": self.config,
                "mail": match &self.mail {
                    MailState::On(p) => json!({"on": true, "smtp": p.smtp, "submission": p.submission, "submissions": p.submissions, "imap": p.imap, "imaps": p.imaps}),
                    MailState::Off(why) => json!({"on": false, "why": why}),
                },
            }))
        } else {
            output::print(&self.text(started))
        };
        if let Err(e) = result {
            output::note(&format!("error: {e:#}"));
        }
    }

    fn text(&self, started: &schola_web::Started) -> String {
        let mut t = format!("\nSchola demo: {}\n\n", self.school);
        for url in &started.urls {
            t.push_str(&format!("  open         {url}\n"));
        }
        t.push_str(&format!(
            "  certificate  SHA-256 {} (self-signed: your browser will ask)\n",
            started.fingerprint
        ));
        let admin_pw = self
            .admin_password
            .as_deref()
            .unwrap_or("(unknown: set one with 'scholactl user passwd admin')");
        t.push_str(&format!("  admin        {ADMIN_LOGIN} / {admin_pw}\n"));
        if let Some(s) = &self.student {
            t.push_str(&format!("  student      {s} / {DEMO_PASSWORD}\n"));
        }
        if let Some(s) = &self.teacher {
            t.push_str(&format!("  teacher      {s} / {DEMO_PASSWORD}\n"));
        }
        t.push_str(&format!(
            "               (every demo student and teacher has the password {DEMO_PASSWORD})\n"
        ));
        t.push_str(&format!("  data         {}\n", self.dir.display()));
        t.push_str(&format!(
            "  admin CLI    scholactl --config {} user list\n",
            self.config.display()
        ));
        if let Some(url) = started.urls.first() {
            t.push_str(&format!(
                "  capacity     {url}admin/capacity (is this machine big enough for the school?)\n"
            ));
            t.push_str(&format!(
                "  import       {url}admin/import, or drop a CSV export into {}\n",
                self.drop_dir.display()
            ));
            t.push_str(&format!(
                "  files        {url}files, or WebDAV {url}dav/ (a person's login and password)\n"
            ));
            t.push_str(
                "  SMB          off in the demo (apt install samba libnss-extrausers, then schola-files samba-sync as root)\n",
            );
        }
        match &self.mail {
            MailState::On(p) => {
                t.push_str(&format!(
                    "  mail         on 127.0.0.1: IMAP {} (STARTTLS), submission {} (STARTTLS), SMTP {} (mail from outside)\n",
                    p.imap, p.submission, p.smtp
                ));
                if let Some(url) = started.urls.first() {
                    t.push_str(&format!("  webmail      {url}mail\n"));
                }
            }
            MailState::Off(why) => t.push_str(&format!("  mail         off: {why}\n")),
        }
        t.push('\n');
        t.push_str("Ctrl-C stops; run the same command again to continue with the same data.\n");
        t
    }
}
