#!/usr/bin/env bash
# scripts/run.sh - `make run`: the urbac server on the embedded SQLite store with
# the demo tenant (examples/contoso.yaml), and a bootstrap admin key.
# Usage: run.sh URBAC   Env: URBAC_RUN_DIR (default run/), URBAC_LISTEN (127.0.0.1:8080)
set -euo pipefail
U=$1
dir=${URBAC_RUN_DIR:-run}
listen=${URBAC_LISTEN:-127.0.0.1:8080}
mkdir -p "$dir"
db="$dir/urbac.db"
"$U" init --db "$db" >/dev/null
"$U" apply --db "$db" -f examples/contoso.yaml --actor make-run >/dev/null # no change after the first run
if [ ! -s "$dir/admin.key" ]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/admin.key" && echo >> "$dir/admin.key")
fi
key=$(head -1 "$dir/admin.key")
cat <<MSG
urbac: store $db, tenant contoso (examples/contoso.yaml)
urbac: bootstrap admin key (a preshared key, in $dir/admin.key): $key
urbac: the portal: http://$listen/ (sign in with the admin key above)
urbac: try
  curl -s -H 'Authorization: Bearer $key' \\
    'http://$listen/api/v1/tenants/contoso/check?user=alice@contoso.com&permission=Alerts%20(manage)&workload=mde&scope=device:lap-042'
  curl -s -H 'Authorization: Bearer $key' http://$listen/api/v1/tenants/contoso/roleDefinitions
urbac: the API is in docs/api.md; access log in $dir/access.log
MSG
exec "$U" serve --db "$db" --listen "$listen" --preshared-key-file "$dir/admin.key" --access-log "$dir/access.log"
