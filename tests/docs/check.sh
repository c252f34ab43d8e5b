#!/usr/bin/env bash
# tests/docs/check.sh - docs follow code: every error code is documented, every
# CLI option is in docs/cli.md, every catalog id and legacy id is in docs/catalog.md.
# Usage: check.sh path/to/urbac SOURCE_DIR
set -u
U=$1
S=$2
pass=0 fail=0
need() { # need FILE WORD WHAT
  if grep -Fq -- "$2" "$S/$1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $3 '$2' is not in $1"; fi
}
for name in $(sed -n 's/^ *X(\([A-Z]*\), [0-9]*, .*/\1/p' "$S/include/urbac/error.h"); do
  [ "$name" = OK ] || need docs/errors.md "URBAC_$name" "error code"
done
for opt in $(sed -n 's/.*{"\([a-z-]*\)", \(no\|required\)_argument.*/\1/p' "$S/src/cli/main.c"); do
  need docs/cli.md "--$opt" "option"
done
for cmd in catalog check effective explain fmt validate who-can import activate impact export init plan apply dump audit object role assignment user group directory-role device device-group; do
  grep -qE "^## (.*[ ,])?$cmd([ ,:]|$)" "$S/docs/cli.md" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: command $cmd has no section in docs/cli.md"; }
done
for id in $("$U" catalog --json | sed -n 's/.*"\(id\|actions\)": "\([^"]*\)".*/\2/p'); do
  need docs/catalog.md "\`$id\`" "id"
done
"$U" catalog --json | tr -d ' \n' | grep -o '"microsoft.xdr/[^"]*"' | tr -d '"' | sort -u | while read -r a; do
  grep -Fq "\`$a\`" "$S/docs/catalog.md" || echo "FAIL: action '$a' is not in docs/catalog.md"
done | tee /tmp/urbac-docs-actions.$$ 
[ -s /tmp/urbac-docs-actions.$$ ] && fail=$((fail + 1))
rm -f /tmp/urbac-docs-actions.$$
echo "docs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
