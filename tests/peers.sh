#!/usr/bin/env bash
# tests/peers.sh - CASL, Cedar and Casbin against urbac on a small workload
# (2,000 users, 300 groups, 60 roles, 20,000 questions): any answer that differs
# fails. Usage: peers.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$B/bench/urbac_gen" -u 2000 -g 300 -r 60 -q 20000 -s 7 "$d/tenant.yaml" "$d/queries.tsv"
"$B/bench/urbac_export_peers" "$d/tenant.yaml" "$d/queries.tsv" 20000 "$d" > /dev/null
pass=0
for spec in "casl 20000" "cedar 1500" "casbin 300"; do
  set -- $spec
  node "$S/bench/peers/$1.mjs" "$d" "$2" 1 > "$d/$1.json"
  pass=$((pass + 1))
done
"$S/bench/peers/casbin-go/build.sh" "$d/casbin-go"
"$d/casbin-go" "$d" 300 1 > "$d/casbin-go.json"
pass=$((pass + 1))
echo "peers: $pass passed, 0 failed"
