//! A socket's recent recipients, each with the handle to send to it. A relayed message needs two
//! answers: may the sender reach `to` (same group: two lookups in the shared registry, under its
//! lock) and where is `to` (the namespace's socket map, under another). In a group those answers
//! stay the same from one message to the next, so a socket keeps them for the few members it talks
//! to, for as long as no group changed anywhere: the in-memory registry counts its changes
//! ([`crate::registry::Groups::version`]), and a cache from an older count is dropped whole.
//!
//! Generic over the handle so the rules are tested without sockets.

/// How many recipients a socket keeps: a full mesh of 8 talks to 7 (a larger group's sender looks
/// the others up each time, as every sender did before).
const MAX_ROUTES: usize = 8;

pub struct Routes<S> {
    /// The registry's version the entries were checked against.
    version: u64,
    entries: Vec<(Box<str>, S)>,
}

impl<S> Default for Routes<S> {
    fn default() -> Self {
        Routes { version: 0, entries: Vec::new() }
    }
}

impl<S: Clone> Routes<S> {
    /// The handle for `to` if it was checked at the registry's `version` (the current one).
    pub fn get(&mut self, to: &str, version: u64) -> Option<S> {
        if version != self.version {
            // A group changed since: nothing kept is known to hold.
            self.version = version;
            self.entries = Vec::new();
            return None;
        }
        self.entries.iter().find(|(id, _)| **id == *to).map(|(_, s)| s.clone())
    }

    /// Keeps `to`'s handle, checked at `version`, read before the check: a change made meanwhile
    /// makes the entry stale at once.
    pub fn insert(&mut self, to: &str, handle: S, version: u64) {
        if version != self.version {
            self.version = version;
            self.entries.clear();
        }
        if self.entries.len() == MAX_ROUTES {
            self.entries.remove(0);
        }
        self.entries.push((to.into(), handle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_only_while_no_group_changed() {
        let mut r = Routes::default();
        assert_eq!(r.get("a", 1), None);
        r.insert("a", 10, 1);
        r.insert("b", 11, 1);
        assert_eq!((r.get("a", 1), r.get("b", 1), r.get("c", 1)), (Some(10), Some(11), None));
        assert_eq!(r.get("a", 2), None, "a group changed: dropped");
        assert_eq!(r.get("b", 2), None, "all of them");
        r.insert("a", 12, 1);
        assert_eq!(r.get("a", 2), None, "checked before the change: stale at once");
        r.insert("a", 13, 2);
        assert_eq!(r.get("a", 2), Some(13));
    }

    #[test]
    fn a_socket_keeps_a_bounded_number() {
        let mut r = Routes::default();
        for i in 0..MAX_ROUTES + 3 {
            r.insert(&i.to_string(), i, 0);
        }
        assert_eq!(r.entries.len(), MAX_ROUTES);
        assert_eq!(r.get("0", 0), None, "the oldest made room");
        assert_eq!(r.get(&(MAX_ROUTES + 2).to_string(), 0), Some(MAX_ROUTES + 2));
    }
}
