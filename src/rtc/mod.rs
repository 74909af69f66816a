//! The seam over webrtc-rs: every use of the `webrtc` crate sits in this module, so the mesh and the
//! FFI speak only our small types. `webrtc` 0.21 is young; if it has to be swapped or patched, this
//! is the only place that changes.

pub mod audio;
mod data_channel;
mod peer_connection;
mod runtime;
mod stats;

pub use data_channel::{DataChannel, DataChannelEvent, DataChannelInit, DataChannelState};
pub use peer_connection::{build, DtlsCertificate, IceState, PcEvent, PeerConnection, Timeline};
pub use stats::{AudioTrackStats, CandidateInfo, DataChannelStats, PeerStats, SelectedPair};

#[cfg(test)]
mod tests;
