#!/usr/bin/env bash
# tests/lint.sh - the style the build checks, not hopes for:
#  1. every C file the repository tracks is exactly as .clang-format writes it
#     (which keeps lines within 110 columns);
#  2. function size, nesting and complexity limits (.clang-tidy) on every
#     library and CLI source.
# Usage: lint.sh SOURCE_DIR BUILD_DIR
set -u
S=$1
B=$2
failed=0 files=0
while IFS= read -r f; do
  files=$((files + 1))
  if ! clang-format --dry-run --Werror "$S/$f" > /dev/null 2>&1; then
    echo "lint: $f is not formatted: clang-format -i $f" >&2
    clang-format "$S/$f" | diff -u "$S/$f" - | head -20 >&2
    failed=$((failed + 1))
  fi
done < <(git -C "$S" ls-files '*.c' '*.h')
[ "$files" -gt 0 ] || { echo "lint: no C files found (not a git checkout?)" >&2; exit 1; }
echo "lint: format: $((files - failed)) passed, $failed failed"

out=$(clang-tidy -p "$B" --quiet "$S"/src/*/*.c 2>&1)
rc=$?
bad=$(grep -cE ': (warning|error):' <<<"$out")
[ "$bad" -gt 0 ] && grep -E ': (warning|error):' <<<"$out"
n=$(ls "$S"/src/*/*.c | wc -l)
echo "lint: tidy: $((n - bad)) passed, $bad failed"
[ $rc -eq 0 ] && [ "$bad" -eq 0 ] && [ "$failed" -eq 0 ]
