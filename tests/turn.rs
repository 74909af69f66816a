//! TURN REST credentials end to end: a real coturn on loopback (`use-auth-secret`), our server
//! issuing credentials with `--turn-secret`, two native peers forced to relay-only ICE. The path is
//! proven relayed by the selected candidate pair of both ends and by coturn's own allocation log;
//! a server configured with the wrong secret makes the start fail with a reason that says so.

mod common;

use common::turn::{Coturn, TurnAuth};
use common::{config, host, Server};
use std::time::{Duration, Instant};
use webrtc_p2p::{IceTransportPolicy, P2pError, PeerClient, PeerConfig};

/// coturn with the TURN REST scheme, logging every request (the tests read its log).
fn coturn(secret: &str) -> Coturn {
    Coturn::start(TurnAuth::Secret(secret), 41, true)
}

fn relay_only(url: &str) -> PeerConfig {
    let mut c = config(url);
    c.ice_transport_policy = IceTransportPolicy::Relay;
    c
}

/// Polls `f` until it returns true, for at most `secs` (a readiness wait, not a timing assertion).
async fn eventually(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Both ends' selected pair uses a relay candidate on our side.
async fn relayed(client: &PeerClient) -> bool {
    let stats = client.stats().await;
    !stats.is_empty()
        && stats
            .iter()
            .all(|s| s.selected_pair.as_ref().is_some_and(|p| p.local.kind == "relay" && p.local.protocol == "udp"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_peers_connect_through_coturn_with_issued_credentials() {
    let turn = coturn("turn-shared-secret");
    let server = Server::start_with(&["--turn-secret", "turn-shared-secret", "--turn-urls", &turn.url()]);
    let mut host = host(relay_only(&server.url), "turn relay").await;
    let mut member = common::join(relay_only(&server.url), &host.id).await;
    member.chat.wait_open(std::slice::from_ref(&host.id), 20).await;
    host.chat.wait_open(std::slice::from_ref(&member.id), 20).await;

    member.chat.channel(&host.id).send_text("through the relay").await.unwrap();
    host.chat.channel(&member.id).send_text("and back").await.unwrap();
    let at_host = host.chat.recv_n(1, 20).await;
    assert_eq!((at_host[0].0.as_str(), at_host[0].1.as_slice()), (member.id.as_str(), &b"through the relay"[..]));
    let at_member = member.chat.recv_n(1, 20).await;
    assert_eq!(at_member[0].1, b"and back");

    eventually(20, "both links to report a relay pair", async || {
        relayed(&host.client).await && relayed(&member.client).await
    })
    .await;
    // coturn authenticated our issued credentials (username `<expiry>:<socket id>`) and relayed.
    assert!(turn.log_contains("ALLOCATE processed, success"), "coturn log:\n{}", turn.log());
    assert!(turn.log_contains(&format!(":{}", member.id)), "the member's credentials name its socket id");
    let _ = (&mut host.events, &mut member.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_turn_secret_fails_the_start_with_a_reason() {
    let turn = coturn("the-right-secret");
    let server = Server::start_with(&["--turn-secret", "a-wrong-secret", "--turn-urls", &turn.url()]);
    let host = host(relay_only(&server.url), "turn wrong secret").await;
    let mut cfg = relay_only(&server.url);
    cfg.p2p_timeout_ms = 4_000;
    let member = PeerClient::new(cfg).unwrap();
    match member.start_client(&host.id).await {
        Err(P2pError::StartFailed(reason)) => assert!(reason.contains("TURN"), "{reason}"),
        other => panic!("expected StartFailed, got {other:?}"),
    }
    // coturn refused the credentials (401), rather than the test failing for another reason.
    assert!(turn.log_contains("401"), "coturn log:\n{}", turn.log());
    assert!(!turn.log_contains("ALLOCATE processed, success"), "nothing may be relayed with a wrong secret");
}

/// Credentials live `--turn-ttl-secs`; a group outlives them. The server sends fresh ones to every
/// peer about to make a connection (the host on a join, an existing member on `call me`), so a
/// newcomer long after the first credentials expired still gets relayed links to everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_joining_after_the_first_credentials_expired_still_connect() {
    let turn = coturn("turn-shared-secret");
    let server = Server::start_with(&[
        "--turn-secret",
        "turn-shared-secret",
        "--turn-urls",
        &turn.url(),
        "--turn-ttl-secs",
        "2",
    ]);
    let host = host(relay_only(&server.url), "turn refresh").await;
    let first = common::join(relay_only(&server.url), &host.id).await;
    first.chat.wait_open(std::slice::from_ref(&host.id), 20).await;
    // The host's and the first member's credentials are now expired (coturn checks the time).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late = common::join(relay_only(&server.url), &host.id).await;
    late.chat.wait_open(&[host.id.clone(), first.id.clone()], 20).await;
    eventually(20, "the late member's links to report relay pairs", async || relayed(&late.client).await).await;
}
