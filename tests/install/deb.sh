#!/usr/bin/env bash
# tests/install/deb.sh - the Debian package as an operator gets it: debian/ built by
# dpkg-buildpackage -us -uc -b from a copy of the source (no tests in the package
# build, -j2, under 4 minutes), then
#  - debian/control's Build-Depends are scripts/deps.sh's build list (less the
#    compiler and make, which build-essential brings), and the changelog's version
#    is the project's;
#  - the three packages, unpacked into a temporary root (dpkg-deb -x), hold what
#    they should: urbac --version runs from there, man(1) shows urbac(1) and
#    urbac-check(1) from there, the completion scripts and the unit are there,
#    examples/embed builds against liburbac-dev through pkg-config and runs on
#    liburbac0, and its `urbac serve` answers / with the web portal (the page
#    naming its hashed script, which it serves), not the page saying the portal
#    was not built;
#  - as root (CI), they are installed for real with dpkg -i (dpkg checks every
#    dependency against the machine's packages): /usr/bin/urbac --version, man
#    urbac, dpkg -L lists the completion and the unit, /usr/bin/urbac serve serves
#    the portal; then purged, leaving nothing.
#    Skipped when a urbac package was already installed (it is not touched), or
#    with URBAC_TEST_DPKG_INSTALL=0.
# Usage: deb.sh SOURCE_DIR VERSION    Exit 77 (skipped) without dpkg-buildpackage/debhelper.
#
# Depends on: dpkg-dev, debhelper, man-db, curl, scripts/deps.sh's build list.
set -uo pipefail
S=$1 version=$2
W=$(mktemp -d)
installed=false
server=
# dpkg ARGS...: dpkg, waiting up to a minute while another dpkg (apt) holds its lock;
# its output on standard output, its exit status
dpkg_locked() {
  local out rc
  for _ in $(seq 30); do
    out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }
    rc=$?
    grep -q 'lock' <<<"$out" || break
    sleep 2
  done
  echo "$out"
  return $rc
}
cleanup() {
  [ -n "$server" ] && kill "$server" 2> /dev/null
  if $installed; then dpkg_locked --purge urbac liburbac-dev liburbac0 > /dev/null; fi
  rm -rf "$W"
}
trap cleanup EXIT
NAME=deb
. "$(dirname "$0")/lib.sh"
if ! command -v dpkg-buildpackage > /dev/null || ! command -v dh > /dev/null; then
  echo "deb: dpkg-buildpackage or debhelper is not installed (scripts/deps.sh test): skipped" >&2
  exit 77
fi

# debian/ against the rest of the tree
want=$(bash "$S/scripts/deps.sh" --list build | grep -vxE 'gcc|make' | sort)
got=$(sed -n '/^Build-Depends:/,/^$/p' "$S/debian/control" | sed 's/^Build-Depends://' | tr ',' '\n' \
      | sed 's/^ *//; s/ *$//; s/ .*//' | grep -v '^debhelper-compat' | sed '/^$/d' | sort)
[ "$got" = "$want" ] && ok || bad "Build-Depends: $(echo $got) | deps.sh build: $(echo $want)"
cv=$(cd "$S" && dpkg-parsechangelog -S Version 2>&1)
[ "${cv%%-*}" = "$version" ] && ok || bad "debian/changelog is at $cv, the project at $version"

# portal URBAC [ENV...]: `URBAC serve` (run with ENV) on a new store answers / with
# the portal: the page names its hashed script (web/build.mjs), which it serves as
# JavaScript; not the page a build without node and npm serves (cmake/portal-none.c)
portal() {
  local bin=$1 page js type url
  shift
  mkdir -p "$W/portal" && rm -f "$W/portal/"*
  env "$@" "$bin" init --db "$W/portal/store.db" > /dev/null 2>&1
  env "$@" "$bin" serve --db "$W/portal/store.db" --listen 127.0.0.1:0 --threads 1 > "$W/portal/serve.log" 2>&1 &
  server=$!
  url=$(wait_serving "$W/portal/serve.log")
  page=$(curl -fsS "$url/" 2>&1)
  js=$(grep -o 'src="/portal/portal-[0-9a-f]*\.js"' <<<"$page" | cut -d'"' -f2)
  type=$([ -n "$js" ] && curl -fsS -o /dev/null -w '%{content_type}' "$url$js" 2>&1)
  kill "$server" && wait "$server" 2> /dev/null
  server=
  if [[ -n $js && $type == *javascript* ]] && ! grep -q 'built without its web portal' <<<"$page"; then ok
  else bad "$bin serve at / (${url:-no url: $(cat "$W/portal/serve.log")}): ${page:0:300} | script ${js:-none}: $type"; fi
}

# the build, on a copy of the source (dpkg-buildpackage writes beside the tree)
mkdir -p "$W/src" "$W/root"
if [ -d "$S/.git" ] || [ -f "$S/.git" ]; then
  (cd "$S" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$W/src"
else
  tar -C "$S" --exclude='./build*' --exclude='./run' --exclude=node_modules -cf - . | tar -xf - -C "$W/src"
fi
start=$(date +%s)
if ! (cd "$W/src" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" timeout 240 \
        dpkg-buildpackage -us -uc -b > "$W/build.log" 2>&1); then
  tail -40 "$W/build.log"
  echo "deb: FAILED: dpkg-buildpackage -us -uc -b" >&2
  exit 1
fi
echo "deb: built in $(($(date +%s) - start)) s"
debs=()
for p in urbac liburbac0 liburbac-dev; do
  f=$(ls "$W/${p}_${version}"*.deb 2> /dev/null | head -1)
  [ -n "$f" ] && { ok; debs+=("$f"); } || bad "no $p package was built: $(ls "$W")"
done
[ ${#debs[@]} -eq 3 ] || exit 1

# unpacked into a temporary root
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$W/root"; done
R=$W/root
libdir=$(dirname "$(ls "$R"/usr/lib/*/liburbac.so.0 2> /dev/null | head -1)")
[ -f "$libdir/liburbac.so.$version" ] && [ -f "$libdir/liburbac-store.so.$version" ] && ok \
  || bad "the libraries are not in liburbac0: $(find "$R" -name 'liburbac*')"
got=$(LD_LIBRARY_PATH=$libdir "$R/usr/bin/urbac" --version 2>&1)
[ "$got" = "urbac $version" ] && ok || bad "the packaged urbac --version: $got"
for page in urbac urbac-check urbac-serve; do
  out=$(MANPATH=$R/usr/share/man MANWIDTH=200 man "$page" 2>&1 | col -b)
  grep -q "^NAME" <<<"$out" && grep -Fq -- "${page}" <<<"$out" && ok || bad "man $page from the package: $out"
done
for f in usr/share/bash-completion/completions/urbac usr/share/zsh/vendor-completions/_urbac \
         lib/systemd/system/urbac.service usr/share/doc/urbac/urbac.env usr/include/urbac/urbac.h; do
  [ -f "$R/$f" ] && ok || bad "/$f is not in the packages"
done
grep -qx 'ExecStart=/usr/bin/urbac serve .*' "$R/lib/systemd/system/urbac.service" && ok \
  || bad "the packaged unit does not run /usr/bin/urbac: $(grep ^ExecStart "$R/lib/systemd/system/urbac.service")"
cp -r "$S/examples/embed" "$W/embed"
if PKG_CONFIG_PATH=$libdir/pkgconfig make -s -C "$W/embed" > "$W/embed.log" 2>&1 \
   && out=$(LD_LIBRARY_PATH=$libdir "$W/embed/embed" "$S/examples/contoso.yaml" alice@contoso.com \
            'Alerts (manage)' mde device:lap-042) && [ "$out" = allow ]; then ok
else bad "examples/embed on liburbac-dev and liburbac0: $(cat "$W/embed.log") $out"; fi
portal "$R/usr/bin/urbac" LD_LIBRARY_PATH="$libdir"

# installed for real (root only; never over a urbac already there)
if [ "$(id -u)" -ne 0 ] || [ "${URBAC_TEST_DPKG_INSTALL:-1}" = 0 ]; then
  echo "deb: not root (or URBAC_TEST_DPKG_INSTALL=0): dpkg -i was not tried" >&2
elif [[ $(dpkg-query -W -f='${Status}\n' urbac liburbac0 liburbac-dev 2> /dev/null) == *installed* ]]; then
  echo "deb: a urbac package is already installed: dpkg -i was not tried" >&2
else
  out=$(dpkg_locked -i "${debs[@]}")
  if [ "$(dpkg-query -W -f='${Status}' urbac 2> /dev/null)" = 'install ok installed' ]; then
    installed=true
    ok
    got=$(/usr/bin/urbac --version 2>&1)
    [ "$got" = "urbac $version" ] && ok || bad "/usr/bin/urbac --version after dpkg -i: $got"
    # (read whole, not piped into grep -q: with pipefail, man's SIGPIPE would fail it)
    out=$(MANWIDTH=200 man urbac 2>&1 | col -b)
    grep -q '^NAME' <<<"$out" && ok || bad "man urbac after dpkg -i: $out"
    files=$(dpkg -L urbac)
    grep -qx /usr/share/bash-completion/completions/urbac <<<"$files" && grep -qx /lib/systemd/system/urbac.service <<<"$files" \
      && ok || bad "dpkg -L urbac: $files"
    portal /usr/bin/urbac
    dpkg_locked --purge urbac liburbac-dev liburbac0 > "$W/purge.log" && installed=false
    [ ! -e /usr/bin/urbac ] && ! $installed && ok || bad "dpkg --purge left /usr/bin/urbac: $(cat "$W/purge.log")"
  else
    bad "dpkg -i: $out"
    installed=true # whatever was unpacked is purged on exit
  fi
fi

summary
