//! One signaling connection and the group built over it. A single task (the session actor) owns the
//! routing table, so signaling messages are handled strictly in arrival order and no lock is held
//! across network I/O. Peers run in their own tasks (see `peer`). The signaling connection under it
//! may drop and come back (see `link`); the session, its peers and their links carry on.

use super::link::Link;
use super::peer::{self, PeerContext, PeerInput, PeerLink, Side};
use super::state::StartGate;
use super::Hooks;
use crate::config::PeerConfig;
use crate::error::Result;
use crate::events::{Event, EventHub};
use crate::protocol::{kind, Message, MAX_CANDIDATE_BYTES, MAX_ID_BYTES, MAX_SDP_BYTES};
use crate::signaling::{Inbound, Signaling};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long stop waits for peers to close before cutting them off.
const PEER_CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Inputs of the session actor.
#[derive(Debug)]
pub enum SessionInput {
    Inbound(Inbound),
    PeerConnected(String),
    PeerClosed(String),
    BecomeHost,
    Join { host_id: String, started: oneshot::Sender<()> },
    Stop(oneshot::Sender<()>),
}

/// A signaling connection (replaced when it drops) with its group state.
pub struct Session {
    link: Arc<Link>,
    inputs: mpsc::UnboundedSender<SessionInput>,
    task: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl Session {
    /// Connects to the signaling server and starts the session actor.
    pub async fn connect(config: Arc<PeerConfig>, hooks: Arc<Hooks>, events: Arc<EventHub>) -> Result<Session> {
        let (inbound_tx, mut inbound_rx) = mpsc::unbounded_channel();
        let link = Link::connect(config.clone(), events.clone(), inbound_tx).await?;
        let (inputs, rx) = mpsc::unbounded_channel();
        // Forward signaling pushes into the actor's single queue; drops go to the link, in the
        // order the sockets reported them.
        let (forward, link_of_forwarder) = (inputs.clone(), Arc::downgrade(&link));
        let forwarder = tokio::spawn(async move {
            while let Some(inbound) = inbound_rx.recv().await {
                if let Inbound::Dropped(reason) = inbound {
                    match link_of_forwarder.upgrade() {
                        Some(link) => link.on_dropped(reason),
                        None => break,
                    }
                } else if forward.send(SessionInput::Inbound(inbound)).is_err() {
                    break;
                }
            }
        });
        let ctx = Arc::new(PeerContext {
            config,
            signaling: link.clone(),
            hooks,
            events,
            session: inputs.clone(),
            issued_ice_servers: Default::default(),
        });
        let actor = Actor { ctx, peers: HashMap::new(), is_host: false, host_id: None, gate: None, started: None };
        let task = tokio::spawn(async move {
            actor.run(rx).await;
            forwarder.abort();
        });
        Ok(Session { link, inputs, task: parking_lot::Mutex::new(Some(task)) })
    }

    /// The live signaling socket for a request; while disconnected, one reconnect attempt that
    /// fails fast with `ConnectFailed` if the server is still away.
    pub async fn signaling(&self) -> Result<Arc<Signaling>> {
        self.link.ensure().await
    }

    /// Our socket id while connected to the signaling server.
    pub fn id(&self) -> Option<String> {
        Some(self.link.id()).filter(|id| !id.is_empty())
    }

    /// We host the group `name` (created on the server): re-created under that name after a reconnect.
    pub fn become_host(&self, name: &str) {
        self.link.set_group(name);
        let _ = self.inputs.send(SessionInput::BecomeHost);
    }

    /// Sends `join` to the host; the receiver fires when the session counts as started.
    pub fn join(&self, host_id: &str) -> oneshot::Receiver<()> {
        let (started, rx) = oneshot::channel();
        let _ = self.inputs.send(SessionInput::Join { host_id: host_id.to_string(), started });
        rx
    }

    /// Says bye to every peer, closes every connection, disconnects and waits for all tasks to end.
    pub async fn stop(&self) {
        let (ack, done) = oneshot::channel();
        if self.inputs.send(SessionInput::Stop(ack)).is_ok() {
            let _ = done.await;
        }
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

struct Actor {
    ctx: Arc<PeerContext>,
    peers: HashMap<String, PeerLink>,
    is_host: bool,
    /// The host we joined (a client), the only sender whose `call me` we honour.
    host_id: Option<String>,
    gate: Option<StartGate>,
    started: Option<oneshot::Sender<()>>,
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<SessionInput>) {
        while let Some(input) = rx.recv().await {
            match input {
                SessionInput::Inbound(Inbound::Message(m)) => self.on_message(m).await,
                SessionInput::Inbound(Inbound::UserDisconnected(id)) => self.close_peer(&id),
                SessionInput::Inbound(Inbound::IceServers(servers)) => *self.ctx.issued_ice_servers.lock() = servers,
                // The forwarder hands drops to the link; none arrive here.
                SessionInput::Inbound(Inbound::Dropped(_)) => {}
                SessionInput::PeerConnected(id) => {
                    if self.gate.as_mut().is_some_and(|g| g.on_connected(&id)) {
                        self.fire_started();
                    }
                }
                SessionInput::PeerClosed(id) => {
                    if let Some(link) = self.peers.remove(&id) {
                        drop(link.inputs);
                    }
                }
                SessionInput::BecomeHost => self.is_host = true,
                SessionInput::Join { host_id, started } => {
                    self.gate = Some(StartGate::new(&host_id));
                    self.host_id = Some(host_id.clone());
                    self.started = Some(started);
                    let join = Message::new(kind::JOIN, &host_id).with_trickle(self.ctx.config.trickle_ice);
                    if let Err(e) = self.ctx.signaling.send(&join).await {
                        tracing::warn!(error = %e, "cannot send join");
                    }
                }
                SessionInput::Stop(ack) => {
                    self.shutdown().await;
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }

    fn fire_started(&mut self) {
        self.ctx.events.emit(Event::Started(self.ctx.signaling.id()));
        if let Some(started) = self.started.take() {
            let _ = started.send(());
        }
    }

    /// Starts a peer unless we already hold `max_peers` (a remote cannot make us open connections
    /// without bound).
    fn spawn_peer(&mut self, id: &str, side: Side) {
        if self.peers.len() >= self.ctx.config.max_peers {
            tracing::warn!(peer = id, max = self.ctx.config.max_peers, "peer limit reached; not connecting");
            return;
        }
        let link = peer::spawn(self.ctx.clone(), id.to_string(), side);
        self.peers.insert(id.to_string(), link);
    }

    fn to_peer(&self, id: &str, input: PeerInput) {
        match self.peers.get(id) {
            Some(link) => {
                let _ = link.inputs.send(input);
            }
            None => tracing::debug!(peer = id, ?input, "dropping input for an unknown peer"),
        }
    }

    fn close_peer(&self, id: &str) {
        self.to_peer(id, PeerInput::Close { send_bye: false });
    }

    async fn on_message(&mut self, m: Message) {
        let Some(from) = m.from.clone() else {
            tracing::debug!(?m, "message without a sender");
            return;
        };
        let own_id = self.ctx.signaling.id();
        if !own_id.is_empty() && from == own_id {
            return;
        }
        match m.kind.as_str() {
            kind::JOIN => {
                if !self.is_host || self.peers.contains_key(&from) {
                    return;
                }
                let trickle = m.trickle();
                self.spawn_peer(&from, Side::Offerer { remote_trickles: trickle });
                let members: Vec<String> = self.peers.keys().filter(|id| **id != from).cloned().collect();
                for member in members {
                    let mut call_me = Message::new(kind::CALL_ME, &member).with_trickle(trickle);
                    call_me.me = Some(from.clone());
                    if let Err(e) = self.ctx.signaling.send(&call_me).await {
                        tracing::warn!(error = %e, "cannot send call me");
                    }
                }
            }
            kind::CALL_ME => {
                // Only our host introduces newcomers; anyone else could make us dial made-up ids.
                if self.host_id.as_deref() != Some(from.as_str()) {
                    tracing::warn!(from = %from, "ignoring a call me that does not come from our host");
                    return;
                }
                let Some(me) = m.me.clone() else { return };
                if me.is_empty()
                    || me.len() > MAX_ID_BYTES
                    || self.peers.contains_key(&me)
                    || (!own_id.is_empty() && me == own_id)
                {
                    return;
                }
                self.spawn_peer(&me, Side::Offerer { remote_trickles: m.trickle() });
            }
            kind::OFFER => {
                // The host always offers, so it never answers; members answer whoever the server
                // lets reach them (only members of their group).
                if self.is_host {
                    tracing::warn!(from = %from, "ignoring an offer to the host");
                    return;
                }
                let Some(sdp) = m.sdp.clone().filter(|sdp| sdp.len() <= MAX_SDP_BYTES) else { return };
                if !self.peers.contains_key(&from) {
                    self.spawn_peer(&from, Side::Answerer);
                }
                self.to_peer(&from, PeerInput::Offer { sdp, trickle: m.trickle() });
            }
            kind::ANSWER => {
                if let Some(sdp) = m.sdp.clone().filter(|sdp| sdp.len() <= MAX_SDP_BYTES) {
                    self.to_peer(&from, PeerInput::Answer { sdp });
                }
            }
            kind::CANDIDATE => {
                if let Some(ice) = m.ice.clone().filter(|ice| ice.candidate.len() <= MAX_CANDIDATE_BYTES) {
                    self.to_peer(&from, PeerInput::Candidate(ice));
                }
            }
            kind::DONE => {
                if self.gate.as_mut().is_some_and(|g| g.on_done(&from)) {
                    self.fire_started();
                }
            }
            kind::BYE => self.close_peer(&from),
            other => tracing::debug!(kind = other, "ignoring an unknown message type"),
        }
    }

    async fn shutdown(&mut self) {
        // Byes go over signaling; while it is down they fail at once and the links close anyway.
        let send_bye = self.ctx.signaling.current().is_some();
        let links: Vec<PeerLink> = self.peers.drain().map(|(_, link)| link).collect();
        for link in &links {
            let _ = link.inputs.send(PeerInput::Close { send_bye });
        }
        for link in links {
            let abort = link.task.abort_handle();
            if tokio::time::timeout(PEER_CLOSE_GRACE, link.task).await.is_err() {
                tracing::warn!("a peer did not close in time; aborting it");
                abort.abort();
            }
        }
        self.ctx.signaling.close().await;
    }
}
