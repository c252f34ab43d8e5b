#!/usr/bin/env bash
# bench/scim/run.sh - an initial SCIM provisioning cycle (bench/scim/run.mjs): 100,000
# users, 10,000 groups, their members in PATCHes of up to 1,000, 8 concurrent clients,
# GET /check answered meanwhile; on a SQLite file, and on PostgreSQL (tests/pg.sh).
# Writes bench/results/scim.md.
# Usage: bench/scim/run.sh BUILD_DIR
# Env: SCIM_USERS, SCIM_GROUPS, SCIM_CLIENTS (run.mjs), URBAC_BENCH_PG=0 to skip PostgreSQL.
set -euo pipefail
B=$(cd "${1:-build-release}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../results/scim.md
data=$B/bench-data/scim
mkdir -p "$data"
rm -f "$data"/s.db*
"$B/urbac" init --db "$data/s.db" >/dev/null
"$B/urbac" apply --db "$data/s.db" -f "$here/tenant.yaml" >/dev/null
# report: (re)writes bench/results/scim.md from the rows so far
# Keeps what follows the marker line in the results file (the history, by hand).
marker='<!-- bench/scim/run.sh rewrites what is above this line and keeps what follows -->'
report() {
  local kept
  kept=$(sed -n "\|^$marker\$|,\$p" "$out" 2>/dev/null | tail -n +2)
  table=$(node -e '
  const names = ["SQLite", "PostgreSQL"];
  process.argv.slice(1).forEach((j, i) => {
    const r = JSON.parse(j);
    const c = r.check_ms;
    console.log(`| ${names[i]} | ${r.users.toLocaleString("en")} / ${r.groups.toLocaleString("en")} / ${r.memberships.toLocaleString("en")} in ${r.member_patches.toLocaleString("en")} PATCHes | ${r.users_s.toFixed(1)} | ${r.groups_s.toFixed(1)} | ${r.members_s.toFixed(1)} | **${r.total_s.toFixed(1)}** | ${r.server_cpu_s} | ${r.load_average} | ${c.p50} / ${c.p99} / ${c.max} (${c.n}) | ${r.failed} | ${r.rss_start_mib} -> ${r.rss_end_mib} |`);
  });' "${rows[@]}")
  cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
  cat > "$out" <<MD
# urbac SCIM provisioning benchmark

Machine: $cpu, $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo). Date: $(date -u +%Y-%m-%d). Release build.
Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other
work runs beside the benchmark, so the figures carry that noise).

\`bench/scim/run.sh\` (\`make bench\`): an initial provisioning cycle as Microsoft Entra ID runs
one, through \`urbac serve\`'s SCIM endpoint with a preshared key, ${SCIM_CLIENTS:-8} concurrent clients
(bench/scim/run.mjs): every user created (\`POST /Users\` with externalId, emails and
name), then every group (\`POST /Groups\`), then the members added (\`PATCH /Groups/{id}\`,
\`Add members\`, up to 1,000 values each; the first 10 groups hold 5,000 members, the others
45). Meanwhile a separate process asks \`GET /check\` one question at a time (about 400 a
second) and records each latency.

Target: the whole cycle under 2 minutes, checks' p99 under 5 ms meanwhile. "server CPU s" is
the CPU time \`urbac serve\` used for the cycle (user + system): what the cycle costs the
server whatever else runs; the wall times and the checks' latencies depend on the machine's
load (the load average at the end of the cycle is given).

| store | users / groups / memberships | users s | groups s | members s | total s | server CPU s | load average | GET /check p50 / p99 / max ms (n) | failed | RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|
$table

$marker
$kept
MD
}
echo "scim: SQLite" >&2
rows=("$(node "$here/run.mjs" "$B/urbac" "$data/s.db")")
report
if [ "${URBAC_BENCH_PG:-1}" != 0 ] && ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "scim: PostgreSQL" >&2
  # shellcheck disable=SC2016
  rows+=("$("$here/../../tests/pg.sh" bash -c '
    "$0" init --db "$URBAC_TEST_PG_URL" >/dev/null
    "$0" apply --db "$URBAC_TEST_PG_URL" -f "$1/tenant.yaml" >/dev/null
    node "$1/run.mjs" "$0" "$URBAC_TEST_PG_URL"' "$B/urbac" "$here" | tail -1)")
  report
fi
echo "scim: bench/results/scim.md" >&2
