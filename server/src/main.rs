//! p2p-signaling: the signaling server of webrtc_p2p groups. Speaks the Extreal P2P protocol over
//! Socket.IO (docs/protocol.md) with group-scoped routing, validated input and limits.

mod auth;
mod config;
mod envelope;
mod groups;
mod handlers;
mod limits;
mod metrics;
mod per_ip;
mod serve;
mod tls;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use axum::Router;
use config::Config;
use handlers::AppState;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

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

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that comes right after the listening line is not missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_sources(&args, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(message) => {
            let help = args.iter().any(|a| a == "--help" || a == "-h");
            eprintln!("{message}");
            std::process::exit(if help { 0 } else { 2 });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.logging).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cors = match cors(&config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };

    let state = Arc::new(AppState::new(config.clone()));
    // Transport limits are hard backstops, checked before anything is parsed; the per-event limit
    // (with a clear 413) is ours. A polling body may batch a few packets; a websocket message is one
    // packet, so its cap is the payload limit plus the packet's envelope (engineioxide's defaults,
    // 64 MiB messages / 16 MiB frames, let one frame cost hundreds of MB once parsed).
    let ws_cap = config.max_payload_bytes + 1024;
    let (layer, io) = SocketIo::builder()
        .max_payload((config.max_payload_bytes * 2 + 1024) as u64)
        .ws_max_message_size(ws_cap)
        .ws_max_frame_size(ws_cap)
        .max_buffer_size(OUTBOUND_PACKETS_PER_SOCKET)
        .build_layer();
    {
        let state = state.clone();
        let io2 = io.clone();
        let middleware = move |socket: SocketRef, TryData(auth): TryData<serde_json::Value>| {
            let result = handlers::on_connect(socket, auth.ok(), state.clone(), io2.clone());
            async move { result }
        };
        io.ns("/", (async || {}).with(middleware));
    }
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(|State(state): State<Arc<AppState>>| async move {
                let groups = state.registry.lock().group_count();
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(groups))
            }),
        )
        .with_state(state.clone())
        .layer(layer)
        .layer(cors);

    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => match tls::acceptor(cert, key) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        },
        _ => None,
    };
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {}: {e}", config.bind);
            std::process::exit(1);
        }
    };
    let signal = shutdown_signal();
    let addr = listener.local_addr().expect("bound address");
    {
        let mut out = std::io::stdout().lock();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let _ = writeln!(out, "p2p-signaling listening on {scheme}://{addr}");
        let _ = out.flush();
    }
    let limits = serve::ServeLimits {
        max_tcp_per_ip: config.max_tcp_per_ip,
        header_timeout: Duration::from_millis(config.header_timeout_ms),
        shutdown_timeout: Duration::from_millis(config.shutdown_timeout_ms),
    };
    let shutdown = {
        let io = io.clone();
        let deadline = limits.shutdown_timeout;
        async move {
            signal.await;
            tracing::info!("shutting down");
            let _ = tokio::time::timeout(deadline, io.close()).await;
        }
    };
    serve::serve(listener, app, limits, tls, shutdown).await;
}

/// Packets the server queues for one socket that does not read; past it, replies to that socket
/// are dropped instead of growing memory (a `list hosts` reply is at most a few tens of KB).
const OUTBOUND_PACKETS_PER_SOCKET: usize = 32;
