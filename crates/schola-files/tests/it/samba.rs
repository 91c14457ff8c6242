//! SMB against Debian's real Samba: `samba::sync` provisions accounts (libnss-extrausers in the
//! real /var/lib/extrausers), the passdb and the shares; an smbd started here on a loopback port
//! with a private smb.conf is then used with `smbclient`.
//!
//! Runs as root. Serialised across processes with a file lock, since it changes
//! /var/lib/extrausers (only lines in its own uid range, 3,000,000..5,000,000, removed at the
//! end) and, on a fresh machine, adds `extrausers` to /etc/nsswitch.conf.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::config::{Argon2Config, Samba};
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role, School};
use schola_core::login::LoginScheme;
use schola_core::password::hash_password_for;
use schola_core::{Config, Store};
use schola_files::samba;

const UID_BASE: u32 = 3_000_000;
const EXTRAUSERS: &str = "/var/lib/extrausers";
const FAST: Argon2Config = Argon2Config {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

const ANNA_PW: &str = "Anna-Kreide-71";
const BEN_PW: &str = "Ben-Tafel-82";
const TOM_PW: &str = "Tom-Lehrer-93";
const OLGA_PW: &str = "Olga-Heft-04";

/// Holds the lock, smbd and the temp dir; cleans up whatever happens.
struct Harness {
    _lock: nix::fcntl::Flock<std::fs::File>,
    dir: tempfile::TempDir,
    port: u16,
    smbd: Option<Child>,
}

impl Harness {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn stop_smbd(&mut self) {
        if let Some(mut child) = self.smbd.take() {
            // smbd first, so it stops and reaps its own helpers (PID 1 here reaps nothing);
            // then anything left in its process group (it was started as the group's leader)
            signal(&child.id().to_string());
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            signal(&format!("-{}", child.id()));
            let _ = child.kill();
            let _ = child.wait();
        }
        // samba-dcerpcd may have left the group: its pid file is in our private pid dir
        if let Ok(pid) = std::fs::read_to_string(self.path("pid/samba-dcerpcd.pid"))
            && let Ok(pid) = pid.trim().parse::<i32>()
        {
            signal(&pid.to_string());
        }
    }
}

/// SIGTERM to a pid, or to a process group given as `-PGID` (procps `kill`).
fn signal(target: &str) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", target])
        .stderr(Stdio::null())
        .status();
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop_smbd();
        for f in ["passwd", "group"] {
            let p = Path::new(EXTRAUSERS).join(f);
            if let Ok(text) = std::fs::read_to_string(&p) {
                let kept: String = text
                    .lines()
                    .filter(|l| {
                        !l.split(':')
                            .nth(2)
                            .and_then(|id| id.parse::<u32>().ok())
                            .is_some_and(|id| (UID_BASE..UID_BASE + 2_000_000).contains(&id))
                    })
                    .map(|l| format!("{l}\n"))
                    .collect();
                let _ = std::fs::write(&p, kept);
            }
        }
    }
}

/// Adds `extrausers` to the passwd and group lines of /etc/nsswitch.conf if missing.
fn ensure_nsswitch() {
    let path = Path::new("/etc/nsswitch.conf");
    let text = std::fs::read_to_string(path).expect("cannot read /etc/nsswitch.conf");
    let mut changed = false;
    let out: String = text
        .lines()
        .map(|l| {
            let key = l.split(':').next().unwrap_or("").trim();
            if (key == "passwd" || key == "group")
                && !l.split_whitespace().any(|w| w == "extrausers")
            {
                changed = true;
                format!("{l} extrausers\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(
        out.lines()
            .any(|l| l.starts_with("passwd:") && l.contains("extrausers")),
        "/etc/nsswitch.conf has no passwd line"
    );
    if changed {
        std::fs::write(path, out).expect("cannot update /etc/nsswitch.conf");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn setup() -> Harness {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the Samba test provisions system accounts and runs smbd: run it as root"
    );
    for tool in ["smbd", "pdbedit", "smbcontrol", "smbclient"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()))
            .unwrap_or(false);
        assert!(
            found,
            "{tool} is missing: install the Debian packages samba and smbclient"
        );
    }
    assert!(
        Path::new("/usr/lib/libnss_extrausers.so.2").exists()
            || Path::new("/usr/lib/x86_64-linux-gnu/libnss_extrausers.so.2").exists()
            || Path::new("/lib/x86_64-linux-gnu/libnss_extrausers.so.2").exists(),
        "libnss_extrausers.so.2 is missing: install the Debian package libnss-extrausers"
    );
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/schola-files-samba-test.lock")
        .unwrap();
    let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    ensure_nsswitch();
    std::fs::create_dir_all(EXTRAUSERS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    Harness {
        _lock: lock,
        dir,
        port: free_port(),
        smbd: None,
    }
}

fn config(h: &Harness) -> Config {
    let mut cfg = Config::default();
    cfg.paths.state_dir = h.path("state");
    cfg.paths.data_dir = h.path("data");
    cfg.files.samba = Some(Samba {
        enabled: true,
        smb_conf: h.path("smb.conf"),
        include_file: h.path("shares.conf"),
        extrausers_dir: EXTRAUSERS.into(),
        uid_base: UID_BASE,
        reload: true,
    });
    cfg
}

fn write_smb_conf(h: &Harness) {
    let t = h.dir.path().display();
    for d in ["private", "lock", "state-smb", "cache", "pid", "ncalrpc"] {
        std::fs::create_dir_all(h.path(d)).unwrap();
    }
    let conf = format!(
        "[global]
   workgroup = SCHOLA
   netbios name = SCHOLATEST
   server role = standalone server
   interfaces = 127.0.0.1
   bind interfaces only = yes
   disable netbios = yes
   smb ports = {port}
   server min protocol = SMB2
   private dir = {t}/private
   lock directory = {t}/lock
   state directory = {t}/state-smb
   cache directory = {t}/cache
   pid directory = {t}/pid
   ncalrpc dir = {t}/ncalrpc
   passdb backend = tdbsam:{t}/private/passdb.tdb
   map to guest = never
   restrict anonymous = 2
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   log level = 1
   # Debian's smb.conf says so; the generated shares must work with it
   obey pam restrictions = yes
   include = {t}/shares.conf
",
        port = h.port
    );
    std::fs::write(h.path("smb.conf"), conf).unwrap();
    std::fs::write(
        h.path("client.conf"),
        "[global]\n   client min protocol = SMB2\n",
    )
    .unwrap();
}

fn start_smbd(h: &mut Harness) {
    let log = std::fs::File::create(h.path("smbd.log")).unwrap();
    let child = Command::new("smbd")
        .arg("-s")
        .arg(h.path("smb.conf"))
        .args(["--foreground", "--no-process-group", "--debug-stdout"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("cannot start smbd (package samba)");
    h.smbd = Some(child);
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", h.port)).is_err() {
        if t.elapsed() > Duration::from_secs(20) {
            panic!(
                "smbd did not listen on port {} within 20 s:\n{}",
                h.port,
                std::fs::read_to_string(h.path("smbd.log")).unwrap_or_default()
            );
        }
        if let Some(Ok(Some(status))) = h.smbd.as_mut().map(Child::try_wait) {
            panic!(
                "smbd exited ({status}):\n{}",
                std::fs::read_to_string(h.path("smbd.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs smbclient commands; Ok(output) when the connection and every command succeeded.
fn smb(
    h: &Harness,
    share: &str,
    login: &str,
    password: &str,
    cmds: &str,
) -> Result<String, String> {
    let out = Command::new("smbclient")
        .arg(format!("//127.0.0.1/{share}"))
        .args(["-p", &h.port.to_string(), "-m", "SMB3", "-s"])
        .arg(h.path("client.conf"))
        .args(["-U", &format!("{login}%{password}"), "-c", cmds])
        .current_dir(h.path("local"))
        .stdin(Stdio::null())
        .output()
        .expect("cannot run smbclient (package smbclient)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && !text.contains("NT_STATUS_") {
        Ok(text)
    } else {
        Err(text)
    }
}

fn denied(r: Result<String, String>, what: &str) {
    match r {
        Ok(out) => panic!("{what} was allowed:\n{out}"),
        Err(out) => assert!(
            out.contains("NT_STATUS_ACCESS_DENIED")
                || out.contains("NT_STATUS_LOGON_FAILURE")
                || out.contains("NT_STATUS_BAD_NETWORK_NAME")
                || out.contains("NT_STATUS_MEDIA_WRITE_PROTECTED"),
            "{what}: refused, but not for lack of access:\n{out}"
        ),
    }
}

#[test]
fn smb_homes_class_share_passwords_and_disabled_people() {
    let mut h = setup();
    let cfg = config(&h);
    let actor = Actor::system("test");
    std::fs::create_dir_all(&cfg.paths.state_dir).unwrap();
    std::fs::create_dir_all(h.path("local")).unwrap();
    // the data root belongs to an unprivileged account, as /srv/schola belongs to `schola`
    let daemon = nix::unistd::User::from_name("daemon").unwrap().unwrap();
    let data = cfg.paths.data_dir.clone();
    std::fs::create_dir_all(&data).unwrap();
    nix::unistd::chown(&data, Some(daemon.uid), Some(daemon.gid)).unwrap();

    let (store, _) = Store::open(&cfg.database_path()).unwrap();
    let scheme = LoginScheme::default();
    let new = |login: &str, role: Role, pw: &str| NewPerson {
        login: Some(login.into()),
        given_name: "Test".into(),
        family_name: login.into(),
        role: Some(role),
        password_hash: Some(hash_password_for(FAST, pw).unwrap()),
        ..Default::default()
    };
    store
        .setup_school(
            &actor,
            &School {
                name: "SMB School".into(),
                mail_domain: "smb.example".into(),
                default_language: None,
            },
            new("smbt.admin", Role::Admin, "Admin-Passwort-1"),
            &scheme,
        )
        .unwrap();
    let anna = store
        .create_person(&actor, new("smbt.anna", Role::Student, ANNA_PW), &scheme)
        .unwrap();
    store
        .create_person(&actor, new("smbt.ben", Role::Student, BEN_PW), &scheme)
        .unwrap();
    store
        .create_person(&actor, new("smbt.tom", Role::Teacher, TOM_PW), &scheme)
        .unwrap();
    // a password set before SMB support: argon2id only, no NT hash yet
    let olga = store
        .create_person(&actor, new("smbt.olga", Role::Student, OLGA_PW), &scheme)
        .unwrap();
    store
        .conn()
        .unwrap()
        .execute("DELETE FROM smb_secrets WHERE person_id = ?1", [olga.id])
        .unwrap();
    store
        .create_group(
            &actor,
            NewGroup {
                name: "5a".into(),
                display_name: None,
                kind: GroupKind::Class,
                external_id: None,
            },
        )
        .unwrap();
    for login in ["smbt.anna", "smbt.ben", "smbt.tom"] {
        store
            .add_member(&actor, "5a", login, MemberRole::Member)
            .unwrap();
    }

    write_smb_conf(&h);
    let t = Instant::now();
    let report = samba::sync(&cfg, &store).unwrap();
    eprintln!("first sync: {:?} in {:?}", report, t.elapsed());
    assert_eq!(report.people, 5);
    assert_eq!(report.passdb_added, 5);
    assert_eq!(report.without_smb_password, 1, "olga");
    assert_eq!(report.shares, 3, "homes, 5a, exchange");
    assert!(report.changed);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("smbd is not running")),
        "{report:?}"
    );
    // NSS resolves the people from extrausers, not /etc/passwd
    let u = nix::unistd::User::from_name("smbt.anna").unwrap().unwrap();
    assert_eq!(u.uid.as_raw(), UID_BASE + anna.id as u32);
    assert_eq!(u.gid.as_raw(), UID_BASE);
    assert!(
        !std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .contains("smbt.")
    );
    let g = nix::unistd::Group::from_name("schola-class-5a")
        .unwrap()
        .unwrap();
    assert_eq!(g.mem, ["smbt.anna", "smbt.ben", "smbt.tom"]);

    let again = samba::sync(&cfg, &store).unwrap();
    assert!(!again.changed, "a second sync changes nothing: {again:?}");
    assert_eq!(
        (
            again.passdb_added,
            again.passdb_updated,
            again.passdb_removed,
            again.files_written
        ),
        (0, 0, 0, 0)
    );

    start_smbd(&mut h);
    std::fs::write(h.path("local/hello.txt"), "Hallo aus der 5a\n").unwrap();

    // a student lists, puts and gets in their home, by name and through [homes]
    smb(&h, "smbt.anna", "smbt.anna", ANNA_PW, "ls").unwrap();
    smb(&h, "homes", "smbt.anna", ANNA_PW, "put hello.txt hello.txt").unwrap();
    let out = smb(
        &h,
        "smbt.anna",
        "smbt.anna",
        ANNA_PW,
        "get hello.txt back.txt; ls",
    )
    .unwrap();
    assert!(out.contains("hello.txt"), "{out}");
    assert_eq!(
        std::fs::read_to_string(h.path("local/back.txt")).unwrap(),
        "Hallo aus der 5a\n"
    );
    let on_disk = data.join("home/smbt.anna/hello.txt");
    let meta = std::fs::metadata(&on_disk).unwrap();
    assert_eq!(
        meta.uid(),
        daemon.uid.as_raw(),
        "written as the forced user"
    );
    assert_eq!(meta.mode() & 0o777, 0o640);

    // not another student's home, not writing the class share, not the staff exchange
    denied(
        smb(&h, "smbt.ben", "smbt.anna", ANNA_PW, "ls"),
        "anna listing ben's home",
    );
    smb(&h, "5a", "smbt.anna", ANNA_PW, "ls").unwrap();
    denied(
        smb(&h, "5a", "smbt.anna", ANNA_PW, "put hello.txt anna.txt"),
        "anna writing the class share",
    );
    assert!(!data.join("groups/5a/anna.txt").exists());
    denied(
        smb(&h, "exchange", "smbt.anna", ANNA_PW, "ls"),
        "a student in the exchange",
    );
    // the teacher writes the class share and the exchange
    smb(
        &h,
        "5a",
        "smbt.tom",
        TOM_PW,
        "put hello.txt arbeitsblatt.txt",
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(data.join("groups/5a/arbeitsblatt.txt"))
            .unwrap()
            .uid(),
        daemon.uid.as_raw()
    );
    smb(&h, "exchange", "smbt.tom", TOM_PW, "put hello.txt plan.txt").unwrap();
    let out = smb(&h, "5a", "smbt.ben", BEN_PW, "ls").unwrap();
    assert!(out.contains("arbeitsblatt.txt"), "{out}");

    // no NT hash yet: refused until the portal sign-in stores it (and the next sync)
    denied(
        smb(&h, "smbt.olga", "smbt.olga", OLGA_PW, "ls"),
        "a password from before SMB support",
    );
    assert!(store.ensure_smb_secret(olga.id, OLGA_PW).unwrap());
    let r = samba::sync(&cfg, &store).unwrap();
    assert_eq!((r.passdb_updated, r.without_smb_password), (1, 0), "{r:?}");
    smb(&h, "smbt.olga", "smbt.olga", OLGA_PW, "ls").unwrap();

    // a wrong password
    denied(
        smb(&h, "smbt.anna", "smbt.anna", "Falsch-123", "ls"),
        "a wrong password",
    );

    // a new password through the core: the new one works, the old one does not
    store
        .set_password_hash(
            &actor,
            anna.id,
            &hash_password_for(FAST, "Neues-Passwort-44").unwrap(),
        )
        .unwrap();
    let r = samba::sync(&cfg, &store).unwrap();
    assert_eq!((r.passdb_updated, r.passdb_added), (1, 0), "{r:?}");
    assert!(r.reloaded, "{r:?}");
    smb(&h, "smbt.anna", "smbt.anna", "Neues-Passwort-44", "ls").unwrap();
    denied(
        smb(&h, "smbt.anna", "smbt.anna", ANNA_PW, "ls"),
        "the old password",
    );

    // a disabled person is refused
    store.disable_person(&actor, "smbt.ben", 30).unwrap();
    let r = samba::sync(&cfg, &store).unwrap();
    assert_eq!(r.passdb_removed, 1, "{r:?}");
    assert_eq!(r.people, 4);
    denied(
        smb(&h, "smbt.ben", "smbt.ben", BEN_PW, "ls"),
        "a disabled person",
    );
    denied(smb(&h, "5a", "smbt.ben", BEN_PW, "ls"), "a disabled person");
    assert!(nix::unistd::User::from_name("smbt.ben").unwrap().is_none());
    let shares = std::fs::read_to_string(h.path("shares.conf")).unwrap();
    assert!(!shares.contains("smbt.ben"), "{shares}");
    // the others still get in
    smb(&h, "5a", "smbt.tom", TOM_PW, "ls").unwrap();

    h.stop_smbd();
    let _ = std::io::stderr().flush();
}
