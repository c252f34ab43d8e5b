#!/usr/bin/env bash
# tests/server/bounded.sh SECONDS COMMAND [ARGS...] - runs COMMAND; if it has not
# ended after SECONDS, prints where each of its threads is (gdb, when installed) to
# stderr, kills it and exits 124: a command that hangs in a test is a failure
# that says where, not a suite that runs into ctest's timeout.
limit=$1
shift
"$@" &
pid=$!
for ((i = 0; i < limit * 10; i++)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    exit $?
  fi
  sleep 0.1
done
echo "bounded.sh: '$*' still running after ${limit} s; its threads:" >&2
gdb -p "$pid" -batch -ex 'thread apply all bt' >&2 2>/dev/null || echo "(gdb is not installed)" >&2
kill -KILL "$pid"
wait "$pid" 2>/dev/null
exit 124
