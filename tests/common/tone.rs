//! Test signals for voice without a sound card: a sine pushed into an [`AudioSource`] in real time,
//! and the analysis of what a remote track gives back (dominant frequency, RMS). Shared by
//! tests/voice.rs and the chat example's `--voice` mode (examples/chat.rs includes this file), which
//! the browser tests drive.

use std::f32::consts::PI;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc_p2p::rtc::audio::AudioSource;

/// Pushes a sine of `freq` Hz (`amplitude` peak) into `source` in 10 ms chunks paced in real time,
/// as a microphone callback would, on its own thread, until `stop` is set or the source closes.
pub fn speak(source: AudioSource, freq: f32, amplitude: f32, stop: Arc<AtomicBool>) {
    let (rate, channels) = (source.sample_rate() as f32, source.channels() as usize);
    pace(source, stop, move |n, frames| {
        (n..n + frames)
            .flat_map(|i| std::iter::repeat_n(amplitude * (2.0 * PI * freq * i as f32 / rate).sin(), channels))
            .collect()
    });
}

/// Pushes `chunk(n, frames)` (the interleaved PCM of `frames` frames from frame `n` on) into
/// `source` every 10 ms, paced in real time on its own thread, until `stop` is set or the source
/// closes.
pub fn pace(
    source: AudioSource,
    stop: Arc<AtomicBool>,
    mut chunk: impl FnMut(usize, usize) -> Vec<f32> + Send + 'static,
) {
    std::thread::spawn(move || {
        let rate = source.sample_rate() as f64;
        let frames = (rate / 100.0) as usize;
        let start = Instant::now();
        let mut n = 0usize;
        while !stop.load(Ordering::Relaxed) {
            if source.push(&chunk(n, frames)).is_err() {
                return;
            }
            n += frames;
            std::thread::sleep(
                (start + Duration::from_secs_f64(n as f64 / rate)).saturating_duration_since(Instant::now()),
            );
        }
    });
}

/// Power of `freq` in `pcm` (mono at `rate`), by Goertzel's recurrence.
pub fn power(pcm: &[f32], rate: u32, freq: f32) -> f32 {
    let coeff = 2.0 * (2.0 * PI * freq / rate as f32).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for x in pcm {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The frequency with the most energy over 100..2000 Hz: 10 Hz steps, then 1 Hz steps around the
/// best (a debug build scans 1,900 bins too slowly).
pub fn dominant_frequency(pcm: &[f32], rate: u32) -> f32 {
    let best = |freqs: &mut dyn Iterator<Item = f32>| {
        freqs.map(|f| (f, power(pcm, rate, f))).max_by(|a, b| a.1.total_cmp(&b.1)).map_or(0.0, |(f, _)| f)
    };
    let coarse = best(&mut (10..200).map(|f| f as f32 * 10.0));
    best(&mut (-10..=10).map(|d| coarse + d as f32))
}

/// Root mean square of `pcm`.
pub fn rms(pcm: &[f32]) -> f32 {
    (pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len().max(1) as f32).sqrt()
}
