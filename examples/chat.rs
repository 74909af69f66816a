//! A terminal chat peer on webrtc_p2p: the native side of the demo and of the cross-client tests.
//!
//!   cargo run --example chat -- --url http://127.0.0.1:3010 --host "my room"
//!   cargo run --example chat -- --url http://127.0.0.1:3010 --join "my room"
//!
//! Lines typed on stdin go to every peer over the data channel "chat" (made by the offerer in the
//! pc-create hook, as in the seed's sample). Output, one line each: `ready <own id>`,
//! `event <name> <arg>`, `recv <peer id> <text>`. Options: `--vanilla` (no trickle ICE, like an
//! Extreal client), `--loopback` (host candidates on 127.0.0.1 only, for tests), `--voice HZ`
//! (talk a HZ Hz sine on every connection, 0 to only listen, and print `voice {json}` once a second
//! per remote track: what was heard; see chat/voice.rs).
//!
//! Commands: `/stats` prints one line per link (`stats <peer id> <state> <ice> <pair> <rtt> …`),
//! `/stats json` the same as one JSON array (`stats-json [...]`, the C ABI's format).
//!
//! Like the web demo page, the peer also publishes its link stats once a second on a second data
//! channel, "mesh", so the demo page can draw the links between members it is not part of.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use webrtc_p2p::{DataChannel, DataChannelEvent, Event, PeerClient, PeerConfig};

#[path = "../tests/common/tone.rs"]
mod tone;
#[path = "chat/voice.rs"]
mod voice;

type Channels = Arc<Mutex<HashMap<String, Arc<DataChannel>>>>;

/// Label of the channel carrying link stats for the demo page's graph (see web/src/meshview.ts).
const MESH_LABEL: &str = "mesh";

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn usage() -> ! {
    eprintln!("usage: chat --url URL (--host NAME | --join NAME) [--vanilla] [--loopback] [--voice HZ]");
    std::process::exit(2);
}

fn watch(peer: String, dc: Arc<DataChannel>, channels: Channels, mesh: Channels) {
    if dc.label() == MESH_LABEL {
        // What peers publish here is for pages to draw; a terminal peer only publishes.
        tokio::spawn(async move {
            while let Some(event) = dc.next_event().await {
                match event {
                    DataChannelEvent::Open => {
                        mesh.lock().insert(peer.clone(), dc.clone());
                    }
                    DataChannelEvent::Close => break,
                    _ => {}
                }
            }
            mesh.lock().remove(&peer);
        });
        return;
    }
    if dc.label() != "chat" {
        return;
    }
    tokio::spawn(async move {
        while let Some(event) = dc.next_event().await {
            match event {
                DataChannelEvent::Open => {
                    channels.lock().insert(peer.clone(), dc.clone());
                    say(format!("open {peer}"));
                }
                DataChannelEvent::Message { data, .. } => {
                    say(format!("recv {peer} {}", String::from_utf8_lossy(&data)))
                }
                DataChannelEvent::Close => break,
                _ => {}
            }
        }
        channels.lock().remove(&peer);
    });
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut url, mut host, mut join, mut vanilla, mut loopback, mut voice) = (None, None, None, false, false, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--url" => url = args.next(),
            "--host" => host = args.next(),
            "--join" => join = args.next(),
            "--vanilla" => vanilla = true,
            "--loopback" => loopback = true,
            "--voice" => voice = Some(args.next().and_then(|hz| hz.parse::<f32>().ok()).unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let Some(url) = url else { usage() };
    let mut config = PeerConfig::new(url);
    config.trickle_ice = !vanilla;
    if loopback {
        config.bind_addresses = vec!["127.0.0.1:0".into()];
    }
    let client = Arc::new(PeerClient::new(config).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    }));

    let voice = voice.map(|hz| {
        Arc::new(voice::Voice::new(hz).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }))
    });

    let channels: Channels = Default::default();
    let mesh: Channels = Default::default();
    let (ch, me) = (channels.clone(), mesh.clone());
    client.add_pc_create_hook(move |peer, is_offer, pc| {
        let (ch, me, voice) = (ch.clone(), me.clone(), voice.clone());
        async move {
            if let Some(voice) = voice {
                voice.attach(peer.clone(), &pc).await;
            }
            if is_offer {
                for label in ["chat", MESH_LABEL] {
                    match pc.create_data_channel(label, &Default::default()).await {
                        Ok(dc) => watch(peer.clone(), dc, ch.clone(), me.clone()),
                        Err(e) => eprintln!("cannot create the {label} channel: {e}"),
                    }
                }
            } else {
                pc.on_data_channel(move |dc| watch(peer.clone(), dc, ch.clone(), me.clone()));
            }
        }
    });
    let mut events = client.subscribe();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            let name = match &e {
                Event::Started(_) => "started",
                Event::StartFailed(_) => "start-failed",
                Event::ConnectFailed(_) => "connect-failed",
                Event::Disconnected(_) => "disconnected",
                Event::UserConnecting(_) => "user-connecting",
                Event::UserConnected(_) => "user-connected",
                Event::UserDisconnecting(_) => "user-disconnecting",
                Event::Reconnected(_) => "reconnected",
                _ => "other",
            };
            say(format!("event {name} {}", e.arg()));
        }
    });

    let started = match (host, join) {
        (Some(name), None) => client.start_host(&name).await,
        (None, Some(name)) => {
            // Find the host by name; it may still be starting.
            let mut host_id = None;
            for _ in 0..100 {
                match client.list_hosts().await {
                    Ok(hosts) => {
                        if let Some(h) = hosts.into_iter().find(|h| h.name == name) {
                            host_id = Some(h.id);
                            break;
                        }
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        std::process::exit(1);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            match host_id {
                Some(id) => client.start_client(&id).await,
                None => {
                    eprintln!("no host named {name:?}");
                    std::process::exit(1);
                }
            }
        }
        _ => usage(),
    };
    if let Err(e) = started {
        eprintln!("{e}");
        std::process::exit(1);
    }
    say(format!("ready {}", client.client_id().unwrap_or_default()));
    tokio::spawn(publish_stats(client.clone(), mesh));

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line == "/stats" {
            for s in client.stats().await {
                say(format!("stats {} {}", s.peer_id, s.one_line()));
            }
            continue;
        }
        if line == "/stats json" {
            say(format!("stats-json {}", serde_json::to_string(&client.stats().await).unwrap_or_default()));
            continue;
        }
        let targets: Vec<Arc<DataChannel>> = channels.lock().values().cloned().collect();
        for dc in targets {
            if let Err(e) = dc.send_text(&line).await {
                eprintln!("send failed: {e}");
            }
        }
    }
    client.stop().await;
}

/// Once a second, sends `{"from": own id, "links": [PeerStats…]}` on every open "mesh" channel.
async fn publish_stats(client: Arc<PeerClient>, mesh: Channels) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let targets: Vec<Arc<DataChannel>> = mesh.lock().values().cloned().collect();
        if targets.is_empty() {
            continue;
        }
        let report =
            serde_json::json!({ "from": client.client_id().unwrap_or_default(), "links": client.stats().await });
        let text = report.to_string();
        for dc in targets {
            let _ = dc.send_text(&text).await;
        }
    }
}
