//! The one error type of the client core. The variant is the kind callers branch on (the C ABI maps
//! each to one `P2P_ERR_*` code in `ffi::error`; the core knows no numbers). Kinds that report a
//! lower layer's failure (the signaling socket, webrtc-rs, the config parser) carry a [`Cause`]: a
//! readable message plus that layer's error as [`std::error::Error::source`].
//!
//! A new kind goes at the end of [`P2pError`], with its message in `#[error]`, and gets a code in
//! `ffi::error::code_of` (and a `P2P_ERR_*` in `ffi/types.rs` if no existing code fits).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Why an operation of the client failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum P2pError {
    /// The configuration (or its JSON form) is invalid.
    #[error("invalid config: {0}")]
    InvalidConfig(#[source] Cause),
    /// An argument is invalid: empty, too long, not UTF-8, out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The signaling server could not be reached or did not confirm the connection in time.
    #[error("cannot connect to the signaling server: {0}")]
    ConnectFailed(#[source] Cause),
    /// `create host` was answered with 409: a host of that name exists (the name).
    #[error("host already exists: {0}")]
    HostExists(String),
    /// The server rejected a request (status and message from its ack).
    #[error("rejected by the server ({status}): {message}")]
    Rejected {
        /// The ack's status (4xx).
        status: i64,
        /// The ack's message.
        message: String,
    },
    /// The client did not get connected to the group within the P2P timeout.
    #[error("start failed: {0}")]
    StartFailed(String),
    /// The operation needs a state the client is not in (e.g. starting twice).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// A WebRTC operation failed.
    #[error("webrtc: {0}")]
    Rtc(#[source] Cause),
    /// A request got no answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The object was closed or the client stopped while the operation ran.
    #[error("closed: {0}")]
    Closed(String),
}

/// What a lower layer reported: the text shown to the app and, when there is one, the error itself
/// (kept as the source, so a Rust caller can walk the chain or downcast it). Reads as its text
/// (`Deref<Target = str>`); two causes are equal when their texts are.
#[derive(Clone)]
pub struct Cause {
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl Cause {
    /// A cause with a lower-layer error: its text is the error's followed by those of its sources
    /// (rust_socketio's "EngineIO Error" alone would hide "invalid peer certificate: UnknownIssuer").
    pub fn of(source: impl StdError + Send + Sync + 'static) -> Cause {
        Cause { message: chain_text(&source), source: Some(Arc::new(source)) }
    }

    /// A cause with a lower-layer error and text of our own in front of it.
    pub fn with(context: &str, source: impl StdError + Send + Sync + 'static) -> Cause {
        Cause { message: format!("{context}: {source}"), source: Some(Arc::new(source)) }
    }
}

/// `error: its source: …`, skipping a source whose text the message already contains.
fn chain_text(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let part = e.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = e.source();
    }
    text
}

impl From<String> for Cause {
    fn from(message: String) -> Cause {
        Cause { message, source: None }
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Cause {
        Cause::from(message.to_string())
    }
}

impl std::ops::Deref for Cause {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.message == other.message
    }
}

impl StdError for Cause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// Result of the client core.
pub type Result<T> = std::result::Result<T, P2pError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_layer_error_is_the_source_and_its_text_the_message() {
        let parse = serde_json::from_str::<u8>("x").unwrap_err();
        let e = P2pError::InvalidConfig(Cause::with("config JSON", parse));
        assert!(e.to_string().starts_with("invalid config: config JSON: expected value"), "{e}");
        let cause = e.source().expect("the cause");
        let lower = cause.source().expect("the parser's error");
        assert!(lower.downcast_ref::<serde_json::Error>().is_some());
    }

    #[test]
    fn a_plain_cause_has_no_source_and_compares_by_text() {
        let e = P2pError::ConnectFailed("connection timed out".into());
        assert!(e.source().unwrap().source().is_none());
        assert_eq!(e, P2pError::ConnectFailed("connection timed out".into()));
        let P2pError::ConnectFailed(why) = e else { unreachable!() };
        assert!(why.contains("timed out"));
    }
}
