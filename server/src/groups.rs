//! Who hosts which group and who is in it: a plain registry, no sockets, so every routing rule is
//! unit-tested. A group is keyed by its host's socket id (what `list hosts` reports and what a
//! `join` is addressed to). When the host leaves, the group stops being listed but its remaining
//! members stay routable to each other (they still need to say `bye`) until they leave too.

use std::collections::{BTreeMap, HashMap, HashSet};

pub type Sid = String;

#[derive(Debug, PartialEq, Eq)]
pub enum GroupError {
    NameTaken,
    AlreadyInGroup,
    NoSuchHost,
    Full,
    /// The shared registry (Redis) cannot be reached; never returned by [`Registry`].
    Unavailable,
}

#[derive(Debug)]
struct Group {
    name: String,
    /// Creation order: `list hosts` lists groups as Extreal's server does, oldest first.
    created: u64,
    host_present: bool,
    members: HashSet<Sid>,
}

#[derive(Debug, Default)]
pub struct Registry {
    /// Listed names -> group key (the host's sid).
    names: HashMap<String, Sid>,
    groups: HashMap<Sid, Group>,
    /// Socket -> the key of its group.
    membership: HashMap<Sid, Sid>,
    /// Listed groups (host present) by creation stamp: `list hosts` reads its first entries in
    /// order instead of collecting and sorting every group under the lock.
    listed: BTreeMap<u64, Sid>,
    /// The `created` stamp of the next group.
    next_created: u64,
}

impl Registry {
    /// `sid` creates and hosts the group `name` (already validated).
    pub fn create_host(&mut self, sid: &str, name: &str) -> Result<(), GroupError> {
        if self.membership.contains_key(sid) {
            return Err(GroupError::AlreadyInGroup);
        }
        if self.names.contains_key(name) {
            return Err(GroupError::NameTaken);
        }
        self.names.insert(name.to_string(), sid.to_string());
        self.next_created += 1;
        let group = Group {
            name: name.to_string(),
            created: self.next_created,
            host_present: true,
            members: HashSet::from([sid.to_string()]),
        };
        self.groups.insert(sid.to_string(), group);
        self.listed.insert(self.next_created, sid.to_string());
        self.membership.insert(sid.to_string(), sid.to_string());
        Ok(())
    }

    /// Up to `limit` groups whose host is present, as (host id, name), oldest first, and how many
    /// such groups there are in all.
    pub fn hosts(&self, limit: usize) -> (Vec<(Sid, String)>, usize) {
        let hosts = self
            .listed
            .values()
            .take(limit)
            .filter_map(|id| self.groups.get(id).map(|g| (id.clone(), g.name.clone())))
            .collect();
        (hosts, self.listed.len())
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// `sid` joins the group hosted by `host`. Joining one's own group again is allowed (idempotent).
    pub fn join(&mut self, sid: &str, host: &str, max_group_size: usize) -> Result<(), GroupError> {
        let group = self.groups.get_mut(host).filter(|g| g.host_present).ok_or(GroupError::NoSuchHost)?;
        match self.membership.get(sid) {
            Some(current) if current == host => return Ok(()),
            Some(_) => return Err(GroupError::AlreadyInGroup),
            None => {}
        }
        if group.members.len() >= max_group_size {
            return Err(GroupError::Full);
        }
        group.members.insert(sid.to_string());
        self.membership.insert(sid.to_string(), host.to_string());
        Ok(())
    }

    /// Whether `from` may send a `message` to `to`: same group (the sender is not `to` itself).
    pub fn same_group(&self, from: &str, to: &str) -> bool {
        from != to && matches!((self.membership.get(from), self.membership.get(to)), (Some(a), Some(b)) if a == b)
    }

    /// `sid` leaves (disconnects). Returns the members to notify.
    pub fn leave(&mut self, sid: &str) -> Vec<Sid> {
        let Some(key) = self.membership.remove(sid) else { return Vec::new() };
        let Some(group) = self.groups.get_mut(&key) else { return Vec::new() };
        group.members.remove(sid);
        if key == sid {
            group.host_present = false;
            self.names.remove(&group.name);
            self.listed.remove(&group.created);
        }
        let mut others: Vec<Sid> = group.members.iter().cloned().collect();
        others.sort();
        if group.members.is_empty() {
            self.groups.remove(&key);
        }
        others
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_join_route_leave() {
        let mut r = Registry::default();
        r.create_host("h", "room").unwrap();
        assert_eq!(r.create_host("x", "room"), Err(GroupError::NameTaken));
        assert_eq!(r.create_host("h", "other"), Err(GroupError::AlreadyInGroup));
        assert_eq!(r.hosts(10), (vec![("h".into(), "room".into())], 1));
        r.join("a", "h", 3).unwrap();
        r.join("a", "h", 3).unwrap();
        r.join("b", "h", 3).unwrap();
        assert_eq!(r.join("c", "h", 3), Err(GroupError::Full));
        assert_eq!(r.join("c", "nobody", 3), Err(GroupError::NoSuchHost));
        assert_eq!(r.join("a", "h2", 3), Err(GroupError::NoSuchHost));
        assert!(r.same_group("a", "b") && r.same_group("a", "h") && r.same_group("h", "b"));
        assert!(!r.same_group("a", "a"));
        assert!(!r.same_group("a", "c") && !r.same_group("c", "a"));

        r.create_host("h2", "room 2").unwrap();
        r.create_host("h0", "a room created last").unwrap();
        let names: Vec<String> = r.hosts(10).0.into_iter().map(|(_, name)| name).collect();
        assert_eq!(names, ["room", "room 2", "a room created last"], "listed in creation order, as Extreal lists");
        let (first_two, total) = r.hosts(2);
        assert_eq!((first_two.len(), total), (2, 3), "a reply is capped; the total says how many exist");
        r.leave("h0");
        r.join("c", "h2", 3).unwrap();
        assert!(!r.same_group("c", "a"), "groups are isolated");
        assert_eq!(r.join("c", "h", 3), Err(GroupError::AlreadyInGroup));

        assert_eq!(r.leave("a"), vec!["b".to_string(), "h".to_string()]);
        assert_eq!(r.leave("h"), vec!["b".to_string()]);
        assert_eq!(r.hosts(10), (vec![("h2".into(), "room 2".into())], 1), "a host's group leaves the list");
        assert_eq!(r.join("z", "h", 3), Err(GroupError::NoSuchHost));
        r.create_host("new", "room").unwrap();
        assert!(!r.same_group("new", "b"), "the name is free again, the old members are not in the new group");
        assert_eq!(r.leave("b"), Vec::<String>::new());
        assert_eq!(r.group_count(), 2);
        assert_eq!(r.leave("unknown"), Vec::<String>::new());
    }
}
