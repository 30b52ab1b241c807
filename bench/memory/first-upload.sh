#!/usr/bin/env bash
# Resident memory of a gateway process before and after its first knowledge upload (which loads
# all-MiniLM-L6-v2 for retrieval). Usage: bash bench/memory/first-upload.sh [port]
# Builds Release, starts the gateway on embedded defaults with an admin key, uploads the example
# document from docs/examples/ six times, and prints VmRSS / RssAnon / RssFile from /proc.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${1:-18800}
dotnet build src/Gateway -c Release -v q -nologo >/dev/null
dll=src/Gateway/bin/Release/net10.0/Gateway.dll
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet "$dll" --urls "http://127.0.0.1:$port" --Auth:AdminKey=admin-secret-key-0001 \
  --Ledger:ConnectionString="Data Source=$work/gateway.db" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.5; done
rss() { grep -E "VmRSS|RssAnon|RssFile" "/proc/$pid/status" | tr -s ' \t\n' ' '; echo; }
upload() {
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/admin/knowledge/company-handbook/documents?id=$1" \
    -H "Authorization: Bearer admin-secret-key-0001" -H "Content-Type: text/markdown" --data-binary @docs/examples/hr/leave.md
}
sleep 2
echo "started:             $(rss)"
upload leave
echo "after first upload:  $(rss)"
for i in 1 2 3 4 5; do upload "leave-$i"; done
echo "after five more:     $(rss)"
