//! The signaling server as a process on 127.0.0.1, driven by a real Socket.IO client (rust_socketio).

mod common;

use common::{connect, Pushed, Server};
use rust_socketio::Payload;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_join_relay_and_disconnect() {
    let server = Server::start(&[]);
    let host = connect(&server.url).await;
    let mut a = connect(&server.url).await;
    let b = connect(&server.url).await;
    assert_eq!(host.hosts().await, json!([]));
    assert_eq!(
        host.create_host(json!("room")).await,
        json!({"status": 200, "message": "Host have been created. host: room"})
    );
    assert_eq!(
        a.create_host(json!("room")).await,
        json!({"status": 409, "message": "Host already exists. host: room", "reason": "name-taken"})
    );
    assert_eq!(a.hosts().await, json!([{"id": host.id, "name": "room"}]));

    let mut host = host;
    // join makes a member and is relayed to the host with `from` set by the server.
    assert_eq!(a.send(json!({"type": "join", "to": host.id, "trickle": true, "from": "forged"})).await["status"], 200);
    assert_eq!(
        host.next().await,
        Pushed::Message(json!({"type": "join", "to": host.id, "from": a.id, "trickle": true}))
    );
    // Every message type flows between members, in order, unchanged but for `from`.
    let offer = json!({"type": "offer", "to": a.id, "sdp": "v=0 ..."});
    host.emit("message", offer.clone()).await;
    for i in 0..20 {
        host.emit("message", json!({"type": "candidate", "to": a.id, "ice": {"candidate": format!("c{i}"), "sdpMid": "0", "sdpMLineIndex": 0}})).await;
    }
    let mut want = offer.clone();
    want["from"] = json!(host.id);
    assert_eq!(a.next().await, Pushed::Message(want));
    for i in 0..20 {
        match a.next().await {
            Pushed::Message(m) => assert_eq!(m["ice"]["candidate"], json!(format!("c{i}")), "order kept"),
            other => panic!("{other:?}"),
        }
    }
    for kind in ["answer", "done", "bye"] {
        a.emit("message", json!({"type": kind, "to": host.id})).await;
        match host.next().await {
            Pushed::Message(m) => {
                assert_eq!((m["type"].as_str().unwrap(), m["from"].as_str().unwrap()), (kind, a.id.as_str()))
            }
            other => panic!("{other:?}"),
        }
    }
    b.send(json!({"type": "join", "to": host.id})).await;
    host.next().await;
    host.emit("message", json!({"type": "call me", "to": a.id, "me": b.id})).await;
    match a.next().await {
        Pushed::Message(m) => assert_eq!(m["me"], json!(b.id)),
        other => panic!("{other:?}"),
    }

    // A member leaving is announced to the others in the group only.
    let outsider_host = connect(&server.url).await;
    let mut outsider = outsider_host;
    outsider.create_host(json!("other room")).await;
    drop(b.client.disconnect().await);
    assert_eq!(host.next().await, Pushed::UserDisconnected(json!({"id": b.id})));
    assert_eq!(a.next().await, Pushed::UserDisconnected(json!({"id": b.id})));
    outsider.quiet(300).await;

    // The host leaving removes the group from the list; the remaining member is told.
    host.client.disconnect().await.unwrap();
    assert_eq!(a.next().await, Pushed::UserDisconnected(json!({"id": host.id})));
    assert_eq!(a.hosts().await, json!([{"id": outsider.id, "name": "other room"}]));
    // The name is free again.
    let ack = a.create_host(json!("room")).await;
    assert_eq!(
        (&ack["status"], &ack["reason"]),
        (&json!(409), &json!("already-in-group")),
        "a is still in the host's (hostless) group"
    );
    let c = connect(&server.url).await;
    assert_eq!(c.create_host(json!("room")).await["status"], 200);
}

/// Extreal's C# client serialises its `Message` class with every unset field as null and sends
/// no ack; each kind must still be delivered (null means absent), and groups list oldest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csharp_shaped_messages_with_null_fields_are_delivered() {
    let server = Server::start(&[]);
    let host = connect(&server.url).await;
    let a = connect(&server.url).await;
    let b = connect(&server.url).await;
    let later = connect(&server.url).await;
    assert_eq!(host.create_host(json!("zeta")).await["status"], 200);
    assert_eq!(later.create_host(json!("alpha")).await["status"], 200);
    let names: Vec<Value> = a.hosts().await.as_array().unwrap().iter().map(|h| h["name"].clone()).collect();
    assert_eq!(names, [json!("zeta"), json!("alpha")], "creation order, as Extreal's server lists");

    let csharp = |kind: &str, to: &str, me: Option<&str>, sdp: Option<&str>| json!({"type": kind, "from": null, "to": to, "me": me, "sdp": sdp});
    let (h, ida, idb) = (host.id.clone(), a.id.clone(), b.id.clone());
    // (sender, body, receiver) with 0 = host, 1 = a, 2 = b: a joins, b joins, a calls b, b leaves.
    let steps = [
        (1, csharp("join", &h, None, None), 0),
        (0, csharp("offer", &ida, None, Some("v=0 offer")), 1),
        (1, csharp("answer", &h, None, Some("v=0 answer")), 0),
        (0, csharp("done", &ida, None, None), 1),
        (2, csharp("join", &h, None, None), 0),
        (0, csharp("call me", &ida, Some(&idb), None), 1),
        (1, csharp("offer", &idb, None, Some("v=0 offer 2")), 2),
        (2, csharp("answer", &ida, None, Some("v=0 answer 2")), 1),
        (1, csharp("done", &idb, None, None), 2),
        (2, csharp("bye", &ida, None, None), 1),
    ];
    let mut peers = [host, a, b];
    for (i, (from, body, to)) in steps.into_iter().enumerate() {
        peers[from].emit("message", body.clone()).await;
        let mut want = body.clone();
        want["from"] = json!(peers[from].id);
        assert_eq!(peers[to].next().await, Pushed::Message(want), "step {i}: {body}");
    }
    for p in &mut peers {
        p.quiet(200).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_is_scoped_to_the_group() {
    let server = Server::start(&[]);
    let mut h1 = connect(&server.url).await;
    let mut h2 = connect(&server.url).await;
    let mut a = connect(&server.url).await;
    let mut stranger = connect(&server.url).await;
    h1.create_host(json!("one")).await;
    h2.create_host(json!("two")).await;
    a.send(json!({"type": "join", "to": h1.id})).await;
    h1.next().await;

    // Across groups, to a non-member, from a non-member, to oneself: rejected with an ack...
    for (from, to) in [(&a, &h2.id), (&h1, &h2.id), (&h1, &stranger.id), (&stranger, &a.id), (&a, &a.id)] {
        let ack = from.send(json!({"type": "offer", "to": to, "sdp": "x"})).await;
        assert_eq!(ack["status"], 403, "{ack}");
    }
    // ...or with an `error` event when there is no ack, and nothing is delivered.
    stranger.emit("message", json!({"type": "offer", "to": h1.id, "sdp": "x"})).await;
    match stranger.next().await {
        Pushed::Error(e) => assert_eq!((e["status"].clone(), e["event"].clone()), (json!(403), json!("message"))),
        other => panic!("{other:?}"),
    }
    // A join to a non-host, a second group, or a missing host is refused.
    assert_eq!(stranger.send(json!({"type": "join", "to": a.id})).await["status"], 404);
    assert_eq!(a.send(json!({"type": "join", "to": h2.id})).await["status"], 409);
    assert_eq!(h1.send(json!({"type": "join", "to": h2.id})).await["status"], 409);
    h1.quiet(200).await;
    h2.quiet(200).await;
    a.quiet(200).await;
    stranger.quiet(200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_enforced() {
    let server = Server::start(&[
        "--max-group-size",
        "2",
        "--max-payload-bytes",
        "2048",
        "--rate-per-sec",
        "5",
        "--rate-burst",
        "10",
    ]);
    let h = connect(&server.url).await;
    let a = connect(&server.url).await;
    let b = connect(&server.url).await;
    for (name, why) in [
        (json!(""), "empty"),
        (json!("   "), "blank"),
        (json!("x".repeat(65)), "65 chars"),
        (json!("a\u{7}b"), "control char"),
    ] {
        let ack = a.create_host(name).await;
        assert_eq!((&ack["status"], &ack["reason"]), (&json!(409), &json!("invalid-name")), "{why}: {ack}");
    }
    assert_eq!(a.create_host(json!(" é".repeat(32))).await["status"], 200, "64 characters after trimming are fine");
    assert_eq!(a.create_host(json!("second")).await["reason"], "already-in-group", "one group per socket");
    h.create_host(json!("small")).await;
    assert_eq!(b.send(json!({"type": "join", "to": h.id})).await["status"], 200);
    let c = connect(&server.url).await;
    assert_eq!(c.send(json!({"type": "join", "to": h.id})).await["status"], 403, "group of 2 is full");
    let big = "x".repeat(3000);
    assert_eq!(b.send(json!({"type": "offer", "to": h.id, "sdp": big})).await["status"], 413);
    // Rate: the burst passes, then 429s.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(c.request("list hosts", Payload::Text(vec![])).await["status"].as_i64().unwrap());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() >= 5);

    let (_, metrics) = server.get("/metrics");
    assert!(metrics.contains("p2p_signaling_rejections_total{reason=\"rate_limited\"}"));
    let rate_limited: u64 = metrics
        .lines()
        .find(|l| l.starts_with("p2p_signaling_rejections_total{reason=\"rate_limited\"}"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .parse()
        .unwrap();
    assert!(rate_limited >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_errors_and_the_server_survives() {
    let server = Server::start(&[]);
    let mut p = connect(&server.url).await;
    // Wrong argument types, missing fields, unknown types.
    for bad in [json!(42), json!(null), json!({"name": "x"}), json!(["a"])] {
        // 409, not 400: Extreal's C# client takes every other status for success.
        assert_eq!(p.create_host(bad).await["status"], 409);
    }
    for bad in [
        json!("just a string"),
        json!({"to": "x"}),
        json!({"type": "offer"}),
        json!({"type": 5, "to": "x"}),
        json!({"type": "hack", "to": "x"}),
        json!({"type": "offer", "to": ""}),
        json!({"type": "offer", "to": "x".repeat(200)}),
        json!({"type": "call me", "to": "x", "me": 7}),
    ] {
        assert_eq!(p.send(bad.clone()).await["status"], 400, "{bad}");
    }
    // Events that need an ack, sent without one (the seed's server crashes on this): an `error` event.
    p.client.emit("list hosts", Payload::Text(vec![])).await.unwrap();
    match p.next().await {
        Pushed::Error(e) => assert_eq!((e["status"].clone(), e["event"].clone()), (json!(400), json!("list hosts"))),
        other => panic!("{other:?}"),
    }
    p.emit("create host", json!("no ack")).await;
    assert!(matches!(p.next().await, Pushed::Error(_)));
    // Binary payloads and unknown events are ignored.
    p.client.emit("message", Payload::Binary(vec![1, 2, 3].into())).await.unwrap();
    p.client.emit("nonsense", json!({"a": 1})).await.unwrap();
    // Still alive and serving.
    assert_eq!(p.hosts().await, json!([]));
    let (status, body) = server.get("/healthz");
    assert!(status.contains("200") && body.contains("ok"), "{status} {body}");
    let (status, metrics) = server.get("/metrics");
    assert!(status.contains("200"));
    for metric in [
        "p2p_signaling_connections 1",
        "p2p_signaling_groups 0",
        "p2p_signaling_messages_relayed_total",
        "reason=\"malformed\"",
    ] {
        assert!(metrics.contains(metric), "{metric} in\n{metrics}");
    }
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut server = Server::start(&[]);
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
}

#[test]
fn bad_flags_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_p2p-signaling")).args(["--max-group-size", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_p2p-signaling")).arg("--help").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--bind"));
}

/// `--workers N` sets the binary's runtime threads; by default two per CPU (server/src/config.rs,
/// `default_workers`, says why).
#[cfg(target_os = "linux")]
#[test]
fn the_runtime_has_the_threads_asked_for() {
    let workers = |server: &Server| {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", server.child.id())).unwrap();
        let names = tasks.map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).unwrap_or_default());
        // server/src/main.rs names them; no blocking-pool thread (same name) runs at startup.
        names.filter(|name| name.trim() == "signaling-rt").count()
    };
    assert_eq!(workers(&Server::start(&["--workers", "3"])), 3);
    assert_eq!(workers(&Server::start(&["--workers", "1"])), 1);
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(workers(&Server::start(&[])), 2 * cpus);
    let out = Command::new(env!("CARGO_BIN_EXE_p2p-signaling")).args(["--workers", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers must be 1 to 1024"));
}

/// The library API: a server started in this process, used, and shut down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_in_process() {
    let config = p2p_signaling::Config { bind: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
    let server = p2p_signaling::start(config).await.unwrap();
    assert_ne!(server.addr().port(), 0, "the real port is reported");
    let url = server.url();
    let host = connect(&url).await;
    assert_eq!(host.create_host(json!("in process")).await["status"], 200);
    server.shutdown().await;
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err(), "no longer listening");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = p2p_signaling::Config { bind: busy.local_addr().unwrap(), ..Default::default() };
    let Err(why) = p2p_signaling::start(taken).await else { panic!("bound a port in use") };
    assert!(why.contains("cannot bind"), "{why}");
}

/// A message without an ack to a member reached before takes the fast path (relayed from the packet
/// as received, server/src/handlers.rs `relay_raw`); the rest the general one. The recipient must
/// not tell them apart: the same text (members as sent, raw values untouched, the sender's `from`
/// replaced by the server's), in the order sent; and the fast path keeps the size and rate limits.
#[test]
fn the_fast_path_relays_exactly_what_the_general_path_does() {
    use common::raw::{raw_client, read_text, read_text_within, send_text};
    let server = Server::start(&["--max-payload-bytes", "2048", "--rate-per-sec", "1", "--rate-burst", "30"]);
    let (mut host, host_id) = raw_client(&server.addr);
    let (mut member, member_id) = raw_client(&server.addr);
    send_text(&mut host, r#"421["create host","paths"]"#).unwrap();
    let created = read_text(&mut host);
    assert!(created.starts_with(r#"431[{"#) && created.contains(r#""status":200"#), "{created}");
    send_text(&mut member, &format!(r#"421["message",{{"type":"join","to":"{host_id}"}}]"#)).unwrap();
    assert_eq!(read_text(&mut member), r#"431[{"status":200}]"#);
    assert!(read_text(&mut host).contains(r#""type":"join""#));

    // Keys in no set order, raw values with escapes and nesting, a forged `from`, a null `me`.
    let sent = |n: usize| {
        format!(
            r#"["message",{{"sdp":"v=0\r\n\u00e9 \"q\"","type":"offer","from":"forged","to":"{host_id}","n":{n},"me":null,"x":[1,{{"y":null}}]}}]"#
        )
    };
    let relayed = |n: usize| {
        let text = sent(n).replace(r#""from":"forged","#, "");
        format!("42{}}}]", text.strip_suffix("}]").unwrap().to_string() + &format!(r#","from":"{member_id}""#))
    };
    for n in 0..6 {
        // The fourth asks for an ack: the general path, between fast ones.
        let ack = if n == 3 { "13" } else { "" };
        send_text(&mut member, &format!("42{ack}{}", sent(n))).unwrap();
    }
    for n in 0..6 {
        assert_eq!(read_text(&mut host), relayed(n), "message {n}");
    }
    assert_eq!(read_text(&mut member), r#"4313[{"status":200}]"#);
    let counter = |name: &str| -> u64 {
        let (_, metrics) = server.get("/metrics");
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{metrics}"));
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    // The join, the first offer (the join changed the group: its route is checked afresh) and
    // the one with an ack went the general way; the other four the fast way.
    let total = counter("p2p_signaling_messages_relayed_total");
    assert_eq!((total, counter("p2p_signaling_messages_relayed_fast_total")), (7, 4));

    // Over the size limit, to a member reached before: refused, nothing relayed.
    // (2,500 bytes: over the 2,048 the server reads, under the websocket cap, 1 KiB above it.)
    let big = sent(99).replace("v=0", &"v".repeat(2500));
    send_text(&mut member, &format!("42{big}")).unwrap();
    let refused = read_text(&mut member);
    assert!(refused.starts_with(r#"42["error",{"#) && refused.contains(r#""status":413"#), "{refused}");
    // Over the rate (a burst of 30, one more a second; 8 spent): relayed until the bucket is empty,
    // then refused, each one way or the other.
    for n in 0..40 {
        send_text(&mut member, &format!("42{}", sent(100 + n))).unwrap();
    }
    let mut got = 0;
    while let Some(text) = read_text_within(&mut host, Duration::from_secs(2)) {
        assert_eq!(text, relayed(100 + got), "relayed in order");
        got += 1;
    }
    let mut rate_limited = 0;
    while let Some(text) = read_text_within(&mut member, Duration::from_secs(2)) {
        assert!(text.starts_with(r#"42["error",{"#) && text.contains(r#""status":429"#), "{text}");
        rate_limited += 1;
    }
    assert_eq!(got + rate_limited, 40, "{got} relayed, {rate_limited} refused");
    assert!((18..=25).contains(&got), "{got} relayed of 40 with ~22 tokens left");
    assert_eq!(counter("p2p_signaling_messages_relayed_total"), total + got as u64);
}
