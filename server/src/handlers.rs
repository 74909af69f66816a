//! The Socket.IO events. socketioxide starts every event handler as a task of its own (or, with our
//! patch, runs it on the connection's reader until it first waits), so two handlers of one socket
//! could run at once and a `candidate` overtake its `offer`. So a handler takes its socket's turn
//! (socketioxide calls handlers synchronously, in arrival order) and handles its event and then the
//! socket's queue, unless another handler of that socket has the turn, in which case it only appends
//! its event to the queue for that one: requests are validated,
//! routed and acked in exactly the order the client sent, with no task parked per socket (an idle
//! connection costs memory, not a task) and no wake-up of another task per event. Most events
//! (a message to a member reached before, a refusal) are answered inside the handler call; only a
//! request that waits (the registry, TURN credentials) puts a future to work.
//!
//! The common case, a `message` without an ack to a member this socket reached before, has a fast
//! path ahead of all that ([`Conn::relay_raw`]): read from the packet as received, before
//! socketioxide decodes it, and sent on as an encoded packet (our socketioxide patch 0005).
//!
//! Everything here is generic over the Socket.IO adapter: the local one (one process, the
//! default) or socketioxide-redis (`--redis-url`, several nodes); the registry behind
//! [`Groups`] is chosen to match.

use crate::auth::JwtVerifier;
use crate::config::Config;
use crate::envelope::{self, Envelope, Refusal};
use crate::groups::{GroupError, Sid};
use crate::incoming::{Incoming, Packet};
use crate::limits::TokenBucket;
use crate::metrics::{Metrics, Rejection};
use crate::per_ip::{PerIp, Slot};
use crate::registry::Groups;
use crate::routes::Routes;
use crate::turn::TurnIssuer;
use axum::extract::ConnectInfo;
use p2p_protocol::{event, kind};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, WeakSocketRef};
use socketioxide::socket::Str;
use socketioxide::SocketIo;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub struct AppState {
    pub config: Config,
    pub groups: Groups,
    pub metrics: Metrics,
    /// Socket.IO connections per IP address.
    sockets_per_ip: Arc<PerIp>,
    /// Set by `--jwt-secret`.
    jwt: Option<JwtVerifier>,
    /// Set by `--turn-secret` and `--turn-urls`.
    turn: Option<TurnIssuer>,
}

impl AppState {
    pub fn new(config: Config, groups: Groups) -> AppState {
        let sockets_per_ip = PerIp::new(config.max_sockets_per_ip);
        let jwt = config.jwt_secret.as_deref().map(JwtVerifier::new);
        let turn =
            config.turn_secret.as_deref().map(|s| TurnIssuer::new(s, config.turn_urls.clone(), config.turn_ttl_secs));
        AppState { config, groups, metrics: Default::default(), sockets_per_ip, jwt, turn }
    }
}

const UNAVAILABLE: &str = "the group registry is unavailable; try again shortly";
const UNREADABLE_EVENT: &str = "an event must be a JSON array that starts with the event's name";

/// Reply bytes one rate-limit token pays for: a `list hosts` reply costs a token per started 4 KiB.
const REPLY_BYTES_PER_TOKEN: usize = 4096;

const CREATE_HOST: u8 = 0;
const LIST_HOSTS: u8 = 1;
const MESSAGE: u8 = 2;
const WHOAMI: u8 = 3;
/// An event the protocol does not have: charged to the rate limit, then dropped without a reply.
const UNKNOWN: u8 = 4;
/// A packet that is not a JSON array starting with the event's name (socketioxide hands our
/// fallback handler every packet unread): refused with 400.
const UNREADABLE: u8 = 5;

fn event_kind(name: &str) -> u8 {
    match name {
        event::CREATE_HOST => CREATE_HOST,
        event::LIST_HOSTS => LIST_HOSTS,
        event::MESSAGE => MESSAGE,
        event::WHOAMI => WHOAMI,
        _ => UNKNOWN,
    }
}

fn event_name(kind: u8) -> Option<&'static str> {
    match kind {
        CREATE_HOST => Some(event::CREATE_HOST),
        LIST_HOSTS => Some(event::LIST_HOSTS),
        MESSAGE => Some(event::MESSAGE),
        WHOAMI => Some(event::WHOAMI),
        _ => None,
    }
}

/// How to answer a request: its ack if the client asked for one, else an `error` event.
struct Reply<A: Adapter> {
    kind: u8,
    ack: Option<AckSender<A>>,
}

/// One request of a socket, in arrival order (`None`: the socket disconnected).
type Item<A> = Option<(Packet, Option<AckSender<A>>)>;

/// A socket's requests not handled yet, and who handles them.
struct Queue<A: Adapter> {
    items: VecDeque<Item<A>>,
    /// A handler of this socket is draining the queue; the others only append.
    draining: bool,
    bucket: TokenBucket,
}

/// What a socket's handlers share. Holds no reference to the socket itself (the socket holds the
/// handlers): each handler is given its socket.
struct Conn<A: Adapter> {
    state: Arc<AppState>,
    io: SocketIo<A>,
    sid: String,
    queue: Mutex<Queue<A>>,
    /// The socket's place in the per-IP count, given back when it leaves.
    slot: Mutex<Option<Slot>>,
    /// Members this socket reached, checked (one node only).
    routes: Mutex<Routes<WeakSocketRef<A>>>,
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

/// Wires a new socket: its queue and its handlers (and, with nodes on Redis, its own room: other
/// nodes reach it through it). Runs as connect middleware, which socketioxide awaits before it
/// confirms the connection: handlers registered in the connect handler proper could miss the
/// client's first event.
pub fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    auth: Option<Value>,
    state: Arc<AppState>,
    io: SocketIo<A>,
) -> Result<(), Refused> {
    if let Some(verifier) = &state.jwt {
        if let Err(why) = verifier.check(auth.as_ref(), now_unix()) {
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
    // On one node every recipient is found by id (`deliver`); a room per socket costs a hash set.
    if state.groups.redis().is_some() {
        socket.join(socket.id.to_string());
    }
    let bucket = TokenBucket::new(state.config.rate_per_sec, state.config.rate_burst);
    let queue = Mutex::new(Queue { items: VecDeque::new(), draining: false, bucket });
    let routes = Mutex::default();
    let conn = Arc::new(Conn { state, io, sid: socket.id.to_string(), queue, slot: Mutex::new(slot), routes });
    // Most relayed messages take the fast path, as received; the rest are decoded and dispatched.
    let relay = conn.clone();
    socket.on_raw_packet(move |packet| relay.relay_raw(packet));
    // One handler for every event (a handler per event name is a hash map per socket).
    let on_event = conn.clone();
    socket.on_fallback(move |ev: Incoming<A>| on_event.handle(Some((ev.packet, ev.ack)), ev.socket));
    socket.on_disconnect(move |s: SocketRef<A>| conn.handle(None, s));
    tracing::debug!(sid = %socket.id, "connected");
    Ok(())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Sends `event` to socket `to`: straight into its outbound queue when it is on this node (no room
/// lookup, no broadcast), else through its room, which the Redis adapter publishes to the other
/// nodes. A socket that is gone on one node is gone: nothing is sent.
async fn deliver<A: Adapter, T: Serialize + ?Sized>(io: &SocketIo<A>, to: &str, event: &str, data: &T) -> bool {
    if let Some(socket) = local_socket(io, to) {
        return emit(&socket, event, data);
    }
    let Some(ns) = io.of("/") else { return false };
    // Boxed: this (Redis) path's future would otherwise size every event handler's (registry.rs).
    let remote = Box::pin(ns.to(to.to_string()).emit(event, data));
    remote.await.map_err(|e| tracing::debug!(error = %e, "relay failed")).is_ok()
}

/// Socket `to` when it is on this node.
fn local_socket<A: Adapter>(io: &SocketIo<A>, to: &str) -> Option<SocketRef<A>> {
    // `io.of` rather than `io.to`/`io.get_socket`: during shutdown the namespace is removed while
    // queued disconnects still drain, and those panic then (found by the load bench).
    io.of("/")?.get_socket(to.parse().ok()?)
}

/// Queues `event` on a socket of this node.
fn emit<A: Adapter, T: Serialize + ?Sized>(socket: &SocketRef<A>, event: &str, data: &T) -> bool {
    socket.emit(event, data).map_err(|e| tracing::debug!(error = %e, "delivery failed")).is_ok()
}

/// A request as read from its packet (borrowing it), before it is answered. A message's envelope
/// holds its members inline (no allocation per message): a large variant, but a request lives on
/// the stack for one call, where moving it costs less than boxing it would.
#[allow(clippy::large_enum_variant)]
enum Request<'p> {
    /// An event the protocol does not have: dropped without a reply.
    Ignore,
    /// Refused before reading it further: rate, size, unreadable.
    Refuse(u16, Rejection, &'static str),
    Whoami,
    Message(Result<Envelope<'p>, Refusal>),
    CreateHost(Option<&'p str>),
    ListHosts,
}

impl<A: Adapter> Conn<A> {
    /// The relay's fast path, on the connection's reader (socketioxide's raw packet hook): a
    /// `message` event without an ack id, to a member this socket reached since the last group
    /// change, within the size and rate limits, while no other request of this socket is being
    /// handled, is read from the packet as received and sent on as an encoded packet: no decoding,
    /// no dispatch, the body written once. Whatever else it declines (`false`): socketioxide then
    /// decodes the packet and [`Conn::handle`] reads, checks and answers it as any event, so the
    /// two paths can disagree on nothing but speed (the same reading, the same checks).
    fn relay_raw(&self, packet: &Str) -> bool {
        // An event on the main namespace without an ack id: `2[…]` in Socket.IO's encoding.
        let Some(json) = packet.strip_prefix('2').filter(|json| json.starts_with('[')) else { return false };
        if json.len() > self.state.config.max_payload_bytes {
            return false;
        }
        let Some(Ok(envelope)) = envelope::read_message_event(json) else { return false };
        let Some(recipient) = self.known_recipient(&envelope) else { return false };
        {
            let mut queue = self.queue.lock();
            // A request that waits has the turn: this one queues behind it. Over the rate: the
            // slow path refuses it (a refused take costs nothing).
            if queue.draining || !queue.bucket.take(Instant::now()) {
                return false;
            }
        }
        let relayed = envelope.relayed_packet(&self.sid).into();
        let delivered =
            recipient.emit_encoded(relayed).map_err(|e| tracing::debug!(error = %e, "delivery failed")).is_ok();
        if delivered {
            self.state.metrics.messages_relayed_fast.fetch_add(1, Ordering::Relaxed);
        }
        self.relayed(delivered, Reply { kind: MESSAGE, ack: None });
        true
    }

    /// A socket's next item: its turn is taken now, as socketioxide calls the handler (so in arrival
    /// order), and handled at once if it can be (a message to a known member, a refusal: most
    /// events); the returned future handles the rest, if any (a request that waits, and the items
    /// queued behind it). The future is allocated per event: kept small for that (the drain is
    /// boxed inside it, allocated only for requests that wait).
    fn handle(self: Arc<Self>, item: Item<A>, socket: SocketRef<A>) -> impl std::future::Future<Output = ()> + Send {
        let rest = self.take_turn(item).and_then(|first| self.handle_ready(first, &socket));
        async move {
            if let Some(rest) = rest {
                Box::pin(self.drain(rest, socket)).await;
            }
        }
    }

    /// Takes a socket's next item; runs synchronously, in arrival order. Returns it when the caller
    /// is to handle it (no handler of this socket is busy: from now on the caller is), else queues it
    /// for the busy one. The queue is touched only when items arrive faster than they are handled.
    fn take_turn(&self, item: Item<A>) -> Option<Item<A>> {
        let mut q = self.queue.lock();
        if q.draining {
            q.items.push_back(item);
            return None;
        }
        q.draining = true;
        Some(item)
    }

    /// The next item to handle: `next` if given, else the queue's first. The rate limit is
    /// charged here, as requests are handled (`true`: allowed). `None` gives the turn back.
    fn next_item(&self, next: Option<Item<A>>) -> Option<(Item<A>, bool)> {
        let mut q = self.queue.lock();
        let Some(item) = next.or_else(|| q.items.pop_front()) else {
            q.draining = false;
            // A socket that went quiet keeps no queue memory.
            q.items = VecDeque::new();
            return None;
        };
        let allowed = item.is_none() || q.bucket.take(Instant::now());
        Some((item, allowed))
    }

    /// Handles `first` and then the queued items for as long as each completes at once; returns
    /// the first that waits (with its charge), or `None` once the turn is given back.
    fn handle_ready(&self, first: Item<A>, socket: &SocketRef<A>) -> Option<(Item<A>, bool)> {
        let mut next = Some(first);
        loop {
            let (item, allowed) = self.next_item(next.take())?;
            let Some((packet, ack)) = item else { return Some((None, allowed)) };
            if let Err(waits) = self.handle_now(socket, packet, ack, allowed) {
                return Some((Some(waits), allowed));
            }
        }
    }

    /// Handles `first` (its charge taken), then the items queued meanwhile, in order; whatever waits.
    async fn drain(self: Arc<Self>, first: (Item<A>, bool), socket: SocketRef<A>) {
        let mut next = Some(first);
        while let Some((item, allowed)) = next.take().or_else(|| self.next_item(None)) {
            let Some((packet, ack)) = item else {
                Box::pin(self.leave()).await;
                self.queue.lock().items.clear();
                return;
            };
            let (kind, request) = self.read_request(&packet, allowed);
            let Some((request, ack)) = self.answer_now(&socket, kind, request, ack) else { continue };
            // The request waits (rare: create host, list hosts, join, the first message to a
            // member after a group changed).
            let reply = Reply { kind, ack };
            match request {
                // The rare requests are boxed: see registry.rs.
                Request::CreateHost(data) => Box::pin(self.create_host(&socket, reply, data)).await,
                Request::ListHosts => {
                    let reply_bytes = Box::pin(self.list_hosts(&socket, reply)).await;
                    self.queue.lock().bucket.charge((reply_bytes / REPLY_BYTES_PER_TOKEN) as f64);
                }
                Request::Message(checked) => Box::pin(self.message(&socket, reply, checked)).await,
                // answer_now never gives these back.
                Request::Ignore | Request::Refuse(..) | Request::Whoami => {}
            }
        }
    }

    /// Reads a request; `allowed`: the rate limit let it through.
    fn read_request<'p>(&self, packet: &'p Packet, allowed: bool) -> (u8, Request<'p>) {
        let too_large = packet.len() > self.state.config.max_payload_bytes;
        // A relayed message, the common case, is read and checked in one pass; anything else
        // is read the general way (an oversized packet too: only its name is wanted).
        let message = if too_large { None } else { packet.text().and_then(envelope::read_message_event) };
        let (kind, data) = match message {
            Some(_) => (MESSAGE, None),
            None => match packet.read() {
                Some((name, data)) => (event_kind(name), data),
                None => (UNREADABLE, None),
            },
        };
        let request = match kind {
            UNKNOWN => Request::Ignore,
            _ if !allowed => Request::Refuse(429, Rejection::RateLimited, "rate limit exceeded"),
            _ if too_large => Request::Refuse(413, Rejection::TooLarge, "payload too large"),
            UNREADABLE => Request::Refuse(400, Rejection::Malformed, UNREADABLE_EVENT),
            WHOAMI => Request::Whoami,
            CREATE_HOST => Request::CreateHost(data),
            LIST_HOSTS => Request::ListHosts,
            _ => Request::Message(message.unwrap_or_else(|| envelope::check(data))),
        };
        (kind, request)
    }

    /// Handles a request if that needs no waiting, else gives it back (the packet: the request
    /// read from it cannot leave with it; the drain reads it again).
    fn handle_now(
        &self,
        socket: &SocketRef<A>,
        packet: Packet,
        ack: Option<AckSender<A>>,
        allowed: bool,
    ) -> Result<(), (Packet, Option<AckSender<A>>)> {
        let (kind, request) = self.read_request(&packet, allowed);
        match self.answer_now(socket, kind, request, ack).map(|(_, ack)| ack) {
            None => Ok(()),
            Some(ack) => Err((packet, ack)),
        }
    }

    /// Answers a request that needs no waiting: refusals, `whoami`, a message to a member this
    /// socket reached since the last group change. Gives back the others.
    fn answer_now<'p>(
        &self,
        socket: &SocketRef<A>,
        kind: u8,
        request: Request<'p>,
        ack: Option<AckSender<A>>,
    ) -> Option<(Request<'p>, Option<AckSender<A>>)> {
        let reply = |ack| Reply { kind, ack };
        match request {
            Request::Ignore => {}
            Request::Refuse(status, why, message) => self.reject(socket, reply(ack), status, why, message),
            Request::Whoami => self.answer(reply(ack), || json!({"status": 200, "id": self.sid})),
            Request::Message(Err(refusal)) => self.refuse(socket, reply(ack), refusal),
            Request::Message(Ok(envelope)) => match self.known_recipient(&envelope) {
                Some(recipient) => self.relay(&envelope, &recipient, reply(ack)),
                None => return Some((Request::Message(Ok(envelope)), ack)),
            },
            Request::CreateHost(_) | Request::ListHosts => return Some((request, ack)),
        }
        None
    }

    /// The recipient of `envelope`, on this node, if this socket reached it since the last group
    /// change (checked then). `join` and `call me` are never answered from here: they hand out
    /// TURN credentials.
    fn known_recipient(&self, envelope: &Envelope) -> Option<SocketRef<A>> {
        let version = self.state.groups.version()?;
        if envelope.kind == kind::JOIN || envelope.kind == kind::CALL_ME {
            return None;
        }
        self.routes.lock().get(&envelope.to, version)?.upgrade()
    }

    /// Acks with `body()` if the client asked for an ack (built only then: most relayed messages
    /// ask for none).
    fn answer<T: Serialize>(&self, reply: Reply<A>, body: impl FnOnce() -> T) {
        if let Some(ack) = reply.ack {
            let _ = ack.send(&body());
        }
    }

    /// Refuses a request: in its ack if it has one, else as an `error` event. The body carries the
    /// status, a readable `message` and a machine-readable `reason` (docs/protocol.md).
    ///
    /// Every refused `create host` is answered 409 whatever the cause: Extreal's C# PeerClient
    /// treats any other status as success and would believe it hosts a group that does not exist.
    /// Our clients tell the causes apart by `reason`.
    fn reject(&self, socket: &SocketRef<A>, reply: Reply<A>, status: u16, why: Rejection, message: &str) {
        self.state.metrics.reject(why);
        let status = if reply.kind == CREATE_HOST { 409 } else { status };
        tracing::debug!(sid = %self.sid, status, message, event = ?event_name(reply.kind), "rejected");
        let mut body = json!({"status": status, "message": message, "reason": why.reason()});
        match reply.ack {
            Some(ack) => {
                let _ = ack.send(&body);
            }
            None => {
                body["event"] = json!(event_name(reply.kind));
                let _ = socket.emit(event::ERROR, &body);
            }
        }
    }

    /// [`Conn::reject`] with a refusal decided elsewhere.
    fn refuse(&self, socket: &SocketRef<A>, reply: Reply<A>, refusal: Refusal) {
        self.reject(socket, reply, refusal.status, refusal.why, refusal.message)
    }

    /// Sends socket `to` fresh TURN credentials (when the server issues them) right before it is
    /// told to make peer connections, so they never expire in a long-lived group: a host as its
    /// group is created and as each `join` reaches it, a newcomer as its `join` is accepted, a
    /// member before a `call me`. Extreal clients ignore the unknown event.
    async fn push_ice_servers(&self, socket: &SocketRef<A>, to: &str) {
        let Some(turn) = &self.state.turn else { return };
        let issued = turn.issue(to, now_unix());
        if to == self.sid {
            let _ = socket.emit(event::ICE_SERVERS, &issued);
        } else {
            deliver(&self.io, to, event::ICE_SERVERS, &issued).await;
        }
    }

    async fn create_host(&self, socket: &SocketRef<A>, reply: Reply<A>, data: Option<&str>) {
        if reply.ack.is_none() {
            return self.reject(socket, reply, 400, Rejection::NoAck, "create host needs an acknowledgement callback");
        }
        let name = data.and_then(|d| serde_json::from_str::<String>(d).ok());
        let name = match name.as_deref().map(p2p_protocol::host_name) {
            Some(Ok(name)) => name.to_string(),
            Some(Err(why)) => return self.reject(socket, reply, 409, Rejection::InvalidName, &why.to_string()),
            None => {
                let why = "create host takes the host name as a string";
                return self.reject(socket, reply, 409, Rejection::InvalidName, why);
            }
        };
        let result = self.state.groups.create_host(&self.sid, &name).await;
        // The texts are Extreal's, `. host: <name>` included.
        match result {
            Ok(()) => {
                tracing::info!(sid = %self.sid, %name, "host created");
                self.push_ice_servers(socket, &self.sid).await;
                self.answer(
                    reply,
                    || json!({"status": 200, "message": format!("Host have been created. host: {name}")}),
                );
            }
            Err(GroupError::NameTaken) => {
                self.reject(socket, reply, 409, Rejection::NameTaken, &format!("Host already exists. host: {name}"))
            }
            Err(GroupError::Unavailable) => self.unavailable(socket, reply),
            Err(_) => self.reject(socket, reply, 409, Rejection::AlreadyInGroup, "this socket is already in a group"),
        }
    }

    /// Answers with at most `max_listed_hosts` groups, oldest first, and the `total`; returns the
    /// reply's size so the caller can charge the rate limit for it.
    async fn list_hosts(&self, socket: &SocketRef<A>, reply: Reply<A>) -> usize {
        if reply.ack.is_none() {
            self.reject(socket, reply, 400, Rejection::NoAck, "list hosts needs an acknowledgement callback");
            return 0;
        }
        let Ok((hosts, total)) = self.state.groups.hosts(self.state.config.max_listed_hosts).await else {
            self.unavailable(socket, reply);
            return 0;
        };
        let hosts: Vec<Value> = hosts.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
        let body = json!({"status": 200, "hosts": hosts, "total": total});
        let size = body.to_string().len();
        self.answer(reply, || body);
        size
    }

    /// A message whose route is not known: checked in full (and the route kept, on one node).
    async fn message(&self, socket: &SocketRef<A>, reply: Reply<A>, checked: Result<Envelope<'_>, Refusal>) {
        let envelope = match checked {
            Ok(envelope) => envelope,
            Err(refusal) => return self.refuse(socket, reply, refusal),
        };
        let to = &*envelope.to;
        // Read before the check: a change made meanwhile makes the kept route stale at once.
        let version = self.state.groups.version();
        if let Err(refusal) = self.check_route(socket, envelope.kind, to).await {
            return self.refuse(socket, reply, refusal);
        }
        let Some((version, recipient)) = version.and_then(|v| Some((v, local_socket(&self.io, to)?))) else {
            // On another node (Redis), or gone.
            let delivered = deliver(&self.io, to, event::MESSAGE, &envelope.relayed(&self.sid)).await;
            return self.relayed(delivered, reply);
        };
        self.routes.lock().insert(to, recipient.downgrade(), version);
        self.relay(&envelope, &recipient, reply);
    }

    /// Sends a checked message to its recipient on this node and answers the sender.
    fn relay(&self, envelope: &Envelope, recipient: &SocketRef<A>, reply: Reply<A>) {
        self.relayed(emit(recipient, event::MESSAGE, &envelope.relayed(&self.sid)), reply);
    }

    /// Counts a relayed message and answers its ack.
    fn relayed(&self, delivered: bool, reply: Reply<A>) {
        if delivered {
            self.state.metrics.messages_relayed.fetch_add(1, Ordering::Relaxed);
            self.answer(reply, || json!({"status": 200}));
        } else {
            self.answer(reply, || json!({"status": 500, "message": "delivery failed"}));
        }
    }

    /// Whether this socket may send a `kind` message to `to` (a `join` makes it a member), and
    /// the TURN credentials a `join` or `call me` hands out.
    async fn check_route(&self, socket: &SocketRef<A>, kind: &str, to: &str) -> Result<(), Refusal> {
        let groups = &self.state.groups;
        let allowed = if kind == kind::JOIN {
            groups.join(&self.sid, to, self.state.config.max_group_size).await
        } else {
            match groups.same_group(&self.sid, to).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(GroupError::NoSuchHost),
                Err(_) => Err(GroupError::Unavailable),
            }
        };
        let refusal = |status, why, message| Err(Refusal { status, why, message });
        match allowed {
            Ok(()) => {}
            Err(GroupError::Unavailable) => return refusal(503, Rejection::Unavailable, UNAVAILABLE),
            Err(GroupError::Full) => return refusal(403, Rejection::GroupFull, "the group is full"),
            Err(GroupError::AlreadyInGroup) => {
                return refusal(409, Rejection::AlreadyInGroup, "this socket is already in another group")
            }
            Err(_) if kind == kind::JOIN => return refusal(404, Rejection::Forbidden, "no such host"),
            Err(_) => return refusal(403, Rejection::Forbidden, "the recipient is not in your group"),
        }
        if kind == kind::JOIN {
            Box::pin(self.push_ice_servers(socket, &self.sid)).await;
            Box::pin(self.push_ice_servers(socket, to)).await;
        } else if kind == kind::CALL_ME {
            Box::pin(self.push_ice_servers(socket, to)).await;
        }
        Ok(())
    }

    async fn leave(&self) {
        self.state.metrics.connections.fetch_sub(1, Ordering::SeqCst);
        let members = self.state.groups.leave(&self.sid).await;
        tell_left(&self.io, members.into_iter().map(|m| (self.sid.clone(), m))).await;
        self.slot.lock().take();
        tracing::debug!(sid = %self.sid, "disconnected");
    }

    /// Refuses a request because the shared registry (Redis) cannot be reached.
    fn unavailable(&self, socket: &SocketRef<A>, reply: Reply<A>) {
        self.reject(socket, reply, 503, Rejection::Unavailable, UNAVAILABLE)
    }
}

/// Sends `user disconnected {id: gone}` to each member, for each (gone, member) pair; with the
/// Redis adapter the member may be on another node.
pub async fn tell_left<A: Adapter>(io: &SocketIo<A>, pairs: impl IntoIterator<Item = (Sid, Sid)>) {
    for (gone, member) in pairs {
        deliver(io, &member, event::USER_DISCONNECTED, &json!({ "id": gone })).await;
    }
}
