//! The checks on a `message` event's envelope, as a pure function (the relay never reads the
//! body beyond it): `type` one of the protocol's, `to` a socket id, `me` absent, null or a socket
//! id. Pure so that it is property-tested with arbitrary JSON (the fuzz of issue 15).
//!
//! The body is relayed as received: its members are kept as raw JSON text, never parsed into a
//! `serde_json::Value` tree and serialised again (one allocation per member and a second pass over
//! every byte, for each of the tens of thousands of messages a second a busy server relays). Only
//! `from` is replaced, by the server's word on who sent it.

use crate::metrics::Rejection;
use p2p_protocol::{event, kind, MAX_ID_BYTES};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// A `message` that passed the checks.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub kind: &'static str,
    pub to: Cow<'a, str>,
    /// The body's members as received, in order, `from` left out.
    members: MemberList<'a>,
}

impl<'a> Envelope<'a> {
    /// The body to relay: the members as received and `from` set to the sender.
    pub fn relayed<'e>(&'e self, from: &'e str) -> Relayed<'e, 'a> {
        Relayed { envelope: self, from }
    }

    /// The relayed message as a whole Socket.IO packet, an event on the main namespace without an
    /// ack id (`2["message",{…}]`), for socketioxide's `emit_encoded`: the same bytes as its emit
    /// of [`Envelope::relayed`] (tested), written in one pass where the general emit serialises
    /// the body and then copies it behind the packet's header; keys (unescaped when read) are
    /// escaped again as serde_json does. The string is allocated at its exact length: the
    /// `Bytes` it becomes then needs no allocation of its own.
    pub fn relayed_packet(&self, from: &str) -> String {
        let members: usize =
            self.members.iter().map(|(key, value)| json_string_len(key) + 1 + value.get().len() + 1).sum();
        let len = "2[".len()
            + json_string_len(event::MESSAGE)
            + ",{".len()
            + members
            + "\"from\":".len()
            + json_string_len(from)
            + "}]".len();
        let mut packet = String::with_capacity(len);
        packet.push_str("2[");
        push_json_string(&mut packet, event::MESSAGE);
        packet.push_str(",{");
        for (key, value) in &self.members {
            push_json_string(&mut packet, key);
            packet.push(':');
            packet.push_str(value.get());
            packet.push(',');
        }
        packet.push_str("\"from\":");
        push_json_string(&mut packet, from);
        packet.push_str("}]");
        debug_assert_eq!(packet.len(), len);
        packet
    }
}

/// How serde_json escapes a byte in a string: `None` for as it is, else the escape's second
/// character (`u` for `\u00XX`).
fn escape(b: u8) -> Option<u8> {
    match b {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        0..0x20 => Some(b'u'),
        _ => None,
    }
}

/// The length of `text` as a JSON string, quotes included.
fn json_string_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match escape(b) {
            None => 1,
            Some(b'u') => 6,
            Some(_) => 2,
        })
        .sum::<usize>()
}

/// Appends `text` as a JSON string, escaped as serde_json does.
fn push_json_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut plain = 0;
    for (at, b) in text.bytes().enumerate() {
        let Some(escaped) = escape(b) else { continue };
        out.push_str(&text[plain..at]);
        out.push('\\');
        out.push(escaped as char);
        if escaped == b'u' {
            out.push_str("00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
        plain = at + 1;
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

/// A relayed body, serialised straight into the outgoing packet: values are written as received
/// (serde_json copies a `RawValue`'s text), with no body built, copied and validated in between.
pub struct Relayed<'e, 'a> {
    envelope: &'e Envelope<'a>,
    from: &'e str,
}

impl Serialize for Relayed<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let members = &self.envelope.members;
        let mut map = s.serialize_map(Some(members.len() + 1))?;
        for (key, value) in members {
            // Keys were unescaped when parsed; the serializer escapes them again.
            map.serialize_entry(key.as_ref(), value)?;
        }
        map.serialize_entry("from", self.from)?;
        map.end()
    }
}

/// Why a `message` was refused.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub why: Rejection,
    pub message: &'static str,
}

const fn malformed(message: &'static str) -> Refusal {
    Refusal { status: 400, why: Rejection::Malformed, message }
}

/// An object's members as raw JSON; a key given twice is an error (receivers would disagree on
/// which one counts: JavaScript takes the last, a strict parser refuses the message).
struct Members<'a>(MemberList<'a>);

/// Up to 8 members without an allocation (a relayed candidate has 4 to 6).
type MemberList<'a> = SmallVec<[(Cow<'a, str>, &'a RawValue); 8]>;

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = MemberList::new();
                while let Some(Text(key)) = map.next_key::<Text>()? {
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom("duplicate key"));
                    }
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON string's value, borrowed from the text unless it has escapes. (serde's own
/// `Cow<str>` always allocates: it deserialises through `String`.)
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

fn text(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Text>(raw.get()).ok().map(|t| t.0)
}

fn socket_id(raw: &RawValue) -> Option<Cow<'_, str>> {
    text(raw).filter(|id| !id.is_empty() && id.len() <= MAX_ID_BYTES)
}

/// Checks a `message` payload, given as the JSON text of the event's first argument.
pub fn check(data: Option<&str>) -> Result<Envelope<'_>, Refusal> {
    match data.map(serde_json::from_str::<Members>) {
        Some(Ok(members)) => checked(members),
        _ => Err(malformed("message must be an object {type, to, ...} without repeated keys")),
    }
}

/// Reads and checks a whole event packet's JSON text (`["message", {…}, …]`) in one pass, the
/// common case on a relay: `None` when it is not a readable `message` event with an object first
/// (another event, or text that does not parse), which the caller then reads the general way
/// ([`crate::incoming::Packet::read`], [`check`]) to tell those cases apart. Without it every
/// relayed message was scanned twice: once to slice out its argument, then to read its members.
pub fn read_message_event(packet: &str) -> Option<Result<Envelope<'_>, Refusal>> {
    let MessageEvent(members) = serde_json::from_str(packet).ok()?;
    Some(checked(members))
}

/// The arguments of a `message` event: its first, an object, read as [`Members`]; the others
/// skipped (Socket.IO lets a client send more; the protocol reads only the first).
struct MessageEvent<'a>(Members<'a>);

impl<'de> Deserialize<'de> for MessageEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MessageEvent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message event")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<MessageEvent<'de>, S::Error> {
                let not_message = || serde::de::Error::custom("not a message event");
                match seq.next_element::<Text>()? {
                    Some(Text(name)) if name == event::MESSAGE => {}
                    _ => return Err(not_message()),
                }
                let members = seq.next_element::<Members>()?.ok_or_else(not_message)?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MessageEvent(members))
            }
        }
        d.deserialize_seq(V)
    }
}

/// The checks proper, on the members as read.
fn checked(Members(mut members): Members<'_>) -> Result<Envelope<'_>, Refusal> {
    let field = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let kind = match field("type").and_then(text) {
        Some(k) => *kind::ALL.iter().find(|known| **known == k).ok_or(malformed("unknown message type"))?,
        None => return Err(malformed("message.type must be a string")),
    };
    let to = field("to").and_then(socket_id).ok_or(malformed("message.to must be a socket id"))?;
    // Extreal's C# client sends every unset field as null: null means absent.
    if let Some(me) = field("me").filter(|me| me.get() != "null") {
        socket_id(me).ok_or(malformed("message.me must be a socket id"))?;
    }
    members.retain(|(k, _)| k != "from");
    Ok(Envelope { kind, to, members })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    type Checked = Result<(&'static str, String, Value), Refusal>;

    fn parts(env: Envelope) -> (&'static str, String, Value) {
        let relayed = serde_json::to_value(env.relayed("sender")).unwrap();
        (env.kind, env.to.into_owned(), relayed)
    }

    /// What socketioxide's emit encodes for `env` relayed from `sender`: `2` and the JSON array.
    fn emitted(env: &Envelope) -> String {
        format!("2{}", serde_json::to_string(&(event::MESSAGE, env.relayed("sender"))).unwrap())
    }

    /// Checks `v` as a message's argument both ways: alone ([`check`]) and inside its whole event
    /// packet ([`read_message_event`]), which must agree, or decline what is not an object; and
    /// the relayed packet written by hand must be the one socketioxide's emit encodes.
    fn check_value(v: &Value) -> Checked {
        let text = v.to_string();
        let general = check(Some(&text)).map(parts);
        let packet = format!(r#"["message",{text},{{"more":[1]}}]"#);
        match read_message_event(&packet) {
            Some(one_pass) => {
                if let Ok(env) = &one_pass {
                    assert_eq!(env.relayed_packet("sender"), emitted(env), "{packet}");
                }
                assert_eq!(one_pass.map(parts), general, "{packet}")
            }
            None => assert!(!v.is_object() && general.is_err(), "{packet}"),
        }
        general
    }

    #[test]
    fn a_packet_that_is_not_a_readable_message_event_is_declined() {
        for packet in [r#"["whoami"]"#, r#"["message"]"#, r#"["other",{"type":"offer","to":"a"}]"#, "[", "{}", "[1]"] {
            assert!(read_message_event(packet).is_none(), "{packet}");
        }
        let repeated = r#"["message",{"type":"offer","to":"a","to":"b"}]"#;
        assert!(read_message_event(repeated).is_none(), "repeated keys fail the read: the general path refuses");
        let env = read_message_event(r#"[ "message" , {"type":"offer","to":"a"} ]"#).unwrap().unwrap();
        assert_eq!((env.kind, &*env.to), ("offer", "a"));
    }

    #[test]
    fn the_cases_found_by_hand() {
        let (kind, to, relayed) =
            check_value(&json!({"type": "join", "from": null, "to": "h", "me": null, "sdp": null})).unwrap();
        assert_eq!((kind, to.as_str()), ("join", "h"));
        assert_eq!(relayed, json!({"type": "join", "from": "sender", "to": "h", "me": null, "sdp": null}));
        let escaped = check(Some(r#"{"type":"offer","to":"\"q\u00e9","fr\u00f6m":1}"#)).unwrap();
        let relayed = serde_json::to_value(escaped.relayed("sender")).unwrap();
        assert_eq!(escaped.to, "\"q\u{e9}", "escapes are read");
        assert_eq!(relayed, json!({"type": "offer", "to": "\"q\u{e9}", "fr\u{f6}m": 1, "from": "sender"}));
        for bad in [
            json!(null),
            json!("x"),
            json!([1]),
            json!({"to": "x"}),
            json!({"type": "hack", "to": "x"}),
            json!({"type": "offer", "to": ""}),
            json!({"type": "offer", "to": null}),
            json!({"type": "offer", "to": "x".repeat(MAX_ID_BYTES + 1)}),
            json!({"type": "call me", "to": "x", "me": 7}),
            json!({"type": "call me", "to": "x", "me": ""}),
        ] {
            assert_eq!(check_value(&bad).unwrap_err().status, 400, "{bad}");
        }
        for bad in [r#"{"type":"offer","to":"a","to":"b"}"#, r#"{"type":"offer","to":"a","from":"x","from":"y"}"#, "{"]
        {
            assert_eq!(check(Some(bad)).unwrap_err().status, 400, "{bad}");
        }
        assert!(check(None).is_err());
    }

    #[test]
    fn a_forged_from_is_replaced_whatever_its_spelling() {
        let env = check(Some(r#"{"type":"offer","to":"a","fr\u006fm":"forged","sdp":"v=0"}"#)).unwrap();
        let relayed = serde_json::to_value(env.relayed("b")).unwrap();
        assert_eq!(relayed, json!({"type": "offer", "to": "a", "sdp": "v=0", "from": "b"}));
    }

    /// Arbitrary JSON, biased toward message-like objects.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,40}".prop_map(Value::from),
            prop::sample::select(vec!["join", "offer", "answer", "done", "call me", "candidate", "bye"])
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    // Keys with characters JSON escapes, too: the relayed packet writes those anew.
                    prop::sample::select(vec!["type", "to", "from", "me", "sdp", "ice", "x", "q\"t", "t\tb", "b\\s"])
                        .prop_map(String::from),
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// A valid message with any other members (keys with and without characters JSON escapes,
        /// any values): the packet written by hand is the one socketioxide's emit encodes.
        #[test]
        fn the_relayed_packet_is_the_one_emit_encodes(
            others in prop::collection::btree_map("[a-z\"\\\\\t\u{1}\u{1f}é]{0,6}", json_value(), 0..6),
        ) {
            let mut body = serde_json::Map::new();
            body.insert("type".into(), json!("offer"));
            body.insert("to".into(), json!("peer"));
            body.extend(others.into_iter().filter(|(k, _)| k != "type" && k != "to"));
            let packet = format!(r#"["message",{}]"#, Value::Object(body));
            let env = read_message_event(&packet).unwrap().unwrap();
            prop_assert_eq!(env.relayed_packet("sender"), emitted(&env));
        }

        /// Whatever arrives, the check answers (never panics), and what it lets through is a
        /// protocol type to a plausible id, relayed with its body intact but for `from`.
        #[test]
        fn any_json_is_answered_and_only_well_formed_envelopes_pass(value in json_value()) {
            match check_value(&value) {
                Ok((kind, to, relayed)) => {
                    prop_assert!(kind::ALL.contains(&kind));
                    prop_assert!(!to.is_empty() && to.len() <= MAX_ID_BYTES);
                    // As a receiver reads the text sent (serde_json reads some floats a bit off).
                    let mut want: Value = serde_json::from_str(&value.to_string()).unwrap();
                    want["from"] = json!("sender");
                    prop_assert_eq!(relayed, want);
                }
                Err(refusal) => prop_assert_eq!(refusal.status, 400),
            }
        }
    }
}
