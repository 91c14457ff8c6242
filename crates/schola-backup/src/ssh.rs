//! SFTP targets: the key Schola signs in with and the ssh command restic runs.
//!
//! A school's NAS or a remote server takes the backup over SFTP as some user; Schola signs in
//! with its own key (`id_ed25519` in the backup's status directory, made on first use; the admin
//! adds its public key to the server's `authorized_keys`, the Backup page shows it) and never
//! with a password (restic runs unattended at 02:00). The server's host key is trusted on first
//! use and pinned in `known_hosts` beside it, so a server that changes its key later is refused.
//! restic gets the whole ssh command through `-o sftp.command=...`, which also carries a port
//! given as `sftp://user@host:port/path`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The key and the pinned host keys, in one directory (root's).
#[derive(Debug, Clone)]
pub struct Ssh {
    pub identity: PathBuf,
    pub known_hosts: PathBuf,
}

impl Ssh {
    pub fn in_dir(dir: &Path) -> Ssh {
        Ssh {
            identity: dir.join("id_ed25519"),
            known_hosts: dir.join("known_hosts"),
        }
    }

    /// The public key (one `authorized_keys` line), made with `ssh-keygen` when there is none.
    pub fn ensure_key(&self) -> Result<String> {
        let public = self.identity.with_extension("pub");
        if !self.identity.exists() {
            if let Some(dir) = self.identity.parent() {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    what: "cannot create",
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(format!("schola-backup@{}", host.trim()))
                .arg("-f")
                .arg(&self.identity)
                .output()
                .map_err(|source| Error::Run {
                    what: "ssh-keygen (apt-get install openssh-client)".into(),
                    source,
                })?;
            if !out.status.success() {
                return Err(Error::Failed {
                    what: "make the backup's SSH key".into(),
                    code: out.status.code(),
                    detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
        }
        std::fs::read_to_string(&public)
            .map(|s| s.trim().to_string())
            .map_err(|source| Error::Io {
                what: "cannot read",
                path: public,
                source,
            })
    }

    /// The command restic runs for an SFTP repository (`None` for any other kind).
    pub fn sftp_command(&self, repo: &str) -> Option<String> {
        let (dest, port) = sftp_destination(repo)?;
        let mut cmd = format!(
            "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={} -o ServerAliveInterval=60",
            quote(&self.identity),
            quote(&self.known_hosts)
        );
        if let Some(p) = port {
            cmd.push_str(&format!(" -p {p}"));
        }
        cmd.push_str(&format!(" {dest} -s sftp"));
        Some(cmd)
    }

    /// What ssh itself says when it connects to the SFTP target of `repo` (its stderr), for
    /// naming a failure: restic relays ssh's messages as they come and may exit before the
    /// decisive line ("Permission denied", "Host key verification failed") arrived, leaving
    /// only its own "unable to start the sftp session". `None` for other repositories.
    pub fn diagnose(&self, repo: &str) -> Option<String> {
        let (dest, port) = sftp_destination(repo)?;
        let mut cmd = Command::new("ssh");
        cmd.arg("-i")
            .arg(&self.identity)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .args([
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-o",
                "ConnectTimeout=15",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()));
        if let Some(p) = port {
            cmd.arg("-p").arg(p.to_string());
        }
        let out = cmd
            .arg(dest)
            .args(["-s", "sftp"])
            .stdin(std::process::Stdio::null())
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// restic splits the command like a shell: quote a path with spaces.
fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.contains([' ', '"', '\'']) {
        format!("\"{}\"", s.replace('"', "\\\""))
    } else {
        s
    }
}

/// `user@host` (or `host`) and the port of an SFTP repository: `sftp:user@host:/path` or
/// `sftp://user@host:port/path`. A destination starting with `-` would be an ssh option and is
/// refused.
pub fn sftp_destination(repo: &str) -> Option<(String, Option<u16>)> {
    let (dest, port) = if let Some(rest) = repo.strip_prefix("sftp://") {
        let hostport = rest.split('/').next()?;
        match hostport.rsplit_once(':') {
            Some((d, p)) => (d.to_string(), Some(p.parse().ok()?)),
            None => (hostport.to_string(), None),
        }
    } else {
        let rest = repo.strip_prefix("sftp:")?;
        (rest.split_once(':')?.0.to_string(), None)
    };
    let ok = !dest.is_empty()
        && !dest.starts_with('-')
        && dest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.-_[]".contains(&b));
    ok.then_some((dest, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sftp_repositories_become_one_ssh_command() {
        assert_eq!(
            sftp_destination("sftp:backup@nas.local:/srv/restic"),
            Some(("backup@nas.local".into(), None))
        );
        assert_eq!(
            sftp_destination("sftp://backup@127.0.0.1:2222//srv/restic"),
            Some(("backup@127.0.0.1".into(), Some(2222)))
        );
        assert_eq!(sftp_destination("/media/usb/schola"), None);
        assert_eq!(sftp_destination("sftp:-oProxyCommand=evil:/x"), None);
        assert_eq!(sftp_destination("sftp:a b@host:/x"), None);
        let ssh = Ssh::in_dir(Path::new("/var/lib/schola-backup"));
        assert_eq!(
            ssh.sftp_command("sftp://backup@nas:2222/schola").unwrap(),
            "ssh -i /var/lib/schola-backup/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/var/lib/schola-backup/known_hosts -o ServerAliveInterval=60 -p 2222 backup@nas -s sftp"
        );
        assert_eq!(ssh.sftp_command("/media/usb"), None);
    }

    #[test]
    fn the_key_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = Ssh::in_dir(dir.path());
        let first = ssh.ensure_key().unwrap();
        assert!(first.starts_with("ssh-ed25519 "), "{first}");
        assert_eq!(ssh.ensure_key().unwrap(), first);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&ssh.identity)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the private key is the owner's only");
    }
}
