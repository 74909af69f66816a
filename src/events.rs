//! Session events and their fan-out. Every subscriber gets every event, in order, through an unbounded
//! queue: a slow app loses nothing, and the library never blocks on the app.

use parking_lot::Mutex;
use tokio::sync::mpsc;

/// What happened to the session. Numbers match the C ABI's `P2P_EVENT_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The C ABI number of this event.
    pub fn code(&self) -> i32 {
        match self {
            Event::Started(_) => 1,
            Event::StartFailed(_) => 2,
            Event::ConnectFailed(_) => 3,
            Event::Disconnected(_) => 4,
            Event::UserConnecting(_) => 5,
            Event::UserConnected(_) => 6,
            Event::UserDisconnecting(_) => 7,
            Event::Reconnected(_) => 8,
        }
    }

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
    pub fn subscribe(&self) -> Events {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().push(tx);
        Events { rx }
    }

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
