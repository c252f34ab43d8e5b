#!/usr/bin/env bash
# tests/install/install.sh - urbac as an embedder gets it: `cmake --install` into
# a fresh prefix, then examples/embed, copied out of the source tree, built against
# the installed library through pkg-config only, and again through
# find_package(urbac), and run on examples/contoso.yaml (an allow and a deny); a
# program on liburbac-store links through pkg-config urbac-store; the installed
# urbac binary runs.
# Usage: install.sh SOURCE_DIR BUILD_DIR VERSION [EXTRA_CFLAGS]
#
# Depends on: cmake, make, cc, pkg-config.
set -uo pipefail
S=$1 B=$2 version=$3 extra=${4:-}
P=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$P" "$work"' EXIT
NAME=install
. "$(dirname "$0")/lib.sh"

if ! cmake --install "$B" --prefix "$P" > "$work/install.log"; then
  cat "$work/install.log"
  echo "install: FAILED: cmake --install" >&2
  exit 1
fi
libdir=$(cd "$P" && ls -d lib*/pkgconfig | head -1)
libdir=$P/${libdir%/pkgconfig}
for f in bin/urbac include/urbac/urbac.h include/urbac/version.h include/urbac/store.h; do
  [ -f "$P/$f" ] && ok || bad "$f is not installed"
done
[ ! -e "$P/include/urbac/server.h" ] && ok || bad "urbac/server.h is installed, but the server library is not"
for l in liburbac liburbac-store; do
  [ "$(readlink "$libdir/$l.so")" = "$l.so.${version%%.*}" ] && [ -f "$libdir/$l.so.$version" ] && ok \
    || bad "$l.so -> $(readlink "$libdir/$l.so") (want $l.so.${version%%.*} -> $l.so.$version)"
done
cm=$libdir/cmake/urbac
for f in urbacConfig.cmake urbacConfigVersion.cmake urbacTargets.cmake; do
  [ -f "$cm/$f" ] && ok || bad "$cm/$f is not installed"
done

export PKG_CONFIG_PATH=$libdir/pkgconfig LD_LIBRARY_PATH=$libdir
got=$(pkg-config --modversion urbac 2>&1)
[ "$got" = "$version" ] && ok || bad "pkg-config --modversion urbac: $got"
got=$("$P/bin/urbac" --version 2>&1)
[ "$got" = "urbac $version" ] && ok || bad "the installed urbac --version: $got"

# The example, outside the source tree: it sees the installed headers only.
cp -r "$S/examples/embed" "$work/pc"
if make -s -C "$work/pc" CFLAGS="-O2 -g -Wall -Wextra -Werror $extra" > "$work/pc.log" 2>&1; then ok
else cat "$work/pc.log"; bad "examples/embed does not build through pkg-config"; fi
# ...and through find_package(urbac), with the compiler CMake finds.
cp -r "$S/examples/embed" "$work/cm"
if cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="$extra" \
     > "$work/cm.log" 2>&1 && cmake --build "$work/cm/build" >> "$work/cm.log" 2>&1; then ok
else cat "$work/cm.log"; bad "examples/embed does not build through find_package(urbac)"; fi

# ask EXE EXPECTED USER PERMISSION WORKLOAD SCOPE: the answer and the exit status
ask() {
  local exe=$1 want=$2 code=0 got
  shift 2
  got=$("$exe" "$S/examples/contoso.yaml" "$@" 2>&1) || code=$?
  local want_code=1
  [ "$want" = allow ] && want_code=0
  if [ "$got" = "$want" ] && [ "$code" -eq "$want_code" ]; then ok
  else bad "$(basename "$(dirname "$exe")")/embed $*: '$got' (exit $code), want $want (exit $want_code)"; fi
}
for exe in "$work/pc/embed" "$work/cm/build/embed"; do
  [ -x "$exe" ] || continue
  loads=$(ldd "$exe")  # (not piped into grep -q: with pipefail, ldd's SIGPIPE would fail the test)
  if grep -q "liburbac.so.${version%%.*} => $libdir/" <<<"$loads"; then ok
  else bad "$exe does not load liburbac from the prefix: $(grep urbac <<<"$loads")"; fi
  ask "$exe" allow alice@contoso.com 'Alerts (manage)' mde device:lap-042
  ask "$exe" deny alice@contoso.com 'Alerts (manage)' mde device:srv-001
done
# a refused question is an error with a reason, not a deny
if out=$("$work/pc/embed" "$S/examples/contoso.yaml" alice@contoso.com 'No such thing (read)' mde 2>&1); then
  bad "an unknown permission was answered: $out"
elif [ $? -eq 2 ] && grep -q 'No such thing' <<<"$out"; then ok
else bad "an unknown permission: '$out'"; fi

# The store's library, through its own pkg-config module.
cat > "$work/store.c" <<'C'
#include <stdio.h>
#include <urbac/store.h>
#include <urbac/urbac.h>
int main(void)
{
  printf("%s schema %d\n", URBAC_VERSION_STRING, urbac_store_schema());
  return 0;
}
C
if cc -std=c17 $extra $(pkg-config --cflags urbac-store) -o "$work/store" "$work/store.c" \
     $(pkg-config --libs urbac-store) 2> "$work/store.log" && "$work/store" > "$work/store.out" \
   && grep -q "^$version schema [1-9]" "$work/store.out"; then ok
else
  cat "$work/store.log" "$work/store.out" 2>/dev/null
  bad "a program on liburbac-store (pkg-config urbac-store)"
fi

summary
