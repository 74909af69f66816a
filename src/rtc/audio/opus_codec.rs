//! The one codec we negotiate: Opus as every browser offers it (RFC 7587: 48 kHz clock, two
//! channels in SDP whatever the content, in-band FEC allowed, 10 ms minimum packet time).

use super::OPUS_RATE;
use opusic_c::SampleRate;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use webrtc::peer_connection::MediaEngine;

/// Chromium's payload type for Opus, so our offers look like a browser's.
const PAYLOAD_TYPE: u8 = 111;

pub fn codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS.to_owned(),
        clock_rate: OPUS_RATE,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// A media engine that knows Opus only (no video: the plugin carries voice and data).
pub fn register() -> webrtc::error::Result<MediaEngine> {
    let mut engine = MediaEngine::default();
    engine.register_codec(
        RTCRtpCodecParameters { rtp_codec: codec(), payload_type: PAYLOAD_TYPE },
        RtpCodecKind::Audio,
    )?;
    Ok(engine)
}

/// The Opus rate equal to `rate`, if Opus has one (those need no resampling).
pub fn native_rate(rate: u32) -> Option<SampleRate> {
    Some(match rate {
        8_000 => SampleRate::Hz8000,
        12_000 => SampleRate::Hz12000,
        16_000 => SampleRate::Hz16000,
        24_000 => SampleRate::Hz24000,
        48_000 => SampleRate::Hz48000,
        _ => return None,
    })
}
