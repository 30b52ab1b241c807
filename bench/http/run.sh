#!/usr/bin/env bash
# HTTP-path benchmark: the gateway against a bare YARP forwarder (and the upstream called directly),
# driven by wrk on loopback in the same run, interleaved, proxies pinned to one core.
#
#   bash bench/http/run.sh                 # defaults: DURATION=10 ROUNDS=2 CONNECTIONS="1 16"
#   DURATION=5 ROUNDS=1 bash bench/http/run.sh
#   SHARED=1 bash bench/http/run.sh        # adds arm "shared": a gateway whose key has RPM/TPM limits and whose
#                                          # team a reject budget, all held in a local redis-server (apt-get install redis-server)
#   NOCLF=1 bash bench/http/run.sh         # adds arm "noclf": the gateway with Classifier:OnRequestPath=false
#   NGINX=0 bash bench/http/run.sh         # leaves out arm "nginx" (on by default when nginx is installed)
#   WARMUP=30                              # seconds of c=16 load per arm and body before measuring (default 30)
#   BASE_REF=<git revision> bash bench/http/run.sh   # adds arm "base": the gateway built from that revision (in a
#                                          # temporary git worktree), so a change's cost is measured in the same run
#
# Prints per arm: requests/s, p50/p99 latency, and CPU time the proxy process spent per request
# (utime+stime from /proc before and after; steadier than latency on a shared machine), then the
# gateway / bare-forwarder ratios. Needs: wrk (apt-get install wrk), the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/http
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-"1 16"}
PROXY_CPU=${PROXY_CPU:-0}     # core for the proxies under test
LOAD_CPU=${LOAD_CPU:-1}       # core for wrk and the upstream
SHARED=${SHARED:-0}
NGINX=${NGINX:-1}             # 1 (default, when nginx is installed): arm "nginx", a second baseline proxy (one process, no buffering)
TTFB=${TTFB:-1}               # 1 (default): after the rounds, the streamed first event's relay delay through each proxy (c=1)
NOCLF=${NOCLF:-0}             # 1: adds arm "noclf", the gateway with Classifier:OnRequestPath=false (the classifier's share)
GATEWAY_ENV=${GATEWAY_ENV:-}  # extra VAR=value settings for the gateway processes only (runtime knobs under study)
BARE_ENV=${BARE_ENV:-}        # extra VAR=value settings for the bare forwarder (the same knob, to compare like with like)
BASE_REF=${BASE_REF:-}        # a git revision: adds arm "base", the gateway as built from it
BASE_ENV=${BASE_ENV:-}        # extra VAR=value settings for arm "base" only, after $GATEWAY_ENV (BASE_REF=HEAD BASE_ENV=...: a knob A/B)
UP=5101 BARE=5102 GW=5103 SGW=5104 REDIS_PORT=5105 NGW=5106 NGX=5107 BGW=5108
KEY=bench-client-key-0000000001

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -d "$out/base-src" ] && git worktree remove --force "$out/base-src" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT

dotnet build -c Release -v q -nologo src/Gateway/Gateway.csproj >/dev/null
dotnet build -c Release -v q -nologo bench/Gateway.Bench.Servers/Gateway.Bench.Servers.csproj >/dev/null
servers=bench/Gateway.Bench.Servers/bin/Release/net10.0/Gateway.Bench.Servers
gateway=src/Gateway/bin/Release/net10.0/Gateway

export DOTNET_TieredPGO=1
taskset -c "$LOAD_CPU" "$servers" upstream --urls "http://127.0.0.1:$UP" & pids+=($!)
taskset -c "$PROXY_CPU" env $BARE_ENV "$servers" bare-proxy --urls "http://127.0.0.1:$BARE" --upstream "http://127.0.0.1:$UP" & pids+=($!)
bare_pid=$!
# start_gateway BINARY PORT NAME [VAR=value ...]: a gateway on the proxy core with the bench's upstream, key and
# policy, its own ledger ($out/NAME.db), the arm's settings, then $GATEWAY_ENV.
start_gateway() {
  local binary=$1 port=$2 name=$3
  shift 3
  env Logging__LogLevel__Default=Warning \
    Upstreams__openai__BaseUrl="http://127.0.0.1:$UP/v1" Upstreams__openai__ApiKey=bench-provider-key \
    Auth__Keys__0__Key=$KEY Auth__Keys__0__Team=bench Policies__Path="$PWD/policies" Ledger__ConnectionString="Data Source=$out/$name.db" \
    "$@" taskset -c "$PROXY_CPU" env $GATEWAY_ENV "$binary" --urls "http://127.0.0.1:$port" & pids+=($!)
}
start_gateway "$gateway" "$GW" gateway
gw_pid=$!
arms="direct bare gateway"
ports="$UP $BARE $GW"
if [ "$SHARED" = 1 ]; then
  command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
  taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --save "" --appendonly no --daemonize no >/dev/null & pids+=($!)
  # The shipped policy plus a reject budget for the bench team that it never reaches.
  mkdir -p "$out/policies" && cp policies/* "$out/policies/"
  printf '  bench: { daily_usd: 1000000, on_exceed: reject }\n' >> "$out/policies/routing.yaml"
  start_gateway "$gateway" "$SGW" shared Auth__Keys__0__RpmLimit=1000000 Auth__Keys__0__TpmLimit=10000000000 \
    Redis__ConnectionString="127.0.0.1:$REDIS_PORT" Policies__Path="$out/policies"
  sgw_pid=$!
  arms="$arms shared"
  ports="$ports $SGW"
fi

if [ "$NGINX" = 1 ] && command -v nginx >/dev/null; then
  mkdir -p "$out/nginx"
  cat > "$out/nginx/nginx.conf" <<CONF
user root;
daemon off;
master_process off;
worker_processes 1;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $out/nginx/body;
  proxy_temp_path $out/nginx/proxy;
  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
CONF
  taskset -c "$PROXY_CPU" nginx -c "$out/nginx/nginx.conf" -p "$out/nginx" & pids+=($!)
  ngx_pid=$!
  arms="$arms nginx"
  ports="$ports $NGX"
fi

if [ "$NOCLF" = 1 ]; then
  start_gateway "$gateway" "$NGW" noclf Classifier__OnRequestPath=false
  ngw_pid=$!
  arms="$arms noclf"
  ports="$ports $NGW"
fi

if [ -n "$BASE_REF" ]; then
  git worktree add --detach "$out/base-src" "$BASE_REF" >/dev/null 2>&1 || { echo "cannot check out $BASE_REF" >&2; exit 1; }
  dotnet build -c Release -v q -nologo "$out/base-src/src/Gateway/Gateway.csproj" >/dev/null
  # Its own classifier model and policy: a revision may not read this checkout's (the model's tokenizer changed in 63dcecb).
  GATEWAY_ENV="$GATEWAY_ENV $BASE_ENV" start_gateway "$out/base-src/src/Gateway/bin/Release/net10.0/Gateway" "$BGW" base \
    Classifier__ModelPath="$out/base-src/models/classifier/classifier.onnx" Policies__Path="$out/base-src/policies"
  bgw_pid=$!
  arms="$arms base"
  ports="$ports $BGW"
fi

for port in $ports; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" -X GET 2>/dev/null && break
    # the upstream and bare proxy answer any path; the gateway answers /healthz
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null | grep -qE '^[2-5]' && break; sleep 0.2; done
done
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "an arm's process ($pid) exited at start; see its output above" >&2; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
to_us() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s/,"",v); print v*1000000} else print v }'; }

# run ARM BODY CONNS → appends "arm body conns rps p50us p99us cpu_us_per_req" to results
run() {
  local arm=$1 body=$2 conns=$3 port pid
  case $arm in direct) port=$UP pid="";; bare) port=$BARE pid=$bare_pid;; gateway) port=$GW pid=$gw_pid;; shared) port=$SGW pid=$sgw_pid;; noclf) port=$NGW pid=$ngw_pid;; nginx) port=$NGX pid=$ngx_pid;; base) port=$BGW pid=$bgw_pid;; esac
  local before=0; [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  BENCH_BODY="$here/$body.json" BENCH_KEY=$KEY taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$conns" -d"${DURATION}s" --latency -s "$here/post.lua" "http://127.0.0.1:$port/v1/chat/completions" > "$out/wrk.txt"
  local after=0; [ -n "$pid" ] && after=$(cpu_ticks "$pid")
  local requests rps p50 p99 errors
  requests=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
  p50=$(to_us "$(awk '$1=="50%" {print $2}' "$out/wrk.txt")")
  p99=$(to_us "$(awk '$1=="99%" {print $2}' "$out/wrk.txt")")
  errors=$(awk '/Non-2xx/ {print $5}' "$out/wrk.txt"); errors=${errors:-0}
  local cpu_us="-"
  [ -n "$pid" ] && cpu_us=$(awk -v b="$before" -v a="$after" -v hz="$hz" -v n="$requests" 'BEGIN{printf "%.1f", (a-b)/hz*1e6/n}')
  echo "$arm $body $conns $rps $p50 $p99 $cpu_us $errors" >> "$out/results"
}

# Warm up every arm (JIT, connection pools) before measuring. The gateway compiles ~13,000 methods and, pinned to one
# saturated core with tiered PGO, runs instrumented and tier-0 code for about a minute of load before its CPU per
# request settles (docs/benchmarks.md, "Warm-up"); a 2 s warm-up measured the JIT. 30 s per body is 60 s per arm.
WARMUP=${WARMUP:-30}
for arm in $arms; do DURATION=$WARMUP run "$arm" chat 16; DURATION=$WARMUP run "$arm" chat-stream 16; done
: > "$out/results"

for round in $(seq 1 "$ROUNDS"); do
  for conns in $CONNECTIONS; do
    for body in chat chat-stream; do
      for arm in $arms; do run "$arm" "$body" "$conns"; done
    done
  done
done

if [ "$TTFB" = 1 ]; then
  echo
  echo "first streamed event, one request at a time: upstream write -> client read (relay) and request -> first event (ttfb), µs"
  for arm in $arms; do
    case $arm in direct) port=$UP;; bare) port=$BARE;; gateway) port=$GW;; shared) port=$SGW;; noclf) port=$NGW;; nginx) port=$NGX;; base) port=$BGW;; esac
    printf '%-8s ' "$arm"
    taskset -c "$LOAD_CPU" "$servers" ttfb --target "http://127.0.0.1:$port" --key "$KEY" --body "$here/chat-stream.json" --requests 300
  done
fi

echo
echo "resident memory at the end (VmRSS, high-water VmHWM), MiB:"
for arm in $arms; do
  case $arm in bare) pid=$bare_pid;; gateway) pid=$gw_pid;; shared) pid=$sgw_pid;; noclf) pid=$ngw_pid;; base) pid=$bgw_pid;; *) continue;; esac
  [ -r "/proc/$pid/status" ] && printf '%-8s %6d %6d\n' "$arm" $(( $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") / 1024 )) \
    $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 ))
done

echo
echo "duration=${DURATION}s rounds=$ROUNDS proxies on cpu $PROXY_CPU, wrk+upstream on cpu $LOAD_CPU; medians over rounds"
awk '
{ k=$1" "$2" "$3; n[k]++; rps[k,n[k]]=$4; p50[k,n[k]]=$5; p99[k,n[k]]=$6; cpu[k,n[k]]=$7; err[k]+=$8; keys[k]=1 }
function med(a, k, c,   i, j, t, v) { for (i=1;i<=c;i++) v[i]=a[k,i]; for (i=1;i<=c;i++) for (j=i+1;j<=c;j++) if (v[j]<v[i]) {t=v[i];v[i]=v[j];v[j]=t}; return (c%2)? v[(c+1)/2] : (v[c/2]+v[c/2+1])/2 }
END {
  printf "%-8s %-12s %5s %10s %9s %9s %12s %6s\n", "arm", "body", "conns", "req/s", "p50(us)", "p99(us)", "cpu_us/req", "non2xx"
  for (k in keys) { split(k, f, " "); c=n[k]
    R[k]=med(rps,k,c); P50[k]=med(p50,k,c); P99[k]=med(p99,k,c); C[k]=(cpu[k,1]=="-")?"-":med(cpu,k,c)
    printf "%-8s %-12s %5s %10.0f %9.0f %9.0f %12s %6d\n", f[1], f[2], f[3], R[k], P50[k], P99[k], C[k], err[k] | "sort -k3n -k2 -k1" }
  close("sort -k3n -k2 -k1")
  print ""
  printf "%-8s %-12s %5s %14s %14s %16s %16s\n", "arm", "body", "conns", "cpu arm/bare", "rps arm/bare", "added p50 arm/bare", "added p99 arm/bare"
  for (k in keys) { split(k, f, " "); if (f[1] == "direct" || f[1] == "bare") continue
    b="bare "f[2]" "f[3]; d="direct "f[2]" "f[3]
    addg50=P50[k]-P50[d]; addb50=P50[b]-P50[d]; addg99=P99[k]-P99[d]; addb99=P99[b]-P99[d]
    printf "%-8s %-12s %5s %14.2f %14.2f %9.0f/%-6.0f %9.0f/%-6.0f\n", f[1], f[2], f[3], C[k]/C[b], R[k]/R[b], addg50, addb50, addg99, addb99 }
}' "$out/results"
