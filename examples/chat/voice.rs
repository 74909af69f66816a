//! The chat example's `--voice HZ` mode: a member that talks and listens without a sound card, for
//! the browser tests (web/tests/voice.test.mjs) and for trying voice against the demo page.
//!
//! It sends a sine of HZ Hz (0: no source, listen only) on every connection, pulls every remote
//! track at 48 kHz mono in 10 ms reads paced in real time (as an audio callback would), and once a
//! second prints what it heard as one JSON line per track:
//!
//! `voice {"peer":ID,"track":TRACK_ID,"freq":HZ|null,"rms":R,"decoded":0..1,"minLevel":L,"maxLevel":L}`
//!
//! `freq` is the dominant frequency of the audible part of that second (the 10 ms reads louder
//! than -40 dBFS), so a beeping source (Chromium's fake microphone) is measured on its beeps;
//! `null` when nothing was audible. `minLevel`/`maxLevel` span the track's speaking level
//! (`RemoteAudioTrack::level`, 0..100) over the second; `decoded` is the share of samples that came
//! from the peer's audio rather than underrun silence.

use crate::tone::{dominant_frequency, rms, speak};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use webrtc_p2p::rtc::audio::{AudioSource, RemoteAudioTrack};
use webrtc_p2p::PeerConnection;

const RATE: u32 = 48_000;
const CHUNK: usize = RATE as usize / 100;
/// 10 ms reads quieter than this RMS (-40 dBFS) are left out of the frequency analysis.
const AUDIBLE_RMS: f32 = 0.01;

pub struct Voice {
    source: Option<AudioSource>,
}

impl Voice {
    /// A member sending a `freq` Hz sine at half scale (none when `freq` is 0).
    pub fn new(freq: f32) -> Result<Voice, String> {
        if !(0.0..=4_000.0).contains(&freq) {
            return Err(format!("--voice takes 0..=4000 Hz, got {freq}"));
        }
        if freq == 0.0 {
            return Ok(Voice { source: None });
        }
        let source = AudioSource::new(RATE, 1, 0).map_err(|e| e.to_string())?;
        speak(source.clone(), freq, 0.5, Arc::new(AtomicBool::new(false)));
        Ok(Voice { source: Some(source) })
    }

    /// For the pc-create hook: sends the source on `pc` and reports every track `peer` sends.
    pub async fn attach(&self, peer: String, pc: &PeerConnection) {
        if let Some(source) = &self.source {
            if let Err(e) = pc.add_audio_source(source).await {
                eprintln!("cannot add the audio source: {e}");
            }
        }
        pc.on_audio_track(move |track| {
            tokio::spawn(report(peer.clone(), track));
        });
    }
}

/// Pulls `track` in real time and prints one `voice` line per second until its connection ends.
async fn report(peer: String, track: RemoteAudioTrack) {
    let mut second = Vec::with_capacity(RATE as usize);
    let mut audible = Vec::with_capacity(RATE as usize);
    let mut buf = vec![0.0; CHUNK];
    let (mut decoded, mut min_level, mut max_level) = (0usize, u8::MAX, 0u8);
    let start = tokio::time::Instant::now();
    for i in 1u64.. {
        let Ok(n) = track.read_pcm(&mut buf, RATE, 1) else { return };
        decoded += n;
        second.extend_from_slice(&buf);
        if rms(&buf) >= AUDIBLE_RMS {
            audible.extend_from_slice(&buf);
        }
        let level = track.level();
        (min_level, max_level) = (min_level.min(level), max_level.max(level));
        if second.len() >= RATE as usize {
            let line = serde_json::json!({
                "peer": peer,
                "track": track.id(),
                "freq": (!audible.is_empty()).then(|| dominant_frequency(&audible, RATE)),
                "rms": rms(&second),
                "decoded": decoded as f64 / second.len() as f64,
                "minLevel": min_level,
                "maxLevel": max_level,
            });
            crate::say(format!("voice {line}"));
            if track.stats().ended {
                return;
            }
            second.clear();
            audible.clear();
            (decoded, min_level, max_level) = (0, u8::MAX, 0);
        }
        tokio::time::sleep_until(start + Duration::from_millis(10 * i)).await;
    }
}
