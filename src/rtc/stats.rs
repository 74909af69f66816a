//! A link's health in one small summary: state, the selected candidate pair, RTT, and traffic per
//! data channel. One shape for every API (Rust, the C ABI's JSON, C#, the web client's
//! `getStats()` summary), so a developer reads the same fields wherever the peer runs.
//!
//! Where each figure comes from in webrtc-rs 0.21.1 (`RTCPeerConnection::get_stats`):
//! - RTT and pair traffic: the `candidate-pair` entry of the selected pair. Its
//!   `currentRoundTripTime` is synced from the ICE agent at each `get_stats` call and is measured
//!   on STUN binding responses (connectivity checks, then the consent checks every 2 s).
//! - Data channels: the `data-channel` entries (label, id, state, messages and bytes both ways).
//! - Candidate types: **not** from the report: 0.21.1 never fills its `local-candidate` /
//!   `remote-candidate` entries, so the pair's candidate ids lead nowhere. The selected pair is read
//!   from the ICE transport instead (`sctp().transport().ice_transport().get_selected_candidate_pair()`),
//!   which gives both candidates with type, protocol, address and port.
//! - Connection and ICE states: the last values the connection's event handler saw.
//!
//! - Audio: one entry per remote audio track, counted by our own receiver (`rtc/audio/decode.rs`,
//!   `playout.rs`): packets, loss and jitter per RFC 3550, plus what the app hears (buffered audio,
//!   concealment, underruns).

use serde::Serialize;

/// One side of the selected candidate pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateInfo {
    /// `host`, `srflx`, `prflx` or `relay`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `udp` or `tcp`.
    pub protocol: String,
    /// IP address.
    pub address: String,
    /// UDP/TCP port.
    pub port: u16,
}

/// The candidate pair ICE selected for the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectedPair {
    /// Our end.
    pub local: CandidateInfo,
    /// The remote's end.
    pub remote: CandidateInfo,
}

/// Traffic of one data channel, as counted by the SCTP layer (payload bytes, not packets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataChannelStats {
    /// The channel's label.
    pub label: String,
    /// SCTP stream id.
    pub id: u16,
    /// `connecting`, `open`, `closing` or `closed`.
    pub state: String,
    /// Messages sent.
    pub messages_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
}

/// Reception of one remote audio track, as our receiver counts it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioTrackStats {
    /// The sender's track id.
    pub track_id: String,
    /// RTP packets received.
    pub packets_received: u64,
    /// Packets never received (expected by sequence number minus received, RFC 3550).
    pub packets_lost: i64,
    /// Packets that arrived after their turn (or twice) and were dropped.
    pub packets_late: u64,
    /// Interarrival jitter (RFC 3550), milliseconds.
    pub jitter_ms: f64,
    /// Decoded audio waiting for the app to read it, milliseconds (the receive-side latency).
    pub buffered_ms: f64,
    /// Audio synthesised by Opus's loss concealment, milliseconds.
    pub concealed_ms: f64,
    /// Reads that ran out of audio while playing (audible gaps).
    pub underruns: u64,
    /// The sender ended the track.
    pub ended: bool,
}

/// The summary of one peer connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerStats {
    /// The remote member's id (filled by the client; empty from a bare connection).
    pub peer_id: String,
    /// `RTCPeerConnectionState`: `new`, `connecting`, `connected`, `disconnected`, `failed`, `closed`.
    pub connection_state: String,
    /// `RTCIceConnectionState`: `new`, `checking`, `connected`, `completed`, `disconnected`,
    /// `failed`, `closed`.
    pub ice_state: String,
    /// None until ICE selects a pair.
    pub selected_pair: Option<SelectedPair>,
    /// Current round-trip time of the selected pair in milliseconds; None until a STUN response on
    /// it has been measured.
    pub rtt_ms: Option<f64>,
    /// DTLS/SCTP bytes sent and received on the selected pair (headers included; STUN excluded).
    pub bytes_sent: u64,
    /// DTLS/SCTP bytes received on the selected pair.
    pub bytes_received: u64,
    /// Traffic of each open data channel.
    pub data_channels: Vec<DataChannelStats>,
    /// One entry per remote audio track, in arrival order.
    pub audio: Vec<AudioTrackStats>,
}

impl PeerStats {
    /// The summary as JSON (the C ABI's and the C# client's format).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("stats serialise")
    }

    /// A short line for logs and the chat example's `/stats`: state, pair types, RTT, totals.
    pub fn one_line(&self) -> String {
        let pair = match &self.selected_pair {
            Some(p) => format!("{}/{} -> {}/{}", p.local.kind, p.local.protocol, p.remote.kind, p.remote.protocol),
            None => "no pair".into(),
        };
        let rtt = self.rtt_ms.map(|r| format!("{r:.2} ms")).unwrap_or_else(|| "rtt ?".into());
        let channels: Vec<String> = self
            .data_channels
            .iter()
            .map(|d| {
                format!(
                    "{}[{}] {}/{} msgs {}/{} B",
                    d.label, d.state, d.messages_sent, d.messages_received, d.bytes_sent, d.bytes_received
                )
            })
            .collect();
        format!(
            "{} {} {} {} sent {} B recv {} B {}",
            self.connection_state,
            self.ice_state,
            pair,
            rtt,
            self.bytes_sent,
            self.bytes_received,
            channels.join(" ")
        )
    }
}

/// The connection's last states as its event handler saw them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LinkStates {
    pub connection: webrtc::peer_connection::RTCPeerConnectionState,
    pub ice: webrtc::peer_connection::RTCIceConnectionState,
}

fn state_name(s: impl std::fmt::Display) -> String {
    match s.to_string().as_str() {
        "unspecified" | "Unspecified" => "new".into(),
        other => other.to_string(),
    }
}

fn candidate(c: &webrtc::peer_connection::RTCIceCandidate) -> CandidateInfo {
    CandidateInfo {
        kind: c.typ.to_string(),
        protocol: c.protocol.to_string(),
        address: c.address.clone(),
        port: c.port,
    }
}

/// Reads the summary of `pc`: one stats snapshot plus one look at the ICE transport, each a short
/// hold of the connection's lock (no network I/O).
pub(super) async fn collect(pc: &dyn webrtc::peer_connection::PeerConnection, states: LinkStates) -> PeerStats {
    use webrtc::peer_connection::{RTCStatsReportEntry, StatsSelector};
    let report = pc.get_stats(std::time::Instant::now(), StatsSelector::None).await;
    let selected_id = report.transport().map(|t| t.selected_candidate_pair_id.clone()).unwrap_or_default();
    let mut stats = PeerStats {
        peer_id: String::new(),
        connection_state: state_name(states.connection),
        ice_state: state_name(states.ice),
        selected_pair: None,
        rtt_ms: None,
        bytes_sent: 0,
        bytes_received: 0,
        data_channels: Vec::new(),
        audio: Vec::new(),
    };
    for entry in report.iter() {
        match entry {
            RTCStatsReportEntry::IceCandidatePair(p) if !selected_id.is_empty() && p.stats.id == selected_id => {
                stats.bytes_sent = p.bytes_sent;
                stats.bytes_received = p.bytes_received;
                if p.responses_received > 0 {
                    stats.rtt_ms = Some(p.current_round_trip_time * 1000.0);
                }
            }
            RTCStatsReportEntry::DataChannel(d) => stats.data_channels.push(DataChannelStats {
                label: d.label.clone(),
                id: d.data_channel_identifier,
                state: state_name(d.state),
                messages_sent: d.messages_sent as u64,
                bytes_sent: d.bytes_sent,
                messages_received: d.messages_received as u64,
                bytes_received: d.bytes_received,
            }),
            _ => {}
        }
    }
    stats.data_channels.sort_by_key(|d| d.id);
    if let Some(sctp) = pc.sctp().await {
        if let Ok(Some(pair)) = sctp.transport().ice_transport().get_selected_candidate_pair().await {
            stats.selected_pair =
                Some(SelectedPair { local: candidate(pair.local()), remote: candidate(pair.remote()) });
        }
    }
    stats
}
