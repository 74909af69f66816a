//! Benchmarks that print figures (no assertions on speed: machines here are 2-core and noisy;
//! compare the rows of one run).
//!
//!   cargo bench --bench p2p                 # everything
//!   cargo bench --bench p2p -- join         # join phases, trickle and vanilla, N = 2, 4, 8; relay-only N = 2, 4
//!   cargo bench --bench p2p -- mesh         # mesh formation only (also: datachannel, rtt, footprint, stats)
//!
//! Env: P2P_BENCH_REPEATS (mesh repeats, default 5), P2P_SIGNALING_BIN (default: target/release),
//! P2P_BENCH_SIZES (datachannel: only these reliable message sizes, e.g. "1024,2048,4096"),
//! P2P_BENCH_N (join: only these group sizes, e.g. "8").

#[path = "../tests/common/mod.rs"]
mod common;

use common::turn::{Coturn, TurnAuth};
use parking_lot::Mutex;
use std::ffi::{c_char, c_void, CString};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use webrtc_p2p::ffi::client::*;
use webrtc_p2p::ffi::dc::*;
use webrtc_p2p::ffi::pc::*;
use webrtc_p2p::ffi::types::*;
use webrtc_p2p::{DataChannel, DataChannelEvent, DataChannelInit, Event, IceServer, PeerClient};

fn target_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"))
}

fn start_server() -> common::Server {
    if std::env::var("P2P_SIGNALING_BIN").is_err() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "--release", "-p", "p2p-signaling"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success());
        std::env::set_var("P2P_SIGNALING_BIN", target_dir().join("release/p2p-signaling"));
    }
    // Mesh rounds make many sockets quickly; lift the per-socket rate limit for the benchmark.
    common::Server::start_with(&["--rate-per-sec", "100000", "--rate-burst", "100000"])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------- mesh formation

/// How the peers of a round gather: trickle or vanilla, with these ICE servers, and relay-only ICE
/// (every packet through the TURN servers among them) when `relay_only`.
struct Mode {
    name: &'static str,
    trickle: bool,
    ice_servers: Vec<IceServer>,
    relay_only: bool,
}

impl Mode {
    fn new(name: &'static str, trickle: bool, ice_servers: Vec<IceServer>) -> Mode {
        Mode { name, trickle, ice_servers, relay_only: false }
    }

    fn config(&self, url: &str) -> webrtc_p2p::PeerConfig {
        let mut c = common::config(url);
        c.trickle_ice = self.trickle;
        c.ice_servers = self.ice_servers.clone();
        c.p2p_timeout_ms = 60_000;
        if self.relay_only {
            c.ice_transport_policy = webrtc_p2p::IceTransportPolicy::Relay;
        }
        c
    }
}

/// An env var's comma-separated numbers (e.g. `P2P_BENCH_N="4,8"`), to run only some rows.
fn env_list(name: &str) -> Option<Vec<usize>> {
    std::env::var(name).ok().map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

/// A peer connection needs something to negotiate (a channel or a track) before ICE runs at all: as
/// in the seed's sample, the offerer makes one data channel in the pc-create hook.
fn with_channel(client: PeerClient) -> PeerClient {
    client.add_pc_create_hook(|_, is_offer, pc| async move {
        if is_offer {
            let _ = pc.create_data_channel("bench", &Default::default()).await;
        }
    });
    client
}

/// One group of `n`: returns (start_client -> Started, start_client -> last UserConnected) of the
/// last peer to join (the one that connects to everybody).
async fn mesh_once(url: &str, n: usize, mode: &Mode, round: usize) -> (Duration, Duration) {
    let cfg = || mode.config(url);
    let host = with_channel(PeerClient::new(cfg()).unwrap());
    host.start_host(&format!("bench {} {n} {round}", mode.name)).await.unwrap();
    let host_id = host.client_id().unwrap();
    let mut clients = Vec::new();
    let mut last = (Duration::ZERO, Duration::ZERO);
    for i in 1..n {
        let c = with_channel(PeerClient::new(cfg()).unwrap());
        let mut events = c.subscribe();
        let t0 = Instant::now();
        c.start_client(&host_id).await.unwrap();
        let started = t0.elapsed();
        let mut connected = 0;
        while connected < i {
            match tokio::time::timeout(Duration::from_secs(60), events.recv()).await {
                Ok(Some(Event::UserConnected(_))) => connected += 1,
                Ok(Some(_)) => {}
                _ => panic!("mesh did not complete"),
            }
        }
        last = (started, t0.elapsed());
        clients.push(c);
    }
    for c in &clients {
        c.stop().await;
    }
    host.stop().await;
    last
}

async fn bench_mesh(url: &str) {
    let repeats: usize = std::env::var("P2P_BENCH_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    // A STUN server that never answers (a bound UDP socket nobody reads): the common real case of
    // an unreachable ICE server, without sending anything off this machine.
    let blackhole = UdpSocket::bind("127.0.0.1:0").unwrap();
    let unreachable =
        vec![IceServer { urls: vec![format!("stun:{}", blackhole.local_addr().unwrap())], ..Default::default() }];
    let mut modes = vec![
        Mode::new("trickle", true, vec![]),
        Mode::new("vanilla", false, vec![]),
        Mode::new("trickle, STUN unreachable", true, unreachable.clone()),
        Mode::new("vanilla, STUN unreachable", false, unreachable),
    ];
    let coturn = local_turn();
    if let Some(turn) = &coturn {
        let servers = vec![stun_of(turn), turn_of(turn)];
        modes.push(Mode::new("trickle, local STUN/TURN", true, servers.clone()));
        modes.push(Mode::new("vanilla, local STUN/TURN", false, servers));
    }
    println!("\n## Mesh formation (last joiner; {repeats} rounds; vanilla ICE timeout 2 s)\n");
    println!("| mode | N | Started p50 (ms) | Started p95 (ms) | full mesh p50 (ms) | full mesh p95 (ms) |");
    println!("|---|---|---|---|---|---|");
    for mode in &modes {
        for n in [2usize, 4, 8] {
            let mut started = Vec::new();
            let mut full = Vec::new();
            for round in 0..repeats {
                let (s, f) = mesh_once(url, n, mode, round).await;
                started.push(ms(s));
                full.push(ms(f));
            }
            started.sort_by(|a, b| a.partial_cmp(b).unwrap());
            full.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "| {} | {n} | {:.1} | {:.1} | {:.1} | {:.1} |",
                mode.name,
                common::percentile(&started, 0.5),
                common::percentile(&started, 0.95),
                common::percentile(&full, 0.5),
                common::percentile(&full, 0.95)
            );
        }
    }
    if coturn.is_none() {
        println!("\n(coturn not installed: `apt-get install coturn` adds the local STUN/TURN rows)");
    }
    drop(blackhole);
}

/// coturn on loopback for the STUN/TURN and relay-only rows (long-term credentials bench/bench,
/// 848 relay ports: released allocations linger a second, and rounds follow each other quickly),
/// or None when it is not installed. With `P2P_BENCH_TURN_LOG=<file>` it logs every request and
/// the log is written there when the bench is done with it (to see why a relayed join failed).
fn local_turn() -> Option<Coturn> {
    let auth = TurnAuth::User { name: "bench", password: "bench", realm: "bench" };
    Coturn::try_start(auth, 848, std::env::var_os("P2P_BENCH_TURN_LOG").is_some())
}

/// Writes coturn's log to `P2P_BENCH_TURN_LOG` when it is set.
fn keep_turn_log(turn: Option<Coturn>) {
    if let (Some(turn), Some(path)) = (turn, std::env::var_os("P2P_BENCH_TURN_LOG")) {
        std::fs::write(path, turn.log()).expect("write the coturn log");
    }
}

fn stun_of(turn: &Coturn) -> IceServer {
    IceServer { urls: vec![format!("stun:127.0.0.1:{}", turn.port)], ..Default::default() }
}

fn turn_of(turn: &Coturn) -> IceServer {
    IceServer { urls: vec![turn.url()], username: "bench".into(), credential: "bench".into() }
}

// ---------------------------------------------------------------- join phases

/// What the last joiner of a group saw, in ms from its `start_client` call: for each stage, when
/// the last of its N-1 connections reached it. `signaling` is separate: connecting to the server
/// (plus a `list hosts`, as an app does before joining), before `start_client`.
struct JoinPhases {
    signaling: f64,
    pc_created: f64,
    ice: f64,
    dtls: f64,
    sctp: f64,
    open: f64,
    started: f64,
    /// CPU time this process (every member, the joiner included) used from `start_client` until
    /// the last channel opened, in ms: against `open` it says whether the join waits or works
    /// (2 × `open` = both cores busy throughout).
    cpu: f64,
}

/// The clock `id` now (`clock_gettime`).
fn clock(id: libc::clockid_t) -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(id, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time of this whole process so far.
fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CLOCK_MONOTONIC now, in ns: the clock `perf record -k CLOCK_MONOTONIC` stamps samples with.
fn monotonic_ns() -> u128 {
    clock(libc::CLOCK_MONOTONIC).as_nanos()
}

/// With `P2P_BENCH_WINDOWS=<file>`, appends each measured join's window (`start end`, CLOCK_MONOTONIC
/// ns) so a profile can keep only the samples inside joins (`scripts/profile-join.sh`).
fn record_window(start_ns: u128) {
    if let Ok(path) = std::env::var("P2P_BENCH_WINDOWS") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("windows file");
        writeln!(f, "{start_ns} {}", monotonic_ns()).expect("write window");
    }
}

/// Members made before the measured joiner: hosts offer one reliable channel, answerers accept it.
fn member(url: &str, mode: &Mode) -> PeerClient {
    with_channel(PeerClient::new(mode.config(url)).unwrap())
}

async fn join_once(url: &str, n: usize, mode: &Mode, round: usize) -> JoinPhases {
    let host = member(url, mode);
    // Unique per round (host names are at most 64 characters).
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    host.start_host(&format!("join {} {} {n} {round} {stamp}", mode.trickle, mode.relay_only)).await.unwrap();
    let host_id = host.client_id().unwrap();
    let mut members = vec![host];
    for _ in 2..n {
        let c = member(url, mode);
        let mut events = c.subscribe();
        c.start_client(&host_id).await.unwrap();
        let want = members.len();
        let mut connected = 0;
        while connected < want {
            match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                Ok(Some(Event::UserConnected(_))) => connected += 1,
                Ok(Some(_)) => {}
                _ => panic!("member did not join"),
            }
        }
        members.push(c);
    }

    // The measured joiner: it answers every member's offer; keep each connection (for its
    // timeline) and when its channel opened.
    let pcs: Arc<Mutex<Vec<Arc<webrtc_p2p::PeerConnection>>>> = Arc::default();
    let (open_tx, mut open_rx) = mpsc::unbounded_channel::<Instant>();
    let joiner = PeerClient::new(mode.config(url)).unwrap();
    {
        let pcs = pcs.clone();
        joiner.add_pc_create_hook(move |_, _, pc| {
            let pcs = pcs.clone();
            let open_tx = open_tx.clone();
            async move {
                pc.on_data_channel(move |dc| {
                    let open_tx = open_tx.clone();
                    tokio::spawn(async move {
                        while let Some(e) = dc.next_event().await {
                            if e == DataChannelEvent::Open {
                                let _ = open_tx.send(Instant::now());
                                break;
                            }
                        }
                    });
                });
                pcs.lock().push(pc);
            }
        });
    }
    let t_connect = Instant::now();
    joiner.list_hosts().await.unwrap();
    let cpu0 = process_cpu();
    let window_start = monotonic_ns();
    let t0 = Instant::now();
    joiner.start_client(&host_id).await.unwrap();
    let started = t0.elapsed();
    let mut last_open = t0;
    for _ in 1..n {
        let t = tokio::time::timeout(Duration::from_secs(30), open_rx.recv()).await.expect("channel open").unwrap();
        last_open = last_open.max(t);
    }
    let cpu = ms(process_cpu() - cpu0);
    record_window(window_start);
    let since = |t: Option<Instant>| t.map(|t| ms(t.saturating_duration_since(t0))).unwrap_or(f64::NAN);
    let timelines: Vec<webrtc_p2p::Timeline> = pcs.lock().iter().map(|pc| pc.timeline()).collect();
    let last = |f: &dyn Fn(&webrtc_p2p::Timeline) -> Option<Instant>| {
        timelines.iter().map(|t| since(f(t))).fold(0.0, f64::max)
    };
    let phases = JoinPhases {
        signaling: ms(t0 - t_connect),
        pc_created: last(&|t| Some(t.created)),
        ice: last(&|t| t.ice_connected),
        dtls: last(&|t| t.dtls_connected),
        sctp: last(&|t| t.remote_channel),
        open: ms(last_open - t0),
        started: ms(started),
        cpu,
    };
    joiner.stop().await;
    for m in &members {
        m.stop().await;
    }
    phases
}

async fn bench_join(url: &str) {
    let repeats: usize = std::env::var("P2P_BENCH_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    println!("\n## Join phases (last joiner of a group of N; {repeats} rounds; ms from start_client, p50 / p95)\n");
    println!("Each stage is when the last of the joiner's N-1 connections reached it. signaling = connect + list hosts, before start_client.\n");
    println!("Process CPU = CPU time of this process (all N members) from start_client until the last open (at most 2 × channel open on 2 cores).\n");
    println!("| mode | N | signaling | offer in (pc created) | ICE connected | DTLS done | SCTP up (DCEP open in) | channel open | Started | process CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut modes = vec![
        (Mode::new("trickle", true, vec![]), vec![2usize, 4, 8]),
        (Mode::new("vanilla", false, vec![]), vec![2, 4, 8]),
    ];
    let coturn = local_turn();
    if let Some(turn) = &coturn {
        let relay =
            Mode { relay_only: true, ..Mode::new("trickle, relay only (local coturn)", true, vec![turn_of(turn)]) };
        modes.push((relay, vec![2, 4]));
    }
    // P2P_BENCH_N="8": only groups of these sizes (e.g. to profile one row).
    let only = env_list("P2P_BENCH_N");
    // RSS after the first row (allocator and runtime warm) and at the end, against the connections
    // made in between: a leak per connection shows here (session 9 found ~110 KiB each).
    let (mut warm_rss, mut connections_since) = (None, 0usize);
    for (mode, sizes) in &modes {
        for &n in sizes.iter().filter(|n| only.as_ref().is_none_or(|o| o.contains(n))) {
            let mut rows: Vec<JoinPhases> = Vec::new();
            for round in 0..repeats {
                rows.push(join_once(url, n, mode, round).await);
            }
            match warm_rss {
                None => warm_rss = Some(common::rss_kib()),
                Some(_) => connections_since += repeats * n * (n - 1),
            }
            let stat = |f: &dyn Fn(&JoinPhases) -> f64| {
                let mut v: Vec<f64> = rows.iter().map(f).collect();
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                format!("{:.1} / {:.1}", common::percentile(&v, 0.5), common::percentile(&v, 0.95))
            };
            println!(
                "| {} | {n} | {} | {} | {} | {} | {} | **{}** | {} | {} |",
                mode.name,
                stat(&|p| p.signaling),
                stat(&|p| p.pc_created),
                stat(&|p| p.ice),
                stat(&|p| p.dtls),
                stat(&|p| p.sctp),
                stat(&|p| p.open),
                stat(&|p| p.started),
                stat(&|p| p.cpu)
            );
        }
    }
    keep_turn_log(coturn);
    if let Some(warm) = warm_rss.filter(|_| connections_since > 0) {
        let growth = common::rss_kib().saturating_sub(warm);
        println!(
            "\nProcess RSS grew {growth} KiB after the first row, over {connections_since} more connections opened and \
             closed: {:.2} KiB per connection.",
            growth as f64 / connections_since as f64
        );
    }
}

// ---------------------------------------------------------------- data channel throughput

const HIGH_WATER: usize = 1024 * 1024;

fn init_for(reliable: bool) -> DataChannelInit {
    if reliable {
        DataChannelInit::default()
    } else {
        DataChannelInit { ordered: false, max_retransmits: Some(0), ..Default::default() }
    }
}

struct Figures {
    mib_s: f64,
    msgs_s: f64,
    delivered: f64,
}

/// Rust API: host (offerer) sends to the client over a channel made in the hook.
async fn rust_throughput(url: &str, size: usize, reliable: bool, total: usize) -> Figures {
    let (tx, mut rx) = mpsc::unbounded_channel::<(bool, Arc<DataChannel>)>();
    let make = |tx: mpsc::UnboundedSender<(bool, Arc<DataChannel>)>| {
        let client = PeerClient::new(common::config(url)).unwrap();
        client.add_pc_create_hook(move |_, is_offer, pc| {
            let tx = tx.clone();
            async move {
                if is_offer {
                    let dc = pc.create_data_channel("bench", &init_for(reliable)).await.unwrap();
                    let _ = tx.send((true, dc));
                } else {
                    pc.on_data_channel(move |dc| {
                        let _ = tx.send((false, dc));
                    });
                }
            }
        });
        client
    };
    let host = make(tx.clone());
    let client = make(tx);
    host.start_host(&format!("dc {size} {reliable} {}", Instant::now().elapsed().as_nanos())).await.unwrap();
    client.start_client(&host.client_id().unwrap()).await.unwrap();
    let (mut sender, mut receiver) = (None, None);
    while sender.is_none() || receiver.is_none() {
        let (is_sender, dc) = rx.recv().await.unwrap();
        if is_sender {
            sender = Some(dc)
        } else {
            receiver = Some(dc)
        }
    }
    let (sender, receiver) = (sender.unwrap(), receiver.unwrap());
    // Wait for both ends to be open.
    while sender.next_event().await != Some(DataChannelEvent::Open) {}
    let count = total / size;
    let recv = tokio::spawn(async move {
        let (mut bytes, mut msgs) = (0usize, 0usize);
        let mut last = Instant::now();
        loop {
            let idle = if reliable { Duration::from_secs(20) } else { Duration::from_secs(1) };
            match tokio::time::timeout(idle, receiver.next_event()).await {
                Ok(Some(DataChannelEvent::Message { data, .. })) => {
                    bytes += data.len();
                    msgs += 1;
                    last = Instant::now();
                    if msgs == count {
                        break;
                    }
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        (bytes, msgs, last)
    });
    let payload = vec![0x5au8; size];
    let t0 = Instant::now();
    for i in 0..count {
        if sender.send(&payload).await.is_err() {
            break;
        }
        if i % 16 == 0 {
            while sender.buffered_amount().await > HIGH_WATER {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    let (bytes, msgs, last) = recv.await.unwrap();
    let secs = last.duration_since(t0).as_secs_f64().max(1e-6);
    client.stop().await;
    host.stop().await;
    Figures {
        mib_s: bytes as f64 / secs / 1048576.0,
        msgs_s: msgs as f64 / secs,
        delivered: msgs as f64 / count as f64,
    }
}

// The C ABI path: plain extern "C" callbacks and globals, as a C caller would write it.
static C_SENDER: Mutex<Option<i32>> = Mutex::new(None);
static C_RECEIVER: Mutex<Option<i32>> = Mutex::new(None);
static C_RELIABLE: AtomicU64 = AtomicU64::new(1);
static C_BYTES: AtomicU64 = AtomicU64::new(0);
static C_MSGS: AtomicU64 = AtomicU64::new(0);
static C_LAST_NS: AtomicU64 = AtomicU64::new(0);
static C_OPEN: AtomicU64 = AtomicU64::new(0);
static EPOCH: once_cell::sync::Lazy<Instant> = once_cell::sync::Lazy::new(Instant::now);

unsafe extern "C" fn c_on_open(_: *mut c_void, _: i32) {
    C_OPEN.fetch_add(1, Ordering::SeqCst);
}
unsafe extern "C" fn c_on_message(_: *mut c_void, _: i32, _: *const u8, len: i32, _: bool) {
    C_BYTES.fetch_add(len as u64, Ordering::Relaxed);
    C_MSGS.fetch_add(1, Ordering::Relaxed);
    C_LAST_NS.store(EPOCH.elapsed().as_nanos() as u64, Ordering::Relaxed);
}
unsafe extern "C" fn c_on_remote(_: *mut c_void, dc: i32) {
    p2p_dc_set_callbacks(dc, Some(c_on_open), None, Some(c_on_message), std::ptr::null_mut());
    *C_RECEIVER.lock() = Some(dc);
}
unsafe extern "C" fn c_on_pc(_: *mut c_void, _: i32, _: *const c_char, is_offer: bool, pc: i32) {
    if is_offer {
        let reliable = C_RELIABLE.load(Ordering::SeqCst) == 1;
        let init = p2p_data_channel_init {
            unordered: !reliable,
            unreliable: !reliable,
            max_packet_life_time_ms: 0,
            max_retransmits: 0,
            negotiated: false,
            stream_id: 0,
            protocol: std::ptr::null(),
        };
        let dc = unsafe { p2p_pc_create_data_channel(pc, c"bench".as_ptr(), &init) };
        p2p_dc_set_callbacks(dc, Some(c_on_open), None, None, std::ptr::null_mut());
        *C_SENDER.lock() = Some(dc);
    } else {
        p2p_pc_set_data_channel_callback(pc, Some(c_on_remote), std::ptr::null_mut());
    }
}
static C_RESULT: AtomicU64 = AtomicU64::new(0);
unsafe extern "C" fn c_on_result(_: *mut c_void, _: i32, status: i32, _: *const c_char) {
    C_RESULT.store(if status == 0 { 1 } else { 2 }, Ordering::SeqCst);
}

fn c_wait(cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(30), "C ABI bench: timed out");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Two C ABI clients on `url`, a host of `name` and a client that joined it, with `hook` as their
/// pc-create hook; waits until both channels are open. Returns (host, client, sending channel).
fn c_pair(
    url: &str,
    name: &str,
    hook: unsafe extern "C" fn(*mut c_void, i32, *const c_char, bool, i32),
) -> (i32, i32, i32) {
    *C_SENDER.lock() = None;
    *C_RECEIVER.lock() = None;
    let json = CString::new(format!(r#"{{"signalingUrl":"{url}","bindAddresses":["127.0.0.1:0"]}}"#)).unwrap();
    let host = unsafe { p2p_client_create(json.as_ptr()) };
    let client = unsafe { p2p_client_create(json.as_ptr()) };
    for c in [host, client] {
        p2p_client_add_pc_create_hook(c, Some(hook), std::ptr::null_mut());
    }
    let name = CString::new(name).unwrap();
    unsafe { p2p_client_start_host(host, name.as_ptr(), Some(c_on_result), std::ptr::null_mut()) };
    c_wait(|| C_RESULT.load(Ordering::SeqCst) == 1);
    C_RESULT.store(0, Ordering::SeqCst);
    let mut id = [0 as c_char; 128];
    unsafe { p2p_client_get_id(host, id.as_mut_ptr(), 128) };
    unsafe { p2p_client_start_client(client, id.as_ptr(), Some(c_on_result), std::ptr::null_mut()) };
    c_wait(|| C_RESULT.load(Ordering::SeqCst) == 1);
    c_wait(|| C_OPEN.load(Ordering::SeqCst) >= 2 && C_SENDER.lock().is_some());
    let dc = C_SENDER.lock().unwrap();
    (host, client, dc)
}

fn c_throughput(url: &str, size: usize, reliable: bool, total: usize) -> Figures {
    C_RELIABLE.store(reliable as u64, Ordering::SeqCst);
    for a in [&C_BYTES, &C_MSGS, &C_OPEN, &C_RESULT] {
        a.store(0, Ordering::SeqCst);
    }
    let (host, client, dc) = c_pair(url, &format!("c {size} {reliable} {:?}", Instant::now()), c_on_pc);
    let count = total / size;
    let payload = vec![0x5au8; size];
    let t0_ns = EPOCH.elapsed().as_nanos() as u64;
    for i in 0..count {
        if unsafe { p2p_dc_send(dc, payload.as_ptr(), size as i32, false) } != P2P_OK {
            break;
        }
        if i % 16 == 0 {
            while p2p_dc_get_buffered_amount(dc) as usize > HIGH_WATER {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    // Wait for the tail: all messages (reliable) or 1 s of silence (unreliable).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = (C_MSGS.load(Ordering::SeqCst), Instant::now());
    while (C_MSGS.load(Ordering::SeqCst) as usize) < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        let now = C_MSGS.load(Ordering::SeqCst);
        if now != seen.0 {
            seen = (now, Instant::now());
        } else if !reliable && seen.1.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    let secs = ((C_LAST_NS.load(Ordering::SeqCst).saturating_sub(t0_ns)) as f64 / 1e9).max(1e-6);
    let (bytes, msgs) = (C_BYTES.load(Ordering::SeqCst), C_MSGS.load(Ordering::SeqCst));
    p2p_client_destroy(client);
    p2p_client_destroy(host);
    Figures {
        mib_s: bytes as f64 / secs / 1048576.0,
        msgs_s: msgs as f64 / secs,
        delivered: msgs as f64 / count as f64,
    }
}

async fn bench_datachannel(url: &str) {
    println!("\n## Data channel, two peers in one process over loopback\n");
    println!("| path | channel | message | MiB/s | messages/s | delivered |");
    println!("|---|---|---|---|---|---|");
    for reliable in [true, false] {
        let sizes: &[usize] =
            if reliable { &[64, 256, 1024, 4096, 16 * 1024, 64 * 1024] } else { &[64, 1024, 16 * 1024, 64 * 1024] };
        // P2P_BENCH_SIZES="1024,2048,4096": only these sizes (e.g. to profile one row).
        let only = env_list("P2P_BENCH_SIZES");
        let sizes: Vec<usize> = match &only {
            Some(only) if reliable => only.clone(),
            Some(_) => Vec::new(),
            None => sizes.to_vec(),
        };
        for size in sizes {
            // 32 MiB (16 unreliable), at most 200k messages.
            let total = (if reliable { 32 << 20 } else { 16 << 20 }).min(size * 200_000);
            let kind = if reliable { "reliable" } else { "unreliable (unordered, 0 rtx)" };
            let label = if size >= 1024 { format!("{} KiB", size / 1024) } else { format!("{size} B") };
            let r = rust_throughput(url, size, reliable, total).await;
            println!(
                "| Rust API | {kind} | {label} | {:.1} | {:.0} | {:.1}% |",
                r.mib_s,
                r.msgs_s,
                r.delivered * 100.0
            );
            let url2 = url.to_string();
            let c = tokio::task::spawn_blocking(move || c_throughput(&url2, size, reliable, total)).await.unwrap();
            println!("| C ABI | {kind} | {label} | {:.1} | {:.0} | {:.1}% |", c.mib_s, c.msgs_s, c.delivered * 100.0);
        }
    }
    let url2 = url.to_string();
    tokio::task::spawn_blocking(move || c_rtt(&url2)).await.unwrap();
}

// ---------------------------------------------------------------- round trip through the C ABI

static RTT_REPLY: Mutex<Option<std::sync::mpsc::Sender<Instant>>> = Mutex::new(None);

/// The client's end: echo every message back from inside the message callback (a re-entrant
/// `p2p_dc_send`, as the header allows).
unsafe extern "C" fn rtt_on_echo(_: *mut c_void, dc: i32, data: *const u8, len: i32, is_text: bool) {
    unsafe { p2p_dc_send(dc, data, len, is_text) };
}
/// The host's end: the echo is back.
unsafe extern "C" fn rtt_on_reply(_: *mut c_void, _: i32, _: *const u8, _: i32, _: bool) {
    let now = Instant::now();
    if let Some(tx) = RTT_REPLY.lock().as_ref() {
        let _ = tx.send(now);
    }
}
unsafe extern "C" fn rtt_on_remote(_: *mut c_void, dc: i32) {
    p2p_dc_set_callbacks(dc, Some(c_on_open), None, Some(rtt_on_echo), std::ptr::null_mut());
    *C_RECEIVER.lock() = Some(dc);
}
unsafe extern "C" fn rtt_on_pc(_: *mut c_void, _: i32, _: *const c_char, is_offer: bool, pc: i32) {
    if is_offer {
        let init = p2p_data_channel_init {
            unordered: false,
            unreliable: false,
            max_packet_life_time_ms: 0,
            max_retransmits: 0,
            negotiated: false,
            stream_id: 0,
            protocol: std::ptr::null(),
        };
        let dc = unsafe { p2p_pc_create_data_channel(pc, c"rtt".as_ptr(), &init) };
        p2p_dc_set_callbacks(dc, Some(c_on_open), None, Some(rtt_on_reply), std::ptr::null_mut());
        *C_SENDER.lock() = Some(dc);
    } else {
        p2p_pc_set_data_channel_callback(pc, Some(rtt_on_remote), std::ptr::null_mut());
    }
}

/// Ping-pong through the C ABI: the caller sends, the other client echoes from its callback, and
/// the caller blocks (no spinning) until the echo's callback fires.
fn c_rtt(url: &str) {
    for a in [&C_OPEN, &C_RESULT] {
        a.store(0, Ordering::SeqCst);
    }
    let (host, client, dc) = c_pair(url, &format!("rtt {:?}", Instant::now()), rtt_on_pc);
    let (tx, rx) = std::sync::mpsc::channel();
    *RTT_REPLY.lock() = Some(tx);
    println!("\n## Round trip through the C ABI (64 B, reliable, echo from the message callback)\n");
    println!("| messages | p50 (µs) | p90 (µs) | p99 (µs) | max (µs) |\n|---|---|---|---|---|");
    let payload = [0x5au8; 64];
    let mut rtts = Vec::new();
    for i in 0..2200 {
        let t = Instant::now();
        assert_eq!(unsafe { p2p_dc_send(dc, payload.as_ptr(), 64, false) }, P2P_OK);
        let back = rx.recv_timeout(Duration::from_secs(5)).expect("echo");
        if i >= 200 {
            rtts.push(back.duration_since(t).as_secs_f64() * 1e6);
        }
    }
    rtts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        rtts.len(),
        common::percentile(&rtts, 0.5),
        common::percentile(&rtts, 0.9),
        common::percentile(&rtts, 0.99),
        rtts.last().copied().unwrap_or(f64::NAN)
    );
    *RTT_REPLY.lock() = None;
    p2p_client_destroy(client);
    p2p_client_destroy(host);
}

// ---------------------------------------------------------------- footprint

async fn bench_footprint(url: &str) {
    println!("\n## Footprint\n");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status =
        Command::new(env!("CARGO")).args(["build", "-q", "--release", "--lib"]).current_dir(&root).status().unwrap();
    assert!(status.success());
    let lib = target_dir().join("release/libwebrtc_p2p.so");
    let stripped = std::env::temp_dir().join("libwebrtc_p2p.stripped.so");
    std::fs::copy(&lib, &stripped).unwrap();
    let _ = Command::new("strip").arg(&stripped).status();
    let size = std::fs::metadata(&stripped).unwrap().len();
    println!("- stripped release cdylib (linux x86_64): {:.2} MiB ({size} bytes)", size as f64 / 1048576.0);
    let _ = std::fs::remove_file(&stripped);

    // Memory per open peer connection: a group of 8 in this process holds 8 x 7 = 56 connections.
    let before = common::rss_kib();
    let members = rust_group(url, 8, "footprint").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = common::rss_kib();
    println!(
        "- memory per open peer connection: {:.0} KiB (RSS {} -> {} KiB for 56 connections one data channel each, signaling sockets included)",
        (after.saturating_sub(before)) as f64 / 56.0,
        before,
        after
    );
    for m in &members {
        m.stop().await;
    }
}

// ---------------------------------------------------------------- link stats

/// A group of `n` Rust-API members in this process, each offerer making one channel; returns them
/// host first, once every member has a connected link to every other.
async fn rust_group(url: &str, n: usize, name: &str) -> Vec<PeerClient> {
    let host = with_channel(PeerClient::new(common::config(url)).unwrap());
    host.start_host(name).await.unwrap();
    let id = host.client_id().unwrap();
    let mut members = vec![host];
    for _ in 1..n {
        let c = with_channel(PeerClient::new(common::config(url)).unwrap());
        let mut ev = c.subscribe();
        c.start_client(&id).await.unwrap();
        let want = members.len();
        let mut connected = 0;
        while connected < want {
            if let Some(Event::UserConnected(_)) = ev.recv().await {
                connected += 1;
            }
        }
        members.push(c);
    }
    members
}

/// Per-call times in µs of `call`, run `calls` times after a short warm-up: (p50, p99, max).
async fn time_calls<F: std::future::Future<Output = ()>>(calls: usize, mut call: impl FnMut() -> F) -> (f64, f64, f64) {
    for _ in 0..50 {
        call().await;
    }
    let mut us = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        call().await;
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    us.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (common::percentile(&us, 0.5), common::percentile(&us, 0.99), *us.last().unwrap())
}

static S_RESULT: AtomicU64 = AtomicU64::new(0);
unsafe extern "C" fn s_on_result(_: *mut c_void, _: i32, status: i32, _: *const c_char) {
    S_RESULT.store(if status == 0 { 1 } else { 2 }, Ordering::SeqCst);
}
unsafe extern "C" fn s_on_pc(_: *mut c_void, _: i32, _: *const c_char, is_offer: bool, pc: i32) {
    if is_offer {
        unsafe { p2p_pc_create_data_channel(pc, c"bench".as_ptr(), std::ptr::null()) };
    }
}

/// The C ABI's way to read a string: ask for the size, then copy (what an app does each time).
fn c_read_stats(client: i32, buf: &mut Vec<c_char>) -> usize {
    use webrtc_p2p::ffi::stats::p2p_client_get_stats;
    loop {
        let needed = unsafe { p2p_client_get_stats(client, buf.as_mut_ptr(), buf.len() as i32) };
        assert!(needed > 0);
        if needed as usize <= buf.len() {
            return needed as usize - 1;
        }
        buf.resize(needed as usize + 1024, 0);
    }
}

/// A group of `n` C ABI clients; returns their handles, host first, once every link is connected.
fn c_group(url: &str, n: usize, name: &str) -> Vec<i32> {
    use webrtc_p2p::ffi::stats::p2p_client_get_stats;
    let json = CString::new(format!(r#"{{"signalingUrl":"{url}","bindAddresses":["127.0.0.1:0"]}}"#)).unwrap();
    let make = || {
        let c = unsafe { p2p_client_create(json.as_ptr()) };
        assert!(c > 0);
        p2p_client_add_pc_create_hook(c, Some(s_on_pc), std::ptr::null_mut());
        c
    };
    let host = make();
    let name = CString::new(name).unwrap();
    S_RESULT.store(0, Ordering::SeqCst);
    unsafe { p2p_client_start_host(host, name.as_ptr(), Some(s_on_result), std::ptr::null_mut()) };
    c_wait(|| S_RESULT.load(Ordering::SeqCst) == 1);
    let mut id = vec![0 as c_char; 64];
    unsafe { p2p_client_get_id(host, id.as_mut_ptr(), 64) };
    let mut members = vec![host];
    for _ in 1..n {
        let c = make();
        S_RESULT.store(0, Ordering::SeqCst);
        unsafe { p2p_client_start_client(c, id.as_ptr(), Some(s_on_result), std::ptr::null_mut()) };
        c_wait(|| S_RESULT.load(Ordering::SeqCst) == 1);
        members.push(c);
    }
    // Every member sees n - 1 connected links.
    let buf = Mutex::new(vec![0 as c_char; 64 * 1024]);
    for &m in &members {
        c_wait(|| {
            let mut buf = buf.lock();
            let n_read = unsafe { p2p_client_get_stats(m, buf.as_mut_ptr(), buf.len() as i32) };
            assert!(n_read > 0);
            let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
            text.matches(r#""connectionState":"connected""#).count() == n - 1
        });
    }
    members
}

async fn bench_stats(url: &str) {
    println!("\n## Link stats: cost per call (a member reading all its links)\n");
    println!("| API | links | p50 (µs) | p99 (µs) | max (µs) | JSON bytes |");
    println!("|---|---|---|---|---|---|");
    let calls = 2000;
    for n in [2usize, 4, 8] {
        let members = rust_group(url, n, &format!("stats rust {n}")).await;
        let host = &members[0];
        let bytes = serde_json::to_string(&host.stats().await).unwrap().len();
        let (p50, p99, max) = time_calls(calls, || async {
            std::hint::black_box(host.stats().await);
        })
        .await;
        println!("| Rust `PeerClient::stats()` | {} | {p50:.1} | {p99:.1} | {max:.0} | {bytes} |", n - 1);
        let peer = host.peer_ids()[0].clone();
        let pc = host.peer_connection(&peer).unwrap();
        let (p50, p99, max) = time_calls(calls, || async {
            std::hint::black_box(pc.stats().await);
        })
        .await;
        println!(
            "| Rust `PeerConnection::stats()` | 1 | {p50:.1} | {p99:.1} | {max:.0} | {} |",
            pc.stats().await.to_json().len()
        );
        for m in &members {
            m.stop().await;
        }
    }
    for n in [2usize, 8] {
        let url = url.to_string();
        let name = format!("stats c {n}");
        tokio::task::spawn_blocking(move || {
            let members = c_group(&url, n, &name);
            let mut buf = vec![0 as c_char; 256];
            let bytes = c_read_stats(members[0], &mut buf);
            for _ in 0..50 {
                c_read_stats(members[0], &mut buf);
            }
            let mut us = Vec::with_capacity(calls);
            for _ in 0..calls {
                let t = Instant::now();
                std::hint::black_box(c_read_stats(members[0], &mut buf));
                us.push(t.elapsed().as_secs_f64() * 1e6);
            }
            us.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "| C ABI `p2p_client_get_stats` (app thread, buffer reused) | {} | {:.1} | {:.1} | {:.0} | {bytes} |",
                n - 1,
                common::percentile(&us, 0.5),
                common::percentile(&us, 0.99),
                us.last().unwrap()
            );
            for m in members {
                p2p_client_destroy(m);
            }
        })
        .await
        .unwrap();
    }
    println!("\n({calls} calls per row after 50 warm-up calls; members idle, loopback)");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    println!("# webrtc_p2p benchmarks ({} cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    let server = start_server();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if want("footprint") {
            bench_footprint(&server.url).await;
        }
        if want("join") {
            bench_join(&server.url).await;
        }
        if want("mesh") {
            bench_mesh(&server.url).await;
        }
        if want("datachannel") {
            bench_datachannel(&server.url).await;
        }
        if want("stats") {
            bench_stats(&server.url).await;
        }
        if want("rtt") && !want("datachannel") {
            let url = server.url.clone();
            tokio::task::spawn_blocking(move || c_rtt(&url)).await.unwrap();
        }
    });
}
