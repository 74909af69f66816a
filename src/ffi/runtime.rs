//! The one tokio runtime of the library: created on first use, shut down by `p2p_shutdown`.

use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

pub fn get() -> Arc<Runtime> {
    let mut slot = RUNTIME.lock();
    if let Some(rt) = slot.as_ref() {
        return rt.clone();
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8))
            .thread_name("webrtc_p2p")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime"),
    );
    *slot = Some(rt.clone());
    rt
}

/// Whether the calling thread is one of the runtime's (a callback running inside the library).
pub fn on_runtime_thread() -> bool {
    Handle::try_current().is_ok()
}

/// Runs `fut` to completion from a synchronous export, bounded by `limit`. Works from the app's
/// threads and from inside callbacks (which run on runtime threads).
pub fn block_on<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let rt = get();
    let bounded = async move { tokio::time::timeout(limit, fut).await.ok() };
    if on_runtime_thread() {
        tokio::task::block_in_place(|| rt.handle().block_on(bounded))
    } else {
        rt.block_on(bounded)
    }
}

/// Spawns a task on the runtime.
pub fn spawn<F>(fut: F)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    get().spawn(fut);
}

/// Stops the runtime (editor domain reload). Must not run on a runtime thread.
pub fn shutdown(limit: Duration) {
    let rt = RUNTIME.lock().take();
    if let Some(rt) = rt {
        match Arc::try_unwrap(rt) {
            Ok(rt) => rt.shutdown_timeout(limit),
            // Another thread is inside block_on right now; it keeps the runtime alive until it returns.
            Err(rt) => drop(rt),
        }
    }
}
