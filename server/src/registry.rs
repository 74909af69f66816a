//! The group registry a server uses: the in-memory [`Registry`] (the default: one process,
//! nothing to install) or the Redis one shared by several nodes (`--redis-url`). Handlers speak to
//! this enum only, so every rule is written once and both registries answer it.
//!
//! The Redis calls are boxed: their futures are hundreds of bytes, and inline they would size
//! every handler's future for them, in-memory servers included (an event handler's future is
//! allocated per event: over glibc's 1 KiB thread cache it takes the allocator's slow, locked path).

use crate::groups::{GroupError, Registry, Sid};
use crate::redis_groups::{RedisGroups, Unavailable};
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub enum Groups {
    Memory(Local),
    Redis(Box<RedisGroups>),
}

/// The in-memory registry and its count of changes, readable without the lock (see
/// [`Groups::version`]).
#[derive(Default)]
pub struct Local {
    /// A read-write lock: relayed messages read it (`same_group`) from both runtime threads, and a
    /// reader preempted while holding it does not stop the other; only joins and leaves write.
    registry: RwLock<Registry>,
    changes: AtomicU64,
}

impl Local {
    /// Writes to the registry; the count of changes is published while the lock is still held, so
    /// whoever reads the old count read it before the change could be seen. A refused request
    /// leaves the count as it was.
    fn change<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        let mut registry = self.registry.write();
        let out = f(&mut registry);
        self.changes.store(registry.changes(), Ordering::Release);
        out
    }
}

impl Groups {
    /// The in-memory registry's count of changes (creates, joins, leaves): answers about who may
    /// reach whom stay true while it stays the same (`routes.rs` keeps them). `None` with Redis,
    /// whose groups other nodes change.
    pub fn version(&self) -> Option<u64> {
        match self {
            Groups::Memory(r) => Some(r.changes.load(Ordering::Acquire)),
            Groups::Redis(_) => None,
        }
    }

    pub async fn create_host(&self, sid: &str, name: &str) -> Result<(), GroupError> {
        match self {
            Groups::Memory(r) => r.change(|r| r.create_host(sid, name)),
            Groups::Redis(r) => Box::pin(r.create_host(sid, name)).await,
        }
    }

    pub async fn join(&self, sid: &str, host: &str, max_group_size: usize) -> Result<(), GroupError> {
        match self {
            Groups::Memory(r) => r.change(|r| r.join(sid, host, max_group_size)),
            Groups::Redis(r) => Box::pin(r.join(sid, host, max_group_size)).await,
        }
    }

    pub async fn hosts(&self, limit: usize) -> Result<(Vec<(Sid, String)>, usize), Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.registry.read().hosts(limit)),
            Groups::Redis(r) => Box::pin(r.hosts(limit)).await,
        }
    }

    pub async fn same_group(&self, from: &str, to: &str) -> Result<bool, Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.registry.read().same_group(from, to)),
            Groups::Redis(r) => Box::pin(r.same_group(from, to)).await,
        }
    }

    /// `sid` leaves; returns the members to tell.
    pub async fn leave(&self, sid: &str) -> Vec<Sid> {
        match self {
            Groups::Memory(r) => r.change(|r| r.leave(sid)),
            Groups::Redis(r) => Box::pin(r.leave(sid)).await,
        }
    }

    pub async fn group_count(&self) -> Result<usize, Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.registry.read().group_count()),
            Groups::Redis(r) => Box::pin(r.group_count()).await,
        }
    }

    pub fn redis(&self) -> Option<&RedisGroups> {
        match self {
            Groups::Redis(r) => Some(r),
            Groups::Memory(_) => None,
        }
    }
}

#[cfg(test)]
#[path = "../tests/common/redis.rs"]
mod test_redis;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule, run against both registries: they must answer alike.
    async fn create_list_join_route_leave(r: Groups) {
        r.create_host("h", "room").await.unwrap();
        assert_eq!(r.create_host("x", "room").await, Err(GroupError::NameTaken));
        assert_eq!(r.create_host("h", "other").await, Err(GroupError::AlreadyInGroup));
        assert_eq!(r.hosts(10).await.unwrap(), (vec![("h".into(), "room".into())], 1));
        r.join("a", "h", 3).await.unwrap();
        r.join("a", "h", 3).await.unwrap();
        r.join("b", "h", 3).await.unwrap();
        assert_eq!(r.join("c", "h", 3).await, Err(GroupError::Full));
        assert_eq!(r.join("c", "nobody", 3).await, Err(GroupError::NoSuchHost));
        assert_eq!(r.join("a", "h2", 3).await, Err(GroupError::NoSuchHost));
        assert!(
            r.same_group("a", "b").await.unwrap()
                && r.same_group("a", "h").await.unwrap()
                && r.same_group("h", "b").await.unwrap()
        );
        assert!(!r.same_group("a", "a").await.unwrap());
        assert!(!r.same_group("a", "c").await.unwrap() && !r.same_group("c", "a").await.unwrap());

        r.create_host("h2", "room 2").await.unwrap();
        r.create_host("h0", "a room created last").await.unwrap();
        let names: Vec<String> = r.hosts(10).await.unwrap().0.into_iter().map(|(_, name)| name).collect();
        assert_eq!(names, ["room", "room 2", "a room created last"], "listed in creation order, as Extreal lists");
        let (first_two, total) = r.hosts(2).await.unwrap();
        assert_eq!((first_two.len(), total), (2, 3), "a reply is capped; the total says how many exist");
        r.leave("h0").await;
        r.join("c", "h2", 3).await.unwrap();
        assert!(!r.same_group("c", "a").await.unwrap(), "groups are isolated");
        assert_eq!(r.join("c", "h", 3).await, Err(GroupError::AlreadyInGroup));

        assert_eq!(r.leave("a").await, vec!["b".to_string(), "h".to_string()]);
        assert_eq!(r.leave("h").await, vec!["b".to_string()]);
        assert_eq!(
            r.hosts(10).await.unwrap(),
            (vec![("h2".into(), "room 2".into())], 1),
            "a host's group leaves the list"
        );
        assert_eq!(r.join("z", "h", 3).await, Err(GroupError::NoSuchHost));
        r.create_host("new", "room").await.unwrap();
        assert!(
            !r.same_group("new", "b").await.unwrap(),
            "the name is free again, the old members are not in the new group"
        );
        assert_eq!(r.leave("b").await, Vec::<String>::new());
        assert_eq!(r.group_count().await.unwrap(), 2);
        assert_eq!(r.leave("unknown").await, Vec::<String>::new());
    }

    #[tokio::test]
    async fn the_version_moves_with_every_change_and_only_then() {
        let r = Groups::Memory(Default::default());
        let mut last = r.version().unwrap();
        let mut moved = |r: &Groups| {
            let now = r.version().unwrap();
            std::mem::replace(&mut last, now) != now
        };
        r.create_host("h", "room").await.unwrap();
        assert!(moved(&r), "create host");
        r.join("a", "h", 3).await.unwrap();
        assert!(moved(&r), "join");
        r.same_group("a", "h").await.unwrap();
        r.hosts(10).await.unwrap();
        r.group_count().await.unwrap();
        assert!(!moved(&r), "reads");
        // Refused requests change nothing: kept routes stay valid through them.
        assert_eq!(r.create_host("x", "room").await, Err(GroupError::NameTaken));
        assert_eq!(r.create_host("a", "other").await, Err(GroupError::AlreadyInGroup));
        assert_eq!(r.join("x", "nobody", 3).await, Err(GroupError::NoSuchHost));
        r.join("b", "h", 3).await.unwrap();
        assert!(moved(&r), "join");
        assert_eq!(r.join("x", "h", 3).await, Err(GroupError::Full));
        assert_eq!(r.leave("x").await, Vec::<String>::new());
        assert!(!moved(&r), "refused requests and the leave of a socket in no group");
        r.leave("a").await;
        assert!(moved(&r), "leave");
    }

    #[tokio::test]
    async fn in_memory() {
        create_list_join_route_leave(Groups::Memory(Default::default())).await;
    }

    #[tokio::test]
    async fn in_redis() {
        let redis = super::test_redis::Redis::start();
        let client = redis::Client::open(crate::redis_groups::with_resp3(&redis.url())).unwrap();
        let groups = RedisGroups::connect(&client).await.unwrap();
        create_list_join_route_leave(Groups::Redis(Box::new(groups))).await;
    }
}
