//! The group registry a server uses: the in-memory [`Registry`] (the default: one process,
//! nothing to install) or the Redis one shared by several nodes (`--redis-url`). Handlers speak to
//! this enum only, so every rule is written once and both registries answer it.

use crate::groups::{GroupError, Registry, Sid};
use crate::redis_groups::{RedisGroups, Unavailable};
use parking_lot::Mutex;

pub enum Groups {
    Memory(Mutex<Registry>),
    Redis(Box<RedisGroups>),
}

impl Groups {
    pub async fn create_host(&self, sid: &str, name: &str) -> Result<(), GroupError> {
        match self {
            Groups::Memory(r) => r.lock().create_host(sid, name),
            Groups::Redis(r) => r.create_host(sid, name).await,
        }
    }

    pub async fn join(&self, sid: &str, host: &str, max_group_size: usize) -> Result<(), GroupError> {
        match self {
            Groups::Memory(r) => r.lock().join(sid, host, max_group_size),
            Groups::Redis(r) => r.join(sid, host, max_group_size).await,
        }
    }

    pub async fn hosts(&self, limit: usize) -> Result<(Vec<(Sid, String)>, usize), Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.lock().hosts(limit)),
            Groups::Redis(r) => r.hosts(limit).await,
        }
    }

    pub async fn same_group(&self, from: &str, to: &str) -> Result<bool, Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.lock().same_group(from, to)),
            Groups::Redis(r) => r.same_group(from, to).await,
        }
    }

    /// `sid` leaves; returns the members to tell.
    pub async fn leave(&self, sid: &str) -> Vec<Sid> {
        match self {
            Groups::Memory(r) => r.lock().leave(sid),
            Groups::Redis(r) => r.leave(sid).await,
        }
    }

    pub async fn group_count(&self) -> Result<usize, Unavailable> {
        match self {
            Groups::Memory(r) => Ok(r.lock().group_count()),
            Groups::Redis(r) => r.group_count().await,
        }
    }

    pub fn redis(&self) -> Option<&RedisGroups> {
        match self {
            Groups::Redis(r) => Some(r),
            Groups::Memory(_) => None,
        }
    }
}
