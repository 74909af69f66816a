// End to end in headless Chromium (playwright-core driving Debian's chromium): three demo pages form
// a mesh and chat through the UI; a page and a native peer (the Rust chat example) share a group and
// exchange data-channel messages both ways. Real signaling server, real WebRTC on loopback.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readFile } from "node:fs/promises";
import { chromium } from "playwright-core";

const { P2P_SIGNALING_BIN, P2P_NATIVE_CHAT_BIN } = process.env;
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const children = [];
let browser, context, signalingUrl, demoUrl;

/** Starts a process and resolves with the first stdout line matching `pattern` (and a line stream). */
function startProcess(cmd, args, pattern, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"], ...opts });
  children.push(child);
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
  });
  const waitLine = (re, ms = 30000) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      waiters.push(w);
      setTimeout(() => reject(new Error(`${cmd} never printed ${re}; got:\n${lines.join("\n")}`)), ms);
    });
  };
  return waitLine(pattern).then((line) => ({ child, line, waitLine }));
}

before(async () => {
  const server = await startProcess(P2P_SIGNALING_BIN, ["--bind", "127.0.0.1:0"], /listening on/);
  signalingUrl = server.line.match(/(http:\/\/\S+)/)[1];
  const demo = await startProcess("node", ["scripts/serve.mjs", "--port", "0", "--signaling", signalingUrl], /demo listening on/);
  demoUrl = demo.line.match(/(http:\/\/\S+)/)[1];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run",
      // Loopback-only ICE: allow loopback candidates, show real addresses (a native peer cannot resolve
      // mDNS names), and grant media so Chromium offers host candidates at all.
      "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    ],
  });
  context = await browser.newContext();
  await context.grantPermissions(["camera", "microphone"], { origin: demoUrl.replace(/\/$/, "") });
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill();
});

async function openPage() {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.getElementById("signaling").textContent.length > 0);
  return page;
}

const logHas = (page, text, timeout = 30000) =>
  page.waitForFunction((t) => document.getElementById("log").textContent.includes(t), text, { timeout });
const myId = (page) => page.evaluate(() => window.peerClient.clientId);
const countLines = (page, prefix) =>
  page.evaluate((p) => document.getElementById("log").textContent.split("\n").filter((l) => l.startsWith(p)).length, prefix);

async function join(page, name) {
  await page.click("#refresh");
  await page.click(`button.join[data-name="${name}"]`, { timeout: 15000 });
  await logHas(page, "event started");
}

async function send(page, text) {
  await page.fill("#message", text);
  await page.click("#send");
}

test("three pages form a mesh and chat through the demo UI", async () => {
  const name = `web-${Date.now()}`;
  const [a, b, c] = [await openPage(), await openPage(), await openPage()];
  await a.fill("#name", name);
  await a.click("#host");
  await logHas(a, "event started");
  await join(b, name);
  await join(c, name);
  for (const p of [a, b, c]) {
    await p.waitForFunction(() => document.getElementById("log").textContent.split("\n").filter((l) => l.startsWith("open ")).length === 2, null, { timeout: 30000 });
  }
  const ids = await Promise.all([a, b, c].map(myId));
  await send(a, "hello from a");
  await send(b, "hello from b");
  await send(c, "hello from c");
  const pages = { a, b, c };
  const names = ["a", "b", "c"];
  for (const [i, to] of names.entries()) {
    for (const [j, from] of names.entries()) {
      if (i !== j) await logHas(pages[to], `recv ${ids[j]} hello from ${from}`);
    }
  }
  for (const p of [a, b, c]) assert.equal(await countLines(p, "event started"), 1, "started once");
  await c.click("#stop");
  await logHas(a, `event userDisconnecting ${ids[2]}`);
  await logHas(b, `event userDisconnecting ${ids[2]}`);
  for (const p of [a, b, c]) await p.close();
});

test("a page and a native (Rust) peer share a group and chat both ways", async () => {
  const name = `native-${Date.now()}`;
  const native = await startProcess(P2P_NATIVE_CHAT_BIN, ["--url", signalingUrl, "--host", name, "--loopback"], /^ready /);
  const nativeId = native.line.slice("ready ".length);
  const page = await openPage();
  await join(page, name);
  await logHas(page, `open ${nativeId}`);
  const pageId = await myId(page);
  await send(page, "from the browser");
  await native.waitLine(new RegExp(`^recv ${pageId} from the browser$`));
  native.child.stdin.write("from rust\n");
  await logHas(page, `recv ${nativeId} from rust`);
  await page.close();
});

test("a vanilla (Extreal-like) native peer joins a page's group", async () => {
  const name = `vanilla-${Date.now()}`;
  const page = await openPage();
  await page.fill("#name", name);
  await page.click("#host");
  await logHas(page, "event started");
  const native = await startProcess(P2P_NATIVE_CHAT_BIN, ["--url", signalingUrl, "--join", name, "--loopback", "--vanilla"], /^ready /);
  await native.waitLine(/^event started/);
  const nativeId = native.line.slice("ready ".length);
  await logHas(page, `open ${nativeId}`);
  await send(page, "hi vanilla");
  await native.waitLine(/ hi vanilla$/);
  await page.close();
});

// ---------------------------------------------------------------- the Unity WebGL bridge

/**
 * Plays Unity's part in a page: evaluates the real jslib (unity/Plugins/WebGL/WebRtcP2p.jslib) over a
 * small emulation of emscripten's string heap, then calls its exports as WebGLPeerClient.cs does.
 */
async function openUnityPage() {
  const jslib = await readFile(new URL("../../unity/Plugins/WebGL/WebRtcP2p.jslib", import.meta.url), "utf8");
  const page = await openPage();
  await page.evaluate((source) => {
    const heap = new Map();
    let next = 1;
    const put = (s) => { const p = next++; heap.set(p, s); return p; };
    const table = {};
    const lib = {};
    // What emscripten does at build time: expand the dynCall macro into a function-table lookup.
    const body = source.replace("{{{ makeDynCall('viii', 'callback') }}}", "table[callback]");
    new Function("LibraryManager", "mergeInto", "UTF8ToString", "lengthBytesUTF8", "_malloc", "stringToUTF8", "_free", "table", body)(
      { library: lib }, (l, o) => Object.assign(l, o), (p) => heap.get(p) ?? "", (s) => new TextEncoder().encode(s).length,
      () => put(""), (s, p) => heap.set(p, s), (p) => heap.delete(p), table);
    const adapter = new window.webrtcP2p.PeerAdapter();
    adapter.adapt();
    const calls = [];
    table[1] = (n, a, b) => calls.push([heap.get(n), heap.get(a), heap.get(b)]);
    lib.WebRtcP2p_SetCallback(1);
    window.__unity = {
      calls,
      action: (name, arg = "") => lib.WebRtcP2p_CallAction(put(`WebGLPeerClient#${name}`), put(arg), put("")),
      // The app's own part, as the seed's DataChannelClient: a channel per connection via getPeerClient.
      addChannelHook: () => adapter.getPeerClient().addPcCreateHook((id, isOffer, pc) => { if (isOffer) pc.createDataChannel("sample"); }),
      func: (name) => heap.get(lib.WebRtcP2p_CallFunction(put(`WebGLPeerClient#${name}`), put(""), put(""))),
    };
  }, jslib);
  return page;
}

/** The argument of the first callback named `name` (waits for it). */
async function unityCallback(page, name) {
  const full = `WebGLPeerClient#${name}`;
  await page.waitForFunction((n) => window.__unity.calls.some((c) => c[0] === n), full, { timeout: 30000 });
  return page.evaluate((n) => window.__unity.calls.find((c) => c[0] === n)[1], full);
}

test("the adapter's bridge actions work the way Unity's jslib calls them", async () => {
  const name = `unity-${Date.now()}`;
  const config = JSON.stringify({ signalingUrl, iceServers: [], p2pTimeoutMs: 15000, vanillaIceTimeoutMs: 2000, trickleIce: true,
    socket: { connectionTimeoutMs: 5000, reconnection: false } });
  const host = await openUnityPage();
  await host.evaluate(([c, n]) => { window.__unity.action("WebGLPeerConfig", c); window.__unity.addChannelHook(); window.__unity.action("DoStartHostAsync", n); }, [config, name]);
  assert.deepEqual(JSON.parse(await unityCallback(host, "ReceiveStartHostResponse")), { status: 0 });
  const hostId = await unityCallback(host, "HandleOnStarted");
  assert.equal(await host.evaluate(() => window.__unity.func("GetRole")), "Host");

  const client = await openUnityPage();
  await client.evaluate(([c, n]) => { window.__unity.action("WebGLPeerConfig", c); window.__unity.addChannelHook(); window.__unity.action("DoStartHostAsync", n); }, [config, name]);
  assert.equal(JSON.parse(await unityCallback(client, "ReceiveStartHostResponse")).status, -6, "a duplicate name is P2P_ERR_HOST_EXISTS");
  await client.evaluate(() => window.__unity.action("DoListHostsAsync"));
  const list = JSON.parse(await unityCallback(client, "ReceiveListHostsResponse"));
  assert.equal(list.status, 0);
  assert.ok(list.hosts.some((h) => h.id === hostId && h.name === name), "the host is listed");
  await client.evaluate((id) => window.__unity.action("DoStartClientAsync", id), hostId);
  assert.deepEqual(JSON.parse(await unityCallback(client, "ReceiveStartClientResponse")), { status: 0 });
  assert.equal(await unityCallback(client, "HandleOnUserConnected"), hostId);
  assert.equal(await client.evaluate(() => window.__unity.func("GetRole")), "Client");
  assert.equal(await client.evaluate(() => window.__unity.func("GetHostId")), hostId);
  assert.equal(await client.evaluate(() => window.__unity.func("IsRunning")), "true");
  await client.evaluate(() => window.__unity.action("DoStop"));
  assert.equal(await unityCallback(host, "HandleOnUserDisconnecting"), await client.evaluate(() => window.__unity.calls.find((c) => c[0] === "WebGLPeerClient#HandleOnStarted")[1]));
  assert.equal(await client.evaluate(() => window.__unity.func("IsRunning")), "false");
  await host.close();
  await client.close();
});
