//! The callback gate of a client: serialises its callbacks and lets destroy wait for the one in
//! flight, so that after `p2p_client_destroy` returns no callback of that client runs again.
//! Re-entrant: a callback may call destroy (or anything else) on its own thread.

use parking_lot::ReentrantMutex;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

pub struct CallbackGate {
    lock: ReentrantMutex<()>,
    open: AtomicBool,
}

impl Default for CallbackGate {
    fn default() -> Self {
        CallbackGate { lock: ReentrantMutex::new(()), open: AtomicBool::new(true) }
    }
}

impl CallbackGate {
    /// Runs `f` (which calls into the app) unless the gate is closed. A panic in `f` is contained.
    pub fn call(&self, f: impl FnOnce()) {
        let _held = self.lock.lock();
        if !self.open.load(Ordering::SeqCst) {
            return;
        }
        DEPTH.with(|d| d.set(d.get() + 1));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        DEPTH.with(|d| d.set(d.get() - 1));
    }

    /// Closes the gate and waits for a callback running on another thread to return, except when
    /// called from inside a callback: that callback's thread may hold a gate the other one waits
    /// for (two clients destroying each other from their callbacks), so it must not wait.
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        if !in_callback() {
            drop(self.lock.lock());
        }
    }
}

/// True while the calling thread is inside any callback of the library.
pub fn in_callback() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Calls into the app from library code. On a runtime thread the wait for the gate and the call
/// itself run under `block_in_place`, so a slow or blocking callback never starves the runtime.
pub fn invoke(gate: &CallbackGate, f: impl FnOnce()) {
    if super::runtime::on_runtime_thread() {
        tokio::task::block_in_place(|| gate.call(f));
    } else {
        gate.call(f);
    }
}

/// [`invoke`] for a callback about the object behind `handle`: skipped when that handle was freed
/// before the callback got the gate (a stop or destroy from inside another callback of the client
/// frees its connections' handles while this one waited), so the app is never handed a dead handle.
pub fn invoke_live(gate: &CallbackGate, handle: i32, f: impl FnOnce()) {
    invoke(gate, || {
        if super::handles::is_live(handle) {
            f()
        }
    });
}
