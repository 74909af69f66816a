//! Our peer connection: builds a webrtc-rs connection whose events flow into a channel that the
//! owning mesh task consumes, and keeps remote data channels until the app asks for them.

use super::audio::{self, AudioSource, LocalAudioTrack, RemoteAudioTrack};
use super::data_channel::{DataChannel, DataChannelInit};
use super::stats::{self, LinkStates, PeerStats};
use crate::config::{IceServer, IceTransportPolicy, PeerConfig};
use crate::error::{P2pError, Result};
use crate::protocol::Ice;
use parking_lot::Mutex;
use std::sync::Arc;
use tokio::sync::mpsc;
use webrtc::data_channel::DataChannel as RtcDataChannel;
use webrtc::peer_connection::{
    PeerConnection as RtcPeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceConnectionState, RTCIceGatheringState, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSdpType, RTCSessionDescription, SettingEngineBuilder,
};

/// ICE connection state, as the mesh needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceState {
    /// Not checking yet.
    New,
    /// Checking candidate pairs.
    Checking,
    /// A pair works.
    Connected,
    /// Checking finished with a working pair.
    Completed,
    /// Connectivity was lost (it may come back).
    Disconnected,
    /// No pair works.
    Failed,
    /// The connection was closed.
    Closed,
}

/// What a connection reports to its owner.
#[derive(Debug)]
#[non_exhaustive]
pub enum PcEvent {
    /// A local candidate was gathered.
    LocalCandidate(Ice),
    /// Candidate gathering completed.
    GatheringComplete,
    /// The ICE connection state changed.
    IceState(IceState),
}

/// When a connection reached each stage of its setup, as webrtc-rs reports them (for benchmarks
/// and diagnostics; `None` until reached).
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    /// The connection was created.
    pub created: std::time::Instant,
    /// ICE connection state became connected (a pair was selected).
    pub ice_connected: Option<std::time::Instant>,
    /// Connection state became connected: ICE and the DTLS handshake are done.
    pub dtls_connected: Option<std::time::Instant>,
    /// The first channel the remote side opened was announced (its DCEP OPEN arrived, so SCTP is up).
    pub remote_channel: Option<std::time::Instant>,
}

/// Things the remote side starts (data channels, audio tracks) wait here until the app registers a
/// callback, so none is lost between the connection's creation and the app's `on_*` call.
struct Arrivals<T> {
    pending: Vec<T>,
    callback: Option<Arc<dyn Fn(T) + Send + Sync>>,
}

impl<T> Default for Arrivals<T> {
    fn default() -> Self {
        Arrivals { pending: Vec::new(), callback: None }
    }
}

impl<T: Clone> Arrivals<T> {
    /// Hands `item` to the callback, or keeps it for the callback to come.
    fn arrive(this: &Mutex<Self>, item: T) {
        let callback = {
            let mut me = this.lock();
            match me.callback.clone() {
                Some(cb) => cb,
                None => {
                    me.pending.push(item);
                    return;
                }
            }
        };
        callback(item);
    }

    /// Drops the waiting items and the callback: nothing arrives after close, and what they hold
    /// (a channel holds webrtc-rs' connection, which holds our handler, which holds this) would
    /// otherwise keep the whole connection alive in a cycle.
    fn release(this: &Mutex<Self>) {
        let (pending, callback) = {
            let mut me = this.lock();
            (std::mem::take(&mut me.pending), me.callback.take())
        };
        drop((pending, callback)); // outside the lock: their drops may run app code
    }

    /// Sets the callback and delivers what arrived before it.
    fn listen(this: &Mutex<Self>, callback: Arc<dyn Fn(T) + Send + Sync>) {
        let pending = {
            let mut me = this.lock();
            me.callback = Some(callback.clone());
            std::mem::take(&mut me.pending)
        };
        for item in pending {
            callback(item);
        }
    }
}

/// The audio of one connection: what we send and what we receive.
#[derive(Default)]
struct Audio {
    /// Our sources' tracks on this connection (the connection owns them; see `LocalAudioTrack`).
    sending: Vec<(AudioSource, Arc<LocalAudioTrack>)>,
    /// Every remote track so far, for stats.
    received: Vec<RemoteAudioTrack>,
    /// A receive-only audio section was added to our offer (see `offer_to_receive_audio`).
    offers_to_receive: bool,
}

/// One RTCPeerConnection to one remote peer.
pub struct PeerConnection {
    inner: Arc<dyn RtcPeerConnection>,
    remote: Arc<Mutex<Arrivals<Arc<DataChannel>>>>,
    tracks: Arc<Mutex<Arrivals<RemoteAudioTrack>>>,
    audio: Arc<Mutex<Audio>>,
    states: Arc<Mutex<LinkStates>>,
    timeline: Arc<Mutex<Timeline>>,
}

fn rtc_err(e: impl std::error::Error + Send + Sync + 'static) -> P2pError {
    P2pError::Rtc(crate::error::Cause::of(e))
}

struct Handler {
    events: mpsc::UnboundedSender<PcEvent>,
    remote: Arc<Mutex<Arrivals<Arc<DataChannel>>>>,
    tracks: Arc<Mutex<Arrivals<RemoteAudioTrack>>>,
    audio: Arc<Mutex<Audio>>,
    /// Kept for stats: webrtc-rs has no state getters on the async connection.
    states: Arc<Mutex<LinkStates>>,
    timeline: Arc<Mutex<Timeline>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let ice = Ice { candidate: init.candidate, sdp_mid: init.sdp_mid, sdp_mline_index: init.sdp_mline_index };
            let _ = self.events.send(PcEvent::LocalCandidate(ice));
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.events.send(PcEvent::GatheringComplete);
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.states.lock().ice = state;
        let state = match state {
            RTCIceConnectionState::Checking => IceState::Checking,
            RTCIceConnectionState::Connected => IceState::Connected,
            RTCIceConnectionState::Completed => IceState::Completed,
            RTCIceConnectionState::Disconnected => IceState::Disconnected,
            RTCIceConnectionState::Failed => IceState::Failed,
            RTCIceConnectionState::Closed => IceState::Closed,
            _ => IceState::New,
        };
        if state == IceState::Connected {
            self.timeline.lock().ice_connected.get_or_insert_with(std::time::Instant::now);
        }
        let _ = self.events.send(PcEvent::IceState(state));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.states.lock().connection = state;
        if state == RTCPeerConnectionState::Connected {
            self.timeline.lock().dtls_connected.get_or_insert_with(std::time::Instant::now);
        }
    }

    async fn on_data_channel(&self, dc: Arc<dyn RtcDataChannel>) {
        self.timeline.lock().remote_channel.get_or_insert_with(std::time::Instant::now);
        let dc = Arc::new(DataChannel::wrap(dc).await);
        Arrivals::arrive(&self.remote, dc);
    }

    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        if track.kind().await != rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Audio {
            return; // We negotiate Opus only; nothing else can arrive.
        }
        match RemoteAudioTrack::start(track).await {
            Ok(remote) => {
                self.audio.lock().received.push(remote.clone());
                Arrivals::arrive(&self.tracks, remote);
            }
            Err(e) => tracing::warn!(error = %e, "cannot receive a remote audio track"),
        }
    }
}

/// One runtime adapter for all connections (it is stateless; tokio does the work).
static RUNTIME: once_cell::sync::Lazy<Arc<dyn webrtc::runtime::Runtime>> =
    once_cell::sync::Lazy::new(|| Arc::new(super::runtime::TunedRuntime::default()));

/// The DTLS identity of one session's connections: one ECDSA P-256 key and self-signed certificate
/// for all of them, as a browser app may pass one `RTCCertificate` to every connection. Peers
/// authenticate it by the fingerprint in the SDP, never by its name. Made per connection (webrtc-rs'
/// default), its key generation and signature were two of the handshake's P-256 operations on each
/// connection a join opens; a new session gets a new one, so sessions cannot be linked by it.
pub struct DtlsCertificate(webrtc::peer_connection::RTCCertificate);

impl DtlsCertificate {
    /// A new key and certificate (ECDSA P-256, as webrtc-rs makes them per connection).
    pub fn generate() -> Result<DtlsCertificate> {
        let provider = webrtc::peer_connection::crypto::default_provider().map_err(rtc_err)?;
        let params = rcgen::CertificateParams::new(vec!["webrtc-p2p".to_owned()]).map_err(rtc_err)?;
        let certificate = webrtc::peer_connection::RTCCertificate::generate(
            provider.crypto(),
            webrtc::peer_connection::crypto::SignatureScheme::EcdsaP256Sha256,
            params,
        )
        .map_err(rtc_err)?;
        Ok(DtlsCertificate(certificate))
    }
}

/// Builds a connection from the config and the ICE servers the signaling server issued, with the
/// session's DTLS certificate; its events go to `events`.
pub async fn build(
    config: &PeerConfig,
    issued: &[IceServer],
    certificate: &DtlsCertificate,
    events: mpsc::UnboundedSender<PcEvent>,
) -> Result<PeerConnection> {
    let ice_servers = config
        .ice_servers
        .iter()
        .chain(issued)
        .map(|s| RTCIceServer { urls: s.urls.clone(), username: s.username.clone(), credential: s.credential.clone() })
        .collect();
    let remote = Arc::new(Mutex::new(Arrivals::default()));
    let tracks = Arc::new(Mutex::new(Arrivals::default()));
    let audio = Arc::new(Mutex::new(Audio::default()));
    let states = Arc::new(Mutex::new(LinkStates::default()));
    let timeline = Arc::new(Mutex::new(Timeline {
        created: std::time::Instant::now(),
        ice_connected: None,
        dtls_connected: None,
        remote_channel: None,
    }));
    let handler = Arc::new(Handler {
        events,
        remote: remote.clone(),
        tracks: tracks.clone(),
        audio: audio.clone(),
        states: states.clone(),
        timeline: timeline.clone(),
    });
    let (policy, relay_wait) = match config.ice_transport_policy {
        IceTransportPolicy::All => (RTCIceTransportPolicy::All, None),
        // The ICE agent holds relay pairs back 2 s so a direct pair can win; with relay-only ICE
        // there is nothing to wait for, and the wait was most of a relayed join (2.2 s of 2.3).
        IceTransportPolicy::Relay => (RTCIceTransportPolicy::Relay, Some(std::time::Duration::ZERO)),
    };
    let pc = PeerConnectionBuilder::new()
        .with_runtime(RUNTIME.clone())
        .with_setting_engine(SettingEngineBuilder::new().with_relay_acceptance_min_wait(relay_wait).build())
        .with_media_engine(audio::register_codec().map_err(rtc_err)?)
        .with_configuration(
            RTCConfigurationBuilder::new()
                .with_ice_servers(ice_servers)
                .with_ice_transport_policy(policy)
                .with_certificates(vec![certificate.0.clone()])
                .build(),
        )
        .with_handler(handler)
        .with_udp_addrs(config.bind_addresses.clone())
        .build()
        .await
        .map_err(rtc_err)?;
    Ok(PeerConnection { inner: Arc::new(pc), remote, tracks, audio, states, timeline })
}

impl PeerConnection {
    /// Creates a data channel. Channels made before the offer are part of it.
    pub async fn create_data_channel(&self, label: &str, init: &DataChannelInit) -> Result<Arc<DataChannel>> {
        if label.len() > 65_535 {
            return Err(P2pError::InvalidArgument("label is longer than 65535 bytes".into()));
        }
        let dc = self.inner.create_data_channel(label, Some(init.to_rtc()?)).await.map_err(rtc_err)?;
        Ok(Arc::new(DataChannel::wrap(dc).await))
    }

    /// Calls `callback` for every channel the remote side creates, including those that arrived
    /// before this call. Replaces an earlier callback.
    pub fn on_data_channel(&self, callback: impl Fn(Arc<DataChannel>) + Send + Sync + 'static) {
        Arrivals::listen(&self.remote, Arc::new(callback));
    }

    /// Sends `source` on this connection. Call it before the offer or answer is made (in the
    /// pc-create hook), on either side; a source is added at most once per connection.
    pub async fn add_audio_source(&self, source: &AudioSource) -> Result<()> {
        if self.audio.lock().sending.iter().any(|(s, _)| s.same_as(source)) {
            return Err(P2pError::InvalidState("this audio source is already on this connection".into()));
        }
        let track = source.attach(&self.inner).await?;
        self.audio.lock().sending.push((source.clone(), track));
        Ok(())
    }

    /// Calls `callback` for every audio track the remote side sends, including those that arrived
    /// before this call. Replaces an earlier callback.
    pub fn on_audio_track(&self, callback: impl Fn(RemoteAudioTrack) + Send + Sync + 'static) {
        Arrivals::listen(&self.tracks, Arc::new(callback));
    }

    /// The link's summary now: states, selected candidate pair, RTT, traffic per data channel (see
    /// [`PeerStats`]). Local work only (a stats snapshot under the connection's lock); cheap enough
    /// to call every second from a game loop (docs/performance.md has the figures).
    pub async fn stats(&self) -> PeerStats {
        let states = *self.states.lock();
        let mut stats = stats::collect(self.inner.as_ref(), states).await;
        stats.audio = self.audio.lock().received.iter().map(RemoteAudioTrack::stats).collect();
        stats
    }

    /// When this connection reached each setup stage so far.
    pub fn timeline(&self) -> Timeline {
        *self.timeline.lock()
    }

    /// A pointer that stays upgradable while anything (our handler inside webrtc-rs included)
    /// holds this connection's state: tests use it to check a closed connection is freed.
    #[cfg(test)]
    pub(crate) fn probe(&self) -> std::sync::Weak<Mutex<Timeline>> {
        Arc::downgrade(&self.timeline)
    }

    /// The underlying webrtc-rs connection, for this crate's own tests: no webrtc-rs type is part
    /// of the public API (what the app needs gets a method here, as `stats` and data channels did).
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &Arc<dyn RtcPeerConnection> {
        &self.inner
    }

    pub(crate) async fn create_offer(&self) -> Result<()> {
        self.offer_to_receive_audio().await?;
        let offer = self.inner.create_offer(None).await.map_err(rtc_err)?;
        self.inner.set_local_description(offer).await.map_err(rtc_err)
    }

    /// An offer always has an audio section: `sendrecv` when the app added a source, `recvonly`
    /// otherwise, so a member without a microphone still hears the others whoever offers (the
    /// answerer cannot add a section the offer lacks without a renegotiation we don't do). Costs ~300
    /// bytes of SDP; no extra ICE or DTLS (one bundled transport).
    async fn offer_to_receive_audio(&self) -> Result<()> {
        {
            let mut audio = self.audio.lock();
            if !audio.sending.is_empty() || audio.offers_to_receive {
                return Ok(());
            }
            audio.offers_to_receive = true;
        }
        use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
        let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
        self.inner
            .add_transceiver_from_kind(rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Audio, Some(init))
            .await
            .map_err(rtc_err)?;
        Ok(())
    }

    pub(crate) async fn create_answer(&self) -> Result<()> {
        let answer = self.inner.create_answer(None).await.map_err(rtc_err)?;
        self.inner.set_local_description(answer).await.map_err(rtc_err)
    }

    /// The local SDP as it stands (with the candidates gathered so far).
    pub(crate) async fn local_sdp(&self) -> Result<String> {
        self.inner.local_description().await.map(|d| d.sdp).ok_or_else(|| P2pError::Rtc("no local description".into()))
    }

    pub(crate) async fn set_remote(&self, is_offer: bool, sdp: String) -> Result<()> {
        // Not `offer()`/`answer()`: they parse the SDP to validate it, and `set_remote_description`
        // parses it again; a remote's bad SDP fails there just the same.
        let mut desc = RTCSessionDescription::default();
        desc.sdp_type = if is_offer { RTCSdpType::Offer } else { RTCSdpType::Answer };
        desc.sdp = sdp;
        self.inner.set_remote_description(desc).await.map_err(rtc_err)
    }

    pub(crate) async fn add_candidate(&self, ice: Ice) -> Result<()> {
        let init = RTCIceCandidateInit {
            candidate: ice.candidate,
            sdp_mid: ice.sdp_mid,
            sdp_mline_index: ice.sdp_mline_index,
            ..Default::default()
        };
        self.inner.add_ice_candidate(init).await.map_err(rtc_err)
    }

    pub(crate) async fn close(&self) {
        if let Err(e) = self.inner.close().await {
            tracing::debug!(error = %e, "closing a peer connection");
        }
        self.release();
    }

    /// Lets go of everything webrtc-rs' connection reaches through our handler that holds the
    /// connection in turn (channels and tracks waiting for the app, the app's callbacks, the
    /// audio tracks): a cycle that would keep ~110 KiB per connection alive after close.
    fn release(&self) {
        Arrivals::release(&self.remote);
        Arrivals::release(&self.tracks);
        let audio = std::mem::take(&mut *self.audio.lock());
        drop(audio);
    }
}

impl Drop for PeerConnection {
    /// A connection dropped without `close` (nothing of ours does that) must not stay alive in
    /// the cycle `release` breaks either.
    fn drop(&mut self) {
        self.release();
    }
}
