//! Who hosts which group and who is in it: a plain registry, no sockets, so every routing rule is
//! unit-tested (in `registry.rs`, against this registry and the Redis one alike). A group is keyed by its host's socket id (what `list hosts` reports and what a
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
    /// Changes made: groups created, joined, left. A refused request changes nothing and is not
    /// counted, so answers kept about who may reach whom (`routes.rs`) outlive it.
    changes: u64,
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
        self.changes += 1;
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
        self.changes += 1;
        Ok(())
    }

    /// How many changes were made so far (see the field).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Whether `from` may send a `message` to `to`: same group (the sender is not `to` itself).
    pub fn same_group(&self, from: &str, to: &str) -> bool {
        from != to && matches!((self.membership.get(from), self.membership.get(to)), (Some(a), Some(b)) if a == b)
    }

    /// `sid` leaves (disconnects). Returns the members to notify.
    pub fn leave(&mut self, sid: &str) -> Vec<Sid> {
        let Some(key) = self.membership.remove(sid) else { return Vec::new() };
        self.changes += 1;
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
