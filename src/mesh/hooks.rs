//! The app's pc hooks. A hook that panics is logged and the flow goes on: one bad hook must not
//! leave a peer half-connected or take the session down.

use crate::rtc::PeerConnection;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use parking_lot::RwLock;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Runs when a peer connection is created, before the offer or answer is made.
pub type PcCreateHook = Arc<dyn Fn(String, bool, Arc<PeerConnection>) -> BoxFuture<'static, ()> + Send + Sync>;
/// Runs once when a peer connection closes.
pub type PcCloseHook = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Default)]
pub struct Hooks {
    create: RwLock<Vec<PcCreateHook>>,
    close: RwLock<Vec<PcCloseHook>>,
}

impl Hooks {
    pub fn add_create(&self, hook: PcCreateHook) {
        self.create.write().push(hook);
    }

    pub fn add_close(&self, hook: PcCloseHook) {
        self.close.write().push(hook);
    }

    pub async fn run_create(&self, peer_id: &str, is_offer: bool, pc: &Arc<PeerConnection>) {
        let hooks = self.create.read().clone();
        for hook in hooks {
            let run = AssertUnwindSafe(hook(peer_id.to_string(), is_offer, pc.clone())).catch_unwind();
            if run.await.is_err() {
                tracing::error!(peer_id, "a pc-create hook panicked; continuing");
            }
        }
    }

    pub fn run_close(&self, peer_id: &str) {
        let hooks = self.close.read().clone();
        for hook in hooks {
            if std::panic::catch_unwind(AssertUnwindSafe(|| hook(peer_id))).is_err() {
                tracing::error!(peer_id, "a pc-close hook panicked; continuing");
            }
        }
    }
}
