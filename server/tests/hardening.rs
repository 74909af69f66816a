//! Attacks on the server (issue 15), each reproduced against the real process on 127.0.0.1 and
//! checked for its bounded outcome: what the attacker gets refused, and what it can no longer cost.

mod common;

use common::raw::{frame_header, raw_websocket, read_text, send_text};
use common::{connect, connect_polling, try_connect, Server};
use rust_socketio::Payload;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// True once the server has closed `stream` (EOF or reset), waiting at most `within`.
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < within {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// An HTTP request left unfinished (slowloris): headers that never end.
fn stalled_request(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_more_sockets_than_its_share() {
    let server = Server::start(&["--max-sockets-per-ip", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&server.url).await);
    }
    let refused = try_connect(&server.url).await.err().expect("a fourth socket from 127.0.0.1 is refused");
    assert!(refused.contains("too many connections from this address"), "{refused}");

    // A socket that leaves gives its place back.
    held.pop().unwrap().client.disconnect().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_connect(&server.url).await {
            Ok(p) => {
                held.push(p);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "the place never came back: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, metrics) = server.get("/metrics");
    assert!(metrics.contains("reason=\"too_many_connections\"} 1"), "{metrics}");
}

#[test]
fn stalled_requests_are_cut_and_cannot_starve_the_server() {
    let server = Server::start(&["--header-timeout-ms", "300", "--max-tcp-per-ip", "4"]);
    let mut stalled: Vec<TcpStream> = (0..3).map(|_| stalled_request(&server.addr)).collect();
    // A connection that never sends a byte is a stalled request too.
    stalled.push(TcpStream::connect(&server.addr).unwrap());
    std::thread::sleep(Duration::from_millis(50));
    let mut fifth = TcpStream::connect(&server.addr).unwrap();
    assert!(closed_by_server(&mut fifth, Duration::from_secs(5)), "over the per-address cap: closed at once");
    for (i, s) in stalled.iter_mut().enumerate() {
        assert!(closed_by_server(s, Duration::from_secs(10)), "stalled connection {i} was never cut");
    }
    let (status, body) = server.get("/healthz");
    assert!(status.contains("200") && body.contains("ok"), "the server serves again: {status} {body}");
}

#[test]
fn sigterm_exits_despite_a_stalled_request() {
    let mut server = Server::start(&["--header-timeout-ms", "600000", "--shutdown-timeout-ms", "300"]);
    let _stalled = stalled_request(&server.addr);
    std::thread::sleep(Duration::from_millis(100));
    server.sigterm();
    server.wait_exit(Duration::from_secs(10));
}

/// Sends `frames` (each: fin, opcode, payload length) of `42["message","xxxx…` bytes, stopping
/// when the server closes; returns the bytes that went out.
fn send_frames(s: &mut TcpStream, frames: &[(bool, u8, usize)]) -> usize {
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    for (i, &(fin, opcode, len)) in frames.iter().enumerate() {
        let mut payload_left = len;
        let mut out = frame_header(fin, opcode, len as u64);
        if i == 0 {
            out.extend_from_slice(b"42[\"message\",\"");
            payload_left -= 14;
        }
        if s.write_all(&out).is_err() {
            return sent;
        }
        while payload_left > 0 {
            let n = payload_left.min(chunk.len());
            if s.write_all(&chunk[..n]).is_err() {
                return sent;
            }
            payload_left -= n;
            sent += n;
        }
    }
    sent
}

#[test]
fn oversized_websocket_frames_and_messages_cost_no_memory() {
    let server = Server::start(&[]);
    let baseline = server.peak_rss_kib();
    // One 15 MB frame: refused by its header, long before it is read or parsed.
    let mut ws = raw_websocket(&server.addr);
    let sent = send_frames(&mut ws, &[(true, 1, 15_000_000)]);
    assert!(closed_by_server(&mut ws, Duration::from_secs(10)), "the server keeps a 15 MB frame's connection");
    assert!(sent < 15_000_000, "the server read the whole 15 MB frame");
    // 60 MB in 1,000 fragments of 60 KB, each under the frame cap: the message cap stops it.
    let mut ws = raw_websocket(&server.addr);
    let fragments: Vec<(bool, u8, usize)> = (0..1000).map(|i| (i == 999, if i == 0 { 1 } else { 0 }, 60_000)).collect();
    let sent = send_frames(&mut ws, &fragments);
    assert!(closed_by_server(&mut ws, Duration::from_secs(10)), "the server keeps a 60 MB message's connection");
    assert!(sent < 60_000_000, "the server read the whole fragmented message");
    let peak = server.peak_rss_kib();
    eprintln!("figure: peak RSS {baseline} KiB before, {peak} KiB after a 15 MB frame and a 60 MB fragmented message");
    assert!(peak < baseline + 40 * 1024, "peak RSS grew from {baseline} KiB to {peak} KiB");
    let (status, _) = server.get("/healthz");
    assert!(status.contains("200"));
}

/// `n` sockets hosting one group each, named with a 3-digit number then `fill` up to 64 characters
/// (oldest first: the numbers say the creation order).
async fn host_groups(url: &str, n: usize, fill: char) -> Vec<common::Peer> {
    let mut hosts = Vec::new();
    for i in 0..n {
        let h = connect(url).await;
        let name = format!("{i:03}{}", fill.to_string().repeat(61));
        assert_eq!(h.create_host(json!(name)).await["status"], 200);
        hosts.push(h);
    }
    hosts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_hosts_is_capped_and_costs_by_its_size() {
    // A server listing at most `listed` groups, with a burst of 20 requests and 1 more a second.
    let server_listing = |listed: &str| {
        Server::start(&[
            "--max-listed-hosts",
            listed,
            "--max-sockets-per-ip",
            "64",
            "--rate-burst",
            "20",
            "--rate-per-sec",
            "1",
        ])
    };
    let server = server_listing("5");
    // 64-character names make the full list ~5 KB.
    let _hosts = host_groups(&server.url, 48, 'n').await;
    let lister = connect(&server.url).await;
    let ack = lister.request("list hosts", Payload::Text(vec![])).await;
    assert_eq!(ack["total"], 48);
    let listed: Vec<String> =
        ack["hosts"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()[..3].to_string()).collect();
    assert_eq!(listed, ["000", "001", "002", "003", "004"], "at most 5, oldest first");

    // With the whole list in each reply, a reply costs more than one token of the burst of 20.
    let server = server_listing("200");
    let _big = host_groups(&server.url, 48, 'n').await;
    let lister = connect(&server.url).await;
    let mut served = 0;
    for _ in 0..20 {
        let ack = lister.request("list hosts", Payload::Text(vec![])).await;
        if ack["status"] != 200 {
            assert_eq!(ack["status"], 429);
            break;
        }
        assert_eq!(ack["hosts"].as_array().unwrap().len(), 48);
        served += 1;
    }
    assert!(served < 15, "{served} ~5 KB replies served from a burst of 20 tokens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofable_host_names_are_refused() {
    let server = Server::start(&[]);
    let p = connect(&server.url).await;
    for name in ["room\u{200B}", "\u{202E}moor", "\u{301}room", "ro\u{301}\u{302}\u{303}om"] {
        let ack = p.create_host(json!(name)).await;
        assert_eq!((&ack["status"], &ack["reason"]), (&json!(409), &json!("invalid-name")), "{name:?}: {ack}");
    }
    assert_eq!(p.create_host(json!("Café")).await["status"], 200);
}

/// One HTTP request on a fresh connection; returns the status line.
fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines().next().unwrap_or_default().to_string()
}

/// Issue 15 item 1: the public socket id (what `list hosts` publishes, what `from` carries) was the
/// engine.io session id, so an outsider could post and poll as the host over HTTP long-polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_id_is_no_session_credential() {
    let server = Server::start(&[]);
    // A host on long-polling, where the engine.io session id is all an HTTP request needs.
    let host = connect_polling(&server.url).await;
    let mut member = connect(&server.url).await;
    assert_eq!(host.create_host(json!("private")).await["status"], 200);
    assert_eq!(member.send(json!({"type": "join", "to": host.id})).await["status"], 200);
    let listed = member.hosts().await;
    assert_eq!(listed[0]["id"], json!(host.id));

    let body = format!(r#"42["message",{{"type":"offer","to":"{}","sdp":"forged"}}]"#, member.id);
    let post = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        host.id,
        body.len()
    );
    let status = http(&server.addr, &post);
    assert!(status.contains(" 400"), "posting as the host with its public id: {status}");
    let get = format!(
        "GET /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        host.id
    );
    let status = http(&server.addr, &get);
    assert!(status.contains(" 400"), "polling as the host with its public id: {status}");
    member.quiet(300).await;
    // The host's session is untouched.
    assert_eq!(host.hosts().await[0]["name"], "private");
}

/// Issue 15 item 3: sockets that ask for the host list and never read its replies pushed the server
/// to 2.15 GB (and a bystander's request timed out). Now each reply is capped, costs the rate limit
/// by size, and a socket's unsent replies are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_read_their_host_lists_cost_bounded_memory() {
    let server = Server::start(&["--max-sockets-per-ip", "400", "--max-tcp-per-ip", "400"]);
    // 300 groups with 64-character names of 3-byte characters: ~66 KB for the whole list (the
    // reply is capped at 200 of them, ~44 KB).
    let _hosts = host_groups(&server.url, 300, '語').await;
    let baseline = server.peak_rss_kib();
    let addr = server.addr.clone();
    // 20 raw websocket clients ask 500 times each and read nothing (~660 MB of replies unbounded).
    let readers = tokio::task::spawn_blocking(move || {
        let mut sockets = Vec::new();
        for _ in 0..20 {
            let mut s = raw_websocket(&addr);
            send_text(&mut s, "40").unwrap();
            sockets.push(s);
        }
        std::thread::sleep(Duration::from_millis(200));
        for n in 0..500 {
            for s in sockets.iter_mut() {
                // Ack ids make each a request the server answers; a refused write ends that client.
                let _ = send_text(s, &format!("42{n}[\"list hosts\"]"));
            }
        }
        sockets
    });
    let sockets = readers.await.unwrap();
    // A bystander is still served.
    let bystander = connect(&server.url).await;
    let listed = bystander.request("list hosts", rust_socketio::Payload::Text(vec![])).await;
    assert_eq!(listed["total"], 300);
    let peak = server.peak_rss_kib();
    eprintln!("figure: peak RSS {baseline} KiB before, {peak} KiB after 20 x 500 unread host lists");
    assert!(peak < baseline + 40 * 1024, "peak RSS grew from {baseline} KiB to {peak} KiB");
    drop(sockets);
}

/// Event packets that are no JSON array starting with a name reach our handler unread (socketioxide
/// leaves a fallback-only socket's packets to it): each is refused with a 400 `error` event, the
/// connection stays, and a well-formed request after them is served.
#[test]
fn unreadable_event_packets_are_refused_and_the_socket_kept() {
    let server = Server::start(&[]);
    let mut s = raw_websocket(&server.addr);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(read_text(&mut s).starts_with("0{"), "engine.io open");
    send_text(&mut s, "40").unwrap();
    assert!(read_text(&mut s).starts_with("40{"), "namespace connected");
    for bad in [r#"42[1]"#, r#"42["message",{"type":"offer""#, r#"42{}"#, r#"42[null,{"to":"x"}]"#] {
        send_text(&mut s, bad).unwrap();
        let reply = read_text(&mut s);
        let (event, body): (String, Value) =
            serde_json::from_str(reply.strip_prefix("42").unwrap_or_else(|| panic!("{bad}: {reply}"))).unwrap();
        assert_eq!(event, "error", "{bad}: {reply}");
        assert_eq!(
            (body["status"].clone(), body["reason"].clone()),
            (json!(400), json!("malformed")),
            "{bad}: {reply}"
        );
    }
    send_text(&mut s, r#"421["whoami"]"#).unwrap();
    let reply = read_text(&mut s);
    assert!(reply.starts_with("431[{") && reply.contains(r#""status":200"#), "served after them: {reply}");
}
