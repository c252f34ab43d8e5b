#!/usr/bin/env bash
# scripts/test.sh - `make test`: everything CI runs.
#  1. build and run every test (unit, property, CLI, corpus replays, the build
#     and install checks of tests/install) with ctest;
#  2. the same again built with AddressSanitizer and UndefinedBehaviorSanitizer;
#  3. each libFuzzer driver for FUZZ_SECONDS (default 20) from its seed corpus.
# Exits non-zero on any failure; the last line sums up.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-20}
scripts/deps.sh test

if [ ! -d ../shared/seeds ]; then
  echo "test: ../shared (seeds, spec) must sit beside the repository" >&2
  exit 2
fi

echo "== npm ci (tests/web: playwright-core, axe-core, oidc-provider; tests/server: oidc-provider; tests/docker: the Dockerfile's linter; bench/peers: the peer engines)"
(cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/server && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/docker && npm ci --no-audit --no-fund --loglevel=error)
(cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)

suite() { # suite NAME BUILD_DIR CMAKE_ARGS...
  local name=$1 dir=$2
  shift 2
  echo "== $name"
  cmake -S . -B "$dir" -DURBAC_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  (cd "$dir" && ctest --output-on-failure -j"$jobs")
}

suite "tests" build
suite "tests under ASan+UBSan" build-asan -DURBAC_SANITIZE=ON

echo "== fuzzing, ${fuzz_seconds}s per driver"
fuzz_log=$(mktemp)
scripts/fuzz.sh --seconds "$fuzz_seconds" | tee "$fuzz_log" # (tee /dev/stderr would truncate a log file)
fuzzed=$(grep -c ', no crash$' "$fuzz_log")
rm -f "$fuzz_log"

count() { (cd "$1" && ctest -N | awk '/Total Tests:/ {print $3}'); }
echo "make test: $(($(count build) + $(count build-asan) + fuzzed)) passed, 0 failed"
