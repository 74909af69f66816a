//! `p2p_set_log_callback`: the library's `tracing` output routed to the app (Unity: Debug.Log).
//! A minimal subscriber: level filter, message plus fields on one line, no spans.

use super::client::UserData;
use super::error::{guard, FfiError};
use super::strings::c_string;
use super::types::*;
use once_cell::sync::OnceCell;
use parking_lot::RwLock;
use std::ffi::{c_char, c_void};
use std::fmt::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static SINK: RwLock<Option<(unsafe extern "C" fn(*mut c_void, i32, *const c_char), UserData)>> = RwLock::new(None);
static LEVEL: AtomicI32 = AtomicI32::new(P2P_LOG_NONE);
static INSTALLED: OnceCell<bool> = OnceCell::new();

thread_local! {
    /// Depth of log callbacks running on this thread (setting the callback from inside one would
    /// wait for itself).
    static IN_LOG_CALLBACK: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn level_of(level: &Level) -> i32 {
    match *level {
        Level::ERROR => P2P_LOG_ERROR,
        Level::WARN => P2P_LOG_WARNING,
        Level::INFO => P2P_LOG_INFO,
        Level::DEBUG => P2P_LOG_DEBUG,
        Level::TRACE => P2P_LOG_VERBOSE,
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

struct CallbackSubscriber;

impl Subscriber for CallbackSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_of(metadata.level()) <= LEVEL.load(Ordering::Relaxed) && metadata.target().starts_with("webrtc_p2p")
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let level = level_of(event.metadata().level());
        let mut line = Line(format!("[{}] ", event.metadata().target()));
        event.record(&mut line);
        // A recursive read: the callback may call into the library, which may log again on this
        // thread; a plain read would then wait behind a writer waiting for us (deadlock). The
        // lock is held during the call so that after `p2p_set_log_callback` returns, the old
        // callback is never called again.
        let sink = SINK.read_recursive();
        if let Some((cb, ud)) = *sink {
            let text = c_string(&line.0);
            IN_LOG_CALLBACK.with(|d| d.set(d.get() + 1));
            let _ = std::panic::catch_unwind(|| unsafe { cb(ud.get(), level, text.as_ptr()) });
            IN_LOG_CALLBACK.with(|d| d.set(d.get() - 1));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Drops the log callback (p2p_shutdown: the code it points to may be unloaded next).
pub(crate) fn clear() {
    *SINK.write() = None;
    LEVEL.store(P2P_LOG_NONE, Ordering::Relaxed);
}

/// Routes the library's log lines at `level` (`P2P_LOG_*`) and more severe to `cb`, from any thread.
/// NULL `cb` or `P2P_LOG_NONE` turns logging off; after this returns the old callback is not called
/// again. From inside the log callback it fails with `P2P_ERR_INVALID_STATE`. Fails with `P2P_ERR_INVALID_STATE` if the
/// host process already installed another global `tracing` subscriber.
#[no_mangle]
pub extern "C" fn p2p_set_log_callback(cb: p2p_log_cb, user_data: *mut c_void, level: i32) -> i32 {
    guard(|| {
        if !(P2P_LOG_NONE..=P2P_LOG_VERBOSE).contains(&level) {
            return Err(FfiError::arg(format!("level must be {P2P_LOG_NONE}..={P2P_LOG_VERBOSE}, got {level}")));
        }
        if IN_LOG_CALLBACK.with(|d| d.get() > 0) {
            return Err(FfiError::new(
                P2P_ERR_INVALID_STATE,
                "p2p_set_log_callback cannot be called from inside the log callback",
            ));
        }
        let installed = *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(CallbackSubscriber).is_ok());
        if !installed {
            return Err(FfiError::new(
                P2P_ERR_INVALID_STATE,
                "another tracing subscriber is installed in this process",
            ));
        }
        *SINK.write() = cb.map(|cb| (cb, UserData(user_data)));
        LEVEL.store(if cb.is_some() { level } else { P2P_LOG_NONE }, Ordering::Relaxed);
        tracing::callsite::rebuild_interest_cache();
        Ok(P2P_OK)
    })
}
