// PeerClient against a fake socket.io socket and a fake RTCPeerConnection: what it puts on the wire
// and when (own id, `call me` timing, create host replies, C#-shaped null fields).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Handler = (...args: unknown[]) => void;

class FakeSocket {
  id: string | undefined = undefined;
  connected = false;
  emitted: { event: string; args: unknown[] }[] = [];
  replies: Record<string, (...args: unknown[]) => unknown> = {};
  private handlers = new Map<string, Handler[]>();
  on(event: string, h: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), h]);
    return this;
  }
  once(event: string, h: Handler) {
    const wrapped: Handler = (...a) => {
      this.handlers.set(event, (this.handlers.get(event) ?? []).filter((x) => x !== wrapped));
      h(...a);
    };
    return this.on(event, wrapped);
  }
  emit(event: string, ...args: unknown[]) {
    this.emitted.push({ event, args });
    return this;
  }
  timeout(_ms: number) {
    return {
      emitWithAck: async (event: string, ...args: unknown[]) => {
        this.emitted.push({ event, args });
        const reply = this.replies[event];
        if (!reply) return new Promise(() => {}); // a server that never answers (Extreal and `whoami`)
        return reply(...args);
      },
    };
  }
  disconnect() {
    this.connected = false;
  }
  fire(event: string, ...args: unknown[]) {
    for (const h of [...(this.handlers.get(event) ?? [])]) h(...args);
  }
  messages() {
    return this.emitted.filter((e) => e.event === "message").map((e) => e.args[0] as Record<string, unknown>);
  }
}

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: () => {
    const s = new FakeSocket();
    sockets.push(s);
    // socket.io-client sets `id` from the CONNECT packet's sid, then emits "connect".
    setTimeout(() => {
      s.id = `sid-${sockets.length}`;
      s.connected = true;
      s.fire("connect");
    }, 0);
    return s;
  },
}));

/** Offers wait on this gate, so a test can hold the host's offer and see what goes out meanwhile. */
let offerGate: Promise<void> = Promise.resolve();

class FakePc extends EventTarget {
  iceGatheringState = "complete";
  iceConnectionState = "new";
  localDescription: { type: string; sdp: string } | null = null;
  onicecandidate: unknown = null;
  oniceconnectionstatechange: unknown = null;
  transceivers: { receiver: { track: { kind: string } }; direction: string }[] = [];
  getTransceivers() {
    return this.transceivers;
  }
  addTransceiver(kind: string, init: { direction: string }) {
    this.transceivers.push({ receiver: { track: { kind } }, direction: init.direction });
  }
  async createOffer() {
    await offerGate;
    return { type: "offer", sdp: "v=0 offer" };
  }
  async createAnswer() {
    return { type: "answer", sdp: "v=0 answer" };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
  }
  async setRemoteDescription() {}
  async addIceCandidate() {}
  close() {}
}

const { PeerClient, HostNameAlreadyExistsError, CreateHostRejectedError } = await import("../src/PeerClient.js");

beforeEach(() => {
  sockets.length = 0;
  offerGate = Promise.resolve();
  (globalThis as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = FakePc;
});
afterEach(() => {
  delete (globalThis as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
});

async function startedHost() {
  const client = new PeerClient({ signalingUrl: "http://127.0.0.1:1" });
  const started: string[] = [];
  client.on("started", (id) => started.push(id));
  const pending = client.startHost("room");
  await vi.waitFor(() => expect(sockets.length).toBe(1));
  const socket = sockets[0];
  socket.replies["create host"] = () => ({ status: 200, message: "Host have been created. host: room" });
  await pending;
  return { client, socket, started };
}

describe("own id", () => {
  it("is the socket id from CONNECT, and whoami is never asked (Extreal's server does not answer it)", async () => {
    const { client, socket, started } = await startedHost();
    expect(client.clientId).toBe("sid-1");
    expect(started).toEqual(["sid-1"]);
    expect(socket.emitted.map((e) => e.event)).toEqual(["create host"]);
  });
  it("a joining client sends join at once, without whoami", async () => {
    const client = new PeerClient({ signalingUrl: "http://127.0.0.1:1", p2pTimeoutMs: 60000 });
    void client.startClient("host-id").catch(() => {});
    await vi.waitFor(() => expect(sockets[0]?.emitted.length).toBe(1));
    expect(sockets[0].emitted).toEqual([{ event: "message", args: [{ type: "join", to: "host-id", trickle: true }] }]);
    expect(client.clientId).toBe("sid-1");
    client.stop();
  });
});

describe("call me", () => {
  it("goes to every existing member as soon as the newcomer's join arrives, before the host's offer", async () => {
    const { socket } = await startedHost();
    socket.fire("message", { type: "join", from: "m1", to: "sid-1", trickle: true });
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "offer" && m.to === "m1")).toBe(true));

    let release!: () => void;
    offerGate = new Promise((r) => (release = r)); // the offer to the newcomer cannot be made yet
    socket.fire("message", { type: "join", from: "n", to: "sid-1", trickle: true });
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "call me")).toBe(true));
    expect(socket.messages().filter((m) => m.type === "call me")).toEqual([{ type: "call me", to: "m1", me: "n", trickle: true }]);
    expect(socket.messages().some((m) => m.to === "n")).toBe(false);
    release();
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "offer" && m.to === "n")).toBe(true));
  });

  it("a C#-shaped join (null fields) is a vanilla newcomer: call me without trickle", async () => {
    const { socket } = await startedHost();
    socket.fire("message", { type: "join", from: "m1", to: "sid-1", me: null, sdp: null });
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "offer" && m.to === "m1")).toBe(true));
    socket.fire("message", { type: "join", from: "n", to: "sid-1", me: null, sdp: null });
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "call me")).toBe(true));
    expect(socket.messages().find((m) => m.type === "call me")).toEqual({ type: "call me", to: "m1", me: "n" });
  });

  it("a member offers to `me` of a call me whose other fields are null", async () => {
    const client = new PeerClient({ signalingUrl: "http://127.0.0.1:1", p2pTimeoutMs: 60000 });
    void client.startClient("h").catch(() => {});
    await vi.waitFor(() => expect(sockets[0]?.emitted.length).toBe(1));
    const socket = sockets[0];
    socket.fire("message", { type: "call me", from: "h", to: "sid-1", me: "n", sdp: null, trickle: null });
    await vi.waitFor(() => expect(socket.messages().some((m) => m.type === "offer" && m.to === "n")).toBe(true));
    client.stop();
  });
});

describe("audio in offers", () => {
  it("every offer has an audio section, recvonly unless a hook added audio (as the native client's)", async () => {
    const { client, socket } = await startedHost();
    const pcs = new Map<string, FakePc>();
    client.addPcCreateHook((id, _isOffer, pc) => {
      pcs.set(id, pc as unknown as FakePc);
      if (id === "talker") pc.addTransceiver("audio", { direction: "sendrecv" });
    });
    socket.fire("message", { type: "join", from: "quiet", to: "sid-1", trickle: true });
    socket.fire("message", { type: "join", from: "talker", to: "sid-1", trickle: true });
    await vi.waitFor(() => expect(socket.messages().filter((m) => m.type === "offer").length).toBe(2));
    expect(pcs.get("quiet")!.transceivers.map((t) => t.direction)).toEqual(["recvonly"]);
    expect(pcs.get("talker")!.transceivers.map((t) => t.direction)).toEqual(["sendrecv"]);
  });

  it("an answerer adds none: the offer has the sections", async () => {
    const client = new PeerClient({ signalingUrl: "http://127.0.0.1:1", p2pTimeoutMs: 60000 });
    const pcs: FakePc[] = [];
    client.addPcCreateHook((_id, _isOffer, pc) => void pcs.push(pc as unknown as FakePc));
    void client.startClient("h").catch(() => {});
    await vi.waitFor(() => expect(sockets[0]?.emitted.length).toBe(1));
    sockets[0].fire("message", { type: "offer", from: "h", to: "sid-1", sdp: "v=0 offer" });
    await vi.waitFor(() => expect(sockets[0].messages().some((m) => m.type === "answer")).toBe(true));
    expect(pcs[0].transceivers).toEqual([]);
    client.stop();
  });
});

describe("create host replies", () => {
  async function createHost(reply: object) {
    const client = new PeerClient({ signalingUrl: "http://127.0.0.1:1" });
    const pending = client.startHost("room");
    await vi.waitFor(() => expect(sockets.length).toBeGreaterThan(0));
    sockets[sockets.length - 1].replies["create host"] = () => reply;
    return pending.then(
      () => ({ client, error: null as Error | null }),
      (error: Error) => ({ client, error }),
    );
  }
  it("409 from Extreal's server (no reason) is HostNameAlreadyExistsError with the server's text", async () => {
    const { error, client } = await createHost({ status: 409, message: "Host already exists. host: room" });
    expect(error).toBeInstanceOf(HostNameAlreadyExistsError);
    expect(error!.message).toBe("Host already exists. host: room");
    expect(client.role).toBe("None");
  });
  it("409 name-taken is HostNameAlreadyExistsError", async () => {
    const { error } = await createHost({ status: 409, message: "Host already exists. host: room", reason: "name-taken" });
    expect(error).toBeInstanceOf(HostNameAlreadyExistsError);
  });
  it("409 for another reason is CreateHostRejectedError with reason and message, not a taken name", async () => {
    const { error, client } = await createHost({ status: 409, message: "already hosting or joined", reason: "already-in-group" });
    expect(error).toBeInstanceOf(CreateHostRejectedError);
    expect(error).not.toBeInstanceOf(HostNameAlreadyExistsError);
    expect((error as InstanceType<typeof CreateHostRejectedError>).reason).toBe("already-in-group");
    expect(error!.message).toBe("already hosting or joined");
    expect(client.role).toBe("None");
  });
  it("200 starts the host", async () => {
    const { error, client } = await createHost({ status: 200, message: "Host have been created. host: room" });
    expect(error).toBeNull();
    expect(client.role).toBe("Host");
  });
});
