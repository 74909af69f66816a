#!/usr/bin/env bash
# The server's whole suite: Rust tests (real process + rust_socketio), then node's socket.io-client.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo test -p p2p-signaling
cargo build -p p2p-signaling
bash server/tests/js/run.sh
