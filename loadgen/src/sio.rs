//! Just enough Socket.IO v5 (engine.io v4) over a websocket to load a signaling server: the
//! handshake, namespace connect, events with and without acks, and answering the server's pings.
//! Every websocket text message is one engine.io packet: `0` open, `2` ping, `3` pong, `4` message;
//! a message carries one Socket.IO packet: `0` connect, `2` event, `3` ack, `4` connect error.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// One connected Socket.IO client.
pub struct Client {
    pub ws: Ws,
    /// The socket id the server gave us (what others address messages `to`).
    pub sid: String,
}

/// What a text frame from the server turned out to be.
pub enum Incoming<'a> {
    /// `42[...]`: an event, the JSON array as text.
    Event(&'a str),
    /// `43<id>[...]`: an ack.
    Ack(u64, &'a str),
    /// Pings are answered inside [`Client::next`]; anything else lands here.
    Other,
}

pub fn classify(text: &str) -> Incoming<'_> {
    if let Some(rest) = text.strip_prefix("42") {
        Incoming::Event(rest)
    } else if let Some(rest) = text.strip_prefix("43") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse() {
            Ok(id) => Incoming::Ack(id, &rest[digits..]),
            Err(_) => Incoming::Other,
        }
    } else {
        Incoming::Other
    }
}

/// A small read buffer: thousands of clients live in this one process, and tungstenite zeroes
/// the whole read buffer before every read (at 8 KiB that was 6 % of the generator's CPU; a
/// relayed message is ~300 bytes, as in the server's 1 KiB). Writes are batched up to 64 KiB
/// between flushes.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(1024).write_buffer_size(64 * 1024)
}

/// `http://host:port` (or `ws://`) → the host:port and the engine.io websocket URL.
fn endpoint(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| format!("{url}: only http:// and ws:// URLs (the generator has no TLS)"))?;
    let authority = rest.split('/').next().unwrap_or(rest).to_string();
    let ws = format!("ws://{authority}/socket.io/?EIO=4&transport=websocket");
    Ok((authority, ws))
}

impl Client {
    /// Connects, completes the engine.io and namespace handshakes, and returns the client with its id.
    pub async fn connect(url: &str) -> Result<Client, String> {
        let (authority, ws_url) = endpoint(url)?;
        let tcp = TcpStream::connect(&authority).await.map_err(|e| format!("tcp connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(ws_url, tcp, Some(ws_config()))
            .await
            .map_err(|e| format!("websocket handshake: {e}"))?;
        let mut client = Client { ws, sid: String::new() };
        match client.next_text().await? {
            t if t.starts_with('0') => {}
            t => return Err(format!("expected engine.io open, got {t:.80}")),
        }
        client.send("40".to_string()).await?;
        let t = client.next_text().await?;
        if let Some(body) = t.strip_prefix("40") {
            let v: Value = serde_json::from_str(body).map_err(|e| format!("connect packet: {e}"))?;
            client.sid = v["sid"].as_str().ok_or("connect packet without sid")?.to_string();
            Ok(client)
        } else if let Some(body) = t.strip_prefix("44") {
            Err(format!("connect_error: {body:.120}"))
        } else {
            Err(format!("expected namespace connect, got {t:.80}"))
        }
    }

    pub async fn send(&mut self, text: String) -> Result<(), String> {
        self.ws.send(Message::text(text)).await.map_err(|e| format!("send: {e}"))
    }

    /// The next text frame, answering pings on the way.
    pub async fn next_text(&mut self) -> Result<String, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => self.send("3".into()).await?,
                Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_string()),
                Some(Ok(Message::Close(_))) | None => return Err("closed by the server".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("receive: {e}")),
            }
        }
    }

    /// Emits `event` with `data` and waits for its ack (other traffic meanwhile is dropped: only
    /// used while groups form).
    pub async fn emit_with_ack(&mut self, id: u64, event: &str, data: &Value) -> Result<Value, String> {
        self.send(format!("42{id}{}", Value::Array(vec![event.into(), data.clone()]))).await?;
        loop {
            let t = self.next_text().await?;
            if let Incoming::Ack(got, body) = classify(&t) {
                if got == id {
                    let v: Value = serde_json::from_str(body).map_err(|e| format!("ack: {e}"))?;
                    return Ok(v[0].clone());
                }
            }
        }
    }

    pub async fn emit(&mut self, event: &str, data: &Value) -> Result<(), String> {
        self.send(format!("42{}", Value::Array(vec![event.into(), data.clone()]))).await
    }
}
