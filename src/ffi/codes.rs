//! The C numbers of the core's kinds. The core names events, roles and channel states; only the C
//! ABI numbers them (`P2P_EVENT_*`, `P2P_ROLE_*`, `P2P_DC_*` in `types.rs`, which the header, C# and
//! TS constants are generated from).

use super::types::*;
use crate::client::PeerRole;
use crate::events::Event;
use crate::rtc::DataChannelState;

/// `P2P_EVENT_*` of an event.
pub fn event_code(event: &Event) -> i32 {
    match event {
        Event::Started(_) => P2P_EVENT_STARTED,
        Event::StartFailed(_) => P2P_EVENT_START_FAILED,
        Event::ConnectFailed(_) => P2P_EVENT_CONNECT_FAILED,
        Event::Disconnected(_) => P2P_EVENT_DISCONNECTED,
        Event::UserConnecting(_) => P2P_EVENT_USER_CONNECTING,
        Event::UserConnected(_) => P2P_EVENT_USER_CONNECTED,
        Event::UserDisconnecting(_) => P2P_EVENT_USER_DISCONNECTING,
        Event::Reconnected(_) => P2P_EVENT_RECONNECTED,
    }
}

/// `P2P_ROLE_*` of a role.
pub fn role_code(role: PeerRole) -> i32 {
    match role {
        PeerRole::None => P2P_ROLE_NONE,
        PeerRole::Host => P2P_ROLE_HOST,
        PeerRole::Client => P2P_ROLE_CLIENT,
    }
}

/// `P2P_DC_*` of a data channel state.
pub fn dc_state_code(state: DataChannelState) -> i32 {
    match state {
        DataChannelState::Connecting => P2P_DC_CONNECTING,
        DataChannelState::Open => P2P_DC_OPEN,
        DataChannelState::Closing => P2P_DC_CLOSING,
        DataChannelState::Closed => P2P_DC_CLOSED,
    }
}
