// What the Chromium suites share: child processes read line by line, and the stack every test
// runs on (the real signaling server, the demo page server, headless Chromium with a granted
// fake microphone).
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { launchChromium, mediaContext } from "./chromium.mjs";

const children = [];

/**
 * Starts a process and resolves with the first stdout line matching `pattern`, plus `waitLine(re)`
 * (the first line ever printed matching `re`) and `lines` (everything printed so far).
 */
export function startProcess(cmd, args, pattern, opts = {}) {
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
      // Unref'd: a wait that already ended must not keep the test file alive for `ms`.
      setTimeout(() => reject(new Error(`${cmd} never printed ${re}; got:\n${lines.join("\n")}`)), ms).unref();
    });
  };
  return waitLine(pattern).then((line) => ({ child, line, waitLine, lines }));
}

/** The signaling server (with `serverArgs`), the demo server and Chromium; `stop()` ends them and every process started here. */
export async function startStack({ serverArgs = [] } = {}) {
  const server = await startProcess(process.env.P2P_SIGNALING_BIN, ["--bind", "127.0.0.1:0", ...serverArgs], /listening on/);
  const signalingUrl = server.line.match(/(http:\/\/\S+)/)[1];
  const demo = await startProcess("node", ["scripts/serve.mjs", "--port", "0", "--signaling", signalingUrl], /demo listening on/);
  const demoUrl = demo.line.match(/(http:\/\/\S+)/)[1];
  const browser = await launchChromium();
  const context = await mediaContext(browser, demoUrl);
  const stop = async () => {
    await browser.close();
    for (const c of children) c.kill();
  };
  return { signalingUrl, demoUrl, browser, context, stop };
}

/** A demo page, once it has its config. */
export async function openPage(context, demoUrl) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.getElementById("signaling").textContent.length > 0);
  return page;
}

// ---------------------------------------------------------------- the Unity WebGL bridge

/** The PeerConfig JSON Unity's WebGLPeerClient sends (PeerConfig.ToJson). */
export const unityConfig = (signalingUrl) =>
  JSON.stringify({ signalingUrl, iceServers: [], p2pTimeoutMs: 15000, vanillaIceTimeoutMs: 2000, trickleIce: true, socket: { connectionTimeoutMs: 5000, reconnection: false } });

/**
 * Plays Unity's part in a page: evaluates the real jslib (unity/Plugins/WebGL/WebRtcP2p.jslib) over a
 * small emulation of emscripten's string heap, then calls its exports as WebGLPeerClient.cs does.
 */
export async function openUnityPage(context, demoUrl) {
  const jslib = await readFile(new URL("../../unity/Plugins/WebGL/WebRtcP2p.jslib", import.meta.url), "utf8");
  const page = await openPage(context, demoUrl);
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
      func: (name, a = "", b = "") => heap.get(lib.WebRtcP2p_CallFunction(put(`WebGLPeerClient#${name}`), put(a), put(b))),
    };
  }, jslib);
  return page;
}

/** The argument of the first callback named `name` (waits for it). */
export async function unityCallback(page, name) {
  const full = `WebGLPeerClient#${name}`;
  await page.waitForFunction((n) => window.__unity.calls.some((c) => c[0] === n), full, { timeout: 30000 });
  return page.evaluate((n) => window.__unity.calls.find((c) => c[0] === n)[1], full);
}
