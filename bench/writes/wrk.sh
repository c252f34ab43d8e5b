#!/usr/bin/env bash
# bench/writes/wrk.sh - the sustained phase of bench/writes/run.sh with wrk as the
# client: 16 connections writing new users (PUT /users/{id}) and 2 connections
# asking GET /check (the bench questions) for SECONDS, against `urbac serve
# --threads 2` on a copy of a SQLite store, or on a PostgreSQL store given by URL
# (written to as it is: give it one the run may change). run.mjs's Node client saturates a
# core of a 2-core machine at a few hundred writes/s, so its sustained figure
# measures the client as much as the server; wrk (C, bench_pkgs in
# scripts/deps.sh) does not.
# Usage: bench/writes/wrk.sh URBAC STORE.db|postgresql://... QUESTIONS.tsv [TENANT] [SECONDS] [RATE]
# RATE (writes/s across the 16 connections): each connection waits 16,000/RATE ms
# after a reply before its next write, so the writes come at most at RATE (less by
# their own latency: wrk reports the rate reached); without it, as fast as the
# server answers (saturation).
# Prints wrk's summaries and the server's write batch counters.
set -euo pipefail
urbac=$1 store=$2 questions=$3 tenant=${4:-bench} seconds=${5:-10} rate=${6:-}
case $rate in
  '') pause=0 ;;
  *[!0-9]* | 0) echo "wrk.sh: RATE (the sixth argument) is writes a second, a whole number from 1: '$rate'" >&2; exit 2 ;;
  *) pause=$((16000 / rate)) ;;
esac
dir=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi; rm -rf "$dir"' EXIT
run=$(date +%s%N) # new users each run: a PostgreSQL store is written as it is
key=bench-writes-preshared-key-0123456789
printf '%s\n' "$key" >"$dir/psk"
chmod 600 "$dir/psk"
case $store in
  postgres://* | postgresql://*) db=$store ;;
  *) # synced: the copy's dirty pages are not written back by the server's first checkpoint
    cp "$store" "$dir/store.db" && sync "$dir/store.db" && db=$dir/store.db ;;
esac
cat >"$dir/put.lua" <<LUA
local n, me = 0, 0
if $pause > 0 then delay = function() return $pause end end
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("me", threads) end
request = function()
  n = n + 1
  return wrk.format("PUT", "/api/v1/tenants/$tenant/users/wrk-$run-" .. me .. "-" .. n .. "@bench",
    {["Authorization"] = "Bearer $key", ["Content-Type"] = "application/json"}, '{"name":"W"}')
end
LUA
cat >"$dir/check.lua" <<LUA
local paths, i = {}, 0
local function esc(s) return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end
init = function()
  for l in io.lines("$questions") do
    local u, p, w, s = l:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    paths[#paths + 1] = "/api/v1/tenants/$tenant/check?user=" .. esc(u) .. "&permission=" .. esc(p) ..
      "&workload=" .. esc(w) .. "&scope=" .. esc(s or "")
    if #paths == 10000 then break end
  end
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[i % #paths + 1], {["Authorization"] = "Bearer $key"})
end
LUA
"$urbac" serve --db "$db" --listen 127.0.0.1:0 --threads 2 --preshared-key-file "$dir/psk" \
  >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 600); do grep -q "serving on" "$dir/out" && break; sleep 0.1; done
base=$(grep -o "https\?://[^ ]*" "$dir/out" | head -1)
[ -n "$base" ] || { echo "wrk.sh: the server did not start: $(cat "$dir/err")" >&2; exit 1; }
wrk -t2 -c16 -d"${seconds}s" --latency -s "$dir/put.lua" "$base" >"$dir/writes.txt" &
writers=$!
wrk -t1 -c2 -d"${seconds}s" --latency -s "$dir/check.lua" "$base" >"$dir/checks.txt"
wait "$writers"
echo "== 16 writers"
grep -E "Requests/sec|Latency |Non-2xx| 50%| 75%| 90%| 99%" "$dir/writes.txt"
echo "== 2 checkers"
grep -E "Requests/sec| 50%| 99%|Non-2xx" "$dir/checks.txt"
curl -s -H "Authorization: Bearer $key" "$base/metrics" | grep "^urbac_write_batch"
