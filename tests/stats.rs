//! Link stats through the Rust API and the C ABI, on a real two-member group over loopback. No timed
//! assertions: figures are only checked for shape and for what must hold on loopback (host
//! candidates, UDP, counted messages).

mod common;

use common::{attach_chat, config, wait_for, Server};
use parking_lot::Mutex;
use serde_json::Value;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::time::{Duration, Instant};
use webrtc_p2p::ffi::client::*;
use webrtc_p2p::ffi::error::p2p_get_last_error;
use webrtc_p2p::ffi::pc::*;
use webrtc_p2p::ffi::stats::*;
use webrtc_p2p::ffi::types::*;
use webrtc_p2p::{Event, PeerClient, PeerStats};

/// Polls `f` until it returns Some, for at most `secs` (a readiness wait, not a timing assertion).
async fn eventually<T>(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn check_loopback_link(s: &PeerStats, peer: &str) {
    assert_eq!(s.peer_id, peer);
    assert_eq!(s.connection_state, "connected", "{s:?}");
    assert!(s.ice_state == "connected" || s.ice_state == "completed", "{s:?}");
    let pair = s.selected_pair.as_ref().expect("a selected pair");
    assert_eq!(
        (pair.local.kind.as_str(), pair.local.protocol.as_str(), pair.local.address.as_str()),
        ("host", "udp", "127.0.0.1")
    );
    assert_eq!((pair.remote.kind.as_str(), pair.remote.protocol.as_str()), ("host", "udp"));
    assert!(pair.local.port > 0 && pair.remote.port > 0);
    assert!(s.bytes_sent > 0 && s.bytes_received > 0, "{s:?}");
    assert!(s.audio.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_through_the_rust_api() {
    let server = Server::start();
    let host = PeerClient::new(config(&server.url)).unwrap();
    let _host_chat = attach_chat(&host);
    assert!(host.stats().await.is_empty(), "no links before a group");
    host.start_host("stats rust").await.unwrap();
    let host_id = host.client_id().unwrap();
    let client = PeerClient::new(config(&server.url)).unwrap();
    let mut client_chat = attach_chat(&client);
    let mut events = client.subscribe();
    client.start_client(&host_id).await.unwrap();
    wait_for(&mut events, 20, |e| matches!(e, Event::Started(_))).await;
    let client_id = client.client_id().unwrap();
    client_chat.wait_open(std::slice::from_ref(&host_id), 20).await;
    for text in ["one", "two", "three"] {
        client_chat.channel(&host_id).send_text(text).await.unwrap();
    }
    let _ = &mut client_chat;

    // The client sent three messages on "chat"; the host counts them received once they arrive.
    let host_view = eventually(20, "the host to count three messages", async || {
        let all = host.stats().await;
        let chat = all.first()?.data_channels.iter().find(|d| d.label == "chat")?.clone();
        (chat.messages_received == 3 && all[0].connection_state == "connected").then(|| all[0].clone())
    })
    .await;
    check_loopback_link(&host_view, &client_id);
    let chat = host_view.data_channels.iter().find(|d| d.label == "chat").unwrap();
    assert_eq!((chat.state.as_str(), chat.bytes_received), ("open", "onetwothree".len() as u64));

    // The link's state may trail its channel's open by a moment.
    let client_view = eventually(20, "the client's link to report connected", async || {
        let all = client.stats().await;
        (all.first()?.connection_state == "connected").then_some(all)
    })
    .await;
    assert_eq!(client_view.len(), 1);
    check_loopback_link(&client_view[0], &host_id);
    let sent = client_view[0].data_channels.iter().find(|d| d.label == "chat").unwrap();
    assert_eq!((sent.messages_sent, sent.bytes_sent), (3, 11));

    // RTT comes from STUN responses on the selected pair: both sides get one (checks, then consent).
    for c in [&host, &client] {
        let rtt = eventually(20, "an RTT measurement", async || c.stats().await.first()?.rtt_ms).await;
        assert!(rtt >= 0.0);
    }
    let pc = host.peer_connection(&client_id).expect("the host's pc to the client");
    assert_eq!(pc.stats().await.connection_state, "connected");
    assert_eq!(host.peer_ids(), vec![client_id.clone()]);
    let json: Value = serde_json::from_str(&host_view.to_json()).unwrap();
    for key in [
        "peerId",
        "connectionState",
        "iceState",
        "selectedPair",
        "rttMs",
        "bytesSent",
        "bytesReceived",
        "dataChannels",
        "audio",
    ] {
        assert!(json.get(key).is_some(), "JSON key {key} in {json}");
    }

    client.stop().await;
    eventually(20, "the link to leave the host's stats", async || host.stats().await.is_empty().then_some(())).await;
    host.stop().await;
}

// ---------------------------------------------------------------- the C ABI

#[derive(Default)]
struct Seen {
    pcs: Vec<(String, i32)>,
    results: Vec<(i32, i32, String)>,
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

unsafe extern "C" fn on_pc(_: *mut c_void, _: i32, peer: *const c_char, is_offer: bool, pc: i32) {
    if is_offer {
        let label = CString::new("chat").unwrap();
        assert!(unsafe { p2p_pc_create_data_channel(pc, label.as_ptr(), ptr::null()) } > 0);
    }
    let peer = unsafe { CStr::from_ptr(peer) }.to_str().unwrap().to_string();
    SEEN.lock().get_or_insert_with(Default::default).pcs.push((peer, pc));
}

unsafe extern "C" fn on_result(_: *mut c_void, request: i32, status: i32, json: *const c_char) {
    let json = unsafe { CStr::from_ptr(json) }.to_str().unwrap().to_string();
    SEEN.lock().get_or_insert_with(Default::default).results.push((request, status, json));
}

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn result_of(request: i32) -> (i32, String) {
    wait("a request's result", || {
        SEEN.lock().as_ref()?.results.iter().find(|r| r.0 == request).map(|r| (r.1, r.2.clone()))
    })
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 256];
    unsafe { p2p_get_last_error(buf.as_mut_ptr(), buf.len() as i32) };
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
}

/// Reads a string export with the size-needed convention: ask, then copy.
fn read(f: impl Fn(*mut c_char, i32) -> i32) -> String {
    let needed = f(ptr::null_mut(), 0);
    assert!(needed > 0, "size query failed: {needed} {}", last_error());
    let mut buf = vec![0 as c_char; needed as usize + 512];
    let n = f(buf.as_mut_ptr(), buf.len() as i32);
    assert!(n > 0 && n as usize <= buf.len(), "{n}");
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
}

fn ffi_client(url: &str) -> i32 {
    let json =
        CString::new(format!(r#"{{"signalingUrl":"{url}","bindAddresses":["127.0.0.1:0"],"p2pTimeoutMs":20000}}"#))
            .unwrap();
    let c = unsafe { p2p_client_create(json.as_ptr()) };
    assert!(c > 0, "{}", last_error());
    assert_eq!(p2p_client_add_pc_create_hook(c, Some(on_pc), ptr::null_mut()), P2P_OK);
    c
}

fn id_of(client: i32) -> String {
    read(|b, n| unsafe { p2p_client_get_id(client, b, n) })
}

#[test]
fn stats_through_the_c_abi_and_bad_input() {
    let server = Server::start();
    let host = ffi_client(&server.url);
    let name = CString::new("stats c").unwrap();
    let (status, _) =
        result_of(unsafe { p2p_client_start_host(host, name.as_ptr(), Some(on_result), ptr::null_mut()) });
    assert_eq!(status, P2P_OK);
    assert_eq!(read(|b, n| unsafe { p2p_client_get_stats(host, b, n) }), "[]", "no links yet");
    let host_id = CString::new(id_of(host)).unwrap();
    let client = ffi_client(&server.url);
    let (status, json) =
        result_of(unsafe { p2p_client_start_client(client, host_id.as_ptr(), Some(on_result), ptr::null_mut()) });
    assert_eq!(status, P2P_OK, "{json}");
    let client_id = id_of(client);
    let pc = wait("the host's pc to the client", || {
        SEEN.lock().as_ref()?.pcs.iter().find(|(peer, _)| *peer == client_id).map(|(_, pc)| *pc)
    });

    // One pc: an object; its figures once the link is up.
    let one: Value = wait("the link to connect", || {
        let v: Value = serde_json::from_str(&read(|b, n| unsafe { p2p_pc_get_stats(pc, b, n) })).unwrap();
        (v["connectionState"] == "connected"
            && v["selectedPair"].is_object()
            && v["dataChannels"][0]["state"] == "open")
            .then_some(v)
    });
    assert_eq!(one["peerId"], client_id.as_str());
    assert_eq!(one["selectedPair"]["local"]["type"], "host");
    assert_eq!(one["selectedPair"]["remote"]["protocol"], "udp");
    assert_eq!(one["dataChannels"][0]["label"], "chat");
    assert_eq!(one["audio"], serde_json::json!([]));

    // The client-level list, blocking and asynchronous.
    let all: Value = serde_json::from_str(&read(|b, n| unsafe { p2p_client_get_stats(host, b, n) })).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["peerId"], client_id.as_str());
    let request = p2p_client_request_stats(client, Some(on_result), ptr::null_mut());
    assert!(request > 0);
    let (status, json) = result_of(request);
    assert_eq!(status, P2P_OK);
    let listed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed[0]["peerId"], host_id.to_str().unwrap());

    // Truncation keeps the NUL and reports the size needed.
    let mut small = [1 as c_char; 8];
    let needed = unsafe { p2p_pc_get_stats(pc, small.as_mut_ptr(), small.len() as i32) };
    assert!(needed > 8);
    assert_eq!(small[7], 0);
    assert_eq!(unsafe { CStr::from_ptr(small.as_ptr()) }.to_str().unwrap(), "{\"peerI");

    // Bad input: codes and messages, never a crash.
    assert_eq!(unsafe { p2p_pc_get_stats(-5, ptr::null_mut(), 0) }, P2P_ERR_INVALID_HANDLE);
    assert_eq!(
        unsafe { p2p_pc_get_stats(host, ptr::null_mut(), 0) },
        P2P_ERR_INVALID_HANDLE,
        "a client handle is not a pc"
    );
    assert!(last_error().contains("not a peer connection"), "{}", last_error());
    assert_eq!(
        unsafe { p2p_client_get_stats(pc, ptr::null_mut(), 0) },
        P2P_ERR_INVALID_HANDLE,
        "a pc handle is not a client"
    );
    assert_eq!(unsafe { p2p_pc_get_stats(pc, ptr::null_mut(), -1) }, P2P_ERR_INVALID_ARGUMENT);
    assert!(last_error().contains("size"), "{}", last_error());
    assert_eq!(unsafe { p2p_client_get_stats(host, small.as_mut_ptr(), -1) }, P2P_ERR_INVALID_ARGUMENT);
    assert_eq!(p2p_client_request_stats(host, None, ptr::null_mut()), P2P_ERR_INVALID_ARGUMENT);
    assert_eq!(p2p_client_request_stats(-1, Some(on_result), ptr::null_mut()), P2P_ERR_INVALID_HANDLE);

    // A closed pc's handle is gone.
    assert_eq!(p2p_client_stop(client), P2P_OK);
    wait("the pc handle to be freed", || {
        (unsafe { p2p_pc_get_stats(pc, ptr::null_mut(), 0) } == P2P_ERR_INVALID_HANDLE).then_some(())
    });
    assert_eq!(read(|b, n| unsafe { p2p_client_get_stats(host, b, n) }), "[]");
    assert_eq!(p2p_client_destroy(client), P2P_OK);
    assert_eq!(p2p_client_destroy(host), P2P_OK);
}
