#!/usr/bin/env bash
# scripts/demo.sh - `make demo`: a five-minute guided tour of urbac on a tenant file.
# Every command it prints can be pasted back into a shell from where the demo was
# started: arguments are quoted as a shell needs them, and the files it uses are a
# copy in a directory it keeps (printed at the end), so nothing tracked is read
# after the copy or ever written.
# Usage: demo.sh URBAC TENANT   (URBAC_DEMO_DIR: where to put the copy; default a new
# directory under $TMPDIR)
# Depends on: bash, coreutils.
set -u
U=$1
T0=$2
if [ -n "${URBAC_DEMO_DIR:-}" ]; then
  DIR=$URBAC_DEMO_DIR
  mkdir -p -- "$DIR" || exit 2
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/urbac-demo.XXXXXX") || exit 2
fi
T=$DIR/$(basename -- "$T0")
cp -- "$T0" "$T" || exit 2
# Bold headings only on a terminal, never with NO_COLOR set (https://no-color.org) or
# TERM=dumb, as urbac impact does.
bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != dumb ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
# quote ARG: ARG as a shell reads it back: bare when it is plain, else in single quotes.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9@%+=:,./_-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}
# step HEADING COMMAND...: prints the heading and the command (one line, quoted),
# runs it and prints its exit status.
step() {
  local line='' a
  for a in "${@:2}"; do line+="${line:+ }$(quote "$a")"; done
  printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "$line"
  "${@:2}"
  echo "(exit status $?)"
}

step "Validate the tenant file (errors would name file:line:column)" "$U" validate "$T"
step "Alice (SOC tier 1) triages alerts on a workstation" \
  "$U" explain --tenant "$T" --user alice@contoso.com --permission 'Security operations \ Security data \ Alerts (manage)' --workload mde --scope device:lap-042
step "...but not on a production server: her assignment covers workstations only" \
  "$U" explain --tenant "$T" --user alice@contoso.com --permission 'Alerts (manage)' --workload mde --scope device:srv-001
step "Bob (tier 2) may run live response on the server, through a nested group" \
  "$U" explain --tenant "$T" --user bob@contoso.com --permission 'Advanced live response' --workload mde --scope device:srv-001
step "Dave's directory role Security reader counts on mde now that it is unified" \
  "$U" explain --tenant "$T" --user dave@contoso.com --permission 'Vulnerability management' --workload mde
step "Carol releases quarantined mail through her legacy EOP role group (mdo is legacy)" \
  "$U" explain --tenant "$T" --user carol@contoso.com --permission microsoft.xdr/secops/securitydata/emailquarantine/manage --workload mdo
step "Frank left: a disabled user is denied everything" \
  "$U" check --tenant "$T" --user frank@contoso.com --permission 'Security data basics' --workload mde --scope any
step "Everything Bob holds, per workload and device group, with its source" \
  "$U" effective --tenant "$T" --user bob@contoso.com
step "Who may manage alerts on the production servers?" \
  "$U" who-can --tenant "$T" --permission 'Alerts (manage)' --workload mde --scope devicegroup:servers
printf 'alice@contoso.com\tAlerts (manage)\tmde\tdevice:lap-042\nalice@contoso.com\tAlerts (manage)\tmde\tdevice:srv-001\ncarol@contoso.com\tEmail quarantine\tmdo\t\nmallory@contoso.com\tAlerts (manage)\tmde\t\n' > "$DIR/questions.tsv"
step "Many questions at once, answered in order (one line each)" \
  "$U" check --tenant "$T" --queries "$DIR/questions.tsv"
echo
echo "The tenant file and the questions are in $DIR (remove it when done)."
echo "More: $(quote "$U") --help, $(quote "$U") catalog, docs/cli.md."
