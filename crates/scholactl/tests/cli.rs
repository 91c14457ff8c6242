//! The one integration-test binary of scholactl: runs the built `scholactl` against a school in a
//! temporary directory (dev profile, cheap argon2 parameters) and checks what an admin would see.

// clippy.toml allows these in #[test] functions only; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const FAST_CONFIG: &str =
    "profile = \"dev\"\n\n[auth.argon2]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n";

/// A school in a temporary directory.
struct School {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl School {
    /// Only the configuration; no database yet.
    fn empty() -> School {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("schola.toml");
        std::fs::write(&config, FAST_CONFIG).unwrap();
        School { dir, config }
    }

    /// Set up with `init`.
    fn new() -> School {
        let s = School::empty();
        s.ok(&[
            "init",
            "--school-name",
            "Gesamtschule Test",
            "--mail-domain",
            "test.schule.example",
        ]);
        s
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_scholactl"));
        c.env_remove("SCHOLA_CONFIG")
            .arg("--config")
            .arg(&self.config)
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Runs a command with `--json`; returns the parsed stdout.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
    }

    /// Runs a command that must fail; returns its one-line error message.
    fn fail(&self, args: &[&str]) -> String {
        failed(args, self.run(args))
    }

    fn people(&self) -> Vec<Value> {
        self.json(&["user", "list", "--limit", "100000"])
            .as_array()
            .unwrap()
            .clone()
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("state/schola.db")
    }
}

fn succeeded(args: &[&str], out: Output) -> String {
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// Exit status 1, nothing on stdout, exactly one line `error: …` on stderr, no panic.
fn failed(args: &[&str], out: Output) -> String {
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail with status 1:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.starts_with("error: ") && stderr.ends_with('\n'),
        "{args:?}: {stderr:?}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: more than one line: {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.trim_end().to_string()
}

/// The value after `password (shown once): `, checking it appears exactly once.
fn shown_password(stdout: &str) -> String {
    const LABEL: &str = "password (shown once): ";
    assert_eq!(stdout.matches(LABEL).count(), 1, "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with(LABEL)).unwrap();
    let password = line[LABEL.len()..].to_string();
    assert_eq!(
        stdout.matches(&password).count(),
        1,
        "the password appears more than once:\n{stdout}"
    );
    password
}

fn logins_in(list: &Value) -> Vec<String> {
    logins(list.as_array().unwrap())
}

fn logins(people: &[Value]) -> Vec<String> {
    people
        .iter()
        .map(|p| p["login"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn init_shows_the_admin_password_once_and_refuses_a_second_init() {
    let s = School::empty();
    let out = s.ok(&[
        "init",
        "--school-name",
        "Gesamtschule Test",
        "--mail-domain",
        "test.schule.example",
    ]);
    let password = shown_password(&out);
    assert_eq!(password.len(), 14, "{password}");
    assert!(out.contains("admin login: admin"), "{out}");
    assert!(s.database().exists());

    let e = s.fail(&[
        "init",
        "--school-name",
        "Other",
        "--mail-domain",
        "other.example",
    ]);
    assert!(e.contains("already set up"), "{e}");
    let people = s.people();
    assert_eq!(logins(&people), ["admin"]);
    assert_eq!(people[0]["role"], "admin");
    assert_eq!(people[0]["mail"], "admin@test.schule.example");
}

#[test]
fn init_json_and_a_custom_admin_login() {
    let s = School::empty();
    let v = s.json(&[
        "init",
        "--school-name",
        "École Test",
        "--mail-domain",
        "ecole.example",
        "--admin-login",
        "it-admin",
    ]);
    assert_eq!(v["login"], "it-admin");
    assert_eq!(v["password"].as_str().unwrap().len(), 14);
}

#[test]
fn commands_before_init_say_to_run_init() {
    let s = School::empty();
    let e = s.fail(&["user", "list"]);
    assert!(e.contains("scholactl init"), "{e}");
    assert!(
        !s.database().exists(),
        "a database was made by a command that only reads"
    );
}

#[test]
fn missing_config_file_is_named() {
    let s = School::empty();
    let out = Command::new(env!("CARGO_BIN_EXE_scholactl"))
        .env("SCHOLA_CONFIG", s.dir.path().join("nowhere.toml"))
        .args(["user", "list"])
        .output()
        .unwrap();
    let e = failed(&["user", "list"], out);
    assert!(e.contains("nowhere.toml"), "{e}");
}

#[test]
fn logins_are_transliterated_and_clashes_get_a_counter() {
    let s = School::new();
    let a = s.json(&["user", "add", "--given", "Jürgen", "--family", "Müller"]);
    assert_eq!(a["login"], "juergen.mueller");
    assert_eq!(a["mail"], "juergen.mueller@test.schule.example");
    assert_eq!(a["password"].as_str().unwrap().len(), 14);
    let b = s.json(&["user", "add", "--given", "Jürgen", "--family", "Müller"]);
    assert_eq!(b["login"], "juergen.mueller2");
    assert_ne!(a["password"], b["password"]);

    let out = s.ok(&[
        "user", "add", "--given", "Zoë", "--family", "D'Hondt", "--role", "teacher",
    ]);
    assert!(
        out.starts_with("added zoe.dhondt (Zoë D'Hondt, teacher)\n"),
        "{out}"
    );
    shown_password(&out);
}

#[test]
fn a_duplicate_login_is_refused_and_changes_nothing() {
    let s = School::new();
    s.ok(&[
        "user", "add", "--given", "Anna", "--family", "Schmidt", "--login", "anna",
    ]);
    let before = s.people().len();
    let e = s.fail(&[
        "user", "add", "--given", "Anna", "--family", "Meyer", "--login", "anna",
    ]);
    assert_eq!(
        e,
        "error: cannot add 'Anna Meyer': the login 'anna' already exists"
    );
    assert_eq!(s.people().len(), before);
}

#[test]
fn bad_names_are_refused_naming_the_field() {
    let s = School::new();
    let before = s.people().len();
    let e = s.fail(&["user", "add", "--given", "", "--family", "Müller"]);
    assert!(e.contains("the given name is empty"), "{e}");
    let e = s.fail(&["user", "add", "--given", "   ", "--family", "Müller"]);
    assert!(e.contains("the given name is empty"), "{e}");
    let e = s.fail(&["user", "add", "--given", "Anna\u{7}", "--family", "Müller"]);
    assert!(
        e.contains("the given name contains a control character"),
        "{e}"
    );
    let e = s.fail(&["user", "add", "--given", "Anna", "--family", "Mül\nler"]);
    assert!(
        e.contains("the family name contains a control character"),
        "{e}"
    );
    let long = "ä".repeat(101);
    let e = s.fail(&["user", "add", "--given", "Anna", "--family", &long]);
    assert!(e.contains("the family name is 101 characters long"), "{e}");
    s.ok(&[
        "user",
        "add",
        "--given",
        "Anna",
        "--family",
        &"ä".repeat(100),
    ]);
    let e = s.fail(&[
        "user",
        "add",
        "--given",
        "Anna",
        "--family",
        "Müller",
        "--mail",
        "not-an-address",
    ]);
    assert!(e.contains("not a mail address"), "{e}");
    assert_eq!(s.people().len(), before + 1);
}

#[test]
fn password_from_stdin_is_checked_against_the_policy() {
    let s = School::new();
    let args = [
        "user",
        "add",
        "--given",
        "Anna",
        "--family",
        "Müller",
        "--password-stdin",
    ];
    let e = failed(&args, s.run_with_stdin(&args, "kurz\n"));
    assert!(e.contains("at least 8 characters"), "{e}");
    let e = failed(&args, s.run_with_stdin(&args, "xx-anna.mueller-xx\n"));
    assert!(e.contains("login"), "{e}");
    let e = failed(&args, s.run_with_stdin(&args, ""));
    assert!(e.contains("standard input is empty"), "{e}");
    assert_eq!(s.people().len(), 1);

    let out = succeeded(&args, s.run_with_stdin(&args, "Sonnenblume-7\r\n"));
    assert!(
        !out.contains("password"),
        "a password given on stdin is not printed: {out}"
    );
    let v: Value = serde_json::from_str(&succeeded(&args, {
        let mut json_args = vec!["--json"];
        json_args.extend_from_slice(&args);
        s.run_with_stdin(&json_args, "Sonnenblume-7\n")
    }))
    .unwrap();
    assert_eq!(v["login"], "anna.mueller2");
    assert!(v.get("password").is_none(), "{v}");
}

#[test]
fn passwd_generates_once_or_takes_stdin() {
    let s = School::new();
    s.ok(&["user", "add", "--given", "Anna", "--family", "Müller"]);
    let out = s.ok(&["user", "passwd", "anna.mueller"]);
    shown_password(&out);
    let args = ["user", "passwd", "anna.mueller", "--password-stdin"];
    let out = succeeded(&args, s.run_with_stdin(&args, "Lehrerzimmer-42\n"));
    assert!(!out.contains("Lehrerzimmer"), "{out}");
    let e = s.fail(&["user", "passwd", "nobody"]);
    assert!(e.contains("person 'nobody' not found"), "{e}");
}

#[test]
fn json_output_parses() {
    let s = School::new();
    s.ok(&[
        "group",
        "add",
        "5a",
        "--kind",
        "class",
        "--display-name",
        "Klasse 5a",
    ]);
    s.ok(&[
        "user",
        "add",
        "--given",
        "Ömer",
        "--family",
        "Şahin",
        "--class",
        "5a",
        "--external-id",
        "S-000001",
        "--quota-mb",
        "500",
    ]);

    let people = s.people();
    assert_eq!(logins(&people), ["admin", "oemer.sahin"]);

    let p = s.json(&["user", "show", "oemer.sahin"]);
    assert_eq!(p["given_name"], "Ömer");
    assert_eq!(p["family_name"], "Şahin");
    assert_eq!(p["external_id"], "S-000001");
    assert_eq!(p["quota_mb"], 500);
    assert_eq!(p["status"], "active");
    assert_eq!(p["groups"][0]["name"], "5a");
    assert_eq!(p["groups"][0]["membership"], "member");

    let groups = s.json(&["group", "list"]);
    assert_eq!(groups[0]["name"], "5a");
    assert_eq!(groups[0]["members"], 1);

    let check = s.json(&["config", "check"]);
    assert_eq!(check["ok"], true);
    assert_eq!(check["database_exists"], true);
}

#[test]
fn list_filters_and_pages() {
    let s = School::new();
    for (g, f) in [
        ("Anna", "Bauer"),
        ("Ben", "Koch"),
        ("Chloé", "Lefèvre"),
        ("Małgorzata", "Nowak"),
    ] {
        s.ok(&["user", "add", "--given", g, "--family", f]);
    }
    s.ok(&[
        "user", "add", "--given", "Jörg", "--family", "Weiß", "--role", "teacher",
    ]);

    let out = s.ok(&["user", "list"]);
    assert!(out.lines().next().unwrap().starts_with("login"), "{out}");
    assert!(out.ends_with("6 of 6\n"), "{out}");
    assert!(out.contains("Chloé Lefèvre"), "{out}");

    let out = s.ok(&[
        "user", "list", "--role", "student", "--limit", "2", "--offset", "1",
    ]);
    assert!(
        out.contains("ben.koch") && out.contains("chloe.lefevre") && !out.contains("anna.bauer"),
        "{out}"
    );
    assert!(out.contains("2-3 of 4"), "{out}");

    assert_eq!(
        logins_in(&s.json(&["user", "list", "--query", "lefè"])),
        ["chloe.lefevre"]
    );
    assert_eq!(
        logins_in(&s.json(&["user", "list", "--role", "teacher"])),
        ["joerg.weiss"]
    );

    let e = s.fail(&["user", "list", "--group", "nope"]);
    assert!(e.contains("no group 'nope'"), "{e}");
}

#[test]
fn disable_and_enable() {
    let s = School::new();
    s.ok(&["user", "add", "--given", "Anna", "--family", "Müller"]);
    let out = s.ok(&["user", "disable", "anna.mueller"]);
    assert!(
        out.contains("disabled anna.mueller") && out.contains("purged on 20"),
        "{out}"
    );
    let p = s.json(&["user", "show", "anna.mueller"]);
    assert_eq!(p["status"], "disabled");
    let purge = p["purge_at"].as_i64().unwrap();
    let created = p["created_at"].as_i64().unwrap();
    assert!(
        (purge - created - 90 * 86_400).abs() < 60,
        "purge {purge}, created {created}"
    );
    assert_eq!(
        logins_in(&s.json(&["user", "list", "--status", "disabled"])),
        ["anna.mueller"]
    );

    let out = s.ok(&["user", "enable", "anna.mueller"]);
    assert!(out.contains("enabled anna.mueller"), "{out}");
    let p = s.json(&["user", "show", "anna.mueller"]);
    assert_eq!(p["status"], "active");
    assert_eq!(p["purge_at"], Value::Null);

    let e = s.fail(&["user", "disable", "admin"]);
    assert!(e.contains("last active admin"), "{e}");
    let e = s.fail(&["user", "disable", "nobody"]);
    assert!(e.contains("person 'nobody' not found"), "{e}");
}

#[test]
fn groups_and_members() {
    let s = School::new();
    let out = s.ok(&[
        "group",
        "add",
        "5a",
        "--kind",
        "class",
        "--display-name",
        "Klasse 5a",
    ]);
    assert!(out.contains("5a"), "{out}");
    s.ok(&["group", "add", "physik-q1", "--kind", "course"]);
    let e = s.fail(&["group", "add", "5a", "--kind", "class"]);
    assert!(e.contains("the group '5a' already exists"), "{e}");
    let e = s.fail(&["group", "add", "Klasse 5b", "--kind", "class"]);
    assert!(e.contains("not allowed"), "{e}");
    let e = s.fail(&[
        "user", "add", "--given", "Anna", "--family", "Müller", "--class", "9z",
    ]);
    assert!(e.contains("group '9z' not found"), "{e}");
    assert_eq!(
        s.people().len(),
        1,
        "the person was not added without the class"
    );

    s.ok(&[
        "user", "add", "--given", "Anna", "--family", "Müller", "--class", "5a",
    ]);
    s.ok(&["user", "add", "--given", "Ben", "--family", "Koch"]);
    s.ok(&[
        "user", "add", "--given", "Jörg", "--family", "Weiß", "--role", "teacher",
    ]);
    s.ok(&["group", "members", "5a", "--add", "ben.koch"]);
    s.ok(&["group", "members", "5a", "--add", "joerg.weiss", "--owner"]);

    let members = s.json(&["group", "members", "5a"]);
    let pairs: Vec<(String, String)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["login"].as_str().unwrap().into(),
                m["membership"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("joerg.weiss".to_string(), "owner".to_string()),
            ("ben.koch".into(), "member".into()),
            ("anna.mueller".into(), "member".into())
        ]
    );
    let out = s.ok(&["group", "members", "5a"]);
    assert!(out.ends_with("2 members, 1 owner\n"), "{out}");

    // one unknown login: nothing changes
    let e = s.fail(&[
        "group", "members", "5a", "--remove", "ben.koch", "--remove", "nobody",
    ]);
    assert!(e.contains("person 'nobody' not found"), "{e}");
    assert_eq!(
        s.json(&["group", "members", "5a"])
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let v = s.json(&[
        "group",
        "members",
        "5a",
        "--remove",
        "ben.koch",
        "--add",
        "anna.mueller",
    ]);
    assert_eq!(v["removed"], serde_json::json!(["ben.koch"]));
    assert_eq!(v["unchanged"], serde_json::json!(["anna.mueller"]));
    assert_eq!(
        logins_in(&s.json(&["user", "list", "--group", "5a"])),
        ["anna.mueller", "joerg.weiss"]
    );

    let groups = s.json(&["group", "list", "--kind", "course"]);
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["name"], "physik-q1");
    let e = s.fail(&["group", "members", "9z"]);
    assert!(e.contains("no group '9z'"), "{e}");
}

#[test]
fn config_check_reports_the_paths() {
    let s = School::empty();
    let out = s.ok(&["config", "check"]);
    assert!(
        out.starts_with(&format!("config OK: {}\n", s.config.display())),
        "{out}"
    );
    assert!(
        out.contains(&s.dir.path().join("state").display().to_string()),
        "{out}"
    );
    assert!(out.contains("not made yet"), "{out}");
    assert!(!s.database().exists(), "config check made a database");
}

#[test]
fn config_check_names_file_line_and_key_of_an_unknown_key() {
    let s = School::empty();
    std::fs::write(
        &s.config,
        "profile = \"dev\"\n[web]\nlisen = [\"127.0.0.1:8443\"]\n",
    )
    .unwrap();
    let e = s.fail(&["config", "check"]);
    assert!(e.contains(&format!("{}:3:", s.config.display())), "{e}");
    assert!(e.contains("web.lisen"), "{e}");

    // the same for a drop-in
    std::fs::write(&s.config, FAST_CONFIG).unwrap();
    std::fs::create_dir(s.dir.path().join("conf.d")).unwrap();
    std::fs::write(
        s.dir.path().join("conf.d/50-local.toml"),
        "\n[directory]\npurge_grace_day = 30\n",
    )
    .unwrap();
    let e = s.fail(&["config", "check"]);
    assert!(
        e.contains("conf.d/50-local.toml:3:") && e.contains("purge_grace_day"),
        "{e}"
    );
    // and every other command refuses the same way
    let e2 = s.fail(&["user", "list"]);
    assert_eq!(e, e2);
}

#[test]
fn a_database_from_a_newer_schola_is_refused() {
    let s = School::new();
    let db = s.database();
    let bump = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA user_version = 99;")
        .output()
        .expect("the sqlite3 command is needed for this test: run scripts/install-test-deps");
    assert!(
        bump.status.success(),
        "{}",
        String::from_utf8_lossy(&bump.stderr)
    );
    for args in [
        &["user", "list"][..],
        &["config", "check"],
        &["user", "add", "--given", "A", "--family", "B"],
    ] {
        let e = s.fail(args);
        assert!(
            e.contains("newer Schola") && e.contains("99"),
            "{args:?}: {e}"
        );
    }
    let version = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA user_version;")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        "99",
        "the newer database was changed"
    );
}

#[test]
fn parallel_scholactl_processes_all_succeed() {
    let s = School::new();
    let config: &Path = &s.config;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                scope.spawn(move || {
                    for i in 0..10 {
                        let ext = format!("S-{w}{i:02}");
                        let out = Command::new(env!("CARGO_BIN_EXE_scholactl"))
                            .env_remove("SCHOLA_CONFIG")
                            .arg("--config")
                            .arg(config)
                            .args([
                                "--json",
                                "user",
                                "add",
                                "--given",
                                "Anna",
                                "--family",
                                "Müller",
                                "--external-id",
                                &ext,
                            ])
                            .output()
                            .unwrap();
                        succeeded(&["user", "add"], out);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });
    let people = s.people();
    assert_eq!(people.len(), 41);
    let mut names = logins(&people);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 41, "every process got its own login");
    for n in 2..=40 {
        assert!(
            names.contains(&format!("anna.mueller{n}")),
            "anna.mueller{n} missing: {names:?}"
        );
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    let s = School::new();
    let out = s.run(&[
        "user", "add", "--given", "Anna", "--family", "Müller", "--role", "pupil",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown role 'pupil'") && stderr.contains("student"),
        "{stderr}"
    );
    assert_eq!(s.people().len(), 1);
}

/// Runs `script` as root in a private mount namespace (so it can mount a small tmpfs that
/// disappears with it), with `$1` = an empty directory and `$2` = the scholactl binary.
fn in_mount_namespace(script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            script,
            "bash",
        ])
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_scholactl"))
        .env("FAST_CONFIG", FAST_CONFIG)
        .output()
        .expect("unshare (util-linux) is needed for this test: run scripts/install-test-deps");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the test script failed (it needs root to mount a tmpfs):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in:\n{out}"))
}

#[test]
fn a_full_disk_is_reported_and_nothing_stored_is_lost() {
    let out = in_mount_namespace(
        r#"set -eu
d=$1; S=$2
mount -t tmpfs -o size=4m tmpfs "$d"
printf '%s' "$FAST_CONFIG" > "$d/schola.toml"
"$S" --config "$d/schola.toml" init --school-name Voll --mail-domain voll.example >/dev/null
avail=$(df -k --output=avail "$d" | tail -n 1)
dd if=/dev/zero of="$d/filler" bs=1k count=$((avail - 48)) status=none
added=0; err=""
for i in $(seq 1 300); do
  if out=$("$S" --config "$d/schola.toml" user add --given Volle --family "Platte$i" 2>&1); then
    added=$((added + 1))
  else
    err=$out; break
  fi
done
echo "added=$added"
echo "error=$err"
echo "count=$(sqlite3 "$d/state/schola.db" 'SELECT count(*) FROM people;')"
echo "integrity=$(sqlite3 "$d/state/schola.db" 'PRAGMA integrity_check;')"
rm -f "$d/filler"
if "$S" --config "$d/schola.toml" user add --given Volle --family Danach >/dev/null 2>&1; then echo "after=ok"; else echo "after=failed"; fi
"#,
    );
    let added: usize = field(&out, "added").parse().unwrap();
    let error = field(&out, "error");
    assert!(added < 300, "the disk never filled up:\n{out}");
    assert!(
        error.starts_with("error: ") && error.contains("is full; nothing was changed"),
        "{out}"
    );
    assert_eq!(
        field(&out, "count"),
        (added + 1).to_string(),
        "every acknowledged add is still there: {out}"
    );
    assert_eq!(field(&out, "integrity"), "ok");
    assert_eq!(
        field(&out, "after"),
        "ok",
        "works again once there is space"
    );
}

#[test]
fn a_read_only_database_is_reported_and_left_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = School::new();
    s.ok(&["user", "add", "--given", "Nur", "--family", "Lesen"]);
    let before = std::fs::read(s.database()).unwrap();
    // a root-owned database seen by an unprivileged user, as after a restore with wrong owners
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // a copy of the binary the unprivileged user can run wherever the checkout lives
    let bin = s.dir.path().join("scholactl");
    std::fs::copy(env!("CARGO_BIN_EXE_scholactl"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .arg("--config")
        .arg(&s.config)
        .args(["user", "add", "--given", "Neu", "--family", "Person"])
        .output()
        .expect("setpriv (util-linux) is needed for this test: run scripts/install-test-deps");
    let err = failed(&["user", "add"], out);
    assert!(err.contains("is read-only; nothing was changed"), "{err}");
    assert_eq!(std::fs::read(s.database()).unwrap(), before);
}

#[test]
fn db_status_and_migrate_report_the_schema_version() {
    let s = School::empty();
    assert!(
        s.ok(&["db", "migrate"])
            .contains("no database yet, nothing to migrate")
    );
    s.ok(&["init", "--school-name", "S", "--mail-domain", "s.example"]);
    let status = s.json(&["db", "status"]);
    assert_eq!(status["schema_version"], status["latest_known"]);
    assert!(s.ok(&["db", "migrate"]).contains("up to date"));
    let dir = s.dir.path().join("man");
    s.ok(&["generate-man", dir.to_str().unwrap()]);
    let main = std::fs::read_to_string(dir.join("scholactl.8")).unwrap();
    assert!(main.contains(".TH scholactl 8"), "{main}");
    let add = std::fs::read_to_string(dir.join("scholactl-user-add.8")).unwrap();
    assert!(add.contains("password\\-stdin"), "{add}");
}

#[test]
fn root_acts_as_the_owner_of_the_state_directory() {
    use std::os::unix::fs::MetadataExt as _;
    let s = School::empty();
    let state = s.dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    // as the package makes it: /var/lib/schola belongs to the schola user
    let chown = Command::new("chown")
        .args(["65534:65534"])
        .arg(&state)
        .status()
        .unwrap();
    assert!(chown.success(), "this test needs root to chown");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    s.ok(&["init", "--school-name", "S", "--mail-domain", "s.example"]);
    s.ok(&["user", "add", "--given", "Root", "--family", "Made"]);
    for entry in std::fs::read_dir(&state).unwrap() {
        let e = entry.unwrap();
        assert_eq!(
            e.metadata().unwrap().uid(),
            65534,
            "{} belongs to root",
            e.path().display()
        );
    }
}

#[test]
fn upgrade_outside_an_appliance_says_why_it_cannot() {
    let s = School::new();
    let e = s.fail(&["upgrade", "--check"]);
    assert!(
        e.contains("no Schola packages are installed here") || e.contains("needs root"),
        "{e}"
    );
}

/// The update helper (`upgrade --run-request`, root) with requests it must not act on. Nothing
/// here reaches apt: an upgrade itself is tested on installed packages by scripts/test-packages.
#[test]
fn the_update_helper_acts_only_on_a_valid_request() {
    let s = School::new();
    let updates = s.dir.path().join("updates");
    let requests = s.dir.path().join("state/update-request");
    if !nix::unistd::geteuid().is_root() {
        let err = failed(
            &["upgrade", "--run-request"],
            s.run(&["upgrade", "--run-request"]),
        );
        assert!(err.contains("needs root"), "{err}");
        return;
    }
    // without the update directory (which the package makes) it says what is missing
    let err = failed(
        &["upgrade", "--run-request"],
        s.run(&["upgrade", "--run-request"]),
    );
    assert!(
        err.contains(&format!(
            "the update directory {} does not exist",
            updates.display()
        )),
        "{err}"
    );
    std::fs::create_dir_all(&updates).unwrap();
    // no request: nothing to do, nothing written
    succeeded(
        &["upgrade", "--run-request"],
        s.run(&["upgrade", "--run-request"]),
    );
    assert!(!updates.join("status.json").exists());
    // a request that is not one of the two words: refused, removed, and the page is told why
    std::fs::create_dir_all(&requests).unwrap();
    std::fs::write(requests.join("request"), "install evil-package\n").unwrap();
    let err = failed(
        &["upgrade", "--run-request"],
        s.run(&["upgrade", "--run-request"]),
    );
    assert!(err.contains("is not 'check' or 'upgrade'"), "{err}");
    assert!(!requests.join("request").exists());
    let status: Value =
        serde_json::from_slice(&std::fs::read(updates.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["state"], "failed");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("\"install evil-package\""),
        "{status}"
    );
    // while another run holds the lock, a request is dropped with a message, not left to loop
    let lock = std::fs::File::create(updates.join("lock")).unwrap();
    let held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).unwrap();
    std::fs::write(requests.join("request"), "check\n").unwrap();
    let err = failed(
        &["upgrade", "--run-request"],
        s.run(&["upgrade", "--run-request"]),
    );
    assert!(err.contains("another upgrade is running"), "{err}");
    assert!(!requests.join("request").exists());
    drop(held);
}

// ---- scholactl check: the capacity self-check -------------------------------------------------

/// Runs `check` with `args`; returns (exit status, stdout, stderr), asserting no panic.
fn check_run(s: &School, args: &[&str]) -> (i32, String, String) {
    let out = s.run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Adds `n` students in one go through the people list's JSON (fast: one process per 25).
fn add_students(s: &School, n: usize) {
    std::thread::scope(|scope| {
        for chunk in 0..n.div_ceil(25) {
            scope.spawn(move || {
                for i in chunk * 25..((chunk + 1) * 25).min(n) {
                    s.ok(&[
                        "user",
                        "add",
                        "--given",
                        &format!("Kind{i}"),
                        "--family",
                        "Test",
                    ]);
                }
            });
        }
    });
}

#[test]
fn check_shows_every_resource_and_its_exit_status_follows_the_worst_verdict() {
    let s = School::new();
    let (code, table, stderr) = check_run(&s, &["check", "--quick"]);
    assert!((0..=2).contains(&code), "status {code}: {stderr}\n{table}");
    for resource in [
        "sign-in CPU",
        "page CPU",
        "memory",
        "connections",
        "open files",
        "disk space",
        "disk writes",
        "uplink",
        "network link",
    ] {
        assert!(table.contains(resource), "no {resource}:\n{table}");
    }
    assert!(
        table.contains("This machine holds the 8:00 sign-in of a school of up to"),
        "{table}"
    );
    // the uplink cannot be measured offline and nobody entered it: at least a warning
    assert!(code >= 1, "the missing uplink must warn:\n{table}");
    assert!(
        table.contains("enter the school's uplink bandwidth"),
        "{table}"
    );
    assert!(
        !table.contains("\x1b["),
        "no colour when stdout is not a terminal"
    );

    let out = s.run(&["--json", "check", "--quick"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let level = json["level"].as_str().unwrap();
    let expected = match level {
        "ok" => 0,
        "warn" => 1,
        "fail" => 2,
        other => panic!("level {other}"),
    };
    assert_eq!(
        out.status.code(),
        Some(expected),
        "exit status follows the level"
    );
    assert_eq!(json["school"]["admins"], 1);
    assert_eq!(json["verdicts"].as_array().unwrap().len(), 9);
    for f in json["needs"]["figures"].as_array().unwrap() {
        assert!(!f["formula"].as_str().unwrap().is_empty(), "{f}");
    }
    assert!(
        json["machine"]["argon2"]["verifies_per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    // both checks were stored, newest first
    let db = rusqlite::Connection::open(s.database()).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM capacity_checks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    let (_, _, _) = check_run(&s, &["check", "--quick", "--no-save"]);
    let n: i64 = db
        .query_row("SELECT count(*) FROM capacity_checks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "--no-save stores nothing");

    // a usage error is not a verdict
    let (code, _, stderr) = check_run(&s, &["check", "--storm-seconds", "2"]);
    assert_eq!(code, 3, "{stderr}");
}

#[test]
fn check_fix_raises_a_connection_limit_set_too_low() {
    let s = School::new();
    let mut cfg = std::fs::read_to_string(&s.config).unwrap();
    cfg.push_str("\n[web]\nmax_connections = 300\n");
    std::fs::write(&s.config, cfg).unwrap();
    add_students(&s, 60); // 61 people × 6 connections > 300

    let out = s.run(&["--json", "check", "--quick", "--no-save"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let conn = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["resource"] == "connections")
        .unwrap()
        .clone();
    assert_eq!(conn["level"], "fail", "{conn}");
    assert_eq!(conn["have"]["value"], 300.0, "{conn}");
    let action = &conn["action"];
    assert_eq!(action["kind"], "set_config", "{conn}");
    assert_eq!(action["key"], "max_connections");
    let value = action["value"].as_u64().unwrap();
    assert!(
        value as f64 >= conn["needed"]["value"].as_f64().unwrap(),
        "{conn}"
    );
    assert_eq!(out.status.code(), Some(2), "a FAIL exits 2");

    let fixed = s.ok(&["check", "--fix"]);
    assert!(
        fixed.contains(&format!("set [web] max_connections = {value}")),
        "{fixed}"
    );
    let dropin = std::fs::read_to_string(s.dir.path().join("conf.d/50-capacity.toml")).unwrap();
    assert!(
        dropin.contains(&format!("max_connections = {value}")),
        "{dropin}"
    );
    s.ok(&["config", "check"]);

    let out = s.run(&["--json", "check", "--quick", "--no-save"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let conn = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["resource"] == "connections")
        .unwrap()
        .clone();
    assert_ne!(conn["level"], "fail", "fixed: {conn}");
    assert_eq!(conn["have"]["value"], value as f64);
}

#[test]
fn the_fix_helper_refuses_a_fix_the_check_does_not_propose() {
    let s = School::new();
    let dir = s.dir.path().join("state/capacity-request");
    std::fs::create_dir_all(&dir).unwrap();
    // a value in range, but nothing proposes it for this small school
    std::fs::write(dir.join("fix"), "web.max_connections=777\n").unwrap();
    let (code, _, stderr) = check_run(&s, &["check", "--run-request", "fix"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("is not what the check proposes now"),
        "{stderr}"
    );
    assert!(!s.dir.path().join("conf.d/50-capacity.toml").exists());
    assert!(!dir.join("fix").exists(), "the request was taken");
    // and a key that is not a load limit never gets that far
    std::fs::write(dir.join("fix"), "paths.state_dir=1\n").unwrap();
    let (code, _, stderr) = check_run(&s, &["check", "--run-request", "fix"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot be changed from the capacity page"),
        "{stderr}"
    );
}

#[test]
fn check_storm_measures_the_running_server_and_removes_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let demo_dir = dir.path().join("demo");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_scholactl"))
        .env_remove("SCHOLA_CONFIG")
        .args(["demo", "--dir"])
        .arg(&demo_dir)
        .args(["--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // stopped as Ctrl-C would: run as root, the demo has started Postfix and Dovecot, which
    // only it can stop (SIGKILL would leave them running)
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while matches!(self.0.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo did not start"
        );
        if let Ok(Some(status)) = demo.try_wait() {
            panic!("the demo ended: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _demo = Kill(demo);
    let s = School {
        config: demo_dir.join("schola.toml"),
        dir,
    };
    let people_before = s.people().len();
    let (code, table, stderr) = check_run(
        &s,
        &[
            "check",
            "--storm",
            "--force",
            "--storm-seconds",
            "5",
            "--quick",
        ],
    );
    assert!((0..=2).contains(&code), "status {code}: {stderr}\n{table}");
    assert!(table.contains("Measured storm:"), "{table}\n{stderr}");
    assert!(
        table.contains("(measured)"),
        "the sign-in verdict uses it:\n{table}"
    );
    assert!(
        table.contains("by the sign-in rate the storm measured") || table.contains("limited by"),
        "{table}"
    );
    assert!(stderr.contains("removed the storm's"), "{stderr}");
    let people = s.people();
    assert_eq!(
        people.len(),
        people_before,
        "the temporary accounts are gone"
    );
    assert!(
        logins(&people)
            .iter()
            .all(|l| !l.starts_with("capacity-storm-")),
        "no storm account left"
    );
    let db = rusqlite::Connection::open(demo_dir.join("state/schola.db")).unwrap();
    let stored: String = db
        .query_row(
            "SELECT result FROM capacity_checks WHERE trigger = 'storm' ORDER BY at DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let check: Value = serde_json::from_str(&stored).unwrap();
    let storm = &check["storm"];
    assert!(storm["people"].as_u64().unwrap() >= 50, "{storm}");
    assert_eq!(storm["errors"], 0, "no error but the waiting room: {storm}");
    assert!(storm["signins_per_sec"].as_f64().unwrap() > 0.0, "{storm}");
}

// --- import ------------------------------------------------------------------------------------

/// `../shared/data/rosters/<name>`: the sample exports of school administration software.
fn roster(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/rosters")
        .join(name);
    assert!(p.exists(), "the sample roster {} is missing", p.display());
    p.to_string_lossy().into_owned()
}

fn lines_of(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_sample_exports_import_as_their_readme_says() {
    let s = School::new();
    let out = s.json(&["import", "csv", &roster("sophomorix-students-cp1252.csv")]);
    let plan = &out["plan"];
    assert_eq!(plan["encoding"], "Windows-1252");
    assert_eq!(plan["delimiter"], ";");
    assert_eq!(plan["profile"], "sophomorix");
    // line 243 has no given name, line 244 repeats the id of line 241; line 245's class is trimmed
    assert_eq!(lines_of(&plan["rejected"]), [243, 244]);
    assert!(
        plan["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("given name")
    );
    assert!(
        plan["rejected"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("line 241")
    );
    assert_eq!(lines_of(&plan["warnings"]), [245]);
    let creates = plan["create"].as_array().unwrap();
    assert_eq!(creates.len(), 243);
    // nothing is written before the import is applied
    assert_eq!(s.people().len(), 1);

    let id = out["import"].as_i64().unwrap().to_string();
    let letters = s.dir.path().join("letters");
    std::fs::create_dir(&letters).unwrap();
    let text = s.ok(&[
        "import",
        "apply",
        &id,
        "--letters",
        letters.to_str().unwrap(),
    ]);
    assert!(text.contains("243 created"), "{text}");
    let people = s.people();
    assert_eq!(people.len(), 244);
    // the two Anna Müller of 5a are two people with two logins
    let annas = s.json(&["group", "members", "5a"]);
    let annas: Vec<&Value> = annas
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["display_name"] == "Anna Müller")
        .collect();
    assert_eq!(annas.len(), 2, "{annas:?}");
    assert_ne!(annas[0]["login"], annas[1]["login"]);
    let members = s.json(&["group", "members", "8a"]);
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["display_name"] == "Ömer Straße"),
        "line 245's student, in 8a after the trim: {members}"
    );
    // the letters are readable only by the admin and hold every new login
    let written = |ext: &str| {
        std::fs::read_dir(&letters)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == ext))
            .unwrap_or_else(|| panic!("no .{ext} letters in {}", letters.display()))
    };
    let csv_letters = std::fs::read_to_string(written("csv")).unwrap();
    for c in creates {
        assert!(csv_letters.contains(c["login"].as_str().unwrap()));
    }
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(written("pdf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // the generic Schola CSV (UTF-8 with BOM, quoted fields) and the teachers' list, in another
    // school (the sample files are different schools with overlapping ids)
    let s = School::new();
    let out = s.json(&[
        "import",
        "csv",
        &roster("generic-students-utf8-bom.csv"),
        "--apply",
    ]);
    assert_eq!(out["applied"]["summary"]["rejected"], 0, "{out}");
    let people = s.people();
    assert!(
        people
            .iter()
            .any(|p| p["given_name"] == "Jean \"JJ\"" && p["family_name"] == "Dupont, Jr."),
        "the quoted names of the last line"
    );
    let out = s.json(&[
        "import",
        "csv",
        &roster("teachers-untis-utf8.csv"),
        "--apply",
    ]);
    assert_eq!(out["applied"]["summary"]["create"], 6, "{out}");
    let teachers = s.json(&["user", "list", "--role", "teacher"]);
    assert!(teachers.to_string().contains("Siobhán"), "{teachers}");
    // the students are still there: the teachers' list is complete only for teachers
    assert_eq!(
        s.json(&["user", "list", "--role", "student", "--status", "disabled"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn the_school_year_changes_from_the_2025_export_to_the_2026_export() {
    let s = School::new();
    s.ok(&[
        "import",
        "csv",
        &roster("year-change/2025-students.csv"),
        "--apply",
    ]);
    let before = s.people();
    let plan = s.json(&["import", "csv", &roster("year-change/2026-students.csv")])["plan"].clone();
    // one family-name change keeps the account
    let updates = plan["update"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["changes"][0]["field"], "family_name");
    // every class moves up a grade; one student changes class within the grade
    let flows = plan["class_flows"].as_array().unwrap();
    assert!(flows.iter().any(|f| f["from"] == "5a" && f["to"] == "6a"));
    let odd: Vec<&Value> = flows
        .iter()
        .filter(|f| {
            let (from, to) = (f["from"].as_str().unwrap(), f["to"].as_str().unwrap());
            from[from.len() - 1..] != to[to.len() - 1..]
        })
        .collect();
    assert_eq!(odd.len(), 1, "one class move within a grade: {odd:?}");
    assert_eq!(odd[0]["people"], 1);
    // grade 10 leaves (disabled, not deleted), a new grade 5 arrives
    let grade10 = plan["disable"].as_array().unwrap();
    assert!(!grade10.is_empty());
    assert!(
        grade10
            .iter()
            .all(|p| p["classes"][0].as_str().unwrap().starts_with("10"))
    );
    assert!(
        plan["create"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["classes"][0].as_str().unwrap().starts_with('5'))
    );
    let id = s.json(&["import", "list", "--status", "pending"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    s.ok(&["import", "apply", &id]);
    let after = s.people();
    assert_eq!(
        after.len(),
        before.len() + plan["create"].as_array().unwrap().len()
    );
    let leaver = grade10[0]["login"].as_str().unwrap();
    let shown = s.json(&["user", "show", leaver]);
    assert_eq!(shown["status"], "disabled", "{shown}");
    assert!(shown["purge_at"].as_i64().unwrap() > 0);
    let renamed = updates[0]["login"].as_str().unwrap();
    let shown = s.json(&["user", "show", renamed]);
    assert_eq!(shown["family_name"], updates[0]["changes"][0]["to"]);
    // the same export again changes nothing
    let again =
        s.json(&["import", "csv", &roster("year-change/2026-students.csv")])["plan"].clone();
    assert_eq!(again["create"].as_array().unwrap().len(), 0);
    assert_eq!(again["moves"].as_array().unwrap().len(), 0);
    assert_eq!(again["disable"].as_array().unwrap().len(), 0);
}

#[test]
fn a_broken_file_is_refused_with_its_problem_and_changes_nothing() {
    let s = School::new();
    let empty = s.dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let e = s.fail(&["import", "csv", empty.to_str().unwrap()]);
    assert!(e.contains("empty.csv") && e.contains("empty"), "{e}");
    let png = s.dir.path().join("photo.csv");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let e = s.fail(&["import", "csv", png.to_str().unwrap()]);
    assert!(
        e.contains("photo.csv") && e.contains("not a text file"),
        "{e}"
    );
    let e = s.fail(&[
        "import",
        "csv",
        &roster("teachers-untis-utf8.csv"),
        "--profile",
        "nosuch",
    ]);
    assert!(e.contains("nosuch"), "{e}");
    assert_eq!(s.people().len(), 1);
    assert_eq!(s.json(&["import", "list"]).as_array().unwrap().len(), 0);
}

#[test]
fn promotion_without_an_export_and_letters_taken_once() {
    let s = School::new();
    let out = s.json(&[
        "import",
        "csv",
        &roster("year-change/2025-students.csv"),
        "--apply",
    ]);
    // the letters wait for one download
    let waiting = s.json(&["import", "letters"]);
    let token = waiting[0]["token"].as_str().unwrap().to_string();
    assert_eq!(waiting[0]["count"], out["applied"]["summary"]["create"]);
    let dir = s.dir.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    s.ok(&["import", "letters", &token, "--out", dir.to_str().unwrap()]);
    assert!(
        std::fs::read(dir.join("password-letters.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    let e = s.fail(&["import", "letters", &token, "--out", dir.to_str().unwrap()]);
    assert!(e.contains("already taken"), "{e}");

    let text = s.ok(&["import", "promote", "--last-grade", "10"]);
    assert!(text.contains("5a    6a"), "{text}");
    assert!(text.contains("nothing was changed yet"), "{text}");
    assert!(
        s.json(&["group", "list", "--kind", "class"])
            .to_string()
            .contains("\"10a\"")
    );
    let id = s.json(&["import", "list", "--status", "pending"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    s.ok(&["import", "apply", &id]);
    let grade5 = s.json(&["group", "members", "5a"]);
    assert_eq!(grade5.as_array().unwrap().len(), 0, "{grade5}");
    assert!(
        !s.json(&["group", "members", "6a"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// As on the appliance: root runs scholactl on a school whose state another user owns. The
/// export in root's private folder is read and the letters are written there as root's, while
/// the database stays the school's (scholactl takes on its owner for the database). Needs root,
/// as CI runs it.
#[test]
fn root_imports_from_and_writes_letters_to_its_own_folder_while_the_database_stays_the_schools() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test acts as root on a school owned by another user: run it as root (as CI does)"
    );
    let s = School::new();
    fn chown_tree(p: &Path) {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                chown_tree(&e.unwrap().path());
            }
        }
    }
    chown_tree(&s.dir.path().join("state"));
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let export = private.path().join("students.csv");
    std::fs::write(
        &export,
        "id,role,class,given_name,family_name\n1,student,5a,Jörg,Groß\n",
    )
    .unwrap();
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = s.ok(&[
        "import",
        "csv",
        export.to_str().unwrap(),
        "--apply",
        "--letters",
        private.path().to_str().unwrap(),
    ]);
    assert!(out.contains("1 created"), "{out}");
    let letters: Vec<_> = std::fs::read_dir(private.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("password-letters-")
        })
        .collect();
    assert_eq!(letters.len(), 2, "{letters:?}");
    for l in &letters {
        let m = std::fs::metadata(l).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o777), (0, 0o600), "{}", l.display());
        assert!(m.len() > 0, "{} is empty", l.display());
    }
    assert_eq!(std::fs::metadata(s.database()).unwrap().uid(), 65534);
}

/// The backup tests run Debian's restic; without it they fail and say how to get it.
fn require_restic() {
    let found = Command::new("restic")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "this test needs restic: apt-get install restic (scripts/install-test-deps installs it)"
    );
}

/// `backup` and `restore` with the real restic (Debian's package), the repository and password
/// file taken from `[backup]` of the configuration.
#[test]
fn backup_run_list_check_forget_and_restore_a_file() {
    require_restic();
    let s = School::new();
    let root = s.dir.path().to_path_buf();
    let mut config = std::fs::read_to_string(&s.config).unwrap();
    config.push_str(
        "[mail]\nvmail_dir = \"vmail\"\n\n[backup]\nrepository = \"usb/schola\"\npassword_file = \"backup.pass\"\n",
    );
    std::fs::write(&s.config, config).unwrap();
    std::fs::write(root.join("backup.pass"), "a long school passphrase\n").unwrap();
    std::fs::write(root.join("wrong.pass"), "not it\n").unwrap();
    std::fs::create_dir_all(root.join("usb")).unwrap();
    let doc = root.join("data/home/anna.berg/Documents/essay.txt");
    std::fs::create_dir_all(doc.parent().unwrap()).unwrap();
    std::fs::write(&doc, "Mein Sommer\n".repeat(1000)).unwrap();

    let repo = root.join("usb/schola");
    assert!(
        s.ok(&["backup", "init"])
            .contains("made the backup repository")
    );
    let e = s.fail(&["backup", "init"]);
    assert!(e.contains("already holds a backup repository"), "{e}");

    let run = s.json(&["backup", "run"]);
    assert!(run["summary"]["files_new"].as_u64().unwrap() >= 2, "{run}");
    assert!(run["summary"]["data_added"].as_u64().unwrap() > 0, "{run}");
    assert!(
        run["notes"].to_string().contains("Samba"),
        "the missing Samba passdb is named: {run}"
    );
    let text = s.ok(&["backup", "run"]);
    assert!(text.contains("added to the repository"), "{text}");
    // nothing changed but the database copy, which every run takes anew
    assert!(text.contains("files: 0 new, 1 changed"), "{text}");
    let list = s.json(&["backup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    // a backup made by hand shows on the dashboard like a nightly one
    let status = schola_core::backups::BackupPaths {
        request_dir: root.join("state/backup-request"),
        status_dir: root.join("backup-status"),
    }
    .read_status()
    .unwrap();
    let last = status.last_success.as_ref().unwrap();
    assert!(
        status.snapshots[0].id.starts_with(&last.snapshot),
        "the newest backup is the last success: {status:?}"
    );
    assert_eq!(status.snapshots.len(), 2, "{status:?}");
    assert!(s.ok(&["backup", "list"]).starts_with("id "));

    std::fs::remove_file(&doc).unwrap();
    let out = root.join("restored");
    let restored = s.json(&[
        "restore",
        "file",
        "--path",
        doc.to_str().unwrap(),
        "--to",
        out.to_str().unwrap(),
    ]);
    let landed = PathBuf::from(restored["to"].as_str().unwrap());
    assert_eq!(landed, out.join(doc.strip_prefix("/").unwrap()));
    assert_eq!(
        std::fs::read_to_string(&landed).unwrap(),
        "Mein Sommer\n".repeat(1000)
    );

    assert!(s.ok(&["backup", "check"]).contains("is intact"));
    let e = s.fail(&[
        "backup",
        "list",
        "--password-file",
        root.join("wrong.pass").to_str().unwrap(),
    ]);
    assert_eq!(
        e,
        format!("error: the backup password is wrong for {}", repo.display())
    );
    let e = s.fail(&["backup", "run", "--repo", "/nonexistent-disk/schola"]);
    assert_eq!(
        e,
        "error: the backup target /nonexistent-disk is not there: is the USB disk plugged in, or the NAS share mounted?"
    );
    let forget = s.json(&["backup", "forget"]);
    assert_eq!(
        forget["removed"], 1,
        "two backups on one day: the older goes"
    );

    let other = School::new();
    let e = other.fail(&["backup", "list"]);
    assert!(e.contains("no backup repository: give --repo"), "{e}");
}

/// A backup disk that fills up half-way: the error names the disk, the earlier backup stays.
#[test]
fn a_full_backup_disk_is_named_and_the_earlier_backup_stays() {
    let out = in_mount_namespace(
        r#"set -eu
d=$1; S=$2
printf '%s[mail]\nvmail_dir = "vmail"\n[backup]\nrepository = "usb/schola"\npassword_file = "backup.pass"\n' "$FAST_CONFIG" > "$d/schola.toml"
echo "a long passphrase" > "$d/backup.pass"
mkdir -p "$d/usb" "$d/data/home/anna"
mount -t tmpfs -o size=8m tmpfs "$d/usb"
"$S" --config "$d/schola.toml" init --school-name Voll --mail-domain voll.example >/dev/null
"$S" --config "$d/schola.toml" backup init >/dev/null
echo "essay" > "$d/data/home/anna/essay.txt"
"$S" --config "$d/schola.toml" backup run >/dev/null
head -c 24M /dev/urandom > "$d/data/home/anna/video.mp4"
if out=$("$S" --config "$d/schola.toml" backup run 2>&1); then echo "full=ran"; else echo "full=$out"; fi
echo "repo=$d/usb/schola"
echo "snapshots=$("$S" --config "$d/schola.toml" --json backup list | grep -c '"short_id"')"
# the nightly run records it, and the capacity check shows it as a WARN
if "$S" --config "$d/schola.toml" backup nightly --force >/dev/null 2>&1; then echo "nightly=ran"; else echo "nightly=failed"; fi
"$S" --config "$d/schola.toml" --json check --quick > "$d/check.json" || true
echo "health=$(tr -d '\n ' < "$d/check.json" | grep -o '"key":"backup","level":"[a-z]*"')"
"#,
    );
    assert_eq!(field(&out, "nightly"), "failed", "{out}");
    assert_eq!(
        field(&out, "health"),
        r#""key":"backup","level":"warn""#,
        "{out}"
    );
    let repo = field(&out, "repo");
    assert_eq!(
        field(&out, "full"),
        format!(
            "error: the backup target {repo} is full (no space left on the disk): free space there or use a larger disk; the earlier backups are unharmed"
        ),
        "{out}"
    );
    assert_eq!(field(&out, "snapshots"), "1", "{out}");
}

/// The nightly run and the admin UI's requests (what schola-backup.service and
/// schola-backup-request.service run), with the real restic: a missing USB disk is recorded
/// and exits 75 for the hourly retry, the capacity check reports the backup, a second run the
/// same night does nothing, a restore request brings a deleted folder back into "Restored
/// <date>", a forged request is refused, and the pre-upgrade snapshots are kept until the next.
#[test]
fn the_nightly_backup_records_its_result_and_carries_out_requests() {
    use schola_core::backups::{BackupPaths, Request, Status};
    require_restic();
    let s = School::new();
    let root = s.dir.path().to_path_buf();
    let mut config = std::fs::read_to_string(&s.config).unwrap();
    config.push_str("[backup]\nrepository = \"usb/schola\"\npassword_file = \"backup.pass\"\n");
    std::fs::write(&s.config, config).unwrap();
    std::fs::write(root.join("backup.pass"), "a long school passphrase\n").unwrap();
    let paths = BackupPaths {
        request_dir: root.join("state/backup-request"),
        status_dir: root.join("backup-status"),
    };
    let status = || -> Status { paths.read_status().unwrap() };
    let backup_health = || -> Value {
        let out = s.run(&["--json", "check", "--quick"]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["health"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["key"] == "backup")
            .cloned()
            .unwrap_or_else(|| panic!("no backup health check: {json}"))
    };

    // the USB disk is not plugged in
    let out = s.run(&["backup", "nightly"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("is not there: is the USB disk plugged in")
            && stderr.contains("tried again in an hour"),
        "{stderr}"
    );
    let st = status();
    let failure = st.last_failure.clone().unwrap();
    assert!(failure.target_missing, "{st:?}");
    assert!(st.first_attempt.is_some() && st.last_success.is_none());
    let h = backup_health();
    assert_eq!(h["level"], "warn", "{h}");
    assert!(
        h["detail"]
            .as_str()
            .unwrap()
            .contains("tried again every hour"),
        "{h}"
    );

    // plugged in: the backup runs, with the weekly integrity check (the first ever is due)
    std::fs::create_dir_all(root.join("usb")).unwrap();
    s.ok(&["backup", "init"]);
    let anna = s.json(&["user", "add", "--given", "Anna", "--family", "Berg"]);
    let login = anna["login"].as_str().unwrap().to_string();
    let home = root.join("data/home").join(&login);
    let essay = home.join("Documents/Deutsch/essay.txt");
    std::fs::create_dir_all(essay.parent().unwrap()).unwrap();
    std::fs::write(&essay, "Mein Sommer\n".repeat(500)).unwrap();
    let text = s.ok(&["backup", "nightly"]);
    assert!(
        text.contains("made:") && text.contains("integrity check passed"),
        "{text}"
    );
    let st = status();
    let last = st.last_success.clone().unwrap();
    assert!(last.data_added > 0 && last.total_bytes >= 6000, "{last:?}");
    assert_eq!(st.snapshots.len(), 1, "{st:?}");
    assert!(st.last_check.as_ref().unwrap().ok);
    assert!(st.failing().is_none(), "{st:?}");
    let h = backup_health();
    assert_eq!(h["level"], "ok", "{h}");

    // the hourly retry after a success does nothing
    assert!(s.ok(&["backup", "nightly"]).contains("nothing to do"));
    assert_eq!(status().snapshots.len(), 1);

    // the admin UI asks for a deleted folder back
    let store = schola_core::Store::open_current(
        &s.database(),
        std::sync::Arc::new(schola_core::SystemClock),
    )
    .unwrap();
    let id = store.person_by_login(&login).unwrap().unwrap().id;
    store
        .set_person_language(
            &schola_core::audit::Actor::system("test"),
            id,
            Some(schola_core::directory::Language::De),
        )
        .unwrap();
    drop(store);
    std::fs::remove_dir_all(home.join("Documents")).unwrap();
    paths
        .write_request(&Request::RestoreFiles {
            snapshot: "latest".into(),
            login: login.clone(),
            path: "/Documents/Deutsch".into(),
            language: None,
        })
        .unwrap();
    let text = s.ok(&["backup", "run-request"]);
    assert!(
        text.contains(&format!("restored 'Documents/Deutsch' of {login}")),
        "{text}"
    );
    // named in Anna's language: she chose German
    let folder = schola_core::backups::restored_folder_name(
        status().snapshots[0].time,
        schola_core::directory::Language::De,
    );
    assert!(folder.starts_with("Wiederhergestellt "), "{folder}");
    assert!(text.contains(&folder), "{text}");
    assert_eq!(
        std::fs::read_to_string(home.join(&folder).join("Documents/Deutsch/essay.txt")).unwrap(),
        "Mein Sommer\n".repeat(500)
    );
    assert!(
        !home.join("Documents").exists(),
        "nothing is put back over the person's own files"
    );
    assert!(!paths.request().exists(), "the request was taken");
    // the same again lands beside it, not over it
    paths
        .write_request(&Request::RestoreFiles {
            snapshot: status().snapshots[0].short_id.clone(),
            login: login.clone(),
            path: String::new(),
            language: None,
        })
        .unwrap();
    let text = s.ok(&["backup", "run-request"]);
    assert!(text.contains("restored all files"), "{text}");
    assert!(
        home.join(format!("{folder} (2)/Documents/Deutsch/essay.txt"))
            .is_file()
    );

    // a request written by hand, past the web server's checks, is refused and removed
    std::fs::write(
        paths.request(),
        r#"{"action":"restore-files","snapshot":"latest","login":"x","path":"../../../etc"}"#,
    )
    .unwrap();
    let e = s.fail(&["backup", "run-request"]);
    assert!(e.contains("may not hold '.' or '..'"), "{e}");
    assert!(!paths.request().exists());
    let st = status();
    assert_eq!(st.state, Some(schola_core::backups::RunState::Failed));
    paths
        .write_request(&Request::RestoreMailbox {
            snapshot: "latest".into(),
            login: "nobody.here".into(),
        })
        .unwrap();
    let e = s.fail(&["backup", "run-request"]);
    assert!(e.contains("nobody.here"), "{e}");

    // "back up now" runs even though one succeeded tonight; the retention keeps the last of
    // each day, so it replaces tonight's
    let before = status().snapshots[0].id.clone();
    paths.write_request(&Request::Run).unwrap();
    let text = s.ok(&["backup", "run-request"]);
    assert!(
        text.contains("made:") && text.contains("1 old removed"),
        "{text}"
    );
    let st = status();
    assert_eq!(st.snapshots.len(), 1, "{st:?}");
    assert_ne!(st.snapshots[0].id, before);
    assert_eq!(s.json(&["backup", "list"])[0]["id"], st.snapshots[0].id);

    // the snapshot before each upgrade is kept until the next upgrade succeeds
    let pre = root.join("state/pre-upgrade");
    s.ok(&["backup", "pre-upgrade", "--from", "0.1.0"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.ok(&["backup", "pre-upgrade", "--from", "0.2.0"]);
    let list = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&pre)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list().len(), 2, "{:?}", list());
    assert!(
        s.ok(&["backup", "pre-upgrade", "--prune"])
            .contains("removed 1 older")
    );
    let kept = list();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].ends_with("-0.2.0"), "{kept:?}");
    let snap = pre.join(&kept[0]);
    assert!(snap.join("config/schola.toml").is_file());
    let db = rusqlite::Connection::open(snap.join("schola.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM people WHERE login = ?1",
            [&login],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1, "the snapshot holds the people");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&snap).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

/// Disaster recovery with the real restic: a school backed up, then `restore server` onto a
/// fresh machine (its own configuration, nothing else), where the people sign in with their old
/// passwords and find their files and mail; a second restore onto it is refused without
/// `--replace`.
#[test]
fn restore_server_brings_the_school_onto_a_fresh_machine() {
    require_restic();
    let s = School::new();
    let root = s.dir.path().to_path_buf();
    let mut config = std::fs::read_to_string(&s.config).unwrap();
    config.push_str(
        "[mail]\nvmail_dir = \"vmail\"\n\n[backup]\nrepository = \"usb/schola\"\npassword_file = \"backup.pass\"\n",
    );
    std::fs::write(&s.config, &config).unwrap();
    std::fs::write(root.join("backup.pass"), "a long school passphrase\n").unwrap();
    std::fs::create_dir_all(root.join("usb")).unwrap();
    let args = [
        "user",
        "add",
        "--given",
        "Anna",
        "--family",
        "Müller",
        "--password-stdin",
    ];
    succeeded(&args, s.run_with_stdin(&args, "Sonnenblume-7\n"));
    let anna = s.json(&["user", "show", "anna.mueller"]);
    let id = anna["id"].as_i64().unwrap_or_else(|| panic!("{anna}"));
    let essay = "data/home/anna.mueller/Documents/essay.txt";
    let mail = format!("vmail/{id}/Maildir/cur/1700000000.M1P1.schola:2,S");
    for (rel, text) in [
        (essay, "Mein Sommer\n".repeat(1000)),
        (
            mail.as_str(),
            "From: teacher@test.schule.example\nSubject: Homework\n\nPage 12\n".to_string(),
        ),
    ] {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), text).unwrap();
    }
    s.ok(&["backup", "init"]);
    s.ok(&["backup", "run"]);

    // a fresh install (the dev profile's mail would be the machine's /var/vmail otherwise)
    let fresh = School::empty();
    std::fs::write(
        &fresh.config,
        format!("{FAST_CONFIG}[mail]\nvmail_dir = \"vmail\"\n"),
    )
    .unwrap();
    let new_root = fresh.dir.path().to_path_buf();
    let repo_args = [
        "--repo",
        root.join("usb/schola").to_str().unwrap(),
        "--password-file",
        root.join("backup.pass").to_str().unwrap(),
    ]
    .map(str::to_string);
    let restore = |extra: &[&str]| {
        let mut a = vec!["restore", "server"];
        a.extend(repo_args.iter().map(String::as_str));
        a.extend_from_slice(extra);
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let args = restore(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = fresh.json(&args);
    assert_eq!(done["people"], 2, "{done}");
    assert!(
        done["restored"].to_string().contains("the database"),
        "{done}"
    );

    // the old school's configuration at the new place, naming the new places
    assert_eq!(std::fs::read_to_string(&fresh.config).unwrap(), config);
    let people = fresh.people();
    assert!(
        people.iter().any(|p| p["login"] == "anna.mueller"),
        "{people:?}"
    );
    let store = schola_core::Store::open_current(
        &fresh.database(),
        std::sync::Arc::new(schola_core::SystemClock),
    )
    .unwrap();
    let (_, hash) = store.credentials("anna.mueller").unwrap().unwrap();
    assert!(schola_core::password::verify_password(
        &hash.unwrap(),
        "Sonnenblume-7"
    ));
    drop(store);
    for rel in [essay, mail.as_str()] {
        assert_eq!(
            std::fs::read(new_root.join(rel)).unwrap(),
            std::fs::read(root.join(rel)).unwrap(),
            "{rel}"
        );
    }

    // the machine now holds a school: refused, unless replaced
    let e = fresh.fail(&args);
    assert!(
        e.contains("this machine already holds a school") && e.contains("--replace"),
        "{e}"
    );
    let args = restore(&["--replace"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = fresh.ok(&args);
    assert!(text.contains("restored the school from backup"), "{text}");
    assert!(text.contains("systemctl restart schola.target"), "{text}");
    let e = fresh.fail(&[
        "restore",
        "server",
        "--snapshot",
        "deadbeef",
        "--repo",
        root.join("usb/schola").to_str().unwrap(),
        "--password-file",
        root.join("backup.pass").to_str().unwrap(),
    ]);
    assert!(e.contains("there is no backup 'deadbeef'"), "{e}");
}

/// Disaster recovery the way the first-run setup asks for it: on a fresh server (its empty
/// database as schola-web made it) the wizard kept the target and passphrase and left a
/// `RestoreServer` request; the root helper (`backup run-request`) restores the whole school.
#[test]
fn the_first_run_setups_restore_request_brings_the_school_back() {
    use schola_core::backups::{self, BackupPaths, Request, RunState};
    require_restic();
    let old = School::new();
    let root = old.dir.path().to_path_buf();
    let repo = root.join("usb/schola");
    let mut config = std::fs::read_to_string(&old.config).unwrap();
    config.push_str(&format!(
        "[mail]\nvmail_dir = \"vmail\"\n\n[backup]\nrepository = \"{}\"\npassword_file = \"backup.pass\"\n",
        repo.display()
    ));
    std::fs::write(&old.config, config).unwrap();
    std::fs::write(root.join("backup.pass"), "a long school passphrase\n").unwrap();
    std::fs::create_dir_all(root.join("usb")).unwrap();
    old.ok(&["backup", "init"]);
    let anna = old.json(&["user", "add", "--given", "Anna", "--family", "Berg"]);
    let login = anna["login"].as_str().unwrap().to_string();
    let essay = format!("data/home/{login}/Documents/essay.txt");
    std::fs::create_dir_all(root.join(&essay).parent().unwrap()).unwrap();
    std::fs::write(root.join(&essay), "Mein Sommer\n".repeat(300)).unwrap();
    old.ok(&["backup", "nightly"]);

    // the new server, as the wizard leaves it
    let fresh = School::empty();
    let mut fresh_config = std::fs::read_to_string(&fresh.config).unwrap();
    fresh_config.push_str("[mail]\nvmail_dir = \"vmail\"\n");
    std::fs::write(&fresh.config, fresh_config).unwrap();
    let cfg = schola_core::Config::load(&fresh.config).unwrap();
    let ask = || {
        let (store, _) = schola_core::Store::open(&cfg.database_path()).unwrap();
        store
            .set_backup_target(
                &schola_core::audit::Actor::system("first-run setup"),
                Some(repo.to_str().unwrap()),
            )
            .unwrap();
        backups::write_passphrase(&cfg, "a long school passphrase", 1_795_485_600).unwrap();
        BackupPaths::from_config(&cfg)
            .write_request(&Request::RestoreServer {
                snapshot: "latest".into(),
            })
            .unwrap();
    };
    ask();
    let text = fresh.ok(&["backup", "run-request"]);
    assert!(text.contains("restored the school from backup"), "{text}");
    assert!(
        fresh.people().iter().any(|p| p["login"] == login.as_str()),
        "{:?}",
        fresh.people()
    );
    assert_eq!(
        std::fs::read_to_string(fresh.dir.path().join(&essay)).unwrap(),
        "Mein Sommer\n".repeat(300)
    );
    let status = BackupPaths::from_config(&cfg).read_status().unwrap();
    assert_eq!(status.action.as_deref(), Some("restore-server"));
    assert_eq!(status.state, Some(RunState::Succeeded), "{status:?}");

    // asked again, now that the school is there: refused, nothing changed (the restored
    // configuration names its password file, which an appliance gets back with /etc/schola; the
    // dev profile keeps it beside the configuration)
    std::fs::copy(
        root.join("backup.pass"),
        fresh.dir.path().join("backup.pass"),
    )
    .unwrap();
    ask();
    let e = fresh.fail(&["backup", "run-request"]);
    assert!(e.contains("already holds a school"), "{e}");
    let status = BackupPaths::from_config(&cfg).read_status().unwrap();
    assert_eq!(status.state, Some(RunState::Failed), "{status:?}");
    assert!(
        status.message.contains("already holds a school"),
        "{status:?}"
    );
}
