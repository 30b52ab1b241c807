#!/usr/bin/env bash
# What the gateway runs in the slow responses at concurrency 1: tail.sh's setup (gateway pinned to one core, wrk and the
# upstream on the other, warmed at c=16), then one c=1 window recorded with `perf record` on both cores: CPU samples
# with call stacks, and the scheduler's wake-ups. Each response is the gateway's core waking wrk; the gaps between two
# responses at or above the 98th percentile (the ones that set the p99) are compared with the gaps around the median:
# per gap, how many milliseconds of the gateway's samples fell on each frame (leaf, and the first gateway/YARP/ASP.NET
# Core/Polly frame of the stack), so the extra time of the slow gaps has a name.
#
#   bash bench/http/tail-stacks.sh                     # WARMUP=120 (tier-up done) SECONDS_RECORDED=6
#   GATEWAY_ENV="Classifier__OnRequestPath=false" bash bench/http/tail-stacks.sh
#   KEEP=/tmp/c1.script bash bench/http/tail-stacks.sh   # keep the `perf script` text
#
# Needs: wrk, perf (apt-get install linux-perf), python3, the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
WARMUP=${WARMUP:-120}
SECONDS_RECORDED=${SECONDS_RECORDED:-6}
GATEWAY_ENV=${GATEWAY_ENV:-}
UP=5271 GW=5273
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
source bench/http/common.sh
start_upstream 1
# shellcheck disable=SC2086 # GATEWAY_ENV is a list of VAR=value words
start_gateway 0 DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 $GATEWAY_ENV
load() { BENCH_BODY=bench/http/chat.json BENCH_KEY=$KEY taskset -c 1 wrk -t1 -c"$1" -d"$2"s --latency -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions"; }
load 16 "$WARMUP" > /dev/null
load 1 8 > /dev/null
load 1 $((SECONDS_RECORDED + 2)) > "$out/w.txt" & loader=$!
sleep 1
perf record -a -F 1999 -g -e cpu-clock -e sched:sched_wakeup -o "$out/perf.data" -- sleep "$SECONDS_RECORDED" > /dev/null 2>&1
wait "$loader"
echo "c=1 while recorded: $(awk '/Requests\/sec/ {print $2}' "$out/w.txt") req/s, p50 $(awk '$1 == "50%" {print $2}' "$out/w.txt"), p99 $(awk '$1 == "99%" {print $2}' "$out/w.txt")"
perf script -i "$out/perf.data" -F comm,tid,cpu,time,event,trace,ip,sym 2> /dev/null > "$out/script.txt"
[ -n "${KEEP:-}" ] && cp "$out/script.txt" "$KEEP"
python3 - "$out/script.txt" "$gw" <<'PY'
import bisect, collections, re, sys
path, gateway_pid = sys.argv[1], sys.argv[2]
header = re.compile(r'^(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$')
events = []  # (time, cpu, comm, tid, event, trace, frames)
current = None
for line in open(path, errors='replace'):
    if not line.strip():
        continue
    if line[0] not in ' \t':
        m = header.match(line.rstrip())
        if m:
            current = [float(m.group(4)), int(m.group(3)), m.group(1).strip(), int(m.group(2)), m.group(5), m.group(6), []]
            events.append(current)
        continue
    if current is not None:
        parts = line.strip().split(None, 1)
        current[6].append(parts[1] if len(parts) > 1 else parts[0])
# Response ends: on the gateway's core, something waking wrk.
ends = [e[0] for e in events if e[4] == 'sched:sched_wakeup' and e[1] == 0 and 'comm=wrk' in e[5]]
gaps = sorted((b - a, a, b) for a, b in zip(ends, ends[1:]))
print(f"{len(ends)} responses recorded; gap p50 {gaps[len(gaps) // 2][0] * 1e3:.3f} ms, p98 {gaps[int(len(gaps) * .98)][0] * 1e3:.3f} ms, p99 {gaps[int(len(gaps) * .99)][0] * 1e3:.3f} ms")
samples = sorted((e[0], e[2], e[6]) for e in events if e[4] == 'cpu-clock' and e[1] == 0)
times = [s[0] for s in samples]
period_ms = 1e3 / 1999
# perf-map names read "[returns] [Assembly] Namespace.Type::Method(args)".
ours = re.compile(r'\] (Gateway|Yarp|Microsoft\.AspNetCore|Polly|Prometheus|SQLitePCL|Microsoft\.Data\.Sqlite|Microsoft\.ML\.OnnxRuntime)\.')
def clean(frame):
    frame = re.sub(r'\+0x[0-9a-f]+$', '', frame)
    frame = re.sub(r'\[Optimized[^\]]*\]|\[Tier[^\]]*\]|\[PreJIT\]|\[QuickJitted\]|\[OSR\]', '', frame).strip()
    frame = re.sub(r'\(.*$', '', frame)
    return re.sub(r'^.*\] ', '', frame)[:110]
def profile(selected):
    leaf, owner, comm = collections.Counter(), collections.Counter(), collections.Counter()
    for _, a, b in selected:
        for t, task, frames in samples[bisect.bisect_right(times, a):bisect.bisect_right(times, b)]:
            comm[task] += period_ms
            leaf[clean(frames[0]) if frames else '?'] += period_ms
            owner[next((clean(f) for f in frames if ours.search(f)), f'({task}) ' + (clean(frames[-1]) if frames else '?'))] += period_ms
    n = max(1, len(selected))
    return [{k: v / n for k, v in c.items()} for c in (comm, leaf, owner)]
tail = gaps[int(len(gaps) * .98):]
middle = gaps[int(len(gaps) * .4):int(len(gaps) * .6)]
slow, usual = profile(tail), profile(middle)
print(f"per gap, ms of the gateway core's samples: {len(tail)} gaps >= p98 (mean {sum(g for g, _, _ in tail) / len(tail) * 1e3:.2f} ms) "
      f"vs {len(middle)} around the median (mean {sum(g for g, _, _ in middle) / len(middle) * 1e3:.3f} ms)")
for title, i, top in (("by thread", 0, 8), ("by leaf frame", 1, 25), ("by first gateway/framework frame", 2, 25)):
    print(f"== {title} (slow vs median, largest difference first)")
    keys = sorted(set(slow[i]) | set(usual[i]), key=lambda k: usual[i].get(k, 0) - slow[i].get(k, 0))
    for k in keys[:top]:
        print(f"  {slow[i].get(k, 0):7.3f} vs {usual[i].get(k, 0):7.3f}  {k}")
PY
