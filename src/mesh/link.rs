//! The session's signaling connection, which outlives the socket under it. A dropped socket is
//! reported once (`Disconnected`) and replaced by a new one (`Reconnected`), in the background with
//! capped exponential backoff (`socket.reconnection`, on by default) or when a request needs it. The
//! peers of the session are never touched by any of this: their P2P links do not need signaling
//! once up, so a restarted server must not cost a running group its links.
//!
//! A new socket has a new id and the server has forgotten the old one's group, so a host re-creates
//! its group under its name before `Reconnected` is raised (newcomers can join it again). Members
//! are not re-joined: the restarted server knows no group for them (see docs/protocol.md,
//! "Signaling restarts").

use crate::config::PeerConfig;
use crate::error::{P2pError, Result};
use crate::events::{Event, EventHub};
use crate::protocol::Message;
use crate::signaling::{Inbound, Signaling};
use parking_lot::Mutex;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// First wait before a background reconnect; doubled after every failed attempt.
const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Longest wait between two background attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// A signaling connection that can be replaced.
pub struct Link {
    config: Arc<PeerConfig>,
    events: Arc<EventHub>,
    /// Where every socket of this link delivers what the server pushes (one queue for the session).
    inbound: mpsc::UnboundedSender<Inbound>,
    state: Mutex<State>,
    /// One connect at a time, whether the background loop or a request makes it.
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    /// The live socket; `None` from a reported drop until a reconnect.
    current: Option<Arc<Signaling>>,
    /// The app was told about `current` (Started or Reconnected): only then is its drop reported. A
    /// socket that drops while being set up is replaced without a word, so events alternate.
    announced: bool,
    /// Host: the group to re-create after a reconnect.
    group: Option<String>,
    /// Set by `close`: nothing connects again.
    closed: bool,
}

impl Link {
    /// Connects the first socket (failing as `Signaling::connect` does).
    pub async fn connect(
        config: Arc<PeerConfig>,
        events: Arc<EventHub>,
        inbound: mpsc::UnboundedSender<Inbound>,
    ) -> Result<Arc<Link>> {
        let signaling = Arc::new(Signaling::connect(&config, inbound.clone()).await?);
        let state = Mutex::new(State { current: Some(signaling), announced: true, ..State::default() });
        Ok(Arc::new(Link { config, events, inbound, state, connecting: tokio::sync::Mutex::new(()) }))
    }

    /// The live socket, if any.
    pub fn current(&self) -> Option<Arc<Signaling>> {
        self.state.lock().current.clone()
    }

    /// Our socket id while connected, "" while not.
    pub fn id(&self) -> String {
        self.current().map(|s| s.id().to_string()).unwrap_or_default()
    }

    /// Sends a `message` over the live socket; fails at once while disconnected.
    pub async fn send(&self, message: &Message) -> Result<()> {
        match self.current() {
            Some(signaling) => signaling.send(message).await,
            None => Err(P2pError::ConnectFailed("not connected to the signaling server".into())),
        }
    }

    /// Remembers the group we host, to re-create it after a reconnect.
    pub fn set_group(&self, name: &str) {
        self.state.lock().group = Some(name.to_string());
    }

    /// The live socket, or one reconnect attempt (bounded by the connection timeout) for a request
    /// made while disconnected: it fails fast with `ConnectFailed` when the server is still away.
    pub async fn ensure(self: &Arc<Self>) -> Result<Arc<Signaling>> {
        match self.current() {
            Some(signaling) if !signaling.is_dropped() => return Ok(signaling),
            // Dropped a moment ago; `on_dropped` is about to report it and reconnect.
            Some(_) => return Err(P2pError::ConnectFailed("the signaling connection just dropped".into())),
            None => {}
        }
        self.reconnect_once().await.map_err(|e| match e {
            P2pError::ConnectFailed(why) => {
                let retry = if self.config.socket.reconnection { "; reconnecting in the background" } else { "" };
                P2pError::ConnectFailed(
                    format!("the signaling connection was lost and reconnecting failed: {why}{retry}").into(),
                )
            }
            other => other,
        })
    }

    /// The current socket dropped: raise `Disconnected` once and start reconnecting. Called in the
    /// order the socket reported it, so a drop is never reported after the reconnect that follows it.
    pub fn on_dropped(self: &Arc<Self>, reason: String) {
        {
            let mut state = self.state.lock();
            // Only the live, announced socket's drop counts; a drop of one being set up is handled
            // by `reconnect_once`.
            let ours = state.current.as_ref().is_some_and(|c| c.is_dropped());
            if state.closed || !ours || !state.announced {
                return;
            }
            state.current = None;
            self.events.emit(Event::Disconnected(reason));
        }
        self.keep_reconnecting();
    }

    /// Starts the background loop if the config asks for it. A plain function, so the loop's future
    /// does not contain itself.
    fn keep_reconnecting(self: &Arc<Self>) {
        if self.config.socket.reconnection {
            tokio::spawn(reconnect_in_background(Arc::downgrade(self)));
        }
    }

    /// Connects a new socket unless one is live; a host re-creates its group on it. Raises
    /// `Reconnected` with the new id if that socket is still the live one afterwards.
    async fn reconnect_once(self: &Arc<Self>) -> Result<Arc<Signaling>> {
        let _one_at_a_time = self.connecting.lock().await;
        {
            let state = self.state.lock();
            if state.closed {
                return Err(P2pError::Closed("the session is stopped".into()));
            }
            if let Some(current) = &state.current {
                return Ok(current.clone());
            }
        }
        let signaling = Arc::new(Signaling::connect(&self.config, self.inbound.clone()).await?);
        let group = {
            let mut state = self.state.lock();
            if !state.closed {
                state.current = Some(signaling.clone());
                state.announced = false;
            }
            (!state.closed).then(|| state.group.clone())
        };
        let Some(group) = group else {
            signaling.disconnect().await;
            return Err(P2pError::Closed("the session is stopped".into()));
        };
        if let Some(name) = group {
            // Installed first, so a newcomer's join that follows the ack is answered over it.
            match signaling.create_host(&name).await {
                Ok(()) => {
                    tracing::info!(group = %name, id = signaling.id(), "re-created the group after reconnecting")
                }
                Err(e) => {
                    tracing::warn!(group = %name, error = %e, "cannot re-create the group after reconnecting; it is not listed")
                }
            }
        }
        let mut state = self.state.lock();
        if !state.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &signaling)) {
            return Err(P2pError::Closed("the session is stopped".into()));
        }
        if signaling.is_dropped() {
            // Never announced, so no Disconnected; keep trying as after any drop.
            state.current = None;
            drop(state);
            self.keep_reconnecting();
            return Err(P2pError::ConnectFailed("the connection dropped while it was set up".into()));
        }
        state.announced = true;
        self.events.emit(Event::Reconnected(signaling.id().to_string()));
        drop(state);
        Ok(signaling)
    }

    /// Stops for good: no reconnect starts or completes after this, and the live socket (if any) is
    /// disconnected without a `Disconnected`.
    pub async fn close(&self) {
        let current = {
            let mut state = self.state.lock();
            state.closed = true;
            state.current.take()
        };
        if let Some(signaling) = current {
            signaling.disconnect().await;
        }
    }

    fn is_closed(&self) -> bool {
        self.state.lock().closed
    }
}

/// Retries with capped exponential backoff and jitter until connected or closed. Holds the link
/// only while trying, so a dropped session ends the loop.
async fn reconnect_in_background(link: Weak<Link>) {
    let mut delay = BACKOFF_INITIAL;
    let mut attempt: u32 = 0;
    loop {
        tokio::time::sleep(jittered(delay)).await;
        let Some(link) = link.upgrade() else { return };
        if link.is_closed() || link.current().is_some() {
            return;
        }
        attempt += 1;
        match link.reconnect_once().await {
            Ok(_) => return,
            Err(P2pError::Closed(_)) => return,
            Err(e) => tracing::debug!(attempt, error = %e, "reconnect failed; retrying"),
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// `delay` scaled by a random factor in [0.5, 1.0), so clients dropped together by a server restart
/// do not all come back in the same instant.
fn jittered(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let factor = 0.5 + (random % 1000) as f64 / 2000.0;
    delay.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_and_full_delay() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_millis(1000));
            assert!(d >= Duration::from_millis(500) && d < Duration::from_millis(1000), "{d:?}");
        }
    }
}
