//! A one-connection HTTPS client: a new TCP + TLS connection (no session resumption) carrying a
//! few HTTP/1.1 requests through hyper, trusting exactly the certificate the server generated.
//! Connections can come from many loopback source addresses ([`Sources`]), so that the server
//! sees many homes rather than one address.
//!
//! Against a running appliance (`scholactl check --storm`) the client does not know which
//! certificate the server shows (self-signed, or one for the school's public name): on loopback
//! only, [`Target::loopback_any_certificate`] accepts whatever it is, while still checking that
//! the server holds its key, so the handshake costs what a browser's does.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

/// The name the client asks for and checks in the certificate (a SAN of the generated one).
pub const SERVER_NAME: &str = "localhost";

/// Where and how to connect: the address, and a TLS configuration that trusts only the server's
/// own certificate and never resumes a session, so every connection pays a full handshake.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    /// `localhost:PORT`, for the Host header.
    pub authority: String,
    /// `https://localhost:PORT`, for the Origin header.
    pub origin: String,
}

impl Target {
    /// Trusts the certificate(s) in the PEM file `cert_pem` and nothing else.
    pub fn new(addr: SocketAddr, cert_pem: &Path) -> Result<Target> {
        let pem = std::fs::read(cert_pem)
            .with_context(|| format!("cannot read {}", cert_pem.display()))?;
        let mut roots = RootCertStore::empty();
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert =
                cert.with_context(|| format!("{}: not a PEM certificate", cert_pem.display()))?;
            roots.add(cert).with_context(|| {
                format!("{}: the certificate cannot be trusted", cert_pem.display())
            })?;
            n += 1;
        }
        if n == 0 {
            bail!("{} holds no certificate", cert_pem.display());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS configuration")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Target::with_config(addr, config)
    }

    /// Accepts any certificate the server shows, for a server on this machine's loopback only
    /// (refused for any other address): the load of a running appliance whose certificate the
    /// caller does not have. The server must still prove it holds the certificate's key.
    pub fn loopback_any_certificate(addr: SocketAddr) -> Result<Target> {
        if !addr.ip().is_loopback() {
            bail!("{addr} is not a loopback address; the load generator only targets this machine");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(AnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        });
        let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .context("TLS configuration")?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Target::with_config(addr, config)
    }

    fn with_config(addr: SocketAddr, mut config: ClientConfig) -> Result<Target> {
        config.resumption = Resumption::disabled();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server_name = ServerName::try_from(SERVER_NAME).context("server name")?;
        Ok(Target {
            addr,
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
            authority: format!("{SERVER_NAME}:{}", addr.port()),
            origin: format!("https://{SERVER_NAME}:{}", addr.port()),
        })
    }

    /// Opens a new TCP connection, does a full TLS handshake and an HTTP/1.1 handshake.
    pub async fn connect(&self) -> Result<Connection> {
        self.connect_from(None).await
    }

    /// Like [`Target::connect`], from the source address `from` when one is given.
    pub async fn connect_from(&self, from: Option<IpAddr>) -> Result<Connection> {
        let tcp = match from {
            None => TcpStream::connect(self.addr).await,
            Some(ip) => connect_bound(ip, self.addr).await,
        }
        .map_err(|e| Stage::Connect.error(e))?;
        tcp.set_nodelay(true).ok();
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| Stage::Tls.error(e))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| Stage::Http.error(e))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            sender,
            driver: Some(driver),
            authority: self.authority.clone(),
        })
    }
}

/// Trusts any certificate but checks the handshake's signatures with the provider's algorithms,
/// so a connection costs the client what a verified one does, minus the chain.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A TCP connection to `to` from the address `from` (any free port).
async fn connect_bound(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match from {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // a port of an earlier connection may still be in TIME_WAIT; as the 4-tuple differs, reuse it
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// Source addresses for client connections: on loopback, `count` addresses of 127.0.0.0/8 from
/// 127.0.0.2 on (Linux answers on the whole block without configuration), handed out
/// round-robin by index; for any other target, none (the system chooses).
#[derive(Debug, Clone)]
pub struct Sources {
    addrs: Arc<Vec<IpAddr>>,
}

impl Sources {
    pub fn for_target(target: SocketAddr, count: usize) -> Sources {
        let addrs = if target.ip().is_loopback() && target.is_ipv4() {
            loopback_addrs(count)
        } else {
            Vec::new()
        };
        Sources {
            addrs: Arc::new(addrs),
        }
    }

    /// The address for the `i`-th client, or `None` to let the system choose.
    pub fn get(&self, i: usize) -> Option<IpAddr> {
        if self.addrs.is_empty() {
            return None;
        }
        self.addrs.get(i % self.addrs.len()).copied()
    }

    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }
}

/// 127.0.0.2, 127.0.0.3, … skipping every address whose last byte is 0 or 255, so none looks like
/// a network or broadcast address; at most the rest of 127.0.0.0/8.
fn loopback_addrs(count: usize) -> Vec<IpAddr> {
    (2u32..0x00ff_ffff)
        .filter(|n| !matches!(n & 0xff, 0 | 255))
        .take(count)
        .map(|n| IpAddr::V4(Ipv4Addr::from(0x7f00_0000 | n)))
        .collect()
}

/// Where a request failed before it got an HTTP status; used to count failures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Tls,
    Http,
}

impl Stage {
    fn error(self, e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::Error::new(TransportError {
            stage: self,
            message: e.to_string(),
        })
    }
}

/// A failure below HTTP (no status to count by).
#[derive(Debug)]
pub struct TransportError {
    pub stage: Stage,
    pub message: String,
}

impl std::error::Error for TransportError {}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.stage {
            Stage::Connect => "connect",
            Stage::Tls => "TLS handshake",
            Stage::Http => "HTTP",
        };
        write!(f, "{what}: {}", self.message)
    }
}

/// A response with its body read in full.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The value of the cookie `name` set by this response, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(hyper::header::SET_COOKIE)
            .iter()
            .find_map(|v| {
                let v = v.to_str().ok()?;
                let first = v.split(';').next()?.trim();
                let (k, val) = first.split_once('=')?;
                (k.trim() == name).then(|| val.trim().to_string())
            })
    }
}

/// One open connection; requests go out one after the other on it.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// Drives the connection; `None` once it has been seen to end.
    driver: Option<JoinHandle<()>>,
    authority: String,
}

impl Connection {
    /// A request builder with Host and User-Agent set.
    pub fn request(&self, method: &str, path: &str) -> hyper::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority)
            .header(
                hyper::header::USER_AGENT,
                concat!("schola-load/", env!("CARGO_PKG_VERSION")),
            )
    }

    /// Sends a request and reads the whole response body.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Response> {
        self.sender
            .ready()
            .await
            .map_err(|e| Stage::Http.error(e))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| Stage::Http.error(e))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Stage::Http.error(e))?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// True when the connection can carry no more requests (the server closed it).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed() || self.driver.as_ref().is_none_or(|d| d.is_finished())
    }

    /// Waits until the connection is closed (by the server, or by an error).
    pub async fn closed(&mut self) {
        if let Some(driver) = self.driver.as_mut() {
            let _ = driver.await;
            self.driver = None;
        }
    }

    /// Closes the connection and waits (briefly) for it to be shut down.
    pub async fn close(self) {
        let Connection { sender, driver, .. } = self;
        drop(sender);
        let Some(driver) = driver else {
            return;
        };
        let abort = driver.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(2), driver)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// `GET path` on a new connection; the status, or an error if there is no answer.
pub async fn get_once(target: &Target, path: &str) -> Result<StatusCode> {
    let mut conn = target.connect().await?;
    let req = conn.request("GET", path).body(Full::new(Bytes::new()))?;
    let resp = conn.send(req).await?;
    conn.close().await;
    Ok(resp.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_sources_skip_network_and_broadcast_addresses() {
        let target: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let s = Sources::for_target(target, 300);
        assert_eq!(s.len(), 300);
        assert_eq!(s.get(0), Some("127.0.0.2".parse().unwrap()));
        assert_eq!(s.get(252), Some("127.0.0.254".parse().unwrap()));
        assert_eq!(s.get(253), Some("127.0.1.1".parse().unwrap()));
        assert_eq!(s.get(300), s.get(0), "round-robin");
        let none = Sources::for_target("192.0.2.1:443".parse().unwrap(), 300);
        assert_eq!((none.len(), none.get(5)), (0, None));
    }
}
