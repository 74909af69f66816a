//! What keeps several nodes on one Redis free of ghosts: each node renews a lease (its `alive`
//! key, [`NODE_TTL`](crate::redis_groups::NODE_TTL)) every [`TICK`] and, on the same tick, reaps
//! the nodes whose lease expired (killed with -9, frozen, cut off): their sockets leave their
//! groups in one atomic script, so the groups leave `list hosts`, and the members on the surviving
//! nodes get `user disconnected`. Any surviving node may do it; the script runs once per dead node.
//!
//! A node that finds itself reaped (it could not renew for a whole lease, or Redis restarted
//! empty) disconnects its sockets that were in groups (their peers were told they left, or the
//! record is gone) and registers again; those clients reconnect and start over (a host re-creates
//! its group, docs/protocol.md "Signaling restarts").

use crate::handlers::{tell_left, AppState};
use crate::redis_groups::RedisGroups;
use socketioxide::adapter::Adapter;
use socketioxide::SocketIo;
use std::sync::Arc;
use std::time::Duration;

/// How often a node renews its lease and looks for dead nodes.
pub const TICK: Duration = Duration::from_secs(1);

/// Runs the lease and the sweeper of `groups` (a Redis registry) until the task is aborted.
pub async fn run<A: Adapter>(state: Arc<AppState>, io: SocketIo<A>) {
    let Some(redis) = state.groups.redis() else { return };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut healthy = true;
    loop {
        tick.tick().await;
        match once(redis, &io).await {
            Ok(()) if !healthy => {
                tracing::warn!(node = redis.node(), "group registry reachable again");
                healthy = true;
            }
            Ok(()) => {}
            Err(e) if healthy => {
                tracing::warn!(node = redis.node(), error = %e, "group registry unreachable");
                healthy = false;
            }
            Err(_) => {}
        }
    }
}

async fn once<A: Adapter>(redis: &RedisGroups, io: &SocketIo<A>) -> Result<(), String> {
    if !redis.heartbeat().await.map_err(|e| e.0)? {
        let orphans = redis.reregister().await.map_err(|e| e.0)?;
        tracing::warn!(
            node = redis.node(),
            sockets = orphans.len(),
            "this node was reaped; disconnecting its grouped sockets"
        );
        if let Some(ns) = io.of("/").filter(|_| !orphans.is_empty()) {
            let _ = ns.local().to(orphans).disconnect().await;
        }
    }
    tell_left(io, redis.retry_leaves().await).await;
    tell_left(io, redis.sweep().await.map_err(|e| e.0)?).await;
    Ok(())
}
