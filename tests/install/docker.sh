#!/usr/bin/env bash
# tests/install/docker.sh - the Dockerfile, checked without Docker (this machine
# cannot pull debian:12; docs/operations.md says what is and is not verified):
#  - dockerfile-utils (npm, pinned in tests/docker) lints it: no error, no warning;
#  - it starts from debian:12 and debian:12-slim only, and every package it
#    apt-get installs has a candidate in this machine's Debian 12 lists, and
#    `apt-get build-dep` on debian/control (what its build stage runs) resolves;
#  - it builds with the README's command (dpkg-buildpackage -us -uc -b), runs as a
#    non-root user, exposes the port it listens on, keeps the store (URBAC_DB) in a
#    VOLUME, and checks /healthz;
#  - its entrypoint, run here with the image's environment on the urbac just
#    installed into a prefix, creates the store and serves: the HEALTHCHECK command
#    passes, the mounted preshared key authorizes, a stopped server fails the check.
# Usage: docker.sh SOURCE_DIR BUILD_DIR
#
# Depends on: node and tests/docker's npm ci, apt, cmake, curl.
set -uo pipefail
S=$1 B=$2
D=$S/Dockerfile
P=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$P"' EXIT
NAME=docker
. "$(dirname "$0")/lib.sh"

lint=$S/tests/docker/node_modules/.bin/dockerfile-utils
if [ -x "$lint" ]; then
  out=$("$lint" lint "$D" 2>&1) && [ -z "$out" ] && ok || bad "dockerfile-utils lint: $out"
  printf 'FROM debian:12\nHEALTHCHECK --interval=soon CMD true\n' > "$P/bad.Dockerfile"
  "$lint" lint "$P/bad.Dockerfile" > /dev/null 2>&1 && bad "dockerfile-utils accepts a bad HEALTHCHECK" || ok
else
  bad "no linter: run npm ci in tests/docker (scripts/test.sh does)"
fi

# The instructions, continuation lines joined.
flat=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$D" | grep -v '^ *#')
froms=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' <<<"$flat" | sort -u | tr '\n' ' ')
[ "$froms" = "debian:12 debian:12-slim " ] && ok || bad "FROM: $froms (want debian:12 and debian:12-slim)"
pkgs=$(grep -o 'apt-get install [^&]*' <<<"$flat" | sed 's/apt-get install//' | tr ' ' '\n' \
       | grep -vE '^-|^$|^/' | sort -u)
[ "$(wc -w <<<"$pkgs")" -ge 3 ] && ok || bad "apt-get install names only: $pkgs"
for p in $pkgs; do
  c=$(apt-cache policy "$p" 2> /dev/null | sed -n 's/^ *Candidate: //p')
  [ -n "$c" ] && [ "$c" != "(none)" ] && ok || bad "package $p has no candidate in the Debian lists (apt-get update?)"
done
grep -q 'apt-get build-dep -y --no-install-recommends \./' <<<"$flat" && ok || bad "the build stage does not build-dep ./"
mkdir -p "$P/bd/debian" && cp "$S/debian/control" "$P/bd/debian/"
out=$(cd "$P/bd" && apt-get build-dep -s --no-install-recommends ./ 2>&1) && ok \
  || bad "apt-get build-dep on debian/control does not resolve: $(tail -5 <<<"$out")"
grep -q 'dpkg-buildpackage -us -uc -b' <<<"$flat" && grep -q 'dpkg-buildpackage -us -uc -b' "$S/README.md" && ok \
  || bad "the Dockerfile and the README do not build with dpkg-buildpackage -us -uc -b"
for src in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' <<<"$flat"); do
  [ "$src" = . ] || { [ -e "$S/$src" ] && ok || bad "COPY $src: no such file"; }
done
grep -qx 'build' "$S/.dockerignore" && ok || bad ".dockerignore does not leave out build/"

# The final stage: everything after the last FROM.
final=$(awk '/^FROM /{s = ""} {s = s $0 "\n"} END {printf "%s", s}' <<<"$flat")
user=$(sed -n 's/^USER \(.*\)/\1/p' <<<"$final" | tail -1)
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] && ok || bad "the image runs as '${user:-root}'"
grep -q "useradd .* $user\$" <<<"$final" && ok || bad "USER $user is not created"
envs=$(sed -n 's/^ENV //p' <<<"$final" | tr ' ' '\n' | grep =)
listen=$(sed -n 's/^URBAC_LISTEN=//p' <<<"$envs") db=$(sed -n 's/^URBAC_DB=//p' <<<"$envs")
keys=$(sed -n 's/^URBAC_PRESHARED_KEY_FILE=//p' <<<"$envs")
grep -qx "EXPOSE ${listen##*:}" <<<"$final" && ok || bad "EXPOSE does not match URBAC_LISTEN=$listen"
grep -qF "VOLUME [\"$(dirname "$db")\"]" <<<"$final" && ok || bad "no VOLUME for the store $db"
hc=$(sed -n 's/^HEALTHCHECK .* CMD //p' <<<"$final")
[[ $hc == *"/healthz"* ]] && ok || bad "HEALTHCHECK does not ask /healthz: $hc"

# The entrypoint with the image's environment (paths moved into $P) on the urbac
# installed into a prefix.
if ! out=$(cmake --install "$B" --prefix "$P/usr" 2>&1); then
  echo "$out"
  bad "cmake --install"
else
  key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$P$(dirname "$keys")" "$P$(dirname "$db")"
  (umask 077 && echo "$key" > "$P$keys")
  URBAC_DB=$P$db URBAC_LISTEN=127.0.0.1:0 URBAC_PRESHARED_KEY_FILE=$P$keys PATH=$P/usr/bin:$PATH \
    sh "$S/contrib/docker/entrypoint.sh" > "$P/serve.log" 2>&1 &
  pid=$!
  url=$(wait_serving "$P/serve.log")
  if [ -z "$url" ]; then
    bad "the entrypoint does not serve: $(cat "$P/serve.log")"
  else
    [ -f "$P$db" ] && ok || bad "the entrypoint did not create the store $db"
    check=${hc//127.0.0.1:${listen##*:}/${url#http://}}
    sh -c "$check" > /dev/null 2>&1 && ok || bad "the HEALTHCHECK ($check) fails on a serving container"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$url/api/v1/tenants/none/roleDefinitions")
    [ "$code" = 404 ] && ok || bad "the mounted preshared key: answered $code (want 404: authorized, no such tenant)"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$key" "$url/api/v1/tenants/none/roleDefinitions")
    [ "$code" = 401 ] && ok || bad "another key: answered $code (want 401)"
    kill -TERM "$pid"
    wait "$pid" && ok || bad "SIGTERM: the entrypoint's server did not exit 0"
    pid=
    sh -c "$check" > /dev/null 2>&1 && bad "the HEALTHCHECK passes with no server" || ok
  fi
fi

summary
