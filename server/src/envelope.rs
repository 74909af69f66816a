//! The checks on a `message` event's envelope, as a pure function (the relay never reads the
//! body beyond it): `type` one of the protocol's, `to` a socket id, `me` absent, null or a socket
//! id. Pure so that it is property-tested with arbitrary JSON (the fuzz of issue 15).

use crate::metrics::Rejection;
use p2p_protocol::{kind, MAX_ID_BYTES};
use serde_json::{Map, Value};

/// A `message` that passed the checks.
#[derive(Debug, PartialEq)]
pub struct Envelope {
    pub kind: &'static str,
    pub to: String,
    /// The whole body, relayed as it came but for `from`.
    pub body: Map<String, Value>,
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

fn socket_id(v: &Value) -> Option<&str> {
    v.as_str().filter(|id| !id.is_empty() && id.len() <= MAX_ID_BYTES)
}

/// Checks a `message` payload.
pub fn check(data: Option<Value>) -> Result<Envelope, Refusal> {
    let Some(Value::Object(body)) = data else {
        return Err(malformed("message must be an object {type, to, ...}"));
    };
    let kind = match body.get("type").and_then(Value::as_str) {
        Some(k) => *kind::ALL.iter().find(|known| **known == k).ok_or(malformed("unknown message type"))?,
        None => return Err(malformed("message.type must be a string")),
    };
    let to = body.get("to").and_then(socket_id).ok_or(malformed("message.to must be a socket id"))?.to_string();
    // Extreal's C# client sends every unset field as null: null means absent.
    if let Some(me) = body.get("me").filter(|me| !me.is_null()) {
        socket_id(me).ok_or(malformed("message.me must be a socket id"))?;
    }
    Ok(Envelope { kind, to, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn the_cases_found_by_hand() {
        let ok = check(Some(json!({"type": "join", "from": null, "to": "h", "me": null, "sdp": null}))).unwrap();
        assert_eq!((ok.kind, ok.to.as_str()), ("join", "h"));
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
            assert_eq!(check(Some(bad.clone())).unwrap_err().status, 400, "{bad}");
        }
        assert!(check(None).is_err());
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
                    prop::sample::select(vec!["type", "to", "from", "me", "sdp", "ice", "trickle", "x"])
                        .prop_map(String::from),
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever arrives, the check answers (never panics), and what it lets through is a
        /// protocol type to a plausible id, relayed with its body intact.
        #[test]
        fn any_json_is_answered_and_only_well_formed_envelopes_pass(value in json_value()) {
            match check(Some(value.clone())) {
                Ok(env) => {
                    prop_assert!(kind::ALL.contains(&env.kind));
                    prop_assert!(!env.to.is_empty() && env.to.len() <= MAX_ID_BYTES);
                    prop_assert_eq!(Value::Object(env.body), value);
                }
                Err(refusal) => prop_assert_eq!(refusal.status, 400),
            }
        }
    }
}
