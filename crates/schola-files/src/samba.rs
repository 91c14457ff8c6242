//! SMB through Debian's Samba: the body of the privileged `schola-files samba-sync` (run as
//! root; the unprivileged daemon only asks for it when the journal says people, groups or
//! passwords changed).
//!
//! - **Unix accounts through NSS, never `/etc/passwd`.** libnss-extrausers reads `passwd` and
//!   `group` in `extrausers_dir`. A person is `login:x:<uid_base + id>:<uid_base>::<data>/home/
//!   <login>:/usr/sbin/nologin`; gid `uid_base` is the group `schola-people`; a Schola group is
//!   `schola-<kind>-<name>` with gid `uid_base + 1_000_000 + group id`, its active members
//!   listed. The range `[uid_base, uid_base + 2_000_000)` belongs to Schola: lines of those files
//!   outside it are kept as they are; inside it they are rewritten. Person and group ids must stay
//!   below 1,000,000 (an error names the one that does not).
//! - **Shares** in the generated include file: `[homes]` (each person only their own),
//!   one share per class/course/custom group with active members (members read; owners and
//!   members who are teachers, staff or admins write: [`group_write_list`], the same rule as
//!   `policy::may`), `[exchange]` for teachers, staff and admins. All files are written as the
//!   owner of the data root (`force user`/`force group`), symlinks are never followed, Schola's
//!   internal `.~schola*` files are vetoed.
//! - **Passwords**: Samba's passdb (`pdbedit -s <smb_conf>`) gets each active person with the NT
//!   hash the core stored with the password (`smb_secrets`); people without one get a random NT
//!   hash nobody knows the password of (their SMB sign-in fails until they sign in to the portal
//!   once or get a new password). New accounts and changed hashes go in with one `pdbedit -i
//!   smbpasswd:<0600 temp file>`; disabled, purged or unknown people in Schola's uid range are
//!   removed (`pdbedit -x`), so Samba refuses them.
//! - Idempotent: files are replaced (temp, fsync, rename) only when their content changes, the
//!   passdb only where `pdbedit -L -w` differs; smbd is told to reload only when something
//!   changed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow, bail};
use schola_core::directory::{GroupKind, MemberRole, Role};
use schola_core::smb::{SmbGroup, SmbPerson};

/// Person ids and group ids must be below this; `uid_base + 1_000_000 + group id` is a group's
/// gid.
pub const ID_SPAN: u32 = 1_000_000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// People written to the extrausers `passwd` (active, with a valid login).
    pub people: usize,
    /// Groups written to the extrausers `group` (besides `schola-people`).
    pub groups: usize,
    /// Shares in the include file (`homes` and `exchange` included).
    pub shares: usize,
    pub passdb_added: usize,
    pub passdb_updated: usize,
    pub passdb_removed: usize,
    /// Active people without a stored NT hash (SMB refuses them until they sign in once).
    pub without_smb_password: usize,
    /// Files written (passwd, group, include file) because their content changed.
    pub files_written: usize,
    /// Homes and share folders created.
    pub dirs_created: usize,
    /// Anything changed at all.
    pub changed: bool,
    /// smbd was told to reload its configuration.
    pub reloaded: bool,
    /// What was left out or could not be done, in words.
    pub notes: Vec<String>,
}

/// A login Samba, NSS and the generated files can carry safely: `[a-z0-9._-]`, 1-32
/// characters, not starting with `-` or `.`. Checked again here (the store already checks), so
/// nothing can inject a line or a parameter into the files.
pub fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 32
        && !login.starts_with(['-', '.'])
        && login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// Share names Samba reserves or Schola uses itself.
const RESERVED_SHARES: &[&str] = &[
    "global", "homes", "printers", "print$", "ipc$", "exchange", "netlogon", "sysvol",
];

/// The share name of a group, or why it has none. Group names are already `[a-z0-9._-]{1,32}`;
/// this refuses anything else (Samba share names: at most 80 characters, no `[` `]`, and `%`
/// would be substituted) and the reserved names.
pub fn share_name(group: &str) -> Result<String, &'static str> {
    if group.is_empty() || group.len() > 80 {
        return Err("a share name has 1 to 80 characters");
    }
    if !group
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
        || group.starts_with(['-', '.'])
    {
        return Err("a share name may only have a-z, 0-9, '.', '_', '-'");
    }
    if RESERVED_SHARES.contains(&group) {
        return Err("the name is reserved for a share of Samba or Schola");
    }
    Ok(group.to_string())
}

/// Who may write a group's share, asked of [`crate::policy::may`] for each member: the one
/// table WebDAV and the portal use too (owners, and members who are teachers, staff or admins).
pub fn group_write_list<'a>(
    group: &str,
    kind: GroupKind,
    members: impl IntoIterator<Item = (&'a str, Role, MemberRole)>,
) -> Vec<String> {
    let area = crate::policy::Area::Group(group.to_string());
    let mut out: Vec<String> = members
        .into_iter()
        .filter(|(login, role, member)| {
            let actor = crate::policy::Actor {
                id: 0,
                login: (*login).to_string(),
                role: *role,
                groups: vec![(group.to_string(), kind, *member)],
            };
            crate::policy::may(&actor, &area, crate::policy::Op::Write)
        })
        .map(|(l, _, _)| l.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Who may use the staff exchange, asked of [`crate::policy::may`].
fn exchange_member(role: Role) -> bool {
    let actor = crate::policy::Actor {
        id: 0,
        login: String::new(),
        role,
        groups: Vec::new(),
    };
    crate::policy::may(
        &actor,
        &crate::policy::Area::Exchange,
        crate::policy::Op::Write,
    )
}

/// The Unix name of a Schola group in the extrausers `group` file.
pub fn unix_group_name(kind: GroupKind, name: &str) -> String {
    format!("schola-{}-{name}", kind.as_str())
}

/// Everything the files are made of, computed from the store alone (pure, testable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// (login, uid, role, nt hash)
    pub people: Vec<PlannedPerson>,
    /// (unix name, gid, member logins)
    pub groups: Vec<(String, u32, Vec<String>)>,
    pub shares: Vec<Share>,
    pub notes: Vec<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct PlannedPerson {
    pub login: String,
    pub uid: u32,
    pub role: Role,
    pub nt_hash: Option<String>,
}

impl std::fmt::Debug for PlannedPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedPerson")
            .field("login", &self.login)
            .field("uid", &self.uid)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub name: String,
    pub path: PathBuf,
    /// `None` for `[homes]` (`%S`).
    pub valid_users: Option<Vec<String>>,
    /// `None`: everyone valid writes.
    pub write_list: Option<Vec<String>>,
    pub browseable: bool,
}

/// Computes the accounts and shares. `system_logins` are the names in `/etc/passwd` (a Schola
/// login that is also a system account is left out: NSS would answer with the system account).
pub fn plan(
    people: &[SmbPerson],
    groups: &[SmbGroup],
    uid_base: u32,
    data_dir: &Path,
    system_logins: &BTreeSet<String>,
) -> anyhow::Result<Plan> {
    if uid_base
        .checked_add(2 * ID_SPAN)
        .is_none_or(|top| top >= i32::MAX as u32)
    {
        bail!(
            "files.samba.uid_base {uid_base} is too large: uid_base + 2,000,000 must stay below 2^31"
        );
    }
    let mut notes = Vec::new();
    let mut planned = Vec::new();
    let mut by_id: BTreeMap<i64, usize> = BTreeMap::new();
    for p in people {
        if !valid_login(&p.login) {
            notes.push(format!(
                "the login '{}' (person #{}) cannot be a Unix account name; left out of SMB",
                p.login.escape_debug(),
                p.id
            ));
            continue;
        }
        if system_logins.contains(&p.login) {
            notes.push(format!(
                "the login '{}' is also a system account in /etc/passwd; left out of SMB",
                p.login
            ));
            continue;
        }
        let id = u32::try_from(p.id)
            .ok()
            .filter(|&i| i > 0 && i < ID_SPAN)
            .ok_or_else(|| {
                anyhow!(
                    "person #{} ('{}') has an id outside 1..{ID_SPAN}; its uid would leave Schola's range",
                    p.id,
                    p.login
                )
            })?;
        let nt_hash = match &p.nt_hash {
            Some(h) if h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(h.to_ascii_uppercase())
            }
            Some(_) => {
                notes.push(format!(
                    "the stored SMB password of '{}' is not an NT hash; ignored",
                    p.login
                ));
                None
            }
            None => None,
        };
        by_id.insert(p.id, planned.len());
        planned.push(PlannedPerson {
            login: p.login.clone(),
            uid: uid_base + id,
            role: p.role,
            nt_hash,
        });
    }
    let active_logins: BTreeSet<&str> = planned.iter().map(|p| p.login.as_str()).collect();
    let mut unix_groups = Vec::new();
    let mut shares = vec![Share {
        name: "homes".into(),
        path: data_dir.join("home").join("%S"),
        valid_users: None,
        write_list: None,
        browseable: false,
    }];
    for g in groups {
        let gid = u32::try_from(g.id)
            .ok()
            .filter(|&i| i > 0 && i < ID_SPAN)
            .ok_or_else(|| {
                anyhow!(
                    "group #{} ('{}') has an id outside 1..{ID_SPAN}",
                    g.id,
                    g.name
                )
            })?;
        let members: Vec<(&PlannedPerson, MemberRole)> = g
            .members
            .iter()
            .filter_map(|(pid, r)| by_id.get(pid).map(|&i| (&planned[i], *r)))
            .collect();
        let mut logins: Vec<String> = members.iter().map(|(p, _)| p.login.clone()).collect();
        logins.sort();
        logins.dedup();
        if !valid_login(&g.name) {
            notes.push(format!(
                "the group name '{}' cannot be a Unix group name; left out of SMB",
                g.name.escape_debug()
            ));
            continue;
        }
        unix_groups.push((
            unix_group_name(g.kind, &g.name),
            uid_base + ID_SPAN + gid,
            logins.clone(),
        ));
        if g.kind == GroupKind::Staff {
            continue;
        }
        let name = match share_name(&g.name) {
            Ok(n) => n,
            Err(why) => {
                notes.push(format!("the group '{}' gets no share: {why}", g.name));
                continue;
            }
        };
        if active_logins.contains(name.as_str()) {
            notes.push(format!(
                "the group '{name}' gets no share: a person has that login, and \\\\server\\{name} is their home"
            ));
            continue;
        }
        if logins.is_empty() {
            // `valid users` empty would mean everyone: no members, no share
            continue;
        }
        let write = group_write_list(
            &g.name,
            g.kind,
            members.iter().map(|(p, r)| (p.login.as_str(), p.role, *r)),
        );
        shares.push(Share {
            name,
            path: data_dir.join("groups").join(&g.name),
            valid_users: Some(logins),
            write_list: Some(write),
            browseable: true,
        });
    }
    let staff: Vec<String> = planned
        .iter()
        .filter(|p| exchange_member(p.role))
        .map(|p| p.login.clone())
        .collect();
    if !staff.is_empty() {
        shares.push(Share {
            name: "exchange".into(),
            path: data_dir.join("exchange"),
            valid_users: Some(staff),
            write_list: None,
            browseable: true,
        });
    }
    Ok(Plan {
        people: planned,
        groups: unix_groups,
        shares,
        notes,
    })
}

/// A path that may appear in the files unquoted: no `%` (Samba substitutes), `:` (passwd field
/// separator), whitespace or control characters.
fn check_path(p: &Path) -> anyhow::Result<&str> {
    let s = p
        .to_str()
        .ok_or_else(|| anyhow!("the path {} is not UTF-8", p.display()))?;
    if !s.starts_with('/')
        || s.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '%' | ':' | '\\' | '#' | ';')
        })
    {
        bail!(
            "the data directory {} cannot be used for SMB: it must be an absolute path without spaces, '%', ':', '#', ';' or '\\'",
            p.display()
        );
    }
    Ok(s)
}

/// The extrausers `passwd` lines of the plan.
pub fn render_passwd(plan: &Plan, uid_base: u32, data_dir: &Path) -> anyhow::Result<String> {
    let data = check_path(data_dir)?;
    let mut out = String::new();
    for p in &plan.people {
        out.push_str(&format!(
            "{}:x:{}:{uid_base}::{data}/home/{}:/usr/sbin/nologin\n",
            p.login, p.uid, p.login
        ));
    }
    Ok(out)
}

/// The extrausers `group` lines of the plan (`schola-people` first).
pub fn render_group(plan: &Plan, uid_base: u32) -> String {
    let mut out = format!("schola-people:x:{uid_base}:\n");
    for (name, gid, members) in &plan.groups {
        out.push_str(&format!("{name}:x:{gid}:{}\n", members.join(",")));
    }
    out
}

/// Keeps the lines of `existing` whose id (third field) is outside `range`, then appends `ours`.
pub fn merge_extrausers(existing: &str, ours: &str, range: std::ops::Range<u32>) -> String {
    let mut out = String::new();
    for line in existing.lines() {
        let id = line.split(':').nth(2).and_then(|f| f.parse::<u32>().ok());
        if id.is_some_and(|id| range.contains(&id)) {
            continue;
        }
        if line.is_empty() {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(ours);
    out
}

/// The include file.
pub fn render_shares(plan: &Plan, force_user: &str, force_group: &str) -> anyhow::Result<String> {
    let mut out = String::from(
        "# Generated by `schola-files samba-sync`: do not edit, the next sync replaces it.\n\
         # Shares of Schola: homes, group shares and the staff exchange.\n\
         \n\
         [global]\n\
         \x20  # Schola's people are not Unix login accounts (no shell, no shadow entry): Samba's\n\
         \x20  # password database authenticates them, and PAM's account checks (Debian's default\n\
         \x20  # `obey pam restrictions = yes`) would refuse every one of them.\n\
         \x20  obey pam restrictions = no\n",
    );
    for s in &plan.shares {
        let path = s
            .path
            .to_str()
            .ok_or_else(|| anyhow!("the path {} is not UTF-8", s.path.display()))?;
        out.push_str(&format!("\n[{}]\n", s.name));
        out.push_str(&format!("   path = {path}\n"));
        match &s.valid_users {
            None => {
                out.push_str("   comment = Home\n   valid users = %S\n   invalid users = root\n")
            }
            Some(v) => {
                out.push_str(&format!("   valid users = {}\n", v.join(" ")));
                out.push_str("   access based share enum = yes\n");
            }
        }
        match &s.write_list {
            None => out.push_str("   read only = no\n"),
            Some(w) => {
                out.push_str("   read only = yes\n");
                if !w.is_empty() {
                    out.push_str(&format!("   write list = {}\n", w.join(" ")));
                }
            }
        }
        out.push_str(&format!(
            "   browseable = {}\n",
            if s.browseable { "yes" } else { "no" }
        ));
        out.push_str(&format!(
            "   force user = {force_user}\n   force group = {force_group}\n"
        ));
        out.push_str(
            "   create mask = 0640\n   force create mode = 0640\n   directory mask = 0750\n   force directory mode = 0750\n\
             \x20  follow symlinks = no\n   wide links = no\n   hide dot files = yes\n\
             \x20  veto files = /.~schola*/\n   delete veto files = no\n   mangled names = no\n\
             \x20  store dos attributes = no\n   map archive = no\n",
        );
    }
    Ok(out)
}

/// Replaces `path` with `content` (temp file, fsync, rename, fsync dir) unless it already has
/// exactly that content. Returns whether it wrote.
fn write_if_changed(path: &Path, content: &str, mode: u32) -> anyhow::Result<bool> {
    match std::fs::read(path) {
        Ok(cur) if cur == content.as_bytes() => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent directory", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.schola-tmp"));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(true)
}

fn read_or_empty(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Names in `/etc/passwd`.
fn system_logins() -> anyhow::Result<BTreeSet<String>> {
    Ok(read_or_empty(Path::new("/etc/passwd"))?
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect())
}

/// Runs a command, feeding `stdin`; returns stdout, or an error naming the command and its
/// stderr.
fn run(cmd: &mut Command, stdin: Option<&str>) -> anyhow::Result<String> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {shown} (is Debian's samba installed?)"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .with_context(|| format!("cannot write to {shown}"))?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("cannot wait for {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One passdb entry as `pdbedit -L -w` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassdbEntry {
    pub login: String,
    /// `None` when the account does not resolve (printed as -1 / 4294967295).
    pub uid: Option<u32>,
    pub nt_hash: String,
}

/// Parses `pdbedit -L -w` (smbpasswd format: `name:uid:LM:NT:[flags]:LCT-…:`).
pub fn parse_passdb(out: &str) -> Vec<PassdbEntry> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(PassdbEntry {
                login: f[0].to_string(),
                uid: f[1].parse::<u32>().ok().filter(|&u| u != u32::MAX),
                nt_hash: f[3].to_ascii_uppercase(),
            })
        })
        .collect()
}

fn pdbedit(smb_conf: &Path) -> Command {
    let mut c = Command::new("pdbedit");
    c.arg("-s").arg(smb_conf);
    c
}

fn list_passdb(smb_conf: &Path) -> anyhow::Result<Vec<PassdbEntry>> {
    Ok(parse_passdb(&run(
        pdbedit(smb_conf).args(["-L", "-w"]),
        None,
    )?))
}

/// Adds or updates passdb accounts with the given NT hashes in one `pdbedit -i smbpasswd:FILE`
/// (one process instead of two per person: ~0.1 s each). The file holds password equivalents:
/// it lives in a fresh 0700 directory, is 0600, and is removed whatever happens.
fn import_passdb(smb_conf: &Path, entries: &[(&PlannedPerson, String)]) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // the last-change time must not be 0: Samba reads that as "must change at next logon"
    let mut text = String::new();
    for (p, nt) in entries {
        text.push_str(&format!(
            "{}:{}:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:{nt}:[U          ]:LCT-{now:08X}:\n",
            p.login, p.uid
        ));
    }
    let dir = std::env::temp_dir().join(format!(
        "schola-samba-sync-{}-{}",
        std::process::id(),
        schola_core::token::random_token(8)
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join("smbpasswd");
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .with_context(|| format!("cannot create {}", file.display()))?;
        f.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
        drop(f);
        let mut source = std::ffi::OsString::from("smbpasswd:");
        source.push(&file);
        run(pdbedit(smb_conf).arg("-i").arg(source), None)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Creates `dir` (and missing parents below the data root) owned by `uid:gid`, mode 0750.
fn ensure_dir(dir: &Path, uid: u32, gid: u32) -> anyhow::Result<bool> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(false),
        Ok(_) => bail!(
            "{} exists but is not a directory; SMB cannot use it",
            dir.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    }
    std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))
        .with_context(|| format!("cannot set the mode of {}", dir.display()))?;
    nix::unistd::chown(
        dir,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .with_context(|| format!("cannot give {} to uid {uid}", dir.display()))?;
    Ok(true)
}

/// Provisions Samba from the store; see the module documentation. Run as root.
pub fn sync(cfg: &schola_core::Config, store: &schola_core::Store) -> anyhow::Result<SyncReport> {
    let samba = cfg
        .files
        .samba
        .clone()
        .ok_or_else(|| anyhow!("SMB is off: the configuration has no [files.samba] section"))?;
    let data_dir = cfg.paths.data_dir.clone();
    check_path(&data_dir)?;
    let base = samba.uid_base;

    // who owns the data root is who writes every file
    let meta = std::fs::metadata(&data_dir)
        .with_context(|| format!("cannot read the data directory {}", data_dir.display()))?;
    if meta.uid() == 0 {
        bail!(
            "the data directory {} belongs to root; it must belong to the daemon user (schola) that owns every file",
            data_dir.display()
        );
    }
    let force_user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(meta.uid()))
        .context("cannot look up the owner of the data directory")?
        .ok_or_else(|| {
            anyhow!(
                "the owner (uid {}) of {} has no user name",
                meta.uid(),
                data_dir.display()
            )
        })?
        .name;
    let force_group = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(meta.gid()))
        .context("cannot look up the group of the data directory")?
        .ok_or_else(|| {
            anyhow!(
                "the group (gid {}) of {} has no name",
                meta.gid(),
                data_dir.display()
            )
        })?
        .name;
    if !valid_login(&force_user) || !valid_login(&force_group) {
        bail!(
            "the owner {force_user}:{force_group} of {} cannot be named in smb.conf",
            data_dir.display()
        );
    }

    let people = store.smb_people()?;
    let groups = store.smb_groups()?;
    let plan = plan(&people, &groups, base, &data_dir, &system_logins()?)?;
    let mut report = SyncReport {
        people: plan.people.len(),
        groups: plan.groups.len(),
        shares: plan.shares.len(),
        without_smb_password: plan.people.iter().filter(|p| p.nt_hash.is_none()).count(),
        notes: plan.notes.clone(),
        ..SyncReport::default()
    };
    let people_range = base..base + ID_SPAN;
    let wanted: BTreeMap<&str, &PlannedPerson> =
        plan.people.iter().map(|p| (p.login.as_str(), p)).collect();

    // 1. remove from the passdb who is no longer active, while their account still resolves
    let before = list_passdb(&samba.smb_conf)?;
    for e in &before {
        let ours = e.uid.is_some_and(|u| people_range.contains(&u));
        if ours && !wanted.contains_key(e.login.as_str()) {
            run(pdbedit(&samba.smb_conf).args(["-x", "-u", &e.login]), None)?;
            report.passdb_removed += 1;
        }
    }

    // 2. the Unix accounts
    let passwd_path = samba.extrausers_dir.join("passwd");
    let group_path = samba.extrausers_dir.join("group");
    let passwd = merge_extrausers(
        &read_or_empty(&passwd_path)?,
        &render_passwd(&plan, base, &data_dir)?,
        base..base + 2 * ID_SPAN,
    );
    let group = merge_extrausers(
        &read_or_empty(&group_path)?,
        &render_group(&plan, base),
        base..base + 2 * ID_SPAN,
    );
    for (path, content) in [(&passwd_path, &passwd), (&group_path, &group)] {
        if write_if_changed(path, content, 0o644)? {
            report.files_written += 1;
        }
    }
    if let Some(first) = plan.people.first() {
        let found = nix::unistd::User::from_name(&first.login)
            .ok()
            .flatten()
            .is_some_and(|u| u.uid.as_raw() == first.uid);
        if !found {
            bail!(
                "'{}' does not resolve to uid {} through NSS after writing {}: add 'extrausers' to the passwd and group lines of /etc/nsswitch.conf (package libnss-extrausers)",
                first.login,
                first.uid,
                passwd_path.display()
            );
        }
    }

    // 3. the passdb: add who is missing, set changed NT hashes, all in one `pdbedit -i`
    let current: BTreeMap<String, PassdbEntry> = list_passdb(&samba.smb_conf)?
        .into_iter()
        .map(|e| (e.login.clone(), e))
        .collect();
    let mut import = Vec::new();
    for p in &plan.people {
        match (current.get(&p.login), &p.nt_hash) {
            (None, nt) => {
                // without a stored NT hash: a random one, so nobody can sign in with it
                let nt = nt.clone().unwrap_or_else(|| {
                    schola_core::password::nt_hash(&schola_core::token::random_token(24))
                });
                import.push((p, nt));
                report.passdb_added += 1;
            }
            (Some(have), Some(nt)) if &have.nt_hash != nt => {
                import.push((p, nt.clone()));
                report.passdb_updated += 1;
            }
            _ => {}
        }
    }
    if !import.is_empty() {
        import_passdb(&samba.smb_conf, &import)?;
    }

    // 4. the folders behind the shares
    let (uid, gid) = (meta.uid(), meta.gid());
    for sub in ["home", "groups"] {
        if ensure_dir(&data_dir.join(sub), uid, gid)? {
            report.dirs_created += 1;
        }
    }
    for p in &plan.people {
        if ensure_dir(&data_dir.join("home").join(&p.login), uid, gid)? {
            report.dirs_created += 1;
        }
    }
    for s in &plan.shares {
        if s.valid_users.is_some() && ensure_dir(&s.path, uid, gid)? {
            report.dirs_created += 1;
        }
    }

    // 5. the shares
    if write_if_changed(
        &samba.include_file,
        &render_shares(&plan, &force_user, &force_group)?,
        0o644,
    )? {
        report.files_written += 1;
    }

    report.changed = report.files_written > 0
        || report.passdb_added > 0
        || report.passdb_updated > 0
        || report.passdb_removed > 0
        || report.dirs_created > 0;
    if report.changed && samba.reload {
        let mut c = Command::new("smbcontrol");
        c.arg("-s")
            .arg(&samba.smb_conf)
            .args(["smbd", "reload-config"]);
        match run(&mut c, None) {
            Ok(_) => report.reloaded = true,
            Err(e) => {
                let msg = format!("{e:#}");
                if msg.contains("Can't find pid") || msg.contains("No such process") {
                    report.notes.push(
                        "smbd is not running; it reads the new configuration when it starts".into(),
                    );
                } else {
                    return Err(e);
                }
            }
        }
    }
    Ok(report)
}

/// Makes `smb_conf` include the generated shares, at its end (an include inside `[global]` would
/// make the rest of `[global]` part of the last generated share). The package's postinst does
/// this when Samba is already there; this covers Samba installed later.
pub fn ensure_include(samba: &schola_core::config::Samba) -> anyhow::Result<bool> {
    use anyhow::Context as _;
    let conf = std::fs::read_to_string(&samba.smb_conf)
        .with_context(|| format!("cannot read {}", samba.smb_conf.display()))?;
    let line = format!("include = {}", samba.include_file.display());
    if conf.lines().any(|l| l.trim() == line) {
        return Ok(false);
    }
    let mut new = conf;
    if !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(&format!(
        "\n# Schola: the shares schola-files provisions (homes, classes, staff exchange)\n{line}\n"
    ));
    if !samba.include_file.exists() {
        std::fs::write(
            &samba.include_file,
            "# generated by schola-files; changes are overwritten\n",
        )
        .with_context(|| format!("cannot write {}", samba.include_file.display()))?;
    }
    let tmp = samba.smb_conf.with_extension("conf.schola-tmp");
    std::fs::write(&tmp, new).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &samba.smb_conf)
        .with_context(|| format!("cannot replace {}", samba.smb_conf.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn person(id: i64, login: &str, role: Role) -> SmbPerson {
        SmbPerson {
            id,
            login: login.into(),
            role,
            nt_hash: Some(schola_core::password::nt_hash(login)),
        }
    }

    #[test]
    fn logins_that_could_inject_are_refused() {
        for ok in ["anna", "anna.berg", "a_b-2", "5a"] {
            assert!(valid_login(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            ".x",
            "Anna",
            "a:b",
            "a\nb",
            "a b",
            "a,b",
            "a%b",
            "ä",
            &"a".repeat(33),
        ] {
            assert!(!valid_login(bad), "{bad:?}");
        }
    }

    #[test]
    fn share_names_refuse_reserved_and_odd_names() {
        assert_eq!(share_name("5a").unwrap(), "5a");
        for bad in [
            "homes", "exchange", "global", "ipc$", "a[b]", "a%S", "", "-a",
        ] {
            assert!(share_name(bad).is_err(), "{bad}");
        }
        assert!(share_name(&"a".repeat(81)).is_err());
    }

    #[test]
    fn write_list_is_owners_and_staff_roles() {
        let w = group_write_list(
            "5a",
            GroupKind::Class,
            [
                ("stu", Role::Student, MemberRole::Member),
                ("own", Role::Student, MemberRole::Owner),
                ("tea", Role::Teacher, MemberRole::Member),
                ("sta", Role::Staff, MemberRole::Member),
                ("adm", Role::Admin, MemberRole::Member),
            ],
        );
        assert_eq!(w, ["adm", "own", "sta", "tea"]);
    }

    #[test]
    fn plan_and_files() {
        let people = vec![
            person(1, "anna", Role::Student),
            person(2, "ben", Role::Student),
            person(3, "tom", Role::Teacher),
            person(4, "root", Role::Admin),
            SmbPerson {
                nt_hash: None,
                ..person(5, "carl", Role::Student)
            },
            person(6, "bad:login", Role::Student),
        ];
        let groups = vec![
            SmbGroup {
                id: 1,
                name: "5a".into(),
                kind: GroupKind::Class,
                members: vec![
                    (1, MemberRole::Member),
                    (2, MemberRole::Member),
                    (3, MemberRole::Owner),
                    (99, MemberRole::Member),
                ],
            },
            SmbGroup {
                id: 2,
                name: "kollegium".into(),
                kind: GroupKind::Staff,
                members: vec![(3, MemberRole::Member)],
            },
            SmbGroup {
                id: 3,
                name: "empty".into(),
                kind: GroupKind::Course,
                members: vec![],
            },
            SmbGroup {
                id: 4,
                name: "homes".into(),
                kind: GroupKind::Custom,
                members: vec![(1, MemberRole::Member)],
            },
        ];
        let system: BTreeSet<String> = ["root".to_string()].into();
        let data = Path::new("/srv/schola");
        let p = plan(&people, &groups, 200_000, data, &system).unwrap();
        let logins: Vec<&str> = p.people.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins, ["anna", "ben", "tom", "carl"]);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("'root' is also a system account"))
        );
        assert!(p.notes.iter().any(|n| n.contains("bad:login")));
        assert!(p.notes.iter().any(|n| n.contains("'homes' gets no share")));
        let passwd = render_passwd(&p, 200_000, data).unwrap();
        assert!(
            passwd.starts_with("anna:x:200001:200000::/srv/schola/home/anna:/usr/sbin/nologin\n")
        );
        let group = render_group(&p, 200_000);
        assert!(group.contains("schola-people:x:200000:\n"));
        assert!(
            group.contains("schola-class-5a:x:1200001:anna,ben,tom\n"),
            "{group}"
        );
        assert!(group.contains("schola-staff-kollegium:x:1200002:tom\n"));
        let names: Vec<&str> = p.shares.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["homes", "5a", "exchange"],
            "no share for staff, empty or reserved groups"
        );
        let conf = render_shares(&p, "schola", "schola").unwrap();
        assert!(
            conf.contains("[5a]\n   path = /srv/schola/groups/5a\n   valid users = anna ben tom\n"),
            "{conf}"
        );
        assert!(conf.contains("   write list = tom\n"));
        assert!(
            conf.contains("[exchange]\n   path = /srv/schola/exchange\n   valid users = tom\n")
        );
        assert!(conf.contains("[homes]\n   path = /srv/schola/home/%S\n"));
        assert_eq!(conf.matches("follow symlinks = no").count(), 3);
        assert_eq!(conf.matches("wide links = no").count(), 3);
        assert_eq!(conf.matches("veto files = /.~schola*/").count(), 3);
        assert!(
            plan(&people, &groups, 200_000, Path::new("/srv/a b"), &system)
                .and_then(|p| render_passwd(&p, 200_000, Path::new("/srv/a b")))
                .is_err()
        );
    }

    #[test]
    fn merge_keeps_foreign_lines_and_replaces_ours() {
        let existing = "other:x:1500:1500::/home/other:/bin/sh\nold:x:200007:200000::/x:/y\n\nalso:x:5000000:1::/:/\n";
        let merged = merge_extrausers(existing, "new:x:200001:200000::/a:/b\n", 200_000..2_200_000);
        assert_eq!(
            merged,
            "other:x:1500:1500::/home/other:/bin/sh\nalso:x:5000000:1::/:/\nnew:x:200001:200000::/a:/b\n"
        );
        assert_eq!(
            merge_extrausers(&merged, "new:x:200001:200000::/a:/b\n", 200_000..2_200_000),
            merged
        );
    }

    #[test]
    fn passdb_listing_is_parsed() {
        let out = "anna:3000001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846f7eaee8fb117ad06bdd830b7586c:[U          ]:LCT-6563A0F1:\n\
                   gone:4294967295:X:ABC:[U          ]:LCT-0:\n";
        let e = parse_passdb(out);
        assert_eq!(e[0].login, "anna");
        assert_eq!(e[0].uid, Some(3_000_001));
        assert_eq!(e[0].nt_hash, "8846F7EAEE8FB117AD06BDD830B7586C");
        assert_eq!(e[1].uid, None);
    }

    #[test]
    fn ensure_include_appends_once_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let samba = schola_core::config::Samba {
            smb_conf: dir.path().join("smb.conf"),
            include_file: dir.path().join("schola-shares.conf"),
            ..Default::default()
        };
        std::fs::write(
            &samba.smb_conf,
            "[global]\n   workgroup = WORKGROUP\n[printers]\n   path = /tmp",
        )
        .unwrap();
        assert!(ensure_include(&samba).unwrap());
        assert!(
            !ensure_include(&samba).unwrap(),
            "a second run changes nothing"
        );
        let conf = std::fs::read_to_string(&samba.smb_conf).unwrap();
        let line = format!("include = {}", samba.include_file.display());
        assert_eq!(conf.matches(&line).count(), 1);
        assert!(
            conf.trim_end().ends_with(&line),
            "after every section: {conf}"
        );
        assert!(
            conf.starts_with("[global]\n   workgroup = WORKGROUP\n[printers]\n   path = /tmp\n")
        );
        assert!(
            samba.include_file.is_file(),
            "an empty include file, so smbd starts"
        );
    }
}
