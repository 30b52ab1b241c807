#!/usr/bin/env bash
# The tail at concurrency 1, and what caused it: the gateway pinned to one core (wrk and the upstream on the other)
# warmed at c=16, then WINDOWS windows of c=1 load, each printing req/s, p50 and p99. With TRACE=1 the last window is
# also recorded with `perf sched` on both cores, and the longest gaps between two responses are listed with what ran on
# each core meanwhile (the gateway's threads, the ledger writer, the upstream's, wrk's, or nothing).
#
#   bash bench/http/tail.sh                                        # WARMUP=40 WINDOWS=3 SECONDS_PER_WINDOW=8
#   TRACE=1 bash bench/http/tail.sh
#   GATEWAY_ENV="Classifier__OnRequestPath=false" bash bench/http/tail.sh
#
# Needs: wrk, the .NET SDK; perf (apt-get install linux-perf) and python3 for TRACE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
WARMUP=${WARMUP:-40}
WINDOWS=${WINDOWS:-3}
SECONDS_PER_WINDOW=${SECONDS_PER_WINDOW:-8}
GATEWAY_ENV=${GATEWAY_ENV:-}
UP=5231 GW=5233
source bench/http/common.sh
start_upstream 1
# shellcheck disable=SC2086 # GATEWAY_ENV is a list of VAR=value words
start_gateway 0 $GATEWAY_ENV
load() { BENCH_BODY=bench/http/chat.json BENCH_KEY=$KEY taskset -c 1 wrk -t1 -c"$1" -d"$2"s --latency -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions"; }
report() { echo "$1: $(awk '/Requests\/sec/ {print $2}' "$2") req/s, p50 $(awk '$1 == "50%" {print $2}' "$2"), p99 $(awk '$1 == "99%" {print $2}' "$2")"; }
load 16 "$WARMUP" > /dev/null
for i in $(seq 1 "$WINDOWS"); do
  if [ "${TRACE:-0}" = 1 ] && [ "$i" = "$WINDOWS" ]; then
    load 1 "$SECONDS_PER_WINDOW" > "$out/w.txt" & loader=$!
    sleep 1
    perf sched record -a -o "$out/sched.data" -- sleep $((SECONDS_PER_WINDOW - 2)) > /dev/null 2>&1
    wait "$loader"
  else
    load 1 "$SECONDS_PER_WINDOW" > "$out/w.txt"
  fi
  report "c=1 window $i" "$out/w.txt"
done
[ "${TRACE:-0}" = 1 ] || exit 0
perf sched timehist -i "$out/sched.data" -w 2> /dev/null > "$out/timehist.txt"
python3 - "$out/timehist.txt" <<'PY'
import collections, re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+) \[(\d+)\]\s+(.+?)\s{2,}(.*)$', line.rstrip())
    if m:
        rows.append((float(m.group(1)), int(m.group(2)), re.sub(r'\[\d+(/\d+)?\]', '', m.group(3).strip()), m.group(4)))
# With one connection, each response is the gateway (core 0) waking wrk: the gap between two is one request plus wrk's turn.
ends = [t for t, cpu, task, rest in rows if cpu == 0 and 'awakened: wrk' in rest]
gaps = sorted(((b - a, a, b) for a, b in zip(ends, ends[1:])), reverse=True)
ordered = sorted(g for g, _, _ in gaps)
print(f"{len(ends)} responses traced; gap p50 {ordered[len(ordered) // 2] * 1e3:.3f} ms, p99 {ordered[int(len(ordered) * .99)] * 1e3:.3f} ms")
print("longest gaps, and the run time (ms) of what ran on each core meanwhile:")
for gap, a, b in gaps[:12]:
    ran = collections.Counter()
    for t, cpu, task, rest in rows:
        fields = rest.split()
        if a < t <= b and 'awakened' not in rest and len(fields) >= 3:
            ran[(cpu, task)] += float(fields[2])
    print(f"  {gap * 1e3:6.2f} ms: " + ", ".join(f"cpu{c} {task} {ms:.2f}" for (c, task), ms in ran.most_common(5)))
# The p99 is set by the slowest 1-2 % of gaps, not by the few longest: what ran, on average, in the gaps at or above
# the 98th percentile against the gaps around the median (the 40th to 60th), per core and task.
import bisect
starts = [t for t, _, _, _ in rows]
def mean_run(selected):
    ran = collections.Counter()
    for _, a, b in selected:
        for t, cpu, task, rest in rows[bisect.bisect_right(starts, a):bisect.bisect_right(starts, b)]:
            fields = rest.split()
            if 'awakened' not in rest and len(fields) >= 3:
                ran[(cpu, task)] += float(fields[2])
    return {key: ms / max(1, len(selected)) for key, ms in ran.items()}
by_length = sorted(gaps)
tail = by_length[int(len(by_length) * .98):]
middle = by_length[int(len(by_length) * .4):int(len(by_length) * .6)]
at_tail, at_middle = mean_run(tail), mean_run(middle)
print(f"mean run time per gap (ms): {len(tail)} gaps at or above p98 (mean {sum(g for g, _, _ in tail) / len(tail) * 1e3:.2f} ms)"
      f" against {len(middle)} around the median (mean {sum(g for g, _, _ in middle) / len(middle) * 1e3:.3f} ms)")
for key in sorted(at_tail, key=lambda k: at_middle.get(k, 0) - at_tail[k])[:10]:
    print(f"  cpu{key[0]} {key[1]:<24} {at_tail[key]:7.3f} vs {at_middle.get(key, 0):7.3f}")
PY
