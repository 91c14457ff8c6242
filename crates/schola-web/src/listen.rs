//! The HTTPS edge, per accepted TCP connection: the per-client [`Gate`], then TLS, then HTTP.
//!
//! actix-web's `HttpServer` has no hook between accept and the TLS handshake, which is where a
//! per-address cap has to sit (an idle TCP connection already holds a handshake slot), so the
//! server is assembled here from the parts `HttpServer` itself uses: actix-server accepts,
//! actix-tls does the handshake, actix-http speaks HTTP/1.1 to the actix-web `App`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_http::{
    ConnectionType, HttpMessage as _, HttpService, KeepAlive, Protocol, Request, Response,
};
use actix_service::boxed::{BoxService, BoxServiceFactory};
use actix_service::{Service, ServiceFactory, fn_service};
use actix_tls::accept::rustls_0_23::{Acceptor, AcceptorService, TlsStream};
use actix_web::body::BoxBody;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::rt::net::TcpStream;

use crate::conn::{Admit, ClientKey, Gate};
use crate::limits::Limits;

/// What the HTTP layer is handed once TLS is done.
pub type HttpIn = (TlsStream<TcpStream>, Protocol, Option<SocketAddr>);
/// An HTTP/1.1 service factory over TLS streams, type-erased.
pub type HttpFactory = BoxServiceFactory<(), HttpIn, (), actix_http::error::DispatchError, ()>;

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Binds a listening TCP socket as actix-web does (address reuse, a long backlog).
pub fn bind(addr: SocketAddr, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// The answer on a connection past its client's cap: the waiting room in the browser's
/// language, then close.
fn busy_response(req: &Request) -> Response<BoxBody> {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = crate::i18n::choose(None, accept, None);
    let mut res: Response<BoxBody> =
        crate::pages::waiting_room_in(lang, crate::admission::retry_after()).into();
    for (name, value) in crate::SECURITY_HEADERS {
        res.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// The HTTP service for busy answers: no keep-alive, a short time to send the request head.
pub fn busy_http(limits: &Limits) -> HttpFactory {
    actix_service::boxed::factory(
        HttpService::<TlsStream<TcpStream>, _, _>::build()
            .keep_alive(KeepAlive::Disabled)
            .client_request_timeout(limits.busy_timeout)
            .client_disconnect_timeout(std::time::Duration::from_secs(1))
            .finish(fn_service(|req: Request| async move {
                Ok::<_, Infallible>(busy_response(&req))
            })),
    )
}

/// A TLS acceptor with the given handshake timeout.
pub fn acceptor(tls: &rustls::ServerConfig, timeout: std::time::Duration) -> Acceptor {
    let mut a = Acceptor::new(tls.clone());
    a.set_handshake_timeout(timeout);
    a
}

/// The service factory actix-server instantiates once per worker for an HTTPS listener.
pub struct Edge {
    gate: Arc<Gate>,
    main: (Acceptor, HttpFactory),
    busy: (Acceptor, HttpFactory),
}

impl Edge {
    /// `main` serves the app; over a client's cap, `busy` answers (see [`busy_http`]).
    pub fn new(
        gate: Arc<Gate>,
        tls: &rustls::ServerConfig,
        limits: &Limits,
        main: HttpFactory,
    ) -> Edge {
        Edge {
            gate,
            main: (acceptor(tls, limits.handshake_timeout), main),
            busy: (acceptor(tls, limits.busy_timeout), busy_http(limits)),
        }
    }
}

struct Lane {
    tls: AcceptorService,
    http: BoxService<HttpIn, (), actix_http::error::DispatchError>,
}

struct EdgeInner {
    gate: Arc<Gate>,
    main: Lane,
    busy: Lane,
}

/// One worker's instance of [`Edge`].
pub struct EdgeService(Rc<EdgeInner>);

impl ServiceFactory<TcpStream> for Edge {
    type Response = ();
    type Error = ();
    type Config = ();
    type Service = EdgeService;
    type InitError = ();
    type Future = LocalBoxFuture<Result<EdgeService, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        let gate = Arc::clone(&self.gate);
        let main_tls = ServiceFactory::<TcpStream>::new_service(&self.main.0, ());
        let main_http = self.main.1.new_service(());
        let busy_tls = ServiceFactory::<TcpStream>::new_service(&self.busy.0, ());
        let busy_http = self.busy.1.new_service(());
        Box::pin(async move {
            let main = Lane {
                tls: main_tls.await?,
                http: main_http.await?,
            };
            let busy = Lane {
                tls: busy_tls.await?,
                http: busy_http.await?,
            };
            Ok(EdgeService(Rc::new(EdgeInner { gate, main, busy })))
        })
    }
}

impl Service<TcpStream> for EdgeService {
    type Response = ();
    type Error = ();
    type Future = LocalBoxFuture<Result<(), ()>>;

    /// Ready while the worker may start another TLS handshake (actix-tls's per-worker limit,
    /// `max_connection_rate`), which keeps actix-server from accepting more than it can shake.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let tls = Service::<TcpStream>::poll_ready(&self.0.main.tls, cx).map_err(|_| ())?;
        let http = self.0.main.http.poll_ready(cx).map_err(|_| ())?;
        match (tls, http) {
            (Poll::Ready(()), Poll::Ready(())) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    fn call(&self, io: TcpStream) -> Self::Future {
        let inner = Rc::clone(&self.0);
        Box::pin(async move {
            // no peer address: the client is already gone
            let peer = io.peer_addr().map_err(|_| ())?;
            let key = ClientKey::of(peer.ip());
            let (_conn, lane) = match inner.gate.connect(key) {
                Admit::Serve(p) => (p, &inner.main),
                Admit::Busy(p) => {
                    tracing::debug!(client = %peer.ip(), "over the per-client connection cap: busy answer");
                    (p, &inner.busy)
                }
                Admit::Close => return Err(()),
            };
            let handshake = inner.gate.handshake(key).ok_or(())?;
            let tls = Service::<TcpStream>::call(&lane.tls, io)
                .await
                .map_err(|_| ())?;
            drop(handshake);
            // tls.rs offers only http/1.1 by ALPN
            lane.http
                .call((tls, Protocol::Http1, Some(peer)))
                .await
                .map_err(|_| ())
        })
    }
}
