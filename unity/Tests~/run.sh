#!/usr/bin/env bash
# The Unity package's tests: the C# in unity/Runtime, the sample and these tests compiled with Mono's
# mcs (C# 7, as Unity and IL2CPP accept) and run with mono against the real library
# (target/debug/libwebrtc_p2p.so), a real p2p-signaling process and the Rust chat example as a peer.
# Expects `cargo build --workspace --all-targets` to have run (tests/run-all.sh does). Prints
# "N passed, M failed"; exits non-zero on any failure. An argument filters tests by name.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}/debug"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for f in "$target/libwebrtc_p2p.so" "$target/p2p-signaling" "$target/examples/chat"; do
  [ -e "$f" ] || { echo "missing $f: run cargo build --workspace --all-targets first" >&2; exit 1; }
done

# The WebGL player build (WebGLPeerClient over the jslib) cannot run here; it must at least compile.
mapfile -t runtime < <(find "$root/unity/Runtime" -name '*.cs' | sort)
mcs -langversion:7 -unsafe -warnaserror+ -nowarn:1591 -define:UNITY_WEBGL -target:library -r:System.Core -out:"$out/webgl.dll" "${runtime[@]}"

mapfile -t sources < <(find "$root/unity/Runtime" "$root/unity/Samples~" "$root/unity/Tests~" -name '*.cs' | sort)
mcs -langversion:7 -unsafe -warnaserror+ -nowarn:1591 -r:System.Core -out:"$out/tests.exe" "${sources[@]}"

export P2P_SIGNALING_BIN="$target/p2p-signaling" P2P_CHAT_BIN="$target/examples/chat"
LD_LIBRARY_PATH="$target${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" timeout 600 mono --debug "$out/tests.exe" "$@"
