//! Voice over the mesh, native ↔ native, through a real server and real WebRTC on loopback. The
//! machine has no sound card: each member pushes a generated sine paced in real time, and what the
//! others pull is analysed for its dominant frequency and level (issue 11's acceptance tests).

mod common;

use common::tone::{dominant_frequency, rms, speak};
use common::{config, wait_for, wait_tasks_end, Server};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc_p2p::rtc::audio::{AudioSource, RemoteAudioTrack};
use webrtc_p2p::{Event, PeerClient};

/// The real-time tests take turns: each paces pushes and reads against the clock, and several meshes
/// decoding at once in one debug process on two cores starve each other's audio threads.
static REAL_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A member that talks: one source added to every connection, and the remote tracks it got.
struct Talker {
    client: PeerClient,
    id: String,
    source: AudioSource,
    tracks: Arc<Mutex<HashMap<String, RemoteAudioTrack>>>,
}

fn voice_client(url: &str, source: &AudioSource) -> (PeerClient, Arc<Mutex<HashMap<String, RemoteAudioTrack>>>) {
    let client = PeerClient::new(config(url)).unwrap();
    let tracks: Arc<Mutex<HashMap<String, RemoteAudioTrack>>> = Default::default();
    let (source, got) = (source.clone(), tracks.clone());
    client.add_pc_create_hook(move |peer, _is_offer, pc| {
        let (source, got) = (source.clone(), got.clone());
        async move {
            pc.add_audio_source(&source).await.expect("add the audio source");
            pc.on_audio_track(move |track| {
                got.lock().insert(peer.clone(), track);
            });
        }
    });
    (client, tracks)
}

async fn talker(url: &str, host: Option<&str>, name: &str) -> Talker {
    let source = AudioSource::new(48_000, 1, 0).unwrap();
    let (client, tracks) = voice_client(url, &source);
    let mut events = client.subscribe();
    match host {
        None => client.start_host(name).await.unwrap(),
        Some(h) => client.start_client(h).await.unwrap(),
    }
    let Event::Started(id) = wait_for(&mut events, 15, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };
    Talker { client, id, source, tracks }
}

/// Pulls `ms` of audio from `track` in 10 ms reads paced in real time (as an audio callback does);
/// returns the PCM (mono at `rate`) and how many samples were decoded audio.
async fn listen(track: &RemoteAudioTrack, rate: u32, ms: u64) -> (Vec<f32>, usize) {
    let chunk = rate as usize / 100;
    let mut out = Vec::new();
    let mut decoded = 0;
    let mut buf = vec![0.0; chunk];
    let start = tokio::time::Instant::now();
    for i in 0..ms / 10 {
        decoded += track.read_pcm(&mut buf, rate, 1).unwrap();
        out.extend_from_slice(&buf);
        tokio::time::sleep_until(start + Duration::from_millis(10 * (i + 1))).await;
    }
    (out, decoded)
}

async fn track_from(t: &Talker, peer: &str) -> RemoteAudioTrack {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(track) = t.tracks.lock().get(peer).cloned() {
            return track;
        }
        assert!(Instant::now() < deadline, "no audio track from {peer} at {}", t.id);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks that `listener` hears `freq` from `speaker` at a sane level.
async fn hears(listener: &Talker, speaker: &str, freq: f32) {
    let track = track_from(listener, speaker).await;
    // Let the stream settle (first packets, the playout depth adapting to this machine's timing),
    // then analyse one second.
    let _ = listen(&track, 48_000, 1000).await;
    let (pcm, decoded) = listen(&track, 48_000, 1000).await;
    assert!(
        decoded > pcm.len() * 9 / 10,
        "{} of {} samples decoded at {}: {:?}",
        decoded,
        pcm.len(),
        listener.id,
        track.stats()
    );
    let heard = dominant_frequency(&pcm, 48_000);
    assert!((heard - freq).abs() <= 5.0, "{} heard {heard} Hz from {speaker}, expected {freq}", listener.id);
    let level = rms(&pcm);
    assert!((0.1..0.6).contains(&level), "rms {level} (pushed 0.5 amplitude, rms 0.35)");
    assert!(track.level() > 50, "speaking level {}", track.level());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_hear_each_other_at_once() {
    let _turn = REAL_TIME.lock().await;
    let server = Server::start();
    let host = talker(&server.url, None, "voice two").await;
    let client = talker(&server.url, Some(&host.id), "").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    speak(host.source.clone(), 440.0, 0.5, stop.clone());
    speak(client.source.clone(), 660.0, 0.5, stop.clone());
    tokio::join!(hears(&client, &host.id, 440.0), hears(&host, &client.id, 660.0));

    // Stats of the track: packets flowed, nothing lost on loopback, a small playout buffer.
    let stats = host.client.stats().await;
    let audio = &stats[0].audio;
    assert_eq!(audio.len(), 1, "{stats:?}");
    assert!(audio[0].packets_received > 50, "{audio:?}");
    // Nobody has read since `hears`: the queue sits at or below its 200 ms bound.
    assert!(audio[0].buffered_ms <= 200.0, "{audio:?}");

    // Mute: the client stops pushing; the host's meter falls to 0 and reads become silence.
    let track = track_from(&host, &client.id).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(track.level(), 0);
    // What was queued before the mute still plays out (at most 200 ms), then silence.
    let _ = listen(&track, 48_000, 300).await;
    let (pcm, decoded) = listen(&track, 48_000, 100).await;
    assert_eq!(decoded, 0);
    assert!(pcm.iter().all(|s| *s == 0.0));
    host.client.stop().await;
    client.client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_peer_mesh_hears_two_tracks_each() {
    let _turn = REAL_TIME.lock().await;
    let server = Server::start();
    let a = talker(&server.url, None, "voice three").await;
    let b = talker(&server.url, Some(&a.id), "").await;
    let c = talker(&server.url, Some(&a.id), "").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    speak(a.source.clone(), 440.0, 0.5, stop.clone());
    speak(b.source.clone(), 660.0, 0.5, stop.clone());
    speak(c.source.clone(), 880.0, 0.5, stop.clone());
    tokio::join!(
        hears(&a, &b.id, 660.0),
        hears(&a, &c.id, 880.0),
        hears(&b, &a.id, 440.0),
        hears(&b, &c.id, 880.0),
        hears(&c, &a.id, 440.0),
        hears(&c, &b.id, 660.0),
    );
    for t in [&a, &b, &c] {
        assert_eq!(t.tracks.lock().len(), 2, "{} has two tracks", t.id);
    }
    // Encoded once, sent twice: one packet per 20 ms pushed (960 samples at 48 kHz mono), not two.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let counted = a.source.counters();
    let frames = (counted.samples_pushed - counted.samples_dropped) / 960;
    assert!(frames > 50, "{counted:?}");
    let encoded = counted.packets_encoded;
    assert!(encoded <= frames && encoded + 2 >= frames, "{counted:?}: one packet per frame");
    for t in [a, b, c] {
        t.client.stop().await;
    }
}

/// A member without a microphone still hears the others, whoever makes the offer (offers always
/// carry an audio section).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_without_a_source_hears_the_talker() {
    let _turn = REAL_TIME.lock().await;
    let server = Server::start();
    let host = talker(&server.url, None, "voice listen").await;
    let listener = PeerClient::new(config(&server.url)).unwrap();
    let got: Arc<Mutex<HashMap<String, RemoteAudioTrack>>> = Default::default();
    let g = got.clone();
    listener.add_pc_create_hook(move |peer, _, pc| {
        let g = g.clone();
        async move { pc.on_audio_track(move |t| drop(g.lock().insert(peer.clone(), t))) }
    });
    let mut events = listener.subscribe();
    listener.start_client(&host.id).await.unwrap();
    let Event::Started(id) = wait_for(&mut events, 15, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    speak(host.source.clone(), 440.0, 0.5, stop.clone());
    let as_talker = Talker { client: listener, id, source: AudioSource::new(48_000, 1, 0).unwrap(), tracks: got };
    hears(&as_talker, &host.id, 440.0).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    as_talker.client.stop().await;
    host.client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_reject_bad_formats_and_pushes() {
    assert!(AudioSource::new(7_999, 1, 0).is_err());
    assert!(AudioSource::new(48_001, 1, 0).is_err());
    assert!(AudioSource::new(48_000, 3, 0).is_err());
    assert!(AudioSource::new(48_000, 0, 0).is_err());
    assert!(AudioSource::new(48_000, 1, 5_999).is_err());
    let s = AudioSource::new(44_100, 2, 64_000).unwrap();
    assert!(s.push(&[0.0; 3]).is_err(), "half a stereo frame");
    s.push(&[]).unwrap();
    // Far more than real time: memory stays bounded (the oldest is dropped).
    for _ in 0..300 {
        s.push(&[0.1; 8820]).unwrap();
    }
    assert!(s.counters().samples_dropped > 0);
    s.close();
    assert!(s.push(&[0.0; 2]).is_err(), "closed");
}

/// A voice group stopped and dropped leaves no task behind: the encoders of the sources, the
/// receivers of the remote tracks and every connection's tasks end (a voice app that joins and
/// leaves rooms all day must not grow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_voice_group_leaves_no_task_behind() {
    let _turn = REAL_TIME.lock().await;
    let server = Server::start();
    let before = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let host = talker(&server.url, None, "voice tasks").await;
    let client = talker(&server.url, Some(&host.id), "").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    speak(host.source.clone(), 440.0, 0.5, stop.clone());
    speak(client.source.clone(), 660.0, 0.5, stop.clone());
    let track = track_from(&client, &host.id).await;
    let _ = listen(&track, 48_000, 200).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(track);
    host.client.stop().await;
    client.client.stop().await;
    drop((host, client));
    wait_tasks_end(before).await;
}
