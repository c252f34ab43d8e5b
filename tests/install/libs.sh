#!/usr/bin/env bash
# tests/install/libs.sh - what an embedder links. liburbac (the engine) records no
# database, TLS or HTTP library as NEEDED; liburbac-store records the databases
# (so the check below can see a NEEDED entry when there is one); both carry a
# versioned soname; liburbac exports its API, every symbol of which is declared
# in include/urbac/, plus the internals the store shares under the node of this
# exact release, and nothing else.
# Usage: libs.sh LIBURBAC_SO LIBURBAC_STORE_SO SOURCE_DIR VERSION
#
# Depends on: readelf (binutils).
set -uo pipefail
lib=$1 store=$2 S=$3 version=$4
major=${version%%.*}
NAME=libs
. "$(dirname "$0")/lib.sh"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
# name@version of every symbol the library defines and exports
exports() { readelf --dyn-syms -W "$1" | awk '$5 == "GLOBAL" && $7 != "UND" && $8 !~ /^URBAC/ {print $8}'; }

forbidden='^lib(pq|sqlite3|ssl|crypto|microhttpd|gnutls|urcu[a-z-]*|jwt|curl)\.so'
lib_needed=$(needed "$lib")
echo "libs: liburbac needs: $(tr '\n' ' ' <<<"$lib_needed")"
if grep -E "$forbidden" <<<"$lib_needed"; then bad "liburbac records the libraries above as NEEDED"
else ok; fi
store_needed=$(needed "$store")
echo "libs: liburbac-store needs: $(tr '\n' ' ' <<<"$store_needed")"
for want in 'liburbac\.so\.' 'libsqlite3\.so' 'libpq\.so' 'libcrypto\.so'; do
  if grep -qE "^$want" <<<"$store_needed"; then ok
  else bad "liburbac-store does not record $want as NEEDED"; fi
done

for f in "$lib" "$store"; do
  base=$(basename "$f")
  link=$(readlink "$f") real=$(readlink "$(dirname "$f")/$base.$major")
  if [ "$(soname "$f")" = "$base.$major" ] && [ "$link" = "$base.$major" ] && [ "$real" = "$base.$version" ]
  then ok
  else bad "$base: soname '$(soname "$f")', links $link -> $real (want $base.$major -> $base.$version)"; fi
done

public=0 private=0
while read -r sym; do
  name=${sym%%@*} node=${sym##*@}
  case "$node" in
    "URBAC_$major")
      public=$((public + 1))
      grep -q "URBAC_EXTERN.*\b$name(" "$S"/include/urbac/*.h \
        || bad "liburbac exports $name, declared nowhere in include/urbac/" ;;
    "URBAC_PRIVATE_$version") private=$((private + 1)) ;;
    *) bad "liburbac exports $sym, outside its version nodes" ;;
  esac
done < <(exports "$lib" | sed 's/@@*/@/')
[ "$public" -gt 50 ] && ok || bad "liburbac exports only $public public symbols"
echo "libs: liburbac exports $public public symbols (URBAC_$major) and $private shared with the store" \
     "(URBAC_PRIVATE_$version)"
while read -r sym; do
  grep -q "URBAC_EXTERN.*\b${sym%%@*}(" "$S"/include/urbac/store.h \
    || bad "liburbac-store exports $sym, not in urbac/store.h"
done < <(exports "$store")

summary
