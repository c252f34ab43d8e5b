#!/usr/bin/env bash
# tests/install/man.sh - the manual as an operator meets it: `cmake --install` into a
# fresh prefix, then every command `urbac --help` lists has its page
# (share/man/man1/urbac-COMMAND.1) and urbac(1) lists it; man(1) finds each page
# through MANPATH and renders it with groff's warnings on, without one; and every
# option the command's `--help` prints (its long and one-letter forms) is in its
# rendered page. No page is there for a command that does not exist. Every
# command in a page's EXAMPLES runs as printed (in a folder with
# examples/contoso.yaml and a store made from it): exit 0 or 1, never 2 (and
# `serve` still serving after 5 s).
# Usage: man.sh SOURCE_DIR BUILD_DIR
#
# Depends on: cmake, man-db, groff-base.
set -uo pipefail
S=$1 B=$2
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
NAME=man
. "$(dirname "$0")/lib.sh"

if ! out=$(cmake --install "$B" --prefix "$P" 2>&1); then
  echo "$out"
  echo "man: FAILED: cmake --install" >&2
  exit 1
fi
U=$P/bin/urbac
M=$P/share/man/man1
export MANPATH=$P/share/man MANWIDTH=1000 MAN_KEEP_FORMATTING= LC_ALL=C.UTF-8

# render PAGE: the page as man(1) shows it, without formatting; groff's warnings
# (man --warnings: all of them) go to $P/warn
render() { man --warnings=all "$1" 2> "$P/warn" | col -bx; }

# The examples' folder: the tenant file, its store, a key file, a home.
X=$P/examples
mkdir -p "$X" && cp "$S/examples/contoso.yaml" "$X/"
(cd "$X" && "$U" init --db urbac.db > /dev/null && "$U" apply -f contoso.yaml --db urbac.db --actor test > /dev/null \
  && (umask 077 && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > admin.key)) || bad "the examples' store"
# run_examples PAGE_TEXT COMMAND: each command of EXAMPLES (continuation lines
# joined), run with the installed urbac first on PATH
run_examples() {
  local cmd=$2 line rc
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    (cd "$X" && HOME=$X PATH=$P/bin:$PATH timeout 5 bash -c "$line" > "$P/ex.out" 2>&1)
    rc=$?
    if [ $rc -le 1 ] || { [ $rc -eq 124 ] && [ "$cmd" = serve ]; }; then ok
    else bad "urbac-$cmd(1)'s example exits $rc: $line: $(head -5 "$P/ex.out")"; fi
  done < <(awk '/^EXAMPLES/ {on = 1; next} on && /^[A-Z]/ {exit}
                on && /^           / {sub(/^ +/, ""); if (sub(/ \\$/, " ")) {acc = acc $0; next} print acc $0; acc = ""}' <<<"$1")
}

cmds=$("$U" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ "$(wc -w <<<"$cmds")" -ge 28 ] && ok || bad "urbac --help lists only: $cmds"
overview=$(render urbac)
[ -s "$P/warn" ] && bad "urbac(1) renders with warnings: $(cat "$P/warn")" || ok
for cmd in $cmds; do
  [ -f "$M/urbac-$cmd.1" ] || { bad "no page urbac-$cmd.1"; continue; }
  grep -Fq "urbac-$cmd(1)" <<<"$overview" && ok || bad "urbac(1) does not list urbac-$cmd(1)"
  page=$(render "urbac-$cmd")
  [ -s "$P/warn" ] && bad "urbac-$cmd(1) renders with warnings: $(cat "$P/warn")" || ok
  grep -q "^NAME" <<<"$page" && grep -q "^SYNOPSIS" <<<"$page" && grep -q "^OPTIONS" <<<"$page" \
    && grep -q "^EXIT STATUS" <<<"$page" && ok || bad "urbac-$cmd(1) lacks a section: $page"
  run_examples "$page" "$cmd"
  # the options as --help prints them: "  -o, --output OUT  help" or "      --json  help"
  while read -r letter long; do
    [ -n "$long" ] || continue
    grep -Eq -- "(^|[ ,])$long( |,|$)" <<<"$page" && ok || bad "urbac-$cmd(1) does not describe $long"
    [ -z "$letter" ] || { grep -Fq -- "$letter, $long" <<<"$page" && ok || bad "urbac-$cmd(1): no $letter, $long"; }
  done < <("$U" "$cmd" --help | sed -n 's/^  \(-[a-z]\), \(--[a-z0-9-]*\).*/\1 \2/p; s/^      \(--[a-z0-9-]*\).*/ \1/p')
done
# the summary and a default as --help says them
grep -Fq "$("$U" check --help | sed -n 3p | sed 's/\.$//')" <<<"$(render urbac-check)" && ok \
  || bad "urbac-check(1) lacks the summary of urbac check --help"
grep -Fq "Default: 127.0.0.1:8080" <<<"$(render urbac-serve)" && ok || bad "urbac-serve(1) lacks --listen's default"
examples=$(cat "$M"/*.1 | grep -c '^\.RS 4')
[ "$examples" -ge 20 ] && ok || bad "only $examples examples in the pages"
# nothing else: one page per command and urbac(1)
n=$(ls "$M" | wc -l)
[ "$n" -eq $(($(wc -w <<<"$cmds") + 1)) ] && ok || bad "$n pages in $M for $(wc -w <<<"$cmds") commands: $(ls "$M")"
# the hidden generator refuses what it does not know
"$U" help --man chek > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "urbac help --man chek did not exit 2"

summary
