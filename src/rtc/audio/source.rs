//! An audio source: one microphone's PCM, encoded once with Opus and sent on every peer
//! connection it is attached to (in a mesh of N the voice is encoded once and sent N−1 times).
//!
//! `push` only copies samples into a bounded queue and wakes the source's encoder task, so it never
//! blocks the app's audio thread on encoding or the network; the task cuts 20 ms frames, encodes
//! them and hands each packet to every attached connection's track.

use super::resample::Resampler;
use super::{opus_codec, OPUS_RATE};
use crate::error::{P2pError, Result};
use bytes::Bytes;
use opusic_c::{Application, Bitrate, Channels, Encoder, SampleRate};
use parking_lot::Mutex;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::PeerConnection as RtcPeerConnection;
use webrtc::rtp_transceiver::RtpSender;

/// Sample rates a source accepts (Opus's own rates are encoded without resampling).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest sample rate a source accepts.
pub const MAX_SAMPLE_RATE: u32 = 48_000;
/// Bitrates a source accepts, bits per second (0 picks libopus's default for the channel count).
pub const MIN_BITRATE: u32 = 6_000;
/// Highest bitrate a source accepts, bits per second.
pub const MAX_BITRATE: u32 = 510_000;
/// At most this much pushed audio waits for the encoder; beyond it the oldest is dropped, so an
/// app pushing faster than real time costs bounded memory.
pub const MAX_PENDING: Duration = Duration::from_secs(1);
/// One Opus frame.
pub const FRAME: Duration = Duration::from_millis(20);

/// A source's figures: how much was pushed, encoded and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounters {
    /// Samples (all channels) accepted by `push`.
    pub samples_pushed: u64,
    /// Samples dropped because more than [`MAX_PENDING`] waited.
    pub samples_dropped: u64,
    /// Opus packets encoded (each sent to every attached connection).
    pub packets_encoded: u64,
}

/// PCM waiting for the encoder, at the encoder's rate.
struct Pending {
    samples: Vec<f32>,
    /// Converts the app's rate to the encoder's when the app's is not an Opus rate.
    resampler: Option<Resampler>,
}

struct Shared {
    channels: usize,
    /// Samples per channel in one encoder frame.
    frame_len: usize,
    pending: Mutex<Pending>,
    /// Shared with the encoder task on its own, so a waiting task does not keep the source alive.
    wake: Arc<Notify>,
    closed: AtomicBool,
    tracks: Mutex<Vec<Weak<LocalAudioTrack>>>,
    pushed: AtomicU64,
    dropped: AtomicU64,
    encoded: AtomicU64,
}

/// One encoder fed by the app. Cloning shares it; dropping the last clone (or [`AudioSource::close`])
/// stops its task. Attached connections then stay up but send no audio.
#[derive(Clone)]
pub struct AudioSource {
    shared: Arc<Shared>,
    sample_rate: u32,
}

impl AudioSource {
    /// A source for PCM at `sample_rate` (8,000..=48,000 Hz) with `channels` (1 or 2) interleaved;
    /// `bitrate` in bits/s, 0 for libopus's default. Must be called within a tokio runtime (the
    /// encoder runs as a task on it).
    pub fn new(sample_rate: u32, channels: u32, bitrate: u32) -> Result<AudioSource> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(P2pError::InvalidArgument(format!(
                "sample_rate must be {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz, got {sample_rate}"
            )));
        }
        let opus_channels = match channels {
            1 => Channels::Mono,
            2 => Channels::Stereo,
            _ => return Err(P2pError::InvalidArgument(format!("channels must be 1 or 2, got {channels}"))),
        };
        if bitrate != 0 && !(MIN_BITRATE..=MAX_BITRATE).contains(&bitrate) {
            return Err(P2pError::InvalidArgument(format!(
                "bitrate must be 0 (default) or {MIN_BITRATE}..={MAX_BITRATE} bits/s, got {bitrate}"
            )));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| P2pError::InvalidState("an audio source needs a tokio runtime".into()))?;
        let (encoder_rate, resampler) = match opus_codec::native_rate(sample_rate) {
            Some(rate) => (rate, None),
            None => (SampleRate::Hz48000, Some(Resampler::new(sample_rate, OPUS_RATE, channels as usize))),
        };
        let mut encoder = Encoder::new(opus_channels, encoder_rate, Application::Voip)
            .map_err(|e| P2pError::Rtc(format!("cannot create the Opus encoder: {e:?}").into()))?;
        if bitrate != 0 {
            encoder
                .set_bitrate(Bitrate::Value(bitrate))
                .map_err(|e| P2pError::InvalidArgument(format!("bitrate {bitrate} refused by Opus: {e:?}")))?;
        }
        let shared = Arc::new(Shared {
            channels: channels as usize,
            frame_len: encoder_rate as usize / 50,
            pending: Mutex::new(Pending { samples: Vec::new(), resampler }),
            wake: Arc::new(Notify::new()),
            closed: AtomicBool::new(false),
            tracks: Mutex::new(Vec::new()),
            pushed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            encoded: AtomicU64::new(0),
        });
        runtime.spawn(encode_loop(Arc::downgrade(&shared), shared.wake.clone(), encoder));
        Ok(AudioSource { shared, sample_rate })
    }

    /// Queues interleaved PCM in [−1, 1] (values beyond are clipped by the encoder). Never blocks on
    /// encoding or the network. `samples.len()` must be a whole number of frames.
    pub fn push(&self, samples: &[f32]) -> Result<()> {
        let s = &self.shared;
        if s.closed.load(Ordering::Acquire) {
            return Err(P2pError::Closed("the audio source was destroyed".into()));
        }
        if !samples.len().is_multiple_of(s.channels) {
            return Err(P2pError::InvalidArgument(format!(
                "{} samples is not a whole number of {}-channel frames",
                samples.len(),
                s.channels
            )));
        }
        if samples.is_empty() {
            return Ok(());
        }
        // The queue holds audio at the encoder's rate: `frame_len` samples per channel are 20 ms.
        let cap = s.frame_len * (MAX_PENDING.as_millis() / FRAME.as_millis()) as usize * s.channels;
        let ready = {
            let mut pending = s.pending.lock();
            let Pending { samples: queue, resampler } = &mut *pending;
            match resampler {
                Some(r) => r.process(samples, queue),
                None => queue.extend_from_slice(samples),
            }
            if queue.len() > cap {
                let excess = (queue.len() - cap).next_multiple_of(s.channels);
                queue.drain(..excess);
                s.dropped.fetch_add(excess as u64, Ordering::Relaxed);
            }
            queue.len() >= s.frame_len * s.channels
        };
        s.pushed.fetch_add(samples.len() as u64, Ordering::Relaxed);
        if ready {
            s.wake.notify_one();
        }
        Ok(())
    }

    /// The rate `push` expects.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The channel count `push` expects.
    pub fn channels(&self) -> u32 {
        self.shared.channels as u32
    }

    /// What the source has pushed, encoded and dropped so far.
    pub fn counters(&self) -> SourceCounters {
        let s = &self.shared;
        SourceCounters {
            samples_pushed: s.pushed.load(Ordering::Relaxed),
            samples_dropped: s.dropped.load(Ordering::Relaxed),
            packets_encoded: s.encoded.load(Ordering::Relaxed),
        }
    }

    /// Stops the encoder; later pushes fail with `Closed`. Attached connections stay up.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }

    /// Sends this source on `pc`: adds a track (before the offer or answer, i.e. in the pc-create
    /// hook, so negotiation includes it).
    pub(in crate::rtc) async fn attach(&self, pc: &Arc<dyn RtcPeerConnection>) -> Result<Arc<LocalAudioTrack>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(P2pError::Closed("the audio source was destroyed".into()));
        }
        let ssrc = rand_ssrc();
        let track = MediaStreamTrack::new(
            format!("p2p-voice-{ssrc:08x}"),
            format!("p2p-voice-track-{ssrc:08x}"),
            "voice".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec: opus_codec::codec(),
                ..Default::default()
            }],
        );
        let track = Arc::new(TrackLocalStaticSample::new(Instant::now(), track).map_err(rtc_err)?);
        let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.map_err(rtc_err)?;
        let local = Arc::new(LocalAudioTrack { track, sender, ssrc, payload_type: Mutex::new(None) });
        let mut tracks = self.shared.tracks.lock();
        tracks.retain(|t| t.strong_count() > 0);
        tracks.push(Arc::downgrade(&local));
        Ok(local)
    }

    /// Whether both handles are the same source.
    pub fn same_as(&self, other: &AudioSource) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

fn rtc_err(e: impl std::error::Error + Send + Sync + 'static) -> P2pError {
    P2pError::Rtc(crate::error::Cause::of(e))
}

/// A random SSRC (RFC 3550 wants them random, so that members' streams don't collide).
fn rand_ssrc() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() as u32).max(1)
}

/// This source's track on one connection; the connection owns it, the source only refers to it,
/// so a closed connection drops out of the fan-out by itself.
pub struct LocalAudioTrack {
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    /// The payload type negotiated for Opus; known once the connection's SDP exchange is done.
    payload_type: Mutex<Option<u8>>,
}

impl LocalAudioTrack {
    /// Sends one encoded frame; silently skipped until negotiation has completed.
    async fn send(&self, sample: &Sample) {
        let known = *self.payload_type.lock();
        let payload_type = match known {
            Some(pt) => pt,
            None => {
                let Ok(params) = self.sender.get_parameters().await else { return };
                let Some(pt) = params.rtp_parameters.codecs.first().map(|c| c.payload_type) else { return };
                *self.payload_type.lock() = Some(pt);
                pt
            }
        };
        if let Err(e) = self.track.sample_writer(self.ssrc, payload_type).write_sample(sample).await {
            tracing::trace!(error = %e, "an audio frame was not sent");
        }
    }
}

/// The encoder task: waits for whole frames, encodes each once and sends it on every track.
async fn encode_loop(shared: Weak<Shared>, wake: Arc<Notify>, mut encoder: Encoder) {
    let mut frame = Vec::new();
    let mut packet = vec![0u8; 1500];
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.closed.load(Ordering::Acquire) {
            return;
        }
        let need = s.frame_len * s.channels;
        let ready = {
            let mut pending = s.pending.lock();
            if pending.samples.len() >= need {
                frame.clear();
                frame.extend(pending.samples.drain(..need));
                true
            } else {
                false
            }
        };
        if !ready {
            let woken = wake.notified();
            drop(s);
            // Re-checked after a bounded wait, so a dropped source ends the task promptly.
            let _ = tokio::time::timeout(Duration::from_millis(500), woken).await;
            continue;
        }
        let len = match encoder.encode_float_to_slice(&frame, &mut packet) {
            Ok(len) => len,
            Err(e) => {
                tracing::warn!(error = ?e, "Opus could not encode a frame");
                continue;
            }
        };
        s.encoded.fetch_add(1, Ordering::Relaxed);
        let sample =
            Sample { data: Bytes::copy_from_slice(&packet[..len]), duration: FRAME, ..Sample::new(Instant::now()) };
        let tracks: Vec<Arc<LocalAudioTrack>> = s.tracks.lock().iter().filter_map(Weak::upgrade).collect();
        drop(s);
        for track in tracks {
            track.send(&sample).await;
        }
    }
}
