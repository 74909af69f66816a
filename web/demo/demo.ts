// The demo page: create or join a group, see the peers and their link state, chat over the "chat"
// data channel (made by the offerer in the pc-create hook, as the native chat example does, so
// browser tabs and native peers share one group).
import { PeerAdapter, PeerClient } from "../src/index.js";

// For experiments from the console, and for the bridge test (which plays Unity's part).
(window as unknown as { webrtcP2p: object }).webrtcP2p = { PeerClient, PeerAdapter };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (line: string) => {
  $("log").textContent += line + "\n";
};

async function main() {
  const { signalingUrl } = await (await fetch("/config.json")).json();
  $("signaling").textContent = signalingUrl;
  const client = new PeerClient({ signalingUrl });
  const channels = new Map<string, RTCDataChannel>();
  const links = new Map<string, string>();

  const renderPeers = () => {
    $("peers").innerHTML = "";
    for (const [id, state] of links) {
      const li = document.createElement("li");
      li.textContent = `${id}: ${state}`;
      li.dataset.peer = id;
      $("peers").append(li);
    }
  };
  const watch = (id: string, dc: RTCDataChannel) => {
    if (dc.label !== "chat") return;
    dc.onopen = () => {
      channels.set(id, dc);
      log(`open ${id}`);
    };
    dc.onclose = () => channels.delete(id);
    dc.onmessage = (e) => log(`recv ${id} ${typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data)}`);
  };
  client.addPcCreateHook((id, isOffer, pc) => {
    if (isOffer) watch(id, pc.createDataChannel("chat"));
    else pc.ondatachannel = (e) => watch(id, e.channel);
    pc.addEventListener("iceconnectionstatechange", () => {
      links.set(id, pc.iceConnectionState);
      renderPeers();
    });
  });
  client.addPcCloseHook((id) => {
    links.delete(id);
    channels.delete(id);
    renderPeers();
  });
  for (const name of ["started", "startFailed", "connectFailed", "disconnected", "userConnecting", "userConnected", "userDisconnecting"] as const) {
    client.on(name, (arg) => {
      log(`event ${name} ${arg}`);
      if (name === "started") {
        $("me").textContent = client.clientId ?? "—";
        $("state").textContent = `${client.role} of ${client.hostId}`;
      }
    });
  }

  const run = (what: () => Promise<unknown>) => what().catch((e) => log(`error ${e.message}`));
  $("host").onclick = () => run(() => client.startHost($<HTMLInputElement>("name").value));
  $("stop").onclick = () => {
    client.stop();
    $("state").textContent = "idle";
  };
  $("refresh").onclick = () =>
    run(async () => {
      const hosts = await client.listHosts();
      $("hosts").innerHTML = "";
      for (const h of hosts) {
        const b = document.createElement("button");
        b.textContent = `Join ${h.name}`;
        b.className = "join";
        b.dataset.name = h.name;
        b.onclick = () => run(() => client.startClient(h.id));
        const li = document.createElement("li");
        li.append(b);
        $("hosts").append(li);
      }
    });
  $("send").onclick = () => {
    const text = $<HTMLInputElement>("message").value;
    for (const dc of channels.values()) dc.send(text);
    log(`sent ${text}`);
  };
  (window as unknown as { peerClient: PeerClient }).peerClient = client;
}

void main();
