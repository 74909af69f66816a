//! `PeerClient`: the app's one object. It owns the configuration, the hooks, the event fan-out and at
//! most one session (signaling connection + group), and turns the app's calls into session work.

use crate::config::PeerConfig;
use crate::error::{P2pError, Result};
use crate::events::{Event, EventHub, Events};
use crate::mesh::hooks::{PcCloseHook, PcCreateHook};
use crate::mesh::{Hooks, Session};
use crate::protocol::Host;
use crate::rtc::{PeerConnection, PeerStats};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// Longest host name (after trimming), as the server enforces it.
pub const MAX_HOST_NAME_CHARS: usize = 64;
/// Longest peer id accepted from the app; socket ids are ~20 characters.
pub const MAX_PEER_ID_BYTES: usize = 256;

/// The role of this client in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    None = 0,
    Host = 1,
    Client = 2,
}

#[derive(Debug)]
struct Info {
    role: PeerRole,
    host_id: Option<String>,
}

/// A member of a P2P group: host one, or join one.
pub struct PeerClient {
    config: Arc<PeerConfig>,
    hooks: Arc<Hooks>,
    events: Arc<EventHub>,
    info: Mutex<Info>,
    /// The current session; a tokio mutex because connecting is awaited under it, so two calls
    /// racing to connect share one connection.
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// The open peer connections by peer id, for stats (kept by two hooks of our own).
    links: Arc<Mutex<BTreeMap<String, Arc<PeerConnection>>>>,
}

/// Checks a host name the way the server does, so the app gets the error without a round trip.
pub fn validate_host_name(name: &str) -> Result<&str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(P2pError::InvalidArgument("host name is empty".into()));
    }
    if trimmed.chars().count() > MAX_HOST_NAME_CHARS {
        return Err(P2pError::InvalidArgument(format!("host name is longer than {MAX_HOST_NAME_CHARS} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(P2pError::InvalidArgument("host name contains control characters".into()));
    }
    Ok(trimmed)
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
        Ok(PeerClient {
            config: Arc::new(config),
            hooks,
            events: Arc::new(EventHub::default()),
            info: Mutex::new(Info { role: PeerRole::None, host_id: None }),
            session: tokio::sync::Mutex::new(None),
            links,
        })
    }

    /// The open connection to `peer_id`, if any.
    pub fn peer_connection(&self, peer_id: &str) -> Option<Arc<PeerConnection>> {
        self.links.lock().get(peer_id).cloned()
    }

    /// The ids of the peers this client holds a connection to, sorted.
    pub fn peer_ids(&self) -> Vec<String> {
        self.links.lock().keys().cloned().collect()
    }

    /// A summary of every link, sorted by peer id (see [`PeerStats`]). Local work only: one stats
    /// snapshot per connection, no network round trip; cheap enough to call every second.
    pub async fn stats(&self) -> Vec<PeerStats> {
        let links: Vec<(String, Arc<PeerConnection>)> = self.links.lock().iter().map(|(id, pc)| (id.clone(), pc.clone())).collect();
        let mut all = Vec::with_capacity(links.len());
        for (id, pc) in links {
            let mut stats = pc.stats().await;
            stats.peer_id = id;
            all.push(stats);
        }
        all
    }

    pub fn config(&self) -> &PeerConfig {
        &self.config
    }

    /// A new subscription to this client's events.
    pub fn subscribe(&self) -> Events {
        self.events.subscribe()
    }

    /// Adds a hook run when a peer connection is created, before the offer or answer, so the app can
    /// create data channels, register `on_data_channel` or add tracks. Awaited before negotiating.
    pub fn add_pc_create_hook<F, Fut>(&self, hook: F)
    where
        F: Fn(String, bool, Arc<PeerConnection>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hook: PcCreateHook = Arc::new(move |id, is_offer, pc| Box::pin(hook(id, is_offer, pc)));
        self.hooks.add_create(hook);
    }

    /// Adds a hook run once when a peer connection closes.
    pub fn add_pc_close_hook(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        let hook: PcCloseHook = Arc::new(hook);
        self.hooks.add_close(hook);
    }

    /// The live session, connecting first if there is none (or the old one dropped).
    async fn session(&self) -> Result<Arc<Session>> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref() {
            if !session.is_dropped() {
                return Ok(session.clone());
            }
        }
        if let Some(old) = slot.take() {
            old.stop().await;
        }
        match Session::connect(self.config.clone(), self.hooks.clone(), self.events.clone()).await {
            Ok(session) => {
                let session = Arc::new(session);
                *slot = Some(session.clone());
                Ok(session)
            }
            Err(e) => {
                let reason = match &e {
                    P2pError::ConnectFailed(reason) => reason.clone(),
                    other => other.to_string(),
                };
                self.events.emit(Event::ConnectFailed(reason));
                Err(e)
            }
        }
    }

    fn claim_role(&self, role: PeerRole, host_id: Option<&str>) -> Result<()> {
        let mut info = self.info.lock();
        if info.role != PeerRole::None {
            return Err(P2pError::InvalidState(format!("already running as {:?}; stop first", info.role)));
        }
        info.role = role;
        info.host_id = host_id.map(str::to_string);
        Ok(())
    }

    fn release_role(&self) {
        let mut info = self.info.lock();
        info.role = PeerRole::None;
        info.host_id = None;
    }

    /// Creates a group named `name` and becomes its host. Raises Started on success;
    /// `P2pError::HostExists` when the name is taken.
    pub async fn start_host(&self, name: &str) -> Result<()> {
        let name = validate_host_name(name)?;
        self.claim_role(PeerRole::Host, None)?;
        let result = async {
            let session = self.session().await?;
            session.signaling().create_host(name).await?;
            session.become_host();
            self.info.lock().host_id = Some(session.signaling().id().to_string());
            self.events.emit(Event::Started(session.signaling().id().to_string()));
            Ok(())
        }
        .await;
        if result.is_err() {
            self.release_role();
        }
        result
    }

    /// The groups on the server.
    pub async fn list_hosts(&self) -> Result<Vec<Host>> {
        self.session().await?.signaling().list_hosts().await
    }

    /// Joins the group of `host_id` and returns once Started (the host's `done` arrived and the link
    /// to the host is up). After the P2P timeout it raises StartFailed, stops, and returns
    /// `P2pError::StartFailed`.
    pub async fn start_client(&self, host_id: &str) -> Result<()> {
        if host_id.is_empty() || host_id.len() > MAX_PEER_ID_BYTES || host_id.chars().any(char::is_control) {
            return Err(P2pError::InvalidArgument("host id must be 1 to 256 bytes without control characters".into()));
        }
        self.claim_role(PeerRole::Client, Some(host_id))?;
        let session = match self.session().await {
            Ok(session) => session,
            Err(e) => {
                self.release_role();
                return Err(e);
            }
        };
        let started = session.join(host_id);
        match tokio::time::timeout(self.config.p2p_timeout(), started).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(P2pError::Closed("stopped before the client started".into())),
            Err(_) => {
                let reason = format!("not connected to host {host_id} within {} ms", self.config.p2p_timeout_ms);
                self.events.emit(Event::StartFailed(reason.clone()));
                self.stop().await;
                Err(P2pError::StartFailed(reason))
            }
        }
    }

    /// Says bye to every peer, closes every peer connection (close hooks run), and disconnects from
    /// the signaling server. Raises no Disconnected. Safe to call at any time, any number of times.
    pub async fn stop(&self) {
        let session = self.session.lock().await.take();
        if let Some(session) = session {
            session.stop().await;
        }
        self.release_role();
    }

    /// True while hosting or joined (from a successful start until stop).
    pub fn is_running(&self) -> bool {
        self.info.lock().role != PeerRole::None
    }

    pub fn role(&self) -> PeerRole {
        self.info.lock().role
    }

    /// The host's socket id (our own when hosting).
    pub fn host_id(&self) -> Option<String> {
        self.info.lock().host_id.clone()
    }

    /// Our socket id while connected to the signaling server.
    pub fn client_id(&self) -> Option<String> {
        let slot = self.session.try_lock().ok()?;
        slot.as_ref().map(|s| s.signaling().id().to_string()).filter(|id| !id.is_empty())
    }
}
