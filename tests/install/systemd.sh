#!/usr/bin/env bash
# tests/install/systemd.sh - the service unit as installed: `cmake --install` into a
# fresh prefix, then lib/systemd/system/urbac.service (pointed at the prefix's
# binary) passes `systemd-analyze verify` (which also runs man(1) on its
# Documentation= pages: found through MANPATH in the prefix), has every hardening
# setting docs/operations.md promises, and `systemd-analyze security --offline`
# rates it under 2.0 ("OK"; 10 is an unconfined service). Then the unit's own
# ExecStartPre and ExecStart lines, with its default environment and a credential
# directory, are run as systemd would: a store is created, /healthz answers, the
# preshared key authorizes, ExecReload's SIGHUP keeps it serving, SIGTERM stops it
# with exit 0. systemd itself is not PID 1 here, so the sandbox is not applied; what
# it would refuse is checked instead: both commands run under strace (as nobody when
# the test is root: the unit's user is not root either), and every
# system call they make must be one the unit's SystemCallFilter= allows (its groups
# expanded by systemd-analyze), every socket one of RestrictAddressFamilies=, and
# no mapping both writable and executable (MemoryDenyWriteExecute=). (Not under
# the sanitizers, whose runtime makes calls of its own.)
# Usage: systemd.sh SOURCE_DIR BUILD_DIR [sanitize]
#
# Depends on: cmake, systemd (systemd-analyze), man-db, curl, strace, procps (pgrep),
# util-linux (setpriv).
set -uo pipefail
S=$1 B=$2 sanitized=${3:-}
P=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$P"' EXIT
NAME=systemd
. "$(dirname "$0")/lib.sh"

if ! out=$(cmake --install "$B" --prefix "$P" 2>&1); then
  echo "$out"
  echo "systemd: FAILED: cmake --install" >&2
  exit 1
fi
installed=$P/lib/systemd/system/urbac.service
[ -f "$installed" ] && ok || { bad "$installed is not installed"; exit 1; }
[ -f "$P/share/doc/urbac/urbac.env" ] && ok || bad "share/doc/urbac/urbac.env is not installed"
bindir=$(sed -n 's|^ExecStart=\(/.*\)/urbac serve .*|\1|p' "$installed")
[ -n "$bindir" ] && ok || bad "ExecStart does not run an absolute .../urbac serve"
# the prefix given to `cmake --install`, not the one the build was set up with
[ "$bindir" = "$P/bin" ] && ok || bad "ExecStart runs $bindir/urbac, not the installed $P/bin/urbac"
unit=$P/unit/urbac.service
mkdir -p "$P/unit" && sed "s|$bindir/urbac|$P/bin/urbac|g" "$installed" > "$unit"

for want in DynamicUser=yes StateDirectory=urbac ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
            NoNewPrivileges=yes CapabilityBoundingSet= 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
            SystemCallFilter=@system-service MemoryDenyWriteExecute=yes LockPersonality=yes RestrictNamespaces=yes \
            ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes \
            'ExecReload=/bin/kill -HUP $MAINPID' EnvironmentFile=-/etc/urbac/urbac.env; do
  grep -qxF -- "$want" "$unit" && ok || bad "the unit lacks '$want'"
done

if command -v systemd-analyze > /dev/null; then
  out=$(MANPATH=$P/share/man systemd-analyze verify "$unit" 2>&1)
  [ $? -eq 0 ] && [ -z "$out" ] && ok || bad "systemd-analyze verify: $out"
  out=$(systemd-analyze security --offline=true "$unit" 2>&1)
  score=$(sed -n 's/.*Overall exposure level for urbac.service: \([0-9.]*\).*/\1/p' <<<"$out")
  if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 2.0) }'; then ok; echo "systemd: exposure $score"
  else bad "systemd-analyze security: exposure '${score:-?}' (want under 2.0): $(tail -3 <<<"$out")"; fi
  # a unit with a mistake is refused (the check can fail)
  sed 's/^ProtectSystem=strict/ProtectSystem=sometimes/' "$unit" > "$P/unit/bad.service"
  out=$(MANPATH=$P/share/man systemd-analyze verify "$P/unit/bad.service" 2>&1)
  grep -q "ProtectSystem\|protect system" <<<"$out" && ok || bad "systemd-analyze verify accepts ProtectSystem=sometimes"
else
  echo "systemd: systemd-analyze is not installed: the unit was not verified" >&2
fi

# The unit's commands, with its environment (Environment=, no urbac.env) and what
# systemd provides: the state directory (its SQLite store) and the credential.
state=$P/var/lib/urbac creds=$P/run/credentials/urbac.service
mkdir -p "$state" "$creds"
key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "$key" > "$creds/preshared-keys")
env_line=$(sed -n 's/^Environment=//p' "$unit")
[[ $env_line == *URBAC_DB=/var/lib/urbac/urbac.db* ]] && ok || bad "Environment= does not put the store in the state directory"
# systemd-style expansion: ${VAR} and $VAR (word-split) from the unit's environment
expand() {
  local line=$1
  line=${line//\$\{URBAC_LISTEN\}/127.0.0.1:0}
  line=${line//\$\{CREDENTIALS_DIRECTORY\}/$creds}
  line=${line//\$URBAC_OPTS/--access-log -}
  echo "$line"
}
pre=$(expand "$(sed -n 's/^ExecStartPre=//p' "$unit")")
start=$(expand "$(sed -n 's/^ExecStart=//p' "$unit")")
export URBAC_DB=$state/urbac.db
# traced COMMAND...: under strace (one file per process) when the calls are checked
trace=false
if [ -z "$sanitized" ] && command -v strace > /dev/null && command -v systemd-analyze > /dev/null; then
  trace=true
  mkdir -p "$P/trace"
fi
# As root, the commands run as nobody: the service's dynamic user is not root either
# (and SQLite, as root, chowns its journal files: a call the filter refuses).
asuser=()
if [ "$(id -u)" -eq 0 ]; then
  asuser=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chown -R 65534:65534 "$state" "$creds" "$P/trace" 2> /dev/null
  chmod 755 "$P" "$P/var" "$P/var/lib" "$P/run" "$P/run/credentials"
fi
traced() { if $trace; then "${asuser[@]}" strace -f -qq -A -o "$P/trace/t" "$@"; else "${asuser[@]}" "$@"; fi; }
# shellcheck disable=SC2086 # the unit's words, as systemd splits them
traced $pre > "$P/pre.log" 2>&1 && [ -f "$state/urbac.db" ] && ok || bad "ExecStartPre: $(cat "$P/pre.log")"
cp "$S/examples/contoso.yaml" "$P/contoso.yaml" # readable by the unit's user wherever the clone is
"${asuser[@]}" "$P/bin/urbac" apply -f "$P/contoso.yaml" --actor test > "$P/apply.log" 2>&1 || bad "apply: $(cat "$P/apply.log")"
traced $start > "$P/serve.log" 2>&1 &
pid=$!
# the server itself (under strace, its child): the one signals go to
server() { pgrep -P "$(pgrep -P "$pid" -x strace || echo "$pid")" -x urbac || echo "$pid"; }
url=$(wait_serving "$P/serve.log")
if [ -z "$url" ]; then
  bad "ExecStart did not start serving: $(cat "$P/serve.log")"
else
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] && ok || bad "GET /healthz"
  roles=$url/api/v1/tenants/contoso/roleDefinitions
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$roles")
  [ "$code" = 200 ] && ok || bad "the credential's preshared key: GET roleDefinitions answered $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$key" "$roles")
  [ "$code" = 401 ] && ok || bad "another key: GET roleDefinitions answered $code (want 401)"
  kill -HUP "$(server)"
  sleep 0.3
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] && ok || bad "GET /healthz after SIGHUP"
  kill -TERM "$(server)"
  wait "$pid"
  rc=$?
  pid=
  [ "$rc" -eq 0 ] && ok || bad "SIGTERM: exit $rc"
fi

# expand GROUP-OR-CALL...: the system calls, one a line, @groups expanded
expand() {
  local w
  for w in "$@"; do
    case $w in
      @*) expand $(systemd-analyze syscall-filter "$w" 2> /dev/null | sed -n 's/^    \([@a-z0-9_-]*\)$/\1/p') ;;
      *) echo "$w" ;;
    esac
  done
}
if $trace && [ -s "$P/trace/t" ]; then
  allow=$(grep '^SystemCallFilter=[^~]' "$unit" | sed 's/^SystemCallFilter=//' | tr ' ' '\n' | sort -u)
  deny=$(grep '^SystemCallFilter=~' "$unit" | sed 's/^SystemCallFilter=~//' | tr ' ' '\n' | sort -u)
  allowed=$(comm -23 <(expand $allow | sort -u) <(expand $deny | sort -u))
  [ "$(wc -l <<<"$allowed")" -gt 100 ] && ok || bad "SystemCallFilter= allows only: $allowed"
  used=$(sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p; s/^[0-9]* *<\.\.\. \([a-z0-9_]*\) resumed>.*/\1/p' "$P/trace/t" | sort -u)
  [ "$(wc -l <<<"$used")" -gt 20 ] && ok || bad "strace saw only: $used"
  refused=$(comm -23 <(echo "$used") <(echo "$allowed") | tr '\n' ' ')
  [ -z "$refused" ] && ok || bad "system calls the unit's SystemCallFilter= would refuse: $refused"
  families=$(grep -o 'socket(AF_[A-Z0-9]*' "$P/trace/t" | sed 's/socket(//' | sort -u | tr '\n' ' ')
  want=" $(sed -n 's/^RestrictAddressFamilies=//p' "$unit") "
  for f in $families; do [[ $want == *" $f "* ]] && ok || bad "a socket of family $f (RestrictAddressFamilies=$want)"; done
  wx=$(grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE' "$P/trace/t")
  [ -z "$wx" ] && ok || bad "a mapping both writable and executable: $(head -1 <<<"$wx")"
  echo "systemd: $(wc -l <<<"$used") system calls seen, all in the unit's filter"
elif $trace; then
  bad "strace wrote no trace"
elif [ -z "$sanitized" ]; then
  echo "systemd: strace is not installed: the system calls were not checked" >&2
fi

summary
