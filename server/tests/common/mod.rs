//! Test harness: the signaling server as a process on 127.0.0.1, and a real Socket.IO client
//! (rust_socketio) that records what the server pushes.
#![allow(dead_code)]

pub mod raw;
pub mod redis;

use futures_util::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub struct Server {
    pub child: Child,
    pub url: String,
    pub addr: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_p2p-signaling"))
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().unwrap().unwrap();
        let url = line.strip_prefix("p2p-signaling listening on ").expect("listening line").to_string();
        let addr = url.trim_start_matches("http://").to_string();
        Server { child, url, addr }
    }

    /// A plain HTTP GET, returning (status line, body).
    pub fn get(&self, path: &str) -> (String, String) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text.lines().next().unwrap_or_default().to_string();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
        (status, body)
    }
}

impl Server {
    /// Waits (at most `within`) for the process to exit; panics if it does not.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < within, "the server did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    pub fn sigterm(&self) {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the server pushed to a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    Message(Value),
    UserDisconnected(Value),
    Error(Value),
}

pub struct Peer {
    pub client: Client,
    pub id: String,
    pub pushed: mpsc::UnboundedReceiver<Pushed>,
}

pub fn first(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut v) if !v.is_empty() => v.swap_remove(0),
        _ => Value::Null,
    }
}

pub async fn connect(url: &str) -> Peer {
    try_connect(url).await.expect("connected")
}

/// Connects over HTTP long-polling only (as a client behind a proxy that blocks websockets).
pub async fn connect_polling(url: &str) -> Peer {
    try_connect_over(url, TransportType::Polling).await.expect("connected")
}

/// Connects, or returns the server's refusal (its `connect_error` text).
pub async fn try_connect(url: &str) -> Result<Peer, String> {
    try_connect_over(url, TransportType::Any).await
}

async fn try_connect_over(url: &str, transport: TransportType) -> Result<Peer, String> {
    let (tx, pushed) = mpsc::unbounded_channel();
    // The CONNECT reply's sid, or the refusal.
    let (ctx, crx) = oneshot::channel::<Result<String, String>>();
    let ctx = Arc::new(Mutex::new(Some(ctx)));
    let on = |tx: mpsc::UnboundedSender<Pushed>, wrap: fn(Value) -> Pushed| {
        move |p: Payload, _: Client| {
            let _ = tx.send(wrap(first(p)));
            async {}.boxed()
        }
    };
    let refused = ctx.clone();
    let client = ClientBuilder::new(url)
        .transport_type(transport)
        .reconnect(false)
        .on(Event::Connect, move |p, _| {
            if let Some(t) = ctx.lock().unwrap().take() {
                let _ = t.send(Ok(first(p)["sid"].as_str().unwrap_or_default().to_string()));
            }
            async {}.boxed()
        })
        // rust_socketio routes the server's `error` event and its own errors (a refused connect
        // among them) to one callback: before the CONNECT it is a refusal, after it a push.
        .on(Event::Error, {
            let tx = tx.clone();
            move |p, _| {
                match refused.lock().unwrap().take() {
                    Some(t) => {
                        let _ = t.send(Err(format!("{p:?}")));
                    }
                    None => {
                        let _ = tx.send(Pushed::Error(first(p)));
                    }
                }
                async {}.boxed()
            }
        })
        .on("message", on(tx.clone(), Pushed::Message))
        .on("user disconnected", on(tx.clone(), Pushed::UserDisconnected))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let sid = tokio::time::timeout(Duration::from_secs(5), crx).await.expect("connect or refusal in time").unwrap()?;
    let mut peer = Peer { client, id: String::new(), pushed };
    peer.id = peer.request("whoami", Payload::Text(vec![])).await["id"].as_str().unwrap().to_string();
    assert_eq!(sid, peer.id, "the CONNECT packet carries the id whoami reports");
    Ok(peer)
}

impl Peer {
    pub async fn request(&self, event: &str, payload: Payload) -> Value {
        let (tx, rx) = oneshot::channel();
        let tx = Arc::new(Mutex::new(Some(tx)));
        self.client
            .emit_with_ack(event, payload, Duration::from_secs(5), move |p: Payload, _| {
                if let Some(t) = tx.lock().unwrap().take() {
                    let v = match first(p) {
                        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
                        v => v,
                    };
                    let _ = t.send(v);
                }
                async {}.boxed()
            })
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), rx).await.expect("ack in time").unwrap()
    }

    pub async fn create_host(&self, name: Value) -> Value {
        self.request("create host", Payload::Text(vec![name])).await
    }

    pub async fn hosts(&self) -> Value {
        let ack = self.request("list hosts", Payload::Text(vec![])).await;
        assert_eq!(ack["status"], 200);
        ack["hosts"].clone()
    }

    pub async fn send(&self, body: Value) -> Value {
        self.request("message", Payload::Text(vec![body])).await
    }

    pub async fn emit(&self, event: &str, body: Value) {
        self.client.emit(event, Payload::Text(vec![body])).await.unwrap();
    }

    pub async fn next(&mut self) -> Pushed {
        tokio::time::timeout(Duration::from_secs(5), self.pushed.recv()).await.expect("a push in time").unwrap()
    }

    /// Nothing is pushed within `ms`.
    pub async fn quiet(&mut self, ms: u64) {
        if let Ok(Some(p)) = tokio::time::timeout(Duration::from_millis(ms), self.pushed.recv()).await {
            panic!("unexpected push: {p:?}");
        }
    }
}
