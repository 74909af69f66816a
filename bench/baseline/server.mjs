// Extreal's P2P signaling server (SignalingServer~/index.ts, written for Deno's socket_io 0.2) ported
// to socket.io 4 on Node, behaviour for behaviour. It is the reference that compat/ runs our clients
// against and the baseline that bench/load.sh loads. Deliberately as naive as the original:
//   - a group is a socket.io room named after the host name; only the host is in it;
//   - `create host` answers 409 when a room of that name exists (any room: also a socket's own id room),
//     200 otherwise, with Extreal's exact texts (". host: <name>");
//   - `list hosts` lists the rooms that are not a socket's own room, in the adapter's insertion order,
//     `id` being the room's first member;
//   - `message` without `to` is dropped; otherwise `from` is set and it goes to room `to` (anyone's,
//     no group check, no validation, no ack);
//   - `user disconnected` goes to every other socket.
//   PORT=3000 node server.mjs     (PORT=0: any free port; prints "extreal-signaling listening on <url>")
// Environment as Extreal's: SIGNALING_LOGGING=on, SIGNALING_CORS_ORIGIN, SIGNALING_CORS_CREDENTIALS.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3000); // Extreal serves on 3000
const host = process.env.BIND_HOST ?? "127.0.0.1";

const logging = process.env.SIGNALING_LOGGING?.toLowerCase() === "on";
const logOn = (event, socket) => logging && console.log(`on ${event}: ${socket.id}`);
const log = (what) => logging && console.log(what());

const httpServer = createServer();
const io = new Server(httpServer, {
  cors: {
    origin: process.env.SIGNALING_CORS_ORIGIN,
    credentials: process.env.SIGNALING_CORS_CREDENTIALS === "true",
  },
});

// room name -> Set of socket ids; a Map, so iteration is insertion (creation) order.
const rooms = () => io.of("/").adapter.rooms;

io.on("connection", (socket) => {
  logOn("connection", socket);
  let hostName; // Extreal stores it on the socket object

  socket.on("create host", (name, callback) => {
    logOn("create host", socket);
    const reply = (response) => {
      log(() => response);
      if (typeof callback === "function") callback(response);
    };
    if (rooms().get(name)) {
      reply({ status: 409, message: `Host already exists. host: ${name}` });
      return;
    }
    hostName = name;
    socket.join(name);
    reply({ status: 200, message: `Host have been created. host: ${name}` });
  });

  socket.on("list hosts", (callback) => {
    logOn("list hosts", socket);
    const response = {
      status: 200,
      hosts: [...rooms().entries()]
        .filter(([room, members]) => !members.has(room))
        .map(([room, members]) => ({ name: room, id: [...members][0] })),
    };
    log(() => response);
    if (typeof callback === "function") callback(response);
  });

  socket.on("message", (message) => {
    logOn("message", socket);
    log(() => message);
    // Extreal's `if (!message.to) return;`, which would throw on a non-object body; a non-object is dropped.
    if (typeof message !== "object" || message === null || !message.to) return;
    message.from = socket.id;
    socket.to(message.to).emit("message", message);
  });

  socket.on("disconnect", () => {
    logOn("disconnect", socket);
    // socket.io 4 has already removed the socket from its rooms here; leaving again is harmless.
    if (hostName) socket.leave(hostName);
    socket.broadcast.emit("user disconnected", { id: socket.id });
  });
});

httpServer.listen(port, host, () => {
  const { port: actual } = httpServer.address();
  console.log(`extreal-signaling listening on http://${host}:${actual}`);
});

// Exit promptly on SIGTERM so run.sh's trap does not leave a stray process.
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
