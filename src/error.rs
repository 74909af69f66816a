//! The one error type of the client core. Each variant maps to one `P2P_ERR_*` code in the C ABI,
//! so callers in every language can branch on the kind rather than parse messages.

use std::fmt;

/// Why an operation of the client failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum P2pError {
    /// The configuration (or its JSON form) is invalid.
    InvalidConfig(String),
    /// An argument is invalid: empty, too long, not UTF-8, out of range.
    InvalidArgument(String),
    /// The signaling server could not be reached or did not confirm the connection in time.
    ConnectFailed(String),
    /// `create host` was answered with 409: a host of that name exists.
    HostExists(String),
    /// The server rejected a request (status and message from its ack).
    Rejected { status: i64, message: String },
    /// The client did not get connected to the group within the P2P timeout.
    StartFailed(String),
    /// The operation needs a state the client is not in (e.g. starting twice).
    InvalidState(String),
    /// A WebRTC operation failed.
    Rtc(String),
    /// A request got no answer in time.
    Timeout(String),
    /// The object was closed or the client stopped while the operation ran.
    Closed(String),
}

impl fmt::Display for P2pError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            P2pError::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            P2pError::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            P2pError::ConnectFailed(m) => write!(f, "cannot connect to the signaling server: {m}"),
            P2pError::HostExists(m) => write!(f, "host already exists: {m}"),
            P2pError::Rejected { status, message } => write!(f, "rejected by the server ({status}): {message}"),
            P2pError::StartFailed(m) => write!(f, "start failed: {m}"),
            P2pError::InvalidState(m) => write!(f, "invalid state: {m}"),
            P2pError::Rtc(m) => write!(f, "webrtc: {m}"),
            P2pError::Timeout(m) => write!(f, "timed out: {m}"),
            P2pError::Closed(m) => write!(f, "closed: {m}"),
        }
    }
}

impl std::error::Error for P2pError {}

/// Result of the client core.
pub type Result<T> = std::result::Result<T, P2pError>;
