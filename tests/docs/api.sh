#!/usr/bin/env bash
# tests/docs/api.sh - docs/api.md works as written: every shell block from its
# "Decisions" section on runs, in order, against a real `urbac serve` on the demo
# tenant; every curl must get a 2xx answer. docs/scim.md is checked the same way,
# from its "Every operation with curl" section.
# Usage: api.sh URBAC SOURCE_DIR [DOC SECTION MIN_CALLS]
set -u
U=$1
S=$2
doc=${3:-docs/api.md}
section=${4:-Decisions}
min=${5:-20}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$U" init --db "$dir/db" >/dev/null && "$U" apply --db "$dir/db" -f "$S/examples/contoso.yaml" >/dev/null || exit 1
(umask 077 && echo "docs-api-preshared-key-0123456789" > "$dir/psk")
"$U" serve --db "$dir/db" --listen 127.0.0.1:0 --preshared-key-file "$dir/psk" > "$dir/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q serving "$dir/out" && break; sleep 0.05; done
K=$(cat "$dir/psk")
B=$(sed -n 's|.*serving on \(http://[^ ]*\) .*|\1|p' "$dir/out")/api/v1/tenants/contoso
H="Authorization: Bearer $K"
export K B H
calls=0 fails=0
curl() { # the real curl, with its status checked
  local out code
  out=$(command curl -sS -w '\n%{http_code}' "$@")
  code=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
  calls=$((calls + 1))
  if [ "$code" -lt 200 ] || [ "$code" -ge 300 ]; then
    echo "FAIL: HTTP $code: curl $*" >&2
    fails=$((fails + 1))
  fi
}
# the shell blocks after "## SECTION", as one script
script=$(awk -v s="## $section" 'index($0, s) == 1 {on = 1} on && /^```sh/ {inb = 1; next} inb && /^```/ {inb = 0; next} inb' "$S/$doc")
eval "$script" > "$dir/log" 2>&1
# a curl inside $(...) runs in a subshell: its FAIL line is in the log, not in $fails
grep FAIL "$dir/log" && fails=$((fails + 1))
[ "$calls" -ge "$min" ] || { echo "$doc: only $calls curl calls ran"; exit 1; }
echo "$doc: $calls curl calls, $fails failed"
[ "$fails" -eq 0 ]
