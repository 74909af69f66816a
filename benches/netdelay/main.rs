//! Join on a slow network: join → channel open between two native peers whose packets cross a
//! delay line, at several one-way delays, to show the join stays near its floor of a few round
//! trips (docs/performance.md, "On a slow network").
//!
//!   cargo bench --bench netdelay               (root; or scripts/bench-netdelay.sh)
//!
//! Env: NETDELAY_MS (one-way delays, default "0,10,25,50"), NETDELAY_ROUNDS (joins per delay,
//! default 20), NETDELAY_LOSS (drop probability per packet, default 0), P2P_SIGNALING_BIN.
//!
//! Three network namespaces made here: the signaling server (10.77.0.1), the host (10.77.0.2) and
//! the joiner (10.77.0.3), each in its own process; every packet between any two of them crosses
//! the delay line (delay_line.rs), so all three are one RTT apart. Before each row a UDP ping checks
//! that the line delays as configured. Skips (prints why, exits 0) without root, TUN or `ip netns`.

#[path = "../../tests/common/mod.rs"]
mod common;
mod delay_line;
mod netns;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use webrtc_p2p::{DataChannelEvent, PeerClient, PeerConfig};

const ADDRS: [Ipv4Addr; 3] = [Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2), Ipv4Addr::new(10, 77, 0, 3)];
const SERVER: usize = 0;
const HOST: usize = 1;
const JOINER: usize = 2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--role-host") => role_host(&args[1], &args[2]),
        Some("--role-join") => role_join(&args[1], &args[2], &args[3], args[4].parse().expect("rounds")),
        _ => orchestrate(),
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------- the peers (child processes)

fn peer_config(url: &str, ip: &str) -> PeerConfig {
    let mut c = PeerConfig::new(url);
    // Host candidates on the TUN address only (the library's default is every non-loopback
    // interface; here that is the same one, but explicit keeps ICE from trying anything else).
    c.bind_addresses = vec![format!("{ip}:0")];
    c.p2p_timeout_ms = 60_000;
    c.socket.connection_timeout_ms = 10_000;
    c
}

/// Hosts one group until stdin closes; prints `ready <host id>`. As in the seed's sample, the
/// offerer makes one data channel in the pc-create hook.
#[tokio::main]
async fn role_host(url: &str, ip: &str) {
    let host = PeerClient::new(peer_config(url, ip)).unwrap();
    host.add_pc_create_hook(|_, is_offer, pc| async move {
        if is_offer {
            let _ = pc.create_data_channel("bench", &Default::default()).await;
        }
    });
    host.start_host("netdelay").await.unwrap();
    println!("ready {}", host.client_id().unwrap());
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin());
    let mut sink = String::new();
    while tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut sink).await.map(|n| n > 0).unwrap_or(false) {}
    host.stop().await;
}

/// Joins the host `rounds` times with a fresh client each time; prints one line per join:
/// `join <signaling> <offer in> <ice> <dtls> <sctp> <open> <started>` in ms (signaling: connect +
/// list hosts, before start_client; the rest from start_client).
#[tokio::main]
async fn role_join(url: &str, ip: &str, host_id: &str, rounds: usize) {
    for _ in 0..rounds {
        let (open_tx, mut open_rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, webrtc_p2p::Timeline)>();
        let t_connect = Instant::now();
        let joiner = PeerClient::new(peer_config(url, ip)).unwrap();
        joiner.add_pc_create_hook(move |_, _, pc| {
            let open_tx = open_tx.clone();
            async move {
                let pc2 = pc.clone();
                pc.on_data_channel(move |dc| {
                    let (open_tx, pc) = (open_tx.clone(), pc2.clone());
                    tokio::spawn(async move {
                        while let Some(e) = dc.next_event().await {
                            if e == DataChannelEvent::Open {
                                let _ = open_tx.send((Instant::now(), pc.timeline()));
                                break;
                            }
                        }
                    });
                });
            }
        });
        joiner.list_hosts().await.unwrap();
        let t0 = Instant::now();
        joiner.start_client(host_id).await.unwrap();
        let started = t0.elapsed();
        let (open, timeline) =
            tokio::time::timeout(Duration::from_secs(60), open_rx.recv()).await.expect("channel open").unwrap();
        let since = |t: Option<Instant>| t.map(|t| ms(t.saturating_duration_since(t0))).unwrap_or(f64::NAN);
        println!(
            "join {:.2} {:.2} {:.2} {:.2} {:.2} {:.2} {:.2}",
            ms(t0 - t_connect),
            since(Some(timeline.created)),
            since(timeline.ice_connected),
            since(timeline.dtls_connected),
            since(timeline.remote_channel),
            ms(open - t0),
            ms(started)
        );
        joiner.stop().await;
        // Let the host close its side before the next join.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

// ---------------------------------------------------------------- the orchestrator

fn orchestrate() {
    if let Some(why) = netns::unavailable() {
        println!("netdelay: skipped: {why}");
        return;
    }
    let delays: Vec<u64> = std::env::var("NETDELAY_MS")
        .unwrap_or_else(|_| "0,10,25,50".into())
        .split(',')
        .map(|v| v.trim().parse().expect("NETDELAY_MS: comma-separated milliseconds"))
        .collect();
    let rounds: usize = env_or("NETDELAY_ROUNDS", 20);
    let loss: f64 = env_or("NETDELAY_LOSS", 0.0);

    let spaces = netns::Namespaces::create("p2pnd", ADDRS.len()).expect("create namespaces");
    let mut tuns = Vec::new();
    for (i, addr) in ADDRS.iter().enumerate() {
        let tun = spaces.within(i, || delay_line::open_tun("nd0")).expect("open TUN");
        spaces.ip(i, &["addr", "add", &format!("{addr}/24"), "dev", "nd0"]).unwrap();
        spaces.ip(i, &["link", "set", "nd0", "up"]).unwrap();
        tuns.push((*addr, tun));
    }
    let line = delay_line::DelayLine::start(tuns).expect("start the delay line");

    let mut server_cmd = spaces.command(SERVER, server_bin());
    server_cmd.args(["--bind", &format!("{}:0", ADDRS[SERVER])]);
    server_cmd.args(["--rate-per-sec", "100000", "--rate-burst", "100000"]);
    let server = common::Server::from_command(server_cmd);
    let me = std::env::current_exe().unwrap();
    let (mut host, host_id) = spawn_host(&spaces, &me, &server.url);

    println!("\n## Join on a slow network (user-space delay line between 3 namespaces; N = 2; {rounds} joins per row; loss {loss})\n");
    println!("Every party (server, host, joiner) is one RTT from the others. ms from start_client, p50 / p95; signaling = connect + list hosts, before it.\n");
    println!("| one-way delay | UDP ping RTT p50 (ms) | signaling | offer in | ICE connected | DTLS done | SCTP up | channel open | Started | open / RTT (p50) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for d in delays {
        line.set_delay(Duration::from_millis(d));
        line.set_loss(0.0);
        let rtt = udp_ping(&spaces, HOST, JOINER, 10);
        let rtt_server = udp_ping(&spaces, SERVER, JOINER, 10);
        let want = 2.0 * d as f64;
        for (what, got) in [("host-joiner", rtt), ("server-joiner", rtt_server)] {
            assert!(got >= want && got < want + 10.0, "delay line: {what} RTT {got:.2} ms, configured {want} ms");
        }
        line.set_loss(loss);
        let rows = run_joiner(&spaces, &me, &server.url, &host_id, rounds);
        let stat = |k: usize| {
            let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            (common::percentile(&v, 0.5), common::percentile(&v, 0.95))
        };
        let cell = |k: usize| {
            let (p50, p95) = stat(k);
            format!("{p50:.1} / {p95:.1}")
        };
        let ratio = if d == 0 { "—".to_string() } else { format!("{:.1}", stat(5).0 / rtt) };
        println!(
            "| {d} ms | {rtt:.2} | {} | {} | {} | {} | {} | **{}** | {} | {ratio} |",
            cell(0),
            cell(1),
            cell(2),
            cell(3),
            cell(4),
            cell(5),
            cell(6)
        );
    }
    println!("\n({} packets through the delay line)", line.forwarded());
    drop(host.stdin.take());
    let _ = host.wait();
    drop(server);
}

fn server_bin() -> std::path::PathBuf {
    if std::env::var("P2P_SIGNALING_BIN").is_err() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "--release", "-p", "p2p-signaling"])
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success());
        let target = std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or(root.join("target"));
        return target.join("release/p2p-signaling");
    }
    common::server_bin()
}

/// Starts the host process in its namespace; returns it and its client id.
fn spawn_host(spaces: &netns::Namespaces, me: &std::path::Path, url: &str) -> (Child, String) {
    let mut host = spaces
        .command(HOST, me)
        .args(["--role-host", url, &ADDRS[HOST].to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the host");
    let mut lines = BufReader::new(host.stdout.take().unwrap()).lines();
    let id = loop {
        let line = lines.next().expect("host exited before ready").unwrap();
        if let Some(id) = line.strip_prefix("ready ") {
            break id.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (host, id)
}

/// Runs one joiner process for `rounds` joins; returns its rows (7 figures each, see role_join).
fn run_joiner(
    spaces: &netns::Namespaces,
    me: &std::path::Path,
    url: &str,
    host_id: &str,
    rounds: usize,
) -> Vec<[f64; 7]> {
    let out = spaces
        .command(JOINER, me)
        .args(["--role-join", url, &ADDRS[JOINER].to_string(), host_id, &rounds.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("run the joiner");
    assert!(out.status.success(), "joiner failed: {}", out.status);
    let rows: Vec<[f64; 7]> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("join "))
        .map(|l| {
            let v: Vec<f64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
            v.try_into().expect("7 figures")
        })
        .collect();
    assert_eq!(rows.len(), rounds);
    rows
}

/// Median round trip in ms of `count` UDP echoes from namespace `a` to namespace `b`, through the
/// delay line: the bench's ping (no ICMP tool needed).
fn udp_ping(spaces: &netns::Namespaces, a: usize, b: usize, count: usize) -> f64 {
    let bind = |i: usize| {
        let addr = ADDRS[i];
        spaces.within(i, move || {
            let s = UdpSocket::bind((addr, 0))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            Ok(s)
        })
    };
    let (client, echo) = (bind(a).unwrap(), bind(b).unwrap());
    let to = echo.local_addr().unwrap();
    let echoer = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        for _ in 0..count {
            let Ok((n, from)) = echo.recv_from(&mut buf) else { return };
            let _ = echo.send_to(&buf[..n], from);
        }
    });
    let mut rtts = Vec::new();
    let mut buf = [0u8; 64];
    for i in 0..count as u8 {
        let t = Instant::now();
        client.send_to(&[i], to).unwrap();
        let n = client.recv(&mut buf).expect("UDP ping through the delay line: no echo (is forwarding broken?)");
        assert_eq!(&buf[..n], &[i]);
        rtts.push(ms(t.elapsed()));
    }
    echoer.join().unwrap();
    rtts.sort_by(|x, y| x.partial_cmp(y).unwrap());
    common::percentile(&rtts, 0.5)
}
