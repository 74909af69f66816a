#!/usr/bin/env bash
# The main job: starts the signaling server on 127.0.0.1:3010 and the web demo page, and explains how
# to join the same group from a native (Rust) chat peer. Ctrl-C stops everything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port="${SIGNALING_PORT:-3010}"
web_port="${WEB_PORT:-8080}"
bash scripts/patch-deps.sh
cargo build -q -p p2p-signaling -p webrtc_p2p --example chat
target="${CARGO_TARGET_DIR:-$root/target}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
"$target/debug/p2p-signaling" --bind "127.0.0.1:$port" &
pids+=($!)
if [ -f web/scripts/serve.mjs ]; then
  (cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund -s; } && npm run -s build >/dev/null && \
    exec node scripts/serve.mjs --port "$web_port" --signaling "http://127.0.0.1:$port") &
  pids+=($!)
  echo "web demo:   http://127.0.0.1:$web_port/  (open it in two or more browser tabs: the page draws the group live)"
fi
cat <<MSG
signaling:  http://127.0.0.1:$port   (GET /healthz, GET /metrics)
native peer, in another terminal:
  $target/debug/examples/chat --url http://127.0.0.1:$port --host "my room"
  $target/debug/examples/chat --url http://127.0.0.1:$port --join "my room"
Type a line in a chat peer to send it to every member of the group; /stats shows its links.
Ctrl-C here stops the demo.
MSG
wait
