#!/usr/bin/env bash
# bench/peers/run.sh - `make bench-peers`: the benchmark workload through urbac,
# CASL, Cedar and Casbin in one run on one machine, every peer answer checked
# against urbac's (a mismatch fails the run), and bench/RESULTS.md written.
# Usage: bench/peers/run.sh BUILD_DIR
set -euo pipefail
B=${1:-build-release}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
data=$B/bench-data
peers=$data/peers
mkdir -p "$peers"
CASL_N=${CASL_N:-1000000} CEDAR_N=${CEDAR_N:-2000} CASBIN_N=${CASBIN_N:-300} RUNS=${RUNS:-3}

echo "bench-peers: npm ci (bench/peers)" >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -s "$data/tenant.yaml" ] || [ ! -s "$data/queries.tsv" ]; then
  "$B/bench/urbac_gen" -s 42 "$data/tenant.yaml" "$data/queries.tsv"
fi
echo "bench-peers: urbac (in process, 1 thread)" >&2
"$B/bench/urbac_bench" "$data/tenant.yaml" "$data/queries.tsv" > "$peers/urbac.tsv"
"$B/bench/urbac_export_peers" "$data/tenant.yaml" "$data/queries.tsv" "$CASL_N" "$peers" >&2
results=()
for spec in "casl $CASL_N" "cedar $CEDAR_N" "casbin $CASBIN_N"; do
  set -- $spec
  echo "bench-peers: $1 ($2 questions, $RUNS runs, every answer compared with urbac's)" >&2
  results+=("$(node "$here/$1.mjs" "$peers" "$2" "$RUNS")")
done
echo "bench-peers: Go Casbin (Debian's golang-github-casbin-casbin-dev; $CASBIN_N questions, $RUNS runs)" >&2
"$here/casbin-go/build.sh" "$B/casbin-go"
results+=("$("$B/casbin-go" "$peers" "$CASBIN_N" "$RUNS")")
printf '%s\n' "${results[@]}" > "$peers/peers.jsonl"

node "$here/report.mjs" "$peers/urbac.tsv" "$peers/peers.jsonl" > "$top/bench/RESULTS.md"
cat "$top/bench/RESULTS.md"
! grep -q 'MISSED' "$top/bench/RESULTS.md"
