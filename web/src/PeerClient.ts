import { io, type Socket, type ManagerOptions, type SocketOptions } from "socket.io-client";
import {
  type Ack,
  type Host,
  type IceInit,
  type Message,
  CandidateQueue,
  Limits,
  MessageType,
  answererTrickles,
  callMe,
  createHostOutcome,
  message,
  offererTrickles,
  parseMessage,
} from "./protocol.js";
import { type PeerStats, collectStats } from "./stats.js";

export type PeerRole = "None" | "Host" | "Client";

export interface PeerConfig {
  signalingUrl: string;
  /** Passed to socket.io-client; reconnection is off unless set. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** ICE servers and other RTCPeerConnection options. */
  pcConfig?: RTCConfiguration;
  /** StartClient gives up after this. Default 15 s. */
  p2pTimeoutMs?: number;
  /** A vanilla-ICE side waits this long at most for gathering. Default 5 s. */
  vanillaIceTimeoutMs?: number;
  /** Trickle ICE with capable peers. Default true; false behaves like an Extreal client. */
  trickleIce?: boolean;
  /** Most peer connections at once; a remote asking for more (forged `call me`, a join flood) is refused. Default 63. */
  maxPeers?: number;
  /** The Socket.IO handshake auth payload, e.g. `{ token: "<jwt>" }` for a server started with `--jwt-secret`. */
  auth?: Record<string, unknown>;
}

/** The events of the native client, by name; each carries one string (own id, a reason or a peer id). */
export interface PeerEvents {
  started: string;
  startFailed: string;
  connectFailed: string;
  disconnected: string;
  userConnecting: string;
  userConnected: string;
  userDisconnecting: string;
}
export type PeerEventName = keyof PeerEvents;

export type PcCreateHook = (id: string, isOffer: boolean, pc: RTCPeerConnection) => void | Promise<void>;
export type PcCloseHook = (id: string) => void;

export class HostNameAlreadyExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostNameAlreadyExistsError";
  }
}

/** The server refused `create host` for another reason than a taken name (`reason` as the server sent it). */
export class CreateHostRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "CreateHostRejectedError";
  }
}

interface Peer {
  id: string;
  pc: RTCPeerConnection;
  trickling: boolean;
  /** Local candidates wait until the offer/answer is sent. */
  localSent: boolean;
  localQueue: IceInit[];
  remote: CandidateQueue;
  connected: boolean;
  closed: boolean;
}

/**
 * A member of a full-mesh WebRTC group in the browser: the same protocol and behaviour as the
 * native client (docs/protocol.md). Everything is event-driven: no polling loops.
 */
export class PeerClient {
  private readonly config: Required<Omit<PeerConfig, "socketOptions" | "pcConfig" | "auth">> & Pick<PeerConfig, "socketOptions" | "pcConfig" | "auth">;
  private socket: Socket | null = null;
  private readonly peers = new Map<string, Peer>();
  private readonly createHooks: PcCreateHook[] = [];
  private readonly closeHooks: PcCloseHook[] = [];
  private readonly listeners = new Map<PeerEventName, Set<(arg: string) => void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private stopping = false;
  private hostDone = false;
  private startWaiter: { resolve: () => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> } | null = null;

  role: PeerRole = "None";
  hostId: string | null = null;

  constructor(config: PeerConfig) {
    if (!config || typeof config.signalingUrl !== "string" || config.signalingUrl.length === 0) {
      throw new TypeError("PeerConfig.signalingUrl is required");
    }
    this.config = {
      p2pTimeoutMs: 15000,
      vanillaIceTimeoutMs: 5000,
      trickleIce: true,
      maxPeers: Limits.defaultMaxPeers,
      ...config,
    };
  }

  get clientId(): string | null {
    return this.socket?.id ?? null;
  }

  get isRunning(): boolean {
    return this.role !== "None";
  }

  /** A summary of every link, sorted by peer id: the native client's shape (see stats.ts). */
  getStats(): Promise<PeerStats[]> {
    return collectStats([...this.peers].map(([id, peer]) => [id, peer.pc] as [string, RTCPeerConnection]));
  }

  on<K extends PeerEventName>(event: K, handler: (arg: string) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  addPcCreateHook(hook: PcCreateHook): void {
    this.createHooks.push(hook);
  }

  addPcCloseHook(hook: PcCloseHook): void {
    this.closeHooks.push(hook);
  }

  async startHost(name: string): Promise<void> {
    if (typeof name !== "string" || name.trim().length === 0) throw new TypeError("a host name is required");
    if (this.isRunning) throw new Error("already started");
    const outcome = createHostOutcome(await this.request("create host", name), name);
    if (outcome.kind === "name-taken") throw new HostNameAlreadyExistsError(outcome.message);
    if (outcome.kind === "rejected") throw new CreateHostRejectedError(outcome.message, outcome.status, outcome.reason);
    this.role = "Host";
    this.hostId = this.clientId;
    this.emit("started", this.clientId ?? "");
  }

  async listHosts(): Promise<Host[]> {
    const ack = await this.request("list hosts");
    if (ack.status !== 200 || !Array.isArray(ack.hosts)) throw new Error(`list hosts failed: ${ack.status} ${ack.message ?? ""}`);
    return ack.hosts;
  }

  /** Joins the group of `hostId`; resolves on Started, rejects (and raises startFailed) after the P2P timeout. */
  async startClient(hostId: string): Promise<void> {
    if (typeof hostId !== "string" || hostId.length === 0) throw new TypeError("a host id is required");
    if (this.isRunning) throw new Error("already started");
    const socket = await this.connect();
    this.role = "Client";
    this.hostId = hostId;
    this.hostDone = false;
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.startWaiter = null;
        const reason = `not connected to host ${hostId} within ${this.config.p2pTimeoutMs} ms`;
        this.emit("startFailed", reason);
        this.stop();
        reject(new Error(reason));
      }, this.config.p2pTimeoutMs);
      this.startWaiter = { resolve, reject, timer };
    });
    socket.emit("message", message(MessageType.join, hostId, {}, this.config.trickleIce));
    return started;
  }

  /** Leaves: bye to every peer, every pc closed (close hooks run), signaling disconnected. */
  stop(): void {
    this.stopping = true;
    for (const id of [...this.peers.keys()]) {
      this.send(message(MessageType.bye, id));
      this.closePeer(id);
    }
    if (this.startWaiter) {
      clearTimeout(this.startWaiter.timer);
      this.startWaiter.reject(new Error("stopped"));
      this.startWaiter = null;
    }
    this.socket?.disconnect();
    this.socket = null;
    this.role = "None";
    this.hostId = null;
    this.stopping = false;
  }

  // ---------------------------------------------------------------- signaling

  private connect(): Promise<Socket> {
    if (this.socket?.connected) return Promise.resolve(this.socket);
    const auth = this.config.auth ? { auth: this.config.auth } : {};
    const socket = io(this.config.signalingUrl, { reconnection: false, timeout: 5000, ...auth, ...this.config.socketOptions });
    this.socket = socket;
    socket.on("message", (body: unknown) => {
      const m = parseMessage(body);
      if (!m) return;
      // One ordered chain per remote peer (as the native client has one task per peer): a vanilla
      // wait for one peer never delays another, and one peer's messages are handled in order.
      const key = m.type === MessageType.callMe ? m.me! : m.from!;
      const next = (this.chains.get(key) ?? Promise.resolve())
        .then(() => this.handle(m))
        .catch((e) => console.warn("webrtc_p2p: message handling failed", e));
      this.chains.set(key, next);
      void next.then(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    });
    socket.on("user disconnected", (body: { id?: unknown }) => {
      if (body && typeof body.id === "string") this.closePeer(body.id);
    });
    socket.on("disconnect", (reason: string) => {
      // Our own stop() disconnects too; only a drop is an event. P2P links stay up.
      if (!this.stopping && this.socket === socket && reason !== "io client disconnect") this.emit("disconnected", reason);
    });
    return new Promise((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", (e: Error) => {
        socket.disconnect();
        if (this.socket === socket) this.socket = null;
        this.emit("connectFailed", e.message);
        reject(new Error(`cannot reach the signaling server: ${e.message}`));
      });
    });
  }

  private async request(event: string, ...args: unknown[]): Promise<Ack> {
    const socket = await this.connect();
    const ack = (await socket.timeout(10000).emitWithAck(event, ...args)) as Ack;
    if (typeof ack !== "object" || ack === null || typeof ack.status !== "number") throw new Error(`bad ${event} reply`);
    return ack;
  }

  private send(m: Message): void {
    this.socket?.emit("message", m);
  }

  private async handle(m: Message): Promise<void> {
    const from = m.from!;
    switch (m.type) {
      case MessageType.join:
        if (this.role !== "Host" || this.peers.has(from) || this.full(from)) return;
        // As Extreal's host and our native one: every existing member is asked to call the newcomer
        // right away, so those offers run alongside the host's own (not after its answer).
        for (const member of this.peers.keys()) if (member !== from) this.send(callMe(member, m));
        await this.offer(from, m.trickle === true);
        break;
      case MessageType.callMe:
        // Only our host introduces newcomers; anyone else could make us dial made-up ids.
        if (this.role !== "Client" || from !== this.hostId) return;
        if (m.me === this.clientId || this.peers.has(m.me!) || this.full(m.me!)) return;
        await this.offer(m.me!, m.trickle === true);
        break;
      case MessageType.offer:
        // The host always offers, so it never answers.
        if (this.role !== "Client" || (!this.peers.has(from) && this.full(from))) return;
        await this.answer(m);
        break;
      case MessageType.answer: {
        const peer = this.peers.get(from);
        if (!peer) return;
        await peer.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        this.flushRemote(peer);
        this.send(message(MessageType.done, from));
        break;
      }
      case MessageType.done:
        if (from === this.hostId) {
          this.hostDone = true;
          this.checkStarted();
        }
        break;
      case MessageType.candidate: {
        const peer = this.peers.get(from);
        const ice = peer?.remote.push(m.ice!);
        if (peer && ice) await peer.pc.addIceCandidate(ice).catch(() => {});
        break;
      }
      case MessageType.bye:
        this.closePeer(from);
        break;
    }
  }

  // ---------------------------------------------------------------- peers

  /** True (and logged) when `maxPeers` connections are open: no connection to `id`. */
  private full(id: string): boolean {
    if (this.peers.size < this.config.maxPeers) return false;
    console.warn(`webrtc_p2p: peer limit (${this.config.maxPeers}) reached; not connecting to ${id}`);
    return true;
  }

  private async offer(id: string, remoteTrickle: boolean): Promise<void> {
    const peer = await this.createPeer(id, true, offererTrickles(this.config.trickleIce, remoteTrickle));
    receiveAudio(peer.pc);
    await peer.pc.setLocalDescription(await peer.pc.createOffer());
    await this.sendLocalDescription(peer, MessageType.offer);
  }

  private async answer(offer: Message): Promise<void> {
    const id = offer.from!;
    const peer = this.peers.get(id) ?? (await this.createPeer(id, false, answererTrickles(this.config.trickleIce, offer)));
    await peer.pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    this.flushRemote(peer);
    await peer.pc.setLocalDescription(await peer.pc.createAnswer());
    await this.sendLocalDescription(peer, MessageType.answer);
  }

  /**
   * Sends the offer or answer just set: at once when trickling (candidates follow), after gathering
   * (or the vanilla timeout) otherwise; then the candidates that waited for it.
   */
  private async sendLocalDescription(peer: Peer, type: typeof MessageType.offer | typeof MessageType.answer): Promise<void> {
    if (!peer.trickling) await this.gathered(peer.pc);
    if (peer.closed) return;
    this.send(message(type, peer.id, { sdp: peer.pc.localDescription!.sdp }, this.config.trickleIce));
    this.flushLocal(peer);
  }

  private async createPeer(id: string, isOffer: boolean, trickling: boolean): Promise<Peer> {
    this.closePeer(id);
    const pc = new RTCPeerConnection(this.config.pcConfig);
    const peer: Peer = { id, pc, trickling, localSent: false, localQueue: [], remote: new CandidateQueue(), connected: false, closed: false };
    this.peers.set(id, peer);
    pc.onicecandidate = (e) => {
      if (!peer.trickling || !e.candidate || !e.candidate.candidate) return;
      const ice = e.candidate.toJSON() as IceInit;
      if (peer.localSent) this.send(message(MessageType.candidate, id, { ice }));
      else peer.localQueue.push(ice);
    };
    pc.oniceconnectionstatechange = () => {
      const state = pc.iceConnectionState;
      if ((state === "connected" || state === "completed") && !peer.connected) {
        peer.connected = true;
        this.emit("userConnected", id);
        this.checkStarted();
      } else if (state === "failed" || state === "closed") {
        this.closePeer(id);
      }
    };
    this.emit("userConnecting", id);
    for (const hook of this.createHooks) {
      try {
        await hook(id, isOffer, pc);
      } catch (e) {
        console.warn("webrtc_p2p: a pc-create hook failed", e);
      }
    }
    return peer;
  }

  /** Resolves when ICE gathering completes or the vanilla timeout passes (no polling). */
  private gathered(pc: RTCPeerConnection): Promise<void> {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === "complete") done();
      };
      const timer = setTimeout(done, this.config.vanillaIceTimeoutMs);
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  private flushLocal(peer: Peer): void {
    peer.localSent = true;
    for (const ice of peer.localQueue) this.send(message(MessageType.candidate, peer.id, { ice }));
    peer.localQueue = [];
  }

  private flushRemote(peer: Peer): void {
    for (const ice of peer.remote.open()) void peer.pc.addIceCandidate(ice).catch(() => {});
  }

  private checkStarted(): void {
    if (this.role !== "Client" || !this.hostDone || !this.startWaiter) return;
    const host = this.hostId ? this.peers.get(this.hostId) : undefined;
    if (!host?.connected) return;
    clearTimeout(this.startWaiter.timer);
    const waiter = this.startWaiter;
    this.startWaiter = null;
    this.emit("started", this.clientId ?? "");
    waiter.resolve();
  }

  private closePeer(id: string): void {
    const peer = this.peers.get(id);
    if (!peer || peer.closed) return;
    peer.closed = true;
    this.peers.delete(id);
    this.emit("userDisconnecting", id);
    peer.pc.close();
    for (const hook of this.closeHooks) {
      try {
        hook(id);
      } catch (e) {
        console.warn("webrtc_p2p: a pc-close hook failed", e);
      }
    }
  }

  private emit(event: PeerEventName, arg: string): void {
    for (const handler of [...(this.listeners.get(event) ?? [])]) {
      try {
        handler(arg);
      } catch (e) {
        console.warn(`webrtc_p2p: a ${event} handler failed`, e);
      }
    }
  }
}

/**
 * Every offer has an audio section, as the native client's: recvonly unless a hook added audio, so
 * a peer with a microphone can talk to this one whoever offers (the answerer cannot add a section
 * the offer lacks without a renegotiation the protocol does not have). ~300 bytes of SDP; no extra
 * ICE or DTLS (one bundled transport).
 */
function receiveAudio(pc: RTCPeerConnection): void {
  if (pc.getTransceivers().some((t) => t.receiver.track.kind === "audio")) return;
  pc.addTransceiver("audio", { direction: "recvonly" });
}
