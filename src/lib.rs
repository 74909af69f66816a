//! webrtc_p2p: peer-to-peer WebRTC groups for game and XR apps.
//!
//! A host creates a named group on a signaling server; clients list hosts and join one; every member
//! then holds a direct peer connection to every other member (full mesh). The app adds data channels
//! and media through hooks run when each peer connection is created or closed, and follows the
//! session through [`Event`]s. See docs/protocol.md for the wire contract.
//!
//! Layers, each depending only on those before it: [`protocol`] ← [`signaling`] / [`rtc`] ← `mesh`
//! ← [`client`] ← `ffi` (the C ABI).

#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod events;
mod mesh;
pub use p2p_protocol as protocol;
pub mod rtc;
pub mod signaling;
mod tls;

pub use client::{PeerClient, PeerRole};
pub use config::{IceServer, IceTransportPolicy, PeerConfig, SocketOptions};
pub use error::{P2pError, Result};
pub use events::{Event, Events};
pub use protocol::Host;
pub use rtc::{DataChannel, DataChannelEvent, DataChannelInit, DataChannelState, PeerConnection, PeerStats, Timeline};
/// The C ABI; its documentation is the generated header (`include/webrtc_p2p.h`), whose constant
/// groups follow the doc layout of `ffi/types.rs`.
#[allow(missing_docs)]
pub mod ffi;
