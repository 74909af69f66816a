//! The floor under any Socket.IO relay on this stack: a websocket server built from the same parts
//! as ours (tokio's multi-threaded runtime with as many threads, tungstenite with the same 1 KiB
//! read buffer, a reader and a writer task per socket and a 32-packet outbound queue between them,
//! like engineioxide) that speaks just enough Socket.IO for `p2p-loadgen` and nothing else: every ack says
//! `{"status":200}`, a `message` event goes as received to the socket named in `to`. No groups, no
//! checks, no limits, no heartbeat, no engine.io or Socket.IO parsing beyond a prefix.
//!
//! Why it exists: `SERVERS="ours floor" bash bench/load.sh` puts our server beside it in one run,
//! so the CPU our server spends per relay splits into what the transport costs anyway (kernel TCP,
//! tokio, tungstenite framing, the wake-ups between tasks) and what Socket.IO, engine.io and our
//! checks add; its ceiling is what this machine could carry with the generator beside it.
//! A benchmark reference only: it trusts every client and must never face a network.
//!
//! With `--rewrite` (`floor-rewrite` in the bench scripts) a `message` is read and written again
//! with `from` added, as any relay that checks and attributes messages must at least do: the JSON
//! work of a Socket.IO relay without Socket.IO's and engine.io's machinery, so that ours minus this
//! is the most a relay path around socketioxide could save.

use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Our server's values (server/src/lib.rs: `WS_READ_BUFFER_BYTES`, `OUTBOUND_PACKETS_PER_SOCKET`).
const WS_READ_BUFFER_BYTES: usize = 1024;
const OUTBOUND_PACKETS_PER_SOCKET: usize = 32;

type Sockets = Arc<RwLock<HashMap<String, mpsc::Sender<Message>>>>;

/// Runtime threads: our server's default (server/src/config.rs, `default_workers`), two per CPU.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 2
}

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(workers()).enable_all().build()?.block_on(relay())
}

async fn relay() -> std::io::Result<()> {
    let rewrite = std::env::args().any(|a| a == "--rewrite");
    // The accept queue our server asks for (server/src/serve.rs, LISTEN_BACKLOG), not tokio's 128.
    let socket = TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse().expect("an address"))?;
    let listener = socket.listen(4096)?;
    // bench/load.sh waits for this line.
    println!("floor relay on http://{}", listener.local_addr()?);
    let sockets: Sockets = Default::default();
    let next_id = AtomicU64::new(0);
    loop {
        let (tcp, _) = listener.accept().await?;
        let sid = format!("f{}", next_id.fetch_add(1, Ordering::Relaxed));
        tokio::spawn(serve(tcp, sid, sockets.clone(), rewrite));
    }
}

/// `43<id>[{"status":200}]` for an event that asked for an ack (`42<id>[...]`), else `None`.
fn ack_for(text: &str) -> Option<String> {
    let rest = text.strip_prefix("42")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| format!("43{}[{{\"status\":200}}]", &rest[..digits]))
}

/// `42["message",{..}]` read (keys borrowed, values kept as raw JSON) and written again with
/// `"from":sid` first: the recipient and the text to send it, `None` for anything unreadable.
fn rewritten(text: &str, sid: &str) -> Option<(String, String)> {
    type Fields<'a> = std::collections::BTreeMap<&'a str, &'a serde_json::value::RawValue>;
    let (name, fields): (&str, Fields) = serde_json::from_str(text.strip_prefix("42")?).ok()?;
    let to: String = serde_json::from_str(fields.get("to")?.get()).ok()?;
    let mut out = String::with_capacity(text.len() + sid.len() + 16);
    out.push_str("42[");
    out.push_str(&serde_json::to_string(name).ok()?);
    out.push_str(",{\"from\":");
    out.push_str(&serde_json::to_string(sid).ok()?);
    for (key, value) in &fields {
        out.push(',');
        out.push_str(&serde_json::to_string(key).ok()?);
        out.push(':');
        out.push_str(value.get());
    }
    out.push_str("}]");
    Some((to, out))
}

/// The socket id after `"to":"` in a `message` event.
fn recipient(text: &str) -> Option<&str> {
    let at = text.find("\"to\":\"")? + 6;
    let len = text[at..].find('"')?;
    Some(&text[at..at + len])
}

async fn serve(tcp: TcpStream, sid: String, sockets: Sockets, rewrite: bool) {
    let _ = tcp.set_nodelay(true);
    let config = WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER_BYTES);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(OUTBOUND_PACKETS_PER_SOCKET);
    let open =
        format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}}"#);
    if sink.send(Message::text(open)).await.is_err() {
        return;
    }
    sockets.write().unwrap().insert(sid.clone(), tx.clone());
    // The writer: everything queued goes out in one flush, as engineioxide's writer does.
    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = &message else { continue };
        let reply =
            if text.as_str() == "40" { Some(format!(r#"40{{"sid":"{sid}"}}"#)) } else { ack_for(text.as_str()) };
        if let Some(reply) = reply {
            let _ = tx.try_send(Message::text(reply));
        } else if rewrite {
            if let Some((to, out)) = rewritten(text.as_str(), &sid) {
                let peer = sockets.read().unwrap().get(&to).cloned();
                if let Some(peer) = peer {
                    let _ = peer.try_send(Message::text(out));
                }
            }
        } else if let Some(to) = recipient(text.as_str()) {
            let peer = sockets.read().unwrap().get(to).cloned();
            if let Some(peer) = peer {
                let _ = peer.try_send(message);
            }
        }
    }
    sockets.write().unwrap().remove(&sid);
    writer.abort();
}

#[cfg(test)]
mod tests {
    use super::{ack_for, recipient, rewritten};

    #[test]
    fn rewrites_a_message_with_its_sender_first() {
        let (to, out) = rewritten(r#"42["message",{"type":"candidate","to":"f2","s":1,"c":{"a":[1]}}]"#, "f1").unwrap();
        assert_eq!(to, "f2");
        assert_eq!(out, r#"42["message",{"from":"f1","c":{"a":[1]},"s":1,"to":"f2","type":"candidate"}]"#);
        assert!(rewritten(r#"42["message",{"type":"join"}]"#, "f1").is_none(), "no recipient");
        assert!(rewritten(r#"42["message",{"to":"f2"]"#, "f1").is_none(), "not JSON");
    }

    #[test]
    fn acks_only_events_that_ask_for_one() {
        assert_eq!(ack_for(r#"427["create host","g"]"#).as_deref(), Some(r#"437[{"status":200}]"#));
        assert_eq!(ack_for(r#"42["message",{"to":"f1"}]"#), None);
        assert_eq!(ack_for("40"), None);
    }

    #[test]
    fn finds_the_recipient_anywhere_in_the_message() {
        assert_eq!(recipient(r#"42["message",{"type":"join","to":"f12"}]"#), Some("f12"));
        assert_eq!(recipient(r#"42["message",{"to":"f3","s":1}]"#), Some("f3"));
        assert_eq!(recipient(r#"42["message",{"type":"join"}]"#), None);
    }
}
