// TURN credentials the signaling server issues (issue 13), used by the browser client: a real coturn
// on loopback checks them (TURN REST scheme, `use-auth-secret`), two pages in relay-only mode can
// only meet through it, so an open channel proves the issued servers were used; both ends' selected
// pairs and coturn's own log say so too.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { openPage, startProcess, startStack } from "./harness.mjs";

const SECRET = "web-turn-test-secret";
let stack;
let coturn;

/** A free UDP port on loopback. */
function freeUdpPort() {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  const port = await freeUdpPort();
  const minRelay = 50000 + (port % 7000) * 2;
  // coturn refuses loopback peers by default; every peer of this test is on loopback.
  coturn = await startProcess(
    "turnserver",
    ["-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--no-tls", "--no-dtls", "--listening-port", String(port),
      "--realm", "p2p.test", "--no-cli", "--verbose", "--use-auth-secret", "--static-auth-secret", SECRET, "--allow-loopback-peers",
      "--min-port", String(minRelay), "--max-port", String(minRelay + 40), "--log-file", "stdout", "--pidfile", `/tmp/p2p-web-turn-${port}.pid`],
    /Total General servers/,
  );
  stack = await startStack({ serverArgs: ["--turn-secret", SECRET, "--turn-urls", `turn:127.0.0.1:${port}?transport=udp`] });
});

after(async () => {
  await stack?.stop();
});

/**
 * A page whose PeerClient is relay-only and opens a `turn` channel to each peer; `target` is the
 * group name for the host, the host's id for a client. Resolves with the page and its id.
 */
async function relayOnlyPeer(role, target) {
  const page = await openPage(stack.context, stack.demoUrl);
  const id = await page.evaluate(
    async ([signalingUrl, role, target]) => {
      const client = new window.webrtcP2p.PeerClient({ signalingUrl, pcConfig: { iceTransportPolicy: "relay" } });
      window.__client = client;
      window.__opened = new Promise((resolve) => {
        client.addPcCreateHook((id, isOffer, pc) => {
          const open = (dc) => dc.addEventListener("open", () => resolve({ id, label: dc.label }));
          if (isOffer) open(pc.createDataChannel("turn"));
          else pc.ondatachannel = (e) => open(e.channel);
        });
      });
      if (role === "host") await client.startHost(target);
      else await client.startClient(target);
      return client.clientId;
    },
    [stack.signalingUrl, role, target],
  );
  return { page, id };
}

test("relay-only pages meet through coturn with the credentials the server issued", async () => {
  const name = `turn-${Date.now()}`;
  const host = await relayOnlyPeer("host", name);
  const client = await relayOnlyPeer("client", host.id);
  for (const p of [host, client]) {
    const opened = await p.page.evaluate(() => Promise.race([window.__opened, new Promise((r) => setTimeout(() => r(null), 15000))]));
    assert.ok(opened, "the channel opened (relay-only: only possible through the issued TURN server)");
    const stats = await p.page.evaluate(() => window.__client.getStats());
    assert.equal(stats.length, 1);
    assert.equal(stats[0].selectedPair.local.type, "relay", JSON.stringify(stats[0].selectedPair));
  }
  // coturn authenticated our issued credentials (`<expiry>:<socket id>`) for both pages.
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const id of [host.id, client.id]) {
    await coturn.waitLine(new RegExp(`:${escape(id)}>.*ALLOCATE processed, success`), 10000);
  }
  for (const p of [host, client]) await p.page.close();
});
