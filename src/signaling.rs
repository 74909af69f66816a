//! A thin seam over `rust_socketio` (async): connect and wait for the namespace confirmation, typed
//! requests with acks, and inbound events as a channel. rust_socketio is unmaintained, so nothing
//! outside this file names it; replacing it touches only this file.

use crate::config::{IceServer, PeerConfig};
use crate::error::{Cause, P2pError, Result};
use crate::protocol::{event, reason, Ack, Host, IceServers, Message, UserDisconnected};
use futures_util::FutureExt;
use parking_lot::Mutex;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event as SioEvent, Payload, TransportType};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long a request waits for its ack.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server pushes to us.
#[derive(Debug)]
#[non_exhaustive]
pub enum Inbound {
    /// A `message` from a peer (`from` set by the server).
    Message(Message),
    /// `user disconnected {id}`: a member of our group left.
    UserDisconnected(String),
    /// TURN servers with short-lived credentials, issued by the server as we enter a group.
    IceServers(Vec<IceServer>),
    /// The connection to the server is gone (server closed it, or the transport failed).
    Dropped(String),
}

/// A connected signaling socket.
pub struct Signaling {
    client: Client,
    id: String,
    /// Set once we disconnect on purpose, so the drop that follows is not reported.
    closing: Arc<AtomicBool>,
    /// Set when the drop is reported (`Inbound::Dropped`).
    dropped: Arc<AtomicBool>,
}

/// The first JSON value of a payload.
fn first_value(payload: Payload) -> Option<Value> {
    match payload {
        Payload::Text(mut values) if !values.is_empty() => Some(values.swap_remove(0)),
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).ok(),
        _ => None,
    }
}

/// An event handler that parses the event's first value as `T` and forwards it to `inbound` as
/// `wrap(T)`; a malformed payload is logged and dropped.
fn forward<T: serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static>(
    inbound: &mpsc::UnboundedSender<Inbound>,
    event: &'static str,
    wrap: impl Fn(T) -> Inbound + Clone + Send + Sync + 'static,
) -> impl for<'a> FnMut(Payload, Client) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync + 'static {
    let inbound = inbound.clone();
    move |payload: Payload, _: Client| {
        let (inbound, wrap) = (inbound.clone(), wrap.clone());
        async move {
            match first_value(payload).map(serde_json::from_value::<T>) {
                Some(Ok(value)) => {
                    let _ = inbound.send(wrap(value));
                }
                other => tracing::warn!(?other, event, "ignoring a malformed event"),
            }
        }
        .boxed()
    }
}

impl Signaling {
    /// Connects, waits until the server confirms the namespace (an emit before that is silently
    /// dropped by rust_socketio), and learns our socket id.
    pub async fn connect(config: &PeerConfig, inbound: mpsc::UnboundedSender<Inbound>) -> Result<Signaling> {
        // The namespace confirmation, with the socket id it carries (empty if the server sent none).
        let (connected_tx, connected_rx) = oneshot::channel::<std::result::Result<String, String>>();
        let connected_tx = Arc::new(Mutex::new(Some(connected_tx)));
        let closing = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));

        let on_message = forward(&inbound, "message", Inbound::Message);
        let on_user_disconnected =
            forward(&inbound, "user disconnected", |ud: UserDisconnected| Inbound::UserDisconnected(ud.id));
        let on_ice_servers = forward(&inbound, "ice servers", |issued: IceServers| {
            let servers = issued.ice_servers.into_iter();
            Inbound::IceServers(
                servers.map(|s| IceServer { urls: s.urls, username: s.username, credential: s.credential }).collect(),
            )
        });
        // A drop shows up as a Socket.IO disconnect packet (server closed us) or as a transport
        // error (server gone). Report the first one only, and none after our own disconnect.
        let report_drop = {
            let inbound = inbound.clone();
            let closing = closing.clone();
            let dropped = dropped.clone();
            move |reason: String| {
                if !closing.load(Ordering::SeqCst) && !dropped.swap(true, Ordering::SeqCst) {
                    let _ = inbound.send(Inbound::Dropped(reason));
                }
            }
        };
        // A Socket.IO DISCONNECT from the server arrives with no payload; the end of the transport
        // (a server shutting down closes the engine.io session, or the transport died) arrives as
        // "transport close" (patches/rust_socketio-0.6.0/0002).
        let on_close = {
            let report_drop = report_drop.clone();
            move |payload: Payload, _: Client| {
                let reason = match first_value(payload) {
                    Some(Value::String(s)) if !s.is_empty() => s,
                    _ => "io server disconnect".to_string(),
                };
                report_drop(reason);
                async {}.boxed()
            }
        };
        let on_error = {
            let report_drop = report_drop.clone();
            let connected_tx = connected_tx.clone();
            move |payload: Payload, _: Client| {
                let text = match &payload {
                    Payload::Text(v) => v
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => String::new(),
                };
                // Errors before the namespace is confirmed are connect failures, handled by
                // connect(); a refusal (CONNECT_ERROR, e.g. a missing or bad token) ends the wait
                // at once with the server's reason.
                let pending = connected_tx.lock().take();
                if let Some(tx) = pending {
                    if let Some(reason) = connect_error_reason(&text) {
                        let _ = tx.send(Err(reason));
                    } else {
                        *connected_tx.lock() = Some(tx);
                        tracing::debug!(%text, "socket.io error while connecting");
                    }
                } else if is_transport_error(&text) {
                    report_drop(format!("transport error: {text}"));
                } else {
                    tracing::debug!(%text, "socket.io error");
                }
                async {}.boxed()
            }
        };
        let on_connect = {
            let connected_tx = connected_tx.clone();
            move |payload: Payload, _: Client| {
                if let Some(tx) = connected_tx.lock().take() {
                    let _ = tx.send(Ok(connect_sid(payload)));
                }
                async {}.boxed()
            }
        };

        // Straight to websocket: the default (Any) starts with HTTP long-polling and builds a
        // reqwest client that loads the CA bundle, ~43 ms before the first event can go out.
        let mut builder = ClientBuilder::new(config.signaling_url.trim());
        if let Some(auth) = &config.auth {
            // The Socket.IO handshake auth payload, e.g. {"token": "<jwt>"} (server --jwt-secret).
            builder = builder.auth(auth.clone());
        }
        let builder = builder
            // rustls inside the plugin (no system OpenSSL), trusting the app's extra CAs too.
            .tls_config(crate::tls::client_config(config.socket.ca_certificates_pem.as_deref())?)
            .transport_type(TransportType::Websocket)
            // Reconnecting is the session's job (`mesh::link`): a new socket has a new id and, for a
            // host, a group to re-create, which rust_socketio's own reconnect knows nothing about.
            .reconnect(false)
            .reconnect_on_disconnect(false)
            .on(SioEvent::Connect, on_connect)
            .on(event::MESSAGE, on_message)
            .on(event::USER_DISCONNECTED, on_user_disconnected)
            .on(event::ICE_SERVERS, on_ice_servers)
            .on(SioEvent::Close, on_close)
            .on(SioEvent::Error, on_error);

        let deadline = tokio::time::Instant::now() + config.connection_timeout();
        let client = match tokio::time::timeout_at(deadline, builder.connect()).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(P2pError::ConnectFailed(Cause::of(e))),
            Err(_) => return Err(P2pError::ConnectFailed("connection timed out".into())),
        };
        let id = match tokio::time::timeout_at(deadline, connected_rx).await {
            Ok(Ok(Ok(id))) => id,
            Ok(Ok(Err(reason))) => {
                closing.store(true, Ordering::SeqCst);
                let _ = client.disconnect().await;
                return Err(P2pError::ConnectFailed(format!("the server refused the connection: {reason}").into()));
            }
            _ => {
                closing.store(true, Ordering::SeqCst);
                let _ = client.disconnect().await;
                return Err(P2pError::ConnectFailed("the server did not confirm the connection in time".into()));
            }
        };
        // Every Socket.IO v4 server (ours, Extreal's) names the socket in the CONNECT reply, so no
        // request is needed (Extreal's server has no `whoami`; waiting for it cost 10 s).
        if id.is_empty() {
            tracing::warn!("the server's CONNECT reply carried no socket id");
        }
        Ok(Signaling { client, id, closing, dropped })
    }

    /// Whether this socket reported its drop (it never comes back; a new one replaces it).
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Our socket id as the server and the other peers know it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Emits `event` with an ack and waits for it.
    async fn request(&self, name: &str, payload: Payload) -> Result<Ack> {
        let (tx, rx) = oneshot::channel::<Option<Value>>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let callback = move |payload: Payload, _: Client| {
            if let Some(tx) = tx.lock().take() {
                // rust_socketio hands an ack's argument list over as one JSON array.
                let value = match first_value(payload) {
                    Some(Value::Array(mut args)) if !args.is_empty() => Some(args.swap_remove(0)),
                    other => other,
                };
                let _ = tx.send(value);
            }
            async {}.boxed()
        };
        self.client
            .emit_with_ack(name, payload, ACK_TIMEOUT, callback)
            .await
            .map_err(|e| P2pError::Closed(format!("cannot send {name:?}: {e}")))?;
        let value = tokio::time::timeout(ACK_TIMEOUT, rx)
            .await
            .map_err(|_| P2pError::Timeout(format!("no answer to {name:?}")))?
            .map_err(|_| P2pError::Closed(format!("no answer to {name:?}")))?
            .ok_or_else(|| P2pError::Rejected { status: 0, message: format!("empty answer to {name:?}") })?;
        tracing::trace!(%value, "ack");
        serde_json::from_value::<Ack>(value.clone()).map_err(|e| P2pError::Rejected {
            status: 0,
            message: format!("malformed answer to {name:?}: {e}: {value}"),
        })
    }

    /// `create host`: 200 makes us the host of a new group. Servers refuse with 409 whatever the
    /// cause (Extreal's clients read any other status as success); the name is taken when the
    /// `reason` says so or, from Extreal's server, which sends none, always.
    pub async fn create_host(&self, name: &str) -> Result<()> {
        let ack = self.request(event::CREATE_HOST, Payload::Text(vec![Value::String(name.to_string())])).await?;
        match ack.status {
            200 => Ok(()),
            409 if ack.reason.as_deref().is_none_or(|r| r == reason::NAME_TAKEN) => {
                Err(P2pError::HostExists(name.to_string()))
            }
            status => Err(P2pError::Rejected { status, message: ack.message.unwrap_or_default() }),
        }
    }

    /// `list hosts`.
    pub async fn list_hosts(&self) -> Result<Vec<Host>> {
        let ack = self.request(event::LIST_HOSTS, Payload::Text(vec![])).await?;
        match ack.status {
            200 => Ok(ack.hosts.unwrap_or_default()),
            status => Err(P2pError::Rejected { status, message: ack.message.unwrap_or_default() }),
        }
    }

    /// Sends a `message` (no ack, like Extreal clients: order is what matters, and the server
    /// reports a rejection as an `error` event).
    pub async fn send(&self, message: &Message) -> Result<()> {
        let value = serde_json::to_value(message).map_err(|e| P2pError::InvalidArgument(e.to_string()))?;
        self.client
            .emit(event::MESSAGE, Payload::Text(vec![value]))
            .await
            .map_err(|e| P2pError::Closed(format!("cannot send message: {e}")))
    }

    /// Disconnects on purpose; no `Dropped` is reported for it.
    pub async fn disconnect(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.disconnect()).await;
    }
}

/// The socket id in a Socket.IO v4 CONNECT payload (`{"sid": "..."}`), or "".
fn connect_sid(payload: Payload) -> String {
    match first_value(payload) {
        Some(Value::Object(mut o)) => match o.remove("sid") {
            Some(Value::String(sid)) => sid,
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// The server's reason in a refused connect (rust_socketio reports a CONNECT_ERROR packet as the
/// error text `Received an ConnectError frame: {"message":"…"}`).
fn connect_error_reason(text: &str) -> Option<String> {
    let (_, data) = text.split_once("ConnectError frame: ")?;
    let reason = serde_json::from_str::<Value>(data).ok().and_then(|v| v["message"].as_str().map(str::to_string));
    Some(reason.unwrap_or_else(|| data.trim().to_string()))
}

/// rust_socketio reports both transport failures and per-packet parse problems as errors; only the
/// former mean the connection is gone.
fn is_transport_error(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "engineio",
        "connection",
        "transport",
        "websocket",
        "reset",
        "closed",
        "incomplete",
        "eof",
        "heartbeat",
        "ping",
        "http",
        "refused",
        "broken pipe",
    ]
    .iter()
    .any(|k| t.contains(k))
}
