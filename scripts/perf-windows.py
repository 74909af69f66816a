#!/usr/bin/env python3
"""The profile of a benchmark restricted to the windows it measured.

Reads `perf script -F comm,pid,tid,time,ip,sym` (recorded with `perf record -k CLOCK_MONOTONIC
--call-graph dwarf`) on stdin and a windows file (`start end` per line, CLOCK_MONOTONIC ns, as the
join bench writes with P2P_BENCH_WINDOWS) and prints self and inclusive shares of the samples
taken inside a window. Samples outside (group set-up, teardown between rounds) are left out, so
the figures are what the measured joins cost. usage: perf-windows.py WINDOWS [TOP]
"""
import collections
import re
import sys

windows = sorted(tuple(int(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip())
top = int(sys.argv[2]) if len(sys.argv) > 2 else 60
header = re.compile(r'^(\S.*?)\s+\d+(?:/\d+)?\s+(\d+)\.(\d+):')


def inside(t):
    return any(a <= t <= b for a, b in windows)


inclusive, self_time = collections.Counter(), collections.Counter()
kept = seen = 0
stamp, frames = None, []


def finish():
    global kept, seen
    if stamp is None:
        return
    seen += 1
    if not inside(stamp):
        return
    kept += 1
    if frames:
        self_time[frames[0]] += 1
    for name in set(frames):
        inclusive[name] += 1


for line in sys.stdin:
    if not line.strip():
        finish()
        stamp, frames = None, []
    elif not line[0].isspace():
        m = header.match(line)
        if m:
            stamp = int(m.group(2)) * 10**9 + int(m.group(3).ljust(9, '0'))
    else:
        parts = line.split(None, 1)
        if len(parts) == 2:
            frames.append(re.sub(r'\+0x[0-9a-f]+| \(.*\)$', '', parts[1].strip())[:150])
finish()

print(f"{kept} of {seen} samples inside {len(windows)} windows")
for title, counter in (("self", self_time), ("inclusive", inclusive)):
    print(f"\n== {title} ==")
    for name, n in counter.most_common(top):
        print(f"{100 * n / max(kept, 1):6.2f}% {name}")
