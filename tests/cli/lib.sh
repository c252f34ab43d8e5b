# tests/cli/lib.sh - what the CLI's test scripts share (sourced by run.sh and
# tenant.sh): expect, expect_exactly and same, each counting into $pass and $fail.

# expect NAME STATUS PATTERN -- COMMAND...: runs COMMAND, checks its exit status
# and that stdout+stderr matches the extended regex PATTERN (never empty: an
# empty pattern matches anything; say what the output is with expect_exactly).
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  [ -n "$pattern" ] || { echo "run.sh: '$name' has an empty pattern"; exit 2; }
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: exit %s (want %s), output:\n%s\n---\n' "$name" "$rc" "$want" "$out" | head -30
  fi
}

# expect_exactly NAME STATUS TEXT -- COMMAND...: as expect, but stdout+stderr must
# be TEXT exactly (trailing newlines aside).
expect_exactly() {
  local name=$1 want=$2 text=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$want" ] && [ "$out" = "$text" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: exit %s (want %s), output:\n%s\n--- wanted:\n%s\n---\n' "$name" "$rc" "$want" "$out" "$text" |
      head -40
  fi
}

# same NAME FILE1 FILE2: the two files are equal byte for byte.
same() {
  if cmp -s "$2" "$3"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2 and $3 differ"; fi
}
