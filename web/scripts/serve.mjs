// Serves the demo page: / (demo/index.html), /demo.js (the bundle) and /config.json (the signaling
// URL the page connects to).   node scripts/serve.mjs --port 8080 --signaling http://127.0.0.1:3010
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg("port", "8080"));
const signalingUrl = arg("signaling", "http://127.0.0.1:3010");

const routes = {
  "/": ["demo/index.html", "text/html"],
  "/index.html": ["demo/index.html", "text/html"],
  "/demo.js": ["dist/demo/demo.js", "text/javascript"],
};

const server = createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/config.json") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ signalingUrl }));
    return;
  }
  const route = routes[path];
  if (!route) {
    res.writeHead(404).end("not found");
    return;
  }
  try {
    res.writeHead(200, { "content-type": route[1] }).end(await readFile(join(root, route[0])));
  } catch {
    res.writeHead(500).end("build the demo first: npm run build");
  }
});
server.listen(port, "127.0.0.1", () => console.log(`demo listening on http://127.0.0.1:${server.address().port}/`));
