//! `p2p_dc_*`: send, state, close, and event callbacks of a data channel. Each channel has one pump
//! task that reads its events; events that arrive before the app sets callbacks are kept and
//! delivered, in order, once it does, so no message is lost.

use super::client::UserData;
use super::codes::dc_state_code;
use super::error::{guard, FfiError};
use super::gate::{invoke_live, CallbackGate};
use super::handles::{self, Object};
use super::runtime;
use super::strings::copy_out;
use super::types::*;
use crate::rtc::{DataChannel, DataChannelEvent, DataChannelState};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// Bound of the blocking dc exports (they are local operations).
const DC_WAIT: Duration = Duration::from_secs(5);
/// Largest message `p2p_dc_send` accepts: the SCTP maximum message size webrtc-rs negotiates
/// (and browsers accept).
pub const MAX_MESSAGE_BYTES: i32 = 64 * 1024;
/// Bytes a channel may hold unsent before `p2p_dc_send` answers `P2P_ERR_WOULD_BLOCK`.
pub const MAX_BUFFERED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Callbacks {
    on_open: p2p_dc_cb,
    on_close: p2p_dc_cb,
    on_message: p2p_dc_message_cb,
    user_data: UserData,
}

#[derive(Default)]
struct Delivery {
    callbacks: Option<Callbacks>,
    pending: VecDeque<DataChannelEvent>,
}

pub struct FfiDataChannel {
    pub handle: i32,
    dc: Arc<DataChannel>,
    gate: Arc<CallbackGate>,
    delivery: Mutex<Delivery>,
    /// Held by whoever is delivering, so events reach the app in order and one at a time.
    delivering: Mutex<()>,
    /// `p2p_dc_set_buffered_amount_low_callback`.
    on_low: Mutex<Option<(p2p_dc_cb, UserData)>>,
}

impl FfiDataChannel {
    pub fn register(dc: Arc<DataChannel>, _client: i32, gate: Arc<CallbackGate>) -> i32 {
        // Keep our own reference rather than looking the handle up again: p2p_shutdown may drain
        // the registry in between.
        let mut made = None;
        let handle = handles::insert_with(|handle| {
            let me = Arc::new(FfiDataChannel {
                handle,
                dc,
                gate,
                delivery: Mutex::new(Delivery::default()),
                delivering: Mutex::new(()),
                on_low: Mutex::new(None),
            });
            made = Some(me.clone());
            Object::Dc(me)
        });
        let me = made.unwrap_or_else(|| unreachable!("insert_with runs its constructor"));
        let weak = Arc::downgrade(&me);
        let dc = me.dc.clone();
        drop(me);
        runtime::spawn(async move {
            while let Some(event) = dc.next_event().await {
                let Some(me) = weak.upgrade() else { break };
                let last = event == DataChannelEvent::Close;
                me.delivery.lock().pending.push_back(event);
                me.flush();
                if last {
                    break;
                }
            }
        });
        handle
    }

    /// Delivers pending events while callbacks are set. A re-entrant call (from inside a callback on
    /// this thread) or a concurrent one leaves the work to the delivering thread, which re-checks
    /// before it lets go.
    fn flush(&self) {
        loop {
            let Some(_delivering) = self.delivering.try_lock() else { return };
            loop {
                let (event, callbacks) = {
                    let mut d = self.delivery.lock();
                    let Some(callbacks) = d.callbacks else { return };
                    let Some(event) = d.pending.pop_front() else { break };
                    (event, callbacks)
                };
                self.deliver(event, callbacks);
            }
            drop(_delivering);
            let d = self.delivery.lock();
            if d.callbacks.is_none() || d.pending.is_empty() {
                return;
            }
        }
    }

    fn deliver(&self, event: DataChannelEvent, cb: Callbacks) {
        let ud = cb.user_data.get();
        let h = self.handle;
        match event {
            DataChannelEvent::Open => {
                if let Some(f) = cb.on_open {
                    invoke_live(&self.gate, h, || unsafe { f(ud, h) });
                }
            }
            DataChannelEvent::Close => {
                if let Some(f) = cb.on_close {
                    invoke_live(&self.gate, h, || unsafe { f(ud, h) });
                }
            }
            DataChannelEvent::Message { data, is_text } => {
                if let Some(f) = cb.on_message {
                    invoke_live(&self.gate, h, || unsafe { f(ud, h, data.as_ptr(), data.len() as i32, is_text) });
                }
            }
            DataChannelEvent::BufferedAmountLow => {
                let on_low = *self.on_low.lock();
                if let Some((Some(f), ud)) = on_low {
                    invoke_live(&self.gate, h, || unsafe { f(ud.get(), h) });
                }
            }
            _ => {}
        }
    }
}

/// Sets the channel's callbacks (any may be NULL). Events that came before are delivered at once, in
/// order. Callbacks run on library threads. None comes once the channel's handle is freed (with its
/// connection, after the pc-close hooks), so a callback never carries a dead handle.
#[no_mangle]
pub extern "C" fn p2p_dc_set_callbacks(
    dc: i32,
    on_open: p2p_dc_cb,
    on_close: p2p_dc_cb,
    on_message: p2p_dc_message_cb,
    user_data: *mut c_void,
) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        d.delivery.lock().callbacks = Some(Callbacks { on_open, on_close, on_message, user_data: UserData(user_data) });
        let me = d.clone();
        // Deliver the backlog off the caller's thread, so setting callbacks never blocks on the app.
        runtime::spawn(async move { me.flush() });
        Ok(P2P_OK)
    })
}

/// Sends `len` bytes (0..=65536; `is_text`: as a string message, which must then be UTF-8).
/// Returns 0, or a `P2P_ERR_*`: `P2P_ERR_CLOSED` when the channel is not open,
/// `P2P_ERR_WOULD_BLOCK` when 16 MiB are already buffered (nothing is queued; send again after the
/// buffered-amount-low callback), `P2P_ERR_RTC` for another failure. Does not wait for the peer.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_dc_send(dc: i32, data: *const u8, len: i32, is_text: bool) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        if !(0..=MAX_MESSAGE_BYTES).contains(&len) {
            return Err(FfiError::arg(format!("len must be 0..={MAX_MESSAGE_BYTES}, got {len}")));
        }
        if data.is_null() && len > 0 {
            return Err(FfiError::arg("data is NULL"));
        }
        let bytes: &[u8] = if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(data, len as usize) } };
        let text = if is_text {
            Some(std::str::from_utf8(bytes).map_err(|_| FfiError::arg("text message is not valid UTF-8"))?)
        } else {
            None
        };
        let channel = d.dc.clone();
        let sent = runtime::block_on(DC_WAIT, async move {
            let buffered = channel.buffered_amount().await;
            if buffered + bytes.len() > MAX_BUFFERED_BYTES {
                return Err(FfiError::new(
                    P2P_ERR_WOULD_BLOCK,
                    format!("{buffered} bytes are buffered; wait for the buffered-amount-low callback"),
                ));
            }
            let result = match text {
                Some(text) => channel.send_text(text).await,
                None => channel.send(bytes).await,
            };
            match result {
                Ok(()) => Ok(()),
                Err(e) if channel.ready_state().await != DataChannelState::Open => {
                    Err(FfiError::new(P2P_ERR_CLOSED, format!("the channel is not open: {e}")))
                }
                Err(e) => Err(FfiError::new(P2P_ERR_RTC, e.to_string())),
            }
        });
        sent.ok_or_else(|| FfiError::new(P2P_ERR_TIMEOUT, "send timed out"))??;
        Ok(P2P_OK)
    })
}

/// Copies the label into `buffer`; returns the size needed, NUL included.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_dc_get_label(dc: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        Ok(unsafe { copy_out(d.dc.label(), buffer, size) })
    })
}

/// `P2P_DC_*` state of the channel.
#[no_mangle]
pub extern "C" fn p2p_dc_get_state(dc: i32) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        let channel = d.dc.clone();
        let state =
            runtime::block_on(DC_WAIT, async move { channel.ready_state().await }).unwrap_or(DataChannelState::Closed);
        Ok(dc_state_code(state))
    })
}

/// Bytes queued for sending and not yet acknowledged by the peer.
#[no_mangle]
pub extern "C" fn p2p_dc_get_buffered_amount(dc: i32) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        let channel = d.dc.clone();
        let n = runtime::block_on(DC_WAIT, async move { channel.buffered_amount().await }).unwrap_or(0);
        Ok(n.min(i32::MAX as usize) as i32)
    })
}

/// Closes the channel (the close callback follows). The handle stays valid until its connection closes.
#[no_mangle]
pub extern "C" fn p2p_dc_close(dc: i32) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        let channel = d.dc.clone();
        runtime::block_on(DC_WAIT, async move { channel.close().await })
            .ok_or_else(|| FfiError::new(P2P_ERR_TIMEOUT, "close timed out"))?
            .map_err(|e| FfiError::new(P2P_ERR_CLOSED, e.to_string()))?;
        Ok(P2P_OK)
    })
}

/// Calls `cb(user_data, dc)` on a library thread each time the channel's buffered amount falls to
/// `threshold` bytes or below, so a sender that got `P2P_ERR_WOULD_BLOCK` knows when to go on (as
/// the browser's `bufferedamountlow`). NULL `cb` removes it. Delivered like the other channel
/// events, so `p2p_dc_set_callbacks` must have been called.
#[no_mangle]
pub extern "C" fn p2p_dc_set_buffered_amount_low_callback(
    dc: i32,
    threshold: i32,
    cb: p2p_dc_cb,
    user_data: *mut c_void,
) -> i32 {
    guard(|| {
        let d = handles::dc(dc)?;
        let threshold =
            u32::try_from(threshold).map_err(|_| FfiError::arg(format!("threshold must be >= 0, got {threshold}")))?;
        let channel = d.dc.clone();
        runtime::block_on(DC_WAIT, async move { channel.set_buffered_amount_low_threshold(threshold).await })
            .ok_or_else(|| FfiError::new(P2P_ERR_TIMEOUT, "setting the threshold timed out"))?
            .map_err(|e| FfiError::new(P2P_ERR_RTC, e.to_string()))?;
        *d.on_low.lock() = cb.map(|cb| (Some(cb), UserData(user_data)));
        Ok(P2P_OK)
    })
}
