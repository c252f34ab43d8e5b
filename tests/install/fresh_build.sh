#!/usr/bin/env bash
# tests/install/fresh_build.sh - the first command on a fresh machine. `make`,
# `make run` and `make install` install only scripts/deps.sh's build list, then
# configure (`make configure`): that configuration must find every pkg-config
# module it asks for among the .pc files of those packages and of what apt
# installs with them (their Depends, recursively). Any other pkg_check_modules
# (cmocka when the tests were on by default, say) fails here, on a machine that
# has everything installed. The plain `cmake -S . -B DIR` is checked the same way.
# Usage: fresh_build.sh SOURCE_DIR
#
# Depends on: scripts/deps.sh --list, the Makefile's configure target, dpkg, cmake.
set -euo pipefail
S=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build list and its dependency closure, as installed here.
mapfile -t build < <("$S/scripts/deps.sh" --list build)
queue=("${build[@]}")
declare -A seen=()
while [ ${#queue[@]} -gt 0 ]; do
  p=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${seen[$p]:-}" ] && continue
  seen[$p]=1
  # (a virtual package, provided by another, is skipped)
  deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$p" 2>/dev/null) || continue
  for d in $(tr ',|' '\n\n' <<<"$deps" | sed -e 's/([^)]*)//g' -e 's/:any//' -e 's/ //g' | grep -v '^$'); do
    [ -z "${seen[$d]:-}" ] && queue+=("$d")
  done
done

mkdir "$work/pc"
n=0
for p in "${!seen[@]}"; do
  while read -r f; do
    cp "$f" "$work/pc/" && n=$((n + 1))
  done < <(dpkg -L "$p" 2>/dev/null | grep '\.pc$' || true)
done

# configure WHAT DIR COMMAND...: COMMAND, seeing only those modules, must succeed
configure() {
  local what=$1 dir=$2
  shift 2
  if ! env -u PKG_CONFIG_PATH PKG_CONFIG_LIBDIR="$work/pc" "$@" > "$work/$dir.log" 2>&1; then
    cat "$work/$dir.log"
    echo "fresh_build: FAILED: $what needs a pkg-config module that no package of scripts/deps.sh's" \
         "build list brings (see above)" >&2
    exit 1
  fi
}
unset MAKEFLAGS MFLAGS MAKELEVEL  # not the jobs of a make that runs the tests
configure "make configure" make make -s -C "$S" BUILD="$work/make" PREFIX="$work/prefix" V=1 configure
configure "cmake's default configuration" cmake cmake -S "$S" -B "$work/cmake"
# `make install PREFIX=P` configures for P: the unit it installs runs P's binary
unit=$(grep '^ExecStart=' "$work/make/urbac.service")
if [ "$unit" = "${unit#"ExecStart=$work/prefix/bin/urbac serve "}" ]; then
  echo "fresh_build: FAILED: make configure PREFIX=$work/prefix writes a unit that runs another binary: $unit" >&2
  exit 1
fi
echo "fresh_build: make's and cmake's default configurations find everything with the ${#build[@]} build" \
     "packages (${#seen[@]} with their dependencies, $n pkg-config modules), and make's unit runs PREFIX's" \
     "binary: 3 passed, 0 failed"
