//! A throwaway OpenLDAP `slapd` for tests and benchmarks (cargo feature `test-slapd`).
//!
//! [`Slapd::start_with`] writes a `slapd.conf` (mdb backend; core, cosine, inetorgperson and
//! nis schemas, plus an Active Directory-like schema for [`SchemaKind::AdLike`]), a test CA and
//! a server certificate for `127.0.0.1`, loads the base tree and the given LDIF with `slapadd`,
//! and runs `/usr/sbin/slapd` in the foreground on `ldap://127.0.0.1:<port>` (plain and
//! StartTLS) and `ldaps://127.0.0.1:<port>`. Dropping the [`Slapd`] kills it. Run as root, it
//! hands its directory to the `openldap` user and slapd drops its privileges.
//!
//! The server behaves like a school's directory would to Schola's sync:
//! - the sync reads as a service account ([`Slapd::reader_dn`]) that is subject to a size
//!   limit of 1,000 entries per search (`size.prtotal=unlimited`: paged searches may read
//!   everything), so a sync of more people only works with paged results;
//! - people's passwords are [`password_of`] their number, checked by binding as their DN;
//! - the admin ([`Slapd::admin_dn`], the rootdn) changes the tree with `ldapmodify`.
//!
//! [`people_ldif`] generates a school of any size: logins `u00000`, `u00001`, …, every 20th
//! person a teacher, every 50th (from 7) staff, everyone else a student in one of
//! [`CLASSES`], with a class group each, and a `teachers` group that is not a class.
//!
//! Needs the Debian packages `slapd` and `ldap-utils`; without them [`Slapd::start_with`]
//! fails saying so.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use rand::Rng as _;
use schola_core::directory::Role;

/// The suffix of every test tree.
pub const SUFFIX: &str = "dc=school,dc=test";
const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const LDAPMODIFY: &str = "/usr/bin/ldapmodify";
const SCHEMA_DIR: &str = "/etc/ldap/schema";
/// `tests/fixtures/ldap/ad-like.schema`: objectGUID, sAMAccountName, `user`, `group`.
pub const AD_LIKE_SCHEMA: &str = include_str!("../../tests/fixtures/ldap/ad-like.schema");
/// What the sync's service account may read per search without paging.
pub const SIZE_LIMIT: usize = 1000;
const INSTALL_HINT: &str = "install OpenLDAP's server and tools: apt-get install slapd ldap-utils (scripts/install-test-deps does)";

/// The classes [`people_ldif`] puts students in (as Schola group names; the groups are
/// `class-5a`, ...).
pub const CLASSES: [&str; 24] = [
    "5a", "5b", "5c", "5d", "6a", "6b", "6c", "6d", "7a", "7b", "7c", "7d", "8a", "8b", "8c", "8d",
    "9a", "9b", "9c", "9d", "10a", "10b", "10c", "10d",
];
const GIVEN: [&str; 20] = [
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannes", "Ida", "Jonas", "Klara",
    "Lukas", "Mia", "Noah", "Olga", "Paul", "Rosa", "Samuel", "Tilda", "Yusuf",
];
const FAMILY: [&str; 30] = [
    "Schmidt",
    "Müller",
    "Yılmaz",
    "Weber",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Nowak",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
];

/// The two shapes of directory the sync meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// OpenLDAP: `inetOrgPerson` with `uid` under `ou=people`, `entryUUID` as the id,
    /// `groupOfNames` under `ou=groups`.
    OpenLdap,
    /// Active Directory's shape: `user` with a binary `objectGUID` and `sAMAccountName`
    /// (upper-case first letter, as AD admins write them) under `OU=People`, `group` under
    /// `OU=Groups`, DNs in AD's upper-case spelling.
    AdLike,
}

impl SchemaKind {
    /// Where the people are (the sync's `base_dn`).
    pub fn people_dn(self) -> String {
        match self {
            SchemaKind::OpenLdap => format!("ou=people,{SUFFIX}"),
            SchemaKind::AdLike => "OU=People,DC=school,DC=test".into(),
        }
    }

    /// Where the groups are (the sync's `group_base_dn`).
    pub fn groups_dn(self) -> String {
        match self {
            SchemaKind::OpenLdap => format!("ou=groups,{SUFFIX}"),
            SchemaKind::AdLike => "OU=Groups,DC=school,DC=test".into(),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            SchemaKind::OpenLdap => SUFFIX,
            SchemaKind::AdLike => "DC=school,DC=test",
        }
    }

    fn reader_dn(self) -> String {
        match self {
            SchemaKind::OpenLdap => format!("cn=reader,{SUFFIX}"),
            SchemaKind::AdLike => "CN=schola-sync,DC=school,DC=test".into(),
        }
    }
}

/// Person `i`'s login (`u00042`); in the AD-like tree the `sAMAccountName` is `U00042`.
pub fn login_of(i: usize) -> String {
    format!("u{i:05}")
}

/// Person `i`'s upstream password.
pub fn password_of(i: usize) -> String {
    format!("Pw-{}-secret", login_of(i))
}

/// Person `i`'s role: every 20th a teacher (`employeeType: teacher`), every 50th from 7 staff
/// (`employeeType: staff`), the others students.
pub fn role_of(i: usize) -> Role {
    if i.is_multiple_of(20) {
        Role::Teacher
    } else if i % 50 == 7 {
        Role::Staff
    } else {
        Role::Student
    }
}

/// Person `i`'s class (students only), as a Schola group name.
pub fn class_of(i: usize) -> Option<&'static str> {
    (role_of(i) == Role::Student).then(|| CLASSES[i % CLASSES.len()])
}

pub fn given_name_of(i: usize) -> &'static str {
    GIVEN[i % GIVEN.len()]
}

pub fn family_name_of(i: usize) -> &'static str {
    FAMILY[(i / GIVEN.len()) % FAMILY.len()]
}

/// Person `i`'s `objectGUID` in the AD-like tree, as the sync should render it: person 0 is
/// `3f2504e0-4f89-41d3-9a0c-000000000000`.
pub fn guid_of(i: usize) -> String {
    format!(
        "{:08x}-4f89-41d3-9a0c-{:012x}",
        0x3f25_04e0_u32.wrapping_add(i as u32),
        i
    )
}

/// A GUID string as AD stores it: 16 bytes, the first three fields little-endian.
pub fn guid_bytes(guid: &str) -> Option<[u8; 16]> {
    let hex: String = guid.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (k, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

/// Person `i`'s DN.
pub fn person_dn(schema: SchemaKind, i: usize) -> String {
    match schema {
        SchemaKind::OpenLdap => format!("uid={},{}", login_of(i), schema.people_dn()),
        SchemaKind::AdLike => format!("CN={},{}", login_of(i), schema.people_dn()),
    }
}

/// The DN of a class's group (`class` as in [`CLASSES`]).
pub fn class_group_dn(schema: SchemaKind, class: &str) -> String {
    match schema {
        SchemaKind::OpenLdap => format!("cn=class-{class},{}", schema.groups_dn()),
        SchemaKind::AdLike => format!("CN=class-{class},{}", schema.groups_dn()),
    }
}

/// One LDIF attribute line; values that are not plain ASCII (or would be misread) are base64.
pub fn ldif_attr(out: &mut String, attr: &str, value: &[u8]) {
    let plain = !value.is_empty()
        && value
            .iter()
            .all(|b| (0x20..0x7f).contains(b) && *b != b'\n' && *b != b'\r')
        && !matches!(value[0], b' ' | b':' | b'<')
        && value.last() != Some(&b' ');
    if plain {
        let _ = writeln!(out, "{attr}: {}", String::from_utf8_lossy(value));
    } else {
        let _ = writeln!(
            out,
            "{attr}:: {}",
            base64::engine::general_purpose::STANDARD.encode(value)
        );
    }
}

/// A school of `n` people and its class groups, as LDIF for [`Slapd::start_with`] (slapadd)
/// or [`Slapd::ldapadd`]. See the module documentation for who is what.
pub fn people_ldif(n: usize, schema: SchemaKind) -> String {
    let mut out = String::with_capacity(n * 300);
    for i in 0..n {
        let login = login_of(i);
        let given = given_name_of(i);
        let family = family_name_of(i);
        let full = format!("{given} {family}");
        let _ = writeln!(out, "dn: {}", person_dn(schema, i));
        match schema {
            SchemaKind::OpenLdap => {
                out.push_str("objectClass: inetOrgPerson\n");
                ldif_attr(&mut out, "uid", login.as_bytes());
                ldif_attr(&mut out, "cn", full.as_bytes());
            }
            SchemaKind::AdLike => {
                out.push_str("objectClass: user\n");
                ldif_attr(&mut out, "cn", login.as_bytes());
                ldif_attr(&mut out, "sAMAccountName", login.to_uppercase().as_bytes());
                let guid = guid_bytes(&guid_of(i)).unwrap_or_default();
                ldif_attr(&mut out, "objectGUID", &guid);
                ldif_attr(&mut out, "displayName", full.as_bytes());
            }
        }
        ldif_attr(&mut out, "givenName", given.as_bytes());
        ldif_attr(&mut out, "sn", family.as_bytes());
        let _ = writeln!(out, "mail: {login}@school.test");
        match role_of(i) {
            Role::Teacher => out.push_str("employeeType: teacher\n"),
            Role::Staff => out.push_str("employeeType: staff\n"),
            _ => {}
        }
        ldif_attr(&mut out, "userPassword", password_of(i).as_bytes());
        out.push('\n');
    }
    let group_class = match schema {
        SchemaKind::OpenLdap => "groupOfNames",
        SchemaKind::AdLike => "group",
    };
    let group = |out: &mut String, dn: String, cn: &str, members: Vec<usize>| {
        // groupOfNames must have a member: empty groups are left out
        if members.is_empty() {
            return;
        }
        let _ = writeln!(out, "dn: {dn}\nobjectClass: {group_class}\ncn: {cn}");
        for m in members {
            let _ = writeln!(out, "member: {}", person_dn(schema, m));
        }
        out.push('\n');
    };
    for class in CLASSES {
        let members = (0..n).filter(|i| class_of(*i) == Some(class)).collect();
        group(
            &mut out,
            class_group_dn(schema, class),
            &format!("class-{class}"),
            members,
        );
    }
    let teachers = (0..n).filter(|i| role_of(*i) == Role::Teacher).collect();
    let teachers_dn = match schema {
        SchemaKind::OpenLdap => format!("cn=teachers,{}", schema.groups_dn()),
        SchemaKind::AdLike => format!("CN=Teachers,{}", schema.groups_dn()),
    };
    group(&mut out, teachers_dn, "teachers", teachers);
    out
}

/// A running slapd; killed on drop.
#[derive(Debug)]
pub struct Slapd {
    /// `ldap://127.0.0.1:<port>` (plain, and StartTLS with the test CA).
    pub ldap_url: String,
    /// `ldaps://127.0.0.1:<port>`.
    pub ldaps_url: String,
    /// The test CA that signed the server's certificate (for `ca_file`).
    pub ca_pem_path: PathBuf,
    /// The rootdn: no limits, may write everything.
    pub admin_dn: String,
    /// Its password, without a newline (as `ldapmodify -y` wants it).
    pub admin_password_file: PathBuf,
    /// The sync's service account: reads everything but passwords, 1,000 entries per search.
    pub reader_dn: String,
    /// Its password, with a trailing newline (as an admin's editor leaves it).
    pub reader_password_file: PathBuf,
    /// The suffix, `dc=school,dc=test`.
    pub base_dn: String,
    pub people_dn: String,
    pub groups_dn: String,
    pub schema: SchemaKind,
    /// slapd's output (`-d stats`: one line per operation); named in every failure.
    pub log_path: PathBuf,
    pub dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

fn random_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

/// The test CA and a server certificate for 127.0.0.1, ::1 and localhost: (ca.pem, server.pem,
/// server.key) under `dir`. The keys exist only there.
fn write_certificates(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().context("cannot generate the test CA's key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Schola slapd test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).context("cannot sign the test CA")?;
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().context("cannot generate the server key")?;
    let mut server = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
    ])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = server
        .signed_by(&key, &issuer)
        .context("cannot sign the server certificate")?;
    let ca_path = dir.join("ca.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    std::fs::write(&ca_path, ca_cert.pem())?;
    std::fs::write(&cert_path, cert.pem())?;
    write_private(&key_path, &key.serialize_pem())?;
    Ok((ca_path, cert_path, key_path))
}

/// The `openldap` user's uid and gid, from /etc/passwd.
fn openldap_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"openldap") && f.len() > 3)
            .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
            .flatten()
    })
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("cannot chown {}", path.display()))?;
    if path.is_dir() {
        for e in std::fs::read_dir(path)? {
            chown_tree(&e?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Whether slapd can drop to the `openldap` user: we are root, the user exists, and every
/// directory above `dir` lets others through.
fn drop_to_openldap(dir: &Path) -> Option<(u32, u32)> {
    let euid = std::fs::metadata("/proc/self").ok()?.uid();
    if euid != 0 {
        return None;
    }
    let user = openldap_user()?;
    let traversable = dir.parent().is_some_and(|p| {
        p.ancestors()
            .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
    });
    traversable.then_some(user)
}

/// An anonymous bind over TCP, by hand: proves slapd answers LDAP, not just that the port is
/// open (slapd listens before its database is ready).
fn answers_ldap(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    // BindRequest, message 1, version 3, name "", simple ""
    let bind = [
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
    ];
    if s.write_all(&bind).is_err() {
        return false;
    }
    let mut buf = [0u8; 14];
    // BindResponse (0x61) with resultCode success (0x0a 0x01 0x00)
    s.read_exact(&mut buf).is_ok() && buf[5] == 0x61 && buf[7..10] == [0x0a, 0x01, 0x00]
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Slapd {
    /// A server with the base tree only (suffix, people and groups OUs, the service account).
    pub fn start(dir: &Path, schema: SchemaKind) -> Result<Slapd> {
        Slapd::start_with(dir, schema, "")
    }

    /// A server with the base tree and `ldif` (e.g. [`people_ldif`]) loaded by slapadd. `dir`
    /// should be a directory of its own, such as a `tempfile::tempdir()`: as root it is given
    /// to the `openldap` user.
    pub fn start_with(dir: &Path, schema: SchemaKind, ldif: &str) -> Result<Slapd> {
        for bin in [SLAPD, SLAPADD, LDAPMODIFY] {
            if !Path::new(bin).exists() {
                bail!("{bin} is missing: {INSTALL_HINT}");
            }
        }
        std::fs::create_dir_all(dir.join("db"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let (ca_pem_path, cert, key) = write_certificates(&dir)?;
        let admin_password = random_password();
        let reader_password = random_password();
        let admin_password_file = dir.join("admin.password");
        let reader_password_file = dir.join("reader.password");
        write_private(&admin_password_file, &admin_password)?;
        write_private(&reader_password_file, &format!("{reader_password}\n"))?;
        let admin_dn = format!("cn=admin,{SUFFIX}");
        let reader_dn = schema.reader_dn();

        let mut conf = String::new();
        for s in ["core", "cosine", "inetorgperson", "nis"] {
            let _ = writeln!(conf, "include {SCHEMA_DIR}/{s}.schema");
        }
        if schema == SchemaKind::AdLike {
            let path = dir.join("ad-like.schema");
            std::fs::write(&path, AD_LIKE_SCHEMA)?;
            let _ = writeln!(conf, "include {}", path.display());
        }
        let d = dir.display();
        let _ = write!(
            conf,
            "pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}

database mdb
maxsize 1073741824
suffix \"{SUFFIX}\"
rootdn \"{admin_dn}\"
rootpw {admin_password}
directory {d}/db
index objectClass,uid,cn,member,memberUid,employeeType eq
# like a real directory: a plain search reads at most {SIZE_LIMIT} entries, a paged one all
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by * read
",
            ca = ca_pem_path.display(),
            cert = cert.display(),
            key = key.display(),
        );
        let conf_path = dir.join("slapd.conf");
        std::fs::write(&conf_path, &conf)?;

        let base = schema.suffix();
        let mut data = format!(
            "dn: {base}\nobjectClass: dcObject\nobjectClass: organization\ndc: school\no: Schola Testschule\n\n\
             dn: {people}\nobjectClass: organizationalUnit\nou: {people_ou}\n\n\
             dn: {groups}\nobjectClass: organizationalUnit\nou: {groups_ou}\n\n",
            people = schema.people_dn(),
            groups = schema.groups_dn(),
            people_ou = if schema == SchemaKind::AdLike {
                "People"
            } else {
                "people"
            },
            groups_ou = if schema == SchemaKind::AdLike {
                "Groups"
            } else {
                "groups"
            },
        );
        let _ = writeln!(data, "dn: {reader_dn}");
        match schema {
            SchemaKind::OpenLdap => {
                data.push_str("objectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\n");
            }
            SchemaKind::AdLike => {
                data.push_str("objectClass: user\ncn: schola-sync\nsAMAccountName: schola-sync\n");
            }
        }
        let _ = writeln!(data, "userPassword: {reader_password}\n");
        data.push_str(ldif);
        let data_path = dir.join("data.ldif");
        std::fs::write(&data_path, &data)?;
        let out = Command::new(SLAPADD)
            .arg("-q")
            .arg("-f")
            .arg(&conf_path)
            .arg("-l")
            .arg(&data_path)
            .output()
            .with_context(|| format!("cannot run {SLAPADD}"))?;
        if !out.status.success() {
            bail!(
                "slapadd -f {} -l {} failed ({}):\n{}{}",
                conf_path.display(),
                data_path.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let log_path = dir.join("slapd.log");
        let mut log = std::fs::File::create(&log_path)?;
        let user = drop_to_openldap(&dir);
        match user {
            Some((uid, gid)) => chown_tree(&dir, uid, gid)?,
            None => {
                let _ = writeln!(
                    log,
                    "(slapd runs as this process's user: not root, no openldap user, or a \
                     directory above {d} is closed to others)"
                );
            }
        }
        let ldap_port = free_port()?;
        let ldaps_port = free_port()?;
        let ldap_url = format!("ldap://127.0.0.1:{ldap_port}");
        let ldaps_url = format!("ldaps://127.0.0.1:{ldaps_port}");
        let mut cmd = Command::new(SLAPD);
        cmd.arg("-f")
            .arg(&conf_path)
            .arg("-h")
            .arg(format!("{ldap_url}/ {ldaps_url}/"))
            // foreground; log every operation (stats) to the log file
            .args(["-d", "stats"]);
        if user.is_some() {
            cmd.args(["-u", "openldap", "-g", "openldap"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {SLAPD}"))?;
        let mut slapd = Slapd {
            ldap_url,
            ldaps_url,
            ca_pem_path,
            admin_dn,
            admin_password_file,
            reader_dn,
            reader_password_file,
            base_dn: SUFFIX.to_string(),
            people_dn: schema.people_dn(),
            groups_dn: schema.groups_dn(),
            schema,
            log_path,
            dir,
            child: Some(child),
        };
        slapd.wait_ready(SocketAddr::from(([127, 0, 0, 1], ldap_port)))?;
        Ok(slapd)
    }

    fn wait_ready(&mut self, addr: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!(
                    "slapd exited ({status}) before it answered; its log {}:\n{}",
                    self.log_path.display(),
                    tail(&self.log_path, 30)
                );
            }
            if answers_ldap(addr) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "slapd did not answer on {} within 20 s; its log {}:\n{}",
                    self.ldap_url,
                    self.log_path.display(),
                    tail(&self.log_path, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A sync configuration for this server and schema: LDAPS with the test CA, the service
    /// account, roles by `employeeType`, classes from `class-*` groups, pages of 500.
    pub fn config(&self) -> schola_core::config::Ldap {
        let (user_filter, id, login, group_filter) = match self.schema {
            SchemaKind::OpenLdap => (
                "(objectClass=inetOrgPerson)",
                "entryUUID",
                "uid",
                "(objectClass=groupOfNames)",
            ),
            SchemaKind::AdLike => (
                "(objectClass=user)",
                "objectGUID",
                "sAMAccountName",
                "(objectClass=group)",
            ),
        };
        schola_core::config::Ldap {
            url: self.ldaps_url.clone(),
            starttls: false,
            ca_file: Some(self.ca_pem_path.clone()),
            bind_dn: self.reader_dn.clone(),
            bind_password_file: Some(self.reader_password_file.clone()),
            base_dn: self.people_dn.clone(),
            user_filter: user_filter.into(),
            id_attribute: id.into(),
            login_attribute: login.into(),
            teacher_filter: Some("(employeeType=teacher)".into()),
            staff_filter: Some("(employeeType=staff)".into()),
            group_base_dn: Some(self.groups_dn.clone()),
            group_filter: group_filter.into(),
            class_pattern: "^class-(.+)$".into(),
            page_size: 500,
            timeout_secs: 10,
            ..schola_core::config::Ldap::default()
        }
    }

    /// Applies an LDIF change as the admin with `ldapmodify` (over the plain loopback port).
    pub fn ldapmodify(&self, ldif: &str) -> Result<()> {
        self.ldap_tool(&[], ldif)
    }

    /// Adds entries as the admin with `ldapmodify -a`.
    pub fn ldapadd(&self, ldif: &str) -> Result<()> {
        self.ldap_tool(&["-a"], ldif)
    }

    fn ldap_tool(&self, extra: &[&str], ldif: &str) -> Result<()> {
        let mut child = Command::new(LDAPMODIFY)
            .args(extra)
            .args(["-x", "-H", &self.ldap_url, "-D", &self.admin_dn, "-y"])
            .arg(&self.admin_password_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {LDAPMODIFY}: {INSTALL_HINT}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(ldif.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "ldapmodify {} on {} failed ({}): {}{}\n(slapd log: {})",
                extra.join(" "),
                self.ldap_url,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log_path.display()
            );
        }
        Ok(())
    }

    /// slapd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// slapd's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn signal(&self, sig: &str) -> Result<()> {
        let Some(pid) = self.pid() else {
            bail!("slapd is not running");
        };
        let status = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .context("cannot run kill")?;
        if !status.success() {
            bail!("kill {sig} {pid} failed ({status})");
        }
        Ok(())
    }

    /// Freezes slapd (SIGSTOP): connections are accepted by the kernel but nothing answers, as
    /// with a hung server.
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused slapd go on (SIGCONT).
    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    /// Kills slapd and waits for it: the ports then refuse connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_round_trip_through_ads_byte_order() {
        let b = guid_bytes("3f2504e0-4f89-41d3-9a0c-0305e82c3301").unwrap();
        assert_eq!(b[..4], [0xe0, 0x04, 0x25, 0x3f]);
        assert_eq!(
            crate::ldap::guid_string(&b).as_deref(),
            Some("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
        );
        assert_eq!(guid_of(0), "3f2504e0-4f89-41d3-9a0c-000000000000");
    }

    #[test]
    fn the_generated_school_has_every_role() {
        let roles: Vec<Role> = (0..100).map(role_of).collect();
        assert_eq!(roles.iter().filter(|r| **r == Role::Teacher).count(), 5);
        assert_eq!(roles.iter().filter(|r| **r == Role::Staff).count(), 2);
        let ldif = people_ldif(3, SchemaKind::OpenLdap);
        assert!(ldif.contains("dn: uid=u00000,ou=people,dc=school,dc=test\n"));
        assert!(
            people_ldif(25, SchemaKind::OpenLdap).contains("sn:: "),
            "Müller is base64 in LDIF"
        );
        assert!(ldif.contains("dn: cn=class-5b,ou=groups,dc=school,dc=test\n"));
        assert!(!ldif.contains("class-5a,"), "no empty groups");
    }
}
