//! The one integration-test binary of schola-backup: a school in a temporary directory (a store
//! with people, files with a 20 MiB video, a Maildir) backed up with the real restic from
//! Debian, changed, and restored, compared byte for byte — one file, one folder, one mailbox,
//! and the whole school onto a fresh machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::io::{Read as _, Write as _};

use rand::RngCore as _;
use schola_backup::{Error, Layout, Restic, Retention, ServerOptions, Target};
use schola_core::audit::Actor;
use schola_core::directory::NewPerson;
use schola_core::login::LoginScheme;
use schola_core::{Config, Store};

const MIB: usize = 1024 * 1024;

const CONFIG: &str = "profile = \"dev\"\n[mail]\nvmail_dir = \"vmail\"\n\
                      [auth.argon2]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n";

struct School {
    dir: tempfile::TempDir,
    cfg: Config,
    store: Store,
    layout: Layout,
    anna_id: i64,
}

impl School {
    fn new() -> School {
        require_restic();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = root.join("schola.toml");
        std::fs::write(&config, format!("# the school's own settings\n{CONFIG}")).unwrap();
        let cfg = Config::load(&config).unwrap();
        let (store, _) = Store::open(&cfg.database_path()).unwrap();
        let scheme = LoginScheme::parse(&cfg.directory.login_scheme).unwrap();
        let mut ids = Vec::new();
        for (login, given, family) in [
            ("anna.mueller", "Anna", "Müller"),
            ("ben.schulz", "Ben", "Schulz"),
        ] {
            let p = store
                .create_person(
                    &Actor::system("test"),
                    NewPerson {
                        login: Some(login.into()),
                        given_name: given.into(),
                        family_name: family.into(),
                        ..Default::default()
                    },
                    &scheme,
                )
                .unwrap();
            ids.push(p.id);
        }
        let state = &cfg.paths.state_dir;
        write(
            &state.join("tls/cert.pem"),
            b"-----BEGIN CERTIFICATE-----\n",
        );
        write(&state.join("tls/key.pem"), b"-----BEGIN PRIVATE KEY-----\n");
        write(&state.join("mail-webmail.secret"), b"s3cret\n");
        let home = cfg.paths.data_dir.join("home/anna.mueller");
        write(&home.join("Videos/school-play.mp4"), &random(20 * MIB));
        for i in 0..40 {
            write(
                &home.join(format!("Documents/essay-{i:02}.txt")),
                format!(
                    "Essay {i}\n{}",
                    "Lorem ipsum dolor sit amet. ".repeat(40 * i)
                )
                .as_bytes(),
            );
        }
        write(
            &cfg.paths.data_dir.join("groups/5a/worksheet.odt"),
            &random(64 * 1024),
        );
        let mut layout = Layout::of(&cfg);
        layout.samba_passdb = root.join("no-samba/passdb.tdb");
        for (i, id) in ids.iter().enumerate() {
            let maildir = layout.mailbox(*id).join("Maildir");
            for sub in ["new", "tmp"] {
                std::fs::create_dir_all(maildir.join(sub)).unwrap();
            }
            for n in 0..5 {
                write(
                    &maildir.join(format!("cur/17000000{n}.M{i}P1.schola:2,S")),
                    format!("From: teacher@schule.example\nSubject: Homework {n}\n\nPage {n}\n")
                        .as_bytes(),
                );
            }
        }
        write(&root.join("backup.pass"), b"correct horse battery staple\n");
        write(&root.join("wrong.pass"), b"not the passphrase\n");
        School {
            anna_id: ids[0],
            dir,
            cfg,
            store,
            layout,
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn restic_with(&self, repo: &Path, password_file: &str) -> Restic {
        Restic::new(Target {
            repo: repo.to_string_lossy().into_owned(),
            password_file: self.root().join(password_file),
        })
        .with_cache_dir(self.root().join("cache"))
    }

    /// The repository on the "USB disk" `<root>/usb`.
    fn restic(&self) -> Restic {
        std::fs::create_dir_all(self.root().join("usb")).unwrap();
        self.restic_with(&self.root().join("usb/schola"), "backup.pass")
    }

    fn home(&self) -> PathBuf {
        self.cfg.paths.data_dir.join("home/anna.mueller")
    }

    /// Gives a person a password (with the configured argon2 parameters, as schola-web does).
    fn set_password(&self, login: &str, password: &str) {
        let person = self.store.person_by_login(login).unwrap().unwrap();
        let hash =
            schola_core::password::hash_password_for(self.cfg.auth.argon2, password).unwrap();
        self.store
            .set_password_hash(&Actor::system("test"), person.id, &hash)
            .unwrap();
    }
}

/// Writes `size` random bytes to `path` a MiB at a time; returns their SHA-256.
fn write_random_file(path: &Path, size: usize) -> Vec<u8> {
    use sha2::Digest as _;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hasher = sha2::Sha256::new();
    let mut chunk = vec![0u8; MIB];
    for _ in 0..size / MIB {
        rand::rng().fill_bytes(&mut chunk);
        hasher.update(&chunk);
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    hasher.finalize().to_vec()
}

/// The SHA-256 of a file, read a MiB at a time.
fn sha256(path: &Path) -> Vec<u8> {
    use sha2::Digest as _;
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = sha2::Sha256::new();
    let mut chunk = vec![0u8; MIB];
    loop {
        let n = file.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&chunk[..n]);
    }
    hasher.finalize().to_vec()
}

fn require_restic() {
    let found = std::process::Command::new("restic")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "these tests need restic, the backup program: apt-get install restic \
         (scripts/install-test-deps installs it)"
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    v
}

/// Every file below `dir`, relative, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn back_up_change_one_percent_and_restore_file_folder_and_mailbox() {
    let s = School::new();
    let restic = s.restic();
    restic.init().unwrap();
    let e = restic.init().unwrap_err();
    assert!(matches!(e, Error::RepoExists { .. }), "{e}");
    assert!(e.to_string().contains("already holds a backup"), "{e}");

    let first = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();
    assert!(
        first.notes.iter().any(|n| n.contains("Samba")),
        "{:?}",
        first.notes
    );
    assert!(
        !s.layout.staged_database().exists(),
        "the database copy is removed after the run"
    );

    // change 1 % of the data: 200 KiB in the middle of the 20 MiB video, one new essay
    let video = s.home().join("Videos/school-play.mp4");
    let mut bytes = std::fs::read(&video).unwrap();
    bytes[10 * MIB..10 * MIB + 200 * 1024].copy_from_slice(&random(200 * 1024));
    std::fs::write(&video, &bytes).unwrap();
    write(
        &s.home().join("Documents/new.txt"),
        b"written after the first backup\n",
    );
    let second = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();
    println!(
        "first backup: {} bytes added of {} processed, {} files new, {:.2} s",
        first.summary.data_added,
        first.summary.total_bytes_processed,
        first.summary.files_new,
        first.duration_secs
    );
    println!(
        "after changing 1 %: {} bytes added ({:.1} % of the first) of {} processed, {} new, {} changed, {:.2} s",
        second.summary.data_added,
        100.0 * second.summary.data_added as f64 / first.summary.data_added as f64,
        second.summary.total_bytes_processed,
        second.summary.files_new,
        second.summary.files_changed,
        second.duration_secs
    );
    assert!(first.summary.data_added > 20 * MIB as u64);
    // restic cuts files into content-defined chunks of about 1 MiB (512 KiB to 8 MiB), so a
    // change inside a file costs the chunks it touches: 200 KiB changed here write one or two
    // chunks, not the 20 MiB video again
    assert!(
        second.summary.data_added < first.summary.data_added / 4,
        "the second run added {} bytes, the first {}",
        second.summary.data_added,
        first.summary.data_added
    );
    assert_eq!(second.summary.files_new, 1);
    assert!(second.summary.files_changed >= 1);
    let snaps = restic.snapshots().unwrap();
    assert_eq!(snaps.len(), 2);
    assert!(snaps[1].tags.iter().any(|t| t == "schola"), "{snaps:?}");

    // the state as backed up the second time, then damage it
    let docs = s.home().join("Documents");
    let docs_then = tree(&docs);
    let mailbox = s.layout.mailbox(s.anna_id);
    let mail_then = tree(&mailbox);
    std::fs::write(&video, b"overwritten by mistake").unwrap();
    std::fs::remove_dir_all(&docs).unwrap();
    let cur = mailbox.join("Maildir/cur");
    let first_mail = std::fs::read_dir(&cur)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&first_mail).unwrap();
    std::fs::write(
        cur.join("arrived-later:2,"),
        b"a mail that came after the backup\n",
    )
    .unwrap();

    // one file, into a separate folder
    let out = s.root().join("restored");
    let landed = schola_backup::restore_path(&restic, "latest", &video, &out).unwrap();
    assert_eq!(
        std::fs::read(&landed).unwrap(),
        bytes,
        "the video, byte for byte"
    );
    // one folder, from the snapshot named by its id
    let landed = schola_backup::restore_path(&restic, &snaps[1].short_id, &docs, &out).unwrap();
    assert_eq!(tree(&landed), docs_then);
    // the first snapshot has the video as it was before the change
    let old = s.root().join("restored-old");
    let landed = schola_backup::restore_path(&restic, &snaps[0].id, &video, &old).unwrap();
    assert_ne!(std::fs::read(&landed).unwrap(), bytes);
    assert_eq!(std::fs::read(&landed).unwrap().len(), 20 * MIB);
    // a path that was never backed up
    let e =
        schola_backup::restore_path(&restic, "latest", &s.home().join("nope"), &out).unwrap_err();
    assert!(matches!(e, Error::NotInSnapshot { .. }), "{e}");

    // one mailbox into place: the deleted mail is back, the later one stays
    let landed = schola_backup::restore_mailbox(
        &restic,
        &s.store,
        &s.layout,
        "anna.mueller",
        "latest",
        None,
    )
    .unwrap();
    assert_eq!(landed, mailbox);
    let mut mail_now = tree(&mailbox);
    let later = mail_now
        .iter()
        .position(|(p, _)| p.ends_with("arrived-later:2,"))
        .unwrap();
    mail_now.remove(later);
    assert_eq!(mail_now, mail_then);
    let e = schola_backup::restore_mailbox(&restic, &s.store, &s.layout, "nobody", "latest", None)
        .unwrap_err();
    assert_eq!(e.to_string(), "no person has the login 'nobody'");

    // the database copy in the backup opens and holds the people
    let db =
        schola_backup::restore_path(&restic, "latest", &s.layout.staged_database(), &out).unwrap();
    let restored = Store::open_current(&db, Arc::new(schola_core::SystemClock)).unwrap();
    assert!(restored.person_by_login("ben.schulz").unwrap().is_some());
    // and so do the configuration, the certificate and the secret
    for p in [
        s.cfg.source.clone().unwrap(),
        s.cfg.paths.state_dir.join("tls/key.pem"),
        s.cfg.mail_webmail_secret(),
    ] {
        let landed = schola_backup::restore_path(&restic, "latest", &p, &out).unwrap();
        assert_eq!(std::fs::read(landed).unwrap(), std::fs::read(&p).unwrap());
    }
    // but not the live database, whose copy stands in for it
    let e =
        schola_backup::restore_path(&restic, "latest", &s.cfg.database_path(), &out).unwrap_err();
    assert!(matches!(e, Error::NotInSnapshot { .. }), "{e}");

    // two snapshots on one day: "the last of each day" keeps the newer one
    let f = restic.forget(Retention::default()).unwrap();
    assert_eq!((f.kept, f.removed), (1, 1));
    assert_eq!(restic.snapshots().unwrap()[0].id, snaps[1].id);
    restic.check().unwrap();
}

#[test]
fn wrong_password_missing_disk_and_missing_restic_are_named() {
    let s = School::new();
    let restic = s.restic();
    restic.init().unwrap();
    let repo = s.root().join("usb/schola");
    let wrong = s.restic_with(&repo, "wrong.pass");
    let e = wrong.snapshots().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("the backup password is wrong for {}", repo.display())
    );
    let e = schola_backup::back_up(&wrong, &s.store, &s.layout).unwrap_err();
    assert!(matches!(e, Error::WrongPassword { .. }), "{e}");

    let unplugged = s.restic_with(&s.root().join("media/usb-disk/schola"), "backup.pass");
    let e = schola_backup::back_up(&unplugged, &s.store, &s.layout).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the backup target {} is not there: is the USB disk plugged in, or the NAS share mounted?",
            s.root().join("media").display()
        )
    );
    let e = unplugged.init().unwrap_err();
    assert!(matches!(e, Error::TargetMissing { .. }), "{e}");

    let e = s
        .restic_with(&repo, "no-such.pass")
        .snapshots()
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot read the backup password file"),
        "{e}"
    );

    let e = restic
        .clone()
        .with_binary("/nonexistent/restic")
        .snapshots()
        .unwrap_err();
    assert!(e.to_string().contains("apt-get install restic"), "{e}");
}

#[test]
fn killed_backup_leaves_earlier_snapshots_usable_and_the_next_run_completes() {
    let s = School::new();
    let restic = s.restic();
    restic.init().unwrap();
    let first = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();

    // enough new data that restic is still writing when it is killed
    let big = s.cfg.paths.data_dir.join("groups/film-club/raw.mov");
    let big_bytes = random(128 * MIB);
    write(&big, &big_bytes);
    let data = s.root().join("usb/schola/data");
    let packs = |d: &Path| -> usize {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| std::fs::read_dir(e.unwrap().path()).unwrap().count())
            .sum()
    };
    let before = packs(&data);
    let (running, _) = schola_backup::start(&restic, &s.store, &s.layout).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while packs(&data) < before + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(running.pid() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let e = running.wait().unwrap_err();
    assert!(matches!(e, Error::Killed), "{e}");
    assert!(
        e.to_string().contains("earlier backups are unharmed"),
        "{e}"
    );
    let locks = std::fs::read_dir(s.root().join("usb/schola/locks"))
        .unwrap()
        .count();
    println!(
        "killed midway: {} packs written, {locks} stale lock(s) left",
        packs(&data) - before
    );
    assert_eq!(locks, 1, "the killed run leaves its lock behind");

    // the earlier snapshot is intact, and check (which needs the repository to itself) passes
    let snaps = restic.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].short_id, first.summary.snapshot_id);
    restic.check().unwrap();

    // the next run completes; what the killed run had written is reused
    let next = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();
    println!(
        "next run: {} bytes added, {:.2} s",
        next.summary.data_added, next.duration_secs
    );
    assert_eq!(restic.snapshots().unwrap().len(), 2);
    restic.check().unwrap();
    let out = s.root().join("restored");
    let landed = schola_backup::restore_path(&restic, "latest", &big, &out).unwrap();
    assert!(std::fs::read(&landed).unwrap() == big_bytes);
    let video = s.home().join("Videos/school-play.mp4");
    let landed = schola_backup::restore_path(&restic, &snaps[0].id, &video, &out).unwrap();
    assert!(std::fs::read(&landed).unwrap() == std::fs::read(&video).unwrap());
}

/// An sshd of our own on loopback (Debian's openssh-server), taking sign-ins with the keys in
/// `<dir>/authorized_keys` only; stopped when dropped.
struct Sshd {
    child: std::process::Child,
    port: u16,
}

impl Sshd {
    fn start(dir: &Path, host_key: &Path) -> Sshd {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Sshd::start_on(dir, host_key, port)
    }

    fn start_on(dir: &Path, host_key: &Path, port: u16) -> Sshd {
        assert!(
            Path::new("/usr/sbin/sshd").exists(),
            "this test needs sshd: apt-get install openssh-server (scripts/install-test-deps installs it)"
        );
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test runs its own sshd, which needs root"
        );
        // sshd's privilege-separation directory, which the ssh service would make
        std::fs::create_dir_all("/run/sshd").unwrap();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n",
                host_key.display(),
                dir.join("sshd.pid").display(),
                dir.join("authorized_keys").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd { child, port }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn host_key(path: &Path) {
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// An SFTP target: Schola signs in with its own key (made on first use), the server's host key
/// is pinned on first use, and a server that then shows another key is refused.
#[test]
fn an_sftp_server_takes_the_backup_with_scholas_own_key() {
    use schola_backup::ssh::Ssh;
    let s = School::new();
    let server = s.root().join("sftp-server");
    std::fs::create_dir_all(server.join("srv")).unwrap();
    let ssh = Ssh::in_dir(&s.root().join("backup-status"));
    let public = ssh.ensure_key().unwrap();
    std::fs::write(server.join("authorized_keys"), format!("{public}\n")).unwrap();
    host_key(&server.join("host_a"));
    let sshd = Sshd::start(&server, &server.join("host_a"));
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap()
        .name;
    let repo = format!(
        "sftp://{user}@127.0.0.1:{}/{}",
        sshd.port,
        server.join("srv/schola").display()
    );
    let restic = Restic::new(Target {
        repo: repo.clone(),
        password_file: s.root().join("backup.pass"),
    })
    .with_ssh(ssh.clone());
    restic.init().unwrap();
    assert!(
        server.join("srv/schola/config").is_file(),
        "the repository is on the server"
    );
    let report = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();
    assert!(report.summary.data_added > 20 * MIB as u64, "{report:?}");
    let video = s.home().join("Videos/school-play.mp4");
    let out = s.root().join("from-sftp");
    let landed = schola_backup::restore_path(&restic, "latest", &video, &out).unwrap();
    assert_eq!(
        std::fs::read(&landed).unwrap(),
        std::fs::read(&video).unwrap()
    );
    let pinned = std::fs::read_to_string(&ssh.known_hosts).unwrap();
    assert!(pinned.contains("ssh-ed25519"), "{pinned}");

    // a key the server does not know: named, with where the public key is
    let stranger = Ssh::in_dir(&s.root().join("another-server"));
    stranger.ensure_key().unwrap();
    let e = Restic::new(Target {
        repo: repo.clone(),
        password_file: s.root().join("backup.pass"),
    })
    .with_ssh(stranger)
    .snapshots()
    .unwrap_err();
    assert!(matches!(e, Error::KeyRefused { .. }), "{e}");

    // the same address with another host key (a man in the middle, or a reinstalled server):
    // refused, nothing written there
    let port = sshd.port;
    drop(sshd);
    host_key(&server.join("host_b"));
    let _other = Sshd::start_on(&server, &server.join("host_b"), port);
    let e = restic.snapshots().unwrap_err();
    assert!(matches!(e, Error::HostKeyChanged { .. }), "{e}");
    assert!(e.to_string().contains("shows another host key"), "{e}");
    assert_eq!(std::fs::read_to_string(&ssh.known_hosts).unwrap(), pinned);
}

#[test]
fn a_200_mib_video_a_folder_and_a_mailbox_come_back_byte_for_byte() {
    let s = School::new();
    let video = s
        .cfg
        .paths
        .data_dir
        .join("home/ben.schulz/Videos/projektwoche.mp4");
    let started = Instant::now();
    let video_hash = write_random_file(&video, 200 * MIB);
    println!(
        "wrote the 200 MiB video in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let restic = s.restic();
    restic.init().unwrap();
    let report = schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();
    println!(
        "backup of {} bytes in {:.1} s",
        report.summary.total_bytes_processed, report.duration_secs
    );
    assert!(report.summary.total_bytes_processed > 200 * MIB as u64);

    // the state as backed up, then lose a file, a folder and mails
    let docs = s.home().join("Documents");
    let docs_then = tree(&docs);
    let ben = s.store.person_by_login("ben.schulz").unwrap().unwrap();
    let mailbox = s.layout.mailbox(ben.id);
    let mail_then = tree(&mailbox);
    std::fs::remove_file(&video).unwrap();
    std::fs::remove_dir_all(&docs).unwrap();
    for e in std::fs::read_dir(mailbox.join("Maildir/cur")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    assert!(tree(&mailbox).is_empty());

    let started = Instant::now();
    let out = s.root().join("restored");
    let landed = schola_backup::restore_path(&restic, "latest", &video, &out).unwrap();
    println!(
        "restored the 200 MiB video in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(std::fs::metadata(&landed).unwrap().len(), 200 * MIB as u64);
    assert_eq!(sha256(&landed), video_hash, "the video, byte for byte");
    let landed = schola_backup::restore_path(&restic, "latest", &docs, &out).unwrap();
    assert_eq!(tree(&landed), docs_then);
    let landed =
        schola_backup::restore_mailbox(&restic, &s.store, &s.layout, "ben.schulz", "latest", None)
            .unwrap();
    assert_eq!(landed, mailbox);
    assert_eq!(tree(&mailbox), mail_then);
}

/// A machine that was just installed: its own dev-profile configuration, nothing else.
struct FreshMachine {
    dir: tempfile::TempDir,
    layout: Layout,
}

impl FreshMachine {
    fn new() -> FreshMachine {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("schola.toml");
        std::fs::write(&config, format!("# a fresh install\n{CONFIG}")).unwrap();
        let cfg = Config::load(&config).unwrap();
        std::fs::create_dir_all(&cfg.paths.state_dir).unwrap();
        std::fs::create_dir_all(dir.path().join("samba/private")).unwrap();
        let mut layout = Layout::of(&cfg);
        layout.samba_passdb = dir.path().join("samba/private/passdb.tdb");
        FreshMachine { dir, layout }
    }
}

#[test]
fn the_whole_school_comes_back_on_a_fresh_machine() {
    let mut s = School::new();
    s.set_password("anna.mueller", "Sonnenblume-42");
    s.set_password("ben.schulz", "Regenbogen-17");
    s.layout.samba_passdb = s.root().join("samba/private/passdb.tdb");
    write(&s.layout.samba_passdb, b"TDB file\0with NT hashes");
    write(
        &s.cfg.paths.state_dir.join("branding/logo.png"),
        &random(4096),
    );
    let restic = s.restic();
    restic.init().unwrap();
    schola_backup::back_up(&restic, &s.store, &s.layout).unwrap();

    let new = FreshMachine::new();
    let e =
        schola_backup::restore_server(&restic, "deadbeef", &new.layout, ServerOptions::default())
            .unwrap_err();
    assert!(matches!(e, Error::UnknownSnapshot { .. }), "{e}");
    assert!(!new.layout.state_dir.join("schola.db").exists());

    let started = Instant::now();
    let done =
        schola_backup::restore_server(&restic, "latest", &new.layout, ServerOptions::default())
            .unwrap();
    println!(
        "restored the whole school in {:.1} s: {done:?}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(done.people, 2);
    assert!(
        done.notes.iter().all(|n| !n.contains("cannot")),
        "{:?}",
        done.notes
    );
    for what in [
        "the files",
        "the mail",
        "the TLS certificate",
        "the school's logo",
        "the secrets",
        "the configuration",
        "Samba's passwords",
        "the database",
    ] {
        assert!(
            done.restored.iter().any(|p| p.what == what),
            "{what}: {done:?}"
        );
    }

    // the restored configuration is the old school's, and with the dev profile's relative paths
    // it names the new machine's places
    let new_config = new.layout.config_file.clone().unwrap();
    assert_eq!(
        std::fs::read(&new_config).unwrap(),
        std::fs::read(s.cfg.source.as_ref().unwrap()).unwrap()
    );
    let cfg = Config::load(&new_config).unwrap();
    assert_eq!(cfg.paths.state_dir, new.layout.state_dir);
    assert_eq!(cfg.paths.data_dir, new.layout.data_dir);
    assert_eq!(cfg.mail.vmail_dir, new.layout.vmail_dir);

    // the people sign in with their old passwords (the check schola-web does)
    let store =
        Store::open_current(&cfg.database_path(), Arc::new(schola_core::SystemClock)).unwrap();
    let (anna, hash) = store.credentials("anna.mueller").unwrap().unwrap();
    let hash = hash.unwrap();
    assert!(schola_core::password::verify_password(
        &hash,
        "Sonnenblume-42"
    ));
    assert!(!schola_core::password::verify_password(
        &hash,
        "Regenbogen-17"
    ));
    assert_eq!(anna.id, s.anna_id);

    // their files, their mail, the certificate, the secrets, the logo and Samba's passwords
    assert_eq!(tree(&new.layout.data_dir), tree(&s.cfg.paths.data_dir));
    assert_eq!(tree(&new.layout.vmail_dir), tree(&s.layout.vmail_dir));
    assert_eq!(
        tree(&new.layout.mailbox(anna.id).join("Maildir/cur")).len(),
        5
    );
    for rel in ["tls", "branding"] {
        assert_eq!(
            tree(&new.layout.state_dir.join(rel)),
            tree(&s.cfg.paths.state_dir.join(rel))
        );
    }
    assert_eq!(
        std::fs::read(cfg.mail_webmail_secret()).unwrap(),
        b"s3cret\n"
    );
    assert_eq!(
        std::fs::read(&new.layout.samba_passdb).unwrap(),
        std::fs::read(&s.layout.samba_passdb).unwrap()
    );
    // no staging folder is left
    for d in [
        new.layout.state_dir.join("restore-staging"),
        new.layout.data_dir.join(".schola-restore"),
        new.layout.vmail_dir.join(".schola-restore"),
    ] {
        assert!(!d.exists(), "{} is left", d.display());
    }

    // a second restore onto the school that is now there is refused, and changes nothing
    write(
        &new.layout.data_dir.join("home/anna.mueller/new.txt"),
        b"after\n",
    );
    let e = schola_backup::restore_server(&restic, "latest", &new.layout, ServerOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::TargetInUse { .. }), "{e}");
    assert!(e.to_string().contains("with 2 people"), "{e}");
    assert!(e.to_string().contains("--replace"), "{e}");
    assert!(
        new.layout
            .data_dir
            .join("home/anna.mueller/new.txt")
            .exists()
    );
    drop(store);
    // with --replace it is replaced; the database that was there is kept aside
    let done = schola_backup::restore_server(
        &restic,
        "latest",
        &new.layout,
        ServerOptions { replace: true },
    )
    .unwrap();
    assert!(
        !new.layout
            .data_dir
            .join("home/anna.mueller/new.txt")
            .exists()
    );
    assert!(
        new.layout
            .state_dir
            .join("schola.db.before-restore")
            .exists()
    );
    assert!(
        done.notes.iter().any(|n| n.contains("kept as")),
        "{:?}",
        done.notes
    );
    assert_eq!(tree(&new.layout.data_dir), tree(&s.cfg.paths.data_dir));
    let _ = new.dir.path();
}
