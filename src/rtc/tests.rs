//! Two connections wired directly (no signaling) to check what the mesh relies on from webrtc-rs:
//! a vanilla SDP carries its candidates, trickled candidates connect, messages of every size arrive.

use super::*;
use crate::config::PeerConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn loopback_config() -> PeerConfig {
    let mut c = PeerConfig::new("http://127.0.0.1:1");
    c.bind_addresses = vec!["127.0.0.1:0".into()];
    c
}

async fn wait_gathered(rx: &mut mpsc::UnboundedReceiver<PcEvent>) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(PcEvent::GatheringComplete)) => return,
            Ok(Some(_)) => {}
            other => panic!("no gathering complete: {other:?}"),
        }
    }
}

/// Connects a pair with vanilla ICE and returns (offerer channel, answerer channel).
async fn vanilla_pair(init: DataChannelInit) -> (Arc<DataChannel>, Arc<DataChannel>, Arc<PeerConnection>, Arc<PeerConnection>) {
    let config = loopback_config();
    let (tx_a, mut rx_a) = mpsc::unbounded_channel();
    let (tx_b, mut rx_b) = mpsc::unbounded_channel();
    let a = Arc::new(build(&config, tx_a).await.unwrap());
    let b = Arc::new(build(&config, tx_b).await.unwrap());
    let dc_a = a.create_data_channel("t", &init).await.unwrap();
    let (remote_tx, mut remote_rx) = mpsc::unbounded_channel();
    b.on_data_channel(move |dc| {
        let _ = remote_tx.send(dc);
    });
    a.create_offer().await.unwrap();
    wait_gathered(&mut rx_a).await;
    let offer = a.local_sdp().await.unwrap();
    assert!(offer.contains("a=candidate:"), "a vanilla offer carries its candidates:\n{offer}");
    b.set_remote(true, offer).await.unwrap();
    b.create_answer().await.unwrap();
    wait_gathered(&mut rx_b).await;
    let answer = b.local_sdp().await.unwrap();
    assert!(answer.contains("a=candidate:"));
    a.set_remote(false, answer).await.unwrap();
    let dc_b = tokio::time::timeout(Duration::from_secs(10), remote_rx.recv()).await.unwrap().unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), dc_a.next_event()).await.unwrap(), Some(DataChannelEvent::Open));
    (dc_a, dc_b, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanilla_sdp_connects_and_messages_of_every_size_arrive() {
    let (dc_a, dc_b, a, b) = vanilla_pair(DataChannelInit::default()).await;
    let mut b_events = Vec::new();
    // The answerer's channel reports Open first.
    loop {
        match tokio::time::timeout(Duration::from_secs(10), dc_b.next_event()).await.unwrap() {
            Some(DataChannelEvent::Open) => break,
            other => b_events.push(other),
        }
    }
    for size in [1usize, 1024, 4096, 16 * 1024, 64 * 1024] {
        let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        dc_a.send(&payload).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(10), dc_b.next_event()).await.unwrap() {
            Some(DataChannelEvent::Message { data, is_text }) => {
                assert!(!is_text);
                assert_eq!(data, payload, "size {size}");
            }
            other => panic!("size {size}: {other:?}"),
        }
    }
    a.close().await;
    b.close().await;
}

/// Not an assertion on speed (machines here are noisy): prints MiB/s per message size so a stall
/// shows up in the test log; the benchmark binary is where figures are compared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_transfer_completes_for_common_message_sizes() {
    for size in [1024usize, 4096, 16 * 1024, 64 * 1024] {
        let (dc_a, dc_b, a, b) = vanilla_pair(DataChannelInit::default()).await;
        let total = 8 * 1024 * 1024;
        let count = total / size;
        let reader = tokio::spawn(async move {
            let mut got = 0usize;
            while got < total {
                match tokio::time::timeout(Duration::from_secs(30), dc_b.next_event()).await {
                    Ok(Some(DataChannelEvent::Message { data, .. })) => got += data.len(),
                    Ok(Some(_)) => {}
                    other => panic!("stalled after {got} bytes: {other:?}"),
                }
            }
            got
        });
        let payload = vec![7u8; size];
        let start = Instant::now();
        for _ in 0..count {
            dc_a.send(&payload).await.unwrap();
            while dc_a.buffered_amount().await > 4 * 1024 * 1024 {
                tokio::task::yield_now().await;
            }
        }
        let got = reader.await.unwrap();
        let secs = start.elapsed().as_secs_f64();
        eprintln!("rtc loopback: {size} B messages: {:.1} MiB/s", got as f64 / secs / (1024.0 * 1024.0));
        assert_eq!(got, total);
        a.close().await;
        b.close().await;
    }
}
