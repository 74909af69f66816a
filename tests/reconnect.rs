//! A restarted signaling server (issue 15 item 10): the drop is reported once, the client
//! reconnects, and the P2P links of a running group are never touched by it. Real server processes
//! on 127.0.0.1, stopped with SIGTERM (graceful) or SIGKILL and restarted on the same port.

mod common;

use common::{config, host, join, wait_for, Member, Server};
use std::time::{Duration, Instant};
use webrtc_p2p::{Event, P2pError, PeerClient, PeerRole};

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

/// Waits for `Reconnected` and returns the new id, which differs from `old`.
async fn reconnected(m: &mut Member, old: &str) -> String {
    let Event::Reconnected(id) = wait_for(&mut m.events, 30, |e| matches!(e, Event::Reconnected(_))).await else {
        unreachable!()
    };
    assert!(!id.is_empty() && id != old, "a reconnected socket has a new id");
    assert_eq!(m.client.client_id().as_deref(), Some(id.as_str()));
    id
}

/// Exactly one `Disconnected` per drop: none is queued after the `Reconnected`.
fn assert_no_second_disconnect(m: &mut Member) {
    while let Some(e) = m.events.try_recv() {
        assert!(!matches!(e, Event::Disconnected(_)), "a second Disconnected: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_and_restart_reconnect_in_the_background_and_the_host_re_creates_its_group() {
    let mut server = Server::start();
    let port = server.port();
    let mut members = group(&server.url, "sigterm").await;
    let lone = PeerClient::new(config(&server.url)).unwrap();
    let mut lone_events = lone.subscribe();
    assert_eq!(lone.list_hosts().await.unwrap().len(), 1);

    server.terminate();
    for m in members.iter_mut() {
        assert!(matches!(
            wait_for(&mut m.events, 15, |e| matches!(e, Event::Disconnected(_))).await,
            Event::Disconnected(_)
        ));
    }
    assert!(matches!(
        wait_for(&mut lone_events, 15, |e| matches!(e, Event::Disconnected(_))).await,
        Event::Disconnected(_)
    ));
    // While the server is away, a request fails fast with a clear error (no hang, no stale socket).
    match lone.list_hosts().await {
        Err(P2pError::ConnectFailed(why)) => assert!(why.contains("reconnect"), "{why}"),
        other => panic!("expected ConnectFailed, got {other:?}"),
    }

    let _server = Server::start_on(port);
    let mut new_ids = Vec::new();
    for m in members.iter_mut() {
        let old = m.id.clone();
        new_ids.push(reconnected(m, &old).await);
    }
    wait_for(&mut lone_events, 30, |e| matches!(e, Event::Reconnected(_))).await;
    // The host re-created its group under its name and its new id; everyone can list it.
    let listed = members[1].client.list_hosts().await.expect("list hosts after the restart");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].id.as_str(), listed[0].name.as_str()), (new_ids[0].as_str(), "sigterm"));
    assert_eq!(members[0].client.host_id(), Some(new_ids[0].clone()));
    assert_eq!(members[1].client.host_id(), Some(members[0].id.clone()), "a member still knows its link's host id");

    assert_links_flow(&mut members, "after sigterm").await;
    assert_no_link_closed(&mut members);
    for m in members.iter_mut() {
        assert_no_second_disconnect(m);
        assert!(m.client.is_running());
    }

    // A newcomer joins the re-created group and gets a link to the host.
    let newcomer = join(config(&_server.url), &new_ids[0]).await;
    newcomer.chat.wait_open(std::slice::from_ref(&new_ids[0]), 20).await;
    members[0].chat.wait_open(std::slice::from_ref(&newcomer.id), 20).await;
    members[0].chat.channel(&newcomer.id).send_text("welcome").await.unwrap();
    let mut newcomer = newcomer;
    assert_eq!(newcomer.chat.recv_n(1, 10).await[0].1, b"welcome".to_vec());

    // A client outside any group is simply usable again.
    lone.start_host("after the restart").await.expect("start host after the restart");
    assert_eq!(members[1].client.list_hosts().await.unwrap().len(), 2);

    stop_all(&members).await;
    newcomer.client.stop().await;
    lone.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_and_restart_without_background_reconnection_the_next_request_reconnects_and_links_stay() {
    let mut server = Server::start();
    let port = server.port();
    let mut cfg = config(&server.url);
    cfg.socket.reconnection = false;
    let h = host(cfg.clone(), "kill9").await;
    let a = join(cfg.clone(), &h.id).await;
    let b = join(cfg, &h.id).await;
    let mut members = vec![h, a, b];
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    for m in &members {
        let others: Vec<String> = ids.iter().filter(|id| **id != m.id).cloned().collect();
        m.chat.wait_open(&others, 20).await;
    }

    server.kill();
    for m in members.iter_mut() {
        assert!(matches!(
            wait_for(&mut m.events, 30, |e| matches!(e, Event::Disconnected(_))).await,
            Event::Disconnected(_)
        ));
    }
    let t = Instant::now();
    assert!(matches!(members[1].client.list_hosts().await, Err(P2pError::ConnectFailed(_))));
    assert!(t.elapsed() < Duration::from_secs(10), "a request while the server is away fails fast");
    assert!(matches!(members[1].client.start_host("x").await, Err(P2pError::InvalidState(_))), "still in its group");
    assert_links_flow(&mut members, "server down").await;

    let _server = Server::start_on(port);
    // No background reconnection: nothing happens until a request, which reconnects at once.
    for m in members.iter_mut() {
        let hosts = m.client.list_hosts().await.expect("the request reconnects");
        assert!(hosts.len() <= 1, "{hosts:?}");
        let old = m.id.clone();
        reconnected(m, &old).await;
    }
    let hosts = members[2].client.list_hosts().await.unwrap();
    assert_eq!(hosts.len(), 1, "the host re-created its group when its request reconnected: {hosts:?}");
    assert_eq!(hosts[0].name, "kill9");
    assert_links_flow(&mut members, "after kill -9").await;
    assert_no_link_closed(&mut members);
    for m in members.iter_mut() {
        assert_no_second_disconnect(m);
        assert_ne!(m.client.role(), PeerRole::None, "still in its group");
    }
    // Stop closes the links whether or not byes can be delivered. Here the bye cannot be (the
    // member's old id is in no group of the new server), so the host learns it from ICE: consent
    // checks fail after ~30 s (webrtc-rs's disconnected + failed timeouts), hence the bound.
    members[2].client.stop().await;
    wait_for(&mut members[0].events, 60, |e| matches!(e, Event::UserDisconnecting(_))).await;
    stop_all(&members[..2]).await;
}
