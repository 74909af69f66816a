//! Connection auth (issue 13, "who may connect"): a server started with `--jwt-secret` refuses a
//! missing, forged or expired token at connect, with the reason, before any event; the native client
//! passes the config's `auth` payload and reports a refusal as ConnectFailed at once (not after its
//! connection timeout).

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{attach_chat, config, wait_for, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use webrtc_p2p::{Event, P2pError, PeerClient};

const SECRET: &str = "test secret";

/// An HS256 JWT over `claims`.
fn token(secret: &str, claims: Value) -> Value {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()), signed.as_bytes());
    json!({ "token": format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())) })
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_clients_with_a_valid_token_connect() {
    let server = Server::start_with(&["--jwt-secret", SECRET]);
    let refused = [
        (None, "missing token"),
        (Some(token("not the secret", json!({"exp": now() + 60}))), "invalid token signature"),
        (Some(token(SECRET, json!({"exp": now() - 1}))), "token expired"),
        (Some(json!({"token": "not.a.jwt"})), "malformed token"),
    ];
    for (auth, reason) in refused {
        let mut cfg = config(&server.url);
        cfg.socket.connection_timeout_ms = 10_000;
        cfg.auth = auth;
        let client = PeerClient::new(cfg).unwrap();
        let mut events = client.subscribe();
        let started = Instant::now();
        match client.list_hosts().await {
            Err(P2pError::ConnectFailed(why)) => assert!(why.contains(reason), "{why} (wanted {reason})"),
            other => panic!("{reason}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{reason}: the refusal waited for the connection timeout");
        assert!(matches!(
            wait_for(&mut events, 5, |e| matches!(e, Event::ConnectFailed(_))).await,
            Event::ConnectFailed(_)
        ));
    }

    // With tokens, a group forms and passes messages as without auth.
    let mut cfg = config(&server.url);
    cfg.auth = Some(token(SECRET, json!({"sub": "host", "exp": now() + 600})));
    let host = PeerClient::new(cfg.clone()).unwrap();
    let mut host_chat = attach_chat(&host);
    host.start_host("members only").await.unwrap();
    let host_id = host.client_id().unwrap();
    cfg.auth = Some(token(SECRET, json!({"sub": "guest", "exp": now() + 600})));
    let guest = PeerClient::new(cfg).unwrap();
    let guest_chat = attach_chat(&guest);
    guest.start_client(&host_id).await.unwrap();
    guest_chat.wait_open(std::slice::from_ref(&host_id), 20).await;
    guest_chat.channel(&host_id).send_text("authorised").await.unwrap();
    let got = host_chat.recv_n(1, 20).await;
    assert_eq!(got[0].1, b"authorised");
    guest.stop().await;
    host.stop().await;
}
