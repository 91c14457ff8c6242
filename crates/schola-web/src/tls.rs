//! TLS for the one HTTPS edge: rustls with TLS 1.2 and 1.3 only (rustls has nothing older), the
//! ring provider, and a certificate that is configured, generated on first start, or uploaded by
//! an admin (settings page, first-run setup).
//!
//! The served certificate sits behind a [`CertResolver`] that the `ServerConfig` asks on every
//! handshake, so an uploaded certificate is served from the next new connection on, without a
//! restart. Uploads are checked here ([`check_pair`]) before anything is written, and written
//! to the state directory's `tls/` atomically, the previous pair kept as `.bak`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
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
    /// What `config` serves; [`CertResolver::set`] changes it for new connections.
    pub resolver: Arc<CertResolver>,
}

/// The certificate every new TLS connection gets, replaceable while the server runs.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub fn new(key: Arc<CertifiedKey>) -> Arc<CertResolver> {
        Arc::new(CertResolver {
            current: RwLock::new(key),
        })
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Serves `key` from the next handshake on; connections already open keep theirs.
    pub fn set(&self, key: Arc<CertifiedKey>) {
        match self.current.write() {
            Ok(mut c) => *c = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The certificate and key files and whether the config file names them (then they are the
/// admin's to manage there, and uploads are refused).
pub fn pair_paths(cfg: &schola_core::Config) -> (PathBuf, PathBuf, bool) {
    let (cert, key) = cfg.tls_pair();
    let configured = cfg.web.tls_cert.is_some() && cfg.web.tls_key.is_some();
    (cert, key, configured)
}

/// Loads the configured certificate, or the generated or uploaded one, generating one if there
/// is none.
pub fn load_or_generate(cfg: &schola_core::Config) -> Result<Tls> {
    let (cert_path, key_path, configured) = pair_paths(cfg);
    let generated = if configured || (cert_path.exists() && key_path.exists()) {
        false
    } else {
        generate(&cfg.tls_dir(), &cert_path, &key_path)?;
        true
    };
    let certified = match load_pair(&cert_path, &key_path) {
        Ok(k) => k,
        // a crash between the two renames of an upload leaves a new certificate with the old
        // key: the pair kept as .bak still works together, and a running school beats a new
        // certificate
        Err(e) if !configured => match load_pair(&bak(&cert_path), &bak(&key_path)) {
            Ok(k) => {
                tracing::warn!(error = %format!("{e:#}"), "serving the previous TLS certificate (.bak)");
                k
            }
            Err(_) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let fingerprint = fingerprint(certified.end_entity_cert()?);
    let resolver = CertResolver::new(Arc::new(certified));
    Ok(Tls {
        config: config_with(resolver.clone())?,
        fingerprint,
        cert_path,
        generated,
        resolver,
    })
}

fn load_pair(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", cert_path.display()))?;
    if certs.is_empty() {
        bail!(
            "the TLS certificate file {} holds no certificate",
            cert_path.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .with_context(|| format!("cannot read the TLS private key {}", key_path.display()))?;
    certified_key(certs, key).with_context(|| {
        format!(
            "the TLS certificate {} and key {} do not work together",
            cert_path.display(),
            key_path.display()
        )
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain with its key, refused if the key is not the leaf certificate's
/// (`from_der` compares the key's public half with the leaf's, as `with_single_cert` did).
pub fn certified_key(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, rustls::Error> {
    CertifiedKey::from_der(certs, key, &provider())
}

fn config_with(resolver: Arc<CertResolver>) -> Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig> {
    config_with(CertResolver::new(Arc::new(certified_key(certs, key)?)))
}

pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What the settings page shows about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub fingerprint: String,
    /// The names it is valid for: its subject alternative names, else its common name.
    pub names: Vec<String>,
}

impl CertInfo {
    pub fn self_signed(&self) -> bool {
        self.subject == self.issuer
    }
}

/// Reads a certificate's subject, issuer, validity and names; `None` if it is no X.509
/// certificate.
pub fn describe(cert: &CertificateDer<'_>) -> Option<CertInfo> {
    use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
    let (_, x) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names
                        .push(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?).to_string()),
                    16 => names
                        .push(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?).to_string()),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    if names.is_empty() {
        names.extend(
            x.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .map(str::to_string),
        );
    }
    Some(CertInfo {
        subject: x.subject().to_string(),
        issuer: x.issuer().to_string(),
        not_before: x.validity().not_before.timestamp(),
        not_after: x.validity().not_after.timestamp(),
        fingerprint: fingerprint(cert),
        names,
    })
}

/// Largest certificate chain or key file accepted for upload. A chain of four RSA-4096
/// certificates is about 10 KiB.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

/// Which of the two uploaded files a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Certificate,
    Key,
}

/// Why an uploaded certificate and key were refused; the settings page says it in the admin's
/// language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    Missing(Part),
    TooBig(Part),
    /// Not PEM text at all (e.g. a DER or PKCS#12 file).
    NotPem(Part),
    /// PEM, but no certificate in the certificate file (a key, a request …).
    NoCertificate,
    /// PEM, but no private key in the key file.
    NoKey,
    /// A key protected by a passphrase.
    EncryptedKey,
    /// A certificate that is no readable X.509 certificate.
    Unreadable,
    /// The key belongs to another certificate.
    KeyMismatch,
    /// A key rustls cannot sign with.
    UnsupportedKey,
    Expired {
        not_after: i64,
    },
    NotYetValid {
        not_before: i64,
    },
}

/// An uploaded certificate chain and key that passed [`check_pair`].
#[derive(Debug, Clone)]
pub struct CheckedPair {
    pub certified: Arc<CertifiedKey>,
    pub info: CertInfo,
    cert_pem: String,
    key_pem: String,
}

/// Checks an uploaded certificate chain and private key (PEM): both readable, the key the leaf
/// certificate's, the leaf valid at `now`.
pub fn check_pair(cert: &[u8], key: &[u8], now: i64) -> Result<CheckedPair, CertProblem> {
    for (data, part) in [(cert, Part::Certificate), (key, Part::Key)] {
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(CertProblem::Missing(part));
        }
        if data.len() > MAX_PEM_BYTES {
            return Err(CertProblem::TooBig(part));
        }
        if !contains(data, b"-----BEGIN ") {
            return Err(CertProblem::NotPem(part));
        }
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<_, _>>()
        .map_err(|_| CertProblem::NotPem(Part::Certificate))?;
    let Some(leaf) = certs.first() else {
        return Err(CertProblem::NoCertificate);
    };
    let info = describe(leaf).ok_or(CertProblem::Unreadable)?;
    if contains(key, b"ENCRYPTED") {
        return Err(CertProblem::EncryptedKey);
    }
    let private = match PrivateKeyDer::from_pem_slice(key) {
        Ok(k) => k,
        Err(rustls_pki_types::pem::Error::NoItemsFound) => return Err(CertProblem::NoKey),
        Err(_) => return Err(CertProblem::NotPem(Part::Key)),
    };
    let key_pem = match &private {
        PrivateKeyDer::Pkcs1(k) => pem("RSA PRIVATE KEY", k.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(k) => pem("EC PRIVATE KEY", k.secret_sec1_der()),
        PrivateKeyDer::Pkcs8(k) => pem("PRIVATE KEY", k.secret_pkcs8_der()),
        _ => return Err(CertProblem::UnsupportedKey),
    };
    let cert_pem: String = certs.iter().map(|c| pem("CERTIFICATE", c)).collect();
    let certified = match certified_key(certs, private) {
        Ok(k) => k,
        Err(rustls::Error::InconsistentKeys(_)) => return Err(CertProblem::KeyMismatch),
        Err(_) => return Err(CertProblem::UnsupportedKey),
    };
    if info.not_after < now {
        return Err(CertProblem::Expired {
            not_after: info.not_after,
        });
    }
    if info.not_before > now {
        return Err(CertProblem::NotYetValid {
            not_before: info.not_before,
        });
    }
    Ok(CheckedPair {
        certified: Arc::new(certified),
        info,
        cert_pem,
        key_pem,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Canonical PEM: what is stored is what was understood, nothing else from the upload.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn bak(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// Writes a checked pair to the state directory's `tls/` (keeping the previous pair as `.bak`)
/// and serves it from the next connection on. Refused when the config file names the
/// certificate: it is managed there.
pub fn install(
    cfg: &schola_core::Config,
    pair: &CheckedPair,
    resolver: Option<&CertResolver>,
) -> Result<()> {
    let (cert_path, key_path, configured) = pair_paths(cfg);
    if configured {
        bail!(
            "the TLS certificate is set in the config file ({}); change it there",
            cert_path.display()
        );
    }
    let dir = cfg.tls_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let (Ok(c), Ok(k)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        write_private(&bak(&key_path), &k, 0o600)?;
        write_private(&bak(&cert_path), &c, 0o644)?;
    }
    write_private(&key_path, pair.key_pem.as_bytes(), 0o600)?;
    write_private(&cert_path, pair.cert_pem.as_bytes(), 0o644)?;
    if let Some(r) = resolver {
        r.set(Arc::clone(&pair.certified));
    }
    Ok(())
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

/// Writes a file atomically (temporary file, fsync, rename, fsync of the directory) with the
/// given mode.
pub(crate) fn write_private(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
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
    if let Some(dir) = path.parent() {
        // the rename itself survives a power cut only once the directory is on disk
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_config(dir: &Path) -> schola_core::Config {
        schola_core::Config::from_str_at(&dir.join("schola.toml"), "profile = \"dev\"\n").unwrap()
    }

    /// A certificate for `name` valid from `from` to `until` (unix seconds), and its key.
    fn make(name: &str, from: i64, until: i64) -> (String, String) {
        let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, name.to_string());
        p.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap();
        p.not_after = time::OffsetDateTime::from_unix_timestamp(until).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    const NOW: i64 = 1_788_246_000;
    const DAY: i64 = 86_400;

    #[test]
    fn generated_certificate_is_reused_and_key_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let cfg = dev_config(dir.path());
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
        let info = describe(b.resolver.current().end_entity_cert().unwrap()).unwrap();
        assert!(info.names.contains(&"localhost".to_string()), "{info:?}");
        assert!(info.names.contains(&"127.0.0.1".to_string()), "{info:?}");
        assert!(info.self_signed());
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

    #[test]
    fn uploads_are_checked_before_anything_is_kept() {
        let (cert, key) = make("schule.example", NOW - DAY, NOW + 90 * DAY);
        let (other_cert, other_key) = make("other.example", NOW - DAY, NOW + 90 * DAY);
        let (old_cert, old_key) = make("old.example", NOW - 100 * DAY, NOW - DAY);
        let (new_cert, new_key) = make("new.example", NOW + DAY, NOW + 100 * DAY);
        let ok = check_pair(cert.as_bytes(), key.as_bytes(), NOW).unwrap();
        assert_eq!(ok.info.names, ["schule.example"]);
        assert_eq!(ok.info.subject, "CN=schule.example");
        let check = |c: &str, k: &str| check_pair(c.as_bytes(), k.as_bytes(), NOW).unwrap_err();
        assert_eq!(check(&cert, &other_key), CertProblem::KeyMismatch);
        assert_eq!(check(&other_cert, &key), CertProblem::KeyMismatch);
        assert!(matches!(
            check(&old_cert, &old_key),
            CertProblem::Expired { .. }
        ));
        assert!(matches!(
            check(&new_cert, &new_key),
            CertProblem::NotYetValid { .. }
        ));
        assert_eq!(check("", &key), CertProblem::Missing(Part::Certificate));
        assert_eq!(check(&cert, " \n"), CertProblem::Missing(Part::Key));
        assert_eq!(
            check("\u{30}\u{82}binary", &key),
            CertProblem::NotPem(Part::Certificate)
        );
        assert_eq!(check(&key, &key), CertProblem::NoCertificate);
        assert_eq!(check(&cert, &cert), CertProblem::NoKey);
        let big = format!("{cert}{}", "#".repeat(MAX_PEM_BYTES));
        assert_eq!(check(&big, &key), CertProblem::TooBig(Part::Certificate));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(check(&cert, encrypted), CertProblem::EncryptedKey);
    }

    #[test]
    fn install_keeps_the_previous_pair_and_serves_the_new_one_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dev_config(dir.path());
        let tls = load_or_generate(&cfg).unwrap();
        let resolver = tls.resolver.clone();
        let old = std::fs::read(cfg.tls_dir().join("cert.pem")).unwrap();

        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (cert, key) = make("schule.example", now - DAY, now + 90 * DAY);
        let pair = check_pair(cert.as_bytes(), key.as_bytes(), now).unwrap();
        install(&cfg, &pair, Some(&resolver)).unwrap();
        let served = fingerprint(tls.resolver.current().end_entity_cert().unwrap());
        assert_eq!(served, pair.info.fingerprint);
        assert_ne!(served, tls.fingerprint);
        assert_eq!(
            std::fs::read(cfg.tls_dir().join("cert.pem.bak")).unwrap(),
            old
        );
        // a restart serves the uploaded pair
        let again = load_or_generate(&cfg).unwrap();
        assert_eq!(again.fingerprint, pair.info.fingerprint);

        // a crash between the two renames: the .bak pair is served
        let (stray, _) = make("stray.example", now - DAY, now + DAY);
        std::fs::write(cfg.tls_dir().join("cert.pem"), stray).unwrap();
        let fallback = load_or_generate(&cfg).unwrap();
        assert_eq!(fallback.fingerprint, tls.fingerprint);
    }

    #[test]
    fn a_certificate_named_in_the_config_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let a = tempfile::tempdir().unwrap();
        generate(a.path(), &a.path().join("c.pem"), &a.path().join("k.pem")).unwrap();
        let text = format!(
            "profile = \"dev\"\n[web]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            a.path().join("c.pem").display(),
            a.path().join("k.pem").display()
        );
        let cfg = schola_core::Config::from_str_at(&dir.path().join("schola.toml"), &text).unwrap();
        let (cert, key) = make("schule.example", NOW - DAY, NOW + DAY);
        let pair = check_pair(cert.as_bytes(), key.as_bytes(), NOW).unwrap();
        let e = install(&cfg, &pair, None).unwrap_err().to_string();
        assert!(e.contains("config file"), "{e}");
    }
}
