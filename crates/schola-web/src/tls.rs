//! TLS for the one HTTPS edge: rustls with TLS 1.2 and 1.3 only (rustls has nothing older), the
//! ring provider, and a certificate that is either configured or generated on first start.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone)]
pub struct Tls {
    pub config: ServerConfig,
    /// SHA-256 of the leaf certificate, `AB:CD:…`, as browsers show it.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    /// True when this start generated the certificate.
    pub generated: bool,
}

/// Loads the configured certificate, or the generated one, generating it if there is none.
pub fn load_or_generate(cfg: &schola_core::Config) -> Result<Tls> {
    let (cert_path, key_path, generated) = match (&cfg.web.tls_cert, &cfg.web.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), false),
        _ => {
            let dir = cfg.tls_dir();
            let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
            let generated = if c.exists() && k.exists() {
                false
            } else {
                generate(&dir, &c, &k)?;
                true
            };
            (c, k, generated)
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", cert_path.display()))?;
    let Some(leaf) = certs.first() else {
        bail!(
            "the TLS certificate file {} holds no certificate",
            cert_path.display()
        );
    };
    let fingerprint = fingerprint(leaf);
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .with_context(|| format!("cannot read the TLS private key {}", key_path.display()))?;
    let config = server_config(certs, key).with_context(|| {
        format!(
            "the TLS certificate {} and key {} do not work together",
            cert_path.display(),
            key_path.display()
        )
    })?;
    Ok(Tls {
        config,
        fingerprint,
        cert_path,
        generated,
    })
}

pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A self-signed ECDSA P-256 certificate for this host's names and the loopback addresses.
fn generate(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !host.is_empty() && host != "localhost" {
        names.push(host.clone());
        if !host.contains('.') {
            names.push(format!("{host}.local"));
        }
    }
    let mut params =
        rcgen::CertificateParams::new(names).context("cannot describe the TLS certificate")?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        if host.is_empty() {
            "schola".into()
        } else {
            host
        },
    );
    params.distinguished_name.push(
        rcgen::DnType::OrganizationName,
        "Schola school server (self-signed)",
    );
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(825);
    let key = rcgen::KeyPair::generate().context("cannot generate a TLS key")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the TLS certificate")?;
    write_private(key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_private(cert_path, cert.pem().as_bytes(), 0o644)?;
    Ok(())
}

/// Writes a file atomically (temporary file, fsync, rename) with the given mode.
fn write_private(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_is_reused_and_key_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let cfg = schola_core::Config::from_str_at(
            &dir.path().join("schola.toml"),
            "profile = \"dev\"\n",
        )
        .unwrap();
        let a = load_or_generate(&cfg).unwrap();
        assert!(a.generated);
        assert_eq!(a.fingerprint.len(), 32 * 3 - 1);
        let b = load_or_generate(&cfg).unwrap();
        assert!(!b.generated);
        assert_eq!(a.fingerprint, b.fingerprint);
        let mode = std::fs::metadata(cfg.tls_dir().join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn mismatched_key_is_refused_with_both_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        generate(a.path(), &a.path().join("c.pem"), &a.path().join("k.pem")).unwrap();
        generate(b.path(), &b.path().join("c.pem"), &b.path().join("k.pem")).unwrap();
        let text = format!(
            "profile = \"dev\"\n[web]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            a.path().join("c.pem").display(),
            b.path().join("k.pem").display()
        );
        let cfg = schola_core::Config::from_str_at(&dir.path().join("schola.toml"), &text).unwrap();
        let e = format!("{:#}", load_or_generate(&cfg).unwrap_err());
        assert!(e.contains("do not work together"), "{e}");
    }
}
