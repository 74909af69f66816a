//! The signaling protocol of webrtc_p2p groups (docs/protocol.md), shared by the server
//! (`p2p-signaling`) and the native client so that names, codes and limits have one source: the
//! message vocabulary and envelope, the acks, the `reason` codes and the host-name rules.

mod host_name;
mod messages;

pub use host_name::{host_name, HostNameError, MAX_HOST_NAME_CHARS};
pub use messages::*;

/// Longest socket id accepted in `to` / `me` (real ids are ~20 characters).
pub const MAX_ID_BYTES: usize = 128;
