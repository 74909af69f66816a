//! The playout side of a remote track: decoded 48 kHz stereo PCM waits here until the app pulls
//! it on its audio thread. Pure state (time comes in as an argument), shared between the track's
//! receive task (which appends) and the reader, behind one short lock.
//!
//! Policy, chosen for talk (latency over smoothness):
//! - playback starts once the target depth is queued and stops on underrun (the rest of that read
//!   is silence), then waits for the target again. The target starts at [`PREBUFFER_FRAMES`] (30 ms:
//!   one packet plus 10 ms of arrival jitter); each underrun raises it by 10 ms up to
//!   [`MAX_TARGET_FRAMES`], and 10 s without one lowers it by 10 ms again, so a jittery link or a
//!   late audio thread costs a little latency instead of a gap every packet;
//! - the queue never holds more than [`MAX_QUEUED_FRAMES`]: a reader that stalls (or never reads)
//!   costs bounded memory (an overflow drops the oldest audio down to [`TRIM_TO_FRAMES`]);
//! - latency that stands in the queue is dropped while playing: when the shallowest depth seen
//!   after the reads of [`STANDING_WINDOW_FRAMES`] of playback (0.5 s) stays more than one step above
//!   the target, the excess is cut from the front. Measuring the minimum (as CoDel does) leaves
//!   bursts of arrivals alone and removes only the delay a reader pause or a late burst left behind,
//!   so after a pause latency snaps back to the target within about half a second.

use super::resample::map_stereo;
use super::{OPUS_RATE, PCM_CHANNELS};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// 30 ms: one 20 ms packet plus room for 10 ms of arrival jitter.
pub const PREBUFFER_FRAMES: usize = OPUS_RATE as usize * 30 / 1000;
/// The most the target depth grows to after underruns: 120 ms.
pub const MAX_TARGET_FRAMES: usize = OPUS_RATE as usize * 120 / 1000;
/// One adaptation step: 10 ms.
const TARGET_STEP: usize = OPUS_RATE as usize / 100;
/// Played this long without an underrun, the target shrinks by one step: 10 s.
const STABLE_FRAMES: u64 = OPUS_RATE as u64 * 10;
/// 200 ms at most waits in the queue.
pub const MAX_QUEUED_FRAMES: usize = OPUS_RATE as usize / 5;
/// After an overflow the oldest audio is dropped down to 60 ms.
pub const TRIM_TO_FRAMES: usize = OPUS_RATE as usize * 60 / 1000;
/// Playback over which the queue's shallowest depth is watched for standing latency: 0.5 s.
pub const STANDING_WINDOW_FRAMES: u64 = OPUS_RATE as u64 / 2;
/// The loudness window of [`Playout::level`].
pub const LEVEL_WINDOW: Duration = Duration::from_millis(100);
/// Levels map -60 dBFS..0 dBFS onto 0..100 (speech sits around 40–80; a full-scale sine is 97).
const LEVEL_FLOOR_DB: f32 = -60.0;

/// Counters the track's stats report (see `AudioTrackStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlayoutCounters {
    /// Frames (per channel) dropped because the queue overflowed.
    pub frames_dropped: u64,
    /// Reads that ran out of audio while playing (each is an audible gap).
    pub underruns: u64,
}

#[derive(Debug)]
pub struct Playout {
    /// Interleaved stereo at 48 kHz.
    queue: VecDeque<f32>,
    playing: bool,
    /// Depth to reach before (re)starting playback, in frames (adapts, see the module doc).
    target: usize,
    /// Frames played since the last underrun.
    stable: u64,
    /// Shallowest depth after a read in the current standing-latency window, and the frames played
    /// in it (see the module doc).
    window_low: usize,
    window_played: u64,
    /// Read position in queue frames (fractional while resampling), see [`Playout::read`].
    pos: f64,
    /// Output rate of the previous read; a new rate restarts interpolation.
    out_rate: u32,
    /// Mean square and arrival time of recently decoded packets, for the level meter.
    recent: VecDeque<(Instant, f32)>,
    counters: PlayoutCounters,
}

impl Default for Playout {
    fn default() -> Self {
        Playout {
            queue: VecDeque::new(),
            playing: false,
            target: PREBUFFER_FRAMES,
            stable: 0,
            window_low: usize::MAX,
            window_played: 0,
            pos: 0.0,
            out_rate: OPUS_RATE,
            recent: VecDeque::new(),
            counters: PlayoutCounters::default(),
        }
    }
}

impl Playout {
    /// Queues decoded audio (interleaved stereo, 48 kHz) that arrived at `now`.
    pub fn push(&mut self, pcm: &[f32], now: Instant) {
        let frames = pcm.len() / PCM_CHANNELS;
        if frames == 0 {
            return;
        }
        let mean_square = pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len() as f32;
        while self.recent.front().is_some_and(|(t, _)| now.saturating_duration_since(*t) > LEVEL_WINDOW) {
            self.recent.pop_front();
        }
        self.recent.push_back((now, mean_square));
        self.queue.extend(&pcm[..frames * PCM_CHANNELS]);
        let queued = self.queue.len() / PCM_CHANNELS;
        if queued > MAX_QUEUED_FRAMES {
            let drop = queued - TRIM_TO_FRAMES.max(self.target + TARGET_STEP);
            self.queue.drain(..drop * PCM_CHANNELS);
            self.pos = 0.0;
            self.counters.frames_dropped += drop as u64;
        }
    }

    /// Fills `out` (interleaved, `channels` per frame) at `rate`; returns how many samples came
    /// from decoded audio, the rest being silence.
    pub fn read(&mut self, out: &mut [f32], rate: u32, channels: usize) -> usize {
        let frames = out.len() / channels;
        out.fill(0.0);
        if rate != self.out_rate {
            self.out_rate = rate;
            self.pos = self.pos.floor();
        }
        if !self.playing {
            if self.queued_frames() < self.target {
                return 0;
            }
            self.playing = true;
        }
        let step = OPUS_RATE as f64 / rate as f64;
        let available = self.queued_frames();
        let mut written = 0;
        for frame in out.chunks_exact_mut(channels).take(frames) {
            let i = self.pos as usize;
            let frac = (self.pos - i as f64) as f32;
            // Interpolation needs the next frame too, unless we sit exactly on one.
            if i >= available || (frac > 0.0 && i + 1 >= available) {
                break;
            }
            let at = |f: usize, c: usize| self.queue[f * PCM_CHANNELS + c];
            let (l, r) = if frac == 0.0 {
                (at(i, 0), at(i, 1))
            } else {
                (at(i, 0) + (at(i + 1, 0) - at(i, 0)) * frac, at(i, 1) + (at(i + 1, 1) - at(i, 1)) * frac)
            };
            map_stereo(l, r, frame);
            written += 1;
            self.pos += step;
        }
        let consumed = (self.pos as usize).min(available);
        self.queue.drain(..consumed * PCM_CHANNELS);
        self.pos -= consumed as f64;
        if written < frames {
            self.playing = false;
            self.window_low = usize::MAX;
            self.window_played = 0;
            self.counters.underruns += 1;
            self.target = (self.target + TARGET_STEP).min(MAX_TARGET_FRAMES);
            self.stable = 0;
        } else {
            // Time played counts in queue (48 kHz) frames, whatever rate the reader asks for.
            self.stable += consumed as u64;
            if self.stable >= STABLE_FRAMES && self.target > PREBUFFER_FRAMES {
                self.target -= TARGET_STEP;
                self.stable = 0;
            }
            self.drop_standing_latency(consumed as u64);
        }
        written * channels
    }

    /// Watches the depth left after each full read; once a window's shallowest depth stood more
    /// than a step above the target, cuts the oldest audio down to the target.
    fn drop_standing_latency(&mut self, played: u64) {
        self.window_low = self.window_low.min(self.queued_frames());
        self.window_played += played;
        if self.window_played < STANDING_WINDOW_FRAMES {
            return;
        }
        if self.window_low > self.target + TARGET_STEP {
            let drop = self.window_low - self.target;
            self.queue.drain(..drop * PCM_CHANNELS);
            self.counters.frames_dropped += drop as u64;
        }
        self.window_low = usize::MAX;
        self.window_played = 0;
    }

    /// Loudness of the audio that arrived in the last ~100 ms: 0 (silence, or nothing arrived)
    /// to 100 (full scale), on a dB scale so that speech moves the meter visibly.
    pub fn level(&self, now: Instant) -> u8 {
        let (sum, n) = self
            .recent
            .iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) <= LEVEL_WINDOW)
            .fold((0.0f32, 0u32), |(s, n), (_, ms)| (s + ms, n + 1));
        if n == 0 || sum <= 0.0 {
            return 0;
        }
        let db = 10.0 * (sum / n as f32).log10();
        (((db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB) * 100.0).clamp(0.0, 100.0).round() as u8
    }

    /// Audio waiting to be read, in milliseconds.
    pub fn buffered_ms(&self) -> f64 {
        self.queued_frames() as f64 * 1000.0 / OPUS_RATE as f64
    }

    /// The depth playback (re)starts at, in milliseconds.
    #[cfg(test)]
    pub fn target_ms(&self) -> f64 {
        self.target as f64 * 1000.0 / OPUS_RATE as f64
    }

    pub fn counters(&self) -> PlayoutCounters {
        self.counters
    }

    fn queued_frames(&self) -> usize {
        self.queue.len() / PCM_CHANNELS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frames: usize, amplitude: f32) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                let s = amplitude * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / OPUS_RATE as f32).sin();
                [s, s]
            })
            .collect()
    }

    #[test]
    fn waits_for_the_prebuffer_then_plays_in_order() {
        let mut p = Playout::default();
        let now = Instant::now();
        let mut out = vec![1.0; 480 * 2];
        p.push(&tone(960, 0.5), now);
        assert_eq!(p.read(&mut out, 48_000, 2), 0, "20 ms is below the 30 ms prebuffer");
        assert!(out.iter().all(|s| *s == 0.0), "silence while waiting");
        p.push(&tone(960, 0.5), now);
        assert_eq!(p.read(&mut out, 48_000, 2), 960);
        assert_eq!(&out[..], &tone(480, 0.5)[..]);
        assert!((p.buffered_ms() - 30.0).abs() < 0.01);
    }

    #[test]
    fn underrun_returns_partial_audio_then_silence_and_rebuffers() {
        let mut p = Playout::default();
        let now = Instant::now();
        p.push(&tone(1440, 0.5), now);
        let mut out = vec![0.0; 2000 * 2];
        assert_eq!(p.read(&mut out, 48_000, 2), 1440 * 2);
        assert!(out[1440 * 2..].iter().all(|s| *s == 0.0));
        assert_eq!(p.counters().underruns, 1);
        p.push(&tone(1440, 0.5), now);
        assert_eq!(p.read(&mut out, 48_000, 2), 0, "rebuffering after the underrun, to a deeper target");
        assert!((p.target_ms() - 40.0).abs() < 0.01);
        p.push(&tone(480, 0.5), now);
        assert_eq!(p.read(&mut out[..960], 48_000, 2), 960);
    }

    #[test]
    fn the_target_depth_shrinks_back_after_a_stable_stretch() {
        let mut p = Playout::default();
        let now = Instant::now();
        let mut out = vec![0.0; 960 * 2];
        // Two rounds of: fill to the target, play, run dry.
        for _ in 0..2 {
            p.push(&tone(p.target + 480, 0.5), now);
            while p.read(&mut out, 48_000, 2) == out.len() {}
        }
        let raised = p.target_ms();
        assert!((raised - 50.0).abs() < 0.01, "{raised}");
        assert!(raised > 30.0, "{raised}");
        // 11 s of steady 20 ms packets read 20 ms at a time.
        p.push(&tone(MAX_TARGET_FRAMES, 0.5), now);
        for _ in 0..550 {
            p.push(&tone(960, 0.5), now);
            assert_eq!(p.read(&mut out, 48_000, 2), 1920);
        }
        assert!(p.target_ms() < raised, "{} < {raised}", p.target_ms());
    }

    /// Steady 20 ms packets read in 10 ms stereo pieces at `rate`; returns the depth after each read.
    fn play_steadily(p: &mut Playout, reads: usize, rate: u32) -> Vec<f64> {
        let now = Instant::now();
        let mut out = vec![0.0; rate as usize / 100 * 2];
        (0..reads)
            .map(|i| {
                if i % 2 == 0 {
                    p.push(&tone(960, 0.5), now);
                }
                assert_eq!(p.read(&mut out, rate, 2), out.len(), "read {i} ran dry");
                p.buffered_ms()
            })
            .collect()
    }

    #[test]
    fn latency_left_by_a_reader_pause_is_dropped_within_half_a_second() {
        // The window is time played, so a reader at 16 kHz sees the same half second as one at 48.
        for rate in [48_000, 16_000] {
            let mut p = Playout::default();
            let now = Instant::now();
            // The reader stalls while 180 ms arrive, then reads at the pace of arrival again.
            p.push(&tone(960 * 9, 0.5), now);
            let depths = play_steadily(&mut p, 200, rate);
            assert!(depths[0] > 150.0, "{rate}: {depths:?}");
            let settled = &depths[100..];
            assert!(settled.iter().all(|d| *d <= 50.0), "{rate}: back near the 30 ms target: {settled:?}");
            assert!(p.counters().frames_dropped >= 48 * 120, "{rate}: {:?}", p.counters());
            assert_eq!(p.counters().underruns, 0, "{rate}: no gap on the way");
        }
    }

    #[test]
    fn bursts_of_arrivals_are_not_cut() {
        let mut p = Playout::default();
        let now = Instant::now();
        let mut out = vec![0.0; 480 * 2];
        p.push(&tone(1440, 0.5), now);
        // 3 s of a jittery link: three packets at once every 60 ms, read every 10 ms.
        for i in 0..300 {
            if i % 6 == 0 {
                p.push(&tone(960 * 3, 0.5), now);
            }
            assert_eq!(p.read(&mut out, 48_000, 2), 960, "read {i} ran dry");
        }
        assert_eq!(p.counters().frames_dropped, 0, "{:?}", p.counters());
    }

    #[test]
    fn queue_is_bounded_when_nobody_reads() {
        let mut p = Playout::default();
        let now = Instant::now();
        for _ in 0..1000 {
            p.push(&tone(960, 0.5), now);
        }
        assert!(p.buffered_ms() <= 200.0);
        assert!(p.counters().frames_dropped > 0);
    }

    #[test]
    fn resamples_and_mixes_to_what_the_reader_asks() {
        let mut p = Playout::default();
        let now = Instant::now();
        p.push(&tone(4800, 0.5), now);
        let mut out = vec![0.0; 441];
        // 10 ms at 44.1 kHz, mono.
        assert_eq!(p.read(&mut out, 44_100, 1), 441);
        assert!(out.iter().any(|s| s.abs() > 0.4));
        let consumed = 4800.0 - p.buffered_ms() * 48.0;
        assert!((consumed - 480.0).abs() <= 1.0, "{consumed}");
    }

    #[test]
    fn level_follows_loudness_and_falls_to_zero_without_audio() {
        let mut p = Playout::default();
        let t0 = Instant::now();
        assert_eq!(p.level(t0), 0);
        p.push(&tone(960, 1.0), t0);
        let loud = p.level(t0);
        assert!((95..=98).contains(&loud), "{loud}");
        p.push(&tone(960, 0.01), t0 + Duration::from_millis(150));
        let quiet = p.level(t0 + Duration::from_millis(150));
        assert!(quiet < 40, "{quiet}");
        assert_eq!(p.level(t0 + Duration::from_millis(300)), 0, "nothing arrived for 150 ms");
    }
}
