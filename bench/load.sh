#!/usr/bin/env bash
# Signaling load benchmark, ours vs the Node port of Extreal's server (bench/baseline), one run:
#   1. idle: $IDLE_CLIENTS websocket clients connect (connect rate) and stay idle (server RSS per
#      connection, from /proc);
#   2. relay: $CLIENTS clients in groups of $GROUP relay `candidate` messages to each other at rates
#      stepped by $FACTOR from $START until p99 > 50 ms, loss, or < 95 % delivered, then by $REFINE
#      (1.1) from the last passing step up to that failure; the highest passing step is the ceiling
#      (REFINE= for none). A failing step is run once more before it counts (RETRY=1; RETRY=0 for
#      none): a server at its limit fails both, a one-off stall of the host only one; the table
#      says how many steps passed only the second time.
# Every phase gets a fresh server process. The generator is target/release/p2p-loadgen (loadgen/).
#
#   bash bench/load.sh                         # ours (1 node) and baseline, a few minutes
#   SERVERS="ours" IDLE_CLIENTS=5000 CLIENTS=1000 GROUP=4 START=5000 FACTOR=1.4 bash bench/load.sh
#   SERVERS="ours2" bash bench/load.sh         # two of our nodes sharing a redis-server (needs --redis-url)
#   SERVERS="ours floor" bash bench/load.sh    # beside the transport's floor: a bare websocket relay
#                                              # on the same stack (loadgen/src/bin/p2p-relay-floor.rs);
#                                              # floor-rewrite: the same, reading and rewriting each message
#   BENCH_PRIORITY=-10 bash bench/load.sh      # on a machine shared with builds (see above)
#   BEFORE_BIN=/path/to/p2p-signaling SERVERS="before ours" bash bench/load.sh
#                                              # another build of our server (e.g. main's) in the same run
#   RATES=10000,20000,30000 STEP_SECS=5 P99_MS=1000000 bash bench/load.sh
#                                              # fixed rates, no cut-off: CPU per relay at equal rates
#
# JSON per phase and server logs land in bench/results/ (or $RESULTS); a markdown table on stdout.
set -euo pipefail
# BENCH_PRIORITY=-10: run in a session of its own whose scheduling weight (autogroup nice) is raised,
# so that builds in other sessions on a shared machine do not starve the measurement (Linux, root).
if [ -n "${BENCH_PRIORITY:-}" ] && [ -z "${BENCH_IN_SESSION:-}" ]; then
  BENCH_IN_SESSION=1 exec setsid bash "$0" "$@"
fi
if [ -n "${BENCH_PRIORITY:-}" ]; then
  echo "$BENCH_PRIORITY" >/proc/self/autogroup || echo "warning: cannot set autogroup priority" >&2
fi
BENCH="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$BENCH")"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
SERVERS="${SERVERS:-ours baseline}"
IDLE_CLIENTS="${IDLE_CLIENTS:-5000}"
CLIENTS="${CLIENTS:-1000}"
GROUP="${GROUP:-4}"
START="${START:-5000}"
FACTOR="${FACTOR:-1.4}"
STEP_SECS="${STEP_SECS:-3}"
P99_MS="${P99_MS:-50}"
# RATES (comma-separated) replaces the START x FACTOR steps.
REFINE="${REFINE-1.1}"
if [ -n "${RATES:-}" ]; then STEPS=(--rates "$RATES"); else STEPS=(--start "$START" --factor "$FACTOR"); fi
if [ -z "${RATES:-}" ] && [ -n "$REFINE" ]; then STEPS+=(--refine "$REFINE"); fi
if [ -z "${RATES:-}" ] && [ "${RETRY:-1}" = 1 ]; then STEPS+=(--retry); fi
RESULTS="${RESULTS:-$BENCH/results}"
mkdir -p "$RESULTS"
# Both ends of every client live on this machine (server and generator are separate processes).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
[ "$(ulimit -n)" -gt $((IDLE_CLIENTS + 100)) ] || echo "warning: open-files limit $(ulimit -n) < IDLE_CLIENTS" >&2

(cd "$ROOT" && bash scripts/patch-deps.sh && cargo build -q --release -p p2p-signaling -p p2p-loadgen)
[[ " $SERVERS " == *" baseline "* ]] && { [ -d "$BENCH/baseline/node_modules" ] || (cd "$BENCH/baseline" && npm ci --no-audit --no-fund >&2); }

# PIDS, cleanup, start NAME LOG (sets URLS and SPIDS), OURS_ARGS: shared with bench/cpu-per-relay.sh.
source "$BENCH/servers.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

for name in $SERVERS; do
  log="$RESULTS/$name-idle"
  start "$name" "$log"
  echo "== $name: $IDLE_CLIENTS idle clients ($URLS)" >&2
  "$TARGET/p2p-loadgen" --url "$URLS" --pid "$SPIDS" --clients "$IDLE_CLIENTS" --idle-only >"$log.json"
  cleanup
  log="$RESULTS/$name-relay"
  start "$name" "$log"
  echo "== $name: $CLIENTS clients in groups of $GROUP, rates ${STEPS[*]} ($URLS)" >&2
  "$TARGET/p2p-loadgen" --url "$URLS" --pid "$SPIDS" --clients "$CLIENTS" --group "$GROUP" \
    "${STEPS[@]}" --step-secs "$STEP_SECS" --p99-ms "$P99_MS" >"$log.json"
  cleanup
done

echo
echo "$(date -u +%F\ %H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), autogroup $(cat /proc/self/autogroup 2>/dev/null | cut -d' ' -f2-); relay: $CLIENTS clients, groups of $GROUP, ${STEP_SECS} s per step, ~200-byte payloads."
echo
echo "| server | idle clients | connect rate (conn/s) | RSS per idle connection (KiB) | max relays/s at p99 ≤ $P99_MS ms | p50 / p99 there (ms) | server CPU there | µs server CPU per relay | generator CPU | lowest failing step |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for name in $SERVERS; do
  jq -rs --arg name "$name" '
    .[0] as $i | .[1] as $r | $r.max as $m | ($r.steps | map(select((.ok | not) and (.offered > ($m.offered // 0)))) | min_by(.offered)) as $f |
    ($r.steps | map(select((.ok | not) and (.offered <= ($m.offered // 0)))) | length) as $again |
    "| \($name) | \($i.connected) | \($i.connect_rate) | \($i.rss_per_idle_conn_kib) | " +
    (if $m then "\($m.relay_rate) | \($m.p50_ms) / \($m.p99_ms) | \($m.server_cpu_pct) % | \((($m.server_cpu_pct * 10000) / $m.relay_rate) | floor) | \($m.gen_cpu_pct) % | "
     else "none | | | | | " end) +
    (if $f then "\($f.offered)/s: \($f.relay_rate)/s, p99 \($f.p99_ms) ms, lost \($f.lost)\(if $f.generator_kept_up then "" else " (generator behind)" end)\(if $f.machine_pct then ", machine \($f.machine_pct.idle) % idle, softirq \($f.machine_pct.softirq) %, steal \($f.machine_pct.steal) %" else "" end)" else "none (ran out of steps)" end) +
    (if $again > 0 then "; \($again) step(s) below passed on a second try" else "" end) + " |"
  ' "$RESULTS/$name-idle.json" "$RESULTS/$name-relay.json"
done
