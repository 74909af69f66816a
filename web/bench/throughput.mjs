// Reference for docs/performance.md: data-channel throughput between two headless Chromium pages on
// this machine, each with the web PeerClient (reliable, ordered channel made in the pc-create hook).
//   npm run build && node bench/throughput.mjs   (env P2P_SIGNALING_BIN, CHROMIUM_BIN, SIZES=64,...,65536)
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { launchChromium, mediaContext } from "../tests/chromium.mjs";

const root = new URL("../..", import.meta.url).pathname;
const signalingBin = process.env.P2P_SIGNALING_BIN ?? `${root}target/release/p2p-signaling`;
const children = [];
const firstLine = (cmd, args, re) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], cwd: new URL("..", import.meta.url).pathname });
    children.push(child);
    createInterface({ input: child.stdout }).on("line", (l) => re.test(l) && resolve(l.match(/(http:\/\/\S+)/)[1]));
    child.on("exit", () => reject(new Error(`${cmd} exited`)));
  });

const signalingUrl = await firstLine(signalingBin, ["--bind", "127.0.0.1:0"], /listening on/);
const demoUrl = await firstLine("node", ["scripts/serve.mjs", "--port", "0", "--signaling", signalingUrl], /demo listening on/);
const browser = await launchChromium();
const context = await mediaContext(browser, demoUrl);

async function page() {
  const p = await context.newPage();
  await p.goto(demoUrl);
  await p.waitForFunction(() => window.webrtcP2p);
  await p.evaluate((url) => {
    const c = new window.webrtcP2p.PeerClient({ signalingUrl: url });
    window.bench = { c, dc: null, received: 0 };
    c.addPcCreateHook((id, isOffer, pc) => {
      const use = (dc) => {
        dc.binaryType = "arraybuffer";
        dc.onopen = () => (window.bench.dc = dc);
        dc.onmessage = (e) => (window.bench.received += e.data.byteLength);
      };
      if (isOffer) use(pc.createDataChannel("bench"));
      else pc.ondatachannel = (e) => use(e.channel);
    });
  }, signalingUrl);
  return p;
}

console.log("| path | channel | message | MiB/s | messages/s |\n|---|---|---|---|---|");
for (const size of (process.env.SIZES ?? "64,256,1024,4096,16384,65536").split(",").map(Number)) {
  const [a, b] = [await page(), await page()];
  const name = `tp-${size}-${Date.now()}`;
  await a.evaluate((n) => window.bench.c.startHost(n), name);
  const hostId = await a.evaluate(() => window.bench.c.clientId);
  await b.evaluate((h) => window.bench.c.startClient(h), hostId);
  await a.waitForFunction(() => window.bench.dc);
  await b.waitForFunction(() => window.bench.dc);
  // 32 MiB, at most 200k messages (as the native bench), at least 2000.
  const total = Math.max(Math.min(32 << 20, size * 200000), size * 2000);
  const count = Math.floor(total / size);
  const t0 = Date.now();
  // Send with backpressure (bufferedAmountLow), as any real sender must.
  const sending = a.evaluate(([size, count]) => new Promise((resolve) => {
    const dc = window.bench.dc;
    const msg = new Uint8Array(size);
    let sent = 0;
    dc.bufferedAmountLowThreshold = 1 << 20;
    const pump = () => {
      while (sent < count && dc.bufferedAmount < 4 << 20) { dc.send(msg); sent++; }
      if (sent < count) dc.onbufferedamountlow = pump; else resolve();
    };
    pump();
  }), [size, count]);
  await b.waitForFunction((bytes) => window.bench.received >= bytes, count * size, { timeout: 120000, polling: 50 });
  await sending;
  const secs = (Date.now() - t0) / 1000;
  const label = size >= 1024 ? `${size >> 10} KiB` : `${size} B`;
  console.log(`| Chromium ↔ Chromium (web PeerClient) | reliable | ${label} | ${((count * size) / secs / 1048576).toFixed(1)} | ${Math.round(count / secs)} |`);
  await a.close();
  await b.close();
}
await browser.close();
for (const c of children) c.kill();
