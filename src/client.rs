//! `PeerClient`: the app's one object. It owns the configuration, the hooks, the event fan-out and at
//! most one session (signaling connection + group), and turns the app's calls into session work.

use crate::config::{IceTransportPolicy, PeerConfig};
use crate::error::{P2pError, Result};
use crate::events::{Event, EventHub, Events};
use crate::mesh::hooks::{PcCloseHook, PcCreateHook};
use crate::mesh::{Hooks, Session};
use crate::protocol::Host;
use crate::rtc::{PeerConnection, PeerStats};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Longest host name (after trimming), as the server enforces it.
pub use crate::protocol::MAX_HOST_NAME_CHARS;
/// Longest peer id accepted from the app; socket ids are ~20 characters.
pub const MAX_PEER_ID_BYTES: usize = 256;

/// The role of this client in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerRole {
    /// Neither hosting nor joined.
    None,
    /// Hosting a group.
    Host,
    /// Joined a group.
    Client,
}

#[derive(Debug)]
struct Info {
    role: PeerRole,
    host_id: Option<String>,
    /// Counts role claims, so a failed start releases only the role it claimed itself.
    claims: u64,
}

/// A member of a P2P group: host one, or join one. A handle over shared state, so its calls return
/// futures that own what they need (`'static`): a call is made when the method is called, which is
/// what lets a later `stop` cancel it (see `stop`).
pub struct PeerClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<PeerConfig>,
    hooks: Arc<Hooks>,
    events: Arc<EventHub>,
    info: Mutex<Info>,
    /// The current session. Held only for a moment: `stop` must never wait for a connect.
    session: Mutex<Option<Arc<Session>>>,
    /// Held while connecting, so two calls racing to connect share one connection.
    connecting: tokio::sync::Mutex<()>,
    /// Counts `stop` calls. A start or list remembers the count when it is called; if a stop comes
    /// before it finishes, it undoes what it did (a session it connected, a group it created)
    /// instead of starting anyway.
    stops: AtomicU64,
    /// Set by `close`: the client is being destroyed and starts nothing again.
    closed: AtomicBool,
    /// The open peer connections by peer id, for stats (kept by two hooks of our own).
    links: Arc<Mutex<BTreeMap<String, Arc<PeerConnection>>>>,
}

/// Checks a host name the way the server does (one rule set, `p2p_protocol::host_name`), so the
/// app gets the error without a round trip.
pub fn validate_host_name(name: &str) -> Result<&str> {
    crate::protocol::host_name(name).map_err(|why| P2pError::InvalidArgument(why.to_string()))
}

impl PeerClient {
    /// A client with a validated config. Nothing connects until the first call that needs it.
    pub fn new(config: PeerConfig) -> Result<PeerClient> {
        config.validate()?;
        let hooks = Arc::new(Hooks::default());
        let links: Arc<Mutex<BTreeMap<String, Arc<PeerConnection>>>> = Default::default();
        // Our own hooks go first, so a connection is listed before the app's hooks see it.
        let on_create = links.clone();
        let list: PcCreateHook = Arc::new(move |id, _, pc| {
            on_create.lock().insert(id, pc);
            Box::pin(async {})
        });
        hooks.add_create(list);
        let on_close = links.clone();
        let unlist: PcCloseHook = Arc::new(move |id: &str| {
            on_close.lock().remove(id);
        });
        hooks.add_close(unlist);
        let inner = Inner {
            config: Arc::new(config),
            hooks,
            events: Arc::new(EventHub::default()),
            info: Mutex::new(Info { role: PeerRole::None, host_id: None, claims: 0 }),
            session: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            stops: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            links,
        };
        Ok(PeerClient { inner: Arc::new(inner) })
    }

    /// The open connection to `peer_id`, if any.
    pub fn peer_connection(&self, peer_id: &str) -> Option<Arc<PeerConnection>> {
        self.inner.links.lock().get(peer_id).cloned()
    }

    /// The ids of the peers this client holds a connection to, sorted.
    pub fn peer_ids(&self) -> Vec<String> {
        self.inner.links.lock().keys().cloned().collect()
    }

    /// A summary of every link, sorted by peer id (see [`PeerStats`]). Local work only: one stats
    /// snapshot per connection, no network round trip; cheap enough to call every second.
    pub async fn stats(&self) -> Vec<PeerStats> {
        let links: Vec<(String, Arc<PeerConnection>)> =
            self.inner.links.lock().iter().map(|(id, pc)| (id.clone(), pc.clone())).collect();
        let mut all = Vec::with_capacity(links.len());
        for (id, pc) in links {
            let mut stats = pc.stats().await;
            stats.peer_id = id;
            all.push(stats);
        }
        all
    }

    /// The validated configuration this client was made with.
    pub fn config(&self) -> &PeerConfig {
        &self.inner.config
    }

    /// A new subscription to this client's events.
    pub fn subscribe(&self) -> Events {
        self.inner.events.subscribe()
    }

    /// Adds a hook run when a peer connection is created, before the offer or answer, so the app can
    /// create data channels, register `on_data_channel` or add tracks. Awaited before negotiating.
    pub fn add_pc_create_hook<F, Fut>(&self, hook: F)
    where
        F: Fn(String, bool, Arc<PeerConnection>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hook: PcCreateHook = Arc::new(move |id, is_offer, pc| Box::pin(hook(id, is_offer, pc)));
        self.inner.hooks.add_create(hook);
    }

    /// Adds a hook run once when a peer connection closes.
    pub fn add_pc_close_hook(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        let hook: PcCloseHook = Arc::new(hook);
        self.inner.hooks.add_close(hook);
    }

    /// Creates a group named `name` and becomes its host. Raises Started on success;
    /// `P2pError::HostExists` when the name is taken. A `stop` after this call (even before the
    /// returned future first runs) cancels it: no group is left behind and no Started is raised.
    pub fn start_host(&self, name: &str) -> impl Future<Output = Result<()>> + Send + 'static {
        let (inner, epoch, name) = (self.inner.clone(), self.inner.epoch(), name.to_string());
        async move { inner.start_host(epoch, &name).await }
    }

    /// The groups on the server (at most the server's reply cap, oldest first).
    ///
    /// Every request (this, `start_host`, `start_client`) made while the signaling connection is
    /// down makes one reconnect attempt, bounded by `socket.connectionTimeoutMs`, and fails with
    /// `P2pError::ConnectFailed` if the server is still away; it never closes a P2P link.
    pub fn list_hosts(&self) -> impl Future<Output = Result<Vec<Host>>> + Send + 'static {
        let (inner, epoch) = (self.inner.clone(), self.inner.epoch());
        async move { inner.session(epoch).await?.signaling().await?.list_hosts().await }
    }

    /// Joins the group of `host_id` and returns once Started (the host's `done` arrived and the link
    /// to the host is up). After the P2P timeout it raises StartFailed, stops, and returns
    /// `P2pError::StartFailed`. A `stop` after this call cancels it.
    pub fn start_client(&self, host_id: &str) -> impl Future<Output = Result<()>> + Send + 'static {
        let (inner, epoch, host_id) = (self.inner.clone(), self.inner.epoch(), host_id.to_string());
        async move { inner.start_client(epoch, &host_id).await }
    }

    /// Says bye to every peer, closes every peer connection (close hooks run), and disconnects from
    /// the signaling server. Raises no Disconnected. Safe to call at any time, any number of times;
    /// never waits for a connect in progress: a start or list called before it undoes its own work
    /// (a session it connected, a group it created) and fails with `P2pError::Closed`.
    pub async fn stop(&self) {
        self.inner.stop().await
    }

    /// Stops for good: every later start or list fails with `InvalidState` (the C ABI's destroy,
    /// where requests in flight may still hold the client).
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.stop().await
    }

    /// True while hosting or joined (from a successful start until stop).
    pub fn is_running(&self) -> bool {
        self.inner.info.lock().role != PeerRole::None
    }

    /// Our role in the group: none until a start succeeds, none again after stop.
    pub fn role(&self) -> PeerRole {
        self.inner.info.lock().role
    }

    /// The host's socket id. When hosting: our own, the id of the group on the server (a new one
    /// after a reconnect). When joined: the id the host had when we joined, which is how our link to
    /// it is known even after a signaling reconnect.
    pub fn host_id(&self) -> Option<String> {
        let info = self.inner.info.lock();
        if info.role == PeerRole::Host && info.host_id.is_some() {
            if let Some(id) = self.client_id() {
                return Some(id);
            }
        }
        info.host_id.clone()
    }

    /// Our socket id while connected to the signaling server (a new one after each reconnect).
    pub fn client_id(&self) -> Option<String> {
        let slot = self.inner.session.lock();
        slot.as_ref().and_then(|s| s.id())
    }
}

impl Inner {
    /// The current stop count (see `stops`).
    fn epoch(&self) -> u64 {
        self.stops.load(Ordering::SeqCst)
    }

    /// Fails when `stop` (or `close`) was called after the call that captured `epoch`.
    fn still_wanted(&self, epoch: u64) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(P2pError::InvalidState("the client is destroyed".into()));
        }
        if self.epoch() != epoch {
            return Err(P2pError::Closed("stopped before it finished".into()));
        }
        Ok(())
    }

    /// The session, connecting first if there is none. A session whose signaling dropped is kept
    /// (its peers' links live on); its `signaling()` reconnects. A session connected after a stop
    /// that followed the call is disconnected again, not kept.
    async fn session(&self, epoch: u64) -> Result<Arc<Session>> {
        self.still_wanted(epoch)?;
        if let Some(session) = self.current_session() {
            return Ok(session);
        }
        let _connecting = self.connecting.lock().await;
        self.still_wanted(epoch)?;
        if let Some(session) = self.current_session() {
            return Ok(session);
        }
        match Session::connect(self.config.clone(), self.hooks.clone(), self.events.clone()).await {
            Ok(session) => {
                let session = Arc::new(session);
                if let Err(e) = self.still_wanted(epoch) {
                    session.stop().await;
                    return Err(e);
                }
                *self.session.lock() = Some(session.clone());
                Ok(session)
            }
            Err(e) => {
                let reason = match &e {
                    P2pError::ConnectFailed(reason) => reason.to_string(),
                    other => other.to_string(),
                };
                self.events.emit(Event::ConnectFailed(reason));
                Err(e)
            }
        }
    }

    fn current_session(&self) -> Option<Arc<Session>> {
        self.session.lock().clone()
    }

    /// Takes the role for a start; returns the claim to release if the start fails.
    fn claim_role(&self, role: PeerRole, host_id: Option<&str>) -> Result<u64> {
        let mut info = self.info.lock();
        if info.role != PeerRole::None {
            return Err(P2pError::InvalidState(format!("already running as {:?}; stop first", info.role)));
        }
        info.role = role;
        info.host_id = host_id.map(str::to_string);
        info.claims += 1;
        Ok(info.claims)
    }

    /// Gives the role back after a failed start, unless a stop and a new start took it since.
    fn release_claim(&self, claim: u64) {
        let mut info = self.info.lock();
        if info.claims == claim {
            info.role = PeerRole::None;
            info.host_id = None;
        }
    }

    fn release_role(&self) {
        let mut info = self.info.lock();
        info.role = PeerRole::None;
        info.host_id = None;
    }

    async fn start_host(&self, epoch: u64, name: &str) -> Result<()> {
        let name = validate_host_name(name)?;
        let claim = self.claim_role(PeerRole::Host, None)?;
        let result = async {
            let session = self.session(epoch).await?;
            let signaling = session.signaling().await?;
            signaling.create_host(name).await?;
            if let Err(e) = self.still_wanted(epoch) {
                session.stop().await;
                return Err(e);
            }
            session.become_host(name);
            self.info.lock().host_id = Some(signaling.id().to_string());
            self.events.emit(Event::Started(signaling.id().to_string()));
            Ok(())
        }
        .await;
        if result.is_err() {
            self.release_claim(claim);
        }
        result
    }

    async fn start_client(&self, epoch: u64, host_id: &str) -> Result<()> {
        if host_id.is_empty() || host_id.len() > MAX_PEER_ID_BYTES || host_id.chars().any(char::is_control) {
            return Err(P2pError::InvalidArgument("host id must be 1 to 256 bytes without control characters".into()));
        }
        let claim = self.claim_role(PeerRole::Client, Some(host_id))?;
        let connected = async {
            let session = self.session(epoch).await?;
            session.signaling().await?;
            Ok::<_, P2pError>(session)
        };
        let session = match connected.await {
            Ok(session) => session,
            Err(e) => {
                self.release_claim(claim);
                return Err(e);
            }
        };
        let started = session.join(host_id);
        match tokio::time::timeout(self.config.p2p_timeout(), started).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(P2pError::Closed("stopped before the client started".into())),
            Err(_) => {
                let mut reason = format!("not connected to host {host_id} within {} ms", self.config.p2p_timeout_ms);
                if self.config.ice_transport_policy == IceTransportPolicy::Relay {
                    reason += " (iceTransportPolicy is relay: check that the TURN servers are reachable over UDP \
                               and accept the credentials)";
                }
                self.events.emit(Event::StartFailed(reason.clone()));
                self.stop().await;
                Err(P2pError::StartFailed(reason))
            }
        }
    }

    async fn stop(&self) {
        self.stops.fetch_add(1, Ordering::SeqCst);
        let session = self.session.lock().take();
        if let Some(session) = session {
            session.stop().await;
        }
        self.release_role();
    }
}
