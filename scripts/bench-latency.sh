#!/usr/bin/env bash
# The figures of docs/performance.md's latency section in one run (ratios are only meaningful
# within one run on a small, noisy machine): native join phases, message rates per size and the
# C ABI round trip, then Chromium's references on the same machine (offer->open between two pages,
# and message rates between two pages with the web PeerClient).
#   bash scripts/bench-latency.sh            (env P2P_BENCH_REPEATS, ROUNDS, CHROMIUM_BIN)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/release-server.sh
cargo bench -q --bench p2p -- join datachannel
cd web
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build >/dev/null
echo; echo "## Chromium references"; echo
node bench/join.mjs
echo
node bench/throughput.mjs
