#!/usr/bin/env bash
# Join on a slow network (docs/performance.md, "On a slow network"): the signaling server, a host
# and a joiner in three network namespaces this bench makes itself, every packet between them
# crossing a user-space delay line (benches/netdelay/; this kernel has no sch_netem), at 0 / 10 /
# 25 / 50 ms one way. Prints join -> channel open per phase, p50 / p95, and open / RTT.
#   bash scripts/bench-netdelay.sh     (env NETDELAY_MS, NETDELAY_ROUNDS, NETDELAY_LOSS)
# Needs root, /dev/net/tun and iproute2's `ip netns`; skips with the reason otherwise.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
skip() { echo "bench-netdelay: skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and TUN devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (TUN driver)"
command -v ip >/dev/null || skip "no \`ip\` (iproute2)"
probe="p2pnd-probe-$$"
ip netns add "$probe" 2>/dev/null || skip "\`ip netns add\` is not allowed here"
ip netns del "$probe"
source scripts/release-server.sh
cargo bench -q --bench netdelay
