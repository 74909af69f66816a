//! The webrtc-rs runtime we give every connection: tokio's, with bigger UDP socket buffers.
//!
//! Why: the kernel's default UDP receive buffer (~208 KiB) is smaller than SCTP's 1 MiB receive
//! window, so a fast sender overflows it whenever the receiving task falls behind for a moment, and
//! the dropped datagrams put SCTP into loss recovery. Measured on loopback (`cargo bench --bench p2p
//! -- datachannel`), reliable channels with 4–16 KiB messages collapsed to 3–8 MiB/s in most runs
//! while /proc/net/snmp counted thousands of `RcvbufErrors`. Everything else is delegated unchanged.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime, TokioRuntime,
};

/// Requested size of each UDP socket's receive and send buffers. Linux caps it at
/// `net.core.rmem_max` / `wmem_max`; raising those sysctls lets it take full effect. Windows has no
/// such cap and grants it as asked (its default is 64 KiB), so the same request serves both.
pub const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct TunedRuntime {
    inner: TokioRuntime,
}

impl Default for TunedRuntime {
    fn default() -> Self {
        TunedRuntime { inner: TokioRuntime }
    }
}

impl Runtime for TunedRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future)
    }

    fn spawn_reactor(&self, pool: usize, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn_reactor(pool, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let sock = socket2::SockRef::from(&socket);
        if let Err(e) = sock.set_recv_buffer_size(UDP_BUFFER_BYTES) {
            tracing::debug!(error = %e, "cannot enlarge the UDP receive buffer");
        }
        if let Err(e) = sock.set_send_buffer_size(UDP_BUFFER_BYTES) {
            tracing::debug!(error = %e, "cannot enlarge the UDP send buffer");
        }
        self.inner.wrap_udp_socket(socket)
    }

    fn wrap_tcp_listener(&self, listener: std::net::TcpListener) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.yield_now()
    }

    fn name(&self) -> &'static str {
        "tokio (tuned UDP buffers)"
    }
}
