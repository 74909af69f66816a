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

/// One second of a track as heard: the PCM, its audible 10 ms reads, and the level's range.
struct Second {
    pcm: Vec<f32>,
    audible: Vec<f32>,
    decoded: usize,
    min_level: u8,
    max_level: u8,
}

impl Second {
    fn new() -> Second {
        Second { pcm: Vec::new(), audible: Vec::new(), decoded: 0, min_level: u8::MAX, max_level: 0 }
    }

    fn add(&mut self, chunk: &[f32], decoded: usize, level: u8) {
        self.pcm.extend_from_slice(chunk);
        if rms(chunk) >= AUDIBLE_RMS {
            self.audible.extend_from_slice(chunk);
        }
        self.decoded += decoded;
        (self.min_level, self.max_level) = (self.min_level.min(level), self.max_level.max(level));
    }

    /// Prints the `voice` line.
    fn report(self, peer: &str, track: &str) {
        let line = serde_json::json!({
            "peer": peer,
            "track": track,
            "freq": (!self.audible.is_empty()).then(|| dominant_frequency(&self.audible, RATE)),
            "rms": rms(&self.pcm),
            "decoded": self.decoded as f64 / self.pcm.len().max(1) as f64,
            "minLevel": self.min_level,
            "maxLevel": self.max_level,
        });
        crate::say(format!("voice {line}"));
    }
}

/// Pulls `track` in real time and prints one `voice` line per second until its connection ends.
async fn report(peer: String, track: RemoteAudioTrack) {
    let mut buf = vec![0.0; CHUNK];
    let mut second = Second::new();
    let start = tokio::time::Instant::now();
    for i in 1u64.. {
        let Ok(decoded) = track.read_pcm(&mut buf, RATE, 1) else { return };
        second.add(&buf, decoded, track.level());
        if second.pcm.len() >= RATE as usize {
            if track.stats().ended {
                return;
            }
            // The analysis takes a while in a debug build: off the pacing task, so reads stay on time.
            let (done, peer, id) =
                (std::mem::replace(&mut second, Second::new()), peer.clone(), track.id().to_string());
            tokio::task::spawn_blocking(move || done.report(&peer, &id));
        }
        tokio::time::sleep_until(start + Duration::from_millis(10 * i)).await;
    }
}
