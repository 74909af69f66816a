//! `p2p_audio_source_*`, `p2p_pc_add_audio_source`, `p2p_pc_set_track_callback`, `p2p_track_*`:
//! voice. A source is one encoder the app feeds (one microphone) and adds to any number of peer
//! connections; a track is one remote peer's voice that the app pulls PCM from on its audio thread.
//! PCM is interleaved `float` in [-1, 1]; `sample_count` counts samples over all channels.

use super::client::UserData;
use super::error::{guard, FfiError, FfiResult};
use super::gate::invoke_live;
use super::handles::{self, Object};
use super::runtime;
use super::strings::copy_out;
use super::types::*;
use crate::rtc::audio::{AudioSource, RemoteAudioTrack, MAX_OUTPUT_CHANNELS, MAX_OUTPUT_RATE};
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// Bound of the blocking `p2p_pc_add_audio_source` (a local operation, normally microseconds).
const ADD_WAIT: Duration = Duration::from_secs(5);
/// Most samples one push or read takes: one second of 48 kHz stereo for a push, of the widest
/// output for a read. More in one call is a bug in the caller (an audio callback handles ~10 ms).
const MAX_PUSH_SAMPLES: i32 = 48_000 * 2;
const MAX_READ_SAMPLES: i32 = (MAX_OUTPUT_RATE * MAX_OUTPUT_CHANNELS) as i32;

/// A remote audio track behind a handle.
pub struct FfiTrack {
    pub track: RemoteAudioTrack,
}

fn positive(value: i32, name: &str) -> FfiResult<u32> {
    u32::try_from(value).map_err(|_| FfiError::arg(format!("{name} must not be negative, got {value}")))
}

/// Creates an audio source for PCM at `sample_rate` (8000..=48000 Hz) with `channels` (1 or 2);
/// `bitrate` in bits/s (6000..=510000), 0 for Opus's default (~32 kb/s mono at 48 kHz). Returns the
/// source handle or a `P2P_ERR_*`. A source belongs to no client: add it to the connections of any.
#[no_mangle]
pub extern "C" fn p2p_audio_source_create(sample_rate: i32, channels: i32, bitrate: i32) -> i32 {
    guard(|| {
        let rt = runtime::get();
        let _entered = rt.enter();
        let source = AudioSource::new(
            positive(sample_rate, "sample_rate")?,
            positive(channels, "channels")?,
            positive(bitrate, "bitrate")?,
        )?;
        Ok(handles::insert_with(|_| Object::AudioSource(Arc::new(source))))
    })
}

/// Queues `sample_count` interleaved samples (a whole number of frames, at most one second) for
/// encoding. Never blocks on encoding or the network: safe on a real-time audio thread. Push in
/// real time (e.g. every 10–20 ms); more than one second queued drops the oldest. Returns 0.
///
/// # Safety
/// `samples` points to `sample_count` readable floats (may be NULL when `sample_count` is 0).
#[no_mangle]
pub unsafe extern "C" fn p2p_audio_source_push(source: i32, samples: *const f32, sample_count: i32) -> i32 {
    guard(|| {
        let s = handles::audio_source(source)?;
        if !(0..=MAX_PUSH_SAMPLES).contains(&sample_count) {
            return Err(FfiError::arg(format!("sample_count must be 0..={MAX_PUSH_SAMPLES}, got {sample_count}")));
        }
        if sample_count == 0 {
            return Ok(P2P_OK);
        }
        if samples.is_null() {
            return Err(FfiError::arg("samples is NULL"));
        }
        let pcm = unsafe { std::slice::from_raw_parts(samples, sample_count as usize) };
        s.push(pcm)?;
        Ok(P2P_OK)
    })
}

/// Destroys a source: its encoder stops, the connections it was added to stay up and send no more
/// audio. The handle is invalid afterwards.
#[no_mangle]
pub extern "C" fn p2p_audio_source_destroy(source: i32) -> i32 {
    guard(|| {
        let s = handles::audio_source(source)?;
        handles::remove(source);
        s.close();
        Ok(P2P_OK)
    })
}

/// Sends `source` on `pc`. Call it in the pc-create hook (offerer or answerer) so the offer or
/// answer carries it; a source is added at most once per connection (`P2P_ERR_INVALID_STATE`).
/// Blocks up to 5 s (a local operation). Returns 0.
#[no_mangle]
pub extern "C" fn p2p_pc_add_audio_source(pc: i32, source: i32) -> i32 {
    guard(|| {
        let p = handles::pc(pc)?;
        let s = handles::audio_source(source)?;
        let inner = p.pc.clone();
        runtime::block_on(ADD_WAIT, async move { inner.add_audio_source(&s).await })
            .ok_or_else(|| FfiError::new(P2P_ERR_TIMEOUT, "adding the audio source timed out"))??;
        Ok(P2P_OK)
    })
}

/// Sets the callback for the remote side's audio tracks (`cb(user_data, pc, track)` on a library
/// thread); tracks that arrived before this call are delivered at once. A track handle stays valid
/// until its connection's close hooks have run.
#[no_mangle]
pub extern "C" fn p2p_pc_set_track_callback(pc: i32, cb: p2p_track_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        let p = handles::pc(pc)?;
        let cb = cb.ok_or_else(|| FfiError::arg("cb is NULL"))?;
        let ud = UserData(user_data);
        let weak = Arc::downgrade(&p);
        p.pc.on_audio_track(move |track| {
            let Some(p) = weak.upgrade() else { return };
            let Some(handle) = p.adopt(|| handles::insert_with(|_| Object::Track(Arc::new(FfiTrack { track })))) else {
                return;
            };
            let pc = p.handle;
            invoke_live(&p.gate, handle, || unsafe { cb(ud.get(), pc, handle) });
        });
        Ok(P2P_OK)
    })
}

/// Fills all of `out` (`sample_count` interleaved samples, `channels` 1..=8 per frame) with the
/// track's audio at `sample_rate` (8000..=192000 Hz), mixed to that channel count (mono: the
/// mean; beyond stereo the extra channels are silent). Returns how many samples came from decoded
/// audio; the rest is silence (nothing arrived yet, the peer is muted, or the buffer ran dry).
/// Never blocks on the network: call it from the audio thread (Unity's `OnAudioFilterRead`).
///
/// # Safety
/// `out` points to `sample_count` writable floats.
#[no_mangle]
pub unsafe extern "C" fn p2p_track_read_pcm(
    track: i32,
    out: *mut f32,
    sample_count: i32,
    sample_rate: i32,
    channels: i32,
) -> i32 {
    guard(|| {
        let t = handles::track(track)?;
        if !(0..=MAX_READ_SAMPLES).contains(&sample_count) {
            return Err(FfiError::arg(format!("sample_count must be 0..={MAX_READ_SAMPLES}, got {sample_count}")));
        }
        let (rate, channels) = (positive(sample_rate, "sample_rate")?, positive(channels, "channels")?);
        if sample_count == 0 {
            // Still validates the format, so a caller learns of a bad rate on its first call.
            t.track.read_pcm(&mut [], rate, channels)?;
            return Ok(0);
        }
        if out.is_null() {
            return Err(FfiError::arg("out is NULL"));
        }
        let out = unsafe { std::slice::from_raw_parts_mut(out, sample_count as usize) };
        Ok(t.track.read_pcm(out, rate, channels)? as i32)
    })
}

/// Loudness of the track's last ~100 ms: 0 (silence or nothing arrived) to 100 (full scale), on a
/// dB scale (-60..0 dBFS): for speaking indicators (speech is typically 40–80).
#[no_mangle]
pub extern "C" fn p2p_track_get_level(track: i32) -> i32 {
    guard(|| Ok(handles::track(track)?.track.level() as i32))
}

/// Copies the track's reception figures, as a JSON object, into `buffer` (NUL-terminated,
/// truncated to fit). Returns the size needed, NUL included, or a `P2P_ERR_*` (size it as
/// `p2p_pc_get_stats`). The same object appears per track in the `audio` array of the pc stats:
/// `trackId`, `packetsReceived`, `packetsLost` (RFC 3550: expected minus received), `packetsLate`,
/// `jitterMs` (RFC 3550 interarrival jitter), `bufferedMs` (decoded audio waiting to be read: the
/// receive-side delay), `concealedMs` (loss concealment), `underruns` (reads that ran dry while
/// playing), `ended`.
///
/// # Safety
/// `buffer` is NULL or points to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn p2p_track_get_stats(track: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let t = handles::track(track)?;
        let json = serde_json::to_string(&t.track.stats()).expect("stats serialise");
        Ok(unsafe { copy_out(&json, buffer, size) })
    })
}
