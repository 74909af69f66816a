//! One remote peer: its connection, its offer/answer exchange (trickle or vanilla), its candidate
//! queue, and a close that runs once. Each peer runs in its own task so a vanilla peer waiting for
//! gathering never holds up the others; messages to one peer are handled in arrival order.

use super::link::Link;
use super::session::SessionInput;
use super::state::{answerer_trickles, offerer_trickles, CandidateQueue};
use super::Hooks;
use crate::config::PeerConfig;
use crate::events::{Event, EventHub};
use crate::protocol::{kind, Ice, Message};
use crate::rtc::{self, IceState, PcEvent, PeerConnection};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the session hands to a peer.
#[derive(Debug)]
pub enum PeerInput {
    Offer {
        sdp: String,
        trickle: bool,
    },
    Answer {
        sdp: String,
    },
    Candidate(Ice),
    /// Close the connection; `send_bye` tells the remote first (our stop, not its leaving).
    Close {
        send_bye: bool,
    },
}

/// Which side of the exchange this peer is on.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    /// We offer; `remote_trickles` is what we know of the remote's capability.
    Offerer {
        remote_trickles: bool,
    },
    Answerer,
}

/// What every peer task of a session shares.
pub struct PeerContext {
    pub config: Arc<PeerConfig>,
    /// The session's signaling connection (sends fail at once while it is down).
    pub signaling: Arc<Link>,
    pub hooks: Arc<Hooks>,
    pub events: Arc<EventHub>,
    pub session: mpsc::UnboundedSender<SessionInput>,
    /// TURN servers the signaling server issued (latest `ice servers` event), used with the
    /// configured ones by every connection made from then on.
    pub issued_ice_servers: parking_lot::Mutex<Vec<crate::config::IceServer>>,
}

/// The session's handle to a running peer task.
pub struct PeerLink {
    pub inputs: mpsc::UnboundedSender<PeerInput>,
    pub task: JoinHandle<()>,
}

/// Starts the task of the peer `peer_id`.
pub fn spawn(ctx: Arc<PeerContext>, peer_id: String, side: Side) -> PeerLink {
    let (inputs, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(ctx, peer_id, side, rx));
    PeerLink { inputs, task }
}

struct Peer {
    ctx: Arc<PeerContext>,
    id: String,
    pc: Arc<PeerConnection>,
    pc_events: mpsc::UnboundedReceiver<PcEvent>,
    /// Events seen while waiting for gathering, replayed afterwards.
    stashed: Vec<PcEvent>,
    candidates: CandidateQueue,
    /// We send our candidates as they come (trickle) rather than inside the SDP.
    trickling: bool,
    connected: bool,
}

async fn run(ctx: Arc<PeerContext>, id: String, side: Side, mut inputs: mpsc::UnboundedReceiver<PeerInput>) {
    let (pc_tx, pc_events) = mpsc::unbounded_channel();
    let issued = ctx.issued_ice_servers.lock().clone();
    let pc = match rtc::build(&ctx.config, &issued, pc_tx).await {
        Ok(pc) => Arc::new(pc),
        Err(e) => {
            tracing::error!(peer = %id, error = %e, "cannot create a peer connection");
            let _ = ctx.session.send(SessionInput::PeerClosed(id));
            return;
        }
    };
    let is_offer = matches!(side, Side::Offerer { .. });
    ctx.events.emit(Event::UserConnecting(id.clone()));
    ctx.hooks.run_create(&id, is_offer, &pc).await;

    let mut peer = Peer {
        ctx,
        id,
        pc,
        pc_events,
        stashed: Vec::new(),
        candidates: CandidateQueue::default(),
        trickling: false,
        connected: false,
    };
    let mut send_bye = false;
    if let Side::Offerer { remote_trickles } = side {
        if let Err(e) = peer.offer(remote_trickles).await {
            tracing::warn!(peer = %peer.id, error = %e, "offer failed");
            peer.close(false).await;
            return;
        }
    }
    if peer.replay_stashed().await {
        peer.close(false).await;
        return;
    }
    // A connection that is not up within the P2P timeout is given up (a remote that never answers,
    // or an id that names no one, must not hold a connection forever).
    let give_up = tokio::time::sleep(peer.ctx.config.p2p_timeout());
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            _ = &mut give_up, if !peer.connected => {
                tracing::warn!(peer = %peer.id, "not connected within the P2P timeout; closing");
                break;
            }
            input = inputs.recv() => match input {
                Some(PeerInput::Close { send_bye: bye }) => { send_bye = bye; break; }
                Some(input) => {
                    if let Err(e) = peer.on_input(input).await {
                        tracing::warn!(peer = %peer.id, error = %e, "signaling step failed");
                    }
                    if peer.replay_stashed().await { break; }
                }
                None => break,
            },
            event = peer.pc_events.recv() => match event {
                Some(event) => if peer.on_pc_event(event).await { break; },
                None => break,
            },
        }
    }
    peer.close(send_bye).await;
}

impl Peer {
    async fn send(&self, message: Message) {
        if let Err(e) = self.ctx.signaling.send(&message).await {
            tracing::debug!(peer = %self.id, error = %e, "cannot send to signaling");
        }
    }

    async fn offer(&mut self, remote_trickles: bool) -> crate::Result<()> {
        let local = self.ctx.config.trickle_ice;
        self.trickling = offerer_trickles(local, remote_trickles);
        self.pc.create_offer().await?;
        if !self.trickling {
            self.wait_for_gathering().await;
        }
        let sdp = self.pc.local_sdp().await?;
        let mut m = Message::new(kind::OFFER, &self.id).with_trickle(local);
        m.sdp = Some(sdp);
        self.send(m).await;
        Ok(())
    }

    async fn on_input(&mut self, input: PeerInput) -> crate::Result<()> {
        match input {
            PeerInput::Offer { sdp, trickle } => {
                self.pc.set_remote(true, sdp).await?;
                self.apply_queued().await;
                let local = self.ctx.config.trickle_ice;
                self.trickling = answerer_trickles(local, trickle);
                self.pc.create_answer().await?;
                if !self.trickling {
                    self.wait_for_gathering().await;
                }
                let mut m = Message::new(kind::ANSWER, &self.id).with_trickle(local);
                m.sdp = Some(self.pc.local_sdp().await?);
                self.send(m).await;
            }
            PeerInput::Answer { sdp } => {
                self.pc.set_remote(false, sdp).await?;
                self.apply_queued().await;
                self.send(Message::new(kind::DONE, &self.id)).await;
            }
            PeerInput::Candidate(ice) => {
                if let Some(ice) = self.candidates.push(ice) {
                    self.add_candidate(ice).await;
                }
            }
            PeerInput::Close { .. } => {}
        }
        Ok(())
    }

    async fn apply_queued(&mut self) {
        for ice in self.candidates.remote_set() {
            self.add_candidate(ice).await;
        }
    }

    async fn add_candidate(&self, ice: Ice) {
        if let Err(e) = self.pc.add_candidate(ice).await {
            tracing::debug!(peer = %self.id, error = %e, "ignoring a remote candidate");
        }
    }

    /// Vanilla ICE: wait until gathering completes or the vanilla timeout passes, so the SDP we send
    /// carries our candidates. Other connection events are kept for later.
    async fn wait_for_gathering(&mut self) {
        let deadline = Instant::now() + self.ctx.config.vanilla_ice_timeout();
        loop {
            match tokio::time::timeout_at(deadline, self.pc_events.recv()).await {
                Ok(Some(PcEvent::GatheringComplete)) | Ok(None) => return,
                Ok(Some(PcEvent::LocalCandidate(_))) => {}
                Ok(Some(other)) => self.stashed.push(other),
                Err(_) => {
                    tracing::debug!(peer = %self.id, "vanilla ICE timeout: sending the candidates gathered so far");
                    return;
                }
            }
        }
    }

    /// Replays the events kept during a gathering wait; true when the connection is over.
    async fn replay_stashed(&mut self) -> bool {
        for event in std::mem::take(&mut self.stashed) {
            if self.on_pc_event(event).await {
                return true;
            }
        }
        false
    }

    /// Handles a connection event; true when the connection is over.
    async fn on_pc_event(&mut self, event: PcEvent) -> bool {
        match event {
            PcEvent::LocalCandidate(ice) => {
                if self.trickling {
                    let mut m = Message::new(kind::CANDIDATE, &self.id);
                    m.ice = Some(ice);
                    self.send(m).await;
                }
                false
            }
            PcEvent::GatheringComplete => false,
            PcEvent::IceState(IceState::Connected | IceState::Completed) => {
                if !self.connected {
                    self.connected = true;
                    self.ctx.events.emit(Event::UserConnected(self.id.clone()));
                    let _ = self.ctx.session.send(SessionInput::PeerConnected(self.id.clone()));
                }
                false
            }
            PcEvent::IceState(IceState::Failed | IceState::Closed) => true,
            PcEvent::IceState(_) => false,
        }
    }

    /// The one way out of a peer: bye (if ours), event, close hooks, connection close, session told.
    async fn close(self, send_bye: bool) {
        if send_bye {
            self.send(Message::new(kind::BYE, &self.id)).await;
        }
        self.ctx.events.emit(Event::UserDisconnecting(self.id.clone()));
        self.ctx.hooks.run_close(&self.id);
        self.pc.close().await;
        let _ = self.ctx.session.send(SessionInput::PeerClosed(self.id.clone()));
    }
}
