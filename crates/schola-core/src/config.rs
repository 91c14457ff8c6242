//! The configuration file format: `/etc/schola/schola.toml` plus `/etc/schola/conf.d/*.toml`.
//!
//! The file holds only what is needed before the database opens (paths, listeners, certificates,
//! limits); settings an admin changes in the web UI live in the database. Every file is checked
//! on its own first, so an unknown key or a wrong type is reported with the file, the line and
//! the key; then the files are merged in order (`conf.d` sorted by name overrides the main file).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PATH: &str = "/etc/schola/schola.toml";
pub const ENV_VAR: &str = "SCHOLA_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {key}{message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Value { path: PathBuf, message: String },
}

/// `appliance` uses the Debian paths; `dev` keeps everything under one directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Appliance,
    Dev,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub profile: Profile,
    pub paths: Paths,
    pub web: Web,
    pub auth: Auth,
    pub directory: Directory,
    pub import: Import,
    pub files: Files,
    pub mail: Mail,
    pub backup: Backup,
    /// The file this configuration was read from (not a key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    /// With `profile = "dev"`: the one directory holding state and data.
    pub root: Option<PathBuf>,
    /// Database, TLS material, secrets.
    pub state_dir: PathBuf,
    /// Home and group shares.
    pub data_dir: PathBuf,
    /// Where the privileged update helper writes its status and log for the admin UI's Updates
    /// page. Default: `/var/lib/schola-update`; with `profile = "dev"`, `<root>/updates`.
    pub update_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Web {
    pub listen: Vec<SocketAddr>,
    /// PEM certificate chain; when unset a self-signed certificate is made on first start.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Open connections across all workers; 0 = derived from the machine.
    pub max_connections: usize,
    /// Sign-ins allowed to wait for a password check before new ones get 503; 0 = derived.
    pub max_signins_waiting: usize,
    /// Requests worked on at once before new ones get the waiting room (503); 0 = derived.
    pub max_in_flight: usize,
    /// Open connections one client address (an IPv6 /64) may hold; past it a few more are
    /// answered 503 and the rest closed at once. 0 = derived: a quarter of `max_connections`,
    /// at least 256, so a computer room behind one NAT address is not held back.
    pub max_connections_per_client: usize,
    /// Seconds a client may pause while sending a request body before it gets 408 and the
    /// connection is closed (the body must also keep up a minimum rate); 0 = 10.
    pub body_timeout_secs: u64,
    /// Plain-HTTP listeners serving Prometheus metrics at `/metrics`. Unset: `127.0.0.1:9187`
    /// on the appliance, none with `profile = "dev"`; `[]` turns the metrics listener off.
    pub metrics_listen: Option<Vec<SocketAddr>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    pub argon2: Argon2Config,
    /// A session ends after this many seconds without a request.
    pub session_idle_secs: i64,
    /// A session ends this many seconds after sign-in, however active.
    pub session_max_secs: i64,
    pub password_min_length: usize,
    /// How long protocols that send the password with every request (WebDAV, IMAP) may reuse a
    /// verified password without hashing again.
    pub credential_cache_secs: i64,
    /// Threads verifying passwords; 0 = one per core.
    pub hash_threads: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Directory {
    /// How login names are formed: `{given}`, `{family}`, `{g}` (first letter of the given
    /// name), `{f}` (of the family name), and literal `.`, `-`, `_`.
    pub login_scheme: String,
    /// A deleted person's login is not given to anyone else for this many days.
    pub login_reuse_days: i64,
    /// Disabled people are purged this many days later.
    pub purge_grace_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: Profile::Appliance,
            paths: Paths::default(),
            web: Web::default(),
            auth: Auth::default(),
            directory: Directory::default(),
            import: Import::default(),
            files: Files::default(),
            mail: Mail::default(),
            backup: Backup::default(),
            source: None,
        }
    }
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            root: None,
            state_dir: "/var/lib/schola".into(),
            data_dir: "/srv/schola".into(),
            update_dir: None,
        }
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 443))],
            tls_cert: None,
            tls_key: None,
            workers: 0,
            max_connections: 0,
            max_signins_waiting: 0,
            max_in_flight: 0,
            max_connections_per_client: 0,
            body_timeout_secs: 0,
            metrics_listen: None,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            argon2: Argon2Config::default(),
            session_idle_secs: 2 * 3600,
            session_max_secs: 12 * 3600,
            password_min_length: 8,
            credential_cache_secs: 300,
            hash_threads: 0,
        }
    }
}

impl Default for Argon2Config {
    /// The argon2 crate's (and OWASP's) defaults: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Argon2Config {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            login_scheme: "{given}.{family}".into(),
            login_reuse_days: 365,
            purge_grace_days: 90,
        }
    }
}

/// `[files]`: home and group shares (`schola-files`), reached through `schola-web` over a Unix
/// socket, and over SMB through Samba.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Files {
    /// The Unix socket `schola-files` listens on and `schola-web` forwards to. Default:
    /// `/run/schola-files/files.sock`, or `<state_dir>/files.sock` with `profile = "dev"`.
    pub socket: Option<PathBuf>,
    /// Default quota of a student's home, in MiB (a person's own quota overrides it).
    pub student_quota_mb: u64,
    /// Default quota of a teacher's home, in MiB.
    pub teacher_quota_mb: u64,
    /// Default quota of staff and admins' homes, in MiB.
    pub staff_quota_mb: u64,
    /// Default quota of a group's share (class or course), in MiB.
    pub group_quota_mb: u64,
    /// Quota of the staff exchange, in MiB.
    pub exchange_quota_mb: u64,
    /// Per-group share quotas in MiB, by group name: `[files.group_quotas_mb] "5a" = 2048`.
    pub group_quotas_mb: std::collections::BTreeMap<String, u64>,
    /// Deleted files stay in the person's trash this many days.
    pub trash_days: u32,
    /// SMB through Samba. Unset: on with the defaults on the appliance, off with
    /// `profile = "dev"`; see [`Samba::enabled`].
    pub samba: Option<Samba>,
}

/// `[files.samba]`: what the privileged `schola-files samba-sync` writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Samba {
    /// `false` turns SMB off (the shares stay reachable in the portal and over WebDAV).
    pub enabled: bool,
    /// The smb.conf that includes [`Samba::include_file`] (its `passdb backend` holds the
    /// passwords).
    pub smb_conf: PathBuf,
    /// The generated share definitions.
    pub include_file: PathBuf,
    /// Where libnss-extrausers reads `passwd` and `group`.
    pub extrausers_dir: PathBuf,
    /// A person's Unix uid is `uid_base + id`; the group `schola-people` has gid `uid_base`.
    pub uid_base: u32,
    /// Reload smbd after a change (`smbcontrol smbd reload-config`).
    pub reload: bool,
}

impl Default for Files {
    fn default() -> Self {
        Files {
            socket: None,
            student_quota_mb: 1024,
            teacher_quota_mb: 10 * 1024,
            staff_quota_mb: 10 * 1024,
            group_quota_mb: 5 * 1024,
            exchange_quota_mb: 20 * 1024,
            group_quotas_mb: Default::default(),
            trash_days: 30,
            samba: None,
        }
    }
}

/// `[mail]`: school e-mail. `schola-mail` answers Postfix's lookups and sending-policy questions
/// on two Unix sockets; Dovecot reads the accounts from the database. The Postfix and Dovecot
/// configuration is generated from this section (`schola-mail render-config`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mail {
    /// Postfix's socketmap lookups (domains, mailboxes, aliases and lists, sender logins).
    /// Default: `/run/schola-mail/socketmap.sock`, or `<state_dir>/mail-socketmap.sock` with
    /// `profile = "dev"`.
    pub socketmap_socket: Option<PathBuf>,
    /// Postfix's SMTP access policy delegation. Default: `/run/schola-mail/policy.sock`, or
    /// `<state_dir>/mail-policy.sock` with `profile = "dev"`.
    pub policy_socket: Option<PathBuf>,
    /// Dovecot's account lookups (dict protocol). Default: `/run/schola-mail/auth.sock`, or
    /// `<state_dir>/mail-auth.sock` with `profile = "dev"`.
    pub auth_socket: Option<PathBuf>,
    /// The Dovecot configuration `doveadm` is pointed at to drop a cached sign-in when a
    /// person is disabled or changes their password. Default:
    /// `/etc/dovecot/schola/dovecot.conf`, where `schola-mail render-config` puts it on the
    /// appliance (dovecot-core's own `/etc/dovecot/dovecot.conf` is left alone).
    pub dovecot_config: PathBuf,
    /// Mail domains besides the school's own (the one set in the first-run setup).
    pub extra_domains: Vec<String>,
    /// Where the mailboxes live (`<vmail_dir>/<person id>/Maildir`; an id never changes, so a
    /// renamed person keeps their mail).
    pub vmail_dir: PathBuf,
    /// The system user that owns the mailboxes.
    pub vmail_user: String,
    /// Recipients a student may address per hour, counted over a sliding hour (0: no limit).
    pub student_recipients_per_hour: u32,
    /// Recipients a teacher, staff member or admin may address per hour (0: no limit).
    pub staff_recipients_per_hour: u32,
    /// Students may only mail addresses of the school's own domains.
    pub students_internal_only: bool,
    /// Lists (group names) whose members may post too; on every other list only teachers, staff
    /// and admins may post.
    pub member_posting: Vec<String>,
    /// Mailbox quota of a student, in MiB.
    pub student_quota_mb: u64,
    /// Mailbox quota of teachers, staff and admins, in MiB.
    pub staff_quota_mb: u64,
    /// `[mail.ports]`: where Postfix and Dovecot listen. The portal's webmail reaches Dovecot's
    /// IMAP and Postfix's submission on 127.0.0.1 at these ports.
    pub ports: MailPorts,
}

/// `[backup]`: where `scholactl backup` writes (a restic repository) and what it keeps. Both
/// the repository and the password file can also be given on the command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backup {
    /// A path (a USB disk or a mounted NAS share, e.g. `/media/backup/schola`) or an SFTP
    /// target `sftp:user@host:/path`, passed to restic as it is.
    pub repository: Option<String>,
    /// The file holding the backup's passphrase (readable by root only). It must also be kept
    /// off the machine: without it the backup cannot be read.
    pub password_file: Option<PathBuf>,
    /// Snapshots kept by `scholactl backup forget`: the last of each of this many days, weeks,
    /// months.
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            repository: None,
            password_file: None,
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
        }
    }
}

/// `[mail.ports]`: the TCP ports of the five mail listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailPorts {
    /// Mail from other servers (SMTP).
    pub smtp: u16,
    /// Mail from the school's people (submission, STARTTLS, then a password).
    pub submission: u16,
    /// Submission with TLS from the first byte.
    pub submissions: u16,
    /// IMAP (STARTTLS).
    pub imap: u16,
    /// IMAP with TLS from the first byte.
    pub imaps: u16,
}

impl Default for MailPorts {
    fn default() -> Self {
        MailPorts {
            smtp: 25,
            submission: 587,
            submissions: 465,
            imap: 143,
            imaps: 993,
        }
    }
}

impl MailPorts {
    /// All five, with their names.
    pub fn named(&self) -> [(&'static str, u16); 5] {
        [
            ("smtp", self.smtp),
            ("submission", self.submission),
            ("submissions", self.submissions),
            ("imap", self.imap),
            ("imaps", self.imaps),
        ]
    }
}

impl Default for Mail {
    fn default() -> Self {
        Mail {
            socketmap_socket: None,
            policy_socket: None,
            auth_socket: None,
            dovecot_config: "/etc/dovecot/schola/dovecot.conf".into(),
            extra_domains: Vec::new(),
            vmail_dir: "/var/vmail".into(),
            vmail_user: "vmail".into(),
            student_recipients_per_hour: 50,
            staff_recipients_per_hour: 1000,
            students_internal_only: false,
            member_posting: Vec::new(),
            student_quota_mb: 512,
            staff_quota_mb: 4096,
            ports: MailPorts::default(),
        }
    }
}

impl Default for Samba {
    fn default() -> Self {
        Samba {
            enabled: true,
            smb_conf: "/etc/samba/smb.conf".into(),
            include_file: "/etc/samba/schola-shares.conf".into(),
            extrausers_dir: "/var/lib/extrausers".into(),
            uid_base: 200_000,
            reload: true,
        }
    }
}

/// `[import]`: people and classes from school administration software and upstream directories
/// (the `schola-dirsync` daemon and `scholactl import`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Import {
    /// A CSV put here is picked up by `schola-dirsync`. Default: `<state_dir>/import/incoming`.
    pub drop_dir: Option<PathBuf>,
    /// Apply a dropped file's change without waiting for an admin's approval.
    pub auto_apply: bool,
    /// The highest grade: at the school-year changeover its classes leave.
    pub last_grade: u32,
    /// Column mappings for exports that no built-in profile reads, by profile name:
    /// `[import.profiles.mysoftware]`.
    pub profiles: std::collections::BTreeMap<String, CsvProfile>,
    /// An upstream LDAP or Active Directory; unset means none.
    pub ldap: Option<Ldap>,
}

/// A CSV export's columns, by header name (or 1-based column number when the file has no
/// header). Every field but `id`, `given_name` and `family_name` is optional.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CsvProfile {
    /// The file starts with a header row (the names below are header names); otherwise they
    /// are column numbers such as "1".
    #[serde(default = "yes")]
    pub header: bool,
    /// `;`, `,` or a tab (`"\t"`); unset = detected.
    pub delimiter: Option<String>,
    /// The role of everyone in the file when there is no `role` column.
    pub role: Option<String>,
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    pub class: Option<String>,
    pub role_column: Option<String>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub birth_date: Option<String>,
}

fn yes() -> bool {
    true
}

/// `[import.ldap]`: the upstream directory people are synced from.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Ldap {
    /// `ldap://host:389` (with `starttls = true`) or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS; plain LDAP is refused unless the server is
    /// on loopback.
    pub starttls: bool,
    /// PEM file of the CA that signed the upstream's certificate; unset = the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The account Schola reads the tree with, and a file holding its password (owned by the
    /// user schola, mode 0600: schola-dirsync and scholactl read it as that user).
    pub bind_dn: String,
    pub bind_password_file: Option<PathBuf>,
    /// Where people are searched, and which entries are people.
    pub base_dn: String,
    pub user_filter: String,
    /// The stable id: `objectGUID` on Active Directory, `entryUUID` on OpenLDAP, or any
    /// attribute that never changes for a person.
    pub id_attribute: String,
    pub login_attribute: String,
    pub given_name_attribute: String,
    pub family_name_attribute: String,
    pub mail_attribute: String,
    /// Roles by LDAP filter, checked in this order: an entry matching `teacher_filter` is a
    /// teacher, else one matching `staff_filter` is staff, else a student.
    pub teacher_filter: Option<String>,
    pub staff_filter: Option<String>,
    /// Classes from groups: groups under `group_base_dn` matching `group_filter`, whose name
    /// (attribute `group_name_attribute`) matches `class_pattern`; the first capture group is
    /// the class name (e.g. `^class-(.+)$`).
    pub group_base_dn: Option<String>,
    pub group_filter: String,
    pub group_name_attribute: String,
    pub group_member_attribute: String,
    pub class_pattern: String,
    /// Minutes between syncs of `schola-dirsync`; 0 = only when asked (`scholactl import ldap`).
    pub interval_minutes: u64,
    /// Entries per page of the paged search.
    pub page_size: i32,
    /// Seconds before a connection, a bind or a search gives up.
    pub timeout_secs: u64,
}

impl Default for Ldap {
    fn default() -> Self {
        Ldap {
            url: String::new(),
            starttls: true,
            ca_file: None,
            bind_dn: String::new(),
            bind_password_file: None,
            base_dn: String::new(),
            user_filter: "(objectClass=person)".into(),
            id_attribute: "entryUUID".into(),
            login_attribute: "uid".into(),
            given_name_attribute: "givenName".into(),
            family_name_attribute: "sn".into(),
            mail_attribute: "mail".into(),
            teacher_filter: None,
            staff_filter: None,
            group_base_dn: None,
            group_filter: "(objectClass=groupOfNames)".into(),
            group_name_attribute: "cn".into(),
            group_member_attribute: "member".into(),
            class_pattern: "^(.+)$".into(),
            interval_minutes: 60,
            page_size: 500,
            timeout_secs: 10,
        }
    }
}

impl Default for Import {
    fn default() -> Self {
        Import {
            drop_dir: None,
            auto_apply: false,
            last_grade: 10,
            profiles: Default::default(),
            ldap: None,
        }
    }
}

impl Config {
    /// The main config file to read: `--config`, then `$SCHOLA_CONFIG`, then the appliance path.
    pub fn locate(explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_path_buf();
        }
        match std::env::var_os(ENV_VAR) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(DEFAULT_PATH),
        }
    }

    /// Reads the main file and its `conf.d/*.toml` drop-ins, checks each, merges them.
    pub fn load(main: &Path) -> Result<Config, ConfigError> {
        let main = &std::path::absolute(main).unwrap_or_else(|_| main.to_path_buf());
        let mut files = vec![main.to_path_buf()];
        let dropins = main.parent().unwrap_or(Path::new(".")).join("conf.d");
        match std::fs::read_dir(&dropins) {
            Ok(entries) => {
                let mut extra: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect();
                extra.sort();
                files.extend(extra);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ConfigError::Read {
                    path: dropins,
                    source: e,
                });
            }
        }
        let mut merged = toml::Table::new();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
                path: file.clone(),
                source: e,
            })?;
            let table = parse_one(file, &text)?;
            merge(&mut merged, table);
        }
        let mut cfg: Config =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Value {
                    path: main.to_path_buf(),
                    message: e.to_string(),
                })?;
        cfg.source = Some(main.to_path_buf());
        let base = main.parent().unwrap_or(Path::new(".")).to_path_buf();
        cfg.resolve(&base).map_err(|message| ConfigError::Value {
            path: main.to_path_buf(),
            message,
        })?;
        Ok(cfg)
    }

    /// Parses a configuration given as text (for tests and `config check` of a single file).
    pub fn from_str_at(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let path = &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let table = parse_one(path, text)?;
        let mut cfg: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Value {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        cfg.resolve(&base).map_err(|message| ConfigError::Value {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(cfg)
    }

    /// Makes relative paths relative to the config file and applies the dev profile.
    fn resolve(&mut self, base: &Path) -> Result<(), String> {
        let abs = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else if p == Path::new(".") || p.as_os_str().is_empty() {
                base.to_path_buf()
            } else {
                base.join(p.strip_prefix("./").unwrap_or(p))
            }
        };
        match self.profile {
            Profile::Dev => {
                let root = abs(self.paths.root.as_deref().unwrap_or(Path::new(".")));
                self.paths.state_dir = root.join("state");
                self.paths.data_dir = root.join("data");
                self.paths.root = Some(root);
            }
            Profile::Appliance => {
                if self.paths.root.is_some() {
                    return Err("paths.root is only used with profile = \"dev\"".into());
                }
                self.paths.state_dir = abs(&self.paths.state_dir);
                self.paths.data_dir = abs(&self.paths.data_dir);
            }
        }
        self.paths.update_dir = self.paths.update_dir.as_deref().map(abs);
        self.import.drop_dir = self.import.drop_dir.as_deref().map(abs);
        self.files.socket = self.files.socket.as_deref().map(abs);
        if self.files.samba.is_none() && self.profile == Profile::Appliance {
            self.files.samba = Some(Samba::default());
        }
        if self.files.samba.as_ref().is_some_and(|s| !s.enabled) {
            self.files.samba = None;
        }
        if let Some(s) = &mut self.files.samba {
            s.smb_conf = abs(&s.smb_conf);
            s.include_file = abs(&s.include_file);
            s.extrausers_dir = abs(&s.extrausers_dir);
            if s.uid_base < 1000 {
                return Err(
                    "files.samba.uid_base must be at least 1000 (below are system accounts)".into(),
                );
            }
        }
        if self.files.trash_days == 0 {
            return Err("files.trash_days must be at least 1".into());
        }
        let m = &mut self.mail;
        m.socketmap_socket = m.socketmap_socket.as_deref().map(abs);
        m.policy_socket = m.policy_socket.as_deref().map(abs);
        m.auth_socket = m.auth_socket.as_deref().map(abs);
        m.dovecot_config = abs(&m.dovecot_config);
        m.vmail_dir = abs(&m.vmail_dir);
        for d in &mut m.extra_domains {
            *d = d.trim().to_ascii_lowercase();
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
                return Err(format!(
                    "mail.extra_domains: '{d}' is not a domain name (like schule.example)"
                ));
            }
        }
        if m.vmail_user.trim().is_empty() || m.vmail_user == "root" {
            return Err(
                "mail.vmail_user must name an unprivileged system user (the default is vmail)"
                    .into(),
            );
        }
        if m.student_quota_mb == 0 || m.staff_quota_mb == 0 {
            return Err("mail.student_quota_mb and mail.staff_quota_mb must be at least 1".into());
        }
        let ports = m.ports.named();
        for (i, (name, port)) in ports.iter().enumerate() {
            if *port == 0 {
                return Err(format!(
                    "mail.ports.{name} must be a port number from 1 to 65535"
                ));
            }
            if let Some((other, _)) = ports[..i].iter().find(|(_, p)| p == port) {
                return Err(format!(
                    "mail.ports.{name} and mail.ports.{other} are both {port}: each listener needs its own port"
                ));
            }
        }
        let b = &mut self.backup;
        b.password_file = b.password_file.as_deref().map(abs);
        if let Some(r) = &mut b.repository {
            if r.trim().is_empty() {
                return Err("backup.repository is empty: give a path such as \"/media/backup/schola\" or \"sftp:user@host:/path\"".into());
            }
            // a plain path is made absolute like every other path; `sftp:…` and other restic
            // backends pass through as they are
            if !r.contains(':') {
                *r = abs(Path::new(r.as_str())).to_string_lossy().into_owned();
            }
        }
        if b.keep_daily == 0 && b.keep_weekly == 0 && b.keep_monthly == 0 {
            return Err(
                "backup.keep_daily, keep_weekly and keep_monthly are all 0: forget would delete every backup"
                    .into(),
            );
        }
        if let Some(l) = &mut self.import.ldap {
            l.ca_file = l.ca_file.as_deref().map(abs);
            l.bind_password_file = l.bind_password_file.as_deref().map(abs);
            if !(l.url.starts_with("ldap://") || l.url.starts_with("ldaps://")) {
                return Err(format!(
                    "import.ldap.url '{}' must start with ldap:// or ldaps://",
                    l.url
                ));
            }
            if l.base_dn.trim().is_empty() {
                return Err("import.ldap.base_dn is empty".into());
            }
            if l.page_size <= 0 {
                return Err("import.ldap.page_size must be positive".into());
            }
        }
        for (name, p) in &self.import.profiles {
            if let Some(d) = &p.delimiter
                && !matches!(d.as_str(), ";" | "," | "\t")
            {
                return Err(format!(
                    "import.profiles.{name}.delimiter '{d}' is not one of ';', ',', '\\t'"
                ));
            }
        }
        self.web.tls_cert = self.web.tls_cert.as_deref().map(abs);
        self.web.tls_key = self.web.tls_key.as_deref().map(abs);
        if self.web.tls_cert.is_some() != self.web.tls_key.is_some() {
            return Err("web.tls_cert and web.tls_key must be set together".into());
        }
        if self.web.listen.is_empty() {
            return Err(
                "web.listen is empty: give at least one address such as \"0.0.0.0:443\"".into(),
            );
        }
        if self.auth.session_idle_secs <= 0 || self.auth.session_max_secs <= 0 {
            return Err("auth.session_idle_secs and auth.session_max_secs must be positive".into());
        }
        if self.auth.password_min_length < 6 {
            return Err("auth.password_min_length must be at least 6".into());
        }
        crate::login::LoginScheme::parse(&self.directory.login_scheme)
            .map_err(|e| format!("directory.login_scheme: {e}"))?;
        let a = self.auth.argon2;
        argon2::Params::new(a.memory_kib, a.iterations, a.parallelism, None)
            .map_err(|e| format!("auth.argon2: {e}"))?;
        Ok(())
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.paths.state_dir.join("schola.db")
    }

    /// See [`Import::drop_dir`].
    pub fn import_drop_dir(&self) -> PathBuf {
        self.import
            .drop_dir
            .clone()
            .unwrap_or_else(|| self.paths.state_dir.join("import").join("incoming"))
    }

    /// See [`Files::socket`].
    pub fn files_socket(&self) -> PathBuf {
        match &self.files.socket {
            Some(p) => p.clone(),
            None if self.profile == Profile::Dev => self.paths.state_dir.join("files.sock"),
            None => PathBuf::from("/run/schola-files/files.sock"),
        }
    }

    /// See [`Mail::socketmap_socket`].
    pub fn mail_socketmap_socket(&self) -> PathBuf {
        match &self.mail.socketmap_socket {
            Some(p) => p.clone(),
            None if self.profile == Profile::Dev => {
                self.paths.state_dir.join("mail-socketmap.sock")
            }
            None => PathBuf::from("/run/schola-mail/socketmap.sock"),
        }
    }

    /// See [`Mail::policy_socket`].
    pub fn mail_policy_socket(&self) -> PathBuf {
        match &self.mail.policy_socket {
            Some(p) => p.clone(),
            None if self.profile == Profile::Dev => self.paths.state_dir.join("mail-policy.sock"),
            None => PathBuf::from("/run/schola-mail/policy.sock"),
        }
    }

    /// The secret schola-web's webmail signs in to Dovecot with as the master user (for any
    /// active person, so the portal never keeps anyone's password): `<state_dir>/mail-webmail.secret`,
    /// made by schola-mail on its first start, readable by the `schola` user only.
    pub fn mail_webmail_secret(&self) -> PathBuf {
        self.paths.state_dir.join("mail-webmail.secret")
    }

    /// See [`Mail::auth_socket`].
    pub fn mail_auth_socket(&self) -> PathBuf {
        match &self.mail.auth_socket {
            Some(p) => p.clone(),
            None if self.profile == Profile::Dev => self.paths.state_dir.join("mail-auth.sock"),
            None => PathBuf::from("/run/schola-mail/auth.sock"),
        }
    }

    /// Where password letters wait for their one download: `<state_dir>/import/letters`.
    pub fn letters_dir(&self) -> PathBuf {
        self.paths.state_dir.join("import").join("letters")
    }

    /// See [`Paths::update_dir`].
    pub fn update_dir(&self) -> PathBuf {
        match (&self.paths.update_dir, &self.paths.root) {
            (Some(dir), _) => dir.clone(),
            (None, Some(root)) if self.profile == Profile::Dev => root.join("updates"),
            _ => PathBuf::from("/var/lib/schola-update"),
        }
    }

    /// Where a generated TLS certificate and key are kept.
    pub fn tls_dir(&self) -> PathBuf {
        self.paths.state_dir.join("tls")
    }

    /// The certificate and key schola-web serves (and Postfix and Dovecot with it): the pair
    /// `[web] tls_cert`/`tls_key` names, else the generated or uploaded one in `tls_dir()`.
    pub fn tls_pair(&self) -> (PathBuf, PathBuf) {
        match (&self.web.tls_cert, &self.web.tls_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone()),
            _ => (
                self.tls_dir().join("cert.pem"),
                self.tls_dir().join("key.pem"),
            ),
        }
    }

    pub fn cores() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }

    pub fn hash_threads(&self) -> usize {
        if self.auth.hash_threads == 0 {
            Self::cores()
        } else {
            self.auth.hash_threads
        }
    }
}

/// Checks one file on its own: TOML syntax, unknown keys and types, with line numbers.
fn parse_one(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    let invalid = |span: Option<std::ops::Range<usize>>, key: String, message: String| {
        let line = span
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key,
            message,
        }
    };
    let table: toml::Table = toml::from_str(text).map_err(|e: toml::de::Error| {
        invalid(e.span(), String::new(), e.message().trim().to_string())
    })?;
    let de = toml::Deserializer::parse(text)
        .map_err(|e| invalid(e.span(), String::new(), e.message().to_string()))?;
    let checked: Result<Config, _> = serde_path_to_error::deserialize(de);
    if let Err(e) = checked {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.message().trim().to_string();
        let key = if key == "." || key.is_empty() {
            String::new()
        } else {
            format!("key '{key}': ")
        };
        return Err(invalid(inner.span(), key, message));
    }
    Ok(table)
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::from_str_at(Path::new("/etc/schola/schola.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = err("[web]\nlisten = [\"127.0.0.1:8443\"]\nlisen = 3\n");
        assert!(e.starts_with("/etc/schola/schola.toml:3:"), "{e}");
        assert!(e.contains("lisen"), "{e}");
    }

    #[test]
    fn wrong_type_names_file_line_and_key() {
        let e = err("[auth]\n\npassword_min_length = \"eight\"\n");
        assert!(e.starts_with("/etc/schola/schola.toml:3:"), "{e}");
        assert!(e.contains("auth.password_min_length"), "{e}");
    }

    #[test]
    fn syntax_error_names_line() {
        let e = err("[web]\nlisten = [\n");
        assert!(e.starts_with("/etc/schola/schola.toml:"), "{e}");
    }

    #[test]
    fn bad_address_is_reported() {
        let e = err("[web]\nlisten = [\"localhost\"]\n");
        assert!(e.contains(":2:") && e.contains("web.listen"), "{e}");
    }

    #[test]
    fn mail_settings_are_checked() {
        let at = |text: &str| Config::from_str_at(Path::new("/etc/schola/schola.toml"), text);
        let c = at("[mail]\nextra_domains = [\" Alt.Schule.Example \"]\n").unwrap();
        assert_eq!(c.mail.extra_domains, vec!["alt.schule.example"]);
        assert_eq!(
            c.mail_socketmap_socket(),
            Path::new("/run/schola-mail/socketmap.sock")
        );
        let e = err("[mail]\nextra_domains = [\"schule example\"]\n");
        assert!(
            e.contains("mail.extra_domains: 'schule example' is not a domain name"),
            "{e}"
        );
        let e = err("[mail]\nvmail_user = \"root\"\n");
        assert!(
            e.contains("mail.vmail_user must name an unprivileged system user"),
            "{e}"
        );
        let e = err("[mail]\nstudent_recipients_per_hour = \"fifty\"\n");
        assert!(
            e.contains(":2:") && e.contains("mail.student_recipients_per_hour"),
            "{e}"
        );
        let c = at("[mail.ports]\nimap = 10143\nsubmission = 10587\n").unwrap();
        assert_eq!(
            (
                c.mail.ports.imap,
                c.mail.ports.submission,
                c.mail.ports.smtp
            ),
            (10143, 10587, 25)
        );
        let e = err("[mail.ports]\nimaps = 587\n");
        assert!(
            e.contains("mail.ports.imaps and mail.ports.submission are both 587"),
            "{e}"
        );
        let e = err("[mail.ports]\nsmpt = 25\n");
        assert!(e.contains("smpt"), "{e}");
    }

    #[test]
    fn backup_section() {
        let at = |text: &str| Config::from_str_at(Path::new("/etc/schola/schola.toml"), text);
        let c = at("").unwrap();
        assert_eq!(c.backup.repository, None);
        assert_eq!(
            (
                c.backup.keep_daily,
                c.backup.keep_weekly,
                c.backup.keep_monthly
            ),
            (7, 4, 12)
        );
        let c = at("[backup]\nrepository = \"usb/schola\"\npassword_file = \"backup.pass\"\nkeep_daily = 14\n").unwrap();
        assert_eq!(
            c.backup.repository.as_deref(),
            Some("/etc/schola/usb/schola")
        );
        assert_eq!(
            c.backup.password_file,
            Some(PathBuf::from("/etc/schola/backup.pass"))
        );
        assert_eq!(c.backup.keep_daily, 14);
        let c = at("[backup]\nrepository = \"sftp:backup@nas:/srv/restic\"\n").unwrap();
        assert_eq!(
            c.backup.repository.as_deref(),
            Some("sftp:backup@nas:/srv/restic"),
            "an SFTP target passes through"
        );
        let err = |text: &str| at(text).unwrap_err().to_string();
        let e = err("[backup]\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n");
        assert!(e.contains("forget would delete every backup"), "{e}");
        let e = err("[backup]\nrepository = \" \"\n");
        assert!(e.contains("backup.repository is empty"), "{e}");
        let e = err("[backup]\nrepo = \"/x\"\n");
        assert!(e.contains("repo"), "{e}");
    }

    #[test]
    fn files_quotas_samba_and_the_socket() {
        let at = |text: &str| Config::from_str_at(Path::new("/etc/schola/schola.toml"), text);
        let c = at("").unwrap();
        assert_eq!(c.files.student_quota_mb, 1024);
        assert_eq!(c.files.trash_days, 30);
        assert!(
            c.files.samba.is_some(),
            "SMB is on by default on the appliance"
        );
        assert_eq!(
            c.files_socket(),
            PathBuf::from("/run/schola-files/files.sock")
        );
        let c = at("[files]\nstudent_quota_mb = 2048\n[files.group_quotas_mb]\n\"5a\" = 300\n[files.samba]\nenabled = false\n").unwrap();
        assert_eq!(c.files.student_quota_mb, 2048);
        assert_eq!(c.files.group_quotas_mb.get("5a"), Some(&300));
        assert!(c.files.samba.is_none(), "enabled = false turns SMB off");
        let dev =
            Config::from_str_at(Path::new("/tmp/demo/schola.toml"), "profile = \"dev\"\n").unwrap();
        assert!(
            dev.files.samba.is_none(),
            "no SMB in the dev profile unless asked for"
        );
        assert_eq!(
            dev.files_socket(),
            PathBuf::from("/tmp/demo/state/files.sock")
        );
        let e = err("[files]\ntrash_days = 0\n");
        assert!(e.contains("files.trash_days"), "{e}");
        let e = err("[files.samba]\nuid_base = 10\n");
        assert!(e.contains("files.samba.uid_base"), "{e}");
        let e = err("[files]\nstudent_quota = 5\n");
        assert!(e.contains(":2:") && e.contains("student_quota"), "{e}");
    }

    #[test]
    fn dev_profile_keeps_everything_under_root() {
        let c =
            Config::from_str_at(Path::new("/tmp/demo/schola.toml"), "profile = \"dev\"\n").unwrap();
        assert_eq!(c.paths.state_dir, Path::new("/tmp/demo/state"));
        assert_eq!(c.database_path(), Path::new("/tmp/demo/state/schola.db"));
    }

    #[test]
    fn dropins_override_main_file_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("schola.toml");
        std::fs::write(
            &main,
            "[auth]\npassword_min_length = 10\nsession_idle_secs = 60\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("conf.d/20-b.toml"),
            "[auth]\npassword_min_length = 12\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("conf.d/10-a.toml"),
            "[auth]\npassword_min_length = 11\n",
        )
        .unwrap();
        let c = Config::load(&main).unwrap();
        assert_eq!(c.auth.password_min_length, 12);
        assert_eq!(c.auth.session_idle_secs, 60);
    }

    #[test]
    fn error_in_dropin_names_the_dropin() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("schola.toml");
        std::fs::write(&main, "").unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("conf.d/10-a.toml"),
            "\n[web]\nworkers = -1\n",
        )
        .unwrap();
        let e = Config::load(&main).unwrap_err().to_string();
        assert!(
            e.contains("conf.d/10-a.toml:3:") && e.contains("web.workers"),
            "{e}"
        );
    }

    #[test]
    fn half_a_certificate_is_refused() {
        let e = err("[web]\ntls_cert = \"/x.pem\"\n");
        assert!(e.contains("tls_cert and web.tls_key"), "{e}");
    }
}
