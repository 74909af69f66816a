// Reference for docs/performance.md: Chromium's offer→open between two headless pages on this
// machine, the browser's own floor for what `cargo bench --bench p2p -- join` measures natively.
// Each page holds one RTCPeerConnection; signaling is a BroadcastChannel between the pages (no
// server, so this is WebRTC alone). Trickle: offer, answer and candidates go as soon as they exist.
// Vanilla: each side sends its description once ICE gathering completes (as Extreal clients do).
// The clock starts before `new RTCPeerConnection()` on the offerer and stops at each channel's
// `open` (offerer: after the DCEP ACK; answerer: when the DCEP OPEN arrives).
//   node bench/join.mjs          (env CHROMIUM_BIN, ROUNDS = 20)
import http from "node:http";
import { launchChromium } from "../tests/chromium.mjs";

const rounds = Number(process.env.ROUNDS ?? 20);
const server = http.createServer((_, res) => {
  res.setHeader("content-type", "text/html");
  res.end("<!doctype html><title>join bench</title>");
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}/`;
const browser = await launchChromium();
const context = await browser.newContext();
const [a, b] = [await context.newPage(), await context.newPage()];
await a.goto(origin);
await b.goto(origin);

// Both sides as one function evaluated in each page; `now()` is comparable across pages.
const side = ([role, name, trickle]) => new Promise((resolve) => {
  const now = () => performance.timeOrigin + performance.now();
  const bc = new BroadcastChannel(name);
  const post = (m) => bc.postMessage(m);
  // Handle messages one at a time, in order (a candidate must not overtake its description).
  let chain = Promise.resolve();
  const onMessage = (handle) => (bc.onmessage = ({ data }) => (chain = chain.then(() => handle(data))));
  const gathered = (pc) => new Promise((r) => {
    if (pc.iceGatheringState === "complete") return r();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && r());
  });
  if (role === "answer") {
    const pc = new RTCPeerConnection();
    pc.onicecandidate = (e) => trickle && e.candidate && post({ candidate: e.candidate.toJSON() });
    pc.ondatachannel = (e) => (e.channel.onopen = () => { resolve(now()); });
    // Repeat until the offerer (evaluated concurrently) is listening.
    const ready = setInterval(() => post({ ready: true }), 5);
    onMessage(async (data) => {
      if (data.offer) {
        clearInterval(ready);
        await pc.setRemoteDescription(data.offer);
        await pc.setLocalDescription(await pc.createAnswer());
        if (!trickle) await gathered(pc);
        post({ answer: pc.localDescription.toJSON() });
      } else if (data.candidate) {
        await pc.addIceCandidate(data.candidate);
      }
    });
    window.benchPc = pc;
  } else {
    let started = false;
    onMessage(async (data) => {
      if (data.ready && !started) {
        started = true;
        const t0 = now();
        const pc = new RTCPeerConnection();
        window.benchPc = pc;
        const dc = pc.createDataChannel("bench");
        dc.onopen = () => resolve({ t0, open: now() });
        pc.onicecandidate = (e) => trickle && e.candidate && post({ candidate: e.candidate.toJSON() });
        await pc.setLocalDescription(await pc.createOffer());
        if (!trickle) await gathered(pc);
        post({ offer: pc.localDescription.toJSON() });
      } else if (data.answer) {
        await window.benchPc.setRemoteDescription(data.answer);
      } else if (data.candidate) {
        await window.benchPc.addIceCandidate(data.candidate);
      }
    });
  }
});

const pct = (v, p) => v[Math.round((v.length - 1) * p)];
console.log(`| Chromium ↔ Chromium, ${rounds} rounds | offerer open p50 (ms) | p95 | answerer open p50 (ms) | p95 |`);
console.log("|---|---|---|---|---|");
for (const trickle of [true, false]) {
  const off = [];
  const ans = [];
  for (let round = 0; round < rounds; round++) {
    const name = `join-${trickle}-${round}`;
    const offerer = a.evaluate(side, ["offer", name, trickle]);
    const answerer = b.evaluate(side, ["answer", name, trickle]);
    const [{ t0, open }, answerOpen] = await Promise.all([offerer, answerer]);
    off.push(open - t0);
    ans.push(answerOpen - t0);
    await a.evaluate(() => window.benchPc.close());
    await b.evaluate(() => window.benchPc.close());
  }
  off.sort((x, y) => x - y);
  ans.sort((x, y) => x - y);
  console.log(`| ${trickle ? "trickle" : "vanilla"} offer→open | ${pct(off, 0.5).toFixed(1)} | ${pct(off, 0.95).toFixed(1)} | ${pct(ans, 0.5).toFixed(1)} | ${pct(ans, 0.95).toFixed(1)} |`);
}
await browser.close();
server.close();
