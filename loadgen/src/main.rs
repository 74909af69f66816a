//! p2p-loadgen: loads a Socket.IO signaling server speaking the Extreal P2P protocol (ours or the
//! Node port of Extreal's, bench/baseline) and finds its ceiling.
//!
//!   p2p-loadgen --url http://127.0.0.1:3010 --pid 1234 --clients 2000 --group 4 \
//!               [--start 20000 --factor 1.25 --max 400000 | --rates 20000,40000] [--step-secs 3]
//!
//! Phases: (1) connect every client (websocket only, `--concurrency` in flight), giving the connect
//! rate and the server's RSS per idle connection; (2) groups of `--group`: one client creates a
//! host, the others `join` it; (3) after `--warmup-secs` at the first rate (not reported), relay
//! steps: members send `candidate` messages to each other at
//! an aggregate rate that grows by `--factor` each step until p99 exceeds `--p99-ms`, messages are
//! lost, fewer than 95 % of the sent are delivered within the step, or the generator itself falls
//! behind (`generator_kept_up`: then the figure is the generator's limit, not the server's).
//! With `--refine F`, the gap between the last passing step and the first failing one is then
//! searched in steps of `F` (a ladder of ×1.4 can only say 103k or 145k; `refine` steps are marked).
//! With `--retry`, a failing step is run once more before it counts (marked `retry`): a server at
//! its limit fails both, a one-off stall of a shared host (steal, another tenant) only one.
//! Prints one JSON object on stdout; each step has p50/p90/p99/p99.9, the server's and the
//! generator's CPU, and the whole machine's shares (`machine_pct`, softirq and steal included).
//! Several `--url`s (comma-separated) spread clients round-robin over nodes sharing one registry;
//! several `--pid`s are summed.

mod hist;
mod proc;
mod relay;
mod sio;

use futures_util::StreamExt;
use relay::Shared;
use serde_json::{json, Value};
use sio::Client;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    urls: Vec<String>,
    pids: Vec<String>,
    clients: usize,
    group: usize,
    concurrency: usize,
    payload: usize,
    rates: Vec<u64>,
    step_secs: f64,
    warmup_secs: f64,
    p99_ms: f64,
    idle_only: bool,
    threads: usize,
    /// `--refine F`: after the first failing step, steps of ×F from the last passing one.
    refine: Option<f64>,
    /// `--retry`: a failing step is run once more before it counts.
    retry: bool,
}

const USAGE: &str = "usage: p2p-loadgen --url URL[,URL..] [--pid PID[,PID..]] [--clients N] [--group M] \
[--concurrency C] [--payload BYTES] [--rates R1,R2.. | --start R --factor F --max R] [--step-secs S] [--warmup-secs S] \
[--p99-ms MS] [--refine F] [--retry] [--idle-only] [--threads T]";

fn parse_args() -> Result<Args, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| -> Option<String> {
        let i = argv.iter().position(|a| a == name)?;
        argv.get(i + 1).cloned()
    };
    fn num<T: std::str::FromStr>(v: Option<String>, default: T, name: &str) -> Result<T, String> {
        v.map_or(Ok(default), |s| s.parse().map_err(|_| format!("{name}: not a number: {s}")))
    }
    let list = |v: Option<String>| -> Vec<String> {
        v.map(|s| s.split(',').filter(|x| !x.is_empty()).map(String::from).collect()).unwrap_or_default()
    };
    let urls = list(get("--url"));
    if urls.is_empty() {
        return Err(USAGE.into());
    }
    let rates = match get("--rates") {
        Some(r) => r.split(',').map(|x| x.parse().map_err(|_| format!("--rates: {x}"))).collect::<Result<_, _>>()?,
        None => {
            let start: f64 = num(get("--start"), 20_000.0, "--start")?;
            let factor: f64 = num(get("--factor"), 1.25, "--factor")?;
            let max: f64 = num(get("--max"), 400_000.0, "--max")?;
            if factor <= 1.0 || start <= 0.0 {
                return Err("--factor must be > 1 and --start > 0".into());
            }
            std::iter::successors(Some(start), |r| Some(r * factor))
                .take_while(|r| *r <= max)
                .map(|r| r as u64)
                .collect()
        }
    };
    let args = Args {
        pids: list(get("--pid")),
        clients: num(get("--clients"), 1000, "--clients")?,
        group: num(get("--group"), 4, "--group")?,
        concurrency: num(get("--concurrency"), 200, "--concurrency")?,
        payload: num(get("--payload"), 200, "--payload")?,
        step_secs: num(get("--step-secs"), 3.0, "--step-secs")?,
        warmup_secs: num(get("--warmup-secs"), 3.0, "--warmup-secs")?,
        p99_ms: num(get("--p99-ms"), 50.0, "--p99-ms")?,
        threads: num(get("--threads"), 1, "--threads")?,
        idle_only: argv.iter().any(|a| a == "--idle-only"),
        retry: argv.iter().any(|a| a == "--retry"),
        refine: get("--refine")
            .map(|f| f.parse::<f64>().map_err(|_| format!("--refine: not a number: {f}")))
            .transpose()?,
        urls,
        rates,
    };
    if args.rates.is_empty() || args.rates.contains(&0) {
        return Err("no rate steps (--rates, or --start above --max)".into());
    }
    if args.refine.is_some_and(|f| f.is_nan() || f <= 1.0) {
        return Err("--refine must be > 1".into());
    }
    if args.group < 2 || args.clients < args.group {
        return Err("--group must be at least 2 and --clients at least --group".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    }
    .expect("tokio runtime");
    let report = rt.block_on(run(args));
    println!("{report}");
    // Teardown is not measured: exit without closing thousands of sockets one by one.
    std::process::exit(0);
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

async fn run(args: Args) -> Value {
    let args = Arc::new(args);
    // ---- connect -------------------------------------------------------------------------
    let rss_before = proc::rss_sum(&args.pids);
    let t0 = Instant::now();
    let results: Vec<(usize, Result<Client, String>)> = futures_util::stream::iter(0..args.clients)
        .map(|i| {
            let url = args.urls[i % args.urls.len()].clone();
            async move { (i, Client::connect(&url).await) }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let connect_sec = t0.elapsed().as_secs_f64();
    let mut slots: Vec<Option<Client>> = (0..args.clients).map(|_| None).collect();
    let mut problems = std::collections::BTreeMap::<String, u64>::new();
    for (i, r) in results {
        match r {
            Ok(c) => slots[i] = Some(c),
            Err(e) => *problems.entry(e).or_default() += 1,
        }
    }
    let connected: Vec<Client> = slots.into_iter().flatten().collect();
    // Let the server finish allocating before reading its RSS.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = proc::rss_sum(&args.pids);
    let n = connected.len();
    let mut report = json!({
        "urls": args.urls,
        "clients": args.clients,
        "connected": n,
        "connect_failed": args.clients - n,
        "connect_rate": round(n as f64 / connect_sec, 0),
        "rss_before_kib": rss_before,
        "rss_idle_kib": rss_idle,
        "rss_per_idle_conn_kib": if n > 0 { round(rss_idle.saturating_sub(rss_before) as f64 / n as f64, 2) } else { 0.0 },
    });
    eprintln!("connected {n}/{} in {connect_sec:.2} s; server RSS {rss_before} -> {rss_idle} KiB", args.clients);
    if args.idle_only || n < args.group {
        report["problems"] = json!(problems);
        return report;
    }

    // ---- groups --------------------------------------------------------------------------
    let tag = format!("load-{}-{}", std::process::id(), t0.elapsed().as_nanos() % 1_000_000);
    let mut chunks: Vec<Vec<Client>> = Vec::new();
    let mut it = connected.into_iter();
    loop {
        let g: Vec<Client> = it.by_ref().take(args.group).collect();
        if g.len() < args.group {
            break;
        }
        chunks.push(g);
    }
    let formed: Vec<Result<Vec<Client>, String>> = futures_util::stream::iter(chunks.into_iter().enumerate())
        .map(|(i, g)| form_group(g, format!("{tag}-{i}")))
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let mut groups = Vec::new();
    for f in formed {
        match f {
            Ok(g) => groups.push(g),
            Err(e) => *problems.entry(e).or_default() += 1,
        }
    }
    let senders = groups.iter().map(Vec::len).sum::<usize>() as u64;
    eprintln!("{} groups of {} formed", groups.len(), args.group);
    report["groups"] = json!(groups.len());
    report["group_size"] = json!(args.group);
    if groups.is_empty() {
        report["problems"] = json!(problems);
        return report;
    }

    // ---- relay steps ---------------------------------------------------------------------
    // Slots for the steps (the ladder's and at most MAX_REFINE_STEPS more, each maybe twice), and
    // one more: the warm-up (JIT, allocator and caches of either server), not reported.
    let warmup = (args.rates.len() + MAX_REFINE_STEPS) * 2;
    let shared = Arc::new(Shared::new(senders, warmup + 1));
    let filler: Arc<str> = "x".repeat(args.payload).into();
    for g in groups {
        let ids: Vec<String> = g.iter().map(|c| c.sid.clone()).collect();
        for c in g {
            let peers = ids.iter().filter(|id| **id != c.sid).cloned().collect();
            tokio::spawn(relay::run(c, peers, shared.clone(), filler.clone()));
        }
    }
    shared.start_step(warmup, args.rates[0]);
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_secs)).await;
    shared.rate.store(0, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut steps = Vec::new();
    let mut best: Option<Value> = None;
    // (rate, a refining step, a second attempt)
    let mut plan: std::collections::VecDeque<(u64, bool, bool)> =
        args.rates.iter().map(|&r| (r, false, false)).collect();
    let mut i = 0;
    while let Some((rate, refining, second)) = plan.pop_front() {
        let (s0, g0, w0) = (proc::cpu_sum(&args.pids), proc::cpu_sec("self").unwrap_or(0.0), Instant::now());
        let m0 = proc::machine_ticks().unwrap_or_default();
        shared.start_step(i, rate);
        tokio::time::sleep(Duration::from_secs_f64(args.step_secs)).await;
        let step = &shared.steps[i];
        let received_in_window = step.received.load(Ordering::Relaxed);
        let sent_in_window = step.sent.load(Ordering::Relaxed);
        let window = w0.elapsed().as_secs_f64();
        let (s1, g1) = (proc::cpu_sum(&args.pids), proc::cpu_sec("self").unwrap_or(0.0));
        let [m_user, m_system, m_idle, m_softirq, m_steal] =
            proc::machine_shares(m0, proc::machine_ticks().unwrap_or_default()).map(|x| round(x, 0));
        shared.rate.store(0, Ordering::SeqCst);
        // Drain up to 3 s, so a slow server shows as latency rather than loss.
        let drain_end = Instant::now() + Duration::from_secs(3);
        while step.received.load(Ordering::Relaxed) < step.sent.load(Ordering::Relaxed) && Instant::now() < drain_end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = step.sent.load(Ordering::Relaxed);
        let received = step.received.load(Ordering::Relaxed);
        let relay_rate = received_in_window as f64 / window;
        let p50 = step.latency.percentile_ms(50.0).unwrap_or(f64::INFINITY);
        let p99 = step.latency.percentile_ms(99.0).unwrap_or(f64::INFINITY);
        let [p90, p999] = [90.0, 99.9].map(|p| step.latency.percentile_ms(p).unwrap_or(f64::INFINITY));
        let lost = sent.saturating_sub(received);
        // Kept up: the server delivered 95 % of what was sent in the window (the rest may be in
        // flight), and the generator sent 90 % of the offered, give or take one message per client
        // (clients send whole messages on their ticks).
        let server_kept_up = received_in_window as f64 >= 0.95 * sent_in_window as f64;
        let generator_kept_up = (sent_in_window + senders) as f64 >= 0.9 * rate as f64 * window;
        let ok = p99 <= args.p99_ms && lost * 1000 <= sent && server_kept_up && generator_kept_up;
        let row = json!({
            "offered": rate,
            "relay_rate": round(relay_rate, 0),
            "sent": sent,
            "lost": lost,
            "p50_ms": round(p50, 2),
            "p99_ms": round(p99, 2),
            "p90_ms": round(p90, 2),
            "p999_ms": round(p999, 2),
            "server_cpu_pct": round((s1 - s0) / window * 100.0, 0),
            "gen_cpu_pct": round((g1 - g0) / window * 100.0, 0),
            "server_rss_kib": proc::rss_sum(&args.pids),
            // The whole machine in the window, % of all its CPUs (softirq: loopback TCP receive).
            "machine_pct": json!({"user": m_user, "system": m_system, "softirq": m_softirq, "steal": m_steal, "idle": m_idle}),
            "generator_kept_up": generator_kept_up,
            "refine": refining,
            "retry": second,
            "ok": ok,
        });
        eprintln!("{row}");
        steps.push(row.clone());
        i += 1;
        if ok {
            best = Some(row);
            continue;
        }
        if args.retry && !second {
            plan.push_front((rate, refining, true));
            continue;
        }
        // The first failure ends the ladder; with --refine, the gap below it is searched once (a
        // failing refining step ends the search).
        let last_pass = best.as_ref().and_then(|b| b["offered"].as_u64());
        match (args.refine, last_pass, refining) {
            (Some(factor), Some(pass), false) => {
                plan = refine_steps(pass, rate, factor).into_iter().map(|r| (r, true, false)).collect();
            }
            _ => break,
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
    problems.extend(shared.problems.lock().unwrap().clone());
    report["steps"] = json!(steps);
    report["max"] = best.unwrap_or(Value::Null);
    report["problems"] = json!(problems);
    report
}

/// At most this many refining steps (×1.1 between two steps of a ×1.4 ladder takes 3).
const MAX_REFINE_STEPS: usize = 8;

/// The rates strictly between `pass` and `fail` in steps of ×`factor` from `pass` (at most
/// [`MAX_REFINE_STEPS`]; none within 1 % of `fail`, which failed already).
fn refine_steps(pass: u64, fail: u64, factor: f64) -> Vec<u64> {
    std::iter::successors(Some(pass as f64 * factor), |r| Some(r * factor))
        .take_while(|r| *r < fail as f64 * 0.99)
        .take(MAX_REFINE_STEPS)
        .map(|r| r as u64)
        .collect()
}

/// One group: the first client creates host `name`, the others join it; done once the host has
/// seen every join (from then on the server routes between all members).
async fn form_group(mut g: Vec<Client>, name: String) -> Result<Vec<Client>, String> {
    let deadline = Duration::from_secs(20);
    let work = async {
        let ack = g[0].emit_with_ack(0, "create host", &json!(name)).await?;
        if ack["status"] != 200 {
            return Err(format!("create host: {}", ack["status"]));
        }
        let host = g[0].sid.clone();
        for member in &mut g[1..] {
            member.emit("message", &json!({"type": "join", "to": host})).await?;
        }
        let mut joins = 0;
        while joins < g.len() - 1 {
            let t = g[0].next_text().await?;
            if let sio::Incoming::Event(body) = sio::classify(&t) {
                let v: Value = serde_json::from_str(body).unwrap_or_default();
                if v[0] == "message" && v[1]["type"] == "join" {
                    joins += 1;
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(())) => Ok(g),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("group not formed within 20 s".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::refine_steps;

    #[test]
    fn the_refining_steps_fill_the_gap_below_the_failure() {
        assert_eq!(refine_steps(103_305, 144_627, 1.1), vec![113_635, 124_999, 137_498]);
        assert_eq!(refine_steps(100, 110, 1.1), Vec::<u64>::new(), "110 failed already");
        assert_eq!(refine_steps(100, 1_000_000, 1.1).len(), super::MAX_REFINE_STEPS);
    }
}
