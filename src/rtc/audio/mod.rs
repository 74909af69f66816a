//! Voice: Opus over RTP on the same peer connections as the data channels.
//!
//! - [`AudioSource`]: one encoder fed by the app (one microphone); attached to any number of
//!   connections, its audio is encoded once and sent on each.
//! - [`RemoteAudioTrack`]: one peer's voice, decoded on arrival into a short playout queue that the
//!   app pulls PCM from on its audio thread, at any rate and channel count.
//!
//! PCM is interleaved `f32` in [−1, 1] everywhere. The pieces that decide (reordering, loss,
//! playout, level, resampling) are pure state machines tested without sockets; the tasks that
//! move packets are thin.

mod decode;
mod opus_codec;
mod playout;
mod remote;
mod resample;
mod source;

pub(crate) use opus_codec::register as register_codec;
pub use remote::{RemoteAudioTrack, MAX_OUTPUT_CHANNELS, MAX_OUTPUT_RATE, MIN_OUTPUT_RATE};
pub use source::{
    AudioSource, LocalAudioTrack, SourceCounters, MAX_BITRATE, MAX_PENDING, MAX_SAMPLE_RATE, MIN_BITRATE,
    MIN_SAMPLE_RATE,
};

/// Opus's RTP clock and our decode rate.
const OPUS_RATE: u32 = 48_000;
/// Decoded audio is kept as stereo (a mono sender decodes to two equal channels).
const PCM_CHANNELS: usize = 2;

#[cfg(test)]
mod tests;
