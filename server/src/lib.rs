//! p2p-signaling: the signaling server of webrtc_p2p groups. Speaks the Extreal P2P protocol over
//! Socket.IO (docs/protocol.md) with group-scoped routing, validated input and limits.
//!
//! The binary (`main.rs`) only reads flags and the environment; [`start`] runs the server in the
//! calling process, so tests and benches can start one without spawning a binary:
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let config = p2p_signaling::Config { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
//! let server = p2p_signaling::start(config).await?;
//! println!("listening on {}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod cluster;
pub mod config;
mod envelope;
mod groups;
mod handlers;
mod incoming;
mod limits;
mod metrics;
mod per_ip;
mod redis_groups;
mod registry;
mod routes;
mod serve;
mod tls;
mod turn;

pub use config::Config;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use axum::Router;
use futures_util::future::{FutureExt, OptionFuture};
use handlers::AppState;
use redis_groups::RedisGroups;
use registry::Groups;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// A running server: its address, and the way to stop it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    /// Serves https/wss (`--tls-cert`/`--tls-key`).
    tls: bool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Server {
    /// The address it listens on (the real port when the config asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>` (`https://` with TLS), what a client connects to.
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Stops accepting, closes every socket (at most `shutdown_timeout_ms`) and returns when done:
    /// what SIGTERM does to the binary.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `config.bind` and serves in a task of the current runtime until [`Server::shutdown`].
/// With `redis_url` set it first connects to Redis and joins the nodes there. Errors are readable
/// sentences (a bad CORS origin, an address that cannot be bound, Redis unreachable).
pub async fn start(config: Config) -> Result<Server, String> {
    let cors = cors(&config)?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = serve::listen(config.bind).map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| format!("no local address: {e}"))?;
    // Transport limits are hard backstops, checked before anything is parsed; the per-event limit
    // (with a clear 413) is ours. A polling body may batch a few packets; a websocket message is one
    // packet, so its cap is the payload limit plus the packet's envelope (engineioxide's defaults,
    // 64 MiB messages / 16 MiB frames, let one frame cost hundreds of MB once parsed).
    let ws_cap = config.max_payload_bytes + 1024;
    let builder = SocketIo::builder()
        .max_payload((config.max_payload_bytes * 2 + 1024) as u64)
        .ws_max_message_size(ws_cap)
        .ws_max_frame_size(ws_cap)
        .max_buffer_size(OUTBOUND_PACKETS_PER_SOCKET)
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES);
    let deadline = Duration::from_millis(config.shutdown_timeout_ms);
    let (app, closing) = match config.redis_url.clone() {
        None => {
            let state = Arc::new(AppState::new(config.clone(), Groups::Memory(Default::default())));
            let (layer, io) = builder.build_layer();
            mount(&io, state.clone());
            (routes(state.clone()).layer(layer), close(io, state, None, deadline).boxed())
        }
        Some(url) => {
            let client = redis::Client::open(redis_groups::with_resp3(&url))
                .map_err(|e| format!("bad --redis-url {:?}: {e}", redis_groups::redacted(&url)))?;
            let url = redis_groups::redacted(&url);
            let unreachable = |e: &dyn std::fmt::Display| format!("cannot reach Redis at {url:?}: {e}");
            let groups = RedisGroups::connect(&client).await.map_err(|e| unreachable(&e.0))?;
            tracing::info!(node = groups.node(), "joined the nodes on Redis");
            let state = Arc::new(AppState::new(config.clone(), Groups::Redis(Box::new(groups))));
            let adapter = RedisAdapterCtr::new_with_redis(&client).await.map_err(|e| unreachable(&e))?;
            let (layer, io) = builder.with_adapter::<RedisAdapter<_>>(adapter).build_layer();
            mount(&io, state.clone()).await.map_err(|e| unreachable(&e))?;
            let cluster = tokio::spawn(cluster::run(state.clone(), io.clone()));
            (routes(state.clone()).layer(layer), close(io, state, Some(cluster), deadline).boxed())
        }
    };
    let app = app.layer(cors);

    let limits = serve::ServeLimits {
        max_tcp_per_ip: config.max_tcp_per_ip,
        header_timeout: Duration::from_millis(config.header_timeout_ms),
        shutdown_timeout: deadline,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
        tracing::info!("shutting down");
        closing.await;
    };
    let secure = tls.is_some();
    let task = tokio::spawn(serve::serve(listener, app, limits, tls, shutdown));
    Ok(Server { addr, tls: secure, stop, task })
}

/// Wires the default namespace: every socket goes through `handlers::on_connect`.
fn mount<A: Adapter + DefinedAdapter>(io: &SocketIo<A>, state: Arc<AppState>) -> A::InitRes {
    let io2 = io.clone();
    let middleware = move |socket: SocketRef<A>, TryData(auth): TryData<serde_json::Value>| {
        let result = handlers::on_connect(socket, auth.ok(), state.clone(), io2.clone());
        async move { result }
    };
    io.ns("/", (async || {}).with(middleware))
}

fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(|State(state): State<Arc<AppState>>| async move {
                let groups = state.groups.group_count().await.unwrap_or(0);
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(groups))
            }),
        )
        .with_state(state)
}

/// What shutdown does: with Redis, stop the lease and take this node's sockets out of their
/// groups at once (telling their peers on other nodes), then close every socket, at most
/// `deadline` in all.
async fn close<A: Adapter>(io: SocketIo<A>, state: Arc<AppState>, cluster: Option<JoinHandle<()>>, deadline: Duration) {
    let work = async {
        if let Some(cluster) = cluster {
            cluster.abort();
        }
        if let Some(Ok(pairs)) = OptionFuture::from(state.groups.redis().map(RedisGroups::retire)).await {
            handlers::tell_left(&io, pairs).await;
        }
        io.close().await;
    };
    let _ = tokio::time::timeout(deadline, work).await;
}

fn cors(config: &Config) -> Result<CorsLayer, String> {
    if config.cors_origin == "*" {
        return Ok(CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any));
    }
    let origin: HeaderValue =
        config.cors_origin.parse().map_err(|_| format!("bad CORS origin {:?}", config.cors_origin))?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::exact(origin))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .allow_credentials(config.cors_credentials))
}

/// Packets the server queues for one socket that does not read; past it, replies to that socket
/// are dropped instead of growing memory (a `list hosts` reply is at most a few tens of KB).
const OUTBOUND_PACKETS_PER_SOCKET: usize = 32;

/// Each websocket's read buffer is allocated up front and lives as long as the socket; signaling
/// packets are a few hundred bytes, so 1 KiB (engineioxide's default is 4 KiB) reads a typical
/// packet in one call and keeps idle sockets small. Larger packets grow the buffer as needed.
const WS_READ_BUFFER_BYTES: usize = 1024;
