//! The signaling vocabulary (docs/protocol.md): message types, the `message` envelope and the acks.
//! Plain serde types with no I/O.

use serde::{Deserialize, Serialize};

/// `message.type` values.
pub mod kind {
    pub const JOIN: &str = "join";
    pub const OFFER: &str = "offer";
    pub const ANSWER: &str = "answer";
    pub const DONE: &str = "done";
    pub const CALL_ME: &str = "call me";
    pub const CANDIDATE: &str = "candidate";
    pub const BYE: &str = "bye";
    /// Every type a client may send; the server refuses others.
    pub const ALL: [&str; 7] = [JOIN, OFFER, ANSWER, DONE, CALL_ME, CANDIDATE, BYE];
}

/// Socket.IO event names.
pub mod event {
    pub const CREATE_HOST: &str = "create host";
    pub const LIST_HOSTS: &str = "list hosts";
    pub const MESSAGE: &str = "message";
    pub const USER_DISCONNECTED: &str = "user disconnected";
    /// Ours: the caller's socket id (clients read it from the CONNECT reply instead).
    pub const WHOAMI: &str = "whoami";
    /// Server → client: a rejected request that carried no ack.
    pub const ERROR: &str = "error";
    pub const ALL: [&str; 6] = [CREATE_HOST, LIST_HOSTS, MESSAGE, USER_DISCONNECTED, WHOAMI, ERROR];
}

/// `reason` values of a rejected request (ours; Extreal's server sends none). Every refused
/// `create host` is answered 409 whatever the reason (docs/protocol.md).
pub mod reason {
    /// `create host`: the name is taken.
    pub const NAME_TAKEN: &str = "name-taken";
    /// `create host`: the name breaks the host-name rules.
    pub const INVALID_NAME: &str = "invalid-name";
    /// The socket already hosts or joined a group.
    pub const ALREADY_IN_GROUP: &str = "already-in-group";
    /// The payload is not what the event takes.
    pub const MALFORMED: &str = "malformed";
    /// The recipient is not in the sender's group, or the host does not exist.
    pub const FORBIDDEN: &str = "forbidden";
    pub const GROUP_FULL: &str = "group-full";
    pub const TOO_LARGE: &str = "too-large";
    pub const RATE_LIMITED: &str = "rate-limited";
    /// The event needs an ack callback and was sent without one.
    pub const NO_ACK: &str = "no-ack";
    /// Refused at connect (global or per-address connection limit).
    pub const TOO_MANY_CONNECTIONS: &str = "too-many-connections";
    /// Refused at connect: the server requires a valid token (`--jwt-secret`).
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// Status 503: the shared group registry (Redis, `--redis-url`) cannot be reached; retry.
    pub const UNAVAILABLE: &str = "unavailable";
    pub const ALL: [&str; 12] = [
        NAME_TAKEN,
        INVALID_NAME,
        ALREADY_IN_GROUP,
        MALFORMED,
        FORBIDDEN,
        GROUP_FULL,
        TOO_LARGE,
        RATE_LIMITED,
        NO_ACK,
        TOO_MANY_CONNECTIONS,
        UNAUTHORIZED,
        UNAVAILABLE,
    ];
}

/// One trickled ICE candidate, in the browser's `RTCIceCandidateInit` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ice {
    pub candidate: String,
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mline_index: Option<u16>,
}

/// The body of a `message` event. Fields not used by a type are omitted on the wire, which keeps
/// what we send byte-compatible with what Extreal clients expect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice: Option<Ice>,
    /// Our capability flag (docs/protocol.md, "Trickle or vanilla ICE").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trickle: Option<bool>,
}

impl Message {
    /// A message of `kind` addressed to `to`.
    pub fn new(kind: &str, to: &str) -> Self {
        Message { kind: kind.to_string(), to: Some(to.to_string()), ..Default::default() }
    }

    /// Sets the trickle flag only when it is true, so a vanilla peer sends exactly what Extreal sends.
    pub fn with_trickle(mut self, trickle: bool) -> Self {
        self.trickle = trickle.then_some(true);
        self
    }

    pub fn trickle(&self) -> bool {
        self.trickle == Some(true)
    }
}

/// A group as `list hosts` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub id: String,
    pub name: String,
}

/// The ack of `create host`, `list hosts` and `whoami`: a status plus optional fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Ack {
    pub status: i64,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub hosts: Option<Vec<Host>>,
    #[serde(default)]
    pub id: Option<String>,
    /// Why a request was refused (ours): e.g. `create host` answers 409 for every refusal.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The body of `user disconnected`.
#[derive(Debug, Clone, Deserialize)]
pub struct UserDisconnected {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanilla_messages_carry_no_extra_fields() {
        let m = Message::new(kind::JOIN, "h").with_trickle(false);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"type":"join","to":"h"}"#);
        let m = Message::new(kind::JOIN, "h").with_trickle(true);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"type":"join","to":"h","trickle":true}"#);
    }

    #[test]
    fn extreal_shaped_messages_parse() {
        let m: Message = serde_json::from_str(r#"{"type":"call me","to":"a","from":"h","me":"n"}"#).unwrap();
        assert_eq!(m.kind, kind::CALL_ME);
        assert_eq!(m.me.as_deref(), Some("n"));
        assert!(!m.trickle());
        let m: Message = serde_json::from_str(
            r#"{"type":"candidate","from":"x","ice":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5 typ host","sdpMid":"0","sdpMLineIndex":0},"extra":[1]}"#,
        )
        .unwrap();
        assert_eq!(m.ice.unwrap().sdp_mline_index, Some(0));
    }

    #[test]
    fn null_fields_mean_absent() {
        // What Extreal's C# client sends (System.Text.Json, every unset field null).
        let m: Message = serde_json::from_str(
            r#"{"type":"join","from":"n","to":"h","me":null,"sdp":null,"ice":null,"trickle":null}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            Message { kind: kind::JOIN.into(), to: Some("h".into()), from: Some("n".into()), ..Default::default() }
        );
        let ack: Ack =
            serde_json::from_str(r#"{"status":409,"message":"Host already exists. host: r","reason":null}"#).unwrap();
        assert_eq!((ack.status, ack.reason), (409, None));
    }

    proptest::proptest! {
        /// Whatever JSON text arrives as a `message`, parsing answers (Ok or Err, never a panic),
        /// and a parsed message serialises back to something that parses to itself.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in r#"\{("(type|to|from|me|sdp|ice|trickle|candidate|sdpMid|sdpMLineIndex)":(null|true|1|-1|70000|"[a-z ]{0,8}"|\{\}|\[\]),?){0,8}\}"#) {
            if let Ok(m) = serde_json::from_str::<Message>(&text) {
                let again: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
                proptest::prop_assert_eq!(again, m);
            }
        }
    }
}
