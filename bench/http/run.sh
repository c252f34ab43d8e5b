#!/usr/bin/env bash
# bench/http/run.sh - the server under load: wrk (a second process on the same
# machine) against `urbac serve` on the bench tenant in a SQLite store, over
# keep-alive: GET /check cycling through 10,000 bench questions, and POST /checks
# with 1,000 questions per request. Also the HTTP library comparison: the same
# fixed reply through libmicrohttpd and h2o. Writes bench/results/http.md.
# Usage: bench/http/run.sh BUILD_DIR (after bench/run.sh made the data)
set -euo pipefail
B=${1:-build-release}
here=$(cd "$(dirname "$0")" && pwd)
data=$B/bench-data
secs=${URBAC_BENCH_SECONDS:-10}
out=$here/../results/http.md
key=bench-preshared-key-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "$key" > "$data/psk")
node "$here/prepare.mjs" "$data/queries.tsv" bench "$data"
if [ ! -s "$data/http.db" ]; then
  "$B/urbac" init --db "$data/http.db" >/dev/null
  "$B/urbac" apply --db "$data/http.db" -f "$data/tenant.yaml" >/dev/null
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$B/urbac" serve --db "$data/http.db" --listen 127.0.0.1:0 --threads 2 --preshared-key-file "$data/psk" > "$data/serve.out" &
pids+=($!)
for _ in $(seq 100); do grep -q serving "$data/serve.out" && break; sleep 0.1; done
base=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$data/serve.out")

# wrk_run NAME ARGS...: requests/s, p50 and p99 (in ms) into $NAME_rps, _p50, _p99
wrk_run() {
  local name=$1 o
  shift
  o=$(wrk --latency -d"${secs}s" "$@")
  grep -q "Non-2xx" <<<"$o" && { echo "$o" >&2; echo "bench: $name got errors" >&2; exit 1; }
  local ms='{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) sub(/ms/,"",v); else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'
  printf -v "${name}_rps" '%s' "$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$o")"
  printf -v "${name}_p50" '%s' "$(awk "/ 50%/ $ms" <<<"$o")"
  printf -v "${name}_p99" '%s' "$(awk "/ 99%/ $ms" <<<"$o")"
}

echo "bench: GET /check, wrk -t2 -c64, ${secs}s" >&2
URBAC_KEY=$key URBAC_PATHS=$data/paths.txt wrk_run check -t2 -c64 -s "$here/check.lua" "$base"
echo "bench: POST /checks (1,000 per request), wrk -t2 -c4, ${secs}s" >&2
URBAC_KEY=$key URBAC_BODY=$data/checks.json URBAC_PATH=/api/v1/tenants/bench/checks \
  wrk_run checks -t2 -c4 -s "$here/checks.lua" "$base"
decisions=$((checks_rps * 1000))
kill "${pids[0]}"

echo "bench: the HTTP libraries, a fixed reply, wrk -t2 -c64" >&2
"$B/bench/hello_mhd" 18701 2 & pids+=($!)
h2o="not installed"
if [ -x "$B/bench/hello_h2o" ]; then "$B/bench/hello_h2o" 18702 2 & pids+=($!); fi
sleep 0.5
wrk_run mhd -t2 -c64 http://127.0.0.1:18701/api/v1/tenants/bench/check
if [ -x "$B/bench/hello_h2o" ]; then
  wrk_run h2o -t2 -c64 http://127.0.0.1:18702/api/v1/tenants/bench/check
  h2o="$h2o_rps /s (p50 $h2o_p50 ms, p99 $h2o_p99 ms)"
fi

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "ge") ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
cat > "$out" <<MD
# urbac server benchmark

Machine: $cpu, $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo).
Date: $(date -u +%Y-%m-%d). Load generator: wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}'), on the same machine.
Server: \`urbac serve --threads 2\`, SQLite store, a preshared key, no access log.
Data: the bench tenant (bench/gen.c, seed 42: 100,000 users, 10,000 groups, 500
roles, 200 device groups, 5,000 devices); questions from its queries.tsv.

| figure | value | target | |
|---|---|---|---|
| GET /check, keep-alive, 64 connections, 10,000 distinct questions | $check_rps /s | >= 100,000 /s | $(verdict "$check_rps" 100000 ge) |
| GET /check latency, p50 / p99 | $check_p50 ms / $check_p99 ms | p99 < 5 ms | $(verdict "$check_p99" 5 le) |
| POST /checks, 1,000 questions per request, 4 connections | $checks_rps requests/s = $decisions decisions/s | >= 3,000,000 decisions/s | $(verdict "$decisions" 3000000 ge) |
| POST /checks latency, p50 / p99 | $checks_p50 ms / $checks_p99 ms | | |

## The HTTP library (why libmicrohttpd)

The same fixed reply (the bytes of a /check answer), same machine, same wrk
(-t2 -c64), two server threads each (bench/http/hello_*.c):

| library | requests/s |
|---|---|
| libmicrohttpd $(pkg-config --modversion libmicrohttpd) (epoll, a pool of two threads accepting on their own) | $mhd_rps /s (p50 $mhd_p50 ms, p99 $mhd_p99 ms) |
| h2o $(dpkg-query -W -f='${Version}' libh2o-evloop-dev 2>/dev/null | cut -d+ -f1) evloop (one loop per thread, SO_REUSEPORT) | $h2o |

See bench/README.md for what these figures decided.
MD
cat "$out"
! grep -q MISSED "$out"
