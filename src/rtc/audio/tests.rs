//! The receive path without sockets: real Opus packets through the depacketizer and playout, in
//! order, reordered, lost and replayed.

use super::decode::Depacketizer;
use super::playout::Playout;
use opusic_c::{Application, Channels, Encoder, SampleRate};
use std::time::{Duration, Instant};

/// `count` 20 ms Opus packets of a mono sine at `freq` Hz.
fn packets(freq: f32, count: usize) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(Channels::Mono, SampleRate::Hz48000, Application::Voip).unwrap();
    let mut out = vec![0u8; 1500];
    (0..count)
        .map(|p| {
            let pcm: Vec<f32> = (p * 960..(p + 1) * 960)
                .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / 48_000.0).sin())
                .collect();
            let n = enc.encode_float_to_slice(&pcm, &mut out).unwrap();
            out[..n].to_vec()
        })
        .collect()
}

/// Frequency by rising zero crossings of the left channel (a clean sine is all we feed).
fn zero_crossing_frequency(stereo: &[f32]) -> f32 {
    let left: Vec<f32> = stereo.iter().step_by(2).copied().collect();
    let crossings = left.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    crossings as f32 * 48_000.0 / left.len() as f32
}

fn feed(d: &mut Depacketizer, order: &[usize], pkts: &[Vec<u8>], base: u16) -> Vec<f32> {
    let t0 = Instant::now();
    let mut pcm = Vec::new();
    for &i in order {
        let seq = base.wrapping_add(i as u16);
        d.push(seq, (i * 960) as u32, &pkts[i], t0 + Duration::from_millis(20 * i as u64), &mut pcm);
    }
    pcm
}

#[test]
fn in_order_packets_decode_to_the_sent_tone() {
    let pkts = packets(440.0, 50);
    let mut d = Depacketizer::new().unwrap();
    let pcm = feed(&mut d, &(0..50).collect::<Vec<_>>(), &pkts, 65_530);
    assert_eq!(pcm.len(), 50 * 960 * 2, "one second of stereo");
    let f = zero_crossing_frequency(&pcm[9600..]);
    assert!((f - 440.0).abs() < 5.0, "{f}");
    let c = d.counters();
    assert_eq!((c.packets_received, c.packets_lost, c.packets_late), (50, 0, 0), "across the u16 wrap");
    assert!(c.jitter < 1.0, "paced arrivals: {}", c.jitter);
}

#[test]
fn reordered_packets_are_put_back_in_order() {
    let pkts = packets(440.0, 10);
    let mut in_order = Depacketizer::new().unwrap();
    let expected = feed(&mut in_order, &(0..10).collect::<Vec<_>>(), &pkts, 100);
    let mut d = Depacketizer::new().unwrap();
    let pcm = feed(&mut d, &[0, 2, 1, 3, 5, 4, 6, 7, 8, 9], &pkts, 100);
    assert_eq!(pcm, expected);
    assert_eq!(d.counters().packets_lost, 0);
}

#[test]
fn a_lost_packet_is_concealed_after_the_reorder_window() {
    let pkts = packets(440.0, 10);
    let mut d = Depacketizer::new().unwrap();
    let order: Vec<usize> = (0..10).filter(|i| *i != 3).collect();
    let pcm = feed(&mut d, &order, &pkts, 0);
    assert_eq!(pcm.len(), 10 * 960 * 2, "the gap is filled by concealment");
    let c = d.counters();
    assert_eq!((c.packets_lost, c.frames_concealed), (1, 960));
}

#[test]
fn late_duplicates_are_dropped_and_a_jump_resyncs() {
    let pkts = packets(440.0, 5);
    let mut d = Depacketizer::new().unwrap();
    let mut pcm = feed(&mut d, &[0, 1, 2], &pkts, 0);
    let before = pcm.len();
    pcm.extend(feed(&mut d, &[1], &pkts, 0));
    assert_eq!(pcm.len(), before, "a replayed packet plays nothing");
    assert_eq!(d.counters().packets_late, 1);
    // A jump of 1,000 (a restarted or hostile sender): no second of concealment, just play on.
    pcm.extend(feed(&mut d, &[3], &pkts, 1_000));
    assert_eq!(pcm.len(), before + 960 * 2);
    assert_eq!(d.counters().frames_concealed, 0);
}

#[test]
fn garbage_payloads_are_counted_and_concealed_not_fatal() {
    let mut d = Depacketizer::new().unwrap();
    let mut pcm = Vec::new();
    let t = Instant::now();
    d.push(0, 0, &[0xff; 3], t, &mut pcm);
    d.push(1, 960, &[], t, &mut pcm);
    d.push(2, 1920, &[0u8; 1400], t, &mut pcm);
    assert!(d.counters().packets_corrupt >= 1);
    assert!(pcm.len() <= 3 * 5760 * 2, "bounded output");
}

#[test]
fn decode_then_playout_at_the_reader_s_format() {
    let pkts = packets(660.0, 25);
    let mut d = Depacketizer::new().unwrap();
    let mut p = Playout::default();
    // Each packet arrives, then the reader takes 20 ms at 44.1 kHz stereo, as an audio callback would.
    let mut heard = Vec::new();
    let mut out = vec![0.0; 882 * 2];
    for i in 0..25 {
        let pcm = feed(&mut d, &[i], &pkts, 7);
        p.push(&pcm, Instant::now());
        let decoded = p.read(&mut out, 44_100, 2);
        if i >= 2 {
            assert_eq!(decoded, out.len(), "playing after the 30 ms prebuffer (packet {i})");
            heard.extend_from_slice(&out);
        }
    }
    let f = zero_crossing_frequency(&heard[8820..]) * 44_100.0 / 48_000.0;
    assert!((f - 660.0).abs() < 6.0, "{f}");
}
