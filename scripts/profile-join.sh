#!/usr/bin/env bash
# Where the CPU of the measured joins goes: records the join bench with perf (CLOCK_MONOTONIC
# stamps, DWARF call graphs) while the bench writes each join's window, then prints the profile of
# the samples inside the windows only (scripts/perf-windows.py).
#   bash scripts/profile-join.sh             (env P2P_BENCH_N, default 8; P2P_BENCH_REPEATS, default 40)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/release-server.sh
cargo bench -q --bench p2p --no-run   # built before recording: a build under perf would swell perf.data
out="$(mktemp -d)"
export P2P_BENCH_WINDOWS="$out/windows" P2P_BENCH_N="${P2P_BENCH_N:-8}" P2P_BENCH_REPEATS="${P2P_BENCH_REPEATS:-40}"
# perf follows cargo into the bench binary; cargo's own samples fall outside the windows.
perf record -q -k CLOCK_MONOTONIC -F 4000 --call-graph dwarf,16384 -o "$out/perf.data" \
  cargo bench -q --bench p2p -- join
perf script -F comm,pid,tid,time,ip,sym -i "$out/perf.data" 2>/dev/null | python3 scripts/perf-windows.py "$out/windows" 60
rm -rf "$out"
