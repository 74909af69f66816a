//! The executor of one remote peer: it owns the pc and carries out the machine's [`PeerOp`]s for it
//! strictly in order, and reports what the pc does back to the session. It decides nothing: which
//! SDP to apply, when to send what and when to give up are the machine's (`state`). Each peer has
//! its own task, so a slow operation on one pc never holds up another.

use super::link::Link;
use super::session::SessionInput;
use super::state::{PcEvent, PeerOp};
use super::Hooks;
use crate::config::PeerConfig;
use crate::protocol::{kind, Message};
use crate::rtc::{self, IceState, PeerConnection};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What every peer executor of a session shares.
pub struct PeerContext {
    pub config: Arc<PeerConfig>,
    /// The session's signaling connection (sends fail at once while it is down).
    pub signaling: Arc<Link>,
    pub hooks: Arc<Hooks>,
    pub session: mpsc::UnboundedSender<SessionInput>,
    /// TURN servers the signaling server issued (latest `ice servers` event), used with the
    /// configured ones by every connection made from then on.
    pub issued_ice_servers: parking_lot::Mutex<Vec<crate::config::IceServer>>,
    /// The session's DTLS certificate, made with its first connection and shared by all.
    pub certificate: once_cell::sync::OnceCell<rtc::DtlsCertificate>,
}

/// The session's handle to a running executor.
pub struct PeerLink {
    pub ops: mpsc::UnboundedSender<PeerOp>,
    pub task: JoinHandle<()>,
}

/// Starts the executor of the peer `id`: it creates the pc and runs the create hooks first.
pub fn spawn(ctx: Arc<PeerContext>, id: String, offerer: bool) -> PeerLink {
    let (ops, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(ctx, id, offerer, rx));
    PeerLink { ops, task }
}

async fn run(ctx: Arc<PeerContext>, id: String, offerer: bool, mut ops: mpsc::UnboundedReceiver<PeerOp>) {
    let report = |event: PcEvent| {
        let _ = ctx.session.send(SessionInput::Pc { peer: id.clone(), event });
    };
    let (pc_tx, mut pc_events) = mpsc::unbounded_channel();
    let issued = ctx.issued_ice_servers.lock().clone();
    let built = match ctx.certificate.get_or_try_init(rtc::DtlsCertificate::generate) {
        Ok(certificate) => rtc::build(&ctx.config, &issued, certificate, pc_tx).await,
        Err(e) => Err(e),
    };
    let pc = match built {
        Ok(pc) => Arc::new(pc),
        Err(e) => {
            tracing::error!(peer = %id, error = %e, "cannot create a peer connection");
            report(PcEvent::Closed);
            return;
        }
    };
    ctx.hooks.run_create(&id, offerer, &pc).await;
    loop {
        tokio::select! {
            op = ops.recv() => match op {
                Some(PeerOp::Close) | None => break,
                Some(op) => {
                    if let Err(e) = execute(&ctx, &id, &pc, op).await {
                        report(e);
                    }
                }
            },
            event = pc_events.recv() => match event {
                Some(rtc::PcEvent::LocalCandidate(ice)) => report(PcEvent::LocalCandidate(ice)),
                Some(rtc::PcEvent::GatheringComplete) => report(PcEvent::GatheringComplete),
                Some(rtc::PcEvent::IceState(IceState::Connected | IceState::Completed)) => report(PcEvent::Connected),
                Some(rtc::PcEvent::IceState(IceState::Failed | IceState::Closed)) => report(PcEvent::Failed),
                Some(rtc::PcEvent::IceState(_)) => {}
                None => break,
            },
        }
    }
    ctx.hooks.run_close(&id);
    pc.close().await;
    report(PcEvent::Closed);
}

/// Carries out one operation; a failure the machine must hear of comes back as an event. Other
/// failures (a remote's bad SDP or candidate) are logged: the P2P timeout ends such a pc.
async fn execute(ctx: &PeerContext, id: &str, pc: &PeerConnection, op: PeerOp) -> Result<(), PcEvent> {
    let result = match op {
        PeerOp::CreateOffer => {
            return pc.create_offer().await.map_err(|e| {
                tracing::warn!(peer = %id, error = %e, "offer failed");
                PcEvent::OfferFailed
            })
        }
        PeerOp::CreateAnswer => pc.create_answer().await,
        PeerOp::SetRemote { offer, sdp } => pc.set_remote(offer, sdp).await,
        PeerOp::AddCandidate(ice) => pc.add_candidate(ice).await,
        PeerOp::SendDescription { offer, trickle } => match pc.local_sdp().await {
            Ok(sdp) => {
                let mut m = Message::new(if offer { kind::OFFER } else { kind::ANSWER }, id).with_trickle(trickle);
                m.sdp = Some(sdp);
                send(ctx, id, &m).await;
                Ok(())
            }
            Err(e) => Err(e),
        },
        PeerOp::Send(m) => {
            send(ctx, id, &m).await;
            Ok(())
        }
        PeerOp::Create { .. } | PeerOp::Close => Ok(()),
    };
    if let Err(e) = result {
        tracing::debug!(peer = %id, error = %e, "a pc operation failed");
    }
    Ok(())
}

async fn send(ctx: &PeerContext, id: &str, m: &Message) {
    if let Err(e) = ctx.signaling.send(m).await {
        tracing::debug!(peer = %id, error = %e, "cannot send to signaling");
    }
}
