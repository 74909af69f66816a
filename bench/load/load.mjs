// Load generator for Socket.IO signaling servers speaking the Extreal P2P protocol.
//
//   node load.mjs --url http://127.0.0.1:3010 --clients 1000 [--pid SERVER_PID]
//                 [--concurrency 100] [--rate 10000] [--duration 10] [--payload 200]
//
// Phases: (1) connect N websocket-only clients, at most --concurrency in flight, and measure
// connections/s and the server's RSS growth (from /proc/PID/status); (2) pair the clients: one
// creates a uniquely named host, the other sends `join` to it (works on the Rust server, which
// only relays within a group, and on the baseline, which relays anywhere); (3) relay: every pair
// exchanges `candidate` messages at an aggregate --rate msgs/s for --duration s; latency is
// send -> receive within this one process, so both timestamps come from the same clock.
// Prints one JSON line. One process on purpose: on a 2-core box extra generator processes would
// only steal CPU from the server; gen_cpu_pct in the output tells whether the generator saturated.
import { io } from "socket.io-client";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const args = parseArgs(process.argv.slice(2));
const url = args.url ?? "http://127.0.0.1:3010";
const clients = Number(args.clients ?? 1000);
const pid = args.pid ? Number(args.pid) : null;
const concurrency = Number(args.concurrency ?? 100);
const rate = Number(args.rate ?? 10000); // aggregate messages/s offered, both directions summed
const duration = Number(args.duration ?? 10); // seconds of relay
const payloadBytes = Number(args.payload ?? 200);

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) continue;
    const key = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) out[key] = true;
    else out[key] = argv[++i];
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Server resident set size in KiB, or null without --pid. */
function rssKiB() {
  if (!pid) return null;
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) : null;
}

/** Server CPU time (user+system) in seconds, to tell who was saturated during the relay. */
function serverCpuSec() {
  if (!pid) return null;
  // Fields after the ")" of the comm field: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
}

/** Runs fn(i) for i in [0, n) with at most `limit` promises in flight. */
async function pool(n, limit, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  });
  await Promise.all(lanes);
}

// Problems the server reported (connect_error, `error` events, non-200 acks), by message.
const problems = {};
const problem = (what) => (problems[what] = (problems[what] ?? 0) + 1);

// ---- phase 1: connect ---------------------------------------------------------------------
const sockets = [];
const rssBefore = rssKiB();
let connectFailed = 0;
const ccpu0 = process.cpuUsage();
const cscpu0 = serverCpuSec();
const t0 = performance.now();
await pool(clients, concurrency, async (i) => {
  const s = io(url, {
    transports: ["websocket"], // skip the polling upgrade dance: one TCP connection per client
    forceNew: true, // never multiplex: each client is its own engine.io connection
    reconnection: false, // a refused client must show up as a failure, not a retry storm
    timeout: 20000,
  });
  const ok = await new Promise((resolve) => {
    s.once("connect", () => resolve(true));
    s.once("connect_error", (e) => {
      problem(`connect_error: ${e.message}`);
      resolve(false);
    });
  });
  if (ok) sockets[i] = s;
  else {
    connectFailed++;
    s.close();
  }
});
const connectSec = (performance.now() - t0) / 1000;
// CPU shares during the connect phase, to tell whether the generator or the server limited it.
const ccpu = process.cpuUsage(ccpu0);
const genConnectCpu = +(((ccpu.user + ccpu.system) / 1e6 / connectSec) * 100).toFixed(0);
const serverConnectCpu = cscpu0 != null ? +(((serverCpuSec() - cscpu0) / connectSec) * 100).toFixed(0) : null;
const connected = sockets.filter(Boolean);
await sleep(1000); // let the server finish allocating (and Node's GC settle) before reading RSS
const rssAfter = rssKiB();

let finished = false; // after the relay, disconnects are expected and not problems
for (const s of connected) {
  s.on("error", (e) => problem(`error event: ${e?.status} ${e?.message}`)); // Rust server rejections
  s.on("disconnect", (why) => {
    if (!finished) problem(`disconnect: ${why}`);
  });
}

// ---- phase 2: pair ------------------------------------------------------------------------
const pairs = [];
for (let i = 0; i + 1 < connected.length; i += 2) pairs.push([connected[i], connected[i + 1]]);
const tag = `${process.pid}-${Date.now().toString(36)}`;
let pairFailed = 0;
await pool(pairs.length, concurrency, async (i) => {
  const [host, member] = pairs[i];
  const res = await host.timeout(20000).emitWithAck("create host", `bench-${tag}-${i}`).catch((e) => ({ status: e.message }));
  if (res?.status !== 200) {
    problem(`create host: ${res?.status} ${res?.message ?? ""}`);
    pairFailed++;
    pairs[i] = null;
    return;
  }
  // The pair is ready once the host sees the join: from then on the Rust server accepts
  // messages in both directions (its per-socket queue keeps the member's own order anyway).
  const joined = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 20000);
    host.on("message", function onJoin(m) {
      if (m.type === "join" && m.from === member.id) {
        host.off("message", onJoin);
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  member.emit("message", { type: "join", to: host.id });
  if (!(await joined)) {
    problem("join not relayed within 20 s");
    pairFailed++;
    pairs[i] = null;
  }
});
const ready = pairs.filter(Boolean);

// ---- phase 3: relay -----------------------------------------------------------------------
// Latencies in ms, preallocated so recording costs nothing; 1.5x headroom over the offered load.
const lat = new Float64Array(Math.ceil(rate * duration * 1.5) + 16);
let received = 0;
let sent = 0;
const filler = "x".repeat(payloadBytes); // stands in for the SDP candidate string
for (const s of connected) {
  s.on("message", (m) => {
    if (m.type !== "candidate") return;
    if (received < lat.length) lat[received] = performance.now() - m.t;
    received++;
  });
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const cpu0 = process.cpuUsage();
const scpu0 = serverCpuSec();
const r0 = performance.now();
const end = r0 + duration * 1000;
let cursor = 0; // round-robin over pairs and directions: 2 * ready.length senders
if (ready.length > 0) {
  // Catch-up pacing: every tick sends what the target rate says is due by now, so timer jitter
  // does not lower the offered load (it only makes it burstier).
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - r0) / 1000) * rate) - sent;
      for (let k = 0; k < due; k++) {
        const pair = ready[(cursor >> 1) % ready.length];
        const [from, to] = cursor & 1 ? [pair[1], pair[0]] : pair;
        cursor++;
        from.emit("message", { type: "candidate", to: to.id, t: performance.now(), seq: sent, candidate: filler });
        sent++;
      }
      if (now >= end) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
}
const sendSec = (performance.now() - r0) / 1000;
const receivedInWindow = received;
// Drain: wait up to 5 s for stragglers, so a slow server shows up as latency, not as loss.
const drainEnd = performance.now() + 5000;
while (received < sent && performance.now() < drainEnd) await sleep(20);
const relaySec = (performance.now() - r0) / 1000;
const cpu = process.cpuUsage(cpu0);
const scpu1 = serverCpuSec();
loop.disable();
const rssRelay = rssKiB();
finished = true;

const n = Math.min(received, lat.length);
const sorted = lat.subarray(0, n).sort();
const pct = (p) => (n ? +sorted[Math.min(n - 1, Math.floor((p / 100) * n))].toFixed(2) : null);

console.log(
  JSON.stringify({
    url,
    clients,
    connected: connected.length,
    connect_failed: connectFailed,
    connect_sec: +connectSec.toFixed(3),
    connect_rate: +(connected.length / connectSec).toFixed(0),
    gen_connect_cpu_pct: genConnectCpu,
    server_connect_cpu_pct: serverConnectCpu,
    rss_before_kib: rssBefore,
    rss_after_kib: rssAfter,
    rss_per_conn_kib: rssBefore != null && connected.length ? +((rssAfter - rssBefore) / connected.length).toFixed(2) : null,
    rss_after_relay_kib: rssRelay,
    pairs: ready.length,
    pair_failed: pairFailed,
    target_rate: rate,
    sent,
    received,
    lost: sent - received,
    // Delivered during the send window over its length: what the server sustained.
    relay_rate: +(receivedInWindow / sendSec).toFixed(0),
    // Everything delivered, drain included, over send+drain time.
    relay_rate_with_drain: +(received / relaySec).toFixed(0),
    p50_ms: pct(50),
    p99_ms: pct(99),
    max_ms: n ? +sorted[n - 1].toFixed(2) : null,
    gen_cpu_pct: +(((cpu.user + cpu.system) / 1e6 / relaySec) * 100).toFixed(0),
    gen_loop_delay_p99_ms: +(loop.percentile(99) / 1e6).toFixed(1),
    server_cpu_pct: scpu0 != null ? +(((scpu1 - scpu0) / relaySec) * 100).toFixed(0) : null,
    problems,
  }),
);
// Exit without closing sockets one by one: teardown is not measured and run.sh kills the server.
process.exit(0);
