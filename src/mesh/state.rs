//! Every decision of the mesh as a sans-IO state machine: it is fed what happened (a signaling
//! message, a peer-connection event, an app command, a timer that fired) and answers with what to
//! do (send this, create a pc, apply that SDP, raise this event, arm a timer). It never awaits, owns
//! no socket and no WebRTC object and reads no clock, so every rule of docs/protocol.md is tested
//! in microseconds (see `tests` here and the shared scenario vectors in `tests/vectors/`, which the
//! web client's machine passes too). The session actor and the peer tasks only carry outputs out.
//!
//! Outputs for one peer must be carried out in the order given (an executor per peer does that):
//! the machine counts an SDP as applied, or our description as sent, once it has *asked* for it,
//! which is what lets it answer at once instead of waiting for a round trip through the executor.

use crate::events::Event;
use crate::protocol::{kind, Ice, Message, MAX_CANDIDATE_BYTES, MAX_ID_BYTES, MAX_QUEUED_CANDIDATES, MAX_SDP_BYTES};
use std::collections::BTreeMap;
use std::time::Duration;

/// What the machine needs of the configuration.
#[derive(Debug, Clone)]
pub struct MeshConfig {
    /// We support trickle ICE (`trickleIce`).
    pub trickle: bool,
    /// Most peer connections at once, closing ones included.
    pub max_peers: usize,
    /// A pc not connected within this is given up.
    pub p2p_timeout: Duration,
    /// A vanilla side waits this long at most for gathering before sending its SDP.
    pub vanilla_timeout: Duration,
}

/// What happened, as the machine sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Our socket id (again after a signaling reconnect); messages from it are ignored.
    OwnId(String),
    /// App: we host a group (its `create host` was acknowledged).
    Host,
    /// App: join the group of this host.
    Join(String),
    /// App: leave (bye to every peer, every pc closed).
    Stop,
    /// A `message` from the server (`from` set by the server).
    Signal(Message),
    /// The server says this member of our group left.
    UserDisconnected(String),
    /// Something happened to the pc of `peer`.
    Pc { peer: String, event: PcEvent },
    /// A timer armed by an [`Output::Arm`] fired.
    Timer(Timer),
}

/// Peer-connection events the machine decides on.
#[derive(Debug, Clone, PartialEq)]
pub enum PcEvent {
    /// A local candidate was gathered.
    LocalCandidate(Ice),
    /// Gathering completed.
    GatheringComplete,
    /// ICE connected (or completed).
    Connected,
    /// ICE failed or closed.
    Failed,
    /// Creating our offer failed: nothing can come of this pc.
    OfferFailed,
    /// The pc is closed and its executor is gone (after [`PeerOp::Close`], or when creating it
    /// failed).
    Closed,
}

/// A timer of one peer instance (`serial` tells a later pc to the same id apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub peer: String,
    pub serial: u64,
    pub kind: TimerKind,
}

/// Why a timer was armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// The P2P timeout: give the pc up unless it connected.
    GiveUp,
    /// The vanilla ICE timeout: send our SDP with the candidates gathered so far.
    Gathering,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a message that belongs to no pc (`join`, `call me`).
    Send(Message),
    /// Work on the pc of a peer, in order.
    Peer(String, PeerOp),
    /// Raise an event to the app.
    Event(Event),
    /// The client counts as started (raise Started with our id, resolve `start_client`).
    Started(String),
    /// Feed `Input::Timer(timer)` back after `after`.
    Arm { timer: Timer, after: Duration },
}

/// Work on one peer's connection.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerOp {
    /// Create the pc and run the create hooks (`offerer`: we will offer).
    Create { offerer: bool },
    /// Create our offer and set it as the local description.
    CreateOffer,
    /// Create our answer and set it as the local description.
    CreateAnswer,
    /// Apply the remote description.
    SetRemote { offer: bool, sdp: String },
    /// Apply one remote candidate.
    AddCandidate(Ice),
    /// Send our local description as it stands now as an `offer` or `answer`, with the trickle flag
    /// (our capability) when `trickle`.
    SendDescription { offer: bool, trickle: bool },
    /// Send a message to this peer, after the work before it.
    Send(Message),
    /// Run the close hooks and close the pc; then report [`PcEvent::Closed`].
    Close,
}

#[derive(Debug)]
struct Peer {
    serial: u64,
    offerer: bool,
    /// We send candidates as they come rather than inside the SDP.
    trickling: bool,
    /// Our offer or answer has been sent (asked for).
    described: bool,
    /// Offerer: the answer has been applied.
    answered: bool,
    remote_set: bool,
    queued: Vec<Ice>,
    connected: bool,
    closing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    None,
    Host,
    Client { host: String, done: bool, connected: bool, started: bool },
}

/// The mesh of one session.
#[derive(Debug)]
pub struct Mesh {
    config: MeshConfig,
    own_id: String,
    role: Role,
    peers: BTreeMap<String, Peer>,
    serials: u64,
    stopped: bool,
}

impl Mesh {
    /// A mesh with no role and no peer yet.
    pub fn new(config: MeshConfig) -> Mesh {
        Mesh { config, own_id: String::new(), role: Role::None, peers: BTreeMap::new(), serials: 0, stopped: false }
    }

    /// Handles one input; returns what to do, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        if self.stopped {
            // After stop only the executors' ends are tracked.
            if let Input::Pc { peer, event: PcEvent::Closed } = input {
                self.peers.remove(&peer);
            }
            return out;
        }
        match input {
            Input::OwnId(id) => self.own_id = id,
            Input::Host => self.role = Role::Host,
            Input::Join(host) => {
                out.push(Output::Send(Message::new(kind::JOIN, &host).with_trickle(self.config.trickle)));
                self.role = Role::Client { host, done: false, connected: false, started: false };
            }
            Input::Stop => {
                self.stopped = true;
                let ids: Vec<String> =
                    self.peers.iter().filter(|(_, p)| !p.closing).map(|(id, _)| id.clone()).collect();
                for id in ids {
                    out.push(Output::Peer(id.clone(), PeerOp::Send(Message::new(kind::BYE, &id))));
                    self.close(&id, &mut out);
                }
            }
            Input::Signal(m) => self.on_signal(m, &mut out),
            Input::UserDisconnected(id) => self.close(&id, &mut out),
            Input::Pc { peer, event } => self.on_pc(&peer, event, &mut out),
            Input::Timer(timer) => self.on_timer(timer, &mut out),
        }
        out
    }

    fn on_signal(&mut self, m: Message, out: &mut Vec<Output>) {
        let Some(from) = m.from.clone() else { return };
        if from.is_empty() || from == self.own_id {
            return;
        }
        match m.kind.as_str() {
            kind::JOIN => {
                // Hosts connect newcomers; a second join from a peer we know is a duplicate.
                if self.role != Role::Host || self.peers.contains_key(&from) || self.full() {
                    return;
                }
                self.open(&from, true, m.trickle(), out);
                // Every other member offers to the newcomer at once, alongside our own offer.
                let members: Vec<&String> =
                    self.peers.iter().filter(|(id, p)| **id != from && !p.closing).map(|(id, _)| id).collect();
                for member in members {
                    let mut call_me = Message::new(kind::CALL_ME, member).with_trickle(m.trickle());
                    call_me.me = Some(from.clone());
                    out.push(Output::Send(call_me));
                }
            }
            kind::CALL_ME => {
                // Only our host introduces newcomers; anyone else could make us dial made-up ids.
                let Role::Client { host, .. } = &self.role else { return };
                if *host != from {
                    tracing::warn!(from = %from, "ignoring a call me that does not come from our host");
                    return;
                }
                let Some(me) = m.me.clone() else { return };
                if me.is_empty() || me.len() > MAX_ID_BYTES || me == self.own_id || self.peers.contains_key(&me) {
                    return;
                }
                if !self.full() {
                    self.open(&me, true, m.trickle(), out);
                }
            }
            kind::OFFER => {
                // The host always offers, so it never answers; a member answers each peer once.
                if !matches!(self.role, Role::Client { .. }) || self.peers.contains_key(&from) || self.full() {
                    return;
                }
                let Some(sdp) = m.sdp.clone().filter(|sdp| sdp.len() <= MAX_SDP_BYTES) else { return };
                let serial = self.open(&from, false, m.trickle(), out);
                self.set_remote(&from, true, sdp, out);
                out.push(Output::Peer(from.clone(), PeerOp::CreateAnswer));
                self.describe_or_gather(&from, serial, out);
            }
            kind::ANSWER => {
                let Some(sdp) = m.sdp.clone().filter(|sdp| sdp.len() <= MAX_SDP_BYTES) else { return };
                let Some(peer) = self.peers.get_mut(&from) else { return };
                // Only an offer we sent is answered, once.
                if !peer.offerer || !peer.described || peer.answered || peer.closing {
                    return;
                }
                peer.answered = true;
                self.set_remote(&from, false, sdp, out);
                out.push(Output::Peer(from.clone(), PeerOp::Send(Message::new(kind::DONE, &from))));
            }
            kind::CANDIDATE => {
                let Some(ice) = m.ice.clone().filter(|ice| ice.candidate.len() <= MAX_CANDIDATE_BYTES) else { return };
                // Candidates for an unknown peer are dropped; early ones wait for the remote SDP.
                let Some(peer) = self.peers.get_mut(&from).filter(|p| !p.closing) else { return };
                if peer.remote_set {
                    out.push(Output::Peer(from, PeerOp::AddCandidate(ice)));
                } else if peer.queued.len() < MAX_QUEUED_CANDIDATES {
                    peer.queued.push(ice);
                }
            }
            kind::DONE => {
                if let Role::Client { host, done, .. } = &mut self.role {
                    if *host == from {
                        *done = true;
                    }
                }
                self.check_started(out);
            }
            kind::BYE => self.close(&from, out),
            other => tracing::debug!(kind = other, "ignoring an unknown message type"),
        }
    }

    fn on_pc(&mut self, id: &str, event: PcEvent, out: &mut Vec<Output>) {
        if event == PcEvent::Closed {
            // The executor is gone; a pc that ended without our close (its creation failed) is
            // reported like any other.
            if let Some(peer) = self.peers.remove(id) {
                if !peer.closing {
                    out.push(Output::Event(Event::UserDisconnecting(id.to_string())));
                }
            }
            return;
        }
        let Some(peer) = self.peers.get_mut(id).filter(|p| !p.closing) else { return };
        match event {
            PcEvent::LocalCandidate(ice) => {
                // Executors run in order, so a candidate asked for now follows our description.
                if peer.trickling && peer.described {
                    let mut m = Message::new(kind::CANDIDATE, id);
                    m.ice = Some(ice);
                    out.push(Output::Peer(id.to_string(), PeerOp::Send(m)));
                }
            }
            PcEvent::GatheringComplete => self.describe(id, out),
            PcEvent::Connected => {
                if !peer.connected {
                    peer.connected = true;
                    out.push(Output::Event(Event::UserConnected(id.to_string())));
                    if let Role::Client { host, connected, .. } = &mut self.role {
                        if host == id {
                            *connected = true;
                        }
                    }
                    self.check_started(out);
                }
            }
            PcEvent::Failed | PcEvent::OfferFailed => self.close(id, out),
            PcEvent::Closed => {}
        }
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get(&timer.peer).filter(|p| p.serial == timer.serial && !p.closing) else {
            return;
        };
        match timer.kind {
            TimerKind::GiveUp if !peer.connected => {
                tracing::warn!(peer = %timer.peer, "not connected within the P2P timeout; closing");
                self.close(&timer.peer, out);
            }
            TimerKind::GiveUp => {}
            TimerKind::Gathering => self.describe(&timer.peer, out),
        }
    }

    /// True (and logged) when `max_peers` connections are held: a remote cannot make us open
    /// connections without bound.
    fn full(&self) -> bool {
        let full = self.peers.len() >= self.config.max_peers;
        if full {
            tracing::warn!(max = self.config.max_peers, "peer limit reached; not connecting");
        }
        full
    }

    /// Starts a pc to `id`. An offerer trickles iff we support it and know the remote does (rule 3);
    /// an answerer gets `trickling` decided by the offer (rule 4).
    fn open(&mut self, id: &str, offerer: bool, remote_trickles: bool, out: &mut Vec<Output>) -> u64 {
        self.serials += 1;
        let serial = self.serials;
        let peer = Peer {
            serial,
            offerer,
            trickling: self.config.trickle && remote_trickles,
            described: false,
            answered: false,
            remote_set: false,
            queued: Vec::new(),
            connected: false,
            closing: false,
        };
        self.peers.insert(id.to_string(), peer);
        out.push(Output::Event(Event::UserConnecting(id.to_string())));
        out.push(Output::Peer(id.to_string(), PeerOp::Create { offerer }));
        let timer = Timer { peer: id.to_string(), serial, kind: TimerKind::GiveUp };
        out.push(Output::Arm { timer, after: self.config.p2p_timeout });
        if offerer {
            out.push(Output::Peer(id.to_string(), PeerOp::CreateOffer));
            self.describe_or_gather(id, serial, out);
        }
        serial
    }

    /// A trickling side sends its description at once; a vanilla side after gathering or the
    /// vanilla timeout, whichever comes first.
    fn describe_or_gather(&mut self, id: &str, serial: u64, out: &mut Vec<Output>) {
        if self.peers.get(id).is_some_and(|p| p.trickling) {
            self.describe(id, out);
        } else {
            let timer = Timer { peer: id.to_string(), serial, kind: TimerKind::Gathering };
            out.push(Output::Arm { timer, after: self.config.vanilla_timeout });
        }
    }

    /// Sends our description once.
    fn describe(&mut self, id: &str, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get_mut(id).filter(|p| !p.described && !p.closing) else { return };
        peer.described = true;
        out.push(Output::Peer(
            id.to_string(),
            PeerOp::SendDescription { offer: peer.offerer, trickle: self.config.trickle },
        ));
    }

    /// Applies a remote description, then the candidates that waited for it (rule 5).
    fn set_remote(&mut self, id: &str, offer: bool, sdp: String, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get_mut(id) else { return };
        peer.remote_set = true;
        out.push(Output::Peer(id.to_string(), PeerOp::SetRemote { offer, sdp }));
        for ice in std::mem::take(&mut peer.queued) {
            out.push(Output::Peer(id.to_string(), PeerOp::AddCandidate(ice)));
        }
    }

    /// The one way out of a peer: event, then the close (hooks, pc); the entry stays until the
    /// executor reports `Closed`, so a new pc to the same id never overlaps the old one's close.
    fn close(&mut self, id: &str, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get_mut(id).filter(|p| !p.closing) else { return };
        peer.closing = true;
        out.push(Output::Event(Event::UserDisconnecting(id.to_string())));
        out.push(Output::Peer(id.to_string(), PeerOp::Close));
    }

    /// A client starts when the host's `done` has arrived and the link to the host is connected,
    /// in either order; once.
    fn check_started(&mut self, out: &mut Vec<Output>) {
        if let Role::Client { done: true, connected: true, started, .. } = &mut self.role {
            if !*started {
                *started = true;
                out.push(Output::Started(self.own_id.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Mesh {
        let config = MeshConfig {
            trickle: true,
            max_peers: 8,
            p2p_timeout: Duration::from_secs(15),
            vanilla_timeout: Duration::from_secs(5),
        };
        let mut mesh = Mesh::new(config);
        mesh.handle(Input::OwnId("m".into()));
        mesh.handle(Input::Join("h".into()));
        mesh
    }

    fn signal(kind: &str, from: &str) -> Message {
        Message { kind: kind.into(), from: Some(from.into()), ..Default::default() }
    }

    /// Too many to spell out in a vector: a remote that floods candidates before its offer keeps
    /// the first `MAX_QUEUED_CANDIDATES`, in order, and loses the rest.
    #[test]
    fn a_candidate_flood_before_the_remote_description_is_bounded() {
        let mut mesh = member();
        let mut answer = signal(kind::OFFER, "h");
        answer.sdp = Some("v=0".into());
        mesh.handle(Input::Signal(answer.clone()));
        // The host is an answerer now; a member we offer to gets its candidates queued.
        let mut call_me = signal(kind::CALL_ME, "h");
        call_me.me = Some("n".into());
        call_me.trickle = Some(true);
        mesh.handle(Input::Signal(call_me));
        for i in 0..10_000 {
            let mut c = signal(kind::CANDIDATE, "n");
            c.ice = Some(Ice { candidate: format!("c{i}"), sdp_mid: None, sdp_mline_index: Some(0) });
            assert!(mesh.handle(Input::Signal(c)).is_empty());
        }
        let mut reply = signal(kind::ANSWER, "n");
        reply.sdp = Some("v=0".into());
        let out = mesh.handle(Input::Signal(reply));
        let applied: Vec<&str> = out
            .iter()
            .filter_map(|o| match o {
                Output::Peer(_, PeerOp::AddCandidate(ice)) => Some(ice.candidate.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(applied.len(), MAX_QUEUED_CANDIDATES);
        assert_eq!(applied[0], "c0", "the first ones are kept, in order");
    }

    /// An oversized SDP or candidate is dropped before it reaches a pc.
    #[test]
    fn oversized_fields_are_dropped() {
        let mut mesh = member();
        let mut offer = signal(kind::OFFER, "h");
        offer.sdp = Some("x".repeat(MAX_SDP_BYTES + 1));
        assert!(mesh.handle(Input::Signal(offer.clone())).is_empty());
        offer.sdp = Some("v=0".into());
        assert!(!mesh.handle(Input::Signal(offer)).is_empty());
        let mut c = signal(kind::CANDIDATE, "h");
        c.ice = Some(Ice { candidate: "x".repeat(MAX_CANDIDATE_BYTES + 1), sdp_mid: None, sdp_mline_index: None });
        assert!(mesh.handle(Input::Signal(c)).is_empty());
    }
}
