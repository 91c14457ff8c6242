//! One connection to the upstream directory: the transport rules (TLS by rustls, plain LDAP
//! only to loopback), the timeouts, and ldap3's errors turned into [`LdapError`]s that name the
//! server and say what failed.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, LdapResult, Scope, SearchEntry};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use schola_core::config::Ldap;

use super::LdapError;

/// The system's trust anchors, loaded once (every sign-in of an upstream person connects).
static SYSTEM_ROOTS: LazyLock<RootCertStore> = LazyLock::new(|| {
    let mut store = RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    for e in &loaded.errors {
        tracing::warn!("system certificate store: {e}");
    }
    let (added, ignored) = store.add_parsable_certificates(loaded.certs);
    tracing::debug!("system certificate store: {added} trust anchors ({ignored} unusable)");
    store
});

/// How the URL is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Ldaps,
    StartTls,
    Plain,
}

/// The host part of an `ldap://` or `ldaps://` URL (without brackets for IPv6).
fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("ldaps://")
        .or_else(|| url.strip_prefix("ldap://"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next();
    }
    Some(authority.split(':').next().unwrap_or_default())
}

/// `localhost`, 127.0.0.0/8 or ::1 (also as an IPv4-mapped address). An empty host is
/// `localhost` to ldap3.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    h.is_empty()
        || h.eq_ignore_ascii_case("localhost")
        || h.parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

fn transport(cfg: &Ldap) -> Result<Transport, LdapError> {
    let url = cfg.url.trim();
    let Some(host) = url_host(url) else {
        return Err(LdapError::Config(format!(
            "the url '{url}' must start with ldap:// or ldaps://"
        )));
    };
    if url.starts_with("ldaps://") {
        Ok(Transport::Ldaps)
    } else if cfg.starttls {
        Ok(Transport::StartTls)
    } else if is_loopback(host) {
        Ok(Transport::Plain)
    } else {
        Err(LdapError::Insecure {
            url: url.to_string(),
        })
    }
}

/// The rustls configuration: the CA file's certificates (a PEM file may hold several) when
/// `ca_file` is set, else the system's trust anchors.
fn tls_config(cfg: &Ldap) -> Result<Arc<ClientConfig>, LdapError> {
    let roots = match &cfg.ca_file {
        Some(path) => {
            let ca_err = |reason: String| LdapError::CaFile {
                url: cfg.url.clone(),
                path: path.clone(),
                reason,
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_err(e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| ca_err(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_err("it holds no PEM certificate".into()));
            }
            let mut roots = RootCertStore::empty();
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| ca_err(format!("a certificate in it is unusable: {e}")))?;
            }
            roots
        }
        None => {
            if SYSTEM_ROOTS.is_empty() {
                return Err(LdapError::Tls {
                    url: cfg.url.clone(),
                    reason: "the system has no trusted certificates (install ca-certificates, \
                             or set import.ldap.ca_file to the upstream CA's PEM file)"
                        .into(),
                });
            }
            SYSTEM_ROOTS.clone()
        }
    };
    // An explicit provider: the process may have none installed, or more than one compiled in.
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| LdapError::Tls {
                url: cfg.url.clone(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// What the server said, as a person reads it: the result code's name and number and the
/// server's text.
pub(crate) fn describe_result(r: &LdapResult) -> String {
    let name = match r.rc {
        1 => "operations error",
        2 => "protocol error",
        3 => "time limit exceeded",
        4 => "size limit exceeded",
        7 => "authentication method not supported",
        8 => "stronger authentication required",
        11 => "administrative limit exceeded",
        12 => "unavailable critical extension",
        13 => "confidentiality required",
        32 => "no such object",
        34 => "invalid DN syntax",
        48 => "inappropriate authentication",
        49 => "invalid credentials",
        50 => "insufficient access rights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwilling to perform",
        80 => "other",
        _ => "error",
    };
    let text = r.text.trim();
    if text.is_empty() {
        format!("{name} (result code {})", r.rc)
    } else {
        format!("{name} (result code {}): {text}", r.rc)
    }
}

/// Why a certificate was not accepted, in words.
fn certificate_reason(cfg: &Ldap, e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let (anchors, hint) = match &cfg.ca_file {
        Some(p) => (format!("the CA file {}", p.display()), String::new()),
        None => (
            "the system's certificate store".to_string(),
            "; set import.ldap.ca_file to the PEM file of the CA that signed it".to_string(),
        ),
    };
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => format!(
            "the server's certificate is not trusted: it was not signed by a CA in {anchors}{hint}"
        ),
        rustls::Error::InvalidCertificate(C::NotValidForName)
        | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for the host in the URL ({}): {e}",
            url_host(&cfg.url).unwrap_or_default()
        ),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            format!("the server's certificate has expired: {e}")
        }
        rustls::Error::InvalidCertificate(_) => {
            format!("the server's certificate is not accepted ({e}); trusted: {anchors}{hint}")
        }
        other => other.to_string(),
    }
}

/// The rustls error inside an I/O error from the TLS handshake, if that is what it was.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// An error while connecting (TCP, StartTLS, TLS handshake).
fn connect_error(cfg: &Ldap, tls: Transport, e: ldap3::LdapError) -> LdapError {
    let url = cfg.url.clone();
    match e {
        ldap3::LdapError::Timeout { .. } => LdapError::Timeout {
            url,
            what: "connecting".into(),
            secs: cfg.timeout_secs,
        },
        ldap3::LdapError::Io { source } => {
            if let Some(rustls) = rustls_error(&source) {
                return LdapError::Tls {
                    url,
                    reason: certificate_reason(cfg, rustls),
                };
            }
            let reason = match source.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is the server running, and is the port right?)".into()
                }
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                    if tls != Transport::Plain =>
                {
                    return LdapError::Tls {
                        url,
                        reason: format!(
                            "the server closed the connection during the TLS handshake ({source}); \
                             is this a TLS port?"
                        ),
                    };
                }
                _ => source.to_string(),
            };
            LdapError::Connect { url, reason }
        }
        ldap3::LdapError::LdapResult { result } if tls == Transport::StartTls => LdapError::Tls {
            url,
            reason: format!("the server refused StartTLS: {}", describe_result(&result)),
        },
        ldap3::LdapError::Rustls { source } => LdapError::Tls {
            url,
            reason: certificate_reason(cfg, &source),
        },
        ldap3::LdapError::DNSName { source } => LdapError::Tls {
            url,
            reason: format!("the host cannot be checked against a certificate: {source}"),
        },
        other => LdapError::Connect {
            url,
            reason: other.to_string(),
        },
    }
}

/// A bound-or-anonymous connection whose every operation gives up after `timeout_secs`.
pub(crate) struct Conn {
    ldap: ldap3::Ldap,
    url: String,
    timeout: Duration,
    secs: u64,
}

impl Conn {
    /// Connects as the configuration says, refusing plain LDAP to anything but loopback before
    /// any packet is sent.
    pub async fn open(cfg: &Ldap) -> Result<Conn, LdapError> {
        let tls = transport(cfg)?;
        let secs = cfg.timeout_secs.max(1);
        let timeout = Duration::from_secs(secs);
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(tls == Transport::StartTls);
        if tls != Transport::Plain {
            settings = settings.set_config(tls_config(cfg)?);
        }
        let (conn, ldap) = match tokio::time::timeout(
            timeout + Duration::from_secs(1),
            LdapConnAsync::with_settings(settings, cfg.url.trim()),
        )
        .await
        {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(connect_error(cfg, tls, e)),
            Err(_) => {
                return Err(LdapError::Timeout {
                    url: cfg.url.clone(),
                    what: "connecting".into(),
                    secs,
                });
            }
        };
        let url = cfg.url.clone();
        let driver_url = url.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!("LDAP connection to {driver_url} ended: {e}");
            }
        });
        Ok(Conn {
            ldap,
            url,
            timeout,
            secs,
        })
    }

    /// A transport error during an operation (`what`: "binding as X", "searching ...").
    fn op_error(&self, what: &str, e: ldap3::LdapError) -> Result<LdapError, ldap3::LdapError> {
        match e {
            ldap3::LdapError::Timeout { .. } => Ok(LdapError::Timeout {
                url: self.url.clone(),
                what: what.into(),
                secs: self.secs,
            }),
            ldap3::LdapError::LdapResult { .. } | ldap3::LdapError::FilterParsing => Err(e),
            other => Ok(LdapError::Connect {
                url: self.url.clone(),
                reason: format!("the connection failed while {what}: {other}"),
            }),
        }
    }

    /// A simple bind; the result is the caller's to judge (49 is a wrong password, not a
    /// failure of the connection).
    pub async fn bind(&mut self, dn: &str, password: &str) -> Result<LdapResult, LdapError> {
        match self
            .ldap
            .with_timeout(self.timeout)
            .simple_bind(dn, password)
            .await
        {
            Ok(r) => Ok(r),
            Err(e) => {
                let what = format!("binding as {dn}");
                match self.op_error(&what, e) {
                    Ok(err) => Err(err),
                    Err(other) => Err(LdapError::Bind {
                        url: self.url.clone(),
                        dn: dn.to_string(),
                        reason: other.to_string(),
                    }),
                }
            }
        }
    }

    /// A subtree search read in pages of `page_size` (RFC 2696 paged results), so a server's
    /// size limit does not cut a large school short. Referrals are not followed.
    pub async fn paged_search(
        &mut self,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
        page_size: i32,
    ) -> Result<Vec<SearchEntry>, LdapError> {
        let what = format!("searching under {base}");
        let search_err = |reason: String| LdapError::Search {
            url: self.url.clone(),
            base: base.to_string(),
            filter: filter.to_string(),
            reason,
        };
        let adapters: Vec<Box<dyn Adapter<String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(page_size.max(1))),
        ];
        let started = self
            .ldap
            .with_timeout(self.timeout)
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await;
        let mut stream = match started {
            Ok(s) => s,
            Err(e) => {
                return Err(match self.op_error(&what, e) {
                    Ok(err) => err,
                    Err(ldap3::LdapError::FilterParsing) => {
                        search_err("the filter is not a valid LDAP filter".into())
                    }
                    Err(other) => search_err(other.to_string()),
                });
            }
        };
        let mut entries = Vec::new();
        loop {
            match stream.next().await {
                Ok(Some(e)) => entries.push(SearchEntry::construct(e)),
                Ok(None) => break,
                Err(e) => {
                    let _ = stream.finish().await;
                    return Err(match self.op_error(&what, e) {
                        Ok(err) => err,
                        Err(other) => search_err(other.to_string()),
                    });
                }
            }
        }
        let result = stream.finish().await;
        if result.rc != 0 {
            let mut reason = describe_result(&result);
            if result.rc == 4 {
                reason.push_str(
                    "; the server limits how many entries this account may read even with paged \
                     results: raise its limit for the bind DN",
                );
            }
            return Err(search_err(reason));
        }
        Ok(entries)
    }

    /// Says goodbye; errors are of no interest at this point.
    pub async fn unbind(mut self) {
        let _ = self.ldap.with_timeout(self.timeout).unbind().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_from_urls() {
        assert_eq!(url_host("ldap://127.0.0.1:389"), Some("127.0.0.1"));
        assert_eq!(url_host("ldaps://dc.school.test/"), Some("dc.school.test"));
        assert_eq!(url_host("ldap://[::1]:3389"), Some("::1"));
        assert_eq!(url_host("ldap://"), Some(""));
        assert_eq!(url_host("http://x"), None);
    }

    #[test]
    fn only_loopback_may_be_plain() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.8.7",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "dc.school.test",
            "192.0.2.1",
            "::2",
            "localhost.example",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
        let cfg = |url: &str, starttls| Ldap {
            url: url.into(),
            starttls,
            ..Ldap::default()
        };
        assert_eq!(
            transport(&cfg("ldap://127.0.0.1:389", false)).ok(),
            Some(Transport::Plain)
        );
        assert_eq!(
            transport(&cfg("ldap://dc:389", true)).ok(),
            Some(Transport::StartTls)
        );
        assert_eq!(
            transport(&cfg("ldaps://dc", false)).ok(),
            Some(Transport::Ldaps)
        );
        let err = transport(&cfg("ldap://dc.school.test", false))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("ldap://dc.school.test"), "{err}");
        assert!(err.contains("unencrypted"), "{err}");
    }
}
