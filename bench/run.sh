#!/usr/bin/env bash
# bench/run.sh - `make bench`: generates the workload (bench/gen.c, seed 42) once,
# runs urbac's in-process benchmark and the end-to-end CLI stream, and writes
# bench/results/core.md with the machine, the data and each figure against its
# target. Usage: bench/run.sh BUILD_DIR
set -euo pipefail
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
data=$B/bench-data
mkdir -p "$data" "$here/results"
if [ ! -s "$data/tenant.yaml" ] || [ ! -s "$data/queries.tsv" ]; then
  echo "bench: generating the workload (100,000 users, 1,000,000 queries)" >&2
  "$B/bench/urbac_gen" -s 42 "$data/tenant.yaml" "$data/queries.tsv"
fi

echo "bench: in-process checks" >&2
# with a PostgreSQL server of its own when PostgreSQL is installed (tests/pg.sh)
if ls -d /usr/lib/postgresql/*/bin > /dev/null 2>&1; then
  "$here/../tests/pg.sh" sh -c 'URBAC_BENCH_PG_URL=$URBAC_TEST_PG_URL exec "$0" "$@"' \
    "$B/bench/urbac_bench" "$data/tenant.yaml" "$data/queries.tsv" > "$data/core.tsv"
else
  "$B/bench/urbac_bench" "$data/tenant.yaml" "$data/queries.tsv" > "$data/core.tsv"
fi
get() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$data/core.tsv"; }

echo "bench: end to end, urbac check --queries (5 runs)" >&2
rates=()
for _ in 1 2 3 4 5; do
  line=$("$B/urbac" check --tenant "$data/tenant.yaml" --queries "$data/queries.tsv" --stats 2>&1 >/dev/null | tail -1)
  rates+=("$(sed -E 's/.*\(([0-9]+) lines\/s.*/\1/' <<<"$line")")
done
e2e=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 3p)

echo "bench: urbac impact mde --import --format tsv (all workloads legacy), end to end" >&2
sed 's/^workloads: .*/workloads: {mde: legacy, mdo: legacy, mdi: legacy}/' "$data/tenant.yaml" > "$data/legacy.yaml"
t0=$(date +%s.%N)
"$B/urbac" impact mde --tenant "$data/legacy.yaml" --import --format tsv > /dev/null
impact_e2e=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
echo "bench: urbac impact mde --import --summary (median of 3), end to end" >&2
sums=()
for _ in 1 2 3; do
  t0=$(date +%s.%N)
  "$B/urbac" impact mde --tenant "$data/legacy.yaml" --import --summary > /dev/null
  sums+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')")
done
impact_summary=$(printf '%s\n' "${sums[@]}" | sort -n | sed -n 2p)

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
cores=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "ge") ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }

single=$(get checks_per_s_1_thread); percore=$(get checks_per_s_per_core)
compile=$(get compile_s); bpu=$(get snapshot_bytes_per_user)
cat > "$here/results/core.md" <<MD
# urbac core benchmark

Machine: $cpu, $cores cores, $mem. Date: $(date -u +%Y-%m-%d).
Data: bench/gen.c, seed 42: 100,000 users in 1 to 5 groups (skewed), 10,000 groups
(some nested), 500 roles of 1 to 8 permissions with 1 to 3 assignments, 200 device
groups, 5,000 devices; 1,000,000 queries, $(get allowed_fraction) of them allowed.

| figure | value | target | |
|---|---|---|---|
| tenant file load (YAML, 11 MB) | $(get tenant_load_s) s | | |
| compile (median of 5) | $compile s | < 1 s | $(verdict "$compile" 1 le) |
| snapshot memory (with the id maps and ids a check reads) | $(get snapshot_bytes) bytes, $bpu bytes per user ($(get profiles) shared profiles) | < 300 bytes per user | $(verdict "$bpu" 300 le) |
| peak process memory (model, 1M parsed queries and snapshot) | $(get peak_rss_mib) MiB | | |
| in-process checks, 1 thread (median of 5) | $single /s | >= 5,000,000 /s | $(verdict "$single" 5000000 ge) |
| in-process checks, $(get threads) threads | $(get checks_per_s_all_threads) /s ($percore per core) | >= 5,000,000 /s per core | $(verdict "$percore" 5000000 ge) |
| urbac check --queries, end to end (median of 5) | $e2e lines/s | >= 2,000,000 /s | $(verdict "$e2e" 2000000 ge) |
| impact of mde from all-legacy, with import: compute and walk every row | $(get impact_mde_s) s, $(get impact_mde_rows) rows | < 10 s | $(verdict "$(get impact_mde_s)" 10 le) |
| impact of mdo, likewise | $(get impact_mdo_s) s, $(get impact_mdo_rows) rows | < 10 s | $(verdict "$(get impact_mdo_s)" 10 le) |
| impact of mdi, likewise | $(get impact_mdi_s) s, $(get impact_mdi_rows) rows | < 10 s | $(verdict "$(get impact_mdi_s)" 10 le) |
| \`urbac impact mde --import --format tsv > /dev/null\`, whole command (load included) | $impact_e2e s | < 10 s | $(verdict "$impact_e2e" 10 le) |
| \`urbac impact mde --import --summary\` (the counts of those rows, losses first), whole command (median of 3) | $impact_summary s | < 10 s | $(verdict "$impact_summary" 10 le) |
| store: apply the whole tenant into a new SQLite store (one transaction, audited) | $(get store_apply_sqlite_s) s | < 15 s | $(verdict "$(get store_apply_sqlite_s)" 15 le) |
| store: load the tenant from SQLite and compile the snapshot | $(get store_snapshot_sqlite_s) s | < 2 s | $(verdict "$(get store_snapshot_sqlite_s)" 2 le) |
| store: apply the whole tenant into PostgreSQL (a local server, loopback) | $(get store_apply_postgres_s) s | < 60 s | $(verdict "$(get store_apply_postgres_s)" 60 le) |
| store: load the tenant from PostgreSQL and compile the snapshot | $(get store_snapshot_postgres_s) s | < 2 s | $(verdict "$(get store_snapshot_postgres_s)" 2 le) |

End to end counts reading the TSV, resolving every line and writing every answer
(\`urbac check --stats\`), not loading the tenant. The impact rows are many because
every unified role of the generated tenant becomes active with its workload (the
tenant's 500 roles were never imported from the legacy ones).
MD
cat "$here/results/core.md"
! grep -q MISSED "$here/results/core.md"
