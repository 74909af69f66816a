//! `p2p_pc_*`: data channels on a peer connection, local and remote.

use super::client::UserData;
use super::dc::FfiDataChannel;
use super::error::{guard, FfiError};
use super::gate::{invoke_live, CallbackGate};
use super::handles::{self, Object};
use super::runtime;
use super::strings::arg;
use super::types::*;
use crate::rtc::{DataChannelInit, PeerConnection};
use parking_lot::Mutex;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// Bound of the blocking `p2p_pc_create_data_channel`.
const CREATE_WAIT: Duration = Duration::from_secs(5);

/// A peer connection behind a handle, with the channels it handed out.
pub struct FfiPeerConnection {
    pub handle: i32,
    pub(super) pc: Arc<PeerConnection>,
    /// The remote member's id (for stats).
    pub(super) peer_id: String,
    client: i32,
    pub(super) gate: Arc<CallbackGate>,
    /// Handles of what this connection handed out (data channels, audio tracks): they die with it.
    /// `None` once freed: a channel or track that arrives later gets no handle (it would outlive
    /// its connection's, and a callback for it would hand the app a handle already dead).
    children: Mutex<Option<Vec<i32>>>,
}

impl FfiPeerConnection {
    pub fn register(
        pc: Arc<PeerConnection>,
        peer_id: String,
        client: i32,
        gate: Arc<CallbackGate>,
    ) -> Arc<FfiPeerConnection> {
        // Keep our own reference rather than looking the handle up again: p2p_shutdown may drain
        // the registry in between.
        let mut made = None;
        handles::insert_with(|handle| {
            let me = Arc::new(FfiPeerConnection {
                handle,
                pc,
                peer_id,
                client,
                gate,
                children: Mutex::new(Some(Vec::new())),
            });
            made = Some(me.clone());
            Object::Pc(me)
        });
        made.unwrap_or_else(|| unreachable!("insert_with runs its constructor"))
    }

    /// The channel's handle, or `None` when this connection's handles were freed meanwhile.
    fn add_channel(&self, dc: Arc<crate::rtc::DataChannel>) -> Option<i32> {
        self.adopt(|| FfiDataChannel::register(dc, self.client, self.gate.clone()))
    }

    /// Registers (with `register`, which returns the new handle) an object that lives as long as
    /// this connection's handle; `None`, and nothing registered, when that handle was freed.
    pub(super) fn adopt(&self, register: impl FnOnce() -> i32) -> Option<i32> {
        let mut children = self.children.lock();
        let list = children.as_mut()?;
        let handle = register();
        list.push(handle);
        Some(handle)
    }

    /// Frees this handle and those of its channels and tracks (after the connection's close hooks ran).
    pub fn free_handles(&self) {
        handles::remove(self.handle);
        for child in self.children.lock().take().into_iter().flatten() {
            handles::remove(child);
        }
    }
}

/// Creates a data channel; `init` may be NULL (reliable, ordered). Returns the channel handle or a
/// `P2P_ERR_*`. Blocks up to 5 s (it is a local operation; it normally takes microseconds). Call it
/// in the pc-create hook so the channel is part of the offer.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_pc_create_data_channel(
    pc: i32,
    label: *const c_char,
    init: *const p2p_data_channel_init,
) -> i32 {
    guard(|| {
        let p = handles::pc(pc)?;
        let label = unsafe { arg(label, "label") }?.to_string();
        if label.len() > 1024 {
            return Err(FfiError::arg("label is longer than 1024 bytes"));
        }
        let options = if init.is_null() { DataChannelInit::default() } else { unsafe { to_init(init) }? };
        let inner = p.pc.clone();
        let dc = runtime::block_on(CREATE_WAIT, async move { inner.create_data_channel(&label, &options).await })
            .ok_or_else(|| FfiError::new(P2P_ERR_TIMEOUT, "creating the data channel timed out"))??;
        p.add_channel(dc).ok_or_else(|| FfiError::new(P2P_ERR_INVALID_HANDLE, format!("pc {pc} was closed meanwhile")))
    })
}

/// Reads the caller's struct field by field. Its `bool`s are read as bytes (any non-zero is true):
/// a C caller may store any value in a `bool`'s byte, and reading that as a Rust `bool` would be
/// undefined behaviour.
///
/// # Safety
/// `init` points to a readable `p2p_data_channel_init`.
unsafe fn to_init(init: *const p2p_data_channel_init) -> Result<DataChannelInit, FfiError> {
    let flag = |field: *const bool| unsafe { std::ptr::read(field as *const u8) } != 0;
    let (unordered, unreliable, negotiated) = unsafe {
        (
            flag(std::ptr::addr_of!((*init).unordered)),
            flag(std::ptr::addr_of!((*init).unreliable)),
            flag(std::ptr::addr_of!((*init).negotiated)),
        )
    };
    let (protocol, max_packet_life_time_ms, max_retransmits, stream_id) =
        unsafe { ((*init).protocol, (*init).max_packet_life_time_ms, (*init).max_retransmits, (*init).stream_id) };
    let u16_of =
        |v: i32, name: &str| u16::try_from(v).map_err(|_| FfiError::arg(format!("{name} must be 0..=65535, got {v}")));
    let protocol = if protocol.is_null() { String::new() } else { unsafe { arg(protocol, "protocol") }?.to_string() };
    let mut options = DataChannelInit { ordered: !unordered, protocol, ..Default::default() };
    if unreliable {
        if max_packet_life_time_ms > 0 {
            options.max_packet_life_time_ms = Some(u16_of(max_packet_life_time_ms, "max_packet_life_time_ms")?);
        } else {
            options.max_retransmits = Some(u16_of(max_retransmits, "max_retransmits")?);
        }
    }
    if negotiated {
        options.negotiated_id = Some(u16_of(stream_id, "stream_id")?);
    }
    Ok(options)
}

/// Sets the callback for channels the remote side creates (`cb(user_data, dc)` on a library thread).
/// Channels that arrived before this call are delivered at once.
#[no_mangle]
pub extern "C" fn p2p_pc_set_data_channel_callback(pc: i32, cb: p2p_dc_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        let p = handles::pc(pc)?;
        let cb = cb.ok_or_else(|| FfiError::arg("cb is NULL"))?;
        let ud = UserData(user_data);
        let weak = Arc::downgrade(&p);
        p.pc.on_data_channel(move |dc| {
            let Some(p) = weak.upgrade() else { return };
            let Some(handle) = p.add_channel(dc) else { return };
            invoke_live(&p.gate, handle, || unsafe { cb(ud.get(), handle) });
        });
        Ok(P2P_OK)
    })
}
