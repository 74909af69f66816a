#!/usr/bin/env bash
# Side-by-side load benchmark: our Rust signaling server (target/release/p2p-signaling) against a
# Node port of the Extreal seed server (bench/baseline). Every (server, clients) cell gets a fresh
# server process, so RSS growth and host names never leak from one run into the next.
#
#   bench/run.sh                        # 1000 and 5000 clients, 20000 msgs/s offered, 10 s relay
#   CLIENTS="1000 5000 10000" RATE=30000 DURATION=10 bench/run.sh
#
# Raw JSON per run and server stdout/stderr are kept in bench/results/ (or $RESULTS).
set -euo pipefail

BENCH="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$BENCH")"
OURS="$ROOT/target/release/p2p-signaling"
CLIENTS="${CLIENTS:-1000 5000}"
RATE="${RATE:-20000}"          # aggregate messages/s; ~20k keeps one generator core below saturation
DURATION="${DURATION:-10}"
CONCURRENCY="${CONCURRENCY:-100}"
RESULTS="${RESULTS:-$BENCH/results}"
mkdir -p "$RESULTS"

# Each client is a socket on both ends (generator and server run as this user).
ulimit -n 65536 2>/dev/null || echo "warning: could not raise open-files limit; it is $(ulimit -n)" >&2

(cd "$ROOT" && cargo build -q --release -p p2p-signaling) || { echo "cannot build $OURS" >&2; exit 1; }
for dir in baseline load; do
  [ -d "$BENCH/$dir/node_modules" ] || (cd "$BENCH/$dir" && npm ci --no-audit --no-fund >&2)
done

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    # Our server drains for up to 3 s on SIGTERM; do not let it outlive the script.
    for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# start_server NAME LOGBASE: starts it in the background, sets SERVER_PID and URL.
start_server() {
  local name=$1 log=$2
  case $name in
    ours)
      # Limits raised so the benchmark measures throughput, not our rate limiter.
      "$OURS" --bind 127.0.0.1:0 --rate-per-sec 100000 --rate-burst 100000 \
        --max-connections 20000 --max-group-size 10000 >"$log.out" 2>"$log.err" &
      ;;
    baseline)
      PORT=0 node "$BENCH/baseline/server.mjs" >"$log.out" 2>"$log.err" &
      ;;
  esac
  SERVER_PID=$!
  URL=""
  for _ in $(seq 100); do
    URL=$(grep -ho 'http://127\.0\.0\.1:[0-9]*' "$log.out" "$log.err" 2>/dev/null | head -1 || true)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "$name did not start; see $log.err" >&2
  exit 1
}

ROWS=()
for name in ours baseline; do
  for n in $CLIENTS; do
    log="$RESULTS/$name-$n"
    start_server "$name" "$log"
    echo "== $name, $n clients, $RATE msgs/s offered ($URL, pid $SERVER_PID)" >&2
    node "$BENCH/load/load.mjs" --url "$URL" --clients "$n" --pid "$SERVER_PID" \
      --rate "$RATE" --duration "$DURATION" --concurrency "$CONCURRENCY" >"$log.json"
    cat "$log.json" >&2
    # The generator exits without closing its sockets; give the server 2 s to process the mass
    # disconnect (then /metrics shows whether cleanup left connections or groups behind).
    sleep 2
    # Our server counts its refusals; keep them next to the run for the report.
    [ "$name" = ours ] && curl -sf "$URL/metrics" >"$log.metrics" 2>/dev/null || true
    stop_server
    if grep -q panicked "$log.err" 2>/dev/null; then
      echo "warning: $name logged $(grep -c panicked "$log.err") panic(s); see $log.err" >&2
    fi
    ROWS+=("$name $log.json")
  done
done

echo
echo "Offered load: $RATE msgs/s aggregate for ${DURATION}s, ~200-byte candidate payloads; generator: 1 Node process."
echo
echo "| server | clients | connected | connect rate (conn/s) | RSS/conn (KiB) | RSS after relay (MiB) | relay (msgs/s) | lost | p50 (ms) | p99 (ms) | server CPU % | generator CPU % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do
  set -- $row
  node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const cells = [process.argv[1], d.clients, d.connected, d.connect_rate, d.rss_per_conn_kib, (d.rss_after_relay_kib / 1024).toFixed(1), d.relay_rate,
      d.lost, d.p50_ms, d.p99_ms, d.server_cpu_pct, d.gen_cpu_pct];
    console.log("| " + cells.join(" | ") + " |");
    if (Object.keys(d.problems).length) console.error(process.argv[1], d.clients, "problems:", JSON.stringify(d.problems));
  ' "$1" "$2"
done
