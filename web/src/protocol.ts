/**
 * The signaling vocabulary of docs/protocol.md (message shapes, parsing, create-host replies) as pure
 * functions, unit-tested without sockets; the mesh's decisions are in mesh.ts.
 */

import { Limits, MessageType, Reason } from "./protocol.g.js";

export { Limits, MessageType, Reason, SocketEvent } from "./protocol.g.js";

export interface IceInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** The body of a `message` event; `from` is set by the server. */
export interface Message {
  type: string;
  to?: string;
  from?: string;
  me?: string;
  sdp?: string;
  ice?: IceInit;
  trickle?: boolean;
}

export interface Host {
  id: string;
  name: string;
}

export interface Ack {
  status: number;
  message?: string;
  /** Why a request was refused (ours; Extreal's server sends none): see {@link createHostOutcome}. */
  reason?: string;
  hosts?: Host[];
  id?: string;
}

/**
 * What a `create host` reply means. Extreal clients treat only 409 as a failure (409 = the name is
 * taken), so the server refuses every bad `create host` with 409 and says why in `reason`: absent
 * (Extreal's server) or "name-taken" is a taken name; any other reason ("invalid-name",
 * "already-in-group", "rate-limited", "too-large", ...) is a refusal for that reason. Any other non-200
 * status is a refusal too.
 */
export type CreateHostOutcome =
  | { kind: "created" }
  | { kind: "name-taken"; message: string }
  | { kind: "rejected"; status: number; reason?: string; message: string };

export function createHostOutcome(ack: Ack, name: string): CreateHostOutcome {
  const reason = typeof ack.reason === "string" ? ack.reason : undefined;
  const text = typeof ack.message === "string" && ack.message.length > 0 ? ack.message : undefined;
  if (ack.status === 200) return { kind: "created" };
  if (ack.status === 409 && (reason === undefined || reason === Reason.nameTaken)) {
    return { kind: "name-taken", message: text ?? `Host already exists. host: ${name}` };
  }
  return { kind: "rejected", status: ack.status, reason, message: text ?? `create host refused (${ack.status}${reason ? ` ${reason}` : ""})` };
}

/** Drops the top-level fields whose value is null: a null optional field means absent (Extreal's C# client sends them). */
export function withoutNulls<T extends object>(body: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v !== null && v !== undefined) out[k] = v;
  return out as T;
}

/** A message of `type` to `to`, with the trickle flag only when true (so a vanilla peer sends what Extreal sends). */
export function message(type: string, to: string, fields: Partial<Message> = {}, trickle = false): Message {
  const m: Message = { type, to, ...fields };
  if (trickle) m.trickle = true;
  return m;
}

/**
 * Validates an incoming `message` body: a known type, a sender, and the fields that type needs.
 * Returns a copy without its null fields (`me: null`, `sdp: null`, `trickle: null`, `ice: null` are absent).
 */
export function parseMessage(body: unknown): Message | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const m = withoutNulls(body as Record<string, unknown>);
  if (typeof m.type !== "string" || typeof m.from !== "string" || m.from.length === 0) return null;
  switch (m.type) {
    case MessageType.offer:
    case MessageType.answer:
      if (typeof m.sdp !== "string" || m.sdp.length > Limits.maxSdpBytes) return null;
      break;
    case MessageType.callMe:
      if (typeof m.me !== "string" || m.me.length === 0 || m.me.length > Limits.maxIdBytes) return null;
      break;
    case MessageType.candidate: {
      const ice = m.ice as Record<string, unknown> | undefined;
      if (typeof ice !== "object" || ice === null || typeof ice.candidate !== "string") return null;
      if (ice.candidate.length > Limits.maxCandidateBytes) return null;
      break;
    }
    case MessageType.join:
    case MessageType.done:
    case MessageType.bye:
      break;
    default:
      return null;
  }
  return m as unknown as Message;
}

/** One TURN server of an `ice servers` event (the browser's `RTCIceServer` shape). */
export interface IssuedIceServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * Validates an `ice servers` body (`{ iceServers: [{ urls, username, credential }], ttl }`, sent by
 * our server when it issues TURN credentials; docs/protocol.md). Returns the servers, or null when
 * the body has another shape (then the previous servers stay in use).
 */
export function parseIceServers(body: unknown): IssuedIceServer[] | null {
  if (typeof body !== "object" || body === null) return null;
  const list = (body as { iceServers?: unknown }).iceServers;
  if (!Array.isArray(list)) return null;
  const servers: IssuedIceServer[] = [];
  for (const s of list) {
    if (typeof s !== "object" || s === null) return null;
    const { urls, username, credential } = s as Record<string, unknown>;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === "string")) return null;
    if (typeof username !== "string" || typeof credential !== "string") return null;
    servers.push({ urls: urls as string[], username, credential });
  }
  return servers;
}
