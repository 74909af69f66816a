//! Voice benchmarks that print figures (no assertions on speed; compare rows of one run):
//!
//!   cargo bench --bench voice                 # everything
//!   cargo bench --bench voice -- latency      # mouth-to-ear: impulse pushed -> first loud sample pulled
//!   cargo bench --bench voice -- mesh         # CPU and memory of an 8-member mesh: no audio / muted / all talking
//!
//! Everything runs in this process over loopback, paced in real time as a microphone and an audio
//! callback would be (10 ms chunks each way).

#[path = "../tests/common/mod.rs"]
mod common;

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc_p2p::rtc::audio::{AudioSource, RemoteAudioTrack};
use webrtc_p2p::{Event, PeerClient};

const RATE: u32 = 48_000;
const CHUNK: usize = RATE as usize / 100;

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

type Tracks = Arc<Mutex<HashMap<String, RemoteAudioTrack>>>;

/// A member; with a source, it sends it on every connection; it keeps every remote track.
async fn member(
    url: &str,
    host: Option<&str>,
    name: &str,
    source: Option<&AudioSource>,
) -> (PeerClient, String, Tracks) {
    let client = PeerClient::new(common::config(url)).unwrap();
    let tracks: Tracks = Default::default();
    let (src, got) = (source.cloned(), tracks.clone());
    client.add_pc_create_hook(move |peer, is_offer, pc| {
        let (src, got) = (src.clone(), got.clone());
        async move {
            match &src {
                Some(s) => pc.add_audio_source(s).await.unwrap(),
                // Without audio the connection needs a channel to negotiate anything.
                None if is_offer => drop(pc.create_data_channel("bench", &Default::default()).await),
                None => {}
            }
            pc.on_audio_track(move |t| drop(got.lock().insert(peer.clone(), t)));
        }
    });
    let mut events = client.subscribe();
    match host {
        None => client.start_host(name).await.unwrap(),
        Some(h) => client.start_client(h).await.unwrap(),
    }
    let Event::Started(id) = common::wait_for(&mut events, 20, |e| matches!(e, Event::Started(_))).await else {
        unreachable!()
    };
    (client, id, tracks)
}

/// Reads every track in 10 ms chunks in real time until `stop`, as an audio callback would.
fn pace_reads(tracks: Vec<Tracks>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0.0f32; CHUNK * 2];
        let start = Instant::now();
        let mut i = 0u32;
        while !stop.load(Ordering::Relaxed) {
            for t in &tracks {
                for track in t.lock().values() {
                    let _ = track.read_pcm(&mut buf, RATE, 2);
                }
            }
            i += 1;
            std::thread::sleep(
                (start + Duration::from_millis(10 * i as u64)).saturating_duration_since(Instant::now()),
            );
        }
    })
}

async fn wait_tracks(tracks: &[Tracks], each: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tracks.iter().any(|t| t.lock().len() < each) {
        assert!(Instant::now() < deadline, "tracks did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mouth-to-ear: silence, then a 20 ms burst at a known instant; the listener pulls 10 ms chunks in
/// real time and notes when the first loud sample comes out (its position in the chunk included:
/// the moment an audio device would play it, had the chunk been handed to it at read time).
async fn bench_latency(url: &str) {
    let bursts = 30;
    let source = AudioSource::new(RATE, 1, 0).unwrap();
    let (host, host_id, _) = member(url, None, "voice latency", Some(&source)).await;
    let (client, _, tracks) = member(url, Some(&host_id), "", None).await;
    let stop = Arc::new(AtomicBool::new(false));
    // A burst every 400 ms (19,200 samples), starting 1 s in.
    let burst_at = |k: usize| RATE as usize + k * 19_200;
    let pushed: Arc<Mutex<Vec<Instant>>> = Default::default();
    let log = pushed.clone();
    common::tone::pace(source.clone(), stop.clone(), move |n, _| {
        let k = n.saturating_sub(RATE as usize) / 19_200;
        let loud = n >= RATE as usize && n - burst_at(k) < 960;
        if loud && n == burst_at(k) {
            log.lock().push(Instant::now());
        }
        (n..n + CHUNK)
            .map(
                |i| if loud { 0.8 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / RATE as f32).sin() } else { 0.0 },
            )
            .collect()
    });
    wait_tracks(std::slice::from_ref(&tracks), 1).await;
    let track = tracks.lock().values().next().unwrap().clone();
    let mut heard = Vec::new();
    let mut buf = vec![0.0f32; CHUNK];
    let mut loud_before = false;
    let start = Instant::now();
    let mut i = 0u64;
    while heard.len() < bursts && start.elapsed() < Duration::from_secs(30) {
        let at = Instant::now();
        track.read_pcm(&mut buf, RATE, 1).unwrap();
        let first = buf.iter().position(|s| s.abs() > 0.1);
        if let (Some(k), false) = (first, loud_before) {
            heard.push(at + Duration::from_secs_f64(k as f64 / RATE as f64));
        }
        loud_before = first.is_some() || buf.iter().any(|s| s.abs() > 0.01);
        i += 1;
        tokio::time::sleep_until((start + Duration::from_millis(10 * i)).into()).await;
    }
    stop.store(true, Ordering::Relaxed);
    let pushed = pushed.lock().clone();
    let mut lat: Vec<f64> = pushed
        .iter()
        .filter_map(|p| heard.iter().find(|h| **h > *p).map(|h| (*h - *p).as_secs_f64() * 1000.0))
        .filter(|ms| *ms < 400.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    println!("\n## Voice: mouth-to-ear (push of a burst after silence -> first loud sample pulled, 10 ms chunks both ways)\n");
    println!("| bursts | p50 ms | p95 ms | max ms |\n|---|---|---|---|");
    if lat.is_empty() {
        println!("| 0 | - | - | - |");
    } else {
        println!(
            "| {} | {:.1} | {:.1} | {:.1} |",
            lat.len(),
            common::percentile(&lat, 0.5),
            common::percentile(&lat, 0.95),
            lat.last().unwrap()
        );
    }
    let stats = client.stats().await;
    if let Some(a) = stats.first().and_then(|s| s.audio.first()) {
        println!(
            "\nreceiver: {} packets, {} lost, jitter {:.2} ms, {:.1} ms buffered, {} underruns",
            a.packets_received, a.packets_lost, a.jitter_ms, a.buffered_ms, a.underruns
        );
    }
    host.stop().await;
    client.stop().await;
}

/// CPU and memory of an 8-member mesh in this process: data channels only; then one voice mesh,
/// first muted (sources added, nothing pushed), then everyone talking and reading the 7 others.
/// Memory per remote track is the RSS growth from muted to talking (the tracks, their decoders and
/// playout queues come into being then) over the 56 tracks.
async fn bench_mesh(url: &str) {
    const N: usize = 8;
    const SECONDS: u64 = 5;
    println!("\n## Voice: {N}-member mesh in one process ({SECONDS} s measured, CPU as % of one core)\n");
    println!("| case | CPU % | RSS growth (KiB) | per remote track (KiB) |\n|---|---|---|---|");
    let measure_cpu = || async {
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(Duration::from_secs(SECONDS)).await;
        (cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64() * 100.0
    };
    for voice in [false, true] {
        let sources: Vec<AudioSource> = (0..N).map(|_| AudioSource::new(RATE, 1, 0).unwrap()).collect();
        let name = format!("voice mesh {voice}");
        let rss_empty = common::rss_kib();
        let mut members = vec![member(url, None, &name, voice.then_some(&sources[0])).await];
        let host_id = members[0].1.clone();
        for s in &sources[1..] {
            members.push(member(url, Some(&host_id), "", voice.then_some(s)).await);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stop = Arc::new(AtomicBool::new(false));
        let all: Vec<Tracks> = members.iter().map(|m| m.2.clone()).collect();
        let reader = pace_reads(all.clone(), stop.clone());
        let rss_formed = common::rss_kib();
        let case = if voice { "voice, all muted" } else { "data channel only" };
        println!("| {case} | {:.0} | {} (forming) | - |", measure_cpu().await, rss_formed.saturating_sub(rss_empty));
        if voice {
            for (k, s) in sources.iter().enumerate() {
                let f = 300.0 + 50.0 * k as f32;
                common::tone::speak(s.clone(), f, 0.3, stop.clone());
            }
            wait_tracks(&all, N - 1).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let cpu = measure_cpu().await;
            let growth = common::rss_kib() as f64 - rss_formed as f64;
            println!("| voice, all talking | {cpu:.0} | {growth:.0} (tracks) | {:.0} |", growth / (N * (N - 1)) as f64);
        }
        stop.store(true, Ordering::Relaxed);
        let _ = reader.join();
        for (client, _, _) in members {
            client.stop().await;
        }
        drop(sources);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    let server = common::Server::start_with(&["--rate-per-sec", "100000", "--rate-burst", "100000"]);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if want("latency") {
            bench_latency(&server.url).await;
        }
        if want("mesh") {
            bench_mesh(&server.url).await;
        }
    });
}
