#!/usr/bin/env bash
# Resident memory of the gateway (no local model): idle after start, after a minute of load, right after a few
# 15 MiB request bodies, and 30 s later (does the high-water mark come back?).
#
#   bash bench/http/memory.sh
#
# Prints RSS (VmRSS) and its high-water mark (VmHWM) from /proc at each step. Needs wrk and the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
UP=5201 GW=5203
source bench/http/common.sh
start_upstream
start_gateway ""

mem() { printf '%-34s RSS %6d MiB   high-water %6d MiB\n' "$1" $(( $(awk '/VmRSS/ {print $2}' /proc/$gw/status) / 1024 )) $(( $(awk '/VmHWM/ {print $2}' /proc/$gw/status) / 1024 )); }

sleep 5; mem "idle after start"
BENCH_BODY=bench/http/chat.json BENCH_KEY=$KEY wrk -t1 -c4 -d60s -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions" > "$out/wrk.txt"
echo "  ($(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt") req/s during the minute of load)"
mem "after 60 s of load (c=4, 2 KB chat)"
sleep 10; mem "idle 10 s later"

# A 15 MiB chat body: one user message of 15 MiB of text in lines (under the 16 MiB default limit); the newlines are
# escaped in the JSON, as in most real prompts.
python3 - "$out/big.json" <<'PY'
import json, sys
text = ("All work and no play makes a long prompt.\n" * 400000)[: 15 * 1024 * 1024 - 200]
json.dump({"model": "auto", "messages": [{"role": "user", "content": text}]}, open(sys.argv[1], "w"))
PY
for i in 1 2 3 4 5; do
  curl -s -o /dev/null -w "  15 MiB body $i: HTTP %{http_code} in %{time_total}s\n" -H "Authorization: Bearer $KEY" \
    -H "Content-Type: application/json" --data-binary @"$out/big.json" "http://127.0.0.1:$GW/v1/chat/completions"
done
mem "right after five 15 MiB bodies"
sleep 30; mem "30 s later"
BENCH_BODY=bench/http/chat.json BENCH_KEY=$KEY wrk -t1 -c4 -d10s -s bench/http/post.lua "http://127.0.0.1:$GW/v1/chat/completions" > /dev/null
sleep 5; mem "after 10 s more of small requests"
