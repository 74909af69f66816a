//! A restarted signaling server (issue 15 item 10): the drop is reported once, the client
//! reconnects, and the P2P links of a running group are never touched by it. Real server processes
//! on 127.0.0.1, stopped with SIGTERM (graceful) or SIGKILL and restarted on the same port.

mod common;

use common::{attach_chat, config, wait_for, Chat, Server};
use std::time::Duration;
use webrtc_p2p::{Event, Events, PeerClient, PeerConfig, PeerRole};

struct Member {
    client: PeerClient,
    events: Events,
    chat: Chat,
    id: String,
}

async fn host(cfg: PeerConfig, name: &str) -> Member {
    let client = PeerClient::new(cfg).unwrap();
    let mut events = client.subscribe();
    let chat = attach_chat(&client);
    client.start_host(name).await.expect("start host");
    let Event::Started(id) = wait_for(&mut events, 10, |e| matches!(e, Event::Started(_))).await else { unreachable!() };
    Member { client, events, chat, id }
}

async fn join(cfg: PeerConfig, host_id: &str) -> Member {
    let client = PeerClient::new(cfg).unwrap();
    let mut events = client.subscribe();
    let chat = attach_chat(&client);
    client.start_client(host_id).await.expect("start client");
    let Event::Started(id) = wait_for(&mut events, 10, |e| matches!(e, Event::Started(_))).await else { unreachable!() };
    Member { client, events, chat, id }
}

/// A host and two members with open chat channels between all of them.
async fn group(url: &str, name: &str) -> Vec<Member> {
    let h = host(config(url), name).await;
    let a = join(config(url), &h.id).await;
    let b = join(config(url), &h.id).await;
    let members = vec![h, a, b];
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    for m in &members {
        let others: Vec<String> = ids.iter().filter(|id| **id != m.id).cloned().collect();
        m.chat.wait_open(&others, 20).await;
    }
    members
}

/// Every ordered pair of members exchanges one message over the P2P links made before the restart.
async fn assert_links_flow(members: &mut [Member], tag: &str) {
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    for m in members.iter() {
        for other in ids.iter().filter(|id| **id != m.id) {
            m.chat.channel(other).send_text(&format!("{tag} {}->{other}", m.id)).await.expect("send on a live link");
        }
    }
    for m in members.iter_mut() {
        let got = m.chat.recv_n(ids.len() - 1, 10).await;
        for (from, data, _) in got {
            assert_eq!(String::from_utf8(data).unwrap(), format!("{tag} {from}->{}", m.id));
        }
    }
}

/// No peer connection closed: no UserDisconnecting queued and no close hook ran.
fn assert_no_link_closed(members: &mut [Member]) {
    for m in members.iter_mut() {
        while let Some(e) = m.events.try_recv() {
            assert!(!matches!(e, Event::UserDisconnecting(_)), "{} lost a link: {e:?}", m.id);
        }
        assert!(m.chat.closed_hooks.lock().is_empty(), "{} ran close hooks", m.id);
    }
}

async fn stop_all(members: &[Member]) {
    for m in members {
        m.client.stop().await;
        assert!(!m.client.is_running());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_raises_disconnected_and_the_client_is_usable_after_a_restart() {
    let mut server = Server::start();
    let port = server.port();
    let mut members = group(&server.url, "sigterm").await;
    server.terminate();
    for m in members.iter_mut() {
        assert!(matches!(wait_for(&mut m.events, 15, |e| matches!(e, Event::Disconnected(_))).await, Event::Disconnected(_)));
    }
    let server = Server::start_on(port);
    // A request after the restart works (it may wait for the reconnect, bounded by its timeouts).
    let lister = &members[1].client;
    let mut listed = Vec::new();
    for _ in 0..50 {
        if let Ok(hosts) = lister.list_hosts().await {
            listed = hosts;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(listed.len(), 1, "the host's group is listed again: {listed:?}");
    assert_eq!(listed[0].name, "sigterm");
    assert_links_flow(&mut members, "after sigterm").await;
    assert_no_link_closed(&mut members);
    assert!(members.iter().all(|m| m.client.is_running()));
    stop_all(&members).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_and_restart_leaves_the_p2p_links_alone() {
    let mut server = Server::start();
    let port = server.port();
    let mut members = group(&server.url, "kill9").await;
    server.kill();
    for m in members.iter_mut() {
        assert!(matches!(wait_for(&mut m.events, 30, |e| matches!(e, Event::Disconnected(_))).await, Event::Disconnected(_)));
    }
    let server = Server::start_on(port);
    for m in members.iter() {
        let mut ok = false;
        for _ in 0..50 {
            if m.client.list_hosts().await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(ok, "list hosts works again after the restart");
        assert_eq!(m.client.role() == PeerRole::None, false);
    }
    assert_links_flow(&mut members, "after kill -9").await;
    assert_no_link_closed(&mut members);
    stop_all(&members).await;
    drop(server);
}
