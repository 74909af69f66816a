//! The group registry of several nodes, kept in one Redis (`--redis-url`). Same rules as the
//! in-memory [`Registry`](crate::groups::Registry); each operation is one Lua script, which Redis
//! runs atomically, so a name is taken by exactly one socket even when nodes race for it.
//!
//! Keys (under [`PREFIX`]): `name:<name>` → host id; `listed` (sorted set, score = creation number
//! from `seq`) and `gname` (host id → name) for `list hosts`; `of` (socket id → group key, the
//! host's id); `members:<key>` (set); `groups` (set of group keys, for the metric); and per node
//! `node:<node>` (its sockets that are in a group), `alive:<node>` (expires unless the node
//! renews it) and `nodes` (registered nodes). A node whose `alive` key expired is reaped by any
//! other node: its sockets leave their groups and the members left are told (see `cluster.rs`).
//! Scripts that add a socket refuse (`lost`) when their node is not registered, so a reaped node
//! cannot leave entries behind that nobody would reap.

use crate::groups::{GroupError, Sid};
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::collections::HashSet;
use std::time::Duration;

/// Every key starts with this.
const PREFIX: &str = "p2p:";

/// Redis could not be reached (or this node was reaped and has not re-registered yet).
#[derive(Debug)]
pub struct Unavailable(pub String);

impl From<redis::RedisError> for Unavailable {
    fn from(e: redis::RedisError) -> Self {
        Unavailable(e.to_string())
    }
}

/// Lua helpers shared by the scripts: `leave(P, sid)` removes a socket from its group and returns
/// the members left; `reap(P, node)` makes every socket of a node leave and returns
/// `{gone, member, gone, member, ...}` (members of the same node are skipped: they are gone too).
const LUA_LIB: &str = r#"
local function leave(P, sid)
  local key = redis.call('HGET', P..'of', sid)
  if not key then return {} end
  redis.call('HDEL', P..'of', sid)
  local mkey = P..'members:'..key
  redis.call('SREM', mkey, sid)
  if key == sid then
    local name = redis.call('HGET', P..'gname', sid)
    if name then
      if redis.call('GET', P..'name:'..name) == sid then redis.call('DEL', P..'name:'..name) end
      redis.call('HDEL', P..'gname', sid)
    end
    redis.call('ZREM', P..'listed', sid)
  end
  local others = redis.call('SMEMBERS', mkey)
  if #others == 0 then redis.call('SREM', P..'groups', key) end
  return others
end
local function reap(P, node, out)
  local nkey = P..'node:'..node
  for _, sid in ipairs(redis.call('SMEMBERS', nkey)) do
    for _, other in ipairs(leave(P, sid)) do
      if redis.call('SISMEMBER', nkey, other) == 0 then
        out[#out + 1] = sid
        out[#out + 1] = other
      end
    end
  end
  redis.call('DEL', nkey)
  redis.call('SREM', P..'nodes', node)
  redis.call('DEL', P..'alive:'..node)
end
"#;

/// ARGV: prefix, sid, name, node. Returns ok | lost | already | taken.
const CREATE_HOST: &str = r#"
local P, sid, name, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('SISMEMBER', P..'nodes', node) == 0 then return 'lost' end
if redis.call('HEXISTS', P..'of', sid) == 1 then return 'already' end
if not redis.call('SET', P..'name:'..name, sid, 'NX') then return 'taken' end
redis.call('ZADD', P..'listed', redis.call('INCR', P..'seq'), sid)
redis.call('HSET', P..'gname', sid, name)
redis.call('HSET', P..'of', sid, sid)
redis.call('SADD', P..'members:'..sid, sid)
redis.call('SADD', P..'groups', sid)
redis.call('SADD', P..'node:'..node, sid)
return 'ok'
"#;

/// ARGV: prefix, sid, host, max group size, node. Returns ok | lost | nohost | already | full.
const JOIN: &str = r#"
local P, sid, host, max, node = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if redis.call('SISMEMBER', P..'nodes', node) == 0 then return 'lost' end
if not redis.call('ZSCORE', P..'listed', host) then return 'nohost' end
local current = redis.call('HGET', P..'of', sid)
if current == host then return 'ok' end
if current then return 'already' end
if redis.call('SCARD', P..'members:'..host) >= max then return 'full' end
redis.call('SADD', P..'members:'..host, sid)
redis.call('HSET', P..'of', sid, host)
redis.call('SADD', P..'node:'..node, sid)
return 'ok'
"#;

/// ARGV: prefix, limit. Returns {total, id, name, id, name, ...}, oldest first.
const HOSTS: &str = r#"
local P, limit = ARGV[1], tonumber(ARGV[2])
local out = {tostring(redis.call('ZCARD', P..'listed'))}
for _, id in ipairs(redis.call('ZRANGE', P..'listed', 0, limit - 1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', P..'gname', id) or ''
end
return out
"#;

/// ARGV: prefix, sid, node. Returns the members left in the sid's group.
const LEAVE: &str = r#"
local P, sid, node = ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', P..'node:'..node, sid)
return leave(P, sid)
"#;

/// ARGV: prefix, node, ttl ms. Renews the node's `alive` key; 0 when the node is not registered
/// (it was reaped, or Redis lost its data).
const HEARTBEAT: &str = r#"
local P, node, ttl = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SISMEMBER', P..'nodes', node) == 0 then return 0 end
redis.call('SET', P..'alive:'..node, '1', 'PX', ttl)
return 1
"#;

/// ARGV: prefix, node, ttl ms. (Re-)registers the node.
const REGISTER: &str = r#"
local P, node, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SADD', P..'nodes', node)
redis.call('SET', P..'alive:'..node, '1', 'PX', ttl)
return 1
"#;

/// ARGV: prefix. Reaps every registered node whose `alive` key expired.
const SWEEP: &str = r#"
local P = ARGV[1]
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', P..'nodes')) do
  if redis.call('EXISTS', P..'alive:'..node) == 0 then reap(P, node, out) end
end
return out
"#;

/// ARGV: prefix, node. A node that shuts down reaps itself.
const RETIRE: &str = r#"
local out = {}
reap(ARGV[1], ARGV[2], out)
return out
"#;

struct Scripts {
    create_host: Script,
    join: Script,
    hosts: Script,
    leave: Script,
    heartbeat: Script,
    register: Script,
    sweep: Script,
    retire: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let with_lib = |body: &str| Script::new(&format!("{LUA_LIB}{body}"));
        Scripts {
            create_host: Script::new(CREATE_HOST),
            join: Script::new(JOIN),
            hosts: Script::new(HOSTS),
            leave: with_lib(LEAVE),
            heartbeat: Script::new(HEARTBEAT),
            register: Script::new(REGISTER),
            sweep: with_lib(SWEEP),
            retire: with_lib(RETIRE),
        }
    }
}

/// How long a node's `alive` key lives without renewal: a node that stops renewing (killed,
/// frozen, cut off from Redis) is reaped this long after its last heartbeat, plus one sweep.
pub const NODE_TTL: Duration = Duration::from_secs(5);

/// The registry in Redis, seen from one node.
pub struct RedisGroups {
    conn: ConnectionManager,
    node: String,
    scripts: Scripts,
    /// This node's sockets that have an entry in Redis: they are disconnected when the node finds
    /// itself reaped (their groups were dissolved and their peers told they left).
    local: Mutex<HashSet<Sid>>,
    /// Sockets whose leave failed while Redis was away; the cluster task retries them.
    pending_leaves: Mutex<Vec<Sid>>,
}

/// Adds `protocol=resp3` to a Redis URL that does not choose a protocol: the Socket.IO adapter
/// receives its pub/sub messages as RESP3 pushes and hears nothing over RESP2.
pub fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// The URL without its password, for error messages and logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &url[..scheme + 3], &url[at..]),
        _ => url.to_string(),
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("system randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pairs(flat: Vec<String>) -> Vec<(Sid, Sid)> {
    flat.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

impl RedisGroups {
    /// Connects (the connection reconnects by itself after a Redis restart) and registers a new
    /// node id.
    pub async fn connect(client: &redis::Client) -> Result<RedisGroups, Unavailable> {
        // Short timeouts: while Redis is away a request is refused within about a second rather
        // than hanging the socket's queue.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = client.get_connection_manager_with_config(config).await?;
        let groups = RedisGroups {
            conn,
            node: random_id(),
            scripts: Scripts::new(),
            local: Default::default(),
            pending_leaves: Default::default(),
        };
        groups.register().await?;
        Ok(groups)
    }

    /// This node's id in Redis.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub async fn create_host(&self, sid: &str, name: &str) -> Result<(), GroupError> {
        let mut call = self.scripts.create_host.prepare_invoke();
        call.arg(PREFIX).arg(sid).arg(name).arg(&self.node);
        self.outcome(sid, call.invoke_async(&mut self.conn.clone()).await)
    }

    pub async fn join(&self, sid: &str, host: &str, max_group_size: usize) -> Result<(), GroupError> {
        let mut call = self.scripts.join.prepare_invoke();
        call.arg(PREFIX).arg(sid).arg(host).arg(max_group_size).arg(&self.node);
        self.outcome(sid, call.invoke_async(&mut self.conn.clone()).await)
    }

    fn outcome(&self, sid: &str, reply: redis::RedisResult<String>) -> Result<(), GroupError> {
        match reply.as_deref() {
            Ok("ok") => {
                self.local.lock().insert(sid.to_string());
                Ok(())
            }
            Ok("taken") => Err(GroupError::NameTaken),
            Ok("already") => Err(GroupError::AlreadyInGroup),
            Ok("nohost") => Err(GroupError::NoSuchHost),
            Ok("full") => Err(GroupError::Full),
            Ok(_) => Err(GroupError::Unavailable),
            Err(e) => {
                // The script may have run before the reply was lost: remember the socket so its
                // leave cleans up whatever was written.
                tracing::warn!(error = %e, "group registry unavailable");
                self.local.lock().insert(sid.to_string());
                Err(GroupError::Unavailable)
            }
        }
    }

    pub async fn hosts(&self, limit: usize) -> Result<(Vec<(Sid, String)>, usize), Unavailable> {
        let mut call = self.scripts.hosts.prepare_invoke();
        call.arg(PREFIX).arg(limit);
        let flat: Vec<String> = call.invoke_async(&mut self.conn.clone()).await?;
        let total = flat.first().and_then(|t| t.parse().ok()).unwrap_or(0);
        Ok((pairs(flat.into_iter().skip(1).collect()), total))
    }

    pub async fn same_group(&self, from: &str, to: &str) -> Result<bool, Unavailable> {
        let (a, b): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(format!("{PREFIX}of"))
            .arg(from)
            .arg(to)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(from != to && a.is_some() && a == b)
    }

    pub async fn group_count(&self) -> Result<usize, Unavailable> {
        Ok(redis::cmd("SCARD").arg(format!("{PREFIX}groups")).query_async(&mut self.conn.clone()).await?)
    }

    /// `sid` leaves; returns the members to tell. When Redis is away the leave is queued for
    /// [`retry_leaves`](Self::retry_leaves) and nobody is told yet.
    pub async fn leave(&self, sid: &str) -> Vec<Sid> {
        if !self.local.lock().remove(sid) {
            return Vec::new();
        }
        match self.try_leave(sid).await {
            Ok(members) => members,
            Err(e) => {
                tracing::warn!(error = %e.0, sid, "leave deferred: group registry unavailable");
                self.pending_leaves.lock().push(sid.to_string());
                Vec::new()
            }
        }
    }

    async fn try_leave(&self, sid: &str) -> Result<Vec<Sid>, Unavailable> {
        let mut call = self.scripts.leave.prepare_invoke();
        call.arg(PREFIX).arg(sid).arg(&self.node);
        let mut members: Vec<Sid> = call.invoke_async(&mut self.conn.clone()).await?;
        members.sort();
        Ok(members)
    }

    /// Retries the leaves Redis refused; returns (gone, member to tell) pairs. Stops at the first
    /// failure (Redis is still away).
    pub async fn retry_leaves(&self) -> Vec<(Sid, Sid)> {
        let pending = std::mem::take(&mut *self.pending_leaves.lock());
        let mut told = Vec::new();
        for (i, sid) in pending.iter().enumerate() {
            match self.try_leave(sid).await {
                Ok(members) => told.extend(members.into_iter().map(|m| (sid.clone(), m))),
                Err(_) => {
                    self.pending_leaves.lock().extend(pending[i..].iter().cloned());
                    break;
                }
            }
        }
        told
    }

    /// Renews this node's lease. `Ok(false)`: the node is not registered any more (reaped while it
    /// could not renew, or Redis restarted empty).
    pub async fn heartbeat(&self) -> Result<bool, Unavailable> {
        let mut call = self.scripts.heartbeat.prepare_invoke();
        call.arg(PREFIX).arg(&self.node).arg(NODE_TTL.as_millis() as u64);
        let alive: i64 = call.invoke_async(&mut self.conn.clone()).await?;
        Ok(alive == 1)
    }

    /// Registers this node again after it was found reaped; returns the local sockets that had
    /// entries (gone now: the caller disconnects them). Leaves queued meanwhile are moot.
    pub async fn reregister(&self) -> Result<Vec<Sid>, Unavailable> {
        self.register().await?;
        self.pending_leaves.lock().clear();
        Ok(self.local.lock().drain().collect())
    }

    async fn register(&self) -> Result<(), Unavailable> {
        let mut call = self.scripts.register.prepare_invoke();
        call.arg(PREFIX).arg(&self.node).arg(NODE_TTL.as_millis() as u64);
        let _: i64 = call.invoke_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    /// Reaps the nodes whose lease expired; returns (gone, member to tell) pairs.
    pub async fn sweep(&self) -> Result<Vec<(Sid, Sid)>, Unavailable> {
        let mut call = self.scripts.sweep.prepare_invoke();
        call.arg(PREFIX);
        Ok(pairs(call.invoke_async(&mut self.conn.clone()).await?))
    }

    /// On shutdown: this node's sockets leave their groups at once (rather than after the lease
    /// expires); returns (gone, member to tell) pairs.
    pub async fn retire(&self) -> Result<Vec<(Sid, Sid)>, Unavailable> {
        self.local.lock().clear();
        let mut call = self.scripts.retire.prepare_invoke();
        call.arg(PREFIX).arg(&self.node);
        Ok(pairs(call.invoke_async(&mut self.conn.clone()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp3_is_added_when_missing() {
        assert_eq!(with_resp3("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379?protocol=resp3");
        assert_eq!(with_resp3("redis://h/0?timeout=1"), "redis://h/0?timeout=1&protocol=resp3");
        assert_eq!(with_resp3("redis://h?protocol=resp3"), "redis://h?protocol=resp3");
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redacted("redis://:s3cret@10.0.0.5:6379/0"), "redis://***@10.0.0.5:6379/0");
        assert_eq!(redacted("rediss://user:pw@h"), "rediss://***@h");
        assert_eq!(redacted("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
