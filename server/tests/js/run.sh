#!/usr/bin/env bash
# Runs the JS socket.io-client compatibility test against the built server (P2P_SIGNALING_BIN).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../../.. && pwd)"
export P2P_SIGNALING_BIN="${P2P_SIGNALING_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/p2p-signaling}"
npm ci --no-audit --no-fund --silent
node --test
