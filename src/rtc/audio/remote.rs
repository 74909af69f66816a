//! A remote audio track: the peer's voice, decoded as it arrives and pulled by the app as PCM at
//! the rate and channel count its output wants ([`RemoteAudioTrack::read_pcm`], never blocking on
//! the network: silence on underrun).

use super::decode::{Depacketizer, ReceiveCounters};
use super::playout::Playout;
use super::OPUS_RATE;
use crate::error::{P2pError, Result};
use crate::rtc::stats::AudioTrackStats;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Instant;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

/// Output rates `read_pcm` accepts.
pub const MIN_OUTPUT_RATE: u32 = 8_000;
/// Highest output rate `read_pcm` accepts.
pub const MAX_OUTPUT_RATE: u32 = 192_000;
/// Output channel counts `read_pcm` accepts (beyond stereo, the extra channels are silent).
pub const MAX_OUTPUT_CHANNELS: u32 = 8;

struct State {
    playout: Playout,
    received: ReceiveCounters,
    ended: bool,
}

/// One remote audio track. Cheap to clone; the receive task ends with the peer connection.
#[derive(Clone)]
pub struct RemoteAudioTrack {
    id: Arc<str>,
    state: Arc<Mutex<State>>,
}

impl RemoteAudioTrack {
    /// Starts receiving `track` (an audio track webrtc-rs announced).
    pub(in crate::rtc) async fn start(track: Arc<dyn TrackRemote>) -> Result<RemoteAudioTrack> {
        let id: Arc<str> = track.track_id().await.to_string().into();
        let depacketizer = Depacketizer::new().map_err(|e| P2pError::Rtc(e.into()))?;
        let state =
            Arc::new(Mutex::new(State { playout: Playout::default(), received: Default::default(), ended: false }));
        tokio::spawn(receive(track, depacketizer, Arc::downgrade(&state)));
        Ok(RemoteAudioTrack { id, state })
    }

    /// The track id the sender chose (its `MediaStreamTrack` id).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Fills `out` (interleaved, `channels` per frame) with audio at `sample_rate`; returns how many
    /// samples came from the peer's audio (the rest is silence). Safe to call from a real-time audio
    /// thread: it takes one short lock and does not allocate.
    pub fn read_pcm(&self, out: &mut [f32], sample_rate: u32, channels: u32) -> Result<usize> {
        check_output(out.len(), sample_rate, channels)?;
        Ok(self.state.lock().playout.read(out, sample_rate, channels as usize))
    }

    /// Loudness of the last ~100 ms, 0..=100 (0 when nothing arrived), for speaking indicators.
    pub fn level(&self) -> u8 {
        self.state.lock().playout.level(Instant::now())
    }

    /// Loss, jitter and buffering of this track.
    pub fn stats(&self) -> AudioTrackStats {
        let s = self.state.lock();
        let played = s.playout.counters();
        AudioTrackStats {
            track_id: self.id.to_string(),
            packets_received: s.received.packets_received,
            packets_lost: s.received.packets_lost,
            packets_late: s.received.packets_late,
            jitter_ms: s.received.jitter * 1000.0 / OPUS_RATE as f64,
            buffered_ms: s.playout.buffered_ms(),
            concealed_ms: s.received.frames_concealed as f64 * 1000.0 / OPUS_RATE as f64,
            underruns: played.underruns,
            ended: s.ended,
        }
    }
}

/// The formats `read_pcm` serves: any rate a sound card runs at, up to 8 channels, whole frames.
fn check_output(samples: usize, sample_rate: u32, channels: u32) -> Result<()> {
    if !(MIN_OUTPUT_RATE..=MAX_OUTPUT_RATE).contains(&sample_rate) {
        return Err(P2pError::InvalidArgument(format!(
            "sample_rate must be {MIN_OUTPUT_RATE}..={MAX_OUTPUT_RATE} Hz, got {sample_rate}"
        )));
    }
    if !(1..=MAX_OUTPUT_CHANNELS).contains(&channels) {
        return Err(P2pError::InvalidArgument(format!("channels must be 1..={MAX_OUTPUT_CHANNELS}, got {channels}")));
    }
    if !samples.is_multiple_of(channels as usize) {
        return Err(P2pError::InvalidArgument(format!(
            "{samples} samples is not a whole number of {channels}-channel frames"
        )));
    }
    Ok(())
}

/// Decodes every RTP packet of `track` into the playout queue until the track ends (or every
/// handle to it is gone).
async fn receive(track: Arc<dyn TrackRemote>, mut depacketizer: Depacketizer, state: std::sync::Weak<Mutex<State>>) {
    let mut pcm = Vec::new();
    while let Some(event) = track.poll().await {
        let Some(state) = state.upgrade() else { return };
        match event {
            TrackRemoteEvent::OnRtpPacket(packet) => {
                let now = Instant::now();
                pcm.clear();
                let h = &packet.header;
                depacketizer.push(h.sequence_number, h.timestamp, &packet.payload, now, &mut pcm);
                let mut s = state.lock();
                s.playout.push(&pcm, now);
                s.received = depacketizer.counters();
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    if let Some(state) = state.upgrade() {
        state.lock().ended = true;
    }
}

#[cfg(test)]
mod tests {
    use super::check_output;

    #[test]
    fn output_formats_are_checked() {
        assert!(check_output(960, 48_000, 2).is_ok());
        assert!(check_output(882, 44_100, 1).is_ok());
        assert!(check_output(0, 8_000, 8).is_ok());
        assert!(check_output(960, 7_999, 2).is_err());
        assert!(check_output(960, 192_001, 2).is_err());
        assert!(check_output(960, 48_000, 0).is_err());
        assert!(check_output(960, 48_000, 9).is_err());
        assert!(check_output(961, 48_000, 2).is_err(), "half a frame");
    }
}
