#!/usr/bin/env bash
# scripts/fuzz.sh - every libFuzzer driver in fuzz/ (fuzz_*.c), one after the
# other, each from a copy of its seed corpus (fuzz/corpus/NAME), for a time or a
# number of executions; prints executions per driver and fails on the first crash.
#
# Usage: scripts/fuzz.sh [--seconds N] [--runs N] [--report FILE] [NAME...]
#   --seconds N   stop each driver after N seconds (default 20; with --runs, a cap)
#   --runs N      stop each driver after N executions
#   --report FILE also write the figures into a Markdown table (make fuzz:
#                 bench/results/fuzz.md): a driver's row is replaced, the other
#                 drivers' rows stay, so drivers can be run one at a time
#   NAME          only these drivers (tenant, query, request, ...); default all
# Builds build-fuzz with clang (-DURBAC_FUZZ=ON). A crash leaves its input in
# build-fuzz/ (crash-*) and the driver's log in build-fuzz/fuzz_NAME.log.
# A driver may name functions its run must reach (must_reach below: the query
# parser's "did you mean", the slow path issue 15 asks to keep fuzzed); the log
# ends with libFuzzer's coverage (-print_coverage) and a run that did not reach
# one of them fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20 runs= report= names=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --report) report=${2:?--report needs a file}; shift 2 ;;
    -*) echo "fuzz.sh: unknown option '$1' (--seconds, --runs, --report)" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
for n in "$seconds" ${runs:+"$runs"}; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "fuzz.sh: '$n' is not a whole number" >&2; exit 2; }
done
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do names+=("$(basename "$f" .c | sed 's/^fuzz_//')"); done
fi
for n in "${names[@]}"; do
  [ -f "fuzz/fuzz_$n.c" ] || { echo "fuzz.sh: no driver fuzz/fuzz_$n.c" >&2; exit 2; }
  [ -d "fuzz/corpus/$n" ] || { echo "fuzz.sh: no seed corpus fuzz/corpus/$n" >&2; exit 2; }
done

CC=clang cmake -S . -B build-fuzz -DURBAC_FUZZ=ON -DURBAC_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${names[@]/#/fuzz_}" >/dev/null
built=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) # what the drivers were built from: a
                                                                # long run's tree may move on meanwhile

limits=(-max_total_time="$seconds")
[ -n "$runs" ] && limits+=(-runs="$runs")
rows=() work=
trap 'rm -rf "$work"' EXIT # a driver's copy of its corpus, also when it fails
for n in "${names[@]}"; do
  work=$(mktemp -d)
  cp "fuzz/corpus/$n"/* "$work/"
  log=build-fuzz/fuzz_$n.log
  start=$(date +%s)
  # A question is a line, so short inputs test as much per byte and run far
  # faster. The server has threads of its own (the change feed, the tenant
  # directory) that allocate between inputs, which would make libFuzzer run a
  # leak check after nearly every input (five times slower): its leaks are
  # found by LeakSanitizer when the run ends instead, which fails the run too.
  opts=(-max_len=8192) must_reach=()
  case $n in
    query) opts=(-max_len=1024) must_reach=(did_you_mean) ;; # seeded by corpus/query/did-you-mean.tsv
    request) opts+=(-detect_leaks=0) ;;
  esac
  if ! build-fuzz/fuzz/fuzz_"$n" "${limits[@]}" "${opts[@]}" -print_final_stats=1 -print_coverage=1 \
      -artifact_prefix=build-fuzz/ "$work" > "$log" 2>&1; then
    grep -v '^\(UN\)\?COVERED_\|^COVERAGE:' "$log" | tail -40
    echo "fuzz_$n found a crash; the input is in build-fuzz/ (crash-*, leak-*, timeout-*)" >&2
    exit 1
  fi
  for f in "${must_reach[@]}"; do
    grep -q "^COVERED_FUNC: .* $f " "$log" ||
      { echo "fuzz_$n never reached $f (see the coverage at the end of $log)" >&2; exit 1; }
  done
  took=$(( $(date +%s) - start ))
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  corpus=$(ls "$work" | wc -l)
  rm -rf "$work"
  echo "fuzz_$n: $execs inputs in ${took}s${must_reach:+, reached ${must_reach[*]}}, no crash"
  rows+=("| fuzz_$n | $execs | $took | $(( execs / (took > 0 ? took : 1) )) | $corpus | none |"\
" ${runs:-} | $built | $(date -u '+%Y-%m-%d %H:%M') |")
done

if [ -n "$report" ]; then
  exec 9> "$report.lock" && flock 9 # drivers run side by side share the report
  old=()
  if [ -f "$report" ]; then # keep the rows of the drivers not run now
    while IFS= read -r line; do
      keep=1
      for n in "${names[@]}"; do [[ $line == "| fuzz_$n |"* ]] && keep=0; done
      [ $keep -eq 1 ] && old+=("$line")
    done < <(grep '^| fuzz_' "$report")
  fi
  {
    echo "# Fuzzing"
    echo
    echo "\`make fuzz\` (scripts/fuzz.sh): each libFuzzer driver in fuzz/ from its seed corpus, built"
    echo "with clang, ASan and UBSan, until it has run the number of executions asked for"
    echo "(\`FUZZ_RUNS\`) or for \`FUZZ_SECONDS\`. A row is the last run of that driver. A run fails"
    echo "unless it reached the functions its driver names (fuzz_query: did_you_mean, the \"did you"
    echo "mean\" of an unknown permission), read from libFuzzer's coverage at the end of its log."
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo),"\
      "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)."
    echo
    echo "| driver | executions | seconds | executions/s | corpus after | crashes | runs asked | commit | when (UTC) |"
    echo "|---|---:|---:|---:|---:|---|---:|---|---|"
    printf '%s\n' "${old[@]}" "${rows[@]}" | grep . | sort
  } > "$report.tmp"
  mv "$report.tmp" "$report"
  rm -f "$report.lock"
  echo "fuzz: figures in $report"
fi
