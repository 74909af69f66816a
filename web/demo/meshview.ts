// The demo's picture of the group: one node per member, one edge per link, drawn into an <svg> as
// plain elements (so tests and screenshots see exactly what a person sees). Pure drawing: demo.ts
// builds the model from its own link stats and from what other members publish on "mesh".

export type Agent = "web" | "native" | "unknown";

export interface MeshNode {
  id: string;
  agent: Agent;
}

export interface MeshEdge {
  a: string;
  b: string;
  /** RTCPeerConnectionState of the link (or a join phase while it forms, see `phase`). */
  state: string;
  rttMs: number | null;
  /** Candidate types of the selected pair as seen from `a` ("host", "srflx", "prflx", "relay"). */
  localType: string | null;
  remoteType: string | null;
  /** While the link forms: the phase it is in ("signaling", "offer/answer", "ICE", "channel open"). */
  phase: string | null;
}

export interface MeshModel {
  self: string | null;
  host: string | null;
  nodes: MeshNode[];
  edges: MeshEdge[];
}

const SVG = "http://www.w3.org/2000/svg";
const W = 560;
const H = 400;
const R = 138;

/** Colour of an edge by link state: the states a person must tell apart at a glance. */
export function stateColour(state: string): string {
  switch (state) {
    case "connected":
    case "completed":
      return "#2a9d48";
    case "new":
    case "connecting":
    case "checking":
      return "#d99a00";
    case "disconnected":
      return "#e06c00";
    case "failed":
    case "closed":
      return "#d1242f";
    default:
      return "#8c959f";
  }
}

const short = (id: string) => (id.length > 8 ? id.slice(0, 8) : id);


/** The text on an edge: RTT and candidate types, or the phase while the link forms. */
export function edgeLabel(e: MeshEdge): string {
  if (e.phase) return `${e.phase}…`;
  const rtt = e.rttMs === null ? "… ms" : `${e.rttMs < 10 ? e.rttMs.toFixed(1) : Math.round(e.rttMs)} ms`;
  const types = e.localType && e.remoteType ? (e.localType === e.remoteType ? e.localType : `${e.localType}↔${e.remoteType}`) : "no pair";
  return `${rtt} · ${types}`;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Node positions on a circle: the host on top, then the others in id order, clockwise. */
function layout(model: MeshModel): Map<string, { x: number; y: number }> {
  const ids = model.nodes.map((n) => n.id).sort();
  const order = model.host && ids.includes(model.host) ? [model.host, ...ids.filter((id) => id !== model.host)] : ids;
  const at = new Map<string, { x: number; y: number }>();
  order.forEach((id, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(order.length, 1);
    at.set(id, order.length === 1 ? { x: W / 2, y: H / 2 } : { x: W / 2 + R * 1.35 * Math.cos(angle), y: H / 2 + 8 + R * Math.sin(angle) });
  });
  return at;
}

/** Redraws `svg` from `model`. Elements carry data-* attributes naming what they show. */
export function renderMesh(svg: SVGSVGElement, model: MeshModel): void {
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const at = layout(model);
  const edges = el("g", { class: "edges" });
  const labels = el("g", { class: "labels" });
  const placed: { x: number; y: number; w: number }[] = [];
  const mid = (e: MeshEdge) => {
    const p = at.get(e.a);
    const q = at.get(e.b);
    return p && q ? { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } : null;
  };
  const mids = model.edges.map(mid);
  const crossing = mids.map((m, i) => m !== null && mids.some((o, j) => j !== i && o !== null && Math.hypot(o.x - m.x, o.y - m.y) < 24));
  for (const e of model.edges) {
    const p = at.get(e.a);
    const q = at.get(e.b);
    if (!p || !q) continue;
    const g = el("g", { class: "edge", "data-a": e.a, "data-b": e.b, "data-state": e.state, ...(e.phase ? { "data-phase": e.phase } : {}) });
    g.append(el("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, stroke: stateColour(e.state), "stroke-width": 4, "stroke-linecap": "round", ...(e.phase ? { "stroke-dasharray": "8 6" } : {}) }));
    edges.append(g);
  }
  // Labels sit on their edge. Edges that cross at their middles (the diagonals of four members) keep
  // their labels off the crossing, where a label could belong to either, and are placed last; a label
  // that would overlap one already placed slides along its edge.
  const order = model.edges.map((_, i) => i).sort((i, j) => Number(crossing[i]) - Number(crossing[j]));
  for (const i of order) {
    const e = model.edges[i];
    const p = at.get(e.a);
    const q = at.get(e.b);
    if (!p || !q) continue;
    const colour = stateColour(e.state);
    const text = edgeLabel(e);
    const w = text.length * 6.2 + 12;
    let spot = mids[i]!;
    for (const t of crossing[i] ? [0.3, 0.7, 0.38, 0.62, 0.22, 0.78] : [0.5, 0.38, 0.62, 0.3, 0.7]) {
      const c = { x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t };
      spot = c;
      if (!placed.some((o) => Math.abs(o.x - c.x) < (o.w + w) / 2 && Math.abs(o.y - c.y) < 20)) break;
    }
    placed.push({ ...spot, w });
    const lg = el("g", { class: "edge-label", "data-a": e.a, "data-b": e.b });
    lg.append(el("rect", { x: spot.x - w / 2, y: spot.y - 10, width: w, height: 20, rx: 6, fill: "#ffffff", stroke: colour, "stroke-width": 1.5 }));
    lg.append(el("text", { x: spot.x, y: spot.y + 4, "text-anchor": "middle", "font-size": 12, fill: "#1f2328" }, text));
    labels.append(lg);
  }
  const nodes = el("g", { class: "nodes" });
  for (const n of model.nodes) {
    const p = at.get(n.id)!;
    const self = n.id === model.self;
    const host = n.id === model.host;
    const g = el("g", { class: "node", "data-peer": n.id, "data-agent": n.agent, "data-self": String(self), "data-host": String(host) });
    const fill = self ? "#1f6feb" : "#f6f8fa";
    const ink = self ? "#ffffff" : "#1f2328";
    const stroke = host ? "#bf8700" : self ? "#0a3069" : "#57606a";
    if (n.agent === "native") {
      g.append(el("rect", { x: p.x - 42, y: p.y - 28, width: 84, height: 56, rx: 10, fill, stroke, "stroke-width": host ? 4 : 2 }));
    } else {
      g.append(el("circle", { cx: p.x, cy: p.y, r: 38, fill, stroke, "stroke-width": host ? 4 : 2 }));
    }
    g.append(el("text", { x: p.x, y: p.y - 2, "text-anchor": "middle", "font-size": 11, "font-weight": 600, fill: ink }, short(n.id)));
    const role = [self ? "you" : null, n.agent === "native" ? "native" : n.agent === "web" ? "web" : null].filter(Boolean).join(" · ");
    g.append(el("text", { x: p.x, y: p.y + 13, "text-anchor": "middle", "font-size": 10, fill: ink }, role));
    if (host) g.append(el("text", { class: "host-mark", x: p.x, y: p.y - 46, "text-anchor": "middle", "font-size": 12, "font-weight": 700, fill: "#9a6700" }, "★ host"));
    nodes.append(g);
  }
  svg.append(edges, nodes, labels);
}
