//! One signaling connection and the group built over it. A single task (the session actor) owns the
//! mesh state machine (`state`): it feeds it every input in arrival order (signaling messages, pc
//! events, app commands, timers) and carries its outputs out (sends, pc work handed to each peer's
//! executor, events, timers); no lock is held across network I/O. The signaling connection under it
//! may drop and come back (see `link`); the session, its peers and their links carry on.

use super::link::Link;
use super::peer::{self, PeerContext, PeerLink};
use super::state::{Input, Mesh, MeshConfig, Output, PcEvent, PeerOp, Timer};
use super::Hooks;
use crate::config::PeerConfig;
use crate::error::Result;
use crate::events::{Event, EventHub};
use crate::signaling::{Inbound, Signaling};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// How long stop waits for peers to close before cutting them off.
const PEER_CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Inputs of the session actor.
#[derive(Debug)]
pub enum SessionInput {
    Inbound(Inbound),
    /// A peer executor reports its pc.
    Pc {
        peer: String,
        event: PcEvent,
    },
    /// A timer the machine armed fired.
    Timer(Timer),
    BecomeHost,
    Join {
        host_id: String,
        started: oneshot::Sender<()>,
    },
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
        let mesh = Mesh::new(MeshConfig {
            trickle: config.trickle_ice,
            max_peers: config.max_peers,
            p2p_timeout: config.p2p_timeout(),
            vanilla_timeout: config.vanilla_ice_timeout(),
        });
        let ctx = Arc::new(PeerContext {
            config,
            signaling: link.clone(),
            hooks,
            session: inputs.clone(),
            issued_ice_servers: Default::default(),
            certificate: Default::default(),
        });
        let actor = Actor {
            ctx,
            events,
            mesh,
            peers: HashMap::new(),
            started: None,
            timers: inputs.downgrade(),
            armed: JoinSet::new(),
        };
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
    events: Arc<EventHub>,
    mesh: Mesh,
    /// The executors of the machine's peers, by peer id.
    peers: HashMap<String, PeerLink>,
    started: Option<oneshot::Sender<()>>,
    /// Where timers deliver; weak, so a pending timer does not keep a stopped session's queue open.
    timers: mpsc::WeakUnboundedSender<SessionInput>,
    /// The timers armed and not yet fired; dropped with the actor, which cancels them. Without
    /// this each connection's give-up timer (`p2p_timeout`, 15 s by default) outlived a stopped
    /// session with the session's queue, so an app that joined and left groups quickly held one
    /// task and one queue per connection and session for that long.
    armed: JoinSet<()>,
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<SessionInput>) {
        while let Some(input) = rx.recv().await {
            let input = match input {
                SessionInput::Inbound(Inbound::Message(m)) => {
                    self.step(Input::OwnId(self.ctx.signaling.id())).await;
                    Input::Signal(m)
                }
                SessionInput::Inbound(Inbound::UserDisconnected(id)) => Input::UserDisconnected(id),
                SessionInput::Inbound(Inbound::IceServers(servers)) => {
                    *self.ctx.issued_ice_servers.lock() = servers;
                    continue;
                }
                // The forwarder hands drops to the link; none arrive here.
                SessionInput::Inbound(Inbound::Dropped(_)) => continue,
                SessionInput::Pc { peer, event } => {
                    if event == PcEvent::Closed {
                        self.peers.remove(&peer);
                    }
                    Input::Pc { peer, event }
                }
                SessionInput::Timer(timer) => Input::Timer(timer),
                SessionInput::BecomeHost => Input::Host,
                SessionInput::Join { host_id, started } => {
                    self.started = Some(started);
                    Input::Join(host_id)
                }
                SessionInput::Stop(ack) => {
                    self.step(Input::Stop).await;
                    self.shutdown().await;
                    let _ = ack.send(());
                    return;
                }
            };
            self.step(input).await;
        }
    }

    /// Feeds one input to the machine and carries its outputs out, in order.
    async fn step(&mut self, input: Input) {
        for output in self.mesh.handle(input) {
            match output {
                Output::Send(m) => {
                    if let Err(e) = self.ctx.signaling.send(&m).await {
                        tracing::warn!(error = %e, kind = %m.kind, "cannot send to signaling");
                    }
                }
                Output::Peer(id, PeerOp::Create { offerer }) => {
                    let link = peer::spawn(self.ctx.clone(), id.clone(), offerer);
                    self.peers.insert(id, link);
                }
                Output::Peer(id, op) => match self.peers.get(&id) {
                    Some(link) => {
                        let _ = link.ops.send(op);
                    }
                    None => tracing::debug!(peer = %id, ?op, "no executor for this peer"),
                },
                Output::Event(event) => self.events.emit(event),
                Output::Started(id) => {
                    self.events.emit(Event::Started(id));
                    if let Some(started) = self.started.take() {
                        let _ = started.send(());
                    }
                }
                Output::Arm { timer, after } => {
                    while self.armed.try_join_next().is_some() {} // forget the fired ones
                    let timers = self.timers.clone();
                    self.armed.spawn(async move {
                        tokio::time::sleep(after).await;
                        if let Some(inputs) = timers.upgrade() {
                            let _ = inputs.send(SessionInput::Timer(timer));
                        }
                    });
                }
            }
        }
    }

    /// After the machine's stop (byes and closes queued to every executor): wait for the executors
    /// to finish, then close signaling.
    async fn shutdown(&mut self) {
        let links: Vec<PeerLink> = self.peers.drain().map(|(_, link)| link).collect();
        for link in links {
            drop(link.ops);
            let abort = link.task.abort_handle();
            if tokio::time::timeout(PEER_CLOSE_GRACE, link.task).await.is_err() {
                tracing::warn!("a peer did not close in time; aborting it");
                abort.abort();
            }
        }
        self.ctx.signaling.close().await;
    }
}
