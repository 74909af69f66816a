//! The `p2p-signaling` binary: reads flags and the environment, starts the server (the library,
//! `lib.rs`), prints the listening line and stops on SIGTERM or Ctrl-C.

use p2p_signaling::Config;
use std::io::Write;

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

/// At most 15 bytes: Linux keeps that much of a thread's name.
const RUNTIME_THREAD_NAME: &str = "signaling-rt";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_sources(&args, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(message) => {
            let help = args.iter().any(|a| a == "--help" || a == "-h");
            eprintln!("{message}");
            std::process::exit(if help { 0 } else { 2 });
        }
    };
    // The name tells the runtime's threads apart in `top -H` and /proc (blocking-pool threads,
    // started on demand, share it).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers)
        .thread_name(RUNTIME_THREAD_NAME)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve(config)),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    }
}

async fn serve(config: Config) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.logging).unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let signal = shutdown_signal();
    let server = match p2p_signaling::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "p2p-signaling listening on {}", server.url());
        let _ = out.flush();
    }
    signal.await;
    server.shutdown().await;
}
