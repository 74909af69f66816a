#!/usr/bin/env bash
# The web client's tests: vitest unit tests, then end to end in headless Chromium with the real
# signaling server and the native chat peer (e2e: chat, graph, Unity bridge; voice: audio both ways
# between Chromium and native peers). Expects `cargo build --workspace --all-targets`.
set -euo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$web")"
target="${CARGO_TARGET_DIR:-$root/target}/debug"
cd "$web"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build
npx vitest run
export P2P_SIGNALING_BIN="$target/p2p-signaling" P2P_NATIVE_CHAT_BIN="$target/examples/chat"
timeout 900 node --test --test-concurrency=1 tests/e2e.test.mjs tests/voice.test.mjs tests/turn.test.mjs
