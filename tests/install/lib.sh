# tests/install/lib.sh - what every install test script shares; sourced after
# the script sets NAME. ok/bad count checks, summary prints the closing line
# ("NAME: N passed, M failed") and returns non-zero on any failure, and
# wait_serving waits for `urbac serve`'s "serving on" line in a log.
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "$NAME: FAILED: $*" >&2; failed=$((failed + 1)); }
summary() {
  echo "$NAME: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# wait_serving LOG: prints the server's base URL once LOG says it serves (10 s at most), or nothing
wait_serving() {
  local url=
  for _ in $(seq 100); do
    url=$(sed -n 's|.*serving on \(http://[0-9.:]*\).*|\1|p' "$1")
    [ -n "$url" ] && break
    sleep 0.1
  done
  echo "$url"
}
