/**
 * Every decision of the mesh as a pure state machine, the twin of the native client's
 * src/mesh/state.rs: fed what happened (a signaling message, a pc event, an app command, a timer),
 * it answers with what to do. No sockets, no RTCPeerConnection, no clock: PeerClient carries the
 * outputs out. Its inputs and outputs are the JSON shapes of the conformance vectors
 * (tests/vectors/README.md at the repository root), which both machines must pass.
 */

import { type IceInit, type Message, Limits, MessageType, message } from "./protocol.js";

export interface MeshConfig {
  trickle: boolean;
  maxPeers: number;
  p2pTimeoutMs: number;
  vanillaIceTimeoutMs: number;
}

export type TimerKind = "giveUp" | "gathering";

/** A timer of one pc instance (`serial` tells a later pc to the same id apart). */
export interface Timer {
  peer: string;
  serial: number;
  kind: TimerKind;
}

export type PcEventName = "connected" | "failed" | "gatheringComplete" | "offerFailed" | "closed";

export type MeshInput =
  | { ownId: string }
  | { app: "host" }
  | { app: "join"; host: string }
  | { app: "stop" }
  | { signal: Message }
  | { userDisconnected: string }
  | { pc: string; event: PcEventName }
  | { pc: string; event: "localCandidate"; ice: IceInit }
  | { timer: Timer };

export type PeerOp =
  | { peer: string; op: "create"; offerer: boolean }
  | { peer: string; op: "createOffer" }
  | { peer: string; op: "createAnswer" }
  | { peer: string; op: "setRemote"; offer: boolean; sdp: string }
  | { peer: string; op: "addCandidate"; ice: IceInit }
  | { peer: string; op: "sendDescription"; offer: boolean; trickle: boolean }
  | { peer: string; op: "send"; message: Message }
  | { peer: string; op: "close" };

export type MeshEventName = "userConnecting" | "userConnected" | "userDisconnecting";

export type MeshOutput =
  | { send: Message }
  | PeerOp
  | { event: MeshEventName; arg: string }
  | { started: string }
  | { arm: TimerKind; peer: string; ms: number; timer: Timer };

interface PeerState {
  serial: number;
  offerer: boolean;
  trickling: boolean;
  described: boolean;
  answered: boolean;
  remoteSet: boolean;
  queued: IceInit[];
  connected: boolean;
  closing: boolean;
}

type Role = { kind: "none" } | { kind: "host" } | { kind: "client"; host: string; done: boolean; connected: boolean; started: boolean };

export class Mesh {
  private ownId = "";
  private role: Role = { kind: "none" };
  private readonly peers = new Map<string, PeerState>();
  private serials = 0;
  private stopped = false;

  constructor(private readonly config: MeshConfig) {}

  /** Handles one input; returns what to do, in order (one peer's ops must run in that order). */
  handle(input: MeshInput): MeshOutput[] {
    const out: MeshOutput[] = [];
    if (this.stopped) {
      if ("pc" in input && input.event === "closed") this.peers.delete(input.pc);
      return out;
    }
    if ("ownId" in input) this.ownId = input.ownId;
    else if ("app" in input) {
      if (input.app === "host") this.role = { kind: "host" };
      else if (input.app === "join") {
        out.push({ send: message(MessageType.join, input.host, {}, this.config.trickle) });
        this.role = { kind: "client", host: input.host, done: false, connected: false, started: false };
      } else {
        this.stopped = true;
        for (const [id, peer] of this.sorted()) {
          if (peer.closing) continue;
          out.push({ peer: id, op: "send", message: message(MessageType.bye, id) });
          this.close(id, out);
        }
      }
    } else if ("signal" in input) this.onSignal(input.signal, out);
    else if ("userDisconnected" in input) this.close(input.userDisconnected, out);
    else if ("pc" in input) this.onPc(input, out);
    else this.onTimer(input.timer, out);
    return out;
  }

  /** Peers in id order: both machines list them alike (the native one keeps a sorted map). */
  private sorted(): [string, PeerState][] {
    return [...this.peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private onSignal(m: Message, out: MeshOutput[]): void {
    const from = m.from;
    if (typeof from !== "string" || from.length === 0 || from === this.ownId) return;
    const trickle = m.trickle === true;
    switch (m.type) {
      case MessageType.join: {
        // Hosts connect newcomers; a second join from a peer we know is a duplicate.
        if (this.role.kind !== "host" || this.peers.has(from) || this.full()) return;
        this.open(from, true, trickle, out);
        // Every other member offers to the newcomer at once, alongside our own offer.
        for (const [id, peer] of this.sorted()) {
          if (id !== from && !peer.closing) out.push({ send: message(MessageType.callMe, id, { me: from }, trickle) });
        }
        return;
      }
      case MessageType.callMe: {
        // Only our host introduces newcomers; anyone else could make us dial made-up ids.
        if (this.role.kind !== "client" || this.role.host !== from) return;
        const me = m.me;
        if (typeof me !== "string" || me.length === 0 || me.length > Limits.maxIdBytes || me === this.ownId) return;
        if (this.peers.has(me) || this.full()) return;
        this.open(me, true, trickle, out);
        return;
      }
      case MessageType.offer: {
        // The host always offers, so it never answers; a member answers each peer once.
        if (this.role.kind !== "client" || this.peers.has(from) || this.full()) return;
        if (typeof m.sdp !== "string" || m.sdp.length > Limits.maxSdpBytes) return;
        const serial = this.open(from, false, trickle, out);
        this.setRemote(from, true, m.sdp, out);
        out.push({ peer: from, op: "createAnswer" });
        this.describeOrGather(from, serial, out);
        return;
      }
      case MessageType.answer: {
        if (typeof m.sdp !== "string" || m.sdp.length > Limits.maxSdpBytes) return;
        const peer = this.peers.get(from);
        // Only an offer we sent is answered, once.
        if (!peer || !peer.offerer || !peer.described || peer.answered || peer.closing) return;
        peer.answered = true;
        this.setRemote(from, false, m.sdp, out);
        out.push({ peer: from, op: "send", message: message(MessageType.done, from) });
        return;
      }
      case MessageType.candidate: {
        const ice = m.ice;
        if (!ice || typeof ice.candidate !== "string" || ice.candidate.length > Limits.maxCandidateBytes) return;
        // Candidates for an unknown peer are dropped; early ones wait for the remote SDP.
        const peer = this.peers.get(from);
        if (!peer || peer.closing) return;
        if (peer.remoteSet) out.push({ peer: from, op: "addCandidate", ice });
        else if (peer.queued.length < Limits.maxQueuedCandidates) peer.queued.push(ice);
        return;
      }
      case MessageType.done:
        if (this.role.kind === "client" && this.role.host === from) this.role.done = true;
        this.checkStarted(out);
        return;
      case MessageType.bye:
        this.close(from, out);
        return;
    }
  }

  private onPc(input: { pc: string; event: PcEventName | "localCandidate"; ice?: IceInit }, out: MeshOutput[]): void {
    const id = input.pc;
    if (input.event === "closed") {
      // The executor is gone; a pc that ended without our close (its creation failed) is reported too.
      const peer = this.peers.get(id);
      if (!peer) return;
      this.peers.delete(id);
      if (!peer.closing) out.push({ event: "userDisconnecting", arg: id });
      return;
    }
    const peer = this.peers.get(id);
    if (!peer || peer.closing) return;
    switch (input.event) {
      case "localCandidate":
        // Executors run in order, so a candidate asked for now follows our description.
        if (peer.trickling && peer.described) out.push({ peer: id, op: "send", message: message(MessageType.candidate, id, { ice: input.ice }) });
        return;
      case "gatheringComplete":
        this.describe(id, out);
        return;
      case "connected":
        if (peer.connected) return;
        peer.connected = true;
        out.push({ event: "userConnected", arg: id });
        if (this.role.kind === "client" && this.role.host === id) this.role.connected = true;
        this.checkStarted(out);
        return;
      case "failed":
      case "offerFailed":
        this.close(id, out);
        return;
    }
  }

  private onTimer(timer: Timer, out: MeshOutput[]): void {
    const peer = this.peers.get(timer.peer);
    if (!peer || peer.serial !== timer.serial || peer.closing) return;
    if (timer.kind === "giveUp") {
      if (!peer.connected) this.close(timer.peer, out);
    } else this.describe(timer.peer, out);
  }

  /** True (and logged) when `maxPeers` connections are held. */
  private full(): boolean {
    if (this.peers.size < this.config.maxPeers) return false;
    console.warn(`webrtc_p2p: peer limit (${this.config.maxPeers}) reached; not connecting`);
    return true;
  }

  /** Starts a pc: an offerer trickles iff both sides can (rule 3); an answerer as its offer says (rule 4). */
  private open(id: string, offerer: boolean, remoteTrickles: boolean, out: MeshOutput[]): number {
    const serial = ++this.serials;
    this.peers.set(id, {
      serial,
      offerer,
      trickling: this.config.trickle && remoteTrickles,
      described: false,
      answered: false,
      remoteSet: false,
      queued: [],
      connected: false,
      closing: false,
    });
    out.push({ event: "userConnecting", arg: id });
    out.push({ peer: id, op: "create", offerer });
    out.push(this.arm({ peer: id, serial, kind: "giveUp" }, this.config.p2pTimeoutMs));
    if (offerer) {
      out.push({ peer: id, op: "createOffer" });
      this.describeOrGather(id, serial, out);
    }
    return serial;
  }

  private arm(timer: Timer, ms: number): MeshOutput {
    return { arm: timer.kind, peer: timer.peer, ms, timer };
  }

  private describeOrGather(id: string, serial: number, out: MeshOutput[]): void {
    if (this.peers.get(id)?.trickling) this.describe(id, out);
    else out.push(this.arm({ peer: id, serial, kind: "gathering" }, this.config.vanillaIceTimeoutMs));
  }

  /** Sends our description once. */
  private describe(id: string, out: MeshOutput[]): void {
    const peer = this.peers.get(id);
    if (!peer || peer.described || peer.closing) return;
    peer.described = true;
    out.push({ peer: id, op: "sendDescription", offer: peer.offerer, trickle: this.config.trickle });
  }

  /** Applies a remote description, then the candidates that waited for it (rule 5). */
  private setRemote(id: string, offer: boolean, sdp: string, out: MeshOutput[]): void {
    const peer = this.peers.get(id)!;
    peer.remoteSet = true;
    out.push({ peer: id, op: "setRemote", offer, sdp });
    for (const ice of peer.queued) out.push({ peer: id, op: "addCandidate", ice });
    peer.queued = [];
  }

  /** The one way out of a peer; the entry stays until its executor reports `closed`. */
  private close(id: string, out: MeshOutput[]): void {
    const peer = this.peers.get(id);
    if (!peer || peer.closing) return;
    peer.closing = true;
    out.push({ event: "userDisconnecting", arg: id });
    out.push({ peer: id, op: "close" });
  }

  private checkStarted(out: MeshOutput[]): void {
    const role = this.role;
    if (role.kind !== "client" || !role.done || !role.connected || role.started) return;
    role.started = true;
    out.push({ started: this.ownId });
  }
}
