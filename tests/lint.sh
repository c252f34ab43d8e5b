#!/usr/bin/env bash
# tests/lint.sh - function size, nesting and complexity limits (.clang-tidy) on
# every library and CLI source. Usage: lint.sh SOURCE_DIR BUILD_DIR
set -u
S=$1
B=$2
out=$(clang-tidy -p "$B" --quiet "$S"/src/*/*.c 2>&1)
rc=$?
bad=$(grep -cE ': (warning|error):' <<<"$out")
[ "$bad" -gt 0 ] && grep -E ': (warning|error):' <<<"$out"
n=$(ls "$S"/src/*/*.c | wc -l)
if [ $rc -eq 0 ] && [ "$bad" -eq 0 ]; then echo "lint: $n passed, 0 failed"; else echo "lint: $((n - bad)) passed, $bad failed"; exit 1; fi
