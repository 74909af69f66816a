//! The members a socket may reach without asking the registry again. Whether the sender may reach
//! `to` (same group) takes two lookups in the shared registry under its lock; in a group that
//! answer stays the same from one message to the next, so a socket keeps it for the few members it
//! talks to, for as long as no group changed anywhere: the in-memory registry counts its changes
//! ([`crate::registry::Groups::version`]), and a list from an older count is dropped whole.
//!
//! Only ids are kept, not the members' sockets: a kept socket would outlive its connection (with
//! whatever it still had queued) for as long as the sender stays quiet. The recipient's socket is
//! looked up per message, as before.

/// How many members a socket keeps: a full mesh of 8 talks to 7 (a larger group's sender asks the
/// registry for the others each time, as every sender did before).
const MAX_ROUTES: usize = 8;

#[derive(Default)]
pub struct Routes {
    /// The registry's version the ids were checked against.
    version: u64,
    ids: Vec<Box<str>>,
}

impl Routes {
    /// Whether `to` was checked at the registry's `version` (the current one).
    pub fn allows(&mut self, to: &str, version: u64) -> bool {
        self.at(version);
        self.ids.iter().any(|id| **id == *to)
    }

    /// Keeps `to`, checked at `version`, read before the check: a change made meanwhile makes the
    /// entry stale at once.
    pub fn insert(&mut self, to: &str, version: u64) {
        self.at(version);
        if self.ids.len() == MAX_ROUTES {
            self.ids.remove(0);
        }
        self.ids.push(to.into());
    }

    /// Moves to `version`: if a group changed since the ids were checked, none is known to hold.
    fn at(&mut self, version: u64) {
        if version != self.version {
            self.version = version;
            self.ids = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_only_while_no_group_changed() {
        let mut r = Routes::default();
        assert!(!r.allows("a", 1));
        r.insert("a", 1);
        r.insert("b", 1);
        assert!(r.allows("a", 1) && r.allows("b", 1) && !r.allows("c", 1));
        assert!(!r.allows("a", 2), "a group changed: dropped");
        assert!(!r.allows("b", 2), "all of them");
        r.insert("a", 1);
        assert!(!r.allows("a", 2), "checked before the change: stale at once");
        r.insert("a", 2);
        assert!(r.allows("a", 2));
    }

    #[test]
    fn a_socket_keeps_a_bounded_number() {
        let mut r = Routes::default();
        for i in 0..MAX_ROUTES + 3 {
            r.insert(&i.to_string(), 0);
        }
        assert_eq!(r.ids.len(), MAX_ROUTES);
        assert!(!r.allows("0", 0), "the oldest made room");
        assert!(r.allows(&(MAX_ROUTES + 2).to_string(), 0));
    }
}
