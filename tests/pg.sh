#!/usr/bin/env bash
# tests/pg.sh - a real PostgreSQL server for the store tests: a new cluster in a
# temporary folder, owned by the unprivileged 'postgres' user, password
# authentication, listening on 127.0.0.1 only; runs COMMAND with URBAC_TEST_PG_URL
# set, then stops the server and removes the cluster. URBAC_TEST_PG_CTL is a
# command that stops ("$URBAC_TEST_PG_CTL stop") and starts it again ("... start")
# on the same port and data, for the tests of a database restart.
# Usage: pg.sh COMMAND [ARGS...]
set -u
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then echo "pg.sh: PostgreSQL is not installed (Debian package postgresql)" >&2; exit 2; fi
run_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
dir=$(mktemp -d /tmp/urbac-pg.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$((20000 + RANDOM % 20000))
pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$pass" > "$dir/pw"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir/pw"
cleanup() { run_as "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT
run_as "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" > "$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 2; }
make_ctl() { # writes ctl.sh for $port
cat > "$dir/ctl.sh" <<EOF
#!/usr/bin/env bash
# stop | start the cluster of tests/pg.sh
if [ "\$(id -u)" -eq 0 ]; then as="runuser -u postgres --"; else as=; fi
case "\${1:-}" in
  stop) \$as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null ;;
  start) \$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \\
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on" start > /dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
EOF
chmod 755 "$dir/ctl.sh"
}
# a port another cluster (a test running beside this one) took: try another
for try in 1 2 3; do
  make_ctl
  "$dir/ctl.sh" start && break
  [ "$try" = 3 ] && { cat "$dir/server.log"; exit 2; }
  port=$((20000 + RANDOM % 20000))
done
export URBAC_TEST_PG_CTL="$dir/ctl.sh"
export URBAC_TEST_PG_URL="postgresql://postgres:$pass@127.0.0.1:$port/postgres"
export URBAC_TEST_PG_BADPASS_URL="postgresql://postgres:wrong@127.0.0.1:$port/postgres"
"$@"
