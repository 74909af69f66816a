//! The receive side of a remote track before playout: puts RTP packets back in order, decodes
//! them with one Opus decoder, conceals lost ones, and keeps RFC 3550 loss and jitter counts.
//! Pure state: packets and arrival times come in as arguments, PCM goes out into a buffer.
//!
//! Reordering waits for at most [`REORDER_DEPTH`] later packets before declaring a gap lost;
//! packets from the past (late or duplicated) are dropped; a jump of more than [`RESYNC_GAP`]
//! (the sender restarted, or a hostile peer) starts over rather than concealing seconds of loss.

use super::{OPUS_RATE, PCM_CHANNELS};
use opusic_c::{Channels, Decoder, SampleRate};
use std::time::Instant;

/// Later packets held before the missing ones are given up: 3 × 20 ms.
pub const REORDER_DEPTH: usize = 3;
/// A sequence jump beyond this restarts the stream instead of concealing the gap.
pub const RESYNC_GAP: u16 = 50;
/// Concealment is generated for at most this many lost packets in a row (100 ms); beyond that the
/// gap is silence (the playout queue simply runs dry).
const MAX_CONCEALED: u16 = 5;
/// The longest Opus packet: 120 ms.
const MAX_PACKET_FRAMES: usize = OPUS_RATE as usize * 120 / 1000;
/// 20 ms, the frame size assumed for concealment before any packet told us otherwise.
const DEFAULT_FRAMES: usize = OPUS_RATE as usize / 50;

/// Receive counters (see `AudioTrackStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiveCounters {
    pub packets_received: u64,
    /// Packets never received (expected by sequence number minus received), RFC 3550 style.
    pub packets_lost: i64,
    /// Packets that came after their turn (or twice) and were dropped.
    pub packets_late: u64,
    /// Packets libopus refused.
    pub packets_corrupt: u64,
    /// Frames (per channel) of concealment generated for lost packets.
    pub frames_concealed: u64,
    /// Interarrival jitter (RFC 3550 §6.4.1), in RTP units (1/48,000 s).
    pub jitter: f64,
}

pub struct Depacketizer {
    decoder: Decoder,
    /// Sequence number of the next packet to decode.
    next: Option<u16>,
    /// Packets that arrived ahead of `next` (at most [`REORDER_DEPTH`] + 1, so a scan is cheapest).
    held: Vec<(u16, Vec<u8>)>,
    /// Frames of the last decoded packet, the size concealment produces.
    last_frames: usize,
    /// RTP timestamp and arrival of the previous packet, for jitter.
    last_transit: Option<(u32, Instant)>,
    /// Highest extended sequence number seen, and the first, for the loss count.
    first_ext: Option<u64>,
    highest_ext: u64,
    counters: ReceiveCounters,
    /// Decoder output, as large as the longest packet seen so far.
    scratch: Vec<f32>,
}

impl Depacketizer {
    pub fn new() -> Result<Self, String> {
        let decoder = Decoder::new(Channels::Stereo, SampleRate::Hz48000)
            .map_err(|e| format!("cannot create the Opus decoder: {e:?}"))?;
        Ok(Depacketizer {
            decoder,
            next: None,
            held: Vec::new(),
            last_frames: DEFAULT_FRAMES,
            last_transit: None,
            first_ext: None,
            highest_ext: 0,
            counters: ReceiveCounters::default(),
            scratch: vec![0.0; DEFAULT_FRAMES * PCM_CHANNELS],
        })
    }

    pub fn counters(&self) -> ReceiveCounters {
        self.counters
    }

    /// Takes one RTP packet that arrived at `now`; appends what can be decoded in order now
    /// (interleaved stereo, 48 kHz) to `out`.
    pub fn push(&mut self, seq: u16, timestamp: u32, payload: &[u8], now: Instant, out: &mut Vec<f32>) {
        self.count(seq, timestamp, now);
        let next = *self.next.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next);
        if ahead == 0 {
            self.decode(payload, out);
            self.next = Some(seq.wrapping_add(1));
            self.drain_in_order(out);
        } else if ahead >= 0x8000 || self.held.iter().any(|(s, _)| *s == seq) {
            self.counters.packets_late += 1;
        } else if ahead > RESYNC_GAP {
            self.held.clear();
            self.decode(payload, out);
            self.next = Some(seq.wrapping_add(1));
        } else {
            self.held.push((seq, payload.to_vec()));
            if self.held.len() > REORDER_DEPTH {
                self.give_up_gap(out);
            }
        }
    }

    /// Decodes held packets that are now next in line.
    fn drain_in_order(&mut self, out: &mut Vec<f32>) {
        while let Some(next) = self.next {
            let Some(i) = self.held.iter().position(|(s, _)| *s == next) else { break };
            let (_, payload) = self.held.swap_remove(i);
            self.decode(&payload, out);
            self.next = Some(next.wrapping_add(1));
        }
    }

    /// The packets before the earliest held one are lost: conceal them, then play on from it.
    fn give_up_gap(&mut self, out: &mut Vec<f32>) {
        let Some(next) = self.next else { return };
        let Some(first) = self.held.iter().map(|(s, _)| s.wrapping_sub(next)).min() else { return };
        for _ in 0..first.min(MAX_CONCEALED) {
            self.conceal(out);
        }
        self.next = Some(next.wrapping_add(first));
        self.drain_in_order(out);
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<f32>) {
        // Size the output from the packet (20 ms in practice; up to 120 ms is legal), so a track holds
        // a 7.5 KiB buffer rather than one for the worst case.
        let frames = self.decoder.get_nb_samples(payload).unwrap_or(DEFAULT_FRAMES).clamp(1, MAX_PACKET_FRAMES);
        if self.scratch.len() < frames * PCM_CHANNELS {
            self.scratch.resize(frames * PCM_CHANNELS, 0.0);
        }
        match self.decoder.decode_float_to_slice(payload, &mut self.scratch[..frames * PCM_CHANNELS], false) {
            Ok(frames) => {
                self.last_frames = frames.clamp(1, MAX_PACKET_FRAMES);
                out.extend_from_slice(&self.scratch[..frames * PCM_CHANNELS]);
            }
            Err(_) => {
                self.counters.packets_corrupt += 1;
                self.conceal(out);
            }
        }
    }

    fn conceal(&mut self, out: &mut Vec<f32>) {
        let n = self.last_frames * PCM_CHANNELS;
        if let Ok(frames) = self.decoder.decode_float_to_slice(&[], &mut self.scratch[..n], false) {
            out.extend_from_slice(&self.scratch[..frames * PCM_CHANNELS]);
            self.counters.frames_concealed += frames as u64;
        }
    }

    /// Loss and jitter bookkeeping, per RFC 3550 (A.1 for the extended sequence, 6.4.1 for jitter).
    fn count(&mut self, seq: u16, timestamp: u32, now: Instant) {
        self.counters.packets_received += 1;
        let ext = match self.first_ext {
            None => {
                let ext = 1u64 << 16 | seq as u64;
                self.first_ext = Some(ext);
                ext
            }
            Some(_) => {
                let cycles = self.highest_ext & !0xffff;
                // The candidate nearest the highest seen, in the previous, same or next cycle.
                [cycles.wrapping_sub(1 << 16), cycles, cycles + (1 << 16)]
                    .map(|c| c | seq as u64)
                    .into_iter()
                    .min_by_key(|c| c.abs_diff(self.highest_ext))
                    .unwrap_or(cycles | seq as u64)
            }
        };
        self.highest_ext = self.highest_ext.max(ext);
        if let Some(first) = self.first_ext {
            let expected = (self.highest_ext - first + 1) as i64;
            self.counters.packets_lost = (expected - self.counters.packets_received as i64).max(0);
        }
        if let Some((last_ts, last_at)) = self.last_transit {
            let arrival = now.saturating_duration_since(last_at).as_secs_f64() * OPUS_RATE as f64;
            let sent = timestamp.wrapping_sub(last_ts) as i32 as f64;
            let d = (arrival - sent).abs();
            self.counters.jitter += (d - self.counters.jitter) / 16.0;
        }
        self.last_transit = Some((timestamp, now));
    }
}
