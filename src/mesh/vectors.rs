//! Runs the conformance vectors (`tests/vectors/*.json`, the format is in `tests/vectors/README.md`)
//! against the mesh state machine. The web client's `web/tests/vectors.test.ts` runs the same files
//! against its TypeScript machine, so both clients take the same decisions by construction.

use super::state::{Input, Mesh, MeshConfig, Output, PcEvent, PeerOp, Timer, TimerKind};
use crate::events::Event;
use crate::protocol::{Ice, Message};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn config(v: &Value) -> MeshConfig {
    let num = |key: &str, default: u64| v.get(key).and_then(Value::as_u64).unwrap_or(default);
    MeshConfig {
        trickle: v.get("trickle").and_then(Value::as_bool).unwrap_or(true),
        max_peers: num("maxPeers", crate::protocol::DEFAULT_MAX_PEERS as u64) as usize,
        p2p_timeout: Duration::from_millis(num("p2pTimeoutMs", 15_000)),
        vanilla_timeout: Duration::from_millis(num("vanillaIceTimeoutMs", 5_000)),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

fn timer_kind(name: &str) -> TimerKind {
    match name {
        "giveUp" => TimerKind::GiveUp,
        "gathering" => TimerKind::Gathering,
        other => panic!("unknown timer {other}"),
    }
}

fn timer_name(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::GiveUp => "giveUp",
        TimerKind::Gathering => "gathering",
    }
}

/// Timers armed so far, so a vector fires them by name (the latest of that peer and kind, or the
/// earliest with `"stale": true`) without knowing serials.
#[derive(Default)]
struct Armed(Vec<Timer>);

impl Armed {
    fn pick(&self, v: &Value) -> Timer {
        let (peer, kind) = (str_of(v, "peer"), timer_kind(str_of(v, "timer")));
        let mut matching = self.0.iter().filter(|t| t.peer == peer && t.kind == kind);
        let found =
            if v.get("stale").and_then(Value::as_bool) == Some(true) { matching.next() } else { matching.next_back() };
        found.cloned().unwrap_or_else(|| panic!("no {kind:?} timer armed for {peer}"))
    }
}

fn input(v: &Value, armed: &Armed) -> Input {
    if let Some(id) = v.get("ownId") {
        return Input::OwnId(id.as_str().unwrap().to_string());
    }
    if let Some(app) = v.get("app") {
        return match app.as_str().unwrap() {
            "host" => Input::Host,
            "join" => Input::Join(str_of(v, "host").to_string()),
            "stop" => Input::Stop,
            other => panic!("unknown app command {other}"),
        };
    }
    if let Some(m) = v.get("signal") {
        return Input::Signal(serde_json::from_value::<Message>(without_nulls(m)).unwrap());
    }
    if let Some(id) = v.get("userDisconnected") {
        return Input::UserDisconnected(id.as_str().unwrap().to_string());
    }
    if v.get("timer").is_some() {
        return Input::Timer(armed.pick(v));
    }
    let peer = str_of(v, "pc").to_string();
    let event = match str_of(v, "event") {
        "localCandidate" => PcEvent::LocalCandidate(serde_json::from_value::<Ice>(v["ice"].clone()).unwrap()),
        "gatheringComplete" => PcEvent::GatheringComplete,
        "connected" => PcEvent::Connected,
        "failed" => PcEvent::Failed,
        "offerFailed" => PcEvent::OfferFailed,
        "closed" => PcEvent::Closed,
        other => panic!("unknown pc event {other}"),
    };
    Input::Pc { peer, event }
}

/// `null` means absent on the wire (docs/protocol.md), as the clients' parsers treat it.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Started(_) => "started",
        Event::StartFailed(_) => "startFailed",
        Event::ConnectFailed(_) => "connectFailed",
        Event::Disconnected(_) => "disconnected",
        Event::UserConnecting(_) => "userConnecting",
        Event::UserConnected(_) => "userConnected",
        Event::UserDisconnecting(_) => "userDisconnecting",
        Event::Reconnected(_) => "reconnected",
    }
}

fn output(o: &Output) -> Value {
    match o {
        Output::Send(m) => json!({ "send": m }),
        Output::Event(e) => json!({ "event": event_name(e), "arg": e.arg() }),
        Output::Started(id) => json!({ "started": id }),
        Output::Arm { timer, after } => {
            json!({ "arm": timer_name(timer.kind), "peer": timer.peer, "ms": after.as_millis() as u64 })
        }
        Output::Peer(peer, op) => match op {
            PeerOp::Create { offerer } => json!({ "peer": peer, "op": "create", "offerer": offerer }),
            PeerOp::CreateOffer => json!({ "peer": peer, "op": "createOffer" }),
            PeerOp::CreateAnswer => json!({ "peer": peer, "op": "createAnswer" }),
            PeerOp::SetRemote { offer, sdp } => json!({ "peer": peer, "op": "setRemote", "offer": offer, "sdp": sdp }),
            PeerOp::AddCandidate(ice) => json!({ "peer": peer, "op": "addCandidate", "ice": ice }),
            PeerOp::SendDescription { offer, trickle } => {
                json!({ "peer": peer, "op": "sendDescription", "offer": offer, "trickle": trickle })
            }
            PeerOp::Send(m) => json!({ "peer": peer, "op": "send", "message": m }),
            PeerOp::Close => json!({ "peer": peer, "op": "close" }),
        },
    }
}

/// Runs one vector file; returns the failures as text (empty when it passes).
fn run(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    for scenario in doc["scenarios"].as_array().expect("`scenarios` array") {
        let name = str_of(scenario, "name");
        let mut mesh = Mesh::new(config(scenario.get("config").unwrap_or(&Value::Null)));
        let mut armed = Armed::default();
        for (i, step) in scenario["steps"].as_array().expect("`steps` array").iter().enumerate() {
            let outputs = mesh.handle(input(&step["in"], &armed));
            for o in &outputs {
                if let Output::Arm { timer, .. } = o {
                    armed.0.push(timer.clone());
                }
            }
            let got: Vec<Value> = outputs.iter().map(output).collect();
            let want = step["out"].as_array().unwrap_or_else(|| panic!("{name}: step {i} has no `out`"));
            if got != *want {
                failures.push(format!(
                    "{} / {name} / step {i} ({})\n  want {}\n  got  {}",
                    path.file_name().unwrap().to_string_lossy(),
                    step["in"],
                    Value::Array(want.clone()),
                    Value::Array(got)
                ));
                break;
            }
        }
    }
    failures
}

#[test]
fn every_vector_passes_against_the_rust_machine() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", vectors_dir().display());
    let failures: Vec<String> = files.iter().flat_map(|f| run(f)).collect();
    assert!(failures.is_empty(), "{} failing:\n{}", failures.len(), failures.join("\n"));
}

/// The runner itself must be able to fail: a vector whose expected outputs are wrong is caught.
#[test]
fn a_wrong_expectation_fails() {
    let dir = std::env::temp_dir().join(format!("p2p-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.json");
    let doc = json!({"scenarios": [{"name": "host ignores nothing", "steps": [
        {"in": {"app": "host"}, "out": []},
        {"in": {"signal": {"type": "offer", "from": "x", "sdp": "v=0"}}, "out": [{"peer": "x", "op": "createAnswer"}]}
    ]}]});
    std::fs::write(&file, doc.to_string()).unwrap();
    let failures = run(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
}
