//! The members a socket may reach without asking the registry again. Whether the sender may reach
//! `to` (same group) takes two lookups in the shared registry under its lock; in a group that
//! answer stays the same from one message to the next, so a socket keeps it for the few members it
//! talks to, for as long as no group changed anywhere: the in-memory registry counts its changes
//! ([`crate::registry::Groups::version`]), and a list from an older count is dropped whole.
//!
//! With each id a handle on the member's socket is kept, so that a relay skips the recipient's
//! lookup too: a weak one (socketioxide's `WeakSocketRef`, our patch 0006), since a strong one
//! would keep a departed socket, with whatever it still had queued, for as long as the sender
//! stays quiet.

/// How many members a socket keeps: a full mesh of 8 talks to 7 (a larger group's sender asks the
/// registry for the others each time, as every sender did before).
const MAX_ROUTES: usize = 8;

/// The kept members: ids, each with a handle `H` on its socket.
pub struct Routes<H> {
    /// The registry's version the ids were checked against.
    version: u64,
    ids: Vec<(Box<str>, H)>,
}

impl<H> Default for Routes<H> {
    fn default() -> Self {
        Routes { version: 0, ids: Vec::new() }
    }
}

impl<H> Routes<H> {
    /// The handle kept with `to` if it was checked at the registry's `version` (the current one).
    pub fn get(&mut self, to: &str, version: u64) -> Option<&H> {
        self.at(version);
        self.ids.iter().find(|(id, _)| **id == *to).map(|(_, handle)| handle)
    }

    /// Keeps `to` and its handle, checked at `version`, read before the check: a change made
    /// meanwhile makes the entry stale at once.
    pub fn insert(&mut self, to: &str, handle: H, version: u64) {
        self.at(version);
        if self.ids.len() == MAX_ROUTES {
            self.ids.remove(0);
        }
        self.ids.push((to.into(), handle));
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
        assert_eq!(r.get("a", 1), None);
        r.insert("a", 'A', 1);
        r.insert("b", 'B', 1);
        assert_eq!(r.get("a", 1), Some(&'A'));
        assert_eq!(r.get("b", 1), Some(&'B'));
        assert_eq!(r.get("c", 1), None);
        assert_eq!(r.get("a", 2), None, "a group changed: dropped");
        assert_eq!(r.get("b", 2), None, "all of them");
        r.insert("a", 'A', 1);
        assert_eq!(r.get("a", 2), None, "checked before the change: stale at once");
        r.insert("a", 'A', 2);
        assert_eq!(r.get("a", 2), Some(&'A'));
    }

    #[test]
    fn a_socket_keeps_a_bounded_number() {
        let mut r = Routes::default();
        for i in 0..MAX_ROUTES + 3 {
            r.insert(&i.to_string(), i, 0);
        }
        assert_eq!(r.ids.len(), MAX_ROUTES);
        assert_eq!(r.get("0", 0), None, "the oldest made room");
        assert_eq!(r.get(&(MAX_ROUTES + 2).to_string(), 0), Some(&(MAX_ROUTES + 2)));
    }
}
