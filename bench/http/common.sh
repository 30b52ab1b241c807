# Sourced by the single-gateway bench scripts (memory.sh, profile.sh, tail.sh): a temporary folder $out, the processes
# in $pids stopped and $out removed on exit, Release builds of the gateway and the bench servers, and the functions
# below to start the upstream stand-in on $UP and the gateway on $GW.
KEY=bench-client-key-0000000001
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
dotnet build -c Release -v q -nologo src/Gateway/Gateway.csproj >/dev/null
dotnet build -c Release -v q -nologo bench/Gateway.Bench.Servers/Gateway.Bench.Servers.csproj >/dev/null
servers=bench/Gateway.Bench.Servers/bin/Release/net10.0/Gateway.Bench.Servers

# start_upstream [CPU]: the OpenAI-speaking stand-in on $UP, pinned to CPU when given.
start_upstream() {
  ${1:+taskset -c "$1"} "$servers" upstream --urls "http://127.0.0.1:$UP" > /dev/null 2>&1 & pids+=($!)
}

# wait_healthy: until $GW answers /healthz (up to 20 s).
wait_healthy() {
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$GW/healthz" && return; sleep 0.2; done
}

# start_gateway [CPU] [VAR=value...]: the gateway on $GW with the shipped policy, one client key ($KEY, team bench) and
# a ledger under $out, pinned to CPU when given ("" for any); VAR=value arguments join its environment. Sets $gw.
start_gateway() {
  local cpu=$1; shift
  env Logging__LogLevel__Default=Warning Upstreams__openai__BaseUrl="http://127.0.0.1:$UP/v1" Upstreams__openai__ApiKey=k \
    Auth__Keys__0__Key=$KEY Auth__Keys__0__Team=bench Policies__Path="$PWD/policies" Ledger__ConnectionString="Data Source=$out/g.db" \
    "$@" ${cpu:+taskset -c "$cpu"} src/Gateway/bin/Release/net10.0/Gateway --urls "http://127.0.0.1:$GW" > "$out/gw.log" 2>&1 & pids+=($!)
  gw=$!
  wait_healthy
}
