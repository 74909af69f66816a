//! `p2p_pc_get_stats`, `p2p_client_get_stats`, `p2p_client_request_stats`: the health of each link
//! as JSON (one shape, `PeerStats` in `src/rtc/stats.rs`, shared with the Rust, C# and web APIs).

use super::client::{request, FfiClient};
use super::error::{guard, FfiError, FfiResult};
use super::handles;
use super::runtime;
use super::strings::copy_out;
use super::types::*;
use crate::rtc::PeerStats;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// Bound of the blocking stats exports. They do local work only (a stats snapshot under each
/// connection's lock): microseconds, unless the connection's task is busy.
const STATS_WAIT: Duration = Duration::from_secs(1);

fn timed_out() -> FfiError {
    FfiError::new(P2P_ERR_TIMEOUT, "reading stats timed out")
}

/// The JSON array of every link of `client`, sorted by peer id.
fn client_json(client: &Arc<FfiClient>) -> FfiResult<String> {
    let core = client.core.clone();
    let all = runtime::block_on(STATS_WAIT, async move { core.stats().await }).ok_or_else(timed_out)?;
    Ok(serde_json::to_string(&all).expect("stats serialise"))
}

/// Copies the stats of one peer connection, as a JSON object, into `buffer` (NUL-terminated,
/// truncated to fit). Returns the size needed, NUL included (the JSON was copied whole iff that is
/// <= `size`; `buffer` may be NULL with `size` 0 to ask for the size), or a `P2P_ERR_*`. Figures
/// move between calls, so a second call may need a few bytes more: size the buffer with slack (1 KiB
/// per data channel is plenty) or retry with the returned size. Blocks up to 1 s (local work,
/// normally microseconds); cheap enough to call every frame.
///
/// The object (every key always present; absent values are `null`):
///
/// - `peerId` (string): the remote member's id.
/// - `connectionState` (string): RTCPeerConnectionState: `new`, `connecting`, `connected`,
///   `disconnected`, `failed`, `closed`.
/// - `iceState` (string): RTCIceConnectionState: `new`, `checking`, `connected`, `completed`,
///   `disconnected`, `failed`, `closed`.
/// - `selectedPair` (object or null): the candidate pair ICE selected, null until there is one:
///   `{"local": C, "remote": C}` with C = `{"type", "protocol", "address", "port"}`; `type` is
///   `host` (direct), `srflx` (through a NAT, learned from STUN), `prflx` (learned from the peer's
///   checks) or `relay` (through a TURN server); `protocol` is `udp` or `tcp`.
/// - `rttMs` (number or null): current round-trip time on the selected pair in milliseconds,
///   measured on ICE's STUN checks (every 2 s once connected); null until one was measured.
/// - `bytesSent`, `bytesReceived` (numbers): DTLS/SCTP bytes on the selected pair, headers included.
/// - `dataChannels` (array): one object per data channel of the connection, by stream id:
///   `label` (string), `id` (SCTP stream id), `state` (`connecting`, `open`, `closing`, `closed`),
///   `messagesSent`, `bytesSent`, `messagesReceived`, `bytesReceived` (payload, per message).
/// - `audio` (array): one object per remote audio track, as `p2p_track_get_stats` gives it
///   (`trackId`, `packetsReceived`, `packetsLost`, `packetsLate`, `jitterMs`, `bufferedMs`,
///   `concealedMs`, `underruns`, `ended`).
///
/// Not available from webrtc-rs 0.21.1, so not in the object: loss or retransmissions on data
/// channels (no stats entry reports them for SCTP), the TURN server a relay candidate came from,
/// and candidate pairs other than the selected one (docs/stats.md).
///
/// # Safety
/// `buffer` is NULL or points to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn p2p_pc_get_stats(pc: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let p = handles::pc(pc)?;
        if size < 0 {
            return Err(FfiError::arg(format!("size must be >= 0, got {size}")));
        }
        let (inner, peer_id) = (p.pc.clone(), p.peer_id.clone());
        let mut stats = runtime::block_on(STATS_WAIT, async move { inner.stats().await }).ok_or_else(timed_out)?;
        stats.peer_id = peer_id;
        Ok(unsafe { copy_out(&stats.to_json(), buffer, size) })
    })
}

/// Copies the stats of every link of the client, a JSON array of the objects `p2p_pc_get_stats`
/// describes, sorted by `peerId` (`[]` when not in a group), into `buffer`. Returns like
/// `p2p_pc_get_stats` (size needed, NUL included, or a `P2P_ERR_*`); blocks up to 1 s.
///
/// # Safety
/// `buffer` is NULL or points to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_get_stats(client: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        if size < 0 {
            return Err(FfiError::arg(format!("size must be >= 0, got {size}")));
        }
        let json = client_json(&c)?;
        Ok(unsafe { copy_out(&json, buffer, size) })
    })
}

/// The asynchronous form of `p2p_client_get_stats`, for callers that must not block: returns a
/// request id at once; `result_cb` gets status 0 and the JSON array (valid during the call only), or
/// an error and `{"error":"…"}`.
#[no_mangle]
pub extern "C" fn p2p_client_request_stats(client: i32, result_cb: p2p_result_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        request(client, result_cb, user_data, |core| async move {
            let all: Vec<PeerStats> = core.stats().await;
            Ok(serde_json::to_string(&all).expect("stats serialise"))
        })
    })
}
