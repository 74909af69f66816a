# Sourced by the benchmark scripts (with $root set to the repository and the shell in it): applies
# the dependency diffs, builds the release signaling server and exports P2P_SIGNALING_BIN, the
# server the benches start.
bash scripts/patch-deps.sh
cargo build -q --release -p p2p-signaling
export P2P_SIGNALING_BIN="${CARGO_TARGET_DIR:-$root/target}/release/p2p-signaling"
