#!/usr/bin/env bash
# bench/writes/run.sh - what a write costs, at 100,000 and at 1,000,000 users, on
# SQLite and on PostgreSQL: `urbac user add --db` as a whole command, and through
# `urbac serve` (bench/writes/run.mjs: PUT of a user, a 1,000-member group's
# membership, a role assignment; 16 writers with checks beside them; a second
# server's view). Writes its tables into bench/results/writes.md between two markers;
# the history written below them stays.
# Usage: bench/writes/run.sh BUILD_DIR [SIZES]   (SIZES: "100k 1m", the default)
# Env: WRITES, WRITES_SECONDS (run.mjs; not SECONDS: bash counts its own), WRITES_RATE (the
# paced wrk phase's writes/s, 1500), URBAC_BENCH_PG=0 to skip PostgreSQL.
set -euo pipefail
B=$(cd "${1:-build-release}" && pwd)
sizes=${2:-100k 1m}
here=$(cd "$(dirname "$0")" && pwd)
data=$B/bench-data/writes
out=$here/../results/writes.md
mkdir -p "$data"

gen() { # gen SIZE: the tenant and questions of that size, once
  local s=$1
  [ -s "$data/t$s.yaml" ] && return
  case $s in
    100k) "$B/bench/urbac_gen" -s 42 -q 100000 "$data/t$s.yaml" "$data/q$s.tsv" ;;
    1m) "$B/bench/urbac_gen" -s 42 -u 1000000 -g 100000 -r 2000 -q 100000 "$data/t$s.yaml" "$data/q$s.tsv" ;;
    *) echo "writes: unknown size '$s' (100k or 1m)" >&2; exit 2 ;;
  esac
}

# sqlite SIZE: a fresh copy of the size's store (made once, copied per run)
sqlite_db() {
  local s=$1
  if [ ! -s "$data/s$s.db" ]; then
    "$B/urbac" init --db "$data/s$s.db.tmp" >/dev/null
    "$B/urbac" apply --db "$data/s$s.db.tmp" -f "$data/t$s.yaml" >/dev/null
    mv "$data/s$s.db.tmp" "$data/s$s.db"
  fi
  cp "$data/s$s.db" "$data/run.db"
  sync "$data/run.db" # its dirty pages written back now, not by the first write measured
  echo "$data/run.db"
}

# ms COMMAND...: the wall time of one run, in milliseconds
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# cli DB: `urbac user add` and `urbac group add-member` whole commands, median of 9
cli() {
  local db=$1 i a=() g=()
  for i in 1 2 3 4 5 6 7 8 9; do
    a+=("$(ms "$B/urbac" user add "bw-cli-$i@bench" --db "$db")")
    g+=("$(ms "$B/urbac" group add-member grp00500 --principal "bw-cli-$i@bench" --db "$db")")
  done
  echo "$(printf '%s\n' "${a[@]}" | median) $(printf '%s\n' "${g[@]}" | median)"
}

export B
export -f ms median cli
rows=() mrows=() wrows=()
# shellcheck disable=SC2016
row() { # row SIZE BACKEND CLI_ADD CLI_MEMBER JSON: a row of the main table and one of the memory table
  local line
  line="$(node -e '
const [size, backend, add, member, j] = process.argv.slice(1);
const r = JSON.parse(j);
const f = (x) => x ? `${x.p50} / ${x.p99}` : "-";
console.log(`| ${size} | ${backend} | ${add} ms | ${member} ms | ${f(r.put_user_ms)} | ${f(r.group_membership_ms)} | ${f(r.role_assignment_ms)} | ${r.sustained.writes_per_s}${r.sustained.failed ? ` (${r.sustained.failed} failed)` : ""} | ${f(r.sustained.check_ms)}${r.sustained.check_failed ? ` (${r.sustained.check_failed} failed)` : ""} | ${f(r.second_server_visible_ms)} | ${r.rss_start_mib} -> ${r.rss_end_mib} |`);
for (const [what, m] of [["a third new users", r.memory], ["nothing new", r.memory_no_new]])
  console.log(`| ${size} | ${backend} | ${what} | ${m.writes}${m.failed ? ` (${m.failed} failed)` : ""} | ${m.warm_mib} | ${m.samples_mib.join(", ")} | ${m.end_mib} | ${m.growth_mib >= 0 ? "+" : ""}${m.growth_mib} |`);
' "$@")"
  rows+=("$(head -1 <<<"$line")")
  mrows+=("$(tail -n +2 <<<"$line")")
}

# wrow SIZE BACKEND OFFERED WRK_OUTPUT: a row of the wrk table
wrow() {
  local w=$4
  # shellcheck disable=SC2016
  local ms='{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) sub(/ms/,"",v); else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'
  pct() { awk "/== $1/ {f=1} /== / && !/== $1/ {f=0} f && / $2%/ $ms" <<<"$w"; }
  wrows+=("| $1 | $2 | $3 | $(awk '/== 16 writers/ {f=1} f && /Requests\/sec/ {printf "%d", $2; exit}' <<<"$w") \
| $(pct "16 writers" 50) / $(pct "16 writers" 99) | $(pct "2 checkers" 50) / $(pct "2 checkers" 99) \
| $(awk '/^urbac_write_batch_requests_total/ {r=$2} /^urbac_write_batches_total/ {b=$2} END {if (b) printf "%.1f", r / b}' <<<"$w") |")
}
RATE=${WRITES_RATE:-1500} # the paced phase: 16 connections, each 16,000/RATE ms apart (10 ms)
paced="at most $RATE/s"

for s in $sizes; do
  gen "$s"
  echo "writes: $s users, SQLite" >&2
  db=$(sqlite_db "$s")
  read -r add member <<<"$(cli "$db")"
  j=$(node "$here/run.mjs" "$B/urbac" "$db" "$data/t$s.yaml" "$data/q$s.tsv" bench)
  row "$s" SQLite "$add" "$member" "$j"
  if command -v wrk >/dev/null; then # the sustained phase again, with a client that is not the bottleneck
    wrow "$s" SQLite "as answered" "$("$here/wrk.sh" "$B/urbac" "$data/s$s.db" "$data/q$s.tsv" bench "${WRITES_SECONDS:-10}")"
    wrow "$s" SQLite "$paced" "$("$here/wrk.sh" "$B/urbac" "$data/s$s.db" "$data/q$s.tsv" bench "${WRITES_SECONDS:-10}" "$RATE")"
  fi
  if [ "${URBAC_BENCH_PG:-1}" != 0 ] && ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "writes: $s users, PostgreSQL" >&2
    # shellcheck disable=SC2016
    pgout=$("$here/../../tests/pg.sh" bash -c '
      set -e
      "$0" init --db "$URBAC_TEST_PG_URL" >/dev/null
      t0=$(date +%s%N)
      "$0" apply --db "$URBAC_TEST_PG_URL" -f "$1" >/dev/null
      echo "applied in $((($(date +%s%N) - t0) / 1000000)) ms" >&2
      # what an operator does after a bulk load (docs/operations.md): its vacuum and
      # checkpoint are not charged to the first writes measured
      psql -X -q "$URBAC_TEST_PG_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT"
      read -r add member <<<"$(cli "$URBAC_TEST_PG_URL")"
      j=$(SECOND=1 node "$2/run.mjs" "$0" "$URBAC_TEST_PG_URL" "$1" "$3" bench)
      echo "$add $member $j"
      if command -v wrk >/dev/null; then
        "$2/wrk.sh" "$0" "$URBAC_TEST_PG_URL" "$3" bench "${WRITES_SECONDS:-10}"
        echo "== paced"
        "$2/wrk.sh" "$0" "$URBAC_TEST_PG_URL" "$3" bench "${WRITES_SECONDS:-10}" "$4"
      fi
      ' "$B/urbac" "$data/t$s.yaml" "$here" "$data/q$s.tsv" "$RATE")
    read -r add member j <<<"$(head -1 <<<"$pgout")"
    row "$s" PostgreSQL "$add" "$member" "$j"
    if command -v wrk >/dev/null; then
      wrow "$s" PostgreSQL "as answered" "$(tail -n +2 <<<"$pgout" | sed '/^== paced$/,$d')"
      wrow "$s" PostgreSQL "$paced" "$(sed -n '/^== paced$/,$p' <<<"$pgout" | tail -n +2)"
    fi
  fi
done

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
block=$(mktemp)
trap 'rm -f "$block"' EXIT
cat > "$block" <<MD
<!-- bench/writes/run.sh writes from here to its end marker; what follows that is kept -->
# urbac writes benchmark

Machine: $cpu, $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo). Date: $(date -u +%Y-%m-%d). Release build.
Load average at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg) (sizes: $sizes).
Data: bench/gen.c, seed 42: 100k = 100,000 users, 10,000 groups, 500 roles;
1m = 1,000,000 users, 100,000 groups, 2,000 roles; 200 device groups, 5,000 devices.
Stores: a SQLite file; a PostgreSQL 15 server on loopback (tests/pg.sh).
\`bench/writes/run.sh\`; every latency is p50 / p99 in milliseconds over ${WRITES:-200} writes
of each kind, one at a time, through \`urbac serve --threads 2\`.

- **CLI**: \`urbac user add ID --db\` and \`urbac group add-member grp00500 --principal ID --db\`,
  whole command, median of 9.
- **user**: \`PUT /users/{id}\` of a new user. **membership**: \`PUT /groups/{id}\` of a
  1,000-member group with one member swapped. **assignment**: \`PATCH /roleAssignments/{id}\`
  changing its data sources.
- **sustained**: 16 clients writing users for ${WRITES_SECONDS:-10} s, while 2 others send \`GET /check\`
  (writes/s, and the checks' p50 / p99).
- **second server**: a second \`urbac serve\` on the same PostgreSQL store; from the start
  of a write on the first to the first check on the second that answers as the write
  says (p50 / p99 of 100).
- **RSS**: the first server's resident memory before and after, MiB.

Targets at 1m: writes p50 <= 5 ms and p99 <= 50 ms on SQLite (10 and 100 on
PostgreSQL); >= 1,000 writes/s sustained with checks' p99 < 5 ms; second server
p99 <= 100 ms; the CLI < 50 ms.

| users | store | CLI user add | CLI add-member | user | membership | assignment | sustained writes/s | checks meanwhile | second server | RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

The sustained phase again with wrk as the client (\`bench/writes/wrk.sh\`): run.mjs's
Node client takes a whole core of this machine at a few hundred writes/s, so its
figure above measures the client too. 16 connections write new users, 2 others ask
\`GET /check\` as fast as they are answered, ${WRITES_SECONDS:-10} s; the server commits the writes it finds queued as one
batch (one transaction, one fsync, one publish). Twice: the writes as fast as they
are answered (the server's ceiling, client and server sharing the 2 cores), and
paced as the target asks (each connection waits $((16000 / RATE)) ms after a reply, so at most
$RATE writes/s; the rate reached is what the table shows). Latencies p50 / p99, ms.

| users | store | writes offered | writes/s | writes | checks meanwhile | writes per batch |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${wrows[@]}")

Memory across ${MEMORY_WRITES:-10000} writes through one server (run.mjs, after the phases above), from 8
clients, twice: first a third new users, a third member swaps in the 1,000-member
group, a third assignment changes; then ${MEMORY_WRITES:-10000} more that add nothing (half swaps,
half assignment changes). RSS in MiB after the first 1,000 (warm-up), after each
1,000 more, and at the end; growth is end minus warm-up. Target: flat, within 5%
of the warm-up figure; the second phase shows what is left once no object is added.

| users | store | writes adding | writes | after warm-up | every 1,000 writes | end | growth |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${mrows[@]}")
<!-- bench/writes/run.sh: end of what it writes -->
MD
# Only the part between the markers is replaced: the history written below it stays.
if [ -f "$out" ] && grep -q '^<!-- bench/writes/run.sh writes from here' "$out"; then
  awk -v block="$block" '
    /^<!-- bench\/writes\/run.sh writes from here/ {while ((getline l < block) > 0) print l; skip = 1; next}
    /^<!-- bench\/writes\/run.sh: end of what it writes/ {skip = 0; next}
    !skip' "$out" >"$out.tmp"
else # no markers yet: the new tables on top, whatever the file held below them
  { cat "$block"; if [ -f "$out" ]; then echo; cat "$out"; fi; } >"$out.tmp"
fi
mv "$out.tmp" "$out"
echo "writes: bench/results/writes.md" >&2
