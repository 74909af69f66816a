# Sourced by bench/load.sh and bench/cpu-per-relay.sh (with $BENCH and $TARGET set): starting the
# servers they measure, each the same way in both. `start NAME LOG` starts `ours`, `before` (the
# p2p-signaling binary $BEFORE_BIN), `floor` (the bare relay; `floor-rewrite`: it reads and
# rewrites each message's JSON), `baseline` (the Node port of
# Extreal's server) or `ours2` (two of our nodes on a redis-server), and sets URLS and SPIDS
# (comma-separated); `cleanup` stops everything started.

PIDS=() # every process this script started
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
# wait_url LOG: the first http://127.0.0.1:PORT a server printed.
wait_url() {
  for _ in $(seq 100); do
    grep -ho 'http://127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -1 && return 0
    sleep 0.1
  done
  echo "server did not start; see $1" >&2
  exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Limits raised so the benchmark measures throughput, not our per-socket and per-IP limits.
OURS_ARGS=(--bind 127.0.0.1:0 --rate-per-sec 1000000 --rate-burst 1000000 --max-connections 100000
  --max-group-size 10000 --max-sockets-per-ip 100000 --max-tcp-per-ip 100000)

# start NAME LOG: starts the server(s), sets URLS and SPIDS (comma-separated).
start() {
  local name=$1 log=$2
  rm -f "$log".*  # a previous run's log would give wait_url its old URL
  case $name in
    ours)
      "$TARGET/p2p-signaling" "${OURS_ARGS[@]}" >"$log.out" 2>"$log.err" &
      PIDS+=($!); SPIDS=$!; URLS=$(wait_url "$log.out") ;;
    before)
      [ -x "${BEFORE_BIN:-}" ] || { echo "SERVERS=before needs BEFORE_BIN, a p2p-signaling binary" >&2; exit 2; }
      "$BEFORE_BIN" "${OURS_ARGS[@]}" >"$log.out" 2>"$log.err" &
      PIDS+=($!); SPIDS=$!; URLS=$(wait_url "$log.out") ;;
    floor|floor-rewrite)
      "$TARGET/p2p-relay-floor" $([ "$name" = floor-rewrite ] && echo --rewrite) >"$log.out" 2>"$log.err" &
      PIDS+=($!); SPIDS=$!; URLS=$(wait_url "$log.out") ;;
    baseline)
      PORT=0 node "$BENCH/baseline/server.mjs" >"$log.out" 2>"$log.err" &
      PIDS+=($!); SPIDS=$!; URLS=$(wait_url "$log.out") ;;
    ours2)
      local port; port=$(free_port)
      redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$log.redis" 2>&1 &
      PIDS+=($!)
      sleep 0.3
      # Redis counts as part of the deployment: its CPU and RSS are summed with the nodes'.
      URLS=""; SPIDS=$!
      for n in a b; do
        "$TARGET/p2p-signaling" "${OURS_ARGS[@]}" --redis-url "redis://127.0.0.1:$port" >"$log.$n.out" 2>"$log.$n.err" &
        PIDS+=($!); SPIDS="$SPIDS,$!"; URLS="${URLS:+$URLS,}$(wait_url "$log.$n.out")"
      done ;;
    *) echo "unknown server $name (ours, before, floor, floor-rewrite, baseline, ours2)" >&2; exit 2 ;;
  esac
}
