# Sourced by the single-gateway bench scripts (memory.sh, profile.sh): a temporary folder $out, the processes in
# $pids stopped and $out removed on exit, and Release builds of the gateway and the bench servers.
KEY=bench-client-key-0000000001
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
dotnet build -c Release -v q -nologo src/Gateway/Gateway.csproj >/dev/null
dotnet build -c Release -v q -nologo bench/Gateway.Bench.Servers/Gateway.Bench.Servers.csproj >/dev/null
servers=bench/Gateway.Bench.Servers/bin/Release/net10.0/Gateway.Bench.Servers
