//! Test kit: a school (admin, class 4b with students anna.a and ben.b, teacher tina.t owning
//! 4b, teacher tom.t a plain member, class 5a with carl.c, the staff group kollegium, dora.d
//! with a 1 MiB quota, the disabled eve.e), the real `schola-files` binary on it, and a raw
//! HTTP/1.1 client over the Unix socket.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schola_core::audit::Actor;
use schola_core::directory::{GroupKind, MemberRole, NewGroup, NewPerson, Role, School};
use schola_core::login::LoginScheme;
use schola_core::{Config, Store};

pub struct Server {
    /// Kept so the school's files live as long as the server.
    pub _dir: tempfile::TempDir,
    pub data: PathBuf,
    /// The state directory (the database, the Samba request folder).
    pub state: PathBuf,
    pub socket: PathBuf,
    pub store: Store,
    pub ids: HashMap<String, i64>,
    pub log: Arc<Mutex<String>>,
    child: Child,
    tmpfs: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.tmpfs {
            let _ = Command::new("umount").arg(&self.data).status();
        }
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
}

fn populate(store: &Store) -> HashMap<String, i64> {
    let actor = Actor::system("test");
    let scheme = LoginScheme::default();
    store
        .setup_school(
            &actor,
            &School {
                name: "Testschule".into(),
                mail_domain: "schule.example".into(),
                default_language: None,
            },
            NewPerson {
                login: Some("admin".into()),
                given_name: "Ada".into(),
                family_name: "Admin".into(),
                role: Some(Role::Admin),
                ..Default::default()
            },
            &scheme,
        )
        .unwrap();
    store
        .batch(&actor, |b| {
            for (name, kind) in [
                ("4b", GroupKind::Class),
                ("5a", GroupKind::Class),
                ("kollegium", GroupKind::Staff),
            ] {
                b.create_group(&NewGroup {
                    name: name.into(),
                    display_name: None,
                    kind,
                    external_id: None,
                })?;
            }
            for (login, role, quota) in [
                ("anna.a", Role::Student, None),
                ("ben.b", Role::Student, None),
                ("carl.c", Role::Student, None),
                ("dora.d", Role::Student, Some(1)),
                ("eve.e", Role::Student, None),
                ("tina.t", Role::Teacher, None),
                ("tom.t", Role::Teacher, None),
            ] {
                let (given, family) = login.split_once('.').unwrap();
                b.create_person(
                    &NewPerson {
                        login: Some(login.into()),
                        given_name: given.into(),
                        family_name: family.into(),
                        role: Some(role),
                        quota_mb: quota,
                        ..Default::default()
                    },
                    &scheme,
                )?;
            }
            b.add_member("4b", "anna.a", MemberRole::Member)?;
            b.add_member("4b", "ben.b", MemberRole::Member)?;
            b.add_member("4b", "tina.t", MemberRole::Owner)?;
            b.add_member("4b", "tom.t", MemberRole::Member)?;
            b.add_member("5a", "carl.c", MemberRole::Member)?;
            b.add_member("kollegium", "tina.t", MemberRole::Member)?;
            Ok(())
        })
        .unwrap();
    store.disable_person(&actor, "eve.e", 30).unwrap();
    let mut ids = HashMap::new();
    for l in [
        "admin", "anna.a", "ben.b", "carl.c", "dora.d", "eve.e", "tina.t", "tom.t",
    ] {
        ids.insert(l.to_string(), store.person_by_login(l).unwrap().unwrap().id);
    }
    ids
}

impl Server {
    pub fn start() -> Server {
        Self::start_opts(false)
    }

    /// With `tmpfs`, the data root is a 2 MiB tmpfs (a full disk is easy to reach).
    pub fn start_opts(tmpfs: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("schola.toml");
        // SMB on (its files in the test's directory), so the daemon asks for Samba runs
        std::fs::write(
            &config,
            "profile = \"dev\"\n[files.samba]\nsmb_conf = \"smb.conf\"\ninclude_file = \"shares.conf\"\nextrausers_dir = \"extrausers\"\n",
        )
        .unwrap();
        let cfg = Config::load(&config).unwrap();
        let store = Store::open(&cfg.database_path()).unwrap().0;
        let ids = populate(&store);
        let data = cfg.paths.data_dir.clone();
        std::fs::create_dir_all(&data).unwrap();
        if tmpfs {
            let st = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
                .arg(&data)
                .status()
                .expect("mount (util-linux) must be installed");
            assert!(
                st.success(),
                "cannot mount a tmpfs on {} (the test needs root)",
                data.display()
            );
        }
        let socket = cfg.files_socket();
        let state = cfg.paths.state_dir.clone();
        let (child, log) = spawn(&config);
        let mut s = Server {
            _dir: dir,
            data,
            state,
            socket,
            store,
            ids,
            log,
            child,
            tmpfs,
        };
        if !s.wait_ready() {
            let _ = s.child.kill();
            panic!("schola-files did not start: {}", s.log.lock().unwrap());
        }
        s
    }

    fn wait_ready(&self) -> bool {
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            if self
                .log
                .lock()
                .unwrap()
                .contains("schola-files listening on")
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the daemon with SIGTERM (it must exit cleanly), leaves a stale socket file behind
    /// and starts it again.
    pub fn restart(&mut self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill (procps) must be installed");
        assert!(st.success());
        let end = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < end, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}: {}", self.log.lock().unwrap());
        let _ = std::fs::remove_file(&self.socket);
        drop(std::os::unix::net::UnixListener::bind(&self.socket).unwrap());
        assert!(self.socket.exists(), "a stale socket file is left");
        let (child, log) = spawn(&self._dir.path().join("schola.toml"));
        self.child = child;
        self.log = log;
        assert!(
            self.wait_ready(),
            "no restart: {}",
            self.log.lock().unwrap()
        );
    }

    pub fn home(&self, login: &str) -> PathBuf {
        self.data.join("home").join(login)
    }

    /// Opens a connection and sends the request head (for tests that then misbehave).
    pub fn open(
        &self,
        who: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> UnixStream {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: files\r\nConnection: close\r\n");
        if let Some(id) = self.ids.get(who) {
            head.push_str(&format!("X-Schola-Person: {id}\r\n"));
        }
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s
    }

    pub fn req(
        &self,
        who: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let len = body.len().to_string();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        {
            h.push(("Content-Length", &len));
        }
        let mut s = self.open(who, method, path, &h);
        let _ = s.write_all(body);
        read_response(&mut s)
    }

    pub fn get(&self, who: &str, path: &str) -> Resp {
        self.req(who, "GET", path, &[], b"")
    }

    pub fn post(&self, who: &str, path: &str, json: serde_json::Value) -> Resp {
        self.req(
            who,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            json.to_string().as_bytes(),
        )
    }

    pub fn upload(&self, who: &str, vpath: &str, body: &[u8]) -> Resp {
        self.req(
            who,
            "PUT",
            &format!("/api/upload?path={}", enc(vpath)),
            &[],
            body,
        )
    }

    pub fn list(&self, who: &str, vpath: &str) -> Resp {
        self.get(who, &format!("/api/list?path={}", enc(vpath)))
    }

    pub fn names(&self, who: &str, vpath: &str) -> Vec<String> {
        let r = self.list(who, vpath);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Files left in `.uploads/` (should be none once uploads are over).
    pub fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.data.join(".uploads"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `.uploads/` is empty (a cut upload is cleaned up asynchronously).
    pub fn wait_no_leftovers(&self) {
        let end = Instant::now() + Duration::from_secs(5);
        while !self.leftovers().is_empty() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(self.leftovers(), Vec::<String>::new());
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Reads one response: up to its Content-Length, the last chunk, or the end of the stream.
pub fn read_response(s: &mut UnixStream) -> Resp {
    parse_response(&read_raw(s))
}

/// The bytes of one response (empty if the server closed without answering).
pub fn read_raw(s: &mut UnixStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|n| raw.len() >= end + 4 + n)
                || (head.contains("transfer-encoding: chunked") && raw.ends_with(b"0\r\n\r\n"))
            {
                break;
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    raw
}

pub fn parse_response(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap_or(0);
            if size == 0 || rest.len() < nl + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[(nl + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn write(p: &Path, body: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn spawn(config: &Path) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schola-files"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            log2.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    (child, log)
}
