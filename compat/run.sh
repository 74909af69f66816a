#!/usr/bin/env bash
# Extreal compatibility suite (issue 10): our server and a Node port of Extreal's, against a C#-shaped
# client, our native chat peer (trickle and vanilla) and our web client in headless Chromium; then
# prints join -> first message timings on both servers. Expects the Rust binaries built
# (cargo build -p p2p-signaling -p webrtc_p2p --example chat, or the whole workspace) and Chromium.
set -euo pipefail
compat="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$compat")"
target="${CARGO_TARGET_DIR:-$root/target}/debug"
export P2P_SIGNALING_BIN="${P2P_SIGNALING_BIN:-$target/p2p-signaling}"
export P2P_NATIVE_CHAT_BIN="${P2P_NATIVE_CHAT_BIN:-$target/examples/chat}"
for bin in "$P2P_SIGNALING_BIN" "$P2P_NATIVE_CHAT_BIN"; do
  [ -x "$bin" ] || { echo "missing $bin: cargo build -p p2p-signaling -p webrtc_p2p --example chat" >&2; exit 1; }
done
# The suite borrows the web package's dependencies (playwright-core, socket.io-client, esbuild) and the
# baseline's socket.io for the Extreal port.
for dir in "$root/web" "$root/bench/baseline"; do
  [ -d "$dir/node_modules" ] || (cd "$dir" && npm ci --no-audit --no-fund --silent)
done
cd "$compat"
timeout 300 node --test --test-reporter=spec --test-concurrency=1 compat.test.mjs
