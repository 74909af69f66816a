//! A terminal chat peer on webrtc_p2p: the native side of the demo and of the cross-client tests.
//!
//!   cargo run --example chat -- --url http://127.0.0.1:3010 --host "my room"
//!   cargo run --example chat -- --url http://127.0.0.1:3010 --join "my room"
//!
//! Lines typed on stdin go to every peer over the data channel "chat" (made by the offerer in the
//! pc-create hook, as in the seed's sample). Output, one line each: `ready <own id>`,
//! `event <name> <arg>`, `recv <peer id> <text>`. Options: `--vanilla` (no trickle ICE, like an
//! Extreal client), `--loopback` (host candidates on 127.0.0.1 only, for tests).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use webrtc_p2p::{DataChannel, DataChannelEvent, Event, PeerClient, PeerConfig};

type Channels = Arc<Mutex<HashMap<String, Arc<DataChannel>>>>;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn usage() -> ! {
    eprintln!("usage: chat --url URL (--host NAME | --join NAME) [--vanilla] [--loopback]");
    std::process::exit(2);
}

fn watch(peer: String, dc: Arc<DataChannel>, channels: Channels) {
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
                DataChannelEvent::Message { data, .. } => say(format!("recv {peer} {}", String::from_utf8_lossy(&data))),
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
    let (mut url, mut host, mut join, mut vanilla, mut loopback) = (None, None, None, false, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--url" => url = args.next(),
            "--host" => host = args.next(),
            "--join" => join = args.next(),
            "--vanilla" => vanilla = true,
            "--loopback" => loopback = true,
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

    let channels: Channels = Default::default();
    let ch = channels.clone();
    client.add_pc_create_hook(move |peer, is_offer, pc| {
        let ch = ch.clone();
        async move {
            if is_offer {
                match pc.create_data_channel("chat", &Default::default()).await {
                    Ok(dc) => watch(peer, dc, ch),
                    Err(e) => eprintln!("cannot create the chat channel: {e}"),
                }
            } else {
                pc.on_data_channel(move |dc| watch(peer.clone(), dc, ch.clone()));
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

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let targets: Vec<Arc<DataChannel>> = channels.lock().values().cloned().collect();
        for dc in targets {
            if let Err(e) = dc.send_text(&line).await {
                eprintln!("send failed: {e}");
            }
        }
    }
    client.stop().await;
}
