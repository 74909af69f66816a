//! The client core end to end: a real signaling server process, real WebRTC on loopback.

mod common;
#[path = "../server/tests/common/redis.rs"]
mod redis_server;

use common::{config, host, join, wait_for, wait_tasks_end, Member, Server};
use std::time::{Duration, Instant};
use webrtc_p2p::{Event, P2pError, PeerClient, PeerRole};

/// Every member opens a channel to every other, and every ordered pair exchanges a message.
async fn assert_full_mesh(members: &mut [Member]) {
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    for m in members.iter() {
        let others: Vec<String> = ids.iter().filter(|id| **id != m.id).cloned().collect();
        m.chat.wait_open(&others, 30).await;
    }
    for m in members.iter() {
        for other in ids.iter().filter(|id| **id != m.id) {
            m.chat.channel(other).send_text(&format!("{}->{}", m.id, other)).await.unwrap();
        }
    }
    for m in members.iter_mut() {
        let mut got: Vec<String> = m
            .chat
            .recv_n(ids.len() - 1, 20)
            .await
            .into_iter()
            .map(|(from, data, is_text)| {
                assert!(is_text);
                let text = String::from_utf8(data).unwrap();
                assert_eq!(text, format!("{}->{}", from, m.id), "message arrived on the channel of its sender");
                from
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = ids.iter().filter(|id| **id != m.id).cloned().collect();
        want.sort();
        assert_eq!(got, want);
    }
}

async fn mesh_of(n: usize, name: &str) {
    let server = Server::start();
    let mut members = vec![host(config(&server.url), name).await];
    let host_id = members[0].id.clone();
    for _ in 1..n {
        members.push(join(config(&server.url), &host_id).await);
    }
    assert_full_mesh(&mut members).await;
    for m in &members {
        m.client.stop().await;
        assert!(!m.client.is_running());
    }
}

/// Scale-out (`--redis-url`): the host on node A, members on nodes B and A; the signaling between
/// them crosses the nodes through Redis, and every pair ends up with a data channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mesh_spans_two_signaling_nodes_over_redis() {
    let redis = redis_server::Redis::start();
    let url = redis.url();
    let (a, b) = (Server::start_with(&["--redis-url", &url]), Server::start_with(&["--redis-url", &url]));
    let mut members = vec![host(config(&a.url), "two nodes").await];
    let host_id = members[0].id.clone();
    members.push(join(config(&b.url), &host_id).await);
    members.push(join(config(&a.url), &host_id).await);
    assert_full_mesh(&mut members).await;
    for m in &members {
        m.client.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_peers_form_a_mesh() {
    mesh_of(2, "two").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_peers_form_a_full_mesh() {
    mesh_of(3, "three").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_peers_form_a_full_mesh() {
    mesh_of(6, "six").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binary_messages_and_events_in_order() {
    let server = Server::start();
    let mut h = host(config(&server.url), "binary").await;
    let mut c = join(config(&server.url), &h.id).await;
    // The client saw: connecting, connected (host), started — in that order.
    h.chat.wait_open(&[c.id.clone()], 10).await;
    c.chat.wait_open(&[h.id.clone()], 10).await;
    let payload: Vec<u8> = (0..=255u8).cycle().take(16 * 1024).collect();
    c.chat.channel(&h.id).send(&payload).await.unwrap();
    h.chat.channel(&c.id).send(&[0, 1, 2]).await.unwrap();
    let (from, data, is_text) = h.chat.recv_n(1, 10).await.remove(0);
    assert_eq!((from.as_str(), is_text), (c.id.as_str(), false));
    assert_eq!(data, payload);
    let (_, data, is_text) = c.chat.recv_n(1, 10).await.remove(0);
    assert_eq!((data, is_text), (vec![0, 1, 2], false));
    // Host side events for the client: connecting then connected.
    let e = wait_for(&mut h.events, 1, |e| matches!(e, Event::UserConnecting(_) | Event::UserConnected(_))).await;
    assert_eq!(e, Event::UserConnecting(c.id.clone()));
    let e = wait_for(&mut h.events, 1, |e| matches!(e, Event::UserConnected(_))).await;
    assert_eq!(e, Event::UserConnected(c.id.clone()));
    h.client.stop().await;
    c.client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_leaves_and_the_rest_of_the_mesh_carries_on_then_the_host_stops() {
    let server = Server::start();
    let mut h = host(config(&server.url), "leave").await;
    let mut a = join(config(&server.url), &h.id).await;
    let b = join(config(&server.url), &h.id).await;
    let ids = [h.id.clone(), a.id.clone(), b.id.clone()];
    h.chat.wait_open(&ids[1..], 20).await;
    a.chat.wait_open(&[ids[0].clone(), ids[2].clone()], 20).await;
    b.chat.wait_open(&ids[..2], 20).await;

    b.client.stop().await;
    assert!(!b.client.is_running());
    assert_eq!(b.client.role(), PeerRole::None);
    assert_eq!(
        wait_for(&mut h.events, 10, |e| matches!(e, Event::UserDisconnecting(_))).await,
        Event::UserDisconnecting(b.id.clone())
    );
    assert_eq!(
        wait_for(&mut a.events, 10, |e| matches!(e, Event::UserDisconnecting(_))).await,
        Event::UserDisconnecting(b.id.clone())
    );
    // Close hooks ran once for the leaver, on both sides.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*h.chat.closed_hooks.lock(), vec![b.id.clone()]);
    assert_eq!(*a.chat.closed_hooks.lock(), vec![b.id.clone()]);
    let mut closed = b.chat.closed_hooks.lock().clone();
    closed.sort();
    let mut want = vec![h.id.clone(), a.id.clone()];
    want.sort();
    assert_eq!(closed, want, "the leaver's close hooks ran once per peer");

    h.chat.channel(&a.id).send_text("still here").await.unwrap();
    let (from, data, _) = a.chat.recv_n(1, 10).await.remove(0);
    assert_eq!((from, data), (h.id.clone(), b"still here".to_vec()));

    h.client.stop().await;
    assert_eq!(
        wait_for(&mut a.events, 10, |e| matches!(e, Event::UserDisconnecting(_))).await,
        Event::UserDisconnecting(h.id.clone())
    );
    a.client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_host_name_is_a_typed_error_and_list_hosts_follows_the_groups() {
    let server = Server::start();
    let lister = PeerClient::new(config(&server.url)).unwrap();
    assert_eq!(lister.list_hosts().await.unwrap(), vec![]);
    let h = host(config(&server.url), "room").await;
    let hosts = lister.list_hosts().await.unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!((hosts[0].id.as_str(), hosts[0].name.as_str()), (h.id.as_str(), "room"));

    let dup = PeerClient::new(config(&server.url)).unwrap();
    assert_eq!(dup.start_host("room").await, Err(P2pError::HostExists("room".into())));
    assert!(!dup.is_running());
    assert!(matches!(dup.start_host("  ").await, Err(P2pError::InvalidArgument(_))));
    assert!(matches!(dup.start_host(&"x".repeat(65)).await, Err(P2pError::InvalidArgument(_))));
    assert!(matches!(dup.start_host("a\u{7}b").await, Err(P2pError::InvalidArgument(_))));
    dup.start_host("room 2").await.unwrap();
    assert!(matches!(dup.start_host("room 3").await, Err(P2pError::InvalidState(_))));
    assert_eq!(lister.list_hosts().await.unwrap().len(), 2);

    h.client.stop().await;
    dup.stop().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !lister.list_hosts().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "stopped hosts must leave list hosts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    lister.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_signaling_raises_connect_failed() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = PeerClient::new(config(&format!("http://127.0.0.1:{port}"))).unwrap();
    let mut events = client.subscribe();
    let started = Instant::now();
    assert!(matches!(client.start_host("x").await, Err(P2pError::ConnectFailed(_))));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(wait_for(&mut events, 1, |_| true).await, Event::ConnectFailed(_)));
    assert!(!client.is_running());
    assert!(matches!(client.list_hosts().await, Err(P2pError::ConnectFailed(_))));
    assert!(matches!(wait_for(&mut events, 1, |_| true).await, Event::ConnectFailed(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_missing_host_raises_start_failed_after_the_p2p_timeout() {
    let server = Server::start();
    let mut cfg = config(&server.url);
    cfg.p2p_timeout_ms = 1_500;
    let client = PeerClient::new(cfg).unwrap();
    let mut events = client.subscribe();
    let started = Instant::now();
    assert!(matches!(client.start_client("no-such-host").await, Err(P2pError::StartFailed(_))));
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    assert!(matches!(wait_for(&mut events, 1, |_| true).await, Event::StartFailed(_)));
    assert!(!client.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_raises_disconnected_and_links_keep_working() {
    let mut server = Server::start();
    let mut h = host(config(&server.url), "kill").await;
    let mut c = join(config(&server.url), &h.id).await;
    h.chat.wait_open(&[c.id.clone()], 10).await;
    c.chat.wait_open(&[h.id.clone()], 10).await;
    server.kill();
    assert!(matches!(
        wait_for(&mut h.events, 30, |e| matches!(e, Event::Disconnected(_))).await,
        Event::Disconnected(_)
    ));
    assert!(matches!(
        wait_for(&mut c.events, 30, |e| matches!(e, Event::Disconnected(_))).await,
        Event::Disconnected(_)
    ));
    assert!(h.client.is_running(), "a signaling drop does not stop the session");
    h.chat.channel(&c.id).send_text("after the server died").await.unwrap();
    c.chat.channel(&h.id).send_text("me too").await.unwrap();
    assert_eq!(c.chat.recv_n(1, 10).await[0].1, b"after the server died".to_vec());
    assert_eq!(h.chat.recv_n(1, 10).await[0].1, b"me too".to_vec());
    // Stop with no server: no hang, no Disconnected from our own stop.
    let t = Instant::now();
    h.client.stop().await;
    c.client.stop().await;
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vanilla_peer_joins_a_group_of_trickle_peers() {
    let server = Server::start();
    let mut members = vec![host(config(&server.url), "mixed").await];
    let host_id = members[0].id.clone();
    members.push(join(config(&server.url), &host_id).await);
    let mut vanilla = config(&server.url);
    vanilla.trickle_ice = false;
    members.push(join(vanilla, &host_id).await);
    members.push(join(config(&server.url), &host_id).await);
    assert_full_mesh(&mut members).await;
    for m in &members {
        m.client.stop().await;
    }
}

/// Forming a group and stopping it leaves no task behind: every task a session, a peer or a
/// connection started has ended once `stop` returned and the timers it armed are cancelled
/// (an app that joins and leaves groups all day must not grow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_group_leaves_no_task_behind() {
    let server = Server::start();
    let before = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    for round in 0..2 {
        let a = host(config(&server.url), &format!("tasks {round}")).await;
        let b = join(config(&server.url), &a.id).await;
        let c = join(config(&server.url), &a.id).await;
        let mut members = [a, b, c];
        assert_full_mesh(&mut members).await;
        for m in &members {
            m.client.stop().await;
        }
    }
    wait_tasks_end(before).await;
}
