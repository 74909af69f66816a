// End to end in headless Chromium (playwright-core driving Debian's chromium): three demo pages form
// a mesh and chat through the UI; a page and a native peer (the Rust chat example) share a group and
// exchange data-channel messages both ways. Real signaling server, real WebRTC on loopback.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join as joinPath } from "node:path";
import { fileURLToPath } from "node:url";
import { openPage as openDemoPage, openUnityPage as openUnityDemoPage, startProcess, startStack, unityCallback, unityConfig } from "./harness.mjs";

const { P2P_NATIVE_CHAT_BIN } = process.env;
let stack, signalingUrl;

before(async () => {
  stack = await startStack();
  signalingUrl = stack.signalingUrl;
});

after(async () => {
  await stack?.stop();
});

const openPage = () => openDemoPage(stack.context, stack.demoUrl);
const openUnityPage = () => openUnityDemoPage(stack.context, stack.demoUrl);

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

// ---------------------------------------------------------------- the live graph

/** Where CI picks up the demo's screenshot (git-ignored; README shows a copy from docs/). */
const ARTIFACTS = joinPath(dirname(fileURLToPath(import.meta.url)), "../../.test-artifacts");

/** What the page's SVG shows: nodes and edges with their data-* attributes and label texts. */
const drawing = (page) =>
  page.evaluate(() => {
    const svg = document.getElementById("mesh");
    return {
      nodes: [...svg.querySelectorAll("g.node")].map((n) => ({ id: n.dataset.peer, agent: n.dataset.agent, self: n.dataset.self === "true", host: n.dataset.host === "true" })),
      edges: [...svg.querySelectorAll("g.edge")].map((e) => ({ a: e.dataset.a, b: e.dataset.b, state: e.dataset.state, phase: e.dataset.phase ?? null })),
      labels: [...svg.querySelectorAll("g.edge-label text")].map((t) => t.textContent),
      phases: [...document.querySelectorAll("#phases li")].map((li) => li.className),
    };
  });

/**
 * Waits until the page draws `n` members fully linked: n(n-1)/2 connected edges, each labelled with an
 * RTT, and every member known by kind (each has published its first report on "mesh").
 */
const fullMesh = (page, n) =>
  page.waitForFunction(
    (n) => {
      const svg = document.getElementById("mesh");
      const edges = [...svg.querySelectorAll("g.edge")];
      const labels = [...svg.querySelectorAll("g.edge-label text")].map((t) => t.textContent);
      return (
        svg.querySelectorAll("g.node").length === n &&
        [...svg.querySelectorAll("g.node")].every((g) => g.dataset.agent !== "unknown") &&
        edges.length === (n * (n - 1)) / 2 &&
        edges.every((e) => e.dataset.state === "connected" && !e.dataset.phase) &&
        labels.every((l) => /^\d+(\.\d)? ms · /.test(l))
      );
    },
    n,
    { timeout: 45000, polling: 250 },
  );

test("the demo draws a group of three pages and a native peer live, and the stats agree", async () => {
  const name = `graph-${Date.now()}`;
  const [a, b, c] = [await openPage(), await openPage(), await openPage()];
  await a.setViewportSize({ width: 1200, height: 820 });
  await a.fill("#name", name);
  await a.click("#host");
  await logHas(a, "event started");
  await join(b, name);
  const native = await startProcess(P2P_NATIVE_CHAT_BIN, ["--url", signalingUrl, "--join", name, "--loopback"], /^ready /);
  const nativeId = native.line.slice("ready ".length);
  // Record every state of c's join progress row while it joins.
  await c.evaluate(() => {
    window.__phases = [];
    const row = () => [...document.querySelectorAll("#phases li")].map((li) => li.className).join(",");
    new MutationObserver(() => {
      if (window.__phases.at(-1) !== row()) window.__phases.push(row());
    }).observe(document.getElementById("phases"), { subtree: true, attributes: true });
  });
  await join(c, name);
  const ids = await Promise.all([a, b, c].map(myId));
  for (const p of [a, b, c]) await fullMesh(p, 4);

  const seen = await drawing(a);
  assert.deepEqual(seen.nodes.map((n) => n.id).sort(), [...ids, nativeId].sort(), "one node per member");
  assert.deepEqual(seen.nodes.filter((n) => n.self).map((n) => n.id), [ids[0]], "self highlighted");
  assert.deepEqual(seen.nodes.filter((n) => n.host).map((n) => n.id), [ids[0]], "the host marked");
  assert.equal(seen.nodes.find((n) => n.id === nativeId).agent, "native", "the native peer is drawn as one");
  const pairs = seen.edges.map((e) => [e.a, e.b].sort().join(" ")).sort();
  assert.equal(new Set(pairs).size, 6, "one edge per link");
  // Local candidates are host on loopback; the remote one is peer-reflexive when the peer's first
  // check arrives before its trickled candidate (the pair then reads "host↔prflx").
  for (const l of seen.labels) assert.match(l, /^\d+(\.\d)? ms · host(↔prflx)?$/, "labelled with RTT and candidate type (host on loopback)");
  assert.deepEqual(seen.phases, ["done", "done", "done", "done"], "the join progress is complete");
  // c's row went through the phases in order (on loopback some may pass between two renders). It
  // shows the least advanced link, so it starts over when the next member's offer arrives.
  const progress = (await c.evaluate(() => window.__phases)).map((r) => {
    const cls = r.split(",");
    return cls.includes("current") ? cls.indexOf("current") : cls.every((x) => x === "done") ? 4 : -1;
  }).filter((p) => p >= 0); // -1: idle, before the join
  assert.equal(progress[0], 0, `the join starts at signaling: ${progress}`);
  assert.equal(progress.at(-1), 4, `the join ends with every phase done: ${progress}`);
  assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1] || p === 0), `phases advance in order: ${progress}`);
  assert.ok(new Set(progress).size >= 3, `progress is shown on the way: ${progress}`);

  // The page's stats (getStats summary) and the native peer's (/stats json) describe the same links.
  const stats = await a.evaluate(() => window.peerClient.getStats());
  assert.deepEqual(stats.map((s) => s.peerId), [ids[1], ids[2], nativeId].sort());
  for (const s of stats) {
    assert.equal(s.connectionState, "connected");
    assert.equal(s.selectedPair.local.type, "host");
    assert.equal(typeof s.rttMs, "number");
    assert.ok(s.dataChannels.some((d) => d.label === "chat" && d.state === "open"));
    assert.deepEqual(s.audio, []);
  }
  native.child.stdin.write("/stats json\n");
  const json = JSON.parse((await native.waitLine(/^stats-json /)).slice("stats-json ".length));
  assert.deepEqual(json.map((s) => s.peerId), [...ids].sort(), "the native peer lists its three links");
  for (const s of json) {
    assert.equal(s.connectionState, "connected");
    assert.ok(["connected", "completed"].includes(s.iceState), s.iceState);
    assert.equal(s.selectedPair.local.type, "host");
    assert.equal(s.selectedPair.local.protocol, "udp");
    assert.deepEqual(s.dataChannels.map((d) => d.label).sort(), ["chat", "mesh"]);
  }

  // Chat stays: messages flow beside the graph, and the links table counts them.
  await send(b, "hello from a page");
  native.child.stdin.write("hello from rust\n");
  await logHas(a, `recv ${nativeId} hello from rust`);
  await logHas(a, `recv ${ids[1]} hello from a page`);
  await a.waitForFunction((id) => document.querySelector(`#links tr[data-peer="${id}"]`)?.textContent.includes("0 / 1"), nativeId, { timeout: 10000 });

  await mkdir(ARTIFACTS, { recursive: true });
  await a.screenshot({ path: joinPath(ARTIFACTS, "demo-mesh.png"), clip: { x: 0, y: 0, width: 1110, height: 660 } });
  native.child.stdin.end();
  for (const p of [a, b, c]) await p.close();
});

// ---------------------------------------------------------------- the Unity WebGL bridge

test("the adapter's bridge actions work the way Unity's jslib calls them", async () => {
  const name = `unity-${Date.now()}`;
  const config = unityConfig(signalingUrl);
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
  // WebGLPeerClient.GetStatsAsync: the summary of the link to the host, as the native client gives it.
  await client.evaluate(() => window.__unity.action("DoGetStatsAsync"));
  const stats = JSON.parse(await unityCallback(client, "ReceiveGetStatsResponse"));
  assert.equal(stats.status, 0);
  assert.deepEqual(stats.stats.map((s) => s.peerId), [hostId]);
  assert.equal(stats.stats[0].connectionState, "connected");
  await client.evaluate(() => window.__unity.action("DoStop"));
  assert.equal(await unityCallback(host, "HandleOnUserDisconnecting"), await client.evaluate(() => window.__unity.calls.find((c) => c[0] === "WebGLPeerClient#HandleOnStarted")[1]));
  assert.equal(await client.evaluate(() => window.__unity.func("IsRunning")), "false");
  await host.close();
  await client.close();
});
