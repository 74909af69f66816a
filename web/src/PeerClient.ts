import { io, type Socket, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { type Ack, type Host, type IssuedIceServer, type Message, Limits, MessageType, SocketEvent, createHostOutcome, message, parseIceServers, parseMessage } from "./protocol.js";
import { type MeshInput, type MeshOutput, type PeerOp, Mesh } from "./mesh.js";
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

/** How long stop lets the byes queued behind a peer's pending work go out before disconnecting. */
const PEER_CLOSE_GRACE_MS = 3000;

/** The executor of one peer: its pc and the chain its operations run on, in order. */
interface Executor {
  pc: RTCPeerConnection | null;
  chain: Promise<void>;
}

/**
 * A member of a full-mesh WebRTC group in the browser: the same protocol and behaviour as the
 * native client (docs/protocol.md). Every decision is the pure machine's (`mesh.ts`, tested against
 * the shared conformance vectors); this class only carries its outputs out: messages on the socket,
 * operations on each peer's RTCPeerConnection (in order, one chain per peer), events and timers.
 */
export class PeerClient {
  private readonly config: Required<Omit<PeerConfig, "socketOptions" | "pcConfig" | "auth">> & Pick<PeerConfig, "socketOptions" | "pcConfig" | "auth">;
  private socket: Socket | null = null;
  private mesh: Mesh;
  private readonly executors = new Map<string, Executor>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly createHooks: PcCreateHook[] = [];
  private readonly closeHooks: PcCloseHook[] = [];
  private readonly listeners = new Map<PeerEventName, Set<(arg: string) => void>>();
  private stopping = false;
  /** TURN servers the signaling server issued (latest `ice servers` event), added to `pcConfig`'s for every pc made from then on. */
  private issuedIceServers: IssuedIceServer[] = [];
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
    this.mesh = this.newMesh();
  }

  private newMesh(): Mesh {
    const { trickleIce: trickle, maxPeers, p2pTimeoutMs, vanillaIceTimeoutMs } = this.config;
    return new Mesh({ trickle, maxPeers, p2pTimeoutMs, vanillaIceTimeoutMs });
  }

  get clientId(): string | null {
    return this.socket?.id ?? null;
  }

  get isRunning(): boolean {
    return this.role !== "None";
  }

  /** A summary of every link, sorted by peer id: the native client's shape (see stats.ts). */
  getStats(): Promise<PeerStats[]> {
    const links: [string, RTCPeerConnection][] = [];
    for (const [id, e] of this.executors) if (e.pc) links.push([id, e.pc]);
    return collectStats(links);
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
    this.feed({ app: "host" });
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
    await this.connect();
    this.role = "Client";
    this.hostId = hostId;
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
    this.feed({ app: "join", host: hostId });
    return started;
  }

  /** Leaves: bye to every peer, every pc closed (close hooks run), signaling disconnected. */
  stop(): void {
    this.stopping = true;
    const running = [...this.executors.values()];
    this.feed({ app: "stop" });
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.startWaiter) {
      clearTimeout(this.startWaiter.timer);
      this.startWaiter.reject(new Error("stopped"));
      this.startWaiter = null;
    }
    // The byes wait on their peers' chains: disconnect once they went out (or after a grace period).
    const socket = this.socket;
    const grace = new Promise((resolve) => setTimeout(resolve, PEER_CLOSE_GRACE_MS));
    void Promise.race([Promise.allSettled(running.map((e) => e.chain)), grace]).then(() => socket?.disconnect());
    this.socket = null;
    this.issuedIceServers = [];
    this.mesh = this.newMesh();
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
    socket.on(SocketEvent.message, (body: unknown) => {
      const m = parseMessage(body);
      if (!m || this.socket !== socket) return;
      this.feed({ ownId: socket.id ?? "" });
      this.feed({ signal: m });
    });
    socket.on(SocketEvent.userDisconnected, (body: { id?: unknown }) => {
      if (body && typeof body.id === "string" && this.socket === socket) this.feed({ userDisconnected: body.id });
    });
    socket.on(SocketEvent.iceServers, (body: unknown) => {
      const servers = parseIceServers(body);
      if (servers && this.socket === socket) this.issuedIceServers = servers;
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

  // ---------------------------------------------------------------- carrying the machine's outputs out

  /** Feeds one input to the machine and carries its outputs out, in order. */
  private feed(input: MeshInput): void {
    for (const out of this.mesh.handle(input)) this.carry(out);
  }

  private carry(out: MeshOutput): void {
    if ("send" in out) this.send(out.send);
    else if ("op" in out) this.execute(out);
    else if ("event" in out) this.emit(out.event, out.arg);
    else if ("started" in out) {
      const waiter = this.startWaiter;
      this.startWaiter = null;
      if (waiter) clearTimeout(waiter.timer);
      this.emit("started", this.clientId ?? out.started);
      waiter?.resolve();
    } else {
      const mesh = this.mesh;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.mesh === mesh) this.feed({ timer: out.timer });
      }, out.ms);
      this.timers.add(timer);
    }
  }

  /**
   * Queues `op` on its peer's chain (the chain starts with `create`). A close runs at once: the
   * work still queued for that pc is abandoned (only its messages, such as a bye, still go out).
   */
  private execute(op: PeerOp): void {
    if (op.op === "create") {
      const executor: Executor = { pc: null, chain: Promise.resolve() };
      this.executors.set(op.peer, executor);
      executor.chain = this.createPc(op.peer, op.offerer, executor);
      return;
    }
    const executor = this.executors.get(op.peer);
    if (!executor) return;
    if (op.op === "close") {
      this.closeNow(op.peer, executor);
      return;
    }
    const [mesh, socket] = [this.mesh, this.socket];
    executor.chain = executor.chain
      .then(() => this.run(op, executor, mesh, socket))
      .catch((e) => console.warn(`webrtc_p2p: ${op.op} for ${op.peer} failed`, e));
  }

  private async run(op: PeerOp, executor: Executor, mesh: Mesh, socket: Socket | null): Promise<void> {
    if (op.op === "send") {
      socket?.emit("message", op.message);
      return;
    }
    const pc = executor.pc;
    if (!pc) return;
    switch (op.op) {
      case "createOffer":
        try {
          receiveAudio(pc);
          await pc.setLocalDescription(await pc.createOffer());
        } catch (e) {
          console.warn("webrtc_p2p: offer failed", e);
          if (this.mesh === mesh) this.feed({ pc: op.peer, event: "offerFailed" });
          return;
        }
        this.gatheredAlready(op.peer, pc, executor, mesh);
        return;
      case "createAnswer":
        await pc.setLocalDescription(await pc.createAnswer());
        this.gatheredAlready(op.peer, pc, executor, mesh);
        return;
      case "setRemote":
        await pc.setRemoteDescription({ type: op.offer ? "offer" : "answer", sdp: op.sdp });
        return;
      case "addCandidate":
        await pc.addIceCandidate(op.ice).catch(() => {});
        return;
      case "sendDescription": {
        const type = op.offer ? MessageType.offer : MessageType.answer;
        socket?.emit("message", message(type, op.peer, { sdp: pc.localDescription?.sdp ?? "" }, op.trickle));
        return;
      }
    }
  }

  /** A pc with nothing to gather may be complete without an event: tell the machine (it ignores repeats). */
  private gatheredAlready(id: string, pc: RTCPeerConnection, executor: Executor, mesh: Mesh): void {
    if (pc.iceGatheringState === "complete" && executor.pc === pc && this.mesh === mesh) this.feed({ pc: id, event: "gatheringComplete" });
  }

  /** Closes the pc, runs the close hooks and tells the machine the executor is gone. */
  private closeNow(id: string, executor: Executor): void {
    const pc = executor.pc;
    executor.pc = null;
    this.executors.delete(id);
    pc?.close();
    for (const hook of this.closeHooks) {
      try {
        hook(id);
      } catch (e) {
        console.warn("webrtc_p2p: a pc-close hook failed", e);
      }
    }
    this.feed({ pc: id, event: "closed" });
  }

  /** The app's `pcConfig` with the TURN servers the signaling server issued added to its ICE servers. */
  private pcConfiguration(): RTCConfiguration | undefined {
    const base = this.config.pcConfig;
    if (this.issuedIceServers.length === 0) return base;
    return { ...base, iceServers: [...(base?.iceServers ?? []), ...this.issuedIceServers] };
  }

  /** Creates the pc, wires its events into the machine and runs the create hooks. */
  private async createPc(id: string, isOffer: boolean, executor: Executor): Promise<void> {
    const mesh = this.mesh;
    const report = (input: MeshInput) => {
      if (this.mesh === mesh && executor.pc === pc) this.feed(input);
    };
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection(this.pcConfiguration());
    } catch (e) {
      console.warn("webrtc_p2p: cannot create a peer connection", e);
      this.executors.delete(id);
      if (this.mesh === mesh) this.feed({ pc: id, event: "closed" });
      return;
    }
    executor.pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) report({ pc: id, event: "localCandidate", ice: e.candidate.toJSON() as Message["ice"] & object });
    };
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") report({ pc: id, event: "gatheringComplete" });
    });
    pc.oniceconnectionstatechange = () => {
      const state = pc.iceConnectionState;
      if (state === "connected" || state === "completed") report({ pc: id, event: "connected" });
      else if (state === "failed" || state === "closed") report({ pc: id, event: "failed" });
    };
    for (const hook of this.createHooks) {
      try {
        await hook(id, isOffer, pc);
      } catch (e) {
        console.warn("webrtc_p2p: a pc-create hook failed", e);
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
