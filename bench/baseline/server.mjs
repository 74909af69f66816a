// Baseline for bench/run.sh: a faithful Node port of the Extreal P2P seed signaling server
// (socket.io v4, default namespace). Kept deliberately as naive as the original: no validation,
// no limits, no group scoping, so the benchmark compares against what Extreal ships.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3010);
const host = "127.0.0.1";

const httpServer = createServer();
const io = new Server(httpServer, { cors: { origin: "*" } });

// name -> { id, name }; one entry per hosting socket, like the seed server's Map.
const hosts = new Map();

io.on("connection", (socket) => {
  socket.on("create host", (name, callback) => {
    if (hosts.has(name)) {
      callback({ status: 409, message: `Host already exists. name:${name}` });
      return;
    }
    hosts.set(name, { id: socket.id, name });
    callback({ status: 200, message: `Host have been created. name:${name}` });
  });

  socket.on("list hosts", (callback) => {
    callback({ status: 200, hosts: [...hosts.values()] });
  });

  // Relay: socket.io joins every socket to a room named after its id, so `to` is a room.
  socket.on("message", (msg) => {
    msg.from = socket.id;
    io.to(msg.to).emit("message", msg);
  });

  socket.on("disconnect", () => {
    for (const [name, h] of hosts) {
      if (h.id === socket.id) hosts.delete(name);
    }
    // The seed server tells everyone, not just the group.
    socket.broadcast.emit("user disconnected", { id: socket.id });
  });
});

httpServer.listen(port, host, () => {
  const { port: actual } = httpServer.address();
  console.log(`baseline listening on http://${host}:${actual}`);
});

// Exit promptly on SIGTERM so run.sh's trap does not leave a stray process.
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
