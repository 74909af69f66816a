//! Decisions of the mesh as plain functions and small state machines, free of sockets and WebRTC so
//! they are tested on their own (docs/protocol.md states the same rules in prose).

use crate::protocol::{Ice, MAX_QUEUED_CANDIDATES};

/// Rule 3: an offerer trickles only when it supports trickle and knows the remote does.
pub fn offerer_trickles(local: bool, remote_known_to_trickle: bool) -> bool {
    local && remote_known_to_trickle
}

/// Rule 4: an answerer trickles only when the offer said so and it supports trickle itself.
pub fn answerer_trickles(local: bool, offer_flag: bool) -> bool {
    local && offer_flag
}

/// The client's Started condition (the seed's): the host's `done` has arrived AND the ICE link to
/// the host is connected, in either order; fires once.
#[derive(Debug, Default)]
pub struct StartGate {
    host_id: String,
    done: bool,
    connected: bool,
    fired: bool,
}

impl StartGate {
    pub fn new(host_id: &str) -> Self {
        StartGate { host_id: host_id.to_string(), ..Default::default() }
    }

    /// A `done` from `from` arrived; true when this completes the condition.
    pub fn on_done(&mut self, from: &str) -> bool {
        if from == self.host_id {
            self.done = true;
        }
        self.check()
    }

    /// The link to `peer` is connected; true when this completes the condition.
    pub fn on_connected(&mut self, peer: &str) -> bool {
        if peer == self.host_id {
            self.connected = true;
        }
        self.check()
    }

    fn check(&mut self) -> bool {
        if self.done && self.connected && !self.fired {
            self.fired = true;
            return true;
        }
        false
    }
}

/// Remote candidates that arrive before the remote description wait here (rule 5).
#[derive(Debug, Default)]
pub struct CandidateQueue {
    remote_set: bool,
    queued: Vec<Ice>,
}

impl CandidateQueue {
    /// Returns the candidate when it can be applied now, or keeps it (at most
    /// `MAX_QUEUED_CANDIDATES`; a remote that floods candidates before its offer loses the rest).
    pub fn push(&mut self, ice: Ice) -> Option<Ice> {
        if self.remote_set {
            Some(ice)
        } else {
            if self.queued.len() < MAX_QUEUED_CANDIDATES {
                self.queued.push(ice);
            } else {
                tracing::debug!("candidate queue full; dropping a candidate");
            }
            None
        }
    }

    /// The remote description is set: everything queued can be applied, in arrival order.
    pub fn remote_set(&mut self) -> Vec<Ice> {
        self.remote_set = true;
        std::mem::take(&mut self.queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trickle_needs_both_sides() {
        assert!(offerer_trickles(true, true));
        assert!(!offerer_trickles(true, false));
        assert!(!offerer_trickles(false, true));
        assert!(answerer_trickles(true, true));
        assert!(!answerer_trickles(true, false));
        assert!(!answerer_trickles(false, true));
    }

    #[test]
    fn start_gate_needs_done_and_link_from_the_host_in_any_order_once() {
        let mut g = StartGate::new("h");
        assert!(!g.on_connected("other"));
        assert!(!g.on_done("other"));
        assert!(!g.on_done("h"));
        assert!(g.on_connected("h"));
        assert!(!g.on_connected("h"));
        assert!(!g.on_done("h"));

        let mut g = StartGate::new("h");
        assert!(!g.on_connected("h"));
        assert!(g.on_done("h"));
    }

    #[test]
    fn candidates_wait_for_the_remote_description() {
        let ice = |n: &str| Ice { candidate: n.into(), sdp_mid: None, sdp_mline_index: Some(0) };
        let mut q = CandidateQueue::default();
        assert_eq!(q.push(ice("a")), None);
        assert_eq!(q.push(ice("b")), None);
        assert_eq!(q.remote_set(), vec![ice("a"), ice("b")]);
        assert_eq!(q.push(ice("c")), Some(ice("c")));
        assert!(q.remote_set().is_empty());
    }

    #[test]
    fn a_candidate_flood_before_the_offer_is_bounded() {
        let mut q = CandidateQueue::default();
        for i in 0..10_000 {
            assert_eq!(q.push(Ice { candidate: format!("c{i}"), sdp_mid: None, sdp_mline_index: Some(0) }), None);
        }
        let kept = q.remote_set();
        assert_eq!(kept.len(), MAX_QUEUED_CANDIDATES);
        assert_eq!(kept[0].candidate, "c0", "the first ones are kept, in order");
    }
}
