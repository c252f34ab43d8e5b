#!/usr/bin/env bash
# tests/docs/check.sh - docs follow code: every error code is documented, every
# CLI command and option is in docs/cli.md, every catalog id and legacy id is in docs/catalog.md.
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
# The commands as `urbac --help` lists them, and each command's options as its
# own `--help` prints them (both come from the CLI's tables, src/cli/cmd_*.c):
# each command has a section, each option a row in the options table.
cmds=$("$U" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ "$(wc -w <<<"$cmds")" -ge 28 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: 'urbac --help' lists only: $cmds"; }
for cmd in $cmds; do
  grep -qE "^## (.*[ ,])?$cmd([ ,:]|$)" "$S/docs/cli.md" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: command $cmd has no section in docs/cli.md"; }
  for opt in $("$U" "$cmd" --help | sed -n 's/^  \(-[a-z], \|    \)--\([a-z0-9-]*\).*/\2/p'); do
    if grep -qE "^\| \`--$opt[ \`]" "$S/docs/cli.md"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: option --$opt of $cmd has no row in the options table of docs/cli.md"; fi
  done
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
