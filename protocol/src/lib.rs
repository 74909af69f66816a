//! The signaling protocol of webrtc_p2p groups (docs/protocol.md), shared by the server
//! (`p2p-signaling`) and the native client so that names, codes and limits have one source: the
//! message vocabulary and envelope, the acks, the `reason` codes and the host-name rules.

mod host_name;
mod messages;

pub use host_name::{host_name, HostNameError, MAX_HOST_NAME_CHARS};
pub use messages::*;

/// Longest socket id accepted in `to` / `me` (real ids are ~20 characters).
pub const MAX_ID_BYTES: usize = 128;

/// Longest SDP a client accepts (the server's default payload limit; real ones are a few KB).
pub const MAX_SDP_BYTES: usize = 64 * 1024;

/// Longest trickled candidate line a client accepts (real ones are under 200 bytes).
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// Candidates a client keeps for one peer while its remote description is not set yet (a peer
/// gathers a handful per interface); more are dropped.
pub const MAX_QUEUED_CANDIDATES: usize = 64;

/// Peer connections a client holds at most unless configured otherwise: one per other member of
/// the largest group the server allows by default (64).
pub const DEFAULT_MAX_PEERS: usize = 63;

/// The limits above by name, for the generated TypeScript (build.rs of the plugin crate).
pub const LIMITS: [(&str, usize); 6] = [
    ("maxHostNameChars", MAX_HOST_NAME_CHARS),
    ("maxIdBytes", MAX_ID_BYTES),
    ("maxSdpBytes", MAX_SDP_BYTES),
    ("maxCandidateBytes", MAX_CANDIDATE_BYTES),
    ("maxQueuedCandidates", MAX_QUEUED_CANDIDATES),
    ("defaultMaxPeers", DEFAULT_MAX_PEERS),
];
