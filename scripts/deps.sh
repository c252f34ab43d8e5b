#!/usr/bin/env bash
# Install the Debian packages a target needs, only when one is missing.
# Usage: scripts/deps.sh build|test|bench
#        scripts/deps.sh --list build|test|bench   (print the packages, one a line)
# Runs as root on a fresh Debian 12 machine (apt-get); elsewhere it only checks.
# The build list is all that `make` and `make run` need: tests/install/fresh_build.sh
# configures the default build seeing only its packages' pkg-config modules.
set -euo pipefail
list=false
if [ "${1:-}" = --list ]; then
  list=true
  shift
fi

build_pkgs=(cmake make gcc pkg-config libyaml-dev libjansson-dev libxxhash-dev libsqlite3-dev libssl-dev libpq-dev
            libmicrohttpd-dev liburcu-dev libyajl-dev libcurl4-openssl-dev nodejs npm)
test_pkgs=(libcmocka-dev libjwt-dev clang clang-format libclang-rt-14-dev clang-tidy chromium sqlite3 postgresql golang-go golang-github-casbin-casbin-dev
           openssl curl gdb valgrind man-db groff-base bsdextrautils zsh systemd strace procps
           dpkg-dev debhelper jq patch locales)
bench_pkgs=(postgresql golang-go golang-github-casbin-casbin-dev wrk libh2o-evloop-dev)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test)  want+=("${test_pkgs[@]}") ;;
  bench) want+=("${bench_pkgs[@]}") ;;
  *) echo "deps.sh: unknown target '$1' (build, test or bench)" >&2; exit 2 ;;
esac
if $list; then
  printf '%s\n' "${want[@]}"
  exit 0
fi

missing=()
for p in "${want[@]}"; do
  # the web portal (web/: npm ci, esbuild) is built into the binary by `make` (and
  # the Debian package: they are Build-Depends), and the browser tests and the peer
  # benchmarks need node and npm too: the machine's own when it has npm (NodeSource's
  # nodejs provides npm and conflicts with Debian's), else Debian's
  case $p in nodejs | npm) command -v npm > /dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 2
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
