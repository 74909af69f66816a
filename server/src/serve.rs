//! The HTTP accept loop. axum's `serve` sets no header timeout and no per-client limit, so a
//! slowloris (a thousand unfinished requests) could take every file descriptor and starve
//! `/healthz` and new clients, and one stalled request kept SIGTERM from ever exiting. Here:
//! - TCP_NODELAY on every accepted socket (small signaling frames must not wait for delayed ACKs),
//! - at most `max_tcp_per_ip` open connections per address (more are closed at once),
//! - hyper's header-read timeout, and the same deadline for the first byte of a new connection
//!   (with TLS: for the handshake and the first byte of the request, so a client that opens a
//!   connection and stays silent, before or after its ClientHello, cannot hold a slot),
//! - the peer address as `ConnectInfo` in each request, for the per-IP Socket.IO limit,
//! - the request detached from hyper's read buffer (see `detach_from_read_buffer`),
//! - on shutdown, connections get `shutdown_timeout` to finish, then the process goes on without them.
//!
//! The listening socket gets a deep accept queue ([`listen`]).

use crate::per_ip::PerIp;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Limits of the accept loop.
pub struct ServeLimits {
    pub max_tcp_per_ip: usize,
    pub header_timeout: Duration,
    pub shutdown_timeout: Duration,
}

/// hyper parses the URI and header values as views into the connection's read buffer (8-16 KiB),
/// and a Socket.IO socket keeps its request's parts (socketioxide's `req_parts`, axum's
/// `OriginalUri`) for its whole life: that kept the buffer alive, half of the memory of an idle
/// connection. Copying the few hundred bytes lets it go once the connection is upgraded.
fn detach_from_read_buffer<B>(req: &mut Request<B>) {
    for value in req.headers_mut().values_mut() {
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
}

/// Connections the kernel may hold completed for us before we accept them (capped by the
/// system's `net.core.somaxconn`). tokio's `TcpListener::bind` asks for 128: a burst of more
/// clients than that (every client of a restarted server reconnecting at once, or 200 connects in
/// flight from the load generator) overflowed the queue, the kernel dropped the handshakes that did
/// not fit, and those clients waited for a retransmission: one second or more each.
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with a [`LISTEN_BACKLOG`]-deep accept queue (and, as
/// `TcpListener::bind` does, `SO_REUSEADDR` on Unix, so a restarted server can bind at once).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` (over TLS when `tls` is set) until `shutdown` resolves, then drains
/// for at most the shutdown timeout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let per_ip = PerIp::new(limits.max_tcp_per_ip);
    let graceful = GracefulShutdown::new();
    // HTTP/1 only: Socket.IO needs nothing else, and h2 would bring its own set of limits to tune.
    let mut http = auto::Builder::new(TokioExecutor::new()).http1_only();
    http.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = per_ip.acquire(peer.ip()) else {
            tracing::debug!(%peer, "too many connections from this address; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            detach_from_read_buffer(&mut req);
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let (http, watcher, tls) = (http.clone(), graceful.watcher(), tls.clone());
        // hyper's header timer starts with the first byte of a request; a connection that sends
        // none would otherwise be held forever.
        let deadline = Instant::now() + limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let served = match tls {
                None => match tokio::time::timeout_at(deadline, stream.peek(&mut [0u8; 1])).await {
                    Ok(_) => serve_io(stream, &http, service, watcher).await,
                    Err(_) => return tracing::debug!(%peer, "no request in time; closed"),
                },
                Some(tls) => match tokio::time::timeout_at(deadline, open_tls(&tls, stream)).await {
                    Ok(Ok(stream)) => serve_io(stream, &http, service, watcher).await,
                    Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed; closed"),
                    Err(_) => return tracing::debug!(%peer, "no TLS handshake and request in time; closed"),
                },
            };
            if let Err(e) = served {
                tracing::trace!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown timeout; exiting anyway");
    }
}

/// The TLS handshake, then the first byte of the request (buffered, handed to hyper with the rest).
async fn open_tls(tls: &TlsAcceptor, stream: TcpStream) -> std::io::Result<BufReader<TlsStream>> {
    let mut stream = BufReader::new(tls.accept(stream).await?);
    stream.fill_buf().await?;
    Ok(stream)
}

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Serves one connection's requests (and its websocket upgrade) until it closes or shutdown ends it.
async fn serve_io<I, S>(
    io: I,
    http: &auto::Builder<TokioExecutor>,
    service: S,
    watcher: Watcher,
) -> Result<(), BoxError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = axum::response::Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    watcher.watch(http.serve_connection_with_upgrades(TokioIo::new(io), service).into_owned()).await
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::listen;

    /// Connections completed while nobody accepts all wait in the queue: with tokio's default
    /// backlog only 129 of these 300 did; the 130th connect waited for a retransmission.
    #[tokio::test]
    async fn a_burst_of_connections_waits_in_the_accept_queue() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let wait = std::time::Duration::from_millis(500);
        let mut clients = Vec::new();
        for i in 0..300 {
            // The kernel drops a SYN while the queue is full: the connect would wait for its
            // retransmission (1 s, then 3 s, ...) and never complete while nobody accepts.
            match tokio::time::timeout(wait, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(client)) => clients.push(client),
                other => panic!("connection {i} was not queued: {other:?}"),
            }
        }
        let mut queued = 0;
        while let Ok(Ok(_)) = tokio::time::timeout(wait, listener.accept()).await {
            queued += 1;
        }
        assert_eq!(queued, 300);
    }
}
