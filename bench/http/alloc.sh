#!/usr/bin/env bash
# Where the gateway's allocations come from under steady load: the gateway pinned to one core (wrk and the upstream on
# the other) warmed at c=16 on the 2 KB chat body, then traced with `dotnet-trace collect --profile gc-verbose` (one
# sampled allocation, with its type and stack, about every 100 KB) while the load goes on. Prints the sampled bytes per
# request by type and by the gateway/YARP/ASP.NET Core frame that asked for them (bench/Gateway.Benchmarks
# AllocationReport), and the runtime's own count of bytes allocated per request over the same window.
#
#   bash bench/http/alloc.sh                        # WARMUP=40 SECONDS_TRACED=10 BODY=chat
#   BODY=chat-stream bash bench/http/alloc.sh       # the streamed request
#   GATEWAY_ENV="Classifier__OnRequestPath=false" bash bench/http/alloc.sh
#   TARGET=bare bash bench/http/alloc.sh          # the bare YARP forwarder under the same load
#   KEEP=/tmp/gw.nettrace bash bench/http/alloc.sh  # keep the trace
#
# Needs: wrk, the .NET SDK, dotnet-trace (dotnet tool install -g dotnet-trace).
set -euo pipefail
cd "$(dirname "$0")/../.."
WARMUP=${WARMUP:-40}
SECONDS_TRACED=${SECONDS_TRACED:-10}
BODY=${BODY:-chat}
GATEWAY_ENV=${GATEWAY_ENV:-}
UP=5241 GW=5243
PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || { echo "dotnet-trace is not installed (dotnet tool install -g dotnet-trace)" >&2; exit 1; }
source bench/http/common.sh
dotnet build -c Release -v q -nologo bench/Gateway.Benchmarks/Gateway.Benchmarks.csproj >/dev/null
start_upstream 1
if [ "${TARGET:-gateway}" = bare ]; then
  # The same load through the bare YARP forwarder (bench/Gateway.Bench.Servers bare-proxy), to compare with. It has no
  # request counter: the requests are counted by wrk over the whole load and scaled to the traced window.
  taskset -c 0 "$servers" bare-proxy --urls "http://127.0.0.1:$GW" --upstream "http://127.0.0.1:$UP" > /dev/null 2>&1 & pids+=($!)
  gw=$!
  wait_healthy
else
  # shellcheck disable=SC2086 # GATEWAY_ENV is a list of VAR=value words
  start_gateway 0 $GATEWAY_ENV
fi
load() { BENCH_BODY=bench/http/$BODY.json BENCH_KEY=$KEY taskset -c 1 wrk -t1 -c16 -d"$1"s -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions"; }
served() { curl -sf "http://127.0.0.1:$GW/metrics" | awk '/^gateway_requests_total/ {s += $NF} END {printf "%d", s}' || echo 0; }
load "$WARMUP" > /dev/null
load $((SECONDS_TRACED + 15)) > "$out/wrk.txt" &
loader=$!
sleep 1
before=$(served)
dotnet-trace collect -p "$gw" --profile gc-verbose --duration "00:00:00:$(printf %02d "$SECONDS_TRACED")" -o "$out/gw.nettrace" > "$out/trace.log" 2>&1
after=$(served)
wait "$loader"
if [ "$after" = 0 ]; then
  # bare: wrk's rate over the traced seconds (the trace slows the process alike for the whole load, near enough).
  before=0 after=$(awk -v s="$SECONDS_TRACED" '/Requests\/sec/ {printf "%d", $2 * s}' "$out/wrk.txt")
fi
[ -n "${KEEP:-}" ] && cp "$out/gw.nettrace" "$KEEP"
echo "requests while traced: $((after - before)) ($BODY, c=16)"
bench/Gateway.Benchmarks/bin/Release/net10.0/Gateway.Benchmarks allocations "$out/gw.nettrace" $((after - before)) "${TOP:-30}"
