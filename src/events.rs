//! Session events and their fan-out. Every subscriber gets every event, in order, through an unbounded
//! queue: a slow app loses nothing, and the library never blocks on the app.

use parking_lot::Mutex;
use tokio::sync::mpsc;

/// What happened to the session (the C ABI numbers them in `ffi::codes`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Host: the group was created. Client: the host's `done` arrived and the link to the host is up.
    Started(String),
    /// The client did not get connected within the P2P timeout.
    StartFailed(String),
    /// The signaling server could not be reached.
    ConnectFailed(String),
    /// The signaling connection dropped (the reason; raised once per drop, never by our own stop).
    /// P2P links stay up; the client reconnects (see `Reconnected`).
    Disconnected(String),
    /// A peer connection to this peer was created.
    UserConnecting(String),
    /// The peer connection to this peer is connected.
    UserConnected(String),
    /// The peer connection to this peer is closing.
    UserDisconnecting(String),
    /// The signaling connection is back after a `Disconnected` (our new socket id). P2P links were
    /// kept; a host has re-created its group under its name (new id) before this is raised.
    Reconnected(String),
}

impl Event {
    /// The one string argument of the event.
    pub fn arg(&self) -> &str {
        match self {
            Event::Started(s)
            | Event::StartFailed(s)
            | Event::ConnectFailed(s)
            | Event::Disconnected(s)
            | Event::UserConnecting(s)
            | Event::UserConnected(s)
            | Event::UserDisconnecting(s)
            | Event::Reconnected(s) => s,
        }
    }
}

/// Fans each event out to every live subscriber.
#[derive(Default)]
pub struct EventHub {
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
}

impl EventHub {
    /// A new subscriber that gets every event raised from now on.
    pub fn subscribe(&self) -> Events {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().push(tx);
        Events { rx }
    }

    /// Raises `event` to every live subscriber (dropped subscriptions are forgotten).
    pub fn emit(&self, event: Event) {
        tracing::debug!(?event, "event");
        self.subscribers.lock().retain(|tx| tx.send(event.clone()).is_ok());
    }
}

/// A subscription: poll it with [`Events::try_recv`] from a game loop or await [`Events::recv`].
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the client is gone.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}
