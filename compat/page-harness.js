// Browser side of the compat suite: makes clients (our web PeerClient, window.webrtcP2p; or the
// C#-shaped CsPeerClient) with the chat example's behaviour and reports every step to Node as the
// chat example prints it: `ready <id>`, `event <name> <arg>`, `open <peer>`, `recv <peer> <text>`,
// `error <name>: <message>`. Node receives the lines through the exposed `compatLine(handle, line)`.
(() => {
  const clients = new Map();
  const wires = new Map();
  const report = (handle, line) => window.compatLine(handle, line);

  function create(handle, kind, url) {
    let client;
    if (kind === "cs") {
      client = new window.CsPeerClient({ url });
    } else {
      client = new window.webrtcP2p.PeerClient({ signalingUrl: url, trickleIce: kind !== "web-vanilla" });
    }
    const channels = new Map();
    const watch = (id, dc) => {
      if (dc.label !== "chat") return;
      dc.onopen = () => {
        channels.set(id, dc);
        report(handle, `open ${id}`);
      };
      dc.onclose = () => channels.delete(id);
      dc.onmessage = (e) => report(handle, `recv ${id} ${e.data}`);
    };
    client.addPcCreateHook((id, isOffer, pc) => {
      if (isOffer) watch(id, pc.createDataChannel("chat"));
      else pc.ondatachannel = (e) => watch(id, e.channel);
    });
    for (const name of ["started", "startFailed", "connectFailed", "disconnected", "userConnecting", "userConnected", "userDisconnecting"]) {
      client.on(name, (arg) => report(handle, `event ${name} ${arg}`));
    }
    clients.set(handle, { client, channels });
    return client;
  }

  const fail = (handle, e) => {
    report(handle, `error ${e?.name ?? "Error"}: ${e?.message ?? e}`);
    return false;
  };

  window.compat = {
    async host(handle, kind, url, name) {
      const client = create(handle, kind, url);
      try {
        await client.startHost(name);
      } catch (e) {
        return fail(handle, e);
      }
      report(handle, `ready ${client.clientId}`);
      return true;
    },
    // As the chat example: find the host by name (it may still be starting), join, wait for Started.
    async join(handle, kind, url, name) {
      const client = create(handle, kind, url);
      try {
        let hostId = null;
        for (let i = 0; i < 100 && !hostId; i++) {
          const hosts = await client.listHosts();
          hostId = hosts.find((h) => h.name === name)?.id ?? null;
          if (!hostId) await new Promise((r) => setTimeout(r, 100));
        }
        if (!hostId) throw new Error(`no host named ${name}`);
        report(handle, `listed ${hostId}`);
        await client.startClient(hostId);
      } catch (e) {
        return fail(handle, e);
      }
      report(handle, `ready ${client.clientId}`);
      return true;
    },
    send(handle, text) {
      for (const dc of clients.get(handle)?.channels.values() ?? []) if (dc.readyState === "open") dc.send(text);
    },
    stop(handle) {
      const c = clients.get(handle)?.client;
      c?.stop();
      clients.delete(handle);
      if (c?.sent) wires.set(handle, c); // the C#-shaped client's wire log stays readable
    },
    /** The C#-shaped client's wire log: every emitted message as JSON text, every received payload. */
    wire(handle) {
      const c = clients.get(handle)?.client ?? wires.get(handle);
      return { sent: c?.sent ?? [], received: c?.received ?? [] };
    },
  };
})();
