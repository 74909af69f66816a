//! Several nodes on one real `redis-server` (`--redis-url`): groups, routing and limits span the
//! nodes, a name is taken once even when nodes race, a killed node leaves no ghosts, a Redis
//! restart is survived. The nodes are real server processes on 127.0.0.1.

mod common;

use common::redis::Redis;
use common::{connect, Peer, Pushed, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn node(redis: &Redis, extra: &[&str]) -> Server {
    let mut args = vec!["--redis-url", redis.url().leak() as &str, "--max-sockets-per-ip", "200"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

async fn join(peer: &Peer, host: &str) -> Value {
    peer.send(json!({"type": "join", "to": host})).await
}

/// The next push that is not a `message` (those are the join traffic this test does not read).
async fn next_disconnect(peer: &mut Peer, within: Duration) -> Value {
    let until = Instant::now() + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, peer.pushed.recv()).await.expect("user disconnected in time") {
            Some(Pushed::UserDisconnected(v)) => return v,
            Some(_) => continue,
            None => panic!("client closed"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_spans_three_nodes_with_every_rule() {
    let redis = Redis::start();
    let limits = ["--max-group-size", "3", "--max-listed-hosts", "2"];
    let (a, b, c) = (node(&redis, &limits), node(&redis, &limits), node(&redis, &limits));
    let mut host = connect(&a.url).await;
    let mut on_b = connect(&b.url).await;
    let mut on_c = connect(&c.url).await;
    assert_eq!(host.create_host(json!("room")).await["status"], 200);
    let taken = connect(&c.url).await.create_host(json!("room")).await;
    assert_eq!((taken["status"].clone(), taken["reason"].clone()), (json!(409), json!("name-taken")));
    assert_eq!(on_b.hosts().await, json!([{"id": host.id, "name": "room"}]), "listed on every node");

    assert_eq!(join(&on_b, &host.id).await["status"], 200);
    assert_eq!(host.next().await, Pushed::Message(json!({"type": "join", "to": host.id, "from": on_b.id})));
    assert_eq!(join(&on_c, &host.id).await["status"], 200);
    assert_eq!(host.next().await, Pushed::Message(json!({"type": "join", "to": host.id, "from": on_c.id})));
    // Member to member across nodes, and the host to both.
    let offer = json!({"type": "offer", "to": on_b.id, "sdp": "v=0"});
    assert_eq!(on_c.send(offer).await["status"], 200);
    assert_eq!(
        on_b.next().await,
        Pushed::Message(json!({"type": "offer", "to": on_b.id, "sdp": "v=0", "from": on_c.id}))
    );
    assert_eq!(host.send(json!({"type": "done", "to": on_c.id})).await["status"], 200);
    assert_eq!(on_c.next().await, Pushed::Message(json!({"type": "done", "to": on_c.id, "from": host.id})));

    // Limits and group scoping hold across nodes.
    let outsider = connect(&a.url).await;
    let full = join(&outsider, &host.id).await;
    assert_eq!((full["status"].clone(), full["reason"].clone()), (json!(403), json!("group-full")));
    let forbidden = outsider.send(json!({"type": "offer", "to": on_b.id, "sdp": "x"})).await;
    assert_eq!(forbidden["status"], 403, "not in the group: nothing is relayed");
    let second = on_b.create_host(json!("another")).await;
    assert_eq!(second["reason"], "already-in-group", "one group per socket");
    assert_eq!(join(&on_b, &host.id).await["status"], 200, "joining one's own group again is idempotent");
    host.next().await;
    let other_host = connect(&b.url).await;
    assert_eq!(other_host.create_host(json!("second")).await["status"], 200);
    assert_eq!(join(&on_b, &other_host.id).await["reason"], "already-in-group");
    // Within one node (served without a round trip through Redis).
    let mut neighbour = connect(&b.url).await;
    assert_eq!(join(&neighbour, &other_host.id).await["status"], 200);
    assert_eq!(other_host.send(json!({"type": "offer", "to": neighbour.id})).await["status"], 200);
    assert_eq!(
        neighbour.next().await,
        Pushed::Message(json!({"type": "offer", "to": neighbour.id, "from": other_host.id}))
    );
    let third_host = connect(&c.url).await;
    assert_eq!(third_host.create_host(json!("third")).await["status"], 200);
    let listed = on_c.request("list hosts", rust_socketio::Payload::Text(vec![])).await;
    assert_eq!(listed["total"], 3);
    let names: Vec<&str> = listed["hosts"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["room", "second"], "oldest first, capped, across nodes");

    // Leaving: the members on the other nodes are told; a host's group leaves the list.
    on_c.client.disconnect().await.unwrap();
    assert_eq!(host.next().await, Pushed::UserDisconnected(json!({"id": on_c.id})));
    assert_eq!(on_b.next().await, Pushed::UserDisconnected(json!({"id": on_c.id})));
    let host_id = host.id.clone();
    host.client.disconnect().await.unwrap();
    assert_eq!(on_b.next().await, Pushed::UserDisconnected(json!({"id": host_id})));
    let names: Vec<Value> = on_b.hosts().await.as_array().unwrap().iter().map(|h| h["name"].clone()).collect();
    assert_eq!(names, [json!("second"), json!("third")]);
    assert_eq!(connect(&a.url).await.create_host(json!("room")).await["status"], 200, "the name is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_create_host_on_two_nodes_has_one_winner() {
    const ROUNDS: usize = 25;
    let redis = Redis::start();
    let (a, b) = (node(&redis, &[]), node(&redis, &[]));
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    for _ in 0..ROUNDS {
        on_a.push(connect(&a.url).await);
        on_b.push(connect(&b.url).await);
    }
    let mut winners = Vec::new();
    for (i, (x, y)) in on_a.iter().zip(&on_b).enumerate() {
        let name = json!(format!("race {i}"));
        let (rx, ry) = tokio::join!(x.create_host(name.clone()), y.create_host(name));
        let statuses = [rx["status"].as_u64().unwrap(), ry["status"].as_u64().unwrap()];
        assert!(statuses == [200, 409] || statuses == [409, 200], "round {i}: {rx} / {ry}");
        let loser = if statuses[0] == 409 { &rx } else { &ry };
        assert_eq!(loser["reason"], "name-taken", "round {i}");
        winners.push(if statuses[0] == 200 { x.id.clone() } else { y.id.clone() });
    }
    let listed = on_a[0].request("list hosts", rust_socketio::Payload::Text(vec![])).await;
    assert_eq!(listed["total"], ROUNDS, "one group per name");
    let ids: Vec<String> =
        listed["hosts"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids, winners, "each name is hosted by its winner, in creation order");
    let from_a = winners.iter().filter(|w| on_a.iter().any(|p| &p.id == *w)).count();
    println!("race winners: {from_a} on node A, {} on node B", ROUNDS - from_a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_no_ghosts() {
    let redis = Redis::start();
    let (mut a, b, c) = (node(&redis, &[]), node(&redis, &[]), node(&redis, &[]));
    let host = connect(&a.url).await;
    let mut on_b = connect(&b.url).await;
    let mut on_c = connect(&c.url).await;
    let survivor = connect(&b.url).await;
    assert_eq!(survivor.create_host(json!("survivor")).await["status"], 200);
    assert_eq!(host.create_host(json!("doomed")).await["status"], 200);
    assert_eq!(join(&on_b, &host.id).await["status"], 200);
    assert_eq!(join(&on_c, &host.id).await["status"], 200);
    assert_eq!(on_b.hosts().await.as_array().unwrap().len(), 2);

    let killed = Instant::now();
    a.child.kill().unwrap(); // SIGKILL: no leave, no goodbye
    let _ = a.child.wait();
    let within = Duration::from_secs(15);
    assert_eq!(next_disconnect(&mut on_b, within).await, json!({"id": host.id}));
    assert_eq!(next_disconnect(&mut on_c, within.saturating_sub(killed.elapsed())).await, json!({"id": host.id}));
    let told = killed.elapsed();
    assert_eq!(on_c.hosts().await, json!([{"id": survivor.id, "name": "survivor"}]), "the dead node's group is gone");
    assert_eq!(connect(&c.url).await.create_host(json!("doomed")).await["status"], 200, "and its name is free");
    println!("members on the surviving nodes told {} ms after kill -9", told.as_millis());
}

/// A node frozen past its lease (SIGSTOP: as a long GC pause or a cut-off network) is reaped like a
/// dead one; when it wakes it finds itself reaped, drops its grouped sockets, and serves again
/// without bringing the old group back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_node_is_reaped_and_comes_back_clean() {
    let redis = Redis::start();
    let (a, b) = (node(&redis, &[]), node(&redis, &[]));
    let host = connect(&a.url).await;
    let mut member = connect(&b.url).await;
    assert_eq!(host.create_host(json!("frozen")).await["status"], 200);
    assert_eq!(join(&member, &host.id).await["status"], 200);
    let signal = |sig: &str| {
        let pid = a.child.id().to_string();
        assert!(std::process::Command::new("kill").args([sig, &pid]).status().unwrap().success());
    };
    signal("-STOP");
    assert_eq!(next_disconnect(&mut member, Duration::from_secs(15)).await, json!({"id": host.id}));
    assert_eq!(member.hosts().await, json!([]));
    signal("-CONT");
    let start = Instant::now();
    let again = loop {
        assert!(start.elapsed() < Duration::from_secs(10), "the woken node does not serve again");
        let fresh = connect(&a.url).await;
        if fresh.create_host(json!("frozen")).await["status"] == 200 {
            break fresh;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(member.hosts().await, json!([{"id": again.id, "name": "frozen"}]), "no ghost of the old group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_takes_its_groups_along_at_once() {
    let redis = Redis::start();
    let (mut a, b) = (node(&redis, &[]), node(&redis, &[]));
    let host = connect(&a.url).await;
    let mut member = connect(&b.url).await;
    assert_eq!(host.create_host(json!("leaving")).await["status"], 200);
    assert_eq!(join(&member, &host.id).await["status"], 200);
    a.sigterm();
    // Well before the 5 s lease of a dead node would run out.
    assert_eq!(next_disconnect(&mut member, Duration::from_secs(4)).await, json!({"id": host.id}));
    assert_eq!(member.hosts().await, json!([]));
    assert!(a.wait_exit(Duration::from_secs(10)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived() {
    let mut redis = Redis::start();
    let (mut a, mut b) = (node(&redis, &[]), node(&redis, &[]));
    let host = connect(&a.url).await;
    let member = connect(&b.url).await;
    assert_eq!(host.create_host(json!("before")).await["status"], 200);
    assert_eq!(join(&member, &host.id).await["status"], 200);

    redis.kill();
    let fresh = connect(&a.url).await;
    let outage = Instant::now();
    let refused = fresh.create_host(json!("during")).await;
    assert_eq!((refused["status"].clone(), refused["reason"].clone()), (json!(409), json!("unavailable")));
    let listed = fresh.request("list hosts", rust_socketio::Payload::Text(vec![])).await;
    assert_eq!((listed["status"].clone(), listed["reason"].clone()), (json!(503), json!("unavailable")));
    let sent = host.send(json!({"type": "offer", "to": member.id, "sdp": "x"})).await;
    assert_eq!((sent["status"].clone(), sent["reason"].clone()), (json!(503), json!("unavailable")));
    println!("during the outage: {} (3 refusals in {} ms)", refused["message"], outage.elapsed().as_millis());

    let _redis = Redis::start_on(redis.port);
    // Service comes back within a few seconds with no restart of the nodes.
    let start = Instant::now();
    let (h, m) = loop {
        assert!(start.elapsed() < Duration::from_secs(20), "no service 20 s after Redis came back");
        let (h, mut m) = (connect(&a.url).await, connect(&b.url).await);
        if h.create_host(json!(format!("after {}", start.elapsed().as_millis()))).await["status"] == 200
            && join(&m, &h.id).await["status"] == 200
        {
            m.quiet(0).await;
            break (h, m);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(h.send(json!({"type": "done", "to": m.id})).await["status"], 200);
    let mut m = m;
    assert_eq!(m.next().await, Pushed::Message(json!({"type": "done", "to": m.id, "from": h.id})));
    println!("service back {} ms after Redis restarted", start.elapsed().as_millis());
    assert!(a.child.try_wait().unwrap().is_none() && b.child.try_wait().unwrap().is_none(), "no node crashed");
}
