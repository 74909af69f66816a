// The demo page: create or join a group, watch it form as a live graph (meshview.ts), chat over the
// "chat" data channel (made by the offerer in the pc-create hook, as the native chat example does, so
// browser tabs and native peers share one group).
//
// Voice: every member hears every voice (the Voice helper plays them); "Talk" sends this page's
// microphone to everyone, then mutes and unmutes; the links table shows each peer's speaking level.
//
// The graph: this page knows its own links (client.getStats(), once a second and on every state
// change). The links between other members come from them: every member publishes its own link stats
// once a second on a second channel, "mesh" (the native chat example does too), so each page can
// draw every edge of the full mesh, with the native peers in it.
import { PeerAdapter, PeerClient, Voice, type PeerStats } from "../src/index.js";
import { type Agent, type MeshEdge, type MeshModel, renderMesh } from "./meshview.js";

// For experiments from the console, and for the bridge test (which plays Unity's part).
(window as unknown as { webrtcP2p: object }).webrtcP2p = { PeerClient, PeerAdapter, Voice };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (line: string) => {
  const box = $("log");
  box.textContent += line + "\n";
  box.scrollTop = box.scrollHeight;
};

/** The phases a link goes through while it forms, in order (docs/protocol.md's join sequence). */
const PHASES = ["signaling", "offer/answer", "ICE", "channel open"] as const;
const MESH_LABEL = "mesh";
/** Reports older than this are dropped (their sender left or stopped publishing). */
const REPORT_TTL_MS = 4000;

interface Report {
  agent: Agent;
  links: PeerStats[];
  at: number;
}

async function main() {
  const { signalingUrl } = await (await fetch("/config.json")).json();
  $("signaling").textContent = signalingUrl;
  const client = new PeerClient({ signalingUrl });
  const voice = new Voice(client);
  const pcs = new Map<string, RTCPeerConnection>();
  const chat = new Map<string, RTCDataChannel>();
  const mesh = new Map<string, RTCDataChannel>();
  const reports = new Map<string, Report>();
  let own = new Map<string, PeerStats>();
  let joining = false;

  /** 0..3: the phase a link is in (PHASES); 4 once its chat channel is open. */
  const phaseOf = (id: string): number => {
    const pc = pcs.get(id);
    if (!pc) return 0;
    if (!pc.localDescription && !pc.remoteDescription) return 0;
    if (!pc.localDescription || !pc.remoteDescription || pc.signalingState !== "stable") return 1;
    if (pc.iceConnectionState !== "connected" && pc.iceConnectionState !== "completed") return 2;
    return chat.get(id)?.readyState === "open" ? 4 : 3;
  };

  const model = (): MeshModel => {
    const me = client.clientId;
    const now = Date.now();
    for (const [from, r] of reports) if (now - r.at > REPORT_TTL_MS || !pcs.has(from)) reports.delete(from);
    const agents = new Map<string, Agent>();
    const edges = new Map<string, MeshEdge>();
    const key = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);
    if (me) agents.set(me, "web");
    for (const [id, pc] of pcs) {
      agents.set(id, reports.get(id)?.agent ?? "unknown");
      if (!me) continue;
      const s = own.get(id);
      const phase = phaseOf(id);
      edges.set(key(me, id), {
        a: me,
        b: id,
        state: pc.connectionState,
        rttMs: s?.rttMs ?? null,
        localType: s?.selectedPair?.local.type ?? null,
        remoteType: s?.selectedPair?.remote.type ?? null,
        phase: phase < 4 ? PHASES[phase] : null,
      });
    }
    for (const [from, r] of reports) {
      for (const l of r.links) {
        if (l.peerId === me || edges.has(key(from, l.peerId))) continue;
        if (!agents.has(l.peerId)) agents.set(l.peerId, reports.get(l.peerId)?.agent ?? "unknown");
        edges.set(key(from, l.peerId), {
          a: from,
          b: l.peerId,
          state: l.connectionState,
          rttMs: l.rttMs,
          localType: l.selectedPair?.local.type ?? null,
          remoteType: l.selectedPair?.remote.type ?? null,
          phase: null,
        });
      }
    }
    return { self: me, host: client.hostId, nodes: [...agents].map(([id, agent]) => ({ id, agent })), edges: [...edges.values()] };
  };

  const renderPhases = () => {
    // The join progress: the least advanced of our links (the host's first), or "signaling" while
    // the join is out and no offer has arrived yet.
    const ids = [...pcs.keys()];
    const done = client.isRunning && !joining && ids.every((id) => phaseOf(id) === 4);
    const current = done ? PHASES.length : ids.length === 0 ? (joining ? 0 : -1) : Math.min(...ids.map(phaseOf));
    $("phases").querySelectorAll("li").forEach((li, i) => {
      li.className = current < 0 ? "todo" : i < current ? "done" : i === current ? "current" : "todo";
    });
  };

  const renderLinks = () => {
    const rows = [...pcs.keys()].sort().map((id) => {
      const s = own.get(id);
      const phase = phaseOf(id);
      const pair = s?.selectedPair ? `${s.selectedPair.local.type}/${s.selectedPair.local.protocol} → ${s.selectedPair.remote.type}` : "—";
      const dc = s?.dataChannels.find((d) => d.label === "chat");
      const tr = document.createElement("tr");
      tr.dataset.peer = id;
      for (const cell of [
        id,
        phase < 4 ? PHASES[phase] + "…" : (pcs.get(id)?.connectionState ?? ""),
        pair,
        s?.rttMs == null ? "—" : `${s.rttMs.toFixed(1)} ms`,
        dc ? `${dc.messagesSent} / ${dc.messagesReceived}` : "—",
        "",
      ]) {
        const td = document.createElement("td");
        td.textContent = cell;
        tr.append(td);
      }
      tr.lastElementChild!.className = "meter";
      return tr;
    });
    $("links").replaceChildren(...rows);
    renderLevels();
  };

  /** Speaking levels (0..100, as the native client's), ten times a second: a bar and `data-level`. */
  const bar = (level: number) => "▮".repeat(Math.round(level / 10));
  const renderLevels = () => {
    $("links").querySelectorAll<HTMLTableRowElement>("tr").forEach((tr) => {
      const id = tr.dataset.peer!;
      const cell = tr.lastElementChild as HTMLElement;
      const level = voice.level(id);
      cell.dataset.level = String(level);
      cell.textContent = voice.remoteStream(id) ? bar(level) || "·" : "—";
    });
    $("you-speak").textContent = bar(voice.localLevel());
  };
  setInterval(renderLevels, 100);

  const render = () => {
    renderMesh($<HTMLElement>("mesh") as unknown as SVGSVGElement, model());
    renderPhases();
    renderLinks();
  };

  const refresh = async () => {
    own = new Map((await client.getStats()).map((s) => [s.peerId, s]));
    render();
  };

  const publish = () => {
    const me = client.clientId;
    if (!me) return;
    const text = JSON.stringify({ from: me, agent: "web", links: [...own.values()] });
    for (const dc of mesh.values()) if (dc.readyState === "open") dc.send(text);
  };

  const watch = (id: string, dc: RTCDataChannel) => {
    if (dc.label === MESH_LABEL) {
      dc.onopen = () => mesh.set(id, dc);
      dc.onclose = () => mesh.delete(id);
      dc.onmessage = (e) => {
        try {
          const r = JSON.parse(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data));
          if (r && Array.isArray(r.links)) reports.set(id, { agent: r.agent === "web" ? "web" : "native", links: r.links, at: Date.now() });
        } catch {
          // Not a report; ignore.
        }
      };
      return;
    }
    if (dc.label !== "chat") return;
    dc.onopen = () => {
      chat.set(id, dc);
      log(`open ${id}`);
      void refresh();
    };
    dc.onclose = () => chat.delete(id);
    dc.onmessage = (e) => log(`recv ${id} ${typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data)}`);
  };
  client.addPcCreateHook((id, isOffer, pc) => {
    pcs.set(id, pc);
    if (isOffer) {
      watch(id, pc.createDataChannel("chat"));
      watch(id, pc.createDataChannel(MESH_LABEL));
    } else {
      pc.ondatachannel = (e) => watch(id, e.channel);
    }
    for (const event of ["signalingstatechange", "iceconnectionstatechange", "connectionstatechange"]) {
      pc.addEventListener(event, () => void refresh());
    }
    render();
  });
  client.addPcCloseHook((id) => {
    pcs.delete(id);
    chat.delete(id);
    mesh.delete(id);
    reports.delete(id);
    own.delete(id);
    render();
  });
  for (const name of ["started", "startFailed", "connectFailed", "disconnected", "userConnecting", "userConnected", "userDisconnecting"] as const) {
    client.on(name, (arg) => {
      log(`event ${name} ${arg}`);
      if (name === "started") {
        joining = false;
        $("me").textContent = client.clientId ?? "—";
        $("state").textContent = `${client.role} of ${client.hostId}`;
      }
      if (name === "startFailed") joining = false;
      render();
    });
  }

  // Every button is a user gesture: let voices play from the first one on (autoplay policy).
  const run = (what: () => Promise<unknown>) => {
    void voice.resume();
    return what().catch((e) => log(`error ${e.message}`));
  };
  let microphone: MediaStream | null = null;
  $("mic").onclick = () =>
    run(async () => {
      if (!microphone) {
        microphone = await navigator.mediaDevices.getUserMedia({ audio: true });
        await voice.setMicrophone(microphone);
      } else {
        voice.muted = !voice.muted;
      }
      $("mic").textContent = voice.muted ? "Unmute" : "Mute";
      log(`voice ${voice.muted ? "muted" : "on"}`);
    });
  $("host").onclick = () => run(() => client.startHost($<HTMLInputElement>("name").value));
  $("stop").onclick = () => {
    client.stop();
    joining = false;
    reports.clear();
    $("state").textContent = "idle";
    render();
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
        b.onclick = () => {
          joining = true;
          render();
          void run(() => client.startClient(h.id));
        };
        const li = document.createElement("li");
        li.append(b);
        $("hosts").append(li);
      }
    });
  $("send").onclick = () => {
    const text = $<HTMLInputElement>("message").value;
    for (const dc of chat.values()) dc.send(text);
    log(`sent ${text}`);
  };
  setInterval(() => {
    void refresh().then(publish);
  }, 1000);
  render();
  Object.assign(window, { peerClient: client, voice });
}

void main();
