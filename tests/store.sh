#!/usr/bin/env bash
# tests/store.sh - the store as a user drives it, as a crash kills it, and as
# two writers race on it. Usage: store.sh path/to/urbac SOURCE_DIR
set -u
U=$1
S=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
expect() { # expect NAME STATUS PATTERN -- COMMAND...
  local name=$1 want=$2 pattern=$3 out rc
  shift 4
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then ok; else bad "$name: exit $rc (want $want): $out"; fi
}
DB=$T/urbac.db
C=$S/examples/contoso.yaml
sed 's/name: Bob Tier2/name: Bob Tier3/' "$C" > "$T/b.yaml" # the crash tests' second state

# Under tests/pg.sh (URBAC_TEST_PG_URL set) only the crash and concurrency tests
# run, against PostgreSQL; the store's C suite covers the rest on both backends.
if [ -z "${URBAC_TEST_PG_URL:-}" ]; then

# ---- the workflow
expect "init" 0 "initialized, schema version 0 -> 5" -- "$U" init --db "$DB"
expect "init again" 0 "nothing to do" -- "$U" init --db "$DB"
expect "migrate" 0 "schema version 5; nothing to do" -- "$U" migrate --db "$DB"
expect "plan" 0 "23 to create, 0 to change, 0 to delete" -- "$U" plan -f "$C" --db "$DB"
expect "plan json" 0 '"op": "create"' -- "$U" plan -f "$C" --db "$DB" --json
expect "apply" 0 "tenant contoso: applied, now at revision 1" -- "$U" apply -f "$C" --db "$DB" --actor alice
expect "apply again" 0 "already as the file says \(revision 1\)" -- "$U" apply -f "$C" --db "$DB"
expect "plan nothing" 0 "0 to create, 0 to change, 0 to delete" -- "$U" plan -f "$C" --db "$DB"
"$U" dump --db "$DB" > "$T/dump.yaml"
expect "apply the dump plans nothing" 0 "0 to create, 0 to change, 0 to delete" -- "$U" plan -f "$T/dump.yaml" --db "$DB"
expect "dump json" 0 '' -- "$U" dump --db "$DB" --output "$T/dump.json"
expect "dump json is json" 0 '^\{' -- cat "$T/dump.json"
expect "check on the store" 0 "^allow$" -- "$U" check --db "$DB" --user bob@contoso.com --permission 'Alerts (manage)' --workload mde
expect "explain on the store" 1 "^deny$" -- "$U" explain --db "$DB" --user alice@contoso.com --permission 'Alerts (manage)' --workload mde --scope device:srv-001
expect "who-can on the store" 0 "erin@contoso.com" -- "$U" who-can --db "$DB" --permission 'Alerts (manage)' --workload mde
sed 's/name: Bob Tier2/name: Bob Tier3/; /- id: frank@contoso.com/,/enabled: false/d; s/, frank@contoso.com//' "$C" > "$T/c2.yaml"
expect "plan a change" 0 "^~ user bob@contoso.com$" -- "$U" plan -f "$T/c2.yaml" --db "$DB"
expect "plan a delete" 0 "^- user frank@contoso.com$" -- "$U" plan -f "$T/c2.yaml" --db "$DB"
expect "stale write refused" 1 "is at revision 1, but the write was based on revision 0" -- "$U" apply -f "$T/c2.yaml" --db "$DB" --if-revision 0
expect "nothing written by the refusal" 0 "Bob Tier2" -- "$U" dump --db "$DB"
expect "bad revision" 2 "--if-revision takes a whole number, not 'x'" -- "$U" apply -f "$T/c2.yaml" --db "$DB" --if-revision x
expect "fresh write" 0 "now at revision 2" -- "$U" apply -f "$T/c2.yaml" --db "$DB" --if-revision 1 --actor carol
expect "audit log" 0 "revision 2.*carol.*changed user bob@contoso.com" -- "$U" audit log --db "$DB"
expect "audit log by actor" 0 "^24	" -- "$U" audit log --db "$DB" --actor carol
expect "audit log by object" 0 "deleted user frank@contoso.com" -- "$U" audit log --db "$DB" --object frank@contoso.com
expect "audit log json" 0 '"before": "\{' -- "$U" audit log --db "$DB" --object bob@contoso.com --json
expect "audit verify" 0 "26 records, chain intact" -- "$U" audit verify --db "$DB"
expect "audit wrong word" 2 "audit takes 'log' or 'verify'" -- "$U" audit list --db "$DB"
expect "invalid file applies nothing" 2 "group membership cycle" -- "$U" apply -f "$S/fuzz/corpus/tenant/cycle.yaml" --db "$DB"

# ---- day-to-day changes: each validated as a file is (without reading the tenant), audited, based on the revision read
E=$T/edit.db
"$U" init --db "$E" > /dev/null; "$U" apply -f "$C" --db "$E" > /dev/null
expect "role create" 0 "created role 'Mail responders' in tenant contoso: now at revision 2" -- "$U" role create "Mail responders" --description Quarantine --permission "Email quarantine" --db "$E"
expect "role create twice" 2 "already has a role 'Mail responders'" -- "$U" role create "Mail responders" --db "$E"
expect "role add-permission" 0 "now at revision 3" -- "$U" role add-permission "Mail responders" --permission "Email advanced actions" --permission "Email quarantine" --db "$E"
expect "role add nothing new" 2 "already has every permission given" -- "$U" role add-permission "Mail responders" --permission "Security operations \\ Security data \\ Email quarantine (manage)" --db "$E"
expect "role bad permission" 2 "unknown permission 'Email quarantaine'" -- "$U" role add-permission "Mail responders" --permission "Email quarantaine" --db "$E"
expect "assignment add" 0 "added an assignment to role 'Mail responders'" -- "$U" assignment add "Mail responders" ops --principal group:mail-ops --data-source mdo --db "$E"
expect "assignment to nobody" 2 "^urbac: store:contoso, role Mail responders as changed: .*names unknown group 'ghosts'" -- "$U" assignment add "Mail responders" x --principal group:ghosts --data-source mdo --db "$E"
expect "role show" 0 '"dataSources": \[' -- "$U" role show "Mail responders" --db "$E"
expect "role list" 0 "^role	Mail responders$" -- "$U" role list --db "$E"
expect "user add" 0 "added user 'zoe@contoso.com'" -- "$U" user add zoe@contoso.com --name Zoe --db "$E"
expect "group add-member" 0 "changed group 'mail-ops'" -- "$U" group add-member mail-ops --principal zoe@contoso.com --db "$E"
expect "activate on the store" 0 "mdo is now unified in tenant contoso \(the store, revision 7\)" -- "$U" activate mdo --db "$E" --actor erin
expect "zoe may release mail" 0 "^allow$" -- "$U" check --db "$E" --user zoe@contoso.com --permission "Email quarantine" --workload mdo
expect "user disable" 0 "disabled user 'zoe@contoso.com'" -- "$U" user disable zoe@contoso.com --db "$E"
expect "zoe no longer" 1 "^deny$" -- "$U" check --db "$E" --user zoe@contoso.com --permission "Email quarantine" --workload mdo
expect "remove a member that is referenced" 0 "changed group 'mail-ops'" -- "$U" group remove-member mail-ops --principal zoe@contoso.com --db "$E"
expect "user remove" 0 "removed user 'zoe@contoso.com'" -- "$U" user remove zoe@contoso.com --db "$E"
expect "remove a user still named" 2 "names unknown user 'bob@contoso.com'" -- "$U" user remove bob@contoso.com --db "$E"
expect "import on the store" 0 "written to the store, revision 11" -- "$U" import mdi --db "$E"
expect "object get" 0 '"id": "soc"' -- "$U" object get group soc --db "$E"
expect "object put" 0 "put group 'soc'" -- "$U" object put group soc --body '{"id": "soc", "members": ["group:soc-tier1"]}' --db "$E"
expect "object put wrong id" 2 "does not have the id 'dave@contoso.com'" -- "$U" object put user dave@contoso.com --body '{"id": "someone"}' --db "$E"
expect "object put bad json" 2 "^urbac: --body:1:" -- "$U" object put group soc --body '{"id": ' --db "$E"
expect "object delete" 0 "deleted role 'Mail responders'" -- "$U" object delete role "Mail responders" --db "$E"
expect "stale edit" 1 "but the write was based on revision 2" -- "$U" role create Late --if-revision 2 --db "$E"
expect "edits audited" 0 "erin	changed workloads workloads" -- "$U" audit log --db "$E"
expect "edits keep the chain" 0 "chain intact" -- "$U" audit verify --db "$E"

# device groups, devices, directory roles
L=$T/lit.db
"$U" init --db "$L" > /dev/null; "$U" apply -f "$S/examples/litware.yaml" --db "$L" > /dev/null
expect "device-group add" 0 "added deviceGroup 'lab'" -- "$U" device-group add lab --rank 3 --db "$L"
expect "device-group duplicate rank" 2 "has rank 1, already held by 'servers'" -- "$U" device-group add lab2 --rank 1 --db "$L"
expect "device-group bad rank" 2 "--rank takes a whole number, not '2x'" -- "$U" device-group move lab --rank 2x --db "$L"
expect "object bad revision" 2 "--if-revision takes a whole number, not '-1'" -- "$U" role create X --if-revision -1 --db "$L"
expect "device-group move" 0 "moved device group 'lab' to rank 1 in tenant litware: now at revision 3" -- "$U" device-group move lab --rank 1 --db "$L"
expect "ranks shifted in one change" 0 '"rank": 2' -- "$U" object get deviceGroup servers --db "$L"
expect "device-group grant" 0 "granted access to deviceGroup 'lab'" -- "$U" device-group grant lab --principal group:soc --db "$L"
expect "device-group grant unknown" 2 "names unknown group 'ghosts'" -- "$U" device-group grant lab --principal group:ghosts --db "$L"
expect "access counts" 0 "^allow$" -- "$U" check --db "$L" --user ana@litware.com --permission "Alerts (manage)" --workload mde --scope devicegroup:lab
expect "device-group revoke" 0 "revoked access to deviceGroup 'lab'" -- "$U" device-group revoke lab --principal group:soc --db "$L"
expect "device add" 0 "added device 'ws-99'" -- "$U" device add ws-99 --name ws-99 --db "$L"
expect "directory-role assign" 0 "assigned a directory role to user 'ana@litware.com'" -- "$U" directory-role assign "Security reader" --principal ana@litware.com --db "$L"
expect "directory-role unknown" 2 "did you mean 'Global admin'" -- "$U" directory-role assign "Global admn" --principal ana@litware.com --db "$L"
expect "directory-role unassign" 0 "unassigned a directory role from user" -- "$U" directory-role unassign "Security reader" --principal ana@litware.com --db "$L"
expect "device-group remove" 0 "removed deviceGroup 'lab'" -- "$U" device-group remove lab --db "$L"
expect "legacy role put" 0 "put legacy.mde.role 'Live response'" -- "$U" object put legacy.mde.role "Live response" --body '{"name": "Live response", "permissions": ["Live response capabilities"], "groups": ["responders"]}' --db "$L"
expect "legacy role takes effect" 1 "^deny$" -- "$U" check --db "$L" --user ben@litware.com --permission "Advanced live response" --workload mde --scope devicegroup:servers
expect "legacy role unknown permission" 2 "unknown Defender for Endpoint permission 'Live respons'" -- "$U" object put legacy.mde.role "Live response" --body '{"name": "Live response", "permissions": ["Live respons"]}' --db "$L"
expect "legacy role group" 0 "put legacy.mdo.roleGroup 'Quarantine'" -- "$U" object put legacy.mdo.roleGroup Quarantine --body '{"name": "Quarantine", "members": ["ana@litware.com"]}' --db "$L"
expect "litware chain intact" 0 "chain intact" -- "$U" audit verify --db "$L"

# ---- tampering, found and named
cp "$DB" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE audit SET actor = 'mallory' WHERE seq = 24"
expect "tampered record" 1 "audit record 24 \(revision 2, user bob@contoso.com\): its contents do not match its hash" -- "$U" audit verify --db "$T/t.db"
cp "$DB" "$T/t.db"
sqlite3 "$T/t.db" "DELETE FROM audit WHERE seq = 10"
expect "deleted record" 1 "audit record 11 .*deleted, inserted or reordered" -- "$U" audit verify --db "$T/t.db"

# ---- what the chain alone cannot see: rows edited directly, a key, a witness, damaged pages
K=$T/audit.key W=$T/witness.jsonl A=$T/keyed.db
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$K"; chmod 644 "$K"
printf 'short\n' > "$T/short.key"; chmod 600 "$T/short.key"
"$U" init --db "$A" > /dev/null
expect "open key refused" 2 "audit key may be read or written by others \(mode 0644\): chmod 600" -- "$U" apply -f "$C" --db "$A" --audit-key "$K"
chmod 600 "$K"
expect "short key refused" 2 "an audit key is 32 to 1024 bytes" -- "$U" apply -f "$C" --db "$A" --audit-key "$T/short.key"
expect "keyed apply" 0 "now at revision 1" -- "$U" apply -f "$C" --db "$A" --audit-key "$K" --witness "$W"
expect "keyed edit" 0 "now at revision 2" -- "$U" user add zoe@contoso.com --db "$A" --audit-key "$K" --witness "$W"
expect "keyed key" 0 "^urbac_" -- "$U" key create --user zoe@contoso.com --db "$A" --audit-key "$K" --witness "$W"
expect "unkeyed write refused" 2 "has a keyed audit log \(key id [0-9a-f]{16}\): give its key with --audit-key" -- "$U" user add yan@contoso.com --db "$A"
expect "verify json" 0 '^\{"tenant":"contoso","intact":true,"records":25,"stated":25,"keyed":25,"objects":25,"witnessed":3\}$' -- "$U" audit verify --db "$A" --audit-key "$K" --witness "$W" --json
expect "witness lines" 0 '^\{"at":"[0-9TZ:-]+","tenant":"contoso","seq":25,"revision":2,"hash":"[0-9a-f]{64}"\}$' -- tail -1 "$W"
expect "keyed verify" 0 "25 records, chain intact; the 25 stored rows are what the log's changes produce; 25 records MACed under the key; agrees with the witness \\(3 heads\\)" -- "$U" audit verify --db "$A" --audit-key "$K" --witness "$W"
KID=$(sqlite3 "$A" "SELECT id FROM objects WHERE kind = 'apiKey'")
"$U" audit log --db "$A" --object "$KID" --json > "$T/keylog.json"
grep -q '\\"salt\\"' "$T/keylog.json" && bad "a key's salt is shown by audit log" || ok
expect "a key's record is shown" 0 '\\"user\\":\\"zoe@contoso.com\\"' -- cat "$T/keylog.json"
# urbac serve MACs and witnesses its writes too
chmod 644 "$K"
expect "serve refuses an open key" 2 "audit key may be read or written by others" -- "$U" serve --db "$A" --listen 127.0.0.1:0 --audit-key "$K"
chmod 600 "$K"
cp "$A" "$T/served.db"; cp "$W" "$T/served.jsonl"
printf 'storetestpresharedkey0123456789abcdef\n' > "$T/psk"; chmod 600 "$T/psk"
"$U" serve --db "$T/served.db" --listen 127.0.0.1:0 --preshared-key-file "$T/psk" --audit-key "$K" --witness "$T/served.jsonl" > "$T/serve.out" 2>&1 &
SP=$!
for _ in $(seq 50); do grep -q "serving on" "$T/serve.out" && break; sleep 0.1; done
ADDR=$(sed -n 's|.*serving on \(http://[0-9.:]*\).*|\1|p' "$T/serve.out")
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer storetestpresharedkey0123456789abcdef" -X PUT \
  "$ADDR/api/v1/tenants/contoso/users/wes@contoso.com" -d '{"name": "Wes"}' > "$T/put.code"
kill "$SP"; wait "$SP" 2> /dev/null
expect "served write" 0 "^20[01]$" -- cat "$T/put.code"
expect "served write keyed and witnessed" 0 "26 records, chain intact.*26 records MACed under the key; agrees with the witness \(4 heads\)" -- "$U" audit verify --db "$T/served.db" --audit-key "$K" --witness "$T/served.jsonl"
# alice made a Security administrator in the objects table: the chain is intact, the state is not
cp "$A" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE objects SET body = '{\"directoryRoles\":[\"Security administrator\"],\"id\":\"alice@contoso.com\",\"name\":\"Alice Example\"}' WHERE id = 'alice@contoso.com'"
expect "edited row works" 0 "^allow$" -- "$U" check --db "$T/t.db" --user alice@contoso.com --permission 'Alerts (manage)' --workload mde
expect "edited row named" 1 "user alice@contoso.com: the stored row differs from what the log's changes produce" -- "$U" audit verify --db "$T/t.db"
expect "a write over it names its record" 0 "now at revision 3" -- "$U" user add yan@contoso.com --db "$T/t.db" --audit-key "$K"
sqlite3 "$T/t.db" "UPDATE objects SET body = '{\"id\":\"alice@contoso.com\",\"name\":\"Alice\"}' WHERE id = 'alice@contoso.com'"
"$U" user add xia@contoso.com --db "$T/t.db" --audit-key "$K" > /dev/null
expect "edited row under a later write" 1 "audit record 27 \(user alice@contoso.com\)|user alice@contoso.com: the stored row differs" -- "$U" audit verify --db "$T/t.db" --audit-key "$K"
# the reference index edited: a name taken out of it (a delete it should refuse would pass), one added
cp "$A" "$T/t.db"
sqlite3 "$T/t.db" "DELETE FROM refs WHERE from_id = 'soc-tier2' AND to_id = 'bob@contoso.com'"
expect "index row removed named" 1 "group soc-tier2: the reference index differs from what the row names" -- "$U" audit verify --db "$T/t.db"
sqlite3 "$T/t.db" "INSERT INTO refs VALUES ('contoso', 'group', 'soc-tier2', 'user', 'zoe@contoso.com')"
expect "index row added named" 1 "group soc-tier2: the reference index differs" -- "$U" audit verify --db "$T/t.db"
cp "$A" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE objects SET body = replace(body, 'zoe@contoso.com', 'erin@contoso.com') WHERE kind = 'apiKey'"
expect "edited key named" 1 "apiKey [0-9a-f]{16}: the stored row differs" -- "$U" audit verify --db "$T/t.db"
# the last record deleted and the head fixed; then its change undone as well
cp "$A" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE tenants SET audit_seq = 24, audit_hash = (SELECT hash FROM audit WHERE seq = 24), state_hash = (SELECT state FROM audit WHERE seq = 24); DELETE FROM audit WHERE seq = 25"
expect "cut log shows in the rows" 1 "apiKey [0-9a-f]{16}: a stored row that the log's changes never created" -- "$U" audit verify --db "$T/t.db" --audit-key "$K"
sqlite3 "$T/t.db" "DELETE FROM objects WHERE kind = 'apiKey'"
expect "rollback unseen without a witness" 0 "24 records, chain intact" -- "$U" audit verify --db "$T/t.db" --audit-key "$K"
expect "rollback seen by the witness" 1 "the witness saw record 25 \(revision 2, line 3\), but the log ends at record 24" -- "$U" audit verify --db "$T/t.db" --audit-key "$K" --witness "$W"
# a record appended or MACed without the key
cp "$A" "$T/t.db"
sqlite3 "$T/t.db" "UPDATE audit SET mac = NULL WHERE seq = 25"
expect "stripped MAC" 1 "audit record 25 .*carries no MAC though records before it do" -- "$U" audit verify --db "$T/t.db" --audit-key "$K"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/other.key"; chmod 600 "$T/other.key"
expect "another key" 1 "keyed with key id [0-9a-f]{16}, but the key given has id" -- "$U" audit verify --db "$A" --audit-key "$T/other.key"
# the tenant commands (import, activate, deactivate) on a store MAC and witness too
cp "$A" "$T/m.db"; cp "$W" "$T/m.jsonl"
expect "keyed import" 0 "written to the store, revision 3" -- "$U" import mdo --db "$T/m.db" --audit-key "$K" --witness "$T/m.jsonl"
expect "unkeyed deactivate refused" 2 "give its key with --audit-key" -- "$U" deactivate mde --db "$T/m.db"
expect "keyed deactivate" 0 "mde is now legacy .*revision 4" -- "$U" deactivate mde --db "$T/m.db" --audit-key "$K" --witness "$T/m.jsonl"
expect "tenant commands keyed and witnessed" 0 "28 records, chain intact.*28 records MACed under the key; agrees with the witness \(5 heads\)" -- "$U" audit verify --db "$T/m.db" --audit-key "$K" --witness "$T/m.jsonl"
# damaged pages: bytes in the middle of the cells of the objects table's page (from
# where its header says they start to the page's end), then over its cell pointers
PS=$(sqlite3 "$A" "PRAGMA page_size")
R=$(sqlite3 "$A" "SELECT rootpage FROM sqlite_master WHERE name = 'objects'")
CS=$(od -An -tu1 -j $(( (R - 1) * PS + 5 )) -N2 "$A" | awk '{print $1 * 256 + $2}')
cp "$A" "$T/t.db"
printf '\377%.0s' $(seq 64) | dd of="$T/t.db" bs=1 seek=$(( (R - 1) * PS + (CS + PS) / 2 )) conv=notrunc 2> /dev/null
expect "damaged page" 1 "broken" -- "$U" audit verify --db "$T/t.db"
cp "$A" "$T/t.db"
printf '\377%.0s' $(seq 32) | dd of="$T/t.db" bs=1 seek=$(( (R - 1) * PS + 8 )) conv=notrunc 2> /dev/null
expect "damaged page structure" 2 "the store file is damaged \(integrity_check\)" -- "$U" audit verify --db "$T/t.db"

# ---- hostile files are refused and left as they were
head -c 8192 /dev/urandom > "$T/junk.db"; cp "$T/junk.db" "$T/junk.orig"
expect "not a database" 2 "not a urbac store" -- "$U" dump --db "$T/junk.db"
cmp -s "$T/junk.db" "$T/junk.orig" && ok || bad "a refused file was changed"
sqlite3 "$T/other.db" "CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1)"; cp "$T/other.db" "$T/other.orig"
expect "foreign database" 2 "holds other tables" -- "$U" init --db "$T/other.db"
cmp -s "$T/other.db" "$T/other.orig" && ok || bad "a foreign database was changed"
cp "$DB" "$T/future.db"; sqlite3 "$T/future.db" "INSERT INTO urbac_schema VALUES (7, 'later')"
expect "schema from the future" 2 "version 7, newer than this urbac knows" -- "$U" check --db "$T/future.db" --user a --permission Alerts --workload mde
expect "unreachable postgres" 2 "cannot connect to the store" -- "$U" init --db "postgresql://urbac:secret@127.0.0.1:1/urbac?connect_timeout=2"
if "$U" init --db "postgresql://urbac:secret@127.0.0.1:1/urbac?connect_timeout=2" 2>&1 | grep -q secret; then bad "a password was printed"; else ok; fi
# malformed URLs that libpq quotes back: the password is still never shown
for url in "postgresql://urbac:hunter2%zz@127.0.0.1/urbac" "postgresql://urbac:hunter2pw@[::1/urbac" \
           "postgresql://urbac@[::1/urbac?password=hunter2pw"; do
  out=$("$U" dump --db "$url" 2>&1)
  if grep -q hunter2 <<<"$out"; then bad "a password was printed: $out"; else ok; fi
done

# ---- a store that is not there: read commands create nothing, only init does
for cmd in "dump" "audit log" "audit verify" "migrate" "apply -f $C" "plan -f $C" \
           "check --user a --permission Alerts --workload mde"; do
  expect "$cmd on a missing store" 2 "no store here \(nothing was created\): run 'urbac init'" -- "$U" $cmd --db "$T/new.db"
  [ -e "$T/new.db" ] && { bad "$cmd created $T/new.db"; rm -f "$T/new.db"; } || ok
done

# ---- store URLs: sqlite:///ABSOLUTE/PATH and sqlite:RELATIVE/PATH name the file; other schemes are refused
expect "init sqlite:///" 0 "initialized" -- "$U" init --db "sqlite://$T/url.db"
expect "apply sqlite:///" 0 "now at revision 1" -- "$U" apply -f "$C" --db "sqlite://$T/url.db"
expect "the same file by its path" 0 "^allow$" -- "$U" check --db "$T/url.db" --user bob@contoso.com --permission 'Alerts (manage)' --workload mde
expect "sqlite:relative" 0 "^allow$" -- bash -c "cd '$T' && '$U' check --db sqlite:url.db --user bob@contoso.com --permission 'Alerts (manage)' --workload mde"
expect "unknown scheme" 2 "not a store URL this urbac knows" -- "$U" dump --db "mysql://u:pw@127.0.0.1/urbac"
expect "sqlite URL with a host" 2 "no host" -- "$U" dump --db "sqlite://host/url.db"

# ---- a store file this user may read but not write: read commands work, writes are refused
# (as root, the reads run as 'nobody': root would write anyway; the folder is not
# writable either, so SQLite cannot make its -wal and -shm files there)
RO=$(mktemp -d /tmp/urbac-ro.XXXXXX)
cp "$DB" "$RO/ro.db"; chmod 0444 "$RO/ro.db"
# the keyed, witnessed store and its damaged copy, verified read-only (open READ) too
cp "$A" "$RO/keyed.db"; cp "$W" "$RO/witness.jsonl"; cp "$K" "$RO/audit.key"; cp "$T/t.db" "$RO/damaged.db"
chmod 0444 "$RO/keyed.db" "$RO/witness.jsonl" "$RO/damaged.db"; chmod 0400 "$RO/audit.key"
[ "$(id -u)" -eq 0 ] && chown nobody "$RO/audit.key"
chmod 0555 "$RO"
as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u nobody --)
# 'nobody' runs a copy of the binary: the clone it was built in may be in a folder
# only its owner may enter (a clone into `mktemp -d`)
BIN=$(mktemp -d /tmp/urbac-bin.XXXXXX); chmod 0755 "$BIN"; cp "$U" "$BIN/urbac"
if [ "$(id -u)" -eq 0 ] || ! touch "$RO/probe" 2>/dev/null; then
  expect "read-only store: check" 0 "^allow$" -- "${as[@]}" "$BIN/urbac" check --db "$RO/ro.db" --user bob@contoso.com --permission 'Alerts (manage)' --workload mde
  expect "read-only store: dump" 0 "tenant: contoso" -- "${as[@]}" "$BIN/urbac" dump --db "$RO/ro.db"
  expect "read-only store: audit verify" 0 "chain intact" -- "${as[@]}" "$BIN/urbac" audit verify --db "$RO/ro.db"
  expect "read-only store: a write is refused" 2 "readonly" -- "${as[@]}" "$BIN/urbac" user add zed@contoso.com --db "$RO/ro.db"
  expect "read-only store: keyed verify" 0 "25 records, chain intact; the 25 stored rows are what the log's changes produce; 25 records MACed under the key; agrees with the witness \\(3 heads\\)" -- "${as[@]}" "$BIN/urbac" audit verify --db "$RO/keyed.db" --audit-key "$RO/audit.key" --witness "$RO/witness.jsonl"
  expect "read-only store: damaged pages" 2 "the store file is damaged \(integrity_check\)" -- "${as[@]}" "$BIN/urbac" audit verify --db "$RO/damaged.db"
  [ "$(ls "$RO" | tr '\n' ' ')" = "audit.key damaged.db keyed.db ro.db witness.jsonl " ] && ok || bad "files appeared beside a read-only store: $(ls "$RO")"
else
  bad "cannot make a folder this user may not write"
fi
chmod 0755 "$RO"; rm -rf "$RO" "$BIN"

fi

# The revision in store DB of the tenant of file RF (contoso's unless set: crash_test
# sets it for the rounds it runs), read through urbac itself (any backend).
revision() { "$U" plan -f "${RF:-$C}" --db "$1" --json 2>/dev/null | sed -n 's/.*"revision": \([0-9]*\).*/\1/p' | head -1; }

# One crash: runs WRITER (a script and its arguments, logging each acknowledged
# revision to ACKED) in its own process group, kills it with SIGKILL at a random
# moment (0.1 s to MAX_MS, 900 unless given), and checks that no acknowledged
# revision was lost, that the log checks under the key and witness, and that the
# store loads.
crash_round() { # crash_round NAME "WRITER ARGS" ACKED DB KEY WITNESS [MAX_MS]
  local name=$1 acked=$3 db=$4 key=$5 wit=$6 max=${7:-900} pid last now
  : > "$acked"
  setsid $2 & pid=$!
  sleep "$(awk -v ms=$((RANDOM % (max - 99) + 100)) 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -9 -- -"$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null # before setsid ran, the group is not there yet
  wait "$pid" 2>/dev/null
  last=$(tail -1 "$acked")
  now=$(revision "$db")
  if [ -n "$last" ] && [ "${now:-0}" -lt "$last" ]; then bad "$name: acknowledged revision $last lost (store at $now)"; fi
  "$U" audit verify --db "$db" --audit-key "$key" --witness "$wit" > "$T/verify.out" 2>&1 ||
    bad "$name: audit log broken: $(head -c 600 "$T/verify.out")"
  "$U" dump --db "$db" > "$T/after.yaml" 2> "$T/dump.err" || bad "$name: the store does not load: $(head -c 300 "$T/dump.err")"
}

# ---- crash safety: a writer applying tenant files A and B in turn, killed with
# SIGKILL at random moments (up to MAX_MS), many times; it MACs and witnesses its
# records, and a kill never leaves the witness ahead of the log
crash_test() { # crash_test DB_URL ROUNDS A B [MAX_MS]
  local CR=$1 A=$3 B=$4 RF=$3 crashes=0 CK=$T/crash.key CW=$T/crash-witness.jsonl
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$CK"; chmod 600 "$CK"
  rm -f "$CW"
  "$U" init --db "$CR" > /dev/null
  # one witnessed head before the first kill: a writer killed before it wrote its
  # first one leaves no witness file, and verify rightly refuses a missing witness
  "$U" apply -f "$A" --db "$CR" --audit-key "$CK" --witness "$CW" > /dev/null
  cat > "$T/writer.sh" <<W
#!/usr/bin/env bash
# applies two states in turn; after each acknowledged apply, logs its revision
while true; do
  for f in "$A" "$B"; do
    out=\$("$U" apply -f "\$f" --db "$CR" --json --audit-key "$CK" --witness "$CW") || exit 1
    rev=\$(sed -E 's/.*"revision": ([0-9]+).*/\1/' <<<"\$out")
    echo "\$rev" >> "$T/acked"
  done
done
W
  chmod +x "$T/writer.sh"
  for i in $(seq 1 "$2"); do
    crash_round "crash $i" "$T/writer.sh" "$T/acked" "$CR" "$CK" "$CW" "${5:-900}"
    if ! "$U" plan -f "$A" --db "$CR" | grep -q "0 to create, 0 to change" && ! "$U" plan -f "$B" --db "$CR" | grep -q "0 to create, 0 to change"; then
      bad "crash $i: the store holds a half-applied state"
    fi
    crashes=$((crashes + 1))
  done
  [ "$crashes" -eq "$2" ] && ok
  [ -s "$CW" ] && ok || bad "the crashing writer witnessed no head"
}

# ---- two writers on one tenant: every change applied or refused, none lost
concurrency_test() { # concurrency_test DB_URL ROUNDS
  local CC=$1
  "$U" init --db "$CC" > /dev/null
  "$U" apply -f "$C" --db "$CC" > /dev/null
  writer() { # writer NAME N: N read-modify-write rounds with --if-revision
    local applied=0 refused=0 rev
    for k in $(seq 1 "$2"); do
      rev=$(revision "$CC")
      sed "s/name: Alice Example/name: Alice $1 $k/" "$C" > "$T/$1.yaml"
      if "$U" apply -f "$T/$1.yaml" --db "$CC" --if-revision "$rev" --actor "$1" > /dev/null 2>&1; then applied=$((applied + 1)); else refused=$((refused + 1)); fi
    done
    echo "$applied $refused" > "$T/$1.result"
  }
  local before a1 r1 a2 r2 changes final
  before=$(revision "$CC")
  writer w1 "$2" & writer w2 "$2" & wait
  read -r a1 r1 < "$T/w1.result"; read -r a2 r2 < "$T/w2.result"
  changes=$("$U" audit log --db "$CC" --object alice@contoso.com | wc -l)
  final=$(revision "$CC")
  [ $((a1 + r1)) -eq "$2" ] && [ $((a2 + r2)) -eq "$2" ] && ok || bad "writers did not finish: $a1/$r1 $a2/$r2"
  [ "$changes" -eq $((1 + a1 + a2)) ] && ok || bad "applied 1 + $((a1 + a2)) changes to alice but the audit log has $changes"
  [ "$final" -eq $((before + a1 + a2)) ] && ok || bad "revision $final after $((a1 + a2)) applied writes from $before"
  "$U" audit verify --db "$CC" > /dev/null && ok || bad "concurrent writers broke the audit chain"
}

# ---- the same on the incremental path (user and group edits, never the whole tenant):
# a writer killed at random moments while it adds a user, makes it a member, takes it
# out and removes it again, keyed and witnessed; every kill leaves a store that loads
# (so no dangling name was written), a log that checks, the reference index as the
# rows say, and no acknowledged revision lost
crash_put_test() { # crash_put_test DB_URL ROUNDS
  local CR=$1 CK=$T/crashp.key CW=$T/crashp-witness.jsonl acked=0
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$CK"; chmod 600 "$CK"
  "$U" init --db "$CR" > /dev/null
  "$U" apply -f "$C" --db "$CR" --audit-key "$CK" --witness "$CW" > /dev/null
  cat > "$T/putter.sh" <<W
#!/usr/bin/env bash
# putter.sh ROUND: four edits at a time, each logging the revision it was acknowledged at
k=0
while true; do
  k=\$((k + 1)); z=z\$1-\$k@contoso.com
  for cmd in "user add \$z" "group add-member mail-ops --principal \$z" "group remove-member mail-ops --principal \$z" \\
             "user remove \$z"; do
    out=\$("$U" \$cmd --db "$CR" --json --audit-key "$CK" --witness "$CW") || exit 1
    sed -E 's/.*"revision": ([0-9]+).*/\\1/' <<<"\$out" >> "$T/packed"
  done
done
W
  chmod +x "$T/putter.sh"
  for i in $(seq 1 "$2"); do
    crash_round "put crash $i" "$T/putter.sh $i" "$T/packed" "$CR" "$CK" "$CW"
    acked=$((acked + $(wc -l < "$T/packed")))
  done
  [ "$acked" -gt 0 ] && ok || bad "the crashing putter acknowledged nothing"
  # the index agrees with the rows: a user still named cannot be removed, one no longer named can
  expect "put crash: named user kept" 2 "names unknown user 'carol@contoso.com'" -- "$U" user remove carol@contoso.com --db "$CR" --audit-key "$CK"
  "$U" audit verify --db "$CR" --audit-key "$CK" --witness "$CW" > /dev/null && ok || bad "put crash: final audit"
}

# ---- two writers making members of one group at once, each based on the revision it
# read: every edit applied or refused as a conflict, none lost (a lost update would
# drop a member another writer added)
concurrency_put_test() { # concurrency_put_test DB_URL ROUNDS
  local CC=$1
  "$U" init --db "$CC" > /dev/null
  "$U" apply -f "$C" --db "$CC" > /dev/null
  for w in p1 p2; do for k in $(seq 1 "$2"); do "$U" user add "$w-$k@contoso.com" --db "$CC" > /dev/null; done; done
  putter() { # putter NAME N
    local applied=0 refused=0
    for k in $(seq 1 "$2"); do
      if "$U" group add-member mail-ops --principal "$1-$k@contoso.com" --db "$CC" --actor "$1" > /dev/null 2>&1; then
        applied=$((applied + 1)); echo "$1-$k@contoso.com" >> "$T/$1.added"
      else refused=$((refused + 1)); fi
    done
    echo "$applied $refused" > "$T/$1.result"
  }
  local before a1 r1 a2 r2 final members
  : > "$T/p1.added"; : > "$T/p2.added"
  before=$(revision "$CC")
  putter p1 "$2" & putter p2 "$2" & wait
  read -r a1 r1 < "$T/p1.result"; read -r a2 r2 < "$T/p2.result"
  final=$(revision "$CC")
  "$U" object get group mail-ops --db "$CC" > "$T/mail-ops.json"
  members=$(grep -c '@contoso.com' "$T/mail-ops.json")
  [ $((a1 + r1)) -eq "$2" ] && [ $((a2 + r2)) -eq "$2" ] && ok || bad "putters did not finish: $a1/$r1 $a2/$r2"
  [ "$final" -eq $((before + a1 + a2)) ] && ok || bad "revision $final after $((a1 + a2)) applied edits from $before"
  [ "$members" -eq $((1 + a1 + a2)) ] && ok || bad "mail-ops has $members members after $((a1 + a2)) added to its 1"
  for m in $(cat "$T/p1.added" "$T/p2.added"); do grep -q "\"$m\"" "$T/mail-ops.json" || bad "member $m lost"; done
  "$U" audit verify --db "$CC" > /dev/null && ok || bad "concurrent edits broke the audit chain"
}

if [ -n "${URBAC_TEST_PG_URL:-}" ]; then
  # the same against PostgreSQL (tests/pg.sh started it); each test on a clean schema
  psql_reset() { psql -q "$URBAC_TEST_PG_URL" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS refs, audit, objects, tenants, urbac_schema" > /dev/null; }
  psql_reset; crash_test "$URBAC_TEST_PG_URL" 15 "$C" "$T/b.yaml"
  psql_reset; concurrency_test "$URBAC_TEST_PG_URL" 20
  psql_reset; crash_put_test "$URBAC_TEST_PG_URL" 15
  psql_reset; concurrency_put_test "$URBAC_TEST_PG_URL" 20
  # a body of several KB is stored LZ4-compressed where the server has LZ4
  # (postgres.c: pglz cost an eighth of PostgreSQL's work per large write)
  psql_reset
  { echo "urbac: 1"; echo "tenant: toast"; echo "users:"
    for i in $(seq 1 300); do echo "  - {id: member-$i@toast.example}"; done
    echo "groups:"; echo "  - id: all"; echo "    members:"
    for i in $(seq 1 300); do echo "      - member-$i@toast.example"; done; } > "$T/toast.yaml"
  "$U" init --db "$URBAC_TEST_PG_URL" > /dev/null && "$U" apply -f "$T/toast.yaml" --db "$URBAC_TEST_PG_URL" > /dev/null \
    || bad "toast: the tenant was not applied"
  want=pglz
  psql -X -q "$URBAC_TEST_PG_URL" -c "SET default_toast_compression = lz4" > /dev/null 2>&1 && want=lz4
  got=$(psql -X -At "$URBAC_TEST_PG_URL" -c "SELECT pg_column_compression(body) FROM objects WHERE kind = 'group' AND id = 'all'")
  [ "$got" = "$want" ] && ok || bad "toast: a 300-member group's body is stored '$got', want '$want'"
else
  crash_test "$T/crash.db" 25 "$C" "$T/b.yaml"
  # a whole tenant written at once (20,100 users, every one renamed by the other
  # file): the SQLite store writes it through a rollback journal (no other
  # connection has the file open), killed anywhere in its 0.4 to 2 s
  { echo "urbac: 1"; echo "tenant: big"; echo "users:"
    for i in $(seq 1 20100); do echo "  - {id: u$i@big.example, name: User $i}"; done; } > "$T/big-a.yaml"
  sed 's/name: User/name: Member/' "$T/big-a.yaml" > "$T/big-b.yaml"
  crash_test "$T/crash-big.db" 10 "$T/big-a.yaml" "$T/big-b.yaml" 2500
  concurrency_test "$T/conc.db" 30
  crash_put_test "$T/crashp.db" 25
  concurrency_put_test "$T/concp.db" 30
fi

echo "store: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
