#!/usr/bin/env bash
# scripts/demo.sh - `make run`: a five-minute guided tour of urbac on a tenant file.
# Usage: demo.sh URBAC TENANT
set -u
U=$1
T=$2
# Bold headings only on a terminal, and never with NO_COLOR set (https://no-color.org).
bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "${*:2}"; "${@:2}"; echo "(exit status $?)"; }

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
printf 'alice@contoso.com\tAlerts (manage)\tmde\tdevice:lap-042\nalice@contoso.com\tAlerts (manage)\tmde\tdevice:srv-001\ncarol@contoso.com\tEmail quarantine\tmdo\t\nmallory@contoso.com\tAlerts (manage)\tmde\t\n' > "${TMPDIR:-/tmp}/urbac-demo.tsv"
step "Many questions at once, answered in order (one line each)" \
  "$U" check --tenant "$T" --queries "${TMPDIR:-/tmp}/urbac-demo.tsv"
echo
echo "More: '$U --help', '$U catalog', docs/cli.md."
