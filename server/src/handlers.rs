//! The Socket.IO events. socketioxide runs every event handler in a task of its own, which would let
//! a socket's `candidate` overtake its `offer`. So the handlers do nothing but enqueue, from the
//! extractor (which socketioxide runs in arrival order), onto one queue per socket; a single worker
//! per socket then validates, routes and acks in exactly the order the client sent.
//!
//! Everything here is generic over the Socket.IO adapter: the local one (one process, the
//! default) or socketioxide-redis (`--redis-url`, several nodes); the registry behind
//! [`Groups`] is chosen to match.

use crate::auth::JwtVerifier;
use crate::config::Config;
use crate::envelope::{self, Envelope};
use crate::groups::{GroupError, Sid};
use crate::limits::TokenBucket;
use crate::metrics::{Metrics, Rejection};
use crate::per_ip::{PerIp, Slot};
use crate::registry::Groups;
use axum::extract::ConnectInfo;
use p2p_protocol::{event, kind};
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::{FromMessageParts, Value as RawValue};
use socketioxide::socket::Socket;
use socketioxide::SocketIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

pub struct AppState {
    pub config: Config,
    pub groups: Groups,
    pub metrics: Metrics,
    /// Socket.IO connections per IP address.
    sockets_per_ip: Arc<PerIp>,
    /// Set by `--jwt-secret`.
    jwt: Option<JwtVerifier>,
}

impl AppState {
    pub fn new(config: Config, groups: Groups) -> AppState {
        let sockets_per_ip = PerIp::new(config.max_sockets_per_ip);
        let jwt = config.jwt_secret.as_deref().map(JwtVerifier::new);
        AppState { config, groups, metrics: Default::default(), sockets_per_ip, jwt }
    }
}

/// Reply bytes one rate-limit token pays for: a `list hosts` reply costs a token per started 4 KiB.
const REPLY_BYTES_PER_TOKEN: usize = 4096;

const CREATE_HOST: u8 = 0;
const LIST_HOSTS: u8 = 1;
const MESSAGE: u8 = 2;
const WHOAMI: u8 = 3;
const DISCONNECT: u8 = 4;

fn event_name(kind: u8) -> &'static str {
    match kind {
        CREATE_HOST => event::CREATE_HOST,
        LIST_HOSTS => event::LIST_HOSTS,
        MESSAGE => event::MESSAGE,
        WHOAMI => event::WHOAMI,
        _ => "disconnect",
    }
}

/// One request of a socket, in arrival order.
struct Item<A: Adapter> {
    kind: u8,
    data: Option<Value>,
    ack: Option<AckSender<A>>,
}

struct Queue<A: Adapter>(mpsc::UnboundedSender<Item<A>>);

impl<A: Adapter> Clone for Queue<A> {
    fn clone(&self) -> Self {
        Queue(self.0.clone())
    }
}

/// The extractor that enqueues: runs synchronously, in order, before socketioxide spawns the
/// (empty) handler.
struct Enqueue<const K: u8>;

impl<A: Adapter, const K: u8> FromMessageParts<A> for Enqueue<K> {
    type Error = Infallible;
    fn from_message_parts(s: &Arc<Socket<A>>, v: &mut RawValue, ack_id: &Option<i64>) -> Result<Self, Infallible> {
        let Ok(TryData(data)) = TryData::<Value>::from_message_parts(s, v, ack_id);
        let ack = if ack_id.is_some() { AckSender::from_message_parts(s, v, ack_id).ok() } else { None };
        if let Some(queue) = s.extensions.get::<Queue<A>>() {
            let _ = queue.0.send(Item { kind: K, data: data.ok(), ack });
        }
        Ok(Enqueue)
    }
}

/// Why a connection was refused (sent to the client as a `connect_error`).
#[derive(Debug)]
pub struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

/// Wires a new socket: its own room (socketioxide does not add one; delivery by id needs it), its
/// queue and worker, and its events. Runs as connect middleware, which socketioxide awaits before it
/// confirms the connection: handlers registered in the connect handler proper could miss the
/// client's first event.
pub fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    auth: Option<Value>,
    state: Arc<AppState>,
    io: SocketIo<A>,
) -> Result<(), Refused> {
    if let Some(verifier) = &state.jwt {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Err(why) = verifier.check(auth.as_ref(), now) {
            state.metrics.reject(Rejection::Unauthorized);
            return Err(Refused(why));
        }
    }
    let connections = state.metrics.connections.fetch_add(1, Ordering::SeqCst) + 1;
    if connections as usize > state.config.max_connections {
        state.metrics.connections.fetch_sub(1, Ordering::SeqCst);
        state.metrics.reject(Rejection::TooManyConnections);
        return Err(Refused("too many connections"));
    }
    // Every connection comes through serve.rs, which records the peer address.
    let peer = socket.req_parts().extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let slot = match peer.map(|ip| state.sockets_per_ip.acquire(ip)) {
        Some(Some(slot)) => Some(slot),
        Some(None) => {
            state.metrics.connections.fetch_sub(1, Ordering::SeqCst);
            state.metrics.reject(Rejection::TooManyConnections);
            return Err(Refused("too many connections from this address"));
        }
        None => None,
    };
    state.metrics.connections_total.fetch_add(1, Ordering::Relaxed);
    socket.join(socket.id.to_string());
    let (tx, rx) = mpsc::unbounded_channel();
    socket.extensions.insert(Queue(tx.clone()));
    tokio::spawn(worker(state.clone(), socket.clone(), io, rx, slot));
    socket.on(event::CREATE_HOST, |_: Enqueue<CREATE_HOST>| async {});
    socket.on(event::LIST_HOSTS, |_: Enqueue<LIST_HOSTS>| async {});
    socket.on(event::MESSAGE, |_: Enqueue<MESSAGE>| async {});
    socket.on(event::WHOAMI, |_: Enqueue<WHOAMI>| async {});
    socket.on_disconnect(move || {
        let _ = tx.send(Item { kind: DISCONNECT, data: None, ack: None });
        async {}
    });
    tracing::debug!(sid = %socket.id, "connected");
    Ok(())
}

struct Worker<A: Adapter> {
    state: Arc<AppState>,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    sid: String,
}

/// Handles one socket's requests in order until it disconnects; `_slot` (its place in the per-IP
/// count) is given back when the worker ends.
async fn worker<A: Adapter>(
    state: Arc<AppState>,
    socket: SocketRef<A>,
    io: SocketIo<A>,
    mut rx: mpsc::UnboundedReceiver<Item<A>>,
    _slot: Option<Slot>,
) {
    let sid = socket.id.to_string();
    let mut bucket = TokenBucket::new(state.config.rate_per_sec, state.config.rate_burst);
    let w = Worker { state, socket, io, sid };
    while let Some(item) = rx.recv().await {
        if item.kind == DISCONNECT {
            w.leave().await;
            break;
        }
        if !bucket.take(Instant::now()) {
            w.reject(item, 429, Rejection::RateLimited, "rate limit exceeded");
            continue;
        }
        let size = item.data.as_ref().map(|d| d.to_string().len()).unwrap_or(0);
        if size > w.state.config.max_payload_bytes {
            w.reject(item, 413, Rejection::TooLarge, "payload too large");
            continue;
        }
        match item.kind {
            CREATE_HOST => w.create_host(item).await,
            LIST_HOSTS => {
                let reply_bytes = w.list_hosts(item).await;
                bucket.charge((reply_bytes / REPLY_BYTES_PER_TOKEN) as f64);
            }
            WHOAMI => {
                let id = w.sid.clone();
                w.answer(item, json!({"status": 200, "id": id}));
            }
            _ => w.message(item).await,
        }
    }
}

impl<A: Adapter> Worker<A> {
    /// Acks `body` if the client asked for an ack.
    fn answer(&self, item: Item<A>, body: Value) {
        if let Some(ack) = item.ack {
            let _ = ack.send(&body);
        }
    }

    /// Refuses a request: in its ack if it has one, else as an `error` event. The body carries the
    /// status, a readable `message` and a machine-readable `reason` (docs/protocol.md).
    ///
    /// Every refused `create host` is answered 409 whatever the cause: Extreal's C# PeerClient
    /// treats any other status as success and would believe it hosts a group that does not exist.
    /// Our clients tell the causes apart by `reason`.
    fn reject(&self, item: Item<A>, status: u16, why: Rejection, message: &str) {
        self.state.metrics.reject(why);
        let status = if item.kind == CREATE_HOST { 409 } else { status };
        tracing::debug!(sid = %self.sid, status, message, event = event_name(item.kind), "rejected");
        let mut body = json!({"status": status, "message": message, "reason": why.reason()});
        match item.ack {
            Some(ack) => {
                let _ = ack.send(&body);
            }
            None => {
                body["event"] = json!(event_name(item.kind));
                let _ = self.socket.emit(event::ERROR, &body);
            }
        }
    }

    async fn create_host(&self, item: Item<A>) {
        if item.ack.is_none() {
            return self.reject(item, 400, Rejection::NoAck, "create host needs an acknowledgement callback");
        }
        let name = match item.data.as_ref().and_then(Value::as_str).map(p2p_protocol::host_name) {
            Some(Ok(name)) => name.to_string(),
            Some(Err(why)) => return self.reject(item, 409, Rejection::InvalidName, &why.to_string()),
            None => {
                return self.reject(item, 409, Rejection::InvalidName, "create host takes the host name as a string")
            }
        };
        let result = self.state.groups.create_host(&self.sid, &name).await;
        // The texts are Extreal's, `. host: <name>` included.
        match result {
            Ok(()) => {
                tracing::info!(sid = %self.sid, %name, "host created");
                self.answer(item, json!({"status": 200, "message": format!("Host have been created. host: {name}")}));
            }
            Err(GroupError::NameTaken) => {
                self.reject(item, 409, Rejection::NameTaken, &format!("Host already exists. host: {name}"))
            }
            Err(GroupError::Unavailable) => self.unavailable(item),
            Err(_) => self.reject(item, 409, Rejection::AlreadyInGroup, "this socket is already in a group"),
        }
    }

    /// Answers with at most `max_listed_hosts` groups, oldest first, and the `total`; returns the
    /// reply's size so the caller can charge the rate limit for it.
    async fn list_hosts(&self, item: Item<A>) -> usize {
        if item.ack.is_none() {
            self.reject(item, 400, Rejection::NoAck, "list hosts needs an acknowledgement callback");
            return 0;
        }
        let Ok((hosts, total)) = self.state.groups.hosts(self.state.config.max_listed_hosts).await else {
            self.unavailable(item);
            return 0;
        };
        let hosts: Vec<Value> = hosts.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
        let reply = json!({"status": 200, "hosts": hosts, "total": total});
        let size = reply.to_string().len();
        self.answer(item, reply);
        size
    }

    async fn message(&self, mut item: Item<A>) {
        let Envelope { kind, to, mut body } = match envelope::check(item.data.take()) {
            Ok(envelope) => envelope,
            Err(refusal) => return self.reject(item, refusal.status, refusal.why, refusal.message),
        };
        let groups = &self.state.groups;
        let allowed = if kind == kind::JOIN {
            groups.join(&self.sid, &to, self.state.config.max_group_size).await
        } else {
            match groups.same_group(&self.sid, &to).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(GroupError::NoSuchHost),
                Err(_) => Err(GroupError::Unavailable),
            }
        };
        match allowed {
            Ok(()) => {}
            Err(GroupError::Unavailable) => return self.unavailable(item),
            Err(GroupError::Full) => return self.reject(item, 403, Rejection::GroupFull, "the group is full"),
            Err(GroupError::AlreadyInGroup) => {
                return self.reject(item, 409, Rejection::AlreadyInGroup, "this socket is already in another group")
            }
            Err(_) if kind == kind::JOIN => return self.reject(item, 404, Rejection::Forbidden, "no such host"),
            Err(_) => return self.reject(item, 403, Rejection::Forbidden, "the recipient is not in your group"),
        }
        body.insert("from".into(), Value::String(self.sid.clone()));
        let body = Value::Object(body);
        // A recipient on this node is served here; with the Redis adapter that spares a publish
        // that every node would receive and drop (most traffic stays on one node when groups do).
        let here = to.parse().ok().and_then(|sid| self.io.of("/")?.get_socket(sid)).is_some();
        let to = self.socket.to(to);
        let to = if here { to.local() } else { to };
        match to.emit(event::MESSAGE, &body).await {
            Ok(()) => {
                self.state.metrics.messages_relayed.fetch_add(1, Ordering::Relaxed);
                self.answer(item, json!({"status": 200}));
            }
            Err(e) => {
                tracing::debug!(error = %e, "relay failed");
                self.answer(item, json!({"status": 500, "message": "delivery failed"}));
            }
        }
    }

    async fn leave(&self) {
        self.state.metrics.connections.fetch_sub(1, Ordering::SeqCst);
        let members = self.state.groups.leave(&self.sid).await;
        tell_left(&self.io, members.into_iter().map(|m| (self.sid.clone(), m))).await;
        tracing::debug!(sid = %self.sid, "disconnected");
    }

    /// Refuses a request because the shared registry (Redis) cannot be reached.
    fn unavailable(&self, item: Item<A>) {
        self.reject(item, 503, Rejection::Unavailable, "the group registry is unavailable; try again shortly")
    }
}

/// Sends `user disconnected {id: gone}` to each member, for each (gone, member) pair; with the
/// Redis adapter the member may be on another node.
pub async fn tell_left<A: Adapter>(io: &SocketIo<A>, pairs: impl IntoIterator<Item = (Sid, Sid)>) {
    // `io.of` rather than `io.to`: during shutdown the namespace is removed while queued
    // disconnects still drain, and `io.to` panics then (found by the load bench).
    let Some(ns) = io.of("/") else { return };
    for (gone, member) in pairs {
        let _ = ns.clone().to(member).emit(event::USER_DISCONNECTED, &json!({ "id": gone })).await;
    }
}
