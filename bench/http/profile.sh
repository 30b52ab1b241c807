#!/usr/bin/env bash
# CPU profile of the gateway under steady load: perf samples of the gateway process (pinned to one core) at c=16 on
# the 2 KB chat body, after a warm-up long enough for tiered compilation to settle; prints the hottest symbols.
#
#   bash bench/http/profile.sh                      # WARMUP=60 SECONDS_PROFILED=10
#   TARGET=bare bash bench/http/profile.sh       # the bare YARP forwarder under the same load
#   GATEWAY_ENV="Classifier__OnRequestPath=false" bash bench/http/profile.sh   # without the classifier
#   CONNS=1 bash bench/http/profile.sh              # one request at a time (default 16)
#   SYSCALLS=1 bash bench/http/profile.sh           # also which system calls, per request (perf stat on the syscall tracepoints)
#
# Needs: perf (apt-get install linux-perf), wrk, the .NET SDK. JIT-compiled frames are named through
# DOTNET_PerfMapEnabled=1 (/tmp/perf-<pid>.map) with W^X off (DOTNET_EnableWriteXorExecute=0: otherwise the code sits in a
# memfd mapping that perf cannot match to the map).
set -euo pipefail
cd "$(dirname "$0")/../.."
WARMUP=${WARMUP:-60}
CONNS=${CONNS:-16}              # concurrent connections of the load (wrk -c)
SECONDS_PROFILED=${SECONDS_PROFILED:-10}
TOP=${TOP:-45}
PERF_DATA=${PERF_DATA:-}          # a path: keep the samples there (perf report -i PATH) instead of a temp file
GATEWAY_ENV=${GATEWAY_ENV:-}
UP=5211 GW=5213
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
source bench/http/common.sh
export DOTNET_TieredPGO=1
start_upstream 1
if [ "${TARGET:-gateway}" = bare ]; then
  # The same load through the bare YARP forwarder (bench/Gateway.Bench.Servers bare-proxy), to compare with.
  env DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 taskset -c 0 "$servers" \
    bare-proxy --urls "http://127.0.0.1:$GW" --upstream "http://127.0.0.1:$UP" > /dev/null 2>&1 & pids+=($!)
  gw=$!
  wait_healthy
else
  # shellcheck disable=SC2086 # GATEWAY_ENV is a list of VAR=value words
  start_gateway 0 DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 $GATEWAY_ENV
fi
load() { BENCH_BODY=bench/http/chat.json BENCH_KEY=$KEY taskset -c 1 wrk -t1 -c"$CONNS" -d"$1"s -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions"; }
load "$WARMUP" > /dev/null
load $((SECONDS_PROFILED + 2)) > "$out/wrk.txt" &
loader=$!
sleep 1
perf record -F 999 -g -p "$gw" -o "${PERF_DATA:-$out/perf.data}" -- sleep "$SECONDS_PROFILED" 2>/dev/null
wait "$loader" || true
echo "load while profiled: $(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt") req/s"
# System calls and context switches per request, counted in a second window of the same load.
load 6 > "$out/wrk2.txt" &
loader=$!
sleep 1
perf stat -e raw_syscalls:sys_enter,context-switches,page-faults,task-clock -p "$gw" -o "$out/stat.txt" -- sleep 4 2>/dev/null || true
wait "$loader" || true
per_request() { awk -v c="$(awk -v e="$1" '$2 == e {gsub(",", "", $1); print $1}' "$out/stat.txt")" -v r="$rps" 'BEGIN {printf "%s in 4 s at %s req/s = %.2f per request", c, r, c / (r * 4)}'; }
rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk2.txt")
echo "system calls: $(per_request raw_syscalls:sys_enter)"
echo "context switches (the gateway's threads going off the core: waits, wake-ups of parked threads): $(per_request context-switches)"
echo "page faults (first touches of memory the collector decommitted, or new): $(per_request page-faults)"
cpu_ms=$(awk '$3 == "task-clock" {gsub(",", "", $1); print $1}' "$out/stat.txt")
if [ "${SYSCALLS:-0}" = 1 ]; then
  # Which system calls, per request: each one's tracepoint counted by perf stat over a third window of the same load.
  names="recvfrom sendto recvmsg sendmsg read write readv writev pread64 pwrite64 epoll_wait epoll_ctl futex sched_yield
    fsync fdatasync mprotect madvise mmap munmap membarrier getrusage openat close ioctl fcntl"
  events=$(for n in $names; do printf 'syscalls:sys_enter_%s,' "$n"; done)
  load 6 > "$out/wrk3.txt" &
  loader=$!
  sleep 1
  perf stat -e "${events%,}" -p "$gw" -o "$out/sys.txt" -- sleep 4 2>/dev/null || true
  wait "$loader" || true
  rps3=$(awk '/Requests\/sec/ {print $2}' "$out/wrk3.txt")
  echo "== system calls per request by name ($rps3 req/s)"
  awk -v r="$rps3" '$2 ~ /^syscalls:sys_enter_/ {gsub(",", "", $1); sub("syscalls:sys_enter_", "", $2); if ($1 > 0) printf "%-12s %7.3f\n", $2, $1 / (r * 4)}' "$out/sys.txt" | sort -k2 -nr
fi
echo "CPU: $cpu_ms ms in 4 s = $(awk -v m="$cpu_ms" -v r="$rps" 'BEGIN {printf "%.1f", m * 1000 / (r * 4)}') µs per request"
echo "== self time, top $TOP symbols (share of the gateway's samples)"
perf report -i "${PERF_DATA:-$out/perf.data}" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n "$TOP" || true
echo "== by module"
perf report -i "${PERF_DATA:-$out/perf.data}" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 15 || true
echo "== inclusive, gateway frames"
perf report -i "${PERF_DATA:-$out/perf.data}" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | grep -E 'Gateway\.|Yarp|Polly|Prometheus|Kestrel|Onnx|Tokeniz' | head -n "$TOP" || true
