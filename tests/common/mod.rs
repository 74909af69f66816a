//! Test harness shared by the Rust integration tests: a real signaling server process on 127.0.0.1,
//! configs for loopback WebRTC, and a chat helper that wires data channels through the pc hooks.
#![allow(dead_code)]

pub mod tls;
pub mod tone;
pub mod turn;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use webrtc_p2p::{DataChannel, DataChannelEvent, Event, Events, PeerClient, PeerConfig, PeerRole};

/// Where the signaling server binary is: `P2P_SIGNALING_BIN`, else the workspace target dir (built
/// on demand, so `cargo test` alone works).
pub fn server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("P2P_SIGNALING_BIN") {
        return PathBuf::from(bin);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let bin = target.join("debug").join("p2p-signaling");
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "p2p-signaling"])
            .current_dir(&root)
            .status()
            .expect("cargo build p2p-signaling");
        assert!(status.success(), "building the signaling server failed");
    });
    bin
}

/// A signaling server process; killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Server {
        Server::spawn("127.0.0.1:0", args)
    }

    /// A server on a given port, e.g. a restart on the port of one that was stopped, so clients
    /// reconnect to the same URL.
    pub fn start_on(port: u16) -> Server {
        Server::spawn(&format!("127.0.0.1:{port}"), &[])
    }

    fn spawn(bind: &str, args: &[&str]) -> Server {
        let mut command = Command::new(server_bin());
        command.args(["--bind", bind]).args(args);
        Server::from_command(command)
    }

    /// Runs `command` (the server binary, possibly behind a wrapper such as `ip netns exec` that
    /// execs it, so the child is the server) and waits until it says where it listens.
    pub fn from_command(mut command: Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn p2p-signaling");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().expect("server exited before listening").expect("read server stdout");
            if let Some(url) = line.strip_prefix("p2p-signaling listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in the server url")
    }

    /// SIGTERM (the server's graceful shutdown: sockets get a Socket.IO disconnect) and waits for
    /// the process to exit.
    pub fn terminate(&mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let _ = self.child.wait();
    }

    /// SIGKILL: the server vanishes without a word.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A config for loopback tests: host candidates on 127.0.0.1 only, short timeouts.
pub fn config(url: &str) -> PeerConfig {
    let mut c = PeerConfig::new(url);
    c.bind_addresses = vec!["127.0.0.1:0".into()];
    c.p2p_timeout_ms = 20_000;
    c.vanilla_ice_timeout_ms = 2_000;
    c.socket.connection_timeout_ms = 3_000;
    c
}

/// Waits for the first event matching `pred`, failing the test after `secs`.
pub async fn wait_for(events: &mut Events, secs: u64, pred: impl Fn(&Event) -> bool) -> Event {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("event stream ended"),
            Err(_) => panic!("timed out waiting for an event"),
        }
    }
}

/// Waits until the tasks alive on this test's runtime are back to `before` (everything a stopped
/// session, peer or connection started has ended), failing the test after 5 s.
pub async fn wait_tasks_end(before: usize) {
    let tasks = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tasks() > before {
        assert!(tokio::time::Instant::now() < deadline, "{} tasks still alive after stop ({before} before)", tasks());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Data channels labelled "chat" made in the pc-create hook (offerer creates, answerer receives),
/// exactly as the seed's NativeDataChannelClient does.
pub struct Chat {
    pub open: Arc<parking_lot::Mutex<HashMap<String, Arc<DataChannel>>>>,
    pub received: mpsc::UnboundedReceiver<(String, Vec<u8>, bool)>,
    pub closed_hooks: Arc<parking_lot::Mutex<Vec<String>>>,
}

pub fn attach_chat(client: &PeerClient) -> Chat {
    let open: Arc<parking_lot::Mutex<HashMap<String, Arc<DataChannel>>>> = Default::default();
    let closed_hooks: Arc<parking_lot::Mutex<Vec<String>>> = Default::default();
    let (tx, received) = mpsc::unbounded_channel();
    let handle = {
        let open = open.clone();
        move |peer: String, dc: Arc<DataChannel>| {
            if dc.label() != "chat" {
                return;
            }
            let open = open.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(event) = dc.next_event().await {
                    match event {
                        DataChannelEvent::Open => {
                            open.lock().insert(peer.clone(), dc.clone());
                        }
                        DataChannelEvent::Message { data, is_text } => {
                            let _ = tx.send((peer.clone(), data, is_text));
                        }
                        DataChannelEvent::Close => break,
                        _ => {}
                    }
                }
                open.lock().remove(&peer);
            });
        }
    };
    client.add_pc_create_hook(move |peer, is_offer, pc| {
        let handle = handle.clone();
        async move {
            if is_offer {
                let dc = pc.create_data_channel("chat", &Default::default()).await.expect("create dc");
                handle(peer, dc);
            } else {
                pc.on_data_channel(move |dc| handle(peer.clone(), dc));
            }
        }
    });
    let hooks = closed_hooks.clone();
    client.add_pc_close_hook(move |peer| hooks.lock().push(peer.to_string()));
    Chat { open, received, closed_hooks }
}

impl Chat {
    /// Waits until channels to exactly `peers` are open.
    pub async fn wait_open(&self, peers: &[String], secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            {
                let open = self.open.lock();
                if peers.iter().all(|p| open.contains_key(p)) {
                    return;
                }
            }
            if tokio::time::Instant::now() > deadline {
                let open: Vec<String> = self.open.lock().keys().cloned().collect();
                panic!("channels to {peers:?} not open in time; open: {open:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn channel(&self, peer: &str) -> Arc<DataChannel> {
        self.open.lock().get(peer).cloned().unwrap_or_else(|| panic!("no open channel to {peer}"))
    }

    /// Collects `n` messages, failing after `secs`.
    pub async fn recv_n(&mut self, n: usize, secs: u64) -> Vec<(String, Vec<u8>, bool)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut out = Vec::new();
        while out.len() < n {
            match tokio::time::timeout_at(deadline, self.received.recv()).await {
                Ok(Some(m)) => out.push(m),
                _ => panic!("got {} of {n} messages: {out:?}", out.len()),
            }
        }
        out
    }
}

/// A member of a test group: its client, events, chat channels and own id.
pub struct Member {
    pub client: PeerClient,
    pub events: Events,
    pub chat: Chat,
    pub id: String,
}

/// Hosts `name` and waits for Started (the host learns its own id).
pub async fn host(cfg: PeerConfig, name: &str) -> Member {
    let client = PeerClient::new(cfg).unwrap();
    let mut events = client.subscribe();
    let chat = attach_chat(&client);
    client.start_host(name).await.expect("start host");
    let Event::Started(id) = wait_for(&mut events, 10, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };
    assert!(!id.is_empty(), "the host learns its own id");
    assert_eq!(client.role(), PeerRole::Host);
    Member { client, events, chat, id }
}

/// Joins `host_id` and waits for Started.
pub async fn join(cfg: PeerConfig, host_id: &str) -> Member {
    let client = PeerClient::new(cfg).unwrap();
    let mut events = client.subscribe();
    let chat = attach_chat(&client);
    client.start_client(host_id).await.expect("start client");
    let Event::Started(id) = wait_for(&mut events, 10, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };
    assert_eq!(client.role(), PeerRole::Client);
    assert_eq!(client.host_id().as_deref(), Some(host_id));
    Member { client, events, chat, id }
}

/// This process's resident memory in KiB (benchmarks report memory growth from it).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap()
}

/// The `p` quantile (0..=1) of `sorted`, nearest rank; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
