//! Signaling over https/wss: the real server with `--tls-cert/--tls-key` from a CA the test makes,
//! native clients that trust that CA through `socket.caCertificatesPem` (the plugin's own rustls,
//! no system OpenSSL), and what happens without it. The C caller over https is in c_caller.rs.

mod common;

use common::tls::TestPki;
use common::{config, host, join, wait_for, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc_p2p::{Event, P2pError, PeerClient, PeerConfig};

fn tls_server(pki: &TestPki, extra: &[&str]) -> Server {
    let tls_args = pki.server_args();
    let mut args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    let server = Server::start_with(&args);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    server
}

fn trusting(url: &str, pki: &TestPki) -> PeerConfig {
    let mut c = config(url);
    c.socket.ca_certificates_pem = Some(pki.ca_pem.clone());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_forms_over_https_and_passes_messages() {
    let pki = TestPki::new("group");
    let server = tls_server(&pki, &[]);
    let mut h = host(trusting(&server.url, &pki), "tls room").await;
    let mut c = join(trusting(&server.url, &pki), &h.id).await;
    h.chat.wait_open(std::slice::from_ref(&c.id), 20).await;
    c.chat.wait_open(std::slice::from_ref(&h.id), 20).await;
    c.chat.channel(&h.id).send_text("over wss").await.unwrap();
    h.chat.channel(&c.id).send(&[1, 2, 3]).await.unwrap();
    assert_eq!(h.chat.recv_n(1, 10).await[0], (c.id.clone(), b"over wss".to_vec(), true));
    assert_eq!(c.chat.recv_n(1, 10).await[0], (h.id.clone(), vec![1, 2, 3], false));
    // Signaling itself works over the TLS socket: the group is listed.
    let hosts = c.client.list_hosts().await.unwrap();
    assert_eq!(hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["tls room"]);
    h.client.stop().await;
    c.client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_ca_the_connection_fails_with_a_clear_error() {
    let pki = TestPki::new("untrusted");
    let server = tls_server(&pki, &[]);
    // Trusting another CA does not help either: only the built-in roots and the listed ones count.
    let other = TestPki::new("other");
    for cfg in [config(&server.url), trusting(&server.url, &other)] {
        let client = PeerClient::new(cfg).unwrap();
        let mut events = client.subscribe();
        let started = Instant::now();
        let err = client.start_host("x").await.unwrap_err();
        let P2pError::ConnectFailed(message) = &err else { panic!("{err:?}") };
        assert!(message.contains("certificate") && message.contains("UnknownIssuer"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(3), "refused at the handshake, not timed out");
        assert!(matches!(wait_for(&mut events, 1, |_| true).await, Event::ConnectFailed(_)));
        let err = client.start_client("someone").await.unwrap_err();
        assert!(matches!(err, P2pError::ConnectFailed(_) | P2pError::StartFailed(_)), "{err:?}");
        assert!(!client.is_running());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_client_of_a_tls_server_fails_fast() {
    let pki = TestPki::new("plain");
    let server = tls_server(&pki, &[]);
    let url = server.url.replace("https://", "http://");
    let client = PeerClient::new(trusting(&url, &pki)).unwrap();
    let started = Instant::now();
    assert!(matches!(client.start_host("x").await, Err(P2pError::ConnectFailed(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_bad_ca_in_the_config_is_an_invalid_config() {
    for pem in ["", "not a certificate", "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"] {
        let mut cfg = PeerConfig::new("https://127.0.0.1:1");
        cfg.socket.ca_certificates_pem = Some(pem.into());
        assert!(matches!(PeerClient::new(cfg), Err(P2pError::InvalidConfig(_))), "{pem:?}");
    }
}

/// Whether the server closes `stream` within `secs` (EOF or reset), reading whatever it sends.
fn closed_by_server(stream: &mut impl Read, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => return true,
        }
    }
    false
}

/// A client that opens a connection and says nothing (before, inside or after the TLS handshake)
/// is closed at the header timeout, so silent connections cannot pile up against the per-IP limit.
#[test]
fn silent_tls_clients_are_closed_at_the_header_timeout() {
    let pki = TestPki::new("silent");
    let server = tls_server(&pki, &["--header-timeout-ms", "500", "--max-tcp-per-ip", "3"]);
    let addr = server.url.trim_start_matches("https://").to_string();
    let open = || {
        let s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        s
    };
    // 1: nothing at all. 2: half a ClientHello.
    let mut silent = open();
    let mut partial = open();
    partial.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
    // 3: a full handshake, then no request.
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(pki.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let tls_client = || rustls::ClientConnection::new(tls_config.clone(), "127.0.0.1".try_into().unwrap()).unwrap();
    let mut handshaken = rustls::StreamOwned::new(tls_client(), open());
    while handshaken.conn.is_handshaking() {
        handshaken.conn.complete_io(&mut handshaken.sock).expect("the TLS handshake completes");
    }
    let started = Instant::now();
    assert!(closed_by_server(&mut silent, 5), "a silent connection is closed");
    assert!(closed_by_server(&mut partial, 5), "a stalled handshake is closed");
    assert!(closed_by_server(&mut handshaken, 5), "a TLS connection without a request is closed");
    assert!(started.elapsed() < Duration::from_secs(4));
    // The three slots are free again: a request gets its answer.
    let mut probe = rustls::StreamOwned::new(tls_client(), open());
    probe.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = probe.read_to_end(&mut reply);
    assert!(String::from_utf8_lossy(&reply).ends_with("ok"), "{}", String::from_utf8_lossy(&reply));
}
