// Extreal compatibility suite (issue 10): both signaling servers, ours (P2P_SIGNALING_BIN) and the
// Node port of Extreal's (bench/baseline/server.mjs), against three kinds of client:
//   cs       a browser port of Extreal's native C# client (compat/csharp-client.js): C#-shaped null
//            JSON, vanilla ICE, Extreal's sequence;
//   native   our Rust chat example (P2P_NATIVE_CHAT_BIN), trickle, and native-vanilla (--vanilla);
//   web      our browser PeerClient (web/src) in headless Chromium.
// Every pairing forms a group and passes a data-channel message both ways, within a bound well under
// the 5 s vanilla ICE and 10 s ack timeouts, and the ids every member reports are the ids the others
// see. Then C#-shaped messages of every kind through a plain socket.io-client, our clients' create
// host errors, and the join -> first message timing on both servers (printed, not asserted tightly).
//
//   bash compat/run.sh        (builds what it needs; or set the env vars and: node --test compat/)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { launchChromium, mediaContext } from "../web/tests/chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
// The web package's dependencies (playwright-core, socket.io-client, esbuild) serve this suite too.
const requireWeb = createRequire(join(root, "web", "package.json"));
const { io } = requireWeb("socket.io-client");

const { P2P_SIGNALING_BIN, P2P_NATIVE_CHAT_BIN } = process.env;
/** A formation taking longer than this waited on something (vanilla ICE timeout 5 s, ack timeout 10 s). */
const FORMATION_BOUND_MS = Number(process.env.COMPAT_FORMATION_BOUND_MS ?? 3500);
const TIMING_REPS = Number(process.env.COMPAT_TIMING_REPS ?? 5);

const children = new Set();
const servers = {};
let browser, context, pageUrl, pageServer;
const idlePages = [];
const lineSinks = new Map(); // page client handle -> Lines

// ---------------------------------------------------------------- plumbing

/** Timestamped lines of one process or page client, with waiters. */
class Lines {
  constructor(label) {
    this.label = label;
    this.all = [];
    this.waiters = [];
  }
  push(line) {
    const entry = { t: performance.now(), line };
    this.all.push(entry);
    for (const w of [...this.waiters]) {
      const m = line.match(w.re);
      if (m) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve({ ...entry, m });
      }
    }
  }
  find(re) {
    for (const e of this.all) {
      const m = e.line.match(re);
      if (m) return { ...e, m };
    }
    return null;
  }
  wait(re, ms = 15000) {
    const seen = this.find(re);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.label} never printed ${re}; got:\n  ${this.all.map((e) => e.line.slice(0, 200)).join("\n  ")}`));
      }, ms);
      this.waiters.push(w);
    });
  }
}

function spawnLines(label, cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.add(child);
  const lines = new Lines(label);
  createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
  createInterface({ input: child.stderr }).on("line", (l) => lines.push(`stderr ${l}`));
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => {
    children.delete(child);
    lines.push(`exit ${code ?? signal}`);
    resolve(code);
  }));
  return { child, lines };
}

async function startServer(kind) {
  const { child, lines } =
    kind === "ours"
      ? spawnLines("p2p-signaling", P2P_SIGNALING_BIN, ["--bind", "127.0.0.1:0"])
      : spawnLines("extreal-signaling", process.execPath, [join(root, "bench", "baseline", "server.mjs")], {
          PORT: "0",
          // Extreal's deployment sets the CORS origin for its web clients; without it no browser can poll.
          SIGNALING_CORS_ORIGIN: "*",
        });
  const { m } = await lines.wait(/listening on (http:\/\/\S+)/, 10000);
  return { kind, url: m[1].replace(/\/$/, ""), child, lines };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const unique = (what) => `${what}-${process.pid}-${++seq}`;

// ---------------------------------------------------------------- members

const KINDS = {
  cs: "page",
  web: "page",
  native: "native",
  "native-vanilla": "native",
};

/**
 * One client of any kind, started as host or joiner of `name` on `server`. Its lines follow the chat
 * example's output; `ready` resolves with the id the client reports for itself.
 */
class Member {
  constructor(kind, label) {
    this.kind = kind;
    this.label = label;
    this.lines = new Lines(label);
    this.id = null;
  }

  static async start(kind, role, server, name) {
    const m = new Member(kind, `${kind}-${role}`);
    m.t0 = performance.now();
    if (KINDS[kind] === "native") {
      const args = ["--url", server.url, role === "host" ? "--host" : "--join", name, "--loopback"];
      if (kind === "native-vanilla") args.push("--vanilla");
      const p = spawnLines(m.label, P2P_NATIVE_CHAT_BIN, args);
      m.child = p.child;
      m.lines = p.lines;
    } else {
      m.page = idlePages.pop() ?? (await newPage());
      m.handle = unique(kind);
      lineSinks.set(m.handle, m.lines);
      m.t0 = performance.now();
      m.page.evaluate(([fn, h, k, u, n]) => window.compat[fn](h, k, u, n), [role, m.handle, kind, server.url, name]).catch(() => {});
    }
    return m;
  }

  async ready(ms = 15000) {
    const { m, t } = await this.lines.wait(/^(?:ready (\S*)|error .*|exit .*)$/, ms);
    if (!m[0].startsWith("ready")) throw new Error(`${this.label} did not start: ${m[0]}\n${this.lines.all.map((e) => e.line).join("\n")}`);
    this.id = m[1];
    this.tReady = t;
    return this.id;
  }

  send(text) {
    if (this.child) this.child.stdin.write(`${text}\n`);
    else return this.page.evaluate(([h, t]) => window.compat.send(h, t), [this.handle, text]);
  }

  /** The C#-shaped client's wire log (still readable after stop). */
  async wire() {
    return (this.page ?? this.lastPage).evaluate((h) => window.compat.wire(h), this.handle);
  }

  async stop() {
    if (this.child) {
      this.child.kill("SIGTERM");
      await Promise.race([this.child.exited, sleep(3000)]);
      this.child.kill("SIGKILL");
    } else if (this.page) {
      await this.page.evaluate((h) => window.compat.stop(h), this.handle).catch(() => {});
      lineSinks.delete(this.handle);
      idlePages.push(this.page);
      this.lastPage = this.page;
      this.page = null;
    }
  }
}

async function newPage() {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.compat && window.CsPeerClient && window.webrtcP2p);
  return page;
}

/** Waits until every member has an open chat channel to every other member; returns when the last opened. */
async function meshOpen(members, ms = 15000) {
  let last = 0;
  for (const a of members) {
    for (const b of members) {
      if (a === b) continue;
      const { t } = await a.lines.wait(new RegExp(`^open ${escape(b.id)}$`), ms);
      last = Math.max(last, t);
    }
  }
  return last;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Forms a group: kinds[0] hosts, the others join one after the other. Checks the formation time of
 * every join, the ids (reported = seen by the others, started event = ready), and a data-channel
 * message from every member to every other. Returns the members (stopped).
 */
async function formGroup(server, kinds) {
  const name = unique(`${kinds.join("+")}@${server.kind}`);
  const members = [];
  const formations = [];
  try {
    const host = await Member.start(kinds[0], "host", server, name);
    members.push(host);
    await host.ready();
    assert.ok(
      host.tReady - host.t0 < FORMATION_BOUND_MS,
      `${host.label} took ${Math.round(host.tReady - host.t0)} ms to host (bound ${FORMATION_BOUND_MS} ms): something waited on a timeout`,
    );
    for (const kind of kinds.slice(1)) {
      const joiner = await Member.start(kind, "join", server, name);
      members.push(joiner);
      await joiner.ready();
      const formed = await meshOpen(members);
      formations.push(Math.round(formed - joiner.t0));
      assert.ok(
        formed - joiner.t0 < FORMATION_BOUND_MS,
        `${joiner.label} took ${Math.round(formed - joiner.t0)} ms to be linked with every member (bound ${FORMATION_BOUND_MS} ms): something waited on a timeout`,
      );
    }
    // Own ids: non-empty, unique, equal to the started event's argument; a page joiner listed the host
    // under the id the host reports; every `open <id>` above already used the reported ids.
    const ids = members.map((m) => m.id);
    for (const m of members) assert.match(m.id, /^\S+$/, `${m.label} reports an id`);
    assert.equal(new Set(ids).size, ids.length, "ids are unique");
    for (const m of members) {
      const { m: started } = await m.lines.wait(/^event started (\S*)$/, 5000);
      assert.equal(started[1], m.id, `${m.label}: the started event carries its own id`);
      const listed = m.lines.find(/^listed (\S+)$/);
      if (listed) assert.equal(listed.m[1], host.id, `${m.label} listed the host under the host's own id`);
    }
    for (const m of members) await m.send(`hi from ${m.label}`);
    for (const a of members) {
      for (const b of members) {
        if (a !== b) await a.lines.wait(new RegExp(`^recv ${escape(b.id)} hi from ${escape(b.label)}$`), 10000);
      }
    }
    return { members, formations, hosting: Math.round(host.tReady - host.t0) };
  } finally {
    for (const m of members) await m.stop();
  }
}

// ---------------------------------------------------------------- setup

before(async () => {
  assert.ok(P2P_SIGNALING_BIN && P2P_NATIVE_CHAT_BIN, "set P2P_SIGNALING_BIN and P2P_NATIVE_CHAT_BIN (compat/run.sh does)");
  // Our web client as one script for the page (window.webrtcP2p).
  const build = mkdtempSync(join(tmpdir(), "p2p-compat-"));
  execFileSync(join(root, "web", "node_modules", ".bin", "esbuild"), [
    join(root, "web", "src", "index.ts"), "--bundle", "--format=iife", "--global-name=webrtcP2p", "--target=es2020",
    `--outfile=${join(build, "web.js")}`, "--log-level=warning",
  ]);
  const files = {
    "/socket.io.js": join(root, "web", "node_modules", "socket.io-client", "dist", "socket.io.min.js"),
    "/web.js": join(build, "web.js"),
    "/csharp-client.js": join(here, "csharp-client.js"),
    "/page-harness.js": join(here, "page-harness.js"),
  };
  const html = `<!doctype html><meta charset="utf-8"><title>compat</title>${Object.keys(files).map((f) => `<script src="${f}"></script>`).join("")}`;
  pageServer = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(html);
    if (files[path]) return res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(files[path]));
    res.writeHead(404).end();
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;

  [servers.ours, servers.extreal] = await Promise.all([startServer("ours"), startServer("extreal")]);
  browser = await launchChromium();
  context = await mediaContext(browser, pageUrl);
  await context.exposeFunction("compatLine", (handle, line) => lineSinks.get(handle)?.push(line));
  for (let i = 0; i < 3; i++) idlePages.push(await newPage());
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill("SIGKILL");
  pageServer?.close();
  if (timings.length) printTimings();
});

// ---------------------------------------------------------------- pairings

const PAIRINGS = [
  ["cs", "cs"],
  ["cs", "native"],
  ["native", "cs"],
  ["cs", "native-vanilla"],
  ["native-vanilla", "cs"],
  ["cs", "web"],
  ["web", "cs"],
  ["native", "web"],
  ["web", "native"],
  ["web", "native-vanilla"],
  ["native", "native"],
  ["web", "web"],
  // three members, mixed: call me from a C# host to a web member about a native newcomer, from our
  // native host to a C# member about a web newcomer, from our web host to a C# member.
  ["cs", "web", "native"],
  ["native", "cs", "web"],
  ["web", "native-vanilla", "cs"],
];

for (const serverKind of ["ours", "extreal"]) {
  describe(`groups on ${serverKind === "ours" ? "our server" : "Extreal's server (Node port)"}`, () => {
    for (const kinds of PAIRINGS) {
      test(`${kinds[0]} hosts, ${kinds.slice(1).join(" then ")} join${kinds.length > 2 ? "" : "s"}`, { timeout: 45000 }, async (t) => {
        const { formations, hosting } = await formGroup(servers[serverKind], kinds);
        t.diagnostic(`hosting ms: ${hosting}; join -> linked with every member, ms: ${formations.join(", ")}`);
      });
    }

    test("the C#-shaped client puts exactly System.Text.Json's Message on the wire, every kind", { timeout: 30000 }, async () => {
      const server = servers[serverKind];
      const name = unique(`wire@${serverKind}`);
      const members = [];
      try {
        for (const role of ["host", "join", "join"]) {
          const m = await Member.start("cs", role, server, name);
          members.push(m);
          await m.ready();
          await meshOpen(members);
        }
        const [host, first, leaver] = members;
        await leaver.stop(); // bye to both others
        for (const m of [host, first]) await m.lines.wait(new RegExp(`^event userDisconnecting ${escape(leaver.id)}$`), 5000);
        const sent = [];
        for (const m of members) sent.push(...(await m.wire()).sent);
        const types = new Set();
        for (const text of sent) {
          const m = JSON.parse(text);
          types.add(m.type);
          assert.deepEqual(Object.keys(m), ["type", "from", "to", "me", "sdp"], text);
          assert.equal(m.from, null, text);
          assert.equal(typeof m.to, "string", text);
          if (m.type === "call me") assert.equal(m.me, leaver.id, text);
          else assert.equal(m.me, null, text);
          if (m.type === "offer" || m.type === "answer") assert.match(m.sdp, /^v=0/);
          else assert.equal(m.sdp, null, text);
        }
        assert.deepEqual([...types].sort(), ["answer", "bye", "call me", "done", "join", "offer"]);
      } finally {
        for (const m of members) await m.stop();
      }
    });
  });
}

// ---------------------------------------------------------------- C#-shaped JSON, every kind

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { forceNew: true, reconnection: false });
    s.errors = [];
    s.inbox = new Lines("socket");
    s.on("message", (m) => s.inbox.push(JSON.stringify(m)));
    s.on("error", (e) => s.errors.push(e));
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** System.Text.Json's rendering of Extreal's Message: every field, null where unset. */
const csJson = (type, to, fields = {}) => ({ type, from: null, to, me: null, sdp: null, ...fields });

async function delivered(receiver, sender, sent) {
  const { line } = await receiver.inbox.wait(new RegExp(`"type":"${sent.type}"`), 3000);
  receiver.inbox.all.length = 0;
  const got = JSON.parse(line);
  assert.equal(got.from, sender.id, `${sent.type}: from is the sender's id`);
  assert.equal(got.to, sent.to);
  for (const key of ["me", "sdp"]) {
    if (sent[key] === null) assert.ok(got[key] === null || got[key] === undefined, `${sent.type}.${key} stays absent/null`);
    else assert.equal(got[key], sent[key], `${sent.type}.${key} is relayed`);
  }
}

for (const serverKind of ["ours", "extreal"]) {
  test(`C#-shaped null JSON of every kind is delivered (${serverKind})`, { timeout: 20000 }, async () => {
    const url = servers[serverKind].url;
    const [host, member, newcomer] = await Promise.all([connect(url), connect(url), connect(url)]);
    try {
      const created = await host.timeout(5000).emitWithAck("create host", unique("null-json"));
      assert.equal(created.status, 200);
      const steps = [
        [member, host, csJson("join", host.id)],
        [host, member, csJson("offer", member.id, { sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n" })],
        [member, host, csJson("answer", host.id, { sdp: "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\n" })],
        [host, member, csJson("done", member.id)],
        [newcomer, host, csJson("join", host.id)],
        [host, member, csJson("call me", member.id, { me: newcomer.id })],
        [member, newcomer, csJson("offer", newcomer.id, { sdp: "v=0\r\no=- 3 1 IN IP4 127.0.0.1\r\n" })],
        [newcomer, member, csJson("answer", member.id, { sdp: "v=0\r\no=- 4 1 IN IP4 127.0.0.1\r\n" })],
        [member, newcomer, csJson("done", newcomer.id)],
        [newcomer, host, csJson("bye", host.id)],
        [newcomer, member, csJson("bye", member.id)],
      ];
      for (const [sender, receiver, msg] of steps) {
        sender.emit("message", msg); // Extreal's clients emit without an ack
        await delivered(receiver, sender, msg);
      }
      for (const s of [host, member, newcomer]) assert.deepEqual(s.errors, [], "no error event");
    } finally {
      for (const s of [host, member, newcomer]) s.disconnect();
    }
  });
}

// ---------------------------------------------------------------- create host errors

for (const serverKind of ["ours", "extreal"]) {
  test(`a taken host name is the host-exists error for every client (${serverKind})`, { timeout: 30000 }, async () => {
    const server = servers[serverKind];
    const name = unique(`dup@${serverKind}`);
    const first = await Member.start("native", "host", server, name);
    const others = [];
    try {
      await first.ready();
      const native = await Member.start("native", "host", server, name);
      others.push(native);
      await native.lines.wait(/^exit 1$/);
      assert.ok(native.lines.find(new RegExp(`^stderr host already exists: .*${escape(name)}`)), native.lines.all.map((e) => e.line).join("\n"));
      for (const kind of ["web", "cs"]) {
        const m = await Member.start(kind, "host", server, name);
        others.push(m);
        const { m: err } = await m.lines.wait(/^error (\S+): (.*)$/);
        assert.equal(err[1], kind === "web" ? "HostNameAlreadyExistsError" : "HostNameAlreadyExistsException");
        assert.equal(err[2], `Host already exists. host: ${name}`);
      }
    } finally {
      for (const m of [first, ...others]) await m.stop();
    }
  });
}

test("our server refuses bad create host with 409, so an Extreal client fails too; our web client tells the reason", { timeout: 30000 }, async () => {
  const server = servers.ours;
  const bad = "bad\u0007name";
  const members = [];
  try {
    const cs = await Member.start("cs", "host", server, bad);
    members.push(cs);
    const { m: csErr } = await cs.lines.wait(/^error (\S+): (.*)$/);
    assert.equal(csErr[1], "HostNameAlreadyExistsException", "Extreal's client fails only on 409: it must not believe it hosts");
    const web = await Member.start("web", "host", server, bad);
    members.push(web);
    const { m: webErr } = await web.lines.wait(/^error (\S+): (.*)$/);
    assert.equal(webErr[1], "CreateHostRejectedError", `an invalid name is not a taken one: ${webErr[0]}`);
    // A second `create host` on a hosting socket: 409 already-in-group.
    const hosting = await connect(server.url);
    try {
      assert.equal((await hosting.timeout(5000).emitWithAck("create host", unique("one"))).status, 200);
      const second = await hosting.timeout(5000).emitWithAck("create host", unique("two"));
      assert.equal(second.status, 409);
      assert.equal(second.reason, "already-in-group");
    } finally {
      hosting.disconnect();
    }
  } finally {
    for (const m of members) await m.stop();
  }
});

test("list hosts is in creation order on both servers", { timeout: 20000 }, async () => {
  for (const serverKind of ["ours", "extreal"]) {
    const url = servers[serverKind].url;
    const names = ["zeta", "alpha", "mid"].map((n) => unique(n));
    const hosts = [];
    try {
      for (const n of names) {
        const s = await connect(url);
        hosts.push(s);
        assert.equal((await s.timeout(5000).emitWithAck("create host", n)).status, 200);
      }
      const lister = await connect(url);
      hosts.push(lister);
      const { hosts: listed } = await lister.timeout(5000).emitWithAck("list hosts");
      const ours = listed.filter((h) => names.includes(h.name));
      assert.deepEqual(ours.map((h) => h.name), names, serverKind);
      assert.deepEqual(ours.map((h) => h.id), hosts.slice(0, 3).map((s) => s.id), `${serverKind}: ids are the hosts' socket ids`);
    } finally {
      for (const s of hosts) s.disconnect();
    }
  }
});

test("the Extreal port answers as Extreal's server does (texts, relay anywhere, global user disconnected)", { timeout: 20000 }, async () => {
  const url = servers.extreal.url;
  const [host, other, bystander] = await Promise.all([connect(url), connect(url), connect(url)]);
  try {
    const name = unique("port");
    assert.deepEqual(await host.timeout(5000).emitWithAck("create host", name), { status: 200, message: `Host have been created. host: ${name}` });
    assert.deepEqual(await other.timeout(5000).emitWithAck("create host", name), { status: 409, message: `Host already exists. host: ${name}` });
    // A socket id is a room too: Extreal refuses it as a host name.
    assert.equal((await other.timeout(5000).emitWithAck("create host", bystander.id)).status, 409);
    // One socket may host several groups; list hosts shows rooms only, never sockets' own rooms.
    const second = unique("port-second");
    assert.equal((await host.timeout(5000).emitWithAck("create host", second)).status, 200);
    const { hosts } = await bystander.timeout(5000).emitWithAck("list hosts");
    assert.deepEqual(hosts.filter((h) => h.id === host.id).map((h) => h.name), [name, second]);
    assert.ok(!hosts.some((h) => h.name === h.id));
    // No group scoping and no validation: anything with a `to` is relayed, `from` overwritten.
    other.emit("message", { type: "anything", to: bystander.id, from: "forged", extra: 1 });
    const { line } = await bystander.inbox.wait(/"anything"/, 3000);
    assert.deepEqual(JSON.parse(line), { type: "anything", to: bystander.id, from: other.id, extra: 1 });
    other.emit("message", { type: "no-to" }); // dropped
    other.emit("message", { type: "sent-after", to: bystander.id });
    await bystander.inbox.wait(/"sent-after"/, 3000);
    assert.ok(!bystander.inbox.find(/"no-to"/));
    // A leaver is announced to every socket, group or not; its groups disappear.
    const gone = new Promise((resolve) => bystander.once("user disconnected", resolve));
    const hostId = host.id;
    host.disconnect();
    assert.deepEqual(await gone, { id: hostId });
    const { hosts: after } = await bystander.timeout(5000).emitWithAck("list hosts");
    assert.ok(!after.some((h) => h.name === name || h.name === second));
  } finally {
    for (const s of [host, other, bystander]) s.disconnect();
  }
});

// ---------------------------------------------------------------- timing

const timings = []; // {kind, server, ms}

/** Joiner start -> first data-channel message from the host arriving at the joiner. */
async function joinToFirstMessage(server, kind) {
  const name = unique(`timing-${kind}@${server.kind}`);
  const host = await Member.start(kind, "host", server, name);
  let joiner;
  try {
    await host.ready();
    joiner = await Member.start(kind, "join", server, name);
    const { m } = await host.lines.wait(/^open (\S+)$/, 20000);
    await host.send("first");
    const { t } = await joiner.lines.wait(new RegExp(`^recv ${escape(host.id)} first$`), 20000);
    await joiner.ready();
    assert.equal(m[1], joiner.id);
    return t - joiner.t0;
  } finally {
    await joiner?.stop();
    await host.stop();
  }
}

test("timing: join -> first data-channel message, our server vs Extreal's", { timeout: 120000 }, async (t) => {
  for (const kind of ["native", "web", "cs"]) {
    for (let i = 0; i < TIMING_REPS; i++) {
      for (const serverKind of ["ours", "extreal"]) {
        timings.push({ kind, server: serverKind, ms: await joinToFirstMessage(servers[serverKind], kind) });
      }
    }
  }
  const table = timingTable();
  for (const line of table) t.diagnostic(line);
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timingTable() {
  const out = ["join -> first data-channel message (ms; median of runs; host and joiner of one kind):", "| client | our server | Extreal's server | Extreal/ours |", "|---|---:|---:|---:|"];
  for (const kind of [...new Set(timings.map((x) => x.kind))]) {
    const of = (s) => timings.filter((x) => x.kind === kind && x.server === s).map((x) => x.ms);
    const [o, e] = [of("ours"), of("extreal")];
    const fmt = (xs) => `${Math.round(median(xs))} (${xs.map(Math.round).join(", ")})`;
    out.push(`| ${kind} | ${fmt(o)} | ${fmt(e)} | ${(median(e) / median(o)).toFixed(2)}x |`);
  }
  return out;
}

function printTimings() {
  console.log(`\n${timingTable().join("\n")}\n`);
}
