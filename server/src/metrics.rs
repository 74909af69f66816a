//! Counters for `GET /metrics` (Prometheus text format).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a request was refused; each has its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    InvalidName,
    AlreadyInGroup,
    Forbidden,
    TooLarge,
    RateLimited,
    GroupFull,
    NameTaken,
    NoAck,
    TooManyConnections,
    Unauthorized,
    Unavailable,
}

impl Rejection {
    const ALL: [Rejection; 12] = [
        Rejection::Malformed,
        Rejection::InvalidName,
        Rejection::AlreadyInGroup,
        Rejection::Forbidden,
        Rejection::TooLarge,
        Rejection::RateLimited,
        Rejection::GroupFull,
        Rejection::NameTaken,
        Rejection::NoAck,
        Rejection::TooManyConnections,
        Rejection::Unauthorized,
        Rejection::Unavailable,
    ];

    /// The `reason` field of a rejection reply (the protocol's vocabulary).
    pub fn reason(self) -> &'static str {
        use p2p_protocol::reason;
        match self {
            Rejection::Malformed => reason::MALFORMED,
            Rejection::InvalidName => reason::INVALID_NAME,
            Rejection::AlreadyInGroup => reason::ALREADY_IN_GROUP,
            Rejection::Forbidden => reason::FORBIDDEN,
            Rejection::TooLarge => reason::TOO_LARGE,
            Rejection::RateLimited => reason::RATE_LIMITED,
            Rejection::GroupFull => reason::GROUP_FULL,
            Rejection::NameTaken => reason::NAME_TAKEN,
            Rejection::NoAck => reason::NO_ACK,
            Rejection::TooManyConnections => reason::TOO_MANY_CONNECTIONS,
            Rejection::Unauthorized => reason::UNAUTHORIZED,
            Rejection::Unavailable => reason::UNAVAILABLE,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::InvalidName => "invalid_name",
            Rejection::AlreadyInGroup => "already_in_group",
            Rejection::Forbidden => "forbidden",
            Rejection::TooLarge => "too_large",
            Rejection::RateLimited => "rate_limited",
            Rejection::GroupFull => "group_full",
            Rejection::NameTaken => "name_taken",
            Rejection::NoAck => "no_ack",
            Rejection::TooManyConnections => "too_many_connections",
            Rejection::Unauthorized => "unauthorized",
            Rejection::Unavailable => "unavailable",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub connections_total: AtomicU64,
    pub messages_relayed: AtomicU64,
    /// Of those, the ones relayed on the fast path (handlers.rs, `relay_raw`): an operator's (and
    /// the load bench's) check that the relay mostly takes it.
    pub messages_relayed_fast: AtomicU64,
    rejections: [AtomicU64; Rejection::ALL.len()],
}

impl Metrics {
    pub fn reject(&self, why: Rejection) {
        self.rejections[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, groups: usize) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        gauge("p2p_signaling_connections", "Connected sockets.", "gauge", self.connections.load(Ordering::Relaxed));
        gauge(
            "p2p_signaling_connections_total",
            "Sockets connected since start.",
            "counter",
            self.connections_total.load(Ordering::Relaxed),
        );
        gauge("p2p_signaling_groups", "Groups (hosted or with members left).", "gauge", groups as u64);
        gauge(
            "p2p_signaling_messages_relayed_total",
            "Messages delivered to their recipient.",
            "counter",
            self.messages_relayed.load(Ordering::Relaxed),
        );
        gauge(
            "p2p_signaling_messages_relayed_fast_total",
            "Of the messages delivered, those relayed from the packet as received (no decoding).",
            "counter",
            self.messages_relayed_fast.load(Ordering::Relaxed),
        );
        let _ = writeln!(out, "# HELP p2p_signaling_rejections_total Requests refused, by reason.\n# TYPE p2p_signaling_rejections_total counter");
        for why in Rejection::ALL {
            let _ = writeln!(
                out,
                "p2p_signaling_rejections_total{{reason=\"{}\"}} {}",
                why.label(),
                self.rejections[why as usize].load(Ordering::Relaxed)
            );
        }
        out
    }
}
