//! p2p-signaling: the signaling server of webrtc_p2p groups. Speaks the Extreal P2P protocol over
//! Socket.IO (docs/protocol.md) with group-scoped routing, validated input and limits.

mod config;
mod groups;
mod handlers;
mod limits;
mod metrics;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use config::Config;
use handlers::AppState;
use socketioxide::extract::SocketRef;
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
    let origin: HeaderValue = config.cors_origin.parse().map_err(|_| format!("bad CORS origin {:?}", config.cors_origin))?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::exact(origin))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .allow_credentials(config.cors_credentials))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
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

    let state = Arc::new(AppState { config: config.clone(), registry: Default::default(), metrics: Default::default() });
    // The engine.io limit is a hard backstop; the per-event limit (with a clear rejection) is ours.
    let (layer, io) = SocketIo::builder().max_payload((config.max_payload_bytes * 2 + 1024) as u64).build_layer();
    {
        let state = state.clone();
        let io2 = io.clone();
        let middleware = move |socket: SocketRef| {
            let result = handlers::on_connect(socket, state.clone(), io2.clone());
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

    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {}: {e}", config.bind);
            std::process::exit(1);
        }
    };
    let addr = listener.local_addr().expect("bound address");
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "p2p-signaling listening on http://{addr}");
        let _ = out.flush();
    }
    // TCP_NODELAY on every accepted socket: signaling relays small frames back to back (a join
    // and the offer that follows it); with Nagle on, each waited ~40 ms for the client's delayed
    // ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let serve = axum::serve(listener, app).with_graceful_shutdown({
        let io = io.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = tokio::time::timeout(Duration::from_secs(3), io.close()).await;
        }
    });
    if let Err(e) = serve.await {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
