//! A hostile group member against real native peers (issue 15): a raw Socket.IO client joins a
//! group on the real server and sends what no honest client sends. Each test asserts the bounded
//! outcome: how many connections the attack made the peers open, and that they were given up.

mod common;

use common::{attach_chat, config, wait_for, Server};
use futures_util::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event as SioEvent, Payload};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use webrtc_p2p::{Event, Events, PeerClient};

/// A raw Socket.IO client that says whatever the test tells it to.
struct Attacker {
    client: Client,
    id: String,
}

impl Attacker {
    async fn connect(url: &str) -> Attacker {
        let (tx, rx) = oneshot::channel::<String>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let client = ClientBuilder::new(url)
            .reconnect(false)
            .on(SioEvent::Connect, move |p: Payload, _: Client| {
                let sid = match p {
                    Payload::Text(v) => v.first().and_then(|v| v["sid"].as_str()).unwrap_or_default().to_string(),
                    _ => String::new(),
                };
                if let Some(tx) = tx.lock().unwrap().take() {
                    let _ = tx.send(sid);
                }
                async {}.boxed()
            })
            .connect()
            .await
            .unwrap();
        let id = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
        assert!(!id.is_empty());
        Attacker { client, id }
    }

    async fn send(&self, body: Value) {
        self.client.emit("message", Payload::Text(vec![body])).await.unwrap();
    }
}

/// Counts the UserConnecting events that arrived so far (without waiting).
fn connecting_so_far(events: &mut Events, seen: &mut Vec<String>) {
    while let Some(e) = events.try_recv() {
        if let Event::UserConnecting(id) = e {
            seen.push(id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_call_me_and_offers_open_no_connections() {
    let server = Server::start();
    let mut cfg = config(&server.url);
    cfg.p2p_timeout_ms = 3_000;
    let host = PeerClient::new(cfg.clone()).unwrap();
    let _host_chat = attach_chat(&host);
    let mut host_events = host.subscribe();
    host.start_host("victims").await.unwrap();
    let host_id = host.client_id().unwrap();
    let member = PeerClient::new(cfg.clone()).unwrap();
    let _member_chat = attach_chat(&member);
    let mut member_events = member.subscribe();
    member.start_client(&host_id).await.unwrap();
    let member_id = member.client_id().unwrap();

    // The attacker joins (so the server lets it reach the group), then forges: `call me` to the
    // host and to the member naming made-up peers, and an offer to the host.
    let attacker = Attacker::connect(&server.url).await;
    attacker.send(json!({"type": "join", "to": host_id})).await;
    for i in 0..100 {
        for to in [&host_id, &member_id] {
            attacker.send(json!({"type": "call me", "to": to, "me": format!("made-up-{i}")})).await;
        }
    }
    attacker.send(json!({"type": "offer", "to": host_id, "sdp": "v=0\r\n"})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (mut host_saw, mut member_saw) = (Vec::new(), Vec::new());
    connecting_so_far(&mut host_events, &mut host_saw);
    connecting_so_far(&mut member_events, &mut member_saw);
    // The host connects to the member and to the attacker's join; the member to the host and to
    // the attacker the host (honestly) introduced. Nothing to a made-up id.
    assert!(host_saw.iter().all(|id| *id == member_id || *id == attacker.id), "host dialled {host_saw:?}");
    assert!(member_saw.iter().all(|id| *id == host_id || *id == attacker.id), "member dialled {member_saw:?}");
    assert!(host_saw.len() <= 2 && member_saw.len() <= 2, "host {host_saw:?} member {member_saw:?}");

    // The attacker never answers: after the P2P timeout the host gives its connection up.
    let gave_up =
        wait_for(&mut host_events, 15, |e| matches!(e, Event::UserDisconnecting(id) if *id == attacker.id)).await;
    assert_eq!(gave_up, Event::UserDisconnecting(attacker.id.clone()));
    assert!(host.is_running() && member.is_running(), "the honest members are unharmed");
    attacker.client.disconnect().await.unwrap();
    member.stop().await;
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_flood_stops_at_max_peers() {
    let server = Server::start_with(&["--max-sockets-per-ip", "64"]);
    let mut cfg = config(&server.url);
    cfg.max_peers = 3;
    cfg.p2p_timeout_ms = 60_000;
    let host = PeerClient::new(cfg).unwrap();
    let _chat = attach_chat(&host);
    let mut events = host.subscribe();
    host.start_host("flooded").await.unwrap();
    let host_id = host.client_id().unwrap();
    let mut attackers = Vec::new();
    for _ in 0..10 {
        let a = Attacker::connect(&server.url).await;
        a.send(json!({"type": "join", "to": host_id})).await;
        attackers.push(a);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut saw = Vec::new();
    connecting_so_far(&mut events, &mut saw);
    assert_eq!(saw.len(), 3, "ten joins, at most maxPeers = 3 connections: {saw:?}");
    for a in attackers {
        a.client.disconnect().await.unwrap();
    }
    host.stop().await;
}
