// A browser stand-in for Extreal's native C# client (Runtime/NativePeerClient.cs + PeerClient.cs +
// NativeClientState.cs): the same protocol behaviour, step for step, on the browser's WebRTC, and the
// same wire JSON. It is what an Extreal Unity app on Windows/Android/iOS puts on the wire:
//
//   - every `message` is System.Text.Json's rendering of Extreal's `Message` class with default
//     options: all five properties, in declaration order, null where unset:
//     {"type":"join","from":null,"to":"<host>","me":null,"sdp":null}
//   - vanilla ICE only: the offer/answer goes out when gathering completes or after the vanilla ICE
//     timeout; no `trickle` flag, no `candidate`; unknown message types are ignored;
//   - `sdp` is the bare SDP text; the message `type` ("offer"/"answer") is the SDP type;
//   - the host, on `join`: creates the pc and sets the local offer, then sends `call me {me: newcomer}`
//     to every other peer it has a pc with (the offer itself leaves later, after gathering);
//   - the offerer sends `done` once the answer is applied;
//   - a client is Started when the host's `done` has arrived and its ICE link to the host is
//     connected/completed (both, in any order); a host is Started when `create host` is answered
//     with anything but 409 (409 = host name exists);
//   - `bye` to every peer on stop; `bye`, `user disconnected {id}` and ICE failed/closed close a pc.
//   - no `whoami`: the own id is the socket's id (socket.io's CONNECT sid), as the C# GetClientId().
//
// Needs socket.io-client's browser bundle loaded first (global `io`). Exposes window.CsPeerClient with
// the same small surface as our web PeerClient (addPcCreateHook, addPcCloseHook, on, startHost,
// listHosts, startClient, stop, clientId), so one test harness drives both.
(() => {
  class HostNameAlreadyExistsException extends Error {
    constructor(message) {
      super(message);
      this.name = "HostNameAlreadyExistsException";
    }
  }

  /** Extreal's Message class as System.Text.Json writes it: every property, declaration order. */
  function csMessage(type, fields = {}) {
    return { type, from: fields.from ?? null, to: fields.to ?? null, me: fields.me ?? null, sdp: fields.sdp ?? null };
  }

  class CsPeerClient {
    constructor(config) {
      this.config = { vanillaIceTimeoutMs: 5000, p2pTimeoutMs: 15000, pcConfig: {}, socketOptions: {}, ...config };
      this.socket = null;
      this.pcs = new Map(); // pcDict, insertion ordered like the C# Dictionary in practice
      this.createHooks = [];
      this.closeHooks = [];
      this.listeners = new Map();
      this.role = "None";
      this.hostId = null;
      this.isRunning = false;
      this.state = { ice: false, done: false }; // NativeClientState's two subjects
      this.sent = []; // every emitted `message` as the exact JSON text on the wire
      this.received = []; // every received `message` payload
      this.monitor = null;
    }

    get clientId() {
      return this.socket?.id ?? null;
    }

    on(event, handler) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      this.listeners.get(event).add(handler);
      return () => this.listeners.get(event).delete(handler);
    }

    emit(event, arg) {
      for (const h of [...(this.listeners.get(event) ?? [])]) {
        try {
          h(arg);
        } catch (e) {
          console.error(e);
        }
      }
    }

    addPcCreateHook(hook) {
      this.createHooks.push(hook);
    }

    addPcCloseHook(hook) {
      this.closeHooks.push(hook);
    }

    // GetSocketAsync: one socket, connected before anything is emitted (SocketIO.ConnectAsync).
    async getSocket() {
      if (this.socket?.connected) return this.socket;
      if (this.socket) this.stopSocket();
      const socket = io(this.config.url, { forceNew: true, reconnection: false, ...this.config.socketOptions });
      this.socket = socket;
      socket.on("message", (m) => this.receiveMessage(m));
      socket.on("user disconnected", (e) => this.closePc(e?.id));
      socket.on("disconnect", (reason) => {
        if (reason !== "io client disconnect") this.emit("disconnected", reason);
      });
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", (e) => {
          this.emit("connectFailed", e.message);
          reject(e);
        });
      });
      return socket;
    }

    stopSocket() {
      this.socket?.disconnect();
      this.socket = null;
    }

    // PeerClient.StartHostAsync: only 409 is a failure; any other status starts the host.
    async startHost(name) {
      this.monitorToStart();
      this.role = "Host";
      const socket = await this.getSocket();
      const response = await new Promise((resolve) => socket.emit("create host", name, resolve));
      this.lastCreateHost = response;
      if (response.status === 409) throw new HostNameAlreadyExistsException(response.message);
      this.fireStarted();
    }

    async listHosts() {
      const socket = await this.getSocket();
      const response = await new Promise((resolve) => socket.emit("list hosts", resolve));
      return response.hosts.map((h) => ({ id: h.id, name: h.name }));
    }

    // StartClientAsync resolves once `join` is sent; Started comes later as an event. This one also
    // returns a promise of Started so the harness can await either kind of client the same way.
    async startClient(hostId) {
      this.monitorToStart();
      this.role = "Client";
      this.hostId = hostId;
      const started = new Promise((resolve, reject) => {
        this.on("started", resolve);
        this.on("startFailed", () => reject(new Error("start failed (P2P timeout)")));
      });
      await this.sendMessage(hostId, csMessage("join"));
      return started;
    }

    monitorToStart() {
      clearTimeout(this.monitor);
      this.monitor = setTimeout(() => {
        if (this.isRunning) return;
        this.stop();
        this.emit("startFailed", "");
      }, this.config.p2pTimeoutMs);
    }

    fireStarted() {
      if (this.isRunning) return;
      this.isRunning = true;
      clearTimeout(this.monitor);
      this.emit("started", this.clientId ?? "");
    }

    checkStarted() {
      if (this.state.ice && this.state.done) this.fireStarted();
    }

    stop() {
      this.isRunning = false;
      clearTimeout(this.monitor);
      this.role = "None";
      this.hostId = null;
      for (const id of [...this.pcs.keys()]) {
        if (this.socket?.connected) this.sendNow(id, csMessage("bye"));
        this.closePc(id);
      }
      this.pcs.clear();
      this.state = { ice: false, done: false };
      this.stopSocket();
    }

    // ReceiveMessageAsync: System.Text.Json ignores properties the class lacks (trickle, ice).
    async receiveMessage(raw) {
      this.received.push(raw);
      const m = csMessage(raw?.type, raw ?? {});
      try {
        switch (m.type) {
          case "join":
            await this.receiveJoin(m.from);
            break;
          case "call me":
            await this.sendOffer(m.me);
            break;
          case "offer":
            await this.receiveOffer(m.from, { type: "offer", sdp: m.sdp });
            break;
          case "answer":
            await this.receiveAnswer(m.from, { type: "answer", sdp: m.sdp });
            break;
          case "done":
            if (this.role === "Client" && m.from === this.hostId) {
              this.state.done = true;
              this.checkStarted();
            }
            break;
          case "bye":
            this.closePc(m.from);
            break;
          default:
            break; // "Unknown message received"
        }
      } catch (e) {
        console.error(`cs client: ${m.type}`, e);
      }
    }

    async receiveJoin(from) {
      await this.sendOffer(from);
      for (const to of this.pcs.keys()) {
        if (to === from) continue;
        void this.sendMessage(to, csMessage("call me", { me: from }));
      }
    }

    async sendOffer(to) {
      if (this.pcs.has(to)) return;
      this.createPc(to, true);
      const pc = this.pcs.get(to);
      await pc.setLocalDescription(await pc.createOffer());
      void this.sendSdpByCompleteOrTimeout(to, pc);
    }

    async receiveOffer(from, sd) {
      this.createPc(from, false);
      const pc = this.pcs.get(from);
      if (!pc) return;
      await pc.setRemoteDescription(sd);
      await pc.setLocalDescription(await pc.createAnswer());
      void this.sendSdpByCompleteOrTimeout(from, pc);
    }

    async receiveAnswer(from, sd) {
      const pc = this.pcs.get(from);
      if (!pc) return;
      await pc.setRemoteDescription(sd);
      await this.sendMessage(from, csMessage("done"));
    }

    createPc(id, isOffer) {
      if (this.pcs.has(id)) return;
      const pc = new RTCPeerConnection(this.config.pcConfig);
      pc.addEventListener("iceconnectionstatechange", () => {
        switch (pc.iceConnectionState) {
          case "connected":
          case "completed":
            if (this.role === "Client" && id === this.hostId) {
              this.state.ice = true;
              this.checkStarted();
            }
            break;
          case "failed":
          case "closed":
            this.closePc(id);
            break;
          default:
            break;
        }
      });
      this.emit("userConnecting", id);
      for (const hook of this.createHooks) {
        try {
          hook(id, isOffer, pc);
        } catch (e) {
          console.error(e);
        }
      }
      this.pcs.set(id, pc);
    }

    // SendSdpByCompleteOrTimeoutAsync: vanilla ICE.
    async sendSdpByCompleteOrTimeout(to, pc) {
      if (pc.iceGatheringState !== "complete") {
        await new Promise((resolve) => {
          const timer = setTimeout(finish, this.config.vanillaIceTimeoutMs);
          function finish() {
            clearTimeout(timer);
            pc.removeEventListener("icegatheringstatechange", check);
            resolve();
          }
          function check() {
            if (pc.iceGatheringState === "complete") finish();
          }
          pc.addEventListener("icegatheringstatechange", check);
        });
      }
      const sd = pc.localDescription;
      await this.sendMessage(to, csMessage(sd.type, { sdp: sd.sdp }));
    }

    closePc(id) {
      const pc = this.pcs.get(id);
      if (!pc) return;
      this.emit("userDisconnecting", id);
      for (const hook of this.closeHooks) {
        try {
          hook(id);
        } catch (e) {
          console.error(e);
        }
      }
      pc.close();
      this.pcs.delete(id);
    }

    async sendMessage(to, message) {
      const socket = await this.getSocket();
      this.sendOn(socket, to, message);
    }

    sendNow(to, message) {
      this.sendOn(this.socket, to, message);
    }

    sendOn(socket, to, message) {
      message.to = to;
      // socket.io-client serialises with JSON.stringify: this text is exactly the packet's payload.
      this.sent.push(JSON.stringify(message));
      socket.emit("message", message);
    }
  }

  window.CsPeerClient = CsPeerClient;
  window.CsPeerClient.HostNameAlreadyExistsException = HostNameAlreadyExistsException;
  window.CsPeerClient.csMessage = csMessage;
})();
