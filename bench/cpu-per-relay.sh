#!/usr/bin/env bash
# Server CPU per relayed message at one fixed rate, user and system time apart, for several server
# builds in interleaved rounds (each round starts every server afresh, in turn), with the median of
# each. The ceiling bench (bench/load.sh) answers "how far does it go"; on a 2-core machine shared
# with other work that answer moves by half from one hour to the next, while the CPU a relay costs
# at an equal rate, compared within one run, tells two builds apart.
#
#   bash bench/cpu-per-relay.sh ours floor                        # our server and the floor relay
#   RATE=70000 ROUNDS=6 bash bench/cpu-per-relay.sh /path/to/old/p2p-signaling ours floor
#
# Each name is `ours`, `floor`, `floor-rewrite` or `ours2` (started as bench/load.sh starts them: bench/servers.sh;
# `ours2` sums both nodes and Redis) or the path of a p2p-signaling binary. 1,000 clients in groups
# of 4 (p2p-loadgen), 6 s of warm-up, then 5 s measured from /proc/<pid>/stat. Each round's rows
# are kept in bench/results/cpu-per-relay-<time>.txt (or $RESULTS).
set -euo pipefail
BENCH="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$BENCH")"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
RATE="${RATE:-70000}"
ROUNDS="${ROUNDS:-6}"
RESULTS="${RESULTS:-$BENCH/results}"
mkdir -p "$RESULTS"
rows="$RESULTS/cpu-per-relay-$(date -u +%Y%m%dT%H%M%S).txt"  # every round's row, kept
[ $# -gt 0 ] || { echo "usage: bash bench/cpu-per-relay.sh SERVER... (ours, floor, floor-rewrite, ours2 or a p2p-signaling path)" >&2; exit 2; }
(cd "$ROOT" && bash scripts/patch-deps.sh && cargo build -q --release -p p2p-signaling -p p2p-loadgen)
ulimit -n 65536 2>/dev/null || true
# start NAME LOG and cleanup, as bench/load.sh starts the same servers (same limits raised).
source "$BENCH/servers.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM
tck=$(getconf CLK_TCK)

# cpu_ticks PIDS: user and system clock ticks so far, summed over the comma-separated PIDS.
cpu_ticks() {
  local pid u=0 s=0 pu ps
  for pid in ${1//,/ }; do
    read -r pu ps < <(awk '{print $14, $15}' "/proc/$pid/stat")
    u=$((u + pu)); s=$((s + ps))
  done
  echo "$u $s"
}

# measure NAME: prints "user_us sys_us p99_ms lost" for one round (runs in a subshell of its own,
# which stops what it started).
measure() {
  local log="$RESULTS/cpu-per-relay-server"
  if [ -x "$1" ]; then BEFORE_BIN="$1" start before "$log"; else start "$1" "$log"; fi
  "$TARGET/p2p-loadgen" --url "$URLS" --pid "$SPIDS" --clients 1000 --group 4 --rates "$RATE" \
    --step-secs 10 --p99-ms 1000000 >"$log.json" 2>"$log.lg.err" &
  local lg=$!
  sleep 6
  local u0 s0 u1 s1
  read -r u0 s0 < <(cpu_ticks "$SPIDS")
  sleep 5
  read -r u1 s1 < <(cpu_ticks "$SPIDS")
  wait "$lg" || true
  cleanup
  awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v r="$RATE" -v t="$tck" \
    'BEGIN { printf "%.2f %.2f ", u / t * 1e6 / (r * 5), s / t * 1e6 / (r * 5) }'
  jq -r '.steps[0] | "\(.p99_ms) \(.lost)"' "$log.json"
}

echo "$(date -u +%F\ %H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg); $RATE relays/s, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
  for name in "$@"; do
    echo "$round $name $(measure "$name")" | tee -a "$rows"
  done
done
echo
echo "| server | user µs per relay (median) | system µs per relay (median) | rounds |"
echo "|---|---:|---:|---:|"
for name in "$@"; do
  awk -v n="$name" '$2 == n { u[++k] = $3; s[k] = $4 }
    function median(a, k,   i, j, t) {
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    END { printf "| %s | %.2f | %.2f | %d |\n", n, median(u, k), median(s, k), k }' "$rows"
done
