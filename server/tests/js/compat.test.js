// The signaling server driven by node's socket.io-client 4.x: the client Extreal's web module uses.
// Needs P2P_SIGNALING_BIN (the built p2p-signaling binary).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

let server;
let url;

before(async () => {
  const bin = process.env.P2P_SIGNALING_BIN;
  assert.ok(bin, "set P2P_SIGNALING_BIN to the p2p-signaling binary");
  server = spawn(bin, ["--bind", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.on("line", (line) => {
      const m = line.match(/^p2p-signaling listening on (\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
});

after(() => server?.kill());

function connect(transports) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports, reconnection: false, forceNew: true });
    socket.on("connect", () => resolve(socket));
    socket.on("connect_error", reject);
  });
}

const next = (socket, event) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} in time`)), 5000);
    socket.once(event, (v) => {
      clearTimeout(t);
      resolve(v);
    });
  });

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
  test(`create, list, join, relay and disconnect over ${transports.join("+")}`, async () => {
    const host = await connect(transports);
    const client = await connect(transports);
    const name = `room ${transports.join("+")}`;

    const created = await host.emitWithAck("create host", name);
    assert.deepEqual(created, { status: 200, message: `Host have been created. host: ${name}` });
    const dup = await client.emitWithAck("create host", name);
    assert.equal(dup.status, 409);

    const listed = await client.emitWithAck("list hosts");
    assert.equal(listed.status, 200);
    assert.ok(listed.hosts.some((h) => h.id === host.id && h.name === name));

    // Extreal clients send `message` without an ack.
    const joined = next(host, "message");
    client.emit("message", { type: "join", to: host.id });
    assert.deepEqual(await joined, { type: "join", to: host.id, from: client.id });

    const offered = next(client, "message");
    host.emit("message", { type: "offer", to: client.id, sdp: "v=0\r\n" });
    assert.deepEqual(await offered, { type: "offer", to: client.id, sdp: "v=0\r\n", from: host.id });

    const clientId = client.id;
    const left = next(host, "user disconnected");
    client.disconnect();
    assert.deepEqual(await left, { id: clientId });
    host.disconnect();
  });
}

test("a message outside the group gets an error event and is not delivered", async () => {
  const a = await connect(["websocket"]);
  const b = await connect(["websocket"]);
  let delivered = false;
  b.on("message", () => (delivered = true));
  const err = next(a, "error");
  a.emit("message", { type: "offer", to: b.id, sdp: "x" });
  const e = await err;
  assert.equal(e.status, 403);
  assert.equal(e.event, "message");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(delivered, false);
  a.disconnect();
  b.disconnect();
});

test("with --jwt-secret, a connect without a valid token is refused with the reason, one with it works", async () => {
  const { createHmac } = await import("node:crypto");
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const jwt = (secret, claims) => {
    const signed = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify(claims))}`;
    return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
  };
  const secured = spawn(process.env.P2P_SIGNALING_BIN, ["--bind", "127.0.0.1:0", "--jwt-secret", "js secret"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const securedUrl = await new Promise((resolve) => {
      createInterface({ input: secured.stdout }).on("line", (l) => l.startsWith("p2p-signaling listening on ") && resolve(l.split(" ").pop()));
    });
    const attempt = (auth) =>
      new Promise((resolve) => {
        const s = io(securedUrl, { transports: ["websocket"], reconnection: false, forceNew: true, auth });
        s.on("connect", () => resolve({ ok: true, s }));
        s.on("connect_error", (e) => resolve({ ok: false, reason: e.message }));
      });
    const exp = Math.floor(Date.now() / 1000) + 60;
    assert.match((await attempt(undefined)).reason, /missing token/);
    assert.match((await attempt({ token: jwt("wrong", { exp }) })).reason, /invalid token signature/);
    assert.match((await attempt({ token: jwt("js secret", { exp: exp - 120 }) })).reason, /token expired/);
    const good = await attempt({ token: jwt("js secret", { exp }) });
    assert.equal(good.ok, true);
    const listed = await good.s.emitWithAck("list hosts");
    assert.equal(listed.status, 200);
    good.s.disconnect();
  } finally {
    secured.kill();
  }
});
