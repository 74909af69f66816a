//! An incoming event as socketioxide hands it over: the packet's JSON text (`["name", arg, ...]`),
//! kept as received, its ack and its socket. Read once, where it is handled: the name and the first
//! argument are sliced out of the text without building a `serde_json::Value`.

use serde_json::value::RawValue;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::handler::{FromMessage, FromMessageParts, Value};
use socketioxide::socket::Socket;
use std::convert::Infallible;
use std::sync::Arc;

/// One event of a socket.
pub struct Incoming<A: Adapter> {
    pub socket: SocketRef<A>,
    pub packet: Packet,
    pub ack: Option<AckSender<A>>,
}

impl<A: Adapter> FromMessage<A> for Incoming<A> {
    type Error = Infallible;
    fn from_message(s: Arc<Socket<A>>, mut v: Value, ack_id: Option<i64>) -> Result<Self, Infallible> {
        let ack = if ack_id.is_some() { AckSender::from_message_parts(&s, &mut v, &ack_id).ok() } else { None };
        let Ok(socket) = SocketRef::from_message_parts(&s, &mut v, &ack_id);
        Ok(Incoming { socket, packet: Packet(v), ack })
    }
}

/// The event's JSON text, as received.
pub struct Packet(Value);

impl Packet {
    /// Bytes of the event's JSON (name included): the size limit's measure.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The event's JSON text (`None` for a binary packet).
    pub fn text(&self) -> Option<&str> {
        self.0.as_str().map(|s| s.as_str())
    }

    /// The event's name and the JSON text of its first argument (`None` without one). `None`
    /// altogether for a binary packet or text that is not a JSON array starting with a string
    /// (socketioxide has checked neither for events it hands to a fallback handler).
    pub fn read(&self) -> Option<(&str, Option<&str>)> {
        let args: Vec<&RawValue> = serde_json::from_str(self.text()?).ok()?;
        let name = serde_json::from_str(args.first()?.get()).ok()?;
        Some((name, args.get(1).map(|first| first.get())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(String, Option<String>)> {
        let p = Packet(Value::Str(text.to_string().into(), None));
        p.read().map(|(name, first)| (name.to_string(), first.map(String::from)))
    }

    #[test]
    fn name_and_first_argument_are_sliced_out() {
        assert_eq!(read(r#"["message",{"a":[1,2]},3]"#), Some(("message".into(), Some(r#"{"a":[1,2]}"#.into()))));
        assert_eq!(read(r#"["whoami"]"#), Some(("whoami".into(), None)));
        assert_eq!(read(r#"[ "create host" , "x" ]"#), Some(("create host".into(), Some(r#""x""#.into()))));
        for bad in ["", "[]", "[1]", "{}", r#"["a","#, "null"] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }
}
