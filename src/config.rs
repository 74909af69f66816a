//! `PeerConfig`: everything a client needs to know before it starts, and its JSON form (what the C ABI
//! and the C# wrapper hand over). The JSON is strict: unknown keys and wrong types are errors, so a
//! typo in a game's config file fails loudly instead of silently using a default.

use crate::error::{Cause, P2pError, Result};
use serde::Deserialize;
use std::time::Duration;

/// One STUN or TURN server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs of one server.
    pub urls: Vec<String>,
    /// TURN user name (empty for STUN).
    #[serde(default)]
    pub username: String,
    /// TURN password (empty for STUN).
    #[serde(default)]
    pub credential: String,
}

/// Which ICE candidates a peer connection may use (the browser's `iceTransportPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IceTransportPolicy {
    /// Host, server-reflexive and relay candidates.
    #[default]
    All,
    /// Relay (TURN) candidates only: hides the peers' addresses from each other, and proves a
    /// TURN setup works.
    Relay,
}

/// Options of the Socket.IO connection to the signaling server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct SocketOptions {
    /// How long connecting (transport + namespace confirmation) may take.
    pub connection_timeout_ms: u64,
    /// Reconnect in the background after a drop (100 ms doubling to 5 s, with jitter, until
    /// connected or stopped); `Disconnected` then `Reconnected` tell the app. Off: the next request
    /// reconnects instead. Either way the P2P links are kept. On by default, as in the seed
    /// (SocketIOClient's default).
    pub reconnection: bool,
    /// PEM text of CA certificates to trust for an `https://` signaling URL, besides the built-in
    /// Mozilla roots (`src/tls.rs` says why those): a private CA, or a test CA.
    pub ca_certificates_pem: Option<String>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions { connection_timeout_ms: 5_000, reconnection: true, ca_certificates_pem: None }
    }
}

/// Configuration of a [`crate::PeerClient`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeerConfig {
    /// `http(s)://host:port` of the signaling server.
    pub signaling_url: String,
    /// The Socket.IO connection's options.
    #[serde(default)]
    pub socket: SocketOptions,
    /// STUN/TURN servers; none is needed on one host or one LAN.
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// `"all"` (the default) or `"relay"`. TURN servers come from `iceServers` and from the
    /// signaling server when it issues credentials (`ice servers` event, docs/protocol.md).
    #[serde(default)]
    pub ice_transport_policy: IceTransportPolicy,
    /// How long a client may take from `start_client` to Started before StartFailed.
    #[serde(default = "default_p2p_timeout_ms")]
    pub p2p_timeout_ms: u64,
    /// How long a vanilla-ICE peer waits for candidate gathering before sending its SDP anyway.
    #[serde(default = "default_vanilla_timeout_ms")]
    pub vanilla_ice_timeout_ms: u64,
    /// Offer trickle ICE to peers that support it (see docs/protocol.md).
    #[serde(default = "default_true")]
    pub trickle_ice: bool,
    /// Local UDP addresses for ICE host candidates. `0.0.0.0:0` uses every non-loopback interface;
    /// tests on a loopback-only host use `127.0.0.1:0`.
    #[serde(default = "default_bind_addresses")]
    pub bind_addresses: Vec<String>,
    /// Most peer connections this client holds at once. A remote that asks for more (a forged
    /// `call me`, a flood of joins) is refused; the default matches the server's largest group.
    #[serde(default = "default_max_peers")]
    pub max_peers: usize,
    /// The Socket.IO handshake auth payload, e.g. `{"token": "<jwt>"}` for a server started with
    /// `--jwt-secret`. A JSON object; absent by default (Extreal's server takes none).
    #[serde(default)]
    pub auth: Option<serde_json::Value>,
}

fn default_p2p_timeout_ms() -> u64 {
    15_000
}
fn default_vanilla_timeout_ms() -> u64 {
    5_000
}
fn default_true() -> bool {
    true
}
fn default_max_peers() -> usize {
    crate::protocol::DEFAULT_MAX_PEERS
}
fn default_bind_addresses() -> Vec<String> {
    vec!["0.0.0.0:0".to_string()]
}

/// Longest config JSON accepted: far above any real config, low enough to refuse garbage early.
pub const MAX_CONFIG_JSON_BYTES: usize = 64 * 1024;

impl PeerConfig {
    /// A config with defaults for everything but the signaling URL.
    pub fn new(signaling_url: impl Into<String>) -> Self {
        PeerConfig {
            signaling_url: signaling_url.into(),
            socket: SocketOptions::default(),
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            p2p_timeout_ms: default_p2p_timeout_ms(),
            vanilla_ice_timeout_ms: default_vanilla_timeout_ms(),
            trickle_ice: true,
            bind_addresses: default_bind_addresses(),
            max_peers: default_max_peers(),
            auth: None,
        }
    }

    /// Parses and validates the JSON form.
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_CONFIG_JSON_BYTES {
            return Err(P2pError::InvalidConfig(
                format!("config JSON is larger than {MAX_CONFIG_JSON_BYTES} bytes").into(),
            ));
        }
        let config: PeerConfig = serde_json::from_str(json).map_err(|e| P2pError::InvalidConfig(Cause::of(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that serde cannot: URL scheme, timeouts, addresses.
    pub fn validate(&self) -> Result<()> {
        let url = self.signaling_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() <= "http://".len() {
            return Err(P2pError::InvalidConfig(
                format!("signalingUrl must be an http:// or https:// URL, got {:?}", self.signaling_url).into(),
            ));
        }
        for (name, value) in [
            ("p2pTimeoutMs", self.p2p_timeout_ms),
            ("vanillaIceTimeoutMs", self.vanilla_ice_timeout_ms),
            ("socket.connectionTimeoutMs", self.socket.connection_timeout_ms),
        ] {
            if value == 0 || value > 3_600_000 {
                return Err(P2pError::InvalidConfig(
                    format!("{name} must be between 1 and 3600000, got {value}").into(),
                ));
            }
        }
        for server in &self.ice_servers {
            if server.urls.is_empty() {
                return Err(P2pError::InvalidConfig("an ICE server needs at least one url".into()));
            }
            for url in &server.urls {
                if !(url.starts_with("stun:")
                    || url.starts_with("stuns:")
                    || url.starts_with("turn:")
                    || url.starts_with("turns:"))
                {
                    return Err(P2pError::InvalidConfig(
                        format!("ICE server url must start with stun:, stuns:, turn: or turns:, got {url:?}").into(),
                    ));
                }
            }
        }
        if let Some(pem) = &self.socket.ca_certificates_pem {
            crate::tls::client_config(Some(pem))?;
        }
        if self.auth.as_ref().is_some_and(|a| !a.is_object()) {
            return Err(P2pError::InvalidConfig("auth must be a JSON object, e.g. {\"token\": \"...\"}".into()));
        }
        if self.max_peers == 0 || self.max_peers > 1024 {
            return Err(P2pError::InvalidConfig(
                format!("maxPeers must be between 1 and 1024, got {}", self.max_peers).into(),
            ));
        }
        if self.bind_addresses.is_empty() {
            return Err(P2pError::InvalidConfig("bindAddresses must not be empty".into()));
        }
        for addr in &self.bind_addresses {
            addr.parse::<std::net::SocketAddr>()
                .map_err(|_| P2pError::InvalidConfig(format!("bindAddresses entry {addr:?} is not IP:PORT").into()))?;
        }
        Ok(())
    }

    /// `p2p_timeout_ms` as a duration.
    pub fn p2p_timeout(&self) -> Duration {
        Duration::from_millis(self.p2p_timeout_ms)
    }
    /// `vanilla_ice_timeout_ms` as a duration.
    pub fn vanilla_ice_timeout(&self) -> Duration {
        Duration::from_millis(self.vanilla_ice_timeout_ms)
    }
    /// `socket.connection_timeout_ms` as a duration.
    pub fn connection_timeout(&self) -> Duration {
        Duration::from_millis(self.socket.connection_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_json_gets_defaults() {
        let c = PeerConfig::from_json(r#"{"signalingUrl":"http://127.0.0.1:3010"}"#).unwrap();
        assert_eq!(c.p2p_timeout_ms, 15_000);
        assert_eq!(c.vanilla_ice_timeout_ms, 5_000);
        assert!(c.trickle_ice);
        assert_eq!(c.socket.connection_timeout_ms, 5_000);
    }

    #[test]
    fn full_json_is_read() {
        let c = PeerConfig::from_json(
            r#"{"signalingUrl":"http://a:1","iceServers":[{"urls":["stun:x:3478"],"username":"u","credential":"c"}],
                "p2pTimeoutMs":1000,"vanillaIceTimeoutMs":200,"trickleIce":false,"iceTransportPolicy":"relay",
                "socket":{"connectionTimeoutMs":700,"reconnection":true}}"#,
        )
        .unwrap();
        assert_eq!(c.ice_servers[0].username, "u");
        assert_eq!(c.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(PeerConfig::new("http://a:1").ice_transport_policy, IceTransportPolicy::All);
        assert!(!c.trickle_ice);
        assert!(c.socket.reconnection);
        assert_eq!(c.connection_timeout(), Duration::from_millis(700));
    }

    #[test]
    fn unknown_keys_wrong_types_and_bad_values_are_errors() {
        for bad in [
            r#"{"signalingUrl":"http://a:1","bogus":1}"#,
            r#"{"signalingUrl":"http://a:1","p2pTimeoutMs":"10"}"#,
            r#"{"signalingUrl":"http://a:1","socket":{"nope":true}}"#,
            r#"{"p2pTimeoutMs":10}"#,
            r#"{"signalingUrl":"ftp://a"}"#,
            r#"{"signalingUrl":"http://a:1","p2pTimeoutMs":0}"#,
            r#"{"signalingUrl":"http://a:1","iceServers":[{"urls":["http://x"]}]}"#,
            r#"{"signalingUrl":"http://a:1","bindAddresses":["nope"]}"#,
            r#"{"signalingUrl":"http://a:1","maxPeers":0}"#,
            r#"{"signalingUrl":"http://a:1","auth":"token"}"#,
            r#"{"signalingUrl":"http://a:1","iceTransportPolicy":"relay-only"}"#,
            r#"{"signalingUrl":"https://a:1","socket":{"caCertificatesPem":"not pem"}}"#,
            r#"{"signalingUrl":"https://a:1","socket":{"caCertificatesPem":7}}"#,
            "not json",
        ] {
            assert!(matches!(PeerConfig::from_json(bad), Err(P2pError::InvalidConfig(_))), "{bad}");
        }
    }

    proptest::proptest! {
        /// The C ABI hands us whatever the app passes: any text is either a valid config or an
        /// InvalidConfig error, never a panic.
        #[test]
        fn any_config_text_is_a_config_or_a_clear_error(
            text in r#"\{("(signalingUrl|iceServers|urls|p2pTimeoutMs|vanillaIceTimeoutMs|trickleIce|socket|connectionTimeoutMs|reconnection|bindAddresses|maxPeers)":(null|true|0|-1|1e400|99999999999999999999|"http://a:1"|"stun:x"|"[a-z:/0-9.]{0,12}"|\{\}|\[\]|\["127.0.0.1:0"\]),?){0,10}\}|\PC{0,40}"#
        ) {
            match PeerConfig::from_json(&text) {
                Ok(config) => proptest::prop_assert!(config.validate().is_ok()),
                Err(e) => proptest::prop_assert!(matches!(e, P2pError::InvalidConfig(_)), "{e:?}"),
            }
        }
    }
}
