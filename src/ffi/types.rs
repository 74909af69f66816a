//! Types and constants that cross the C boundary (cbindgen and csbindgen read this file).
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

/// Success.
pub const P2P_OK: i32 = 0;
/// An argument is NULL, not UTF-8, too long or out of range.
pub const P2P_ERR_INVALID_ARGUMENT: i32 = -1;
/// The handle is unknown, destroyed, or of another kind.
pub const P2P_ERR_INVALID_HANDLE: i32 = -2;
/// The config JSON is malformed, has unknown keys or wrong types.
pub const P2P_ERR_INVALID_CONFIG: i32 = -3;
/// The call does not fit the current state (e.g. starting twice).
pub const P2P_ERR_INVALID_STATE: i32 = -4;
/// The signaling server cannot be reached.
pub const P2P_ERR_CONNECT_FAILED: i32 = -5;
/// A host of that name exists.
pub const P2P_ERR_HOST_EXISTS: i32 = -6;
/// The client was not connected within the P2P timeout.
pub const P2P_ERR_START_FAILED: i32 = -7;
/// The signaling server rejected the request.
pub const P2P_ERR_REJECTED: i32 = -8;
/// The operation timed out.
pub const P2P_ERR_TIMEOUT: i32 = -9;
/// The object is closed or the client stopped.
pub const P2P_ERR_CLOSED: i32 = -10;
/// A WebRTC operation failed.
pub const P2P_ERR_RTC: i32 = -11;
/// The library caught a panic; the call had no effect it could vouch for.
pub const P2P_ERR_PANIC: i32 = -12;
/// The data channel's send buffer is full; nothing was queued. Send again after the
/// buffered-amount-low callback.
pub const P2P_ERR_WOULD_BLOCK: i32 = -13;

/// Event numbers passed to `p2p_event_cb`.
pub const P2P_EVENT_STARTED: i32 = 1;
pub const P2P_EVENT_START_FAILED: i32 = 2;
pub const P2P_EVENT_CONNECT_FAILED: i32 = 3;
pub const P2P_EVENT_DISCONNECTED: i32 = 4;
pub const P2P_EVENT_USER_CONNECTING: i32 = 5;
pub const P2P_EVENT_USER_CONNECTED: i32 = 6;
pub const P2P_EVENT_USER_DISCONNECTING: i32 = 7;
/// The signaling connection is back after `P2P_EVENT_DISCONNECTED`; `arg` is the new own id.
pub const P2P_EVENT_RECONNECTED: i32 = 8;

/// Data channel states returned by `p2p_dc_get_state`.
pub const P2P_DC_CONNECTING: i32 = 0;
pub const P2P_DC_OPEN: i32 = 1;
pub const P2P_DC_CLOSING: i32 = 2;
pub const P2P_DC_CLOSED: i32 = 3;

/// Roles returned by `p2p_client_get_role`.
pub const P2P_ROLE_NONE: i32 = 0;
pub const P2P_ROLE_HOST: i32 = 1;
pub const P2P_ROLE_CLIENT: i32 = 2;

/// Log levels for `p2p_set_log_callback`.
pub const P2P_LOG_NONE: i32 = 0;
pub const P2P_LOG_ERROR: i32 = 1;
pub const P2P_LOG_WARNING: i32 = 2;
pub const P2P_LOG_INFO: i32 = 3;
pub const P2P_LOG_DEBUG: i32 = 4;
pub const P2P_LOG_VERBOSE: i32 = 5;

/// Session events: `event` is a `P2P_EVENT_*`, `arg` the own id (started, reconnected), the reason
/// (start failed, connect failed, disconnected) or the peer id (user events). `arg` is valid during the call only.
pub type p2p_event_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, client: i32, event: i32, arg: *const c_char)>;
/// The result of an asynchronous request: `status` is 0 or a `P2P_ERR_*`; `json` is the result
/// (`[{"id":…,"name":…}]` for list hosts, `{}` otherwise) or `{"error":"…"}`. Valid during the call only.
pub type p2p_result_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, request: i32, status: i32, json: *const c_char)>;
/// A peer connection was created (`is_offer`: we make the offer). Runs before negotiation: create
/// data channels here. `pc` stays valid until the connection's close hooks have run.
pub type p2p_pc_create_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, client: i32, peer_id: *const c_char, is_offer: bool, pc: i32)>;
/// A peer connection closed; runs once per connection.
pub type p2p_pc_close_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, client: i32, peer_id: *const c_char)>;
/// A data channel event without payload: a remote channel arrived, a channel opened or closed.
pub type p2p_dc_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, dc: i32)>;
/// A message: `data` is valid during the call only.
pub type p2p_dc_message_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, dc: i32, data: *const u8, len: i32, is_text: bool)>;
/// A remote audio track arrived on `pc`; `track` stays valid until the connection's close hooks have run.
pub type p2p_track_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, pc: i32, track: i32)>;
/// A log line: `level` is a `P2P_LOG_*`; `message` is valid during the call only.
pub type p2p_log_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

/// Options of `p2p_pc_create_data_channel`; all zero (or a NULL pointer) is a reliable, ordered channel.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct p2p_data_channel_init {
    /// Deliver out of order.
    pub unordered: bool,
    /// Partial reliability: give up per `max_packet_life_time_ms` (if > 0) or `max_retransmits`.
    pub unreliable: bool,
    pub max_packet_life_time_ms: i32,
    pub max_retransmits: i32,
    /// Both sides create the channel with `stream_id`; no remote-channel event fires.
    pub negotiated: bool,
    pub stream_id: i32,
    /// Sub-protocol name, UTF-8, or NULL.
    pub protocol: *const c_char,
}
