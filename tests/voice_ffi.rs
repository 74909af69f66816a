//! Bad input at every voice export of the C ABI: codes and readable messages, never a crash. (The
//! C ABI's voice path end to end is exercised by the Unity package's Mono tests, which call it.)

use std::ffi::c_char;
use std::ptr;
use webrtc_p2p::ffi::audio::*;
use webrtc_p2p::ffi::client::*;
use webrtc_p2p::ffi::error::p2p_get_last_error;
use webrtc_p2p::ffi::types::*;

fn last_error() -> String {
    let mut buf = vec![0 as c_char; 512];
    let n = unsafe { p2p_get_last_error(buf.as_mut_ptr(), buf.len() as i32) };
    assert!(n >= 1);
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

fn expect(code: i32, result: i32, what: &str, message_has: &str) {
    assert_eq!(result, code, "{what}");
    let message = last_error();
    assert!(message.contains(message_has), "{what}: {message:?} lacks {message_has:?}");
}

unsafe extern "C" fn on_track(_: *mut std::ffi::c_void, _: i32, _: i32) {}

#[test]
fn every_voice_export_rejects_bad_input() {
    // Formats out of range.
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(7_999, 1, 0), "rate too low", "sample_rate");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(96_000, 1, 0), "rate too high", "sample_rate");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(-48_000, 1, 0), "negative rate", "negative");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(48_000, 0, 0), "no channels", "channels");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(48_000, 6, 0), "six channels", "channels");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(48_000, 1, 100), "bitrate", "bitrate");
    expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_create(48_000, 1, i32::MAX), "huge bitrate", "bitrate");

    let source = p2p_audio_source_create(16_000, 2, 24_000);
    assert!(source > 0, "{}", last_error());
    let pcm = [0.25f32; 320];
    unsafe {
        assert_eq!(p2p_audio_source_push(source, pcm.as_ptr(), 320), P2P_OK);
        assert_eq!(p2p_audio_source_push(source, ptr::null(), 0), P2P_OK, "nothing to push");
        expect(P2P_ERR_INVALID_ARGUMENT, p2p_audio_source_push(source, ptr::null(), 2), "NULL samples", "NULL");
        expect(
            P2P_ERR_INVALID_ARGUMENT,
            p2p_audio_source_push(source, pcm.as_ptr(), -1),
            "negative count",
            "sample_count",
        );
        expect(
            P2P_ERR_INVALID_ARGUMENT,
            p2p_audio_source_push(source, pcm.as_ptr(), 3),
            "half a frame",
            "whole number",
        );
        expect(
            P2P_ERR_INVALID_ARGUMENT,
            p2p_audio_source_push(source, pcm.as_ptr(), i32::MAX),
            "absurd count",
            "sample_count",
        );
        expect(P2P_ERR_INVALID_HANDLE, p2p_audio_source_push(0, pcm.as_ptr(), 2), "handle 0", "unknown");
        expect(P2P_ERR_INVALID_HANDLE, p2p_audio_source_push(9_999_999, pcm.as_ptr(), 2), "unknown handle", "unknown");
    }

    // Wrong kinds: a client where a source, pc or track is expected, and a source where a pc is.
    let config = std::ffi::CString::new(r#"{"signalingUrl":"http://127.0.0.1:9"}"#).unwrap();
    let client = unsafe { p2p_client_create(config.as_ptr()) };
    assert!(client > 0, "{}", last_error());
    let mut out = [1.0f32; 960];
    unsafe {
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_audio_source_push(client, pcm.as_ptr(), 2),
            "client as source",
            "not an audio source",
        );
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_pc_add_audio_source(client, source),
            "client as pc",
            "not a peer connection",
        );
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_pc_add_audio_source(source, source),
            "source as pc",
            "not a peer connection",
        );
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_pc_set_track_callback(source, Some(on_track), ptr::null_mut()),
            "source as pc",
            "not a peer connection",
        );
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_track_read_pcm(source, out.as_mut_ptr(), 960, 48_000, 2),
            "source as track",
            "not an audio track",
        );
        expect(
            P2P_ERR_INVALID_HANDLE,
            p2p_track_read_pcm(client, out.as_mut_ptr(), 960, 48_000, 2),
            "client as track",
            "not an audio track",
        );
        expect(P2P_ERR_INVALID_HANDLE, p2p_track_get_level(source), "source as track", "not an audio track");
        expect(P2P_ERR_INVALID_HANDLE, p2p_track_get_stats(-5, ptr::null_mut(), 0), "negative handle", "unknown");
        expect(P2P_ERR_INVALID_HANDLE, p2p_audio_source_destroy(client), "client as source", "not an audio source");
    }
    assert_eq!(p2p_client_destroy(client), P2P_OK);

    // Destroy: the handle dies, a second destroy is an error, pushes fail with a handle error.
    assert_eq!(p2p_audio_source_destroy(source), P2P_OK);
    expect(P2P_ERR_INVALID_HANDLE, p2p_audio_source_destroy(source), "double destroy", "unknown");
    expect(
        P2P_ERR_INVALID_HANDLE,
        unsafe { p2p_audio_source_push(source, pcm.as_ptr(), 2) },
        "push after destroy",
        "unknown",
    );
}
