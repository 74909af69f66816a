#!/usr/bin/env bash
# Where the CPU of the measured joins goes: records the join bench with perf (CLOCK_MONOTONIC
# stamps, DWARF call graphs) while the bench writes each join's window, then prints the profile of
# the samples inside the windows only (scripts/perf-windows.py).
#   bash scripts/profile-join.sh             (env P2P_BENCH_N, default 8; P2P_BENCH_REPEATS, default 40)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/release-server.sh
bench="$(cargo bench -q --bench p2p --no-run --message-format=json 2>/dev/null |
  python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("target",{}).get("name")=="p2p" and m.get("executable"): print(m["executable"])')"
out="$(mktemp -d)"
export P2P_BENCH_WINDOWS="$out/windows" P2P_BENCH_N="${P2P_BENCH_N:-8}" P2P_BENCH_REPEATS="${P2P_BENCH_REPEATS:-40}"
perf record -q -k CLOCK_MONOTONIC -F 4000 --call-graph dwarf,16384 -o "$out/perf.data" "$bench" --bench join
perf script -F comm,pid,tid,time,ip,sym -i "$out/perf.data" 2>/dev/null | python3 scripts/perf-windows.py "$out/windows" 60
rm -rf "$out"
