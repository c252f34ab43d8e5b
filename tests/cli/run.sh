#!/usr/bin/env bash
# tests/cli/run.sh - the urbac command as a user runs it: exit codes, output,
# error messages with file:line:column, and files left intact on failure.
# Usage: run.sh path/to/urbac path/to/shared
set -u
U=$1
SHARED=$2
EX=$SHARED/spec/examples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cp "$EX/worked.yaml" "$T/w.yaml"
W=$T/w.yaml
BLR='Security operations \ Security data \ Basic live response (manage)'

# ---- usage
expect "help" 0 "commands:" -- "$U" --help
expect "no command" 2 "usage: urbac COMMAND" -- "$U"
expect "unknown command" 2 "unknown command 'frob'" -- "$U" frob
expect "version" 0 "^urbac [0-9]" -- "$U" --version
COMMANDS=$("$U" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
expect "help lists the commands" 0 "^check$" -- echo "$COMMANDS"
for c in $COMMANDS; do
  expect "$c --help" 0 "^usage: urbac $c" -- "$U" "$c" --help
done
expect "help COMMAND" 0 "^usage: urbac check" -- "$U" help check
if [ "$("$U" help impact)" = "$("$U" impact --help)" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL help impact differs from impact --help"; fi
expect "help lists options" 0 "^ +--queries TSV +a file of questions" -- "$U" check --help
expect "help shows defaults" 0 "--format F +table, tsv, csv, json or html \(default: table\)" -- "$U" impact --help
expect "help shows list limits" 0 "--data-source W .*\(repeatable, up to 4\)" -- "$U" assignment --help
expect "help of an unknown command" 2 "unknown command 'chek'; did you mean 'check'\?" -- "$U" help chek
expect "did you mean a command" 2 "unknown command 'chek'; did you mean 'check'\?" -- "$U" chek
expect "did you mean an option" 2 "^urbac: check: unknown option '--permision'; did you mean '--permission'\?" -- "$U" check --permision x
expect "a beginning is suggested" 2 "unknown option '--perm'; did you mean '--permission'\?" -- "$U" check --perm x
expect "unknown option" 2 "^urbac: check: unknown option '--bogus' \(see --help\)" -- "$U" check --bogus
expect "option of another command" 2 "explain: unknown option '--queries'" -- "$U" explain --queries x
expect "missing value" 2 "check: --user needs a value \(U\)" -- "$U" check --tenant "$W" --user
expect "option as a value" 2 "check: --user needs a value \(U\), not the option '--json'" -- "$U" check --tenant "$W" --user --json
expect "flag with a value" 2 "check: --json takes no value \(got 'yes'\)" -- "$U" check --tenant "$W" --json=yes
expect "single option twice" 2 "check: --user given twice" -- "$U" check --tenant "$W" --user ann --user dan --permission Alerts --workload mde
expect "list over its limit" 2 "assignment: --data-source given more than 4 times" -- "$U" assignment add r a --principal x --data-source mde --data-source mdo --data-source mdi --data-source all --data-source mde
expect "number over its limit" 2 "serve: --threads takes a whole number up to 1024, not '5000'" -- "$U" serve --threads 5000
expect "name=value" 0 "^allow$" -- "$U" check --tenant="$W" --user=ann "--permission=$BLR" --workload=mde
expect "options after words" 0 "^allow$" -- "$U" check --user ann --permission "$BLR" --workload mde --tenant "$W" --
expect "missing tenant" 2 "missing --tenant" -- env -u URBAC_TENANT "$U" check --user a --permission Alerts --workload mde
expect "missing user" 2 "missing --user" -- "$U" check --tenant "$W" --permission Alerts --workload mde
expect "both modes" 2 "either --queries or" -- "$U" check --tenant "$W" --queries x --user a
expect "stray argument" 2 "unexpected argument 'extra'" -- "$U" check --tenant "$W" extra

# ---- validate
expect "validate ok" 0 "valid \(tenant worked: 6 users, 5 groups, 4 device groups, 4 devices, 1 roles\)" -- "$U" validate "$W"
expect "validate json" 0 '"valid": true' -- "$U" validate --json "$W"
expect "validate missing file" 2 "cannot open" -- "$U" validate "$T/nope.yaml"
mkfifo "$T/fifo.yaml" && # refused at once, not waited on (timeout: the old code hung)
  expect_exactly "validate a fifo" 2 "urbac: $T/fifo.yaml: not a regular file" -- timeout 10 "$U" validate "$T/fifo.yaml"
rm -f "$T/fifo.yaml"
printf 'urbac: 1\ntenant: t\nusers:\n  - id: a\n  - id: a\ngroups:\n  - {id: g, members: [b, group:x]}\n' > "$T/bad.yaml"
expect "validate duplicate" 2 "bad.yaml:5:5: duplicate user id 'a'" -- "$U" validate "$T/bad.yaml"
expect "validate dangling" 2 "bad.yaml:7:23: group 'g' names unknown user 'b'" -- "$U" validate "$T/bad.yaml"
expect "validate json errors" 2 '"code": "EDANGLING"' -- "$U" validate --json "$T/bad.yaml"
printf 'urbac: 1\ntenant: t\ngroups:\n  - {id: a, members: [group:b]}\n  - {id: b, members: [group:a]}\n' > "$T/cycle.yaml"
expect "validate cycle" 2 "cycle.yaml:5:23: group membership cycle: a -> b -> a" -- "$U" validate "$T/cycle.yaml"
printf 'urbac: 1\ntenant: t\nroles:\n  - name: r\n    permissions: [Security operations \\ Security data \\ Alertz]\n' > "$T/perm.yaml"
expect "validate unknown permission" 2 "perm.yaml:5:19: roles\[0\].permissions\[0\]: unknown permission .*did you mean 'Security operations \\\\ Security data \\\\ Alerts'" -- "$U" validate "$T/perm.yaml"
printf '{"urbac": 1, "tenant": "j", "users": [{"id": "a", "enabled": "yes"}]}' > "$T/bad.json"
expect "validate json file" 2 "bad.json:1:62: users\[0\].enabled: expected true or false" -- "$U" validate "$T/bad.json"
printf 'urbac: 1\ntenant: t\ndeviceGroups: [{id: a, rank: 2}, {id: b, rank: 2}]\n' > "$T/rank.yaml"
expect "validate ranks" 2 "rank.yaml:3:34: device group 'b' has rank 2, already held by 'a'" -- "$U" validate "$T/rank.yaml"

# ---- check
expect "check allow" 0 "^allow$" -- "$U" check --tenant "$W" --user ann --permission "$BLR" --workload mde --scope device:d1
expect "check deny" 1 "^deny$" -- "$U" check --tenant "$W" --user dan --permission basics:read --workload mde --scope device:d1
expect "check env tenant" 0 "^allow$" -- env URBAC_TENANT="$W" "$U" check --user ann --permission "$BLR" --workload mde
expect "check graph id" 0 "^allow$" -- "$U" check --tenant "$W" --user ben --permission microsoft.xdr/secops/securitydata/response/manage --workload mdo
expect "check json" 0 '"decision":"allow","explanation":\["ann -> group' -- "$U" check --tenant "$W" --user ann --permission "$BLR" --workload mde --json
expect "check unknown permission" 2 "did you mean" -- "$U" check --tenant "$W" --user ann --permission 'Basic live respons' --workload mde
expect "check bad level" 2 "has no read level" -- "$U" check --tenant "$W" --user ann --permission 'Alerts (read)' --workload mde
expect "check bad workload" 2 "unknown workload 'mdz'" -- "$U" check --tenant "$W" --user ann --permission Alerts --workload mdz
expect "check bad device" 2 "unknown device 'd9'" -- "$U" check --tenant "$W" --user ann --permission Alerts --workload mde --scope device:d9
expect "check device off mde" 2 "applies to mde only" -- "$U" check --tenant "$W" --user ann --permission Alerts --workload mdo --scope device:d1
expect "check invalid tenant" 2 "bad.yaml:5:5" -- "$U" check --tenant "$T/bad.yaml" --user a --permission Alerts --workload mde

"$U" check --tenant "$W" --queries "$EX/worked-queries.tsv" > "$T/answers.txt"
rc=$?
if [ $rc -eq 0 ] && diff -q "$T/answers.txt" <(cut -f1 "$EX/worked-answers.txt") >/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL worked queries (exit $rc)"; fi
expect_exactly "queries from stdin" 0 "$(cut -f1 "$EX/worked-answers.txt")" -- \
  sh -c "'$U' check --tenant '$W' --queries - < '$EX/worked-queries.tsv'"
printf 'ann\tAlerts (manage)\tmdi\t\nann\tNope\tmde\t\nbad line\nann\tAlerts (manage)\tmdo\nzed\tAlerts\tmdo' > "$T/q.tsv"
"$U" check --tenant "$W" --queries "$T/q.tsv" > "$T/q.out" 2> "$T/q.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(head -1 "$T/q.out")" = allow ] && [ "$(sed -n 3p "$T/q.out")" = "error: expected user, permission, workload and scope separated by tabs" ] \
   && [ "$(wc -l < "$T/q.out")" -eq 5 ] && grep -q "2 line(s) could not be answered (first: line 2)" "$T/q.err" && grep -q '^error: unknown permission' "$T/q.out"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL malformed query lines (exit $rc):"; cat "$T/q.out" "$T/q.err"
fi
expect "queries json" 2 '^\{"error":"unknown permission' -- "$U" check --tenant "$W" --queries "$T/q.tsv" --json
expect "queries missing file" 2 "cannot open" -- "$U" check --tenant "$W" --queries "$T/none.tsv"
head -c 20000 /dev/zero | tr '\0' 'a' > "$T/long.tsv"
expect "query line too long" 2 "error: query line longer than" -- "$U" check --tenant "$W" --queries "$T/long.tsv"

# ---- explain, effective, who-can
expect "explain allow" 0 'ann -> group lr-team -> Defender for Endpoint role "Live responders" -> mapping "Live response capabilities"' -- "$U" explain --tenant "$W" --user ann --permission "$BLR" --workload mde --scope device:d1
expect "explain deny" 1 "missing: device group servers is open only to group lr-team" -- "$U" explain --tenant "$W" --user dan --permission basics:read --workload mde --scope device:d1
expect "explain disabled" 1 "user eve is disabled" -- "$U" explain --tenant "$W" --user eve --permission 'Email quarantine' --workload mdo
expect "explain unknown user" 1 "not a user of the tenant" -- "$U" explain --tenant "$W" --user zed --permission 'Email quarantine' --workload mdo
expect "explain json" 1 '"decision":"deny"' -- "$U" explain --tenant "$W" --user zed --permission 'Email quarantine' --workload mdo --json
# a user the tenant does not know: still deny (exit 1), and said on stderr
"$U" check --tenant "$W" --user zed --permission 'Email quarantine' --workload mdo > "$T/zed.out" 2> "$T/zed.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(cat "$T/zed.out")" = deny ] && grep -q "'zed' is not a user of tenant worked" "$T/zed.err"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL check unknown user (exit $rc):"; cat "$T/zed.out" "$T/zed.err"; fi
"$U" check --tenant "$W" --user dan --permission basics:read --workload mde --scope device:d1 > /dev/null 2> "$T/dan.err"
[ ! -s "$T/dan.err" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL a known user's deny printed:"; cat "$T/dan.err"; }

# a store that cannot be opened: refused with the reason, nothing freed that was never set
# (cmd_check freed an uninitialised model; valgrind, where present, sees such a read)
head -c 8192 /dev/urandom > "$T/junk.db"
VG=() # valgrind cannot run a sanitizer build, which checks itself
command -v valgrind > /dev/null && ! grep -qa __asan_init "$U" && VG=(valgrind -q --error-exitcode=99)
ASK=(--permission Alerts --workload mde)
expect "check on a store that does not open" 2 "junk.db: not a urbac store" -- "${VG[@]}" "$U" check --db "$T/junk.db" --user a "${ASK[@]}"
expect "explain on a store that does not open" 2 "junk.db: not a urbac store" -- "${VG[@]}" "$U" explain --db "$T/junk.db" --user a "${ASK[@]}"
expect "who-can on a store that does not open" 2 "junk.db: not a urbac store" -- "${VG[@]}" "$U" who-can --db "$T/junk.db" "${ASK[@]}"
expect "effective on a store that does not open" 2 "junk.db: not a urbac store" -- "${VG[@]}" "$U" effective --db "$T/junk.db" --user a
expect "impact on a store that does not open" 2 "junk.db: not a urbac store" -- "${VG[@]}" "$U" impact mde --db "$T/junk.db"

# key create --expires: a duration or a UTC time; anything else refused, naming the forms
"$U" init --db "$T/keys.db" > /dev/null && "$U" apply --db "$T/keys.db" -f "$W" > /dev/null
KEY=(key create --db "$T/keys.db" --user ann --name t)
for bad in 30x 0d 36501d 2020-13 '2020-01-01 00:00:00' -5d 5 30dd; do
  expect "key --expires '$bad' refused" 2 "^urbac: --expires '$bad': use a duration from now, 1d to 36500d or 1h to 876000h \\(30d, 12h\\), or a UTC time YYYY-MM-DDTHH:MM:SSZ" -- "$U" "${KEY[@]}" --expires "$bad"
done
expect "key --expires 30d" 0 "^urbac_[0-9a-f]+_" -- "$U" "${KEY[@]}" --expires 30d
expect "key --expires 12h" 0 "^urbac_[0-9a-f]+_" -- "$U" "${KEY[@]}" --expires 12h
expect "key --expires a UTC time" 0 "^urbac_[0-9a-f]+_" -- "$U" "${KEY[@]}" --expires 2030-01-01T00:00:00Z
expect "key list shows the expiry computed from 30d" 0 "$(date -u -d '+30 days' +%Y-%m-%d)T" -- "$U" key list --db "$T/keys.db"
expect "effective" 0 $'mdi\tSecurity operations \\\\ Security data \\\\ Alerts \\(manage\\)\tall\tann -> group idt -> assignment "idt"' -- "$U" effective --tenant "$W" --user ann
expect "effective per device group" 0 $'mde\tSecurity operations \\\\ Security data \\\\ Security data basics \\(read\\)\tlaptops' -- "$U" effective --tenant "$W" --user dan --workload mde
expect "effective json" 0 '"scope": "all"' -- "$U" effective --tenant "$W" --user ann --json
expect "effective unknown user" 2 "not a user of tenant worked" -- "$U" effective --tenant "$W" --user zed
expect_exactly "who-can" 0 $'ann\ncat' -- "$U" who-can --tenant "$W" --permission 'Alerts (manage)' --workload mdi
expect_exactly "who-can json" 0 $'[\n  "cat",\n  "dan"\n]' -- \
  "$U" who-can --tenant "$W" --permission 'Email quarantine' --workload mdo --json

# ---- identities from Entra ID: a user or group named by its externalId (object id)
X=$T/entra.yaml
cat > "$X" <<'YAML'
urbac: 1
tenant: entra
workloads: {mde: unified}
users:
  - id: alice@contoso.com
    externalId: 0B9F0000-AAAA-4BBB-8CCC-000000000001
    managedBy: scim
    scim: {name: {givenName: Alice}}
  - id: bob@contoso.com
    enabled: false
    externalId: 0b9f0000-aaaa-4bbb-8ccc-000000000002
groups:
  - id: soc
    externalId: 7e0c0000-aaaa-4bbb-8ccc-000000000001
    members: [0b9f0000-aaaa-4bbb-8ccc-000000000001, bob@contoso.com]
roles:
  - name: Analyst
    permissions: [Alerts (manage)]
    assignments:
      - {name: a, principals: ['group:7E0C0000-AAAA-4BBB-8CCC-000000000001'], dataSources: [mde]}
YAML
AM=(--permission 'Alerts (manage)' --workload mde)
expect "validate with externalIds" 0 "valid \(tenant entra: 2 users, 1 groups" -- "$U" validate "$X"
expect_exactly "check by id" 0 "allow" -- "$U" check --tenant "$X" --user alice@contoso.com "${AM[@]}"
expect_exactly "check by externalId" 0 "allow" -- "$U" check --tenant "$X" --user 0b9f0000-aaaa-4bbb-8ccc-000000000001 "${AM[@]}"
expect_exactly "check by externalId, upper case" 0 "allow" -- "$U" check --tenant "$X" --user 0B9F0000-AAAA-4BBB-8CCC-000000000001 "${AM[@]}"
expect "a disabled user named by externalId" 1 "^deny" -- "$U" check --tenant "$X" --user 0b9f0000-aaaa-4bbb-8ccc-000000000002 "${AM[@]}"
expect "explain a disabled user" 1 "disabled" -- "$U" explain --tenant "$X" --user 0b9f0000-aaaa-4bbb-8ccc-000000000002 "${AM[@]}"
expect "explain by externalId" 0 "alice@contoso.com -> group soc -> assignment \"a\" of role \"Analyst\"" -- "$U" explain --tenant "$X" --user 0b9f0000-aaaa-4bbb-8ccc-000000000001 "${AM[@]}"
expect "effective by externalId" 0 "Alerts \(manage\)" -- "$U" effective --tenant "$X" --user 0B9F0000-aaaa-4bbb-8ccc-000000000001
expect_exactly "who-can names the id" 0 "alice@contoso.com" -- "$U" who-can --tenant "$X" "${AM[@]}"
expect "an unknown object id is an unknown user" 1 "not a user of tenant entra" -- "$U" check --tenant "$X" --user 0b9f0000-aaaa-4bbb-8ccc-000000000009 "${AM[@]}"
sed 's/0b9f0000-aaaa-4bbb-8ccc-000000000002/0B9F0000-aaaa-4bbb-8ccc-000000000001/' "$X" > "$T/dup.yaml"
expect "an externalId held twice" 2 "dup.yaml:9:5: duplicate user externalId '0b9f0000-aaaa-4bbb-8ccc-000000000001' \(first defined at line 5\)" -- "$U" validate "$T/dup.yaml"
sed 's/managedBy: scim/managedBy: entra/' "$X" > "$T/by.yaml"
expect "managedBy is scim or nothing" 2 "by.yaml:7:16: users\[0\].managedBy: managedBy is 'entra'; the only value is 'scim'" -- "$U" validate "$T/by.yaml"
cp "$X" "$T/fmt.yaml"
"$U" fmt "$T/fmt.yaml" > /dev/null
expect "fmt keeps what SCIM gave" 0 "scim: \{name: \{givenName: Alice\}\}" -- cat "$T/fmt.yaml"
expect_exactly "fmt is a fixed point with them" 0 "" -- "$U" fmt --check "$T/fmt.yaml"

sed 's/group:7E0C0000-AAAA-4BBB-8CCC-000000000001/group:7E0C0000-AAAA-4BBB-8CCC-00000000000F/' "$X" > "$T/pend.yaml"
expect "a pending principal is valid, with a warning" 0 "pend.yaml: warning: assignment 'a' of role 'Analyst' names group '7E0C0000-AAAA-4BBB-8CCC-00000000000F', which no group has as its id or externalId yet" -- "$U" validate "$T/pend.yaml"
expect "validate --json lists the warning" 0 '"warnings": \[$' -- "$U" validate --json "$T/pend.yaml"
expect "a pending principal grants nothing" 1 "^deny" -- "$U" check --tenant "$T/pend.yaml" --user alice@contoso.com "${AM[@]}"
sed 's/group:7E0C0000-AAAA-4BBB-8CCC-000000000001/group:nope/' "$X" > "$T/dangle.yaml"
expect "an unknown name that is no GUID is an error" 2 "names unknown group 'nope'" -- "$U" validate "$T/dangle.yaml"

# ---- catalog
expect "catalog" 0 "Configuration \\\\ Authorization +read, manage +microsoft.xdr/configuration/authorization" -- "$U" catalog
expect "catalog json" 0 '"microsoft.xdr/secops/securitydata/alerts/manage"' -- "$U" catalog --json
expect "catalog legacy" 0 "Quarantine +quarantine" -- "$U" catalog

# ---- fmt
cp "$EX/worked.yaml" "$T/f.yaml"
expect "fmt --check on a raw file" 1 "not in canonical form" -- "$U" fmt --check "$T/f.yaml"
"$U" fmt --check "$T/f.yaml" > "$T/f.diff" 2>/dev/null
same "fmt --check changes nothing" "$EX/worked.yaml" "$T/f.yaml"
expect "fmt --check prints a diff" 0 "^\+\+\+ $T/f.yaml$" -- cat "$T/f.diff"
expect_exactly "fmt says nothing" 0 "" -- "$U" fmt "$T/f.yaml"
cp "$EX/worked.yaml" "$T/patched.yaml" && patch -s "$T/patched.yaml" "$T/f.diff"
same "fmt writes what fmt --check's diff makes" "$T/patched.yaml" "$T/f.yaml"
expect_exactly "fmt --check after fmt prints nothing" 0 "" -- "$U" fmt --check "$T/f.yaml"
cp "$T/f.yaml" "$T/f2.yaml"
expect_exactly "fmt again" 0 "" -- "$U" fmt "$T/f2.yaml"
same "fmt is idempotent" "$T/f.yaml" "$T/f2.yaml"
cp "$T/bad.yaml" "$T/bad2.yaml"
expect "fmt invalid file" 2 "duplicate user id" -- "$U" fmt "$T/bad2.yaml"
same "fmt leaves an invalid file" "$T/bad.yaml" "$T/bad2.yaml"
printf '{"urbac": 1, "tenant": "j", "users": [{"id": "a"}]}' > "$T/j.json"
expect_exactly "fmt json" 0 "" -- "$U" fmt "$T/j.json"
expect "fmt json output is json" 0 '"tenant": "j"' -- cat "$T/j.json"
chmod 555 "$T"; if [ "$(id -u)" -ne 0 ]; then
  expect "fmt unwritable" 2 "cannot write" -- "$U" fmt "$T/f.yaml"
fi; chmod 755 "$T"

# ---- migration: import, activate, deactivate, impact, export
SRC=$(cd "$(dirname "$0")/../.." && pwd)
L=$T/litware.yaml
cp "$SRC/examples/litware.yaml" "$L"
expect "import dry run" 0 "2 created, 0 updated, 0 unchanged; dry run: nothing written" -- "$U" import mde --tenant "$L" --dry-run
same "dry run writes nothing" "$SRC/examples/litware.yaml" "$L"
expect "import unmapped" 0 "Manage endpoint security settings in Microsoft Endpoint Manager \(role \"Live response\"\)" -- "$U" import mde --tenant "$L" --dry-run
expect "import" 0 "written to $L" -- "$U" import mde --tenant "$L"
cp "$L" "$T/once.yaml"
expect "import again" 0 "0 created, 0 updated, 2 unchanged; nothing changed, nothing written" -- "$U" import mde --tenant "$L"
same "import is idempotent, byte for byte" "$T/once.yaml" "$L"
expect "import json" 0 '"action": "unchanged"' -- "$U" import mde --tenant "$L" --json
expect "import json unmapped" 0 '"permission": "Manage endpoint security settings in Microsoft Endpoint Manager"' -- "$U" import mde --tenant "$L" --json
expect "import to json output" 0 "written to $T/out.json" -- "$U" import mdo --tenant "$L" --output "$T/out.json"
expect "import output is json" 0 '"importedFrom": \{' -- cat "$T/out.json"
same "import --output leaves the tenant" "$T/once.yaml" "$L"
expect "imported roles validate" 0 "valid" -- "$U" validate "$T/out.json"
expect "import bad workload" 2 "unknown workload 'mdx'" -- "$U" import mdx --tenant "$L"
expect "import no workload" 2 "takes one WORKLOAD" -- "$U" import --tenant "$L"
sed 's/groups: \[responders\]/groups: [responders, soc]/' "$L" > "$T/changed.yaml"
expect "import updates in place" 0 "updated    role \"Live response\"" -- "$U" import mde --tenant "$T/changed.yaml"
expect "no duplicate after update" 0 "^2$" -- sh -c "grep -c 'importedFrom: {workload: mde' '$T/changed.yaml'"

# a failed write leaves the file as it was (a file-size limit makes the write fail)
cp "$SRC/examples/litware.yaml" "$T/atomic.yaml"
( trap '' XFSZ; ulimit -f 2; "$U" import mde --tenant "$T/atomic.yaml" ) > "$T/atomic.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "write failed" "$T/atomic.out" && cmp -s "$SRC/examples/litware.yaml" "$T/atomic.yaml" \
   && [ -z "$(ls "$T" | grep 'atomic.yaml.tmp')" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL atomic write (exit $rc):"; cat "$T/atomic.out"; fi

sed -e '/directoryRoles: \[Global administrator\]/d' -e '/Organization Management/{N;d}' "$SRC/examples/litware.yaml" \
  > "$T/nolock.yaml"
cp "$T/nolock.yaml" "$T/nolock.before.yaml"
expect "activate refused" 1 "activate refused: activating mdo would leave nobody able to manage authorization" -- "$U" activate mdo --tenant "$T/nolock.yaml"
same "refusal writes nothing" "$T/nolock.before.yaml" "$T/nolock.yaml"
expect "activate --force" 0 "mdo is now unified" -- "$U" activate mdo --tenant "$T/nolock.yaml" --force
expect "activate" 0 "mde is now unified in tenant litware" -- "$U" activate mde --tenant "$L"
expect "activated in file" 0 "mde: unified" -- cat "$L"
printf 'ana@litware.com\tAlerts (manage)\tmde\tdevicegroup:servers\nben@litware.com\tBasic live response\tmde\tdevice:ws-17\ndev@litware.com\tVulnerability management\tmde\t\ncleo@litware.com\tEmail quarantine\tmdo\t\n' > "$T/lq.tsv"
LEGACY=$'allow\nallow\ndeny\nallow'
expect_exactly "legacy answers" 0 "$LEGACY" -- "$U" check --tenant "$SRC/examples/litware.yaml" --queries "$T/lq.tsv"
# ben loses basic live response on ws-17: legacy device access was the union over
# his groups, the imported assignment pairs responders with their device groups
expect_exactly "unified answers" 0 $'deny\ndeny\nallow\nallow' -- "$U" check --tenant "$L" --queries "$T/lq.tsv"
expect_exactly "deactivate" 0 "mde is now legacy in tenant litware ($L)" -- "$U" deactivate mde --tenant "$L"
expect_exactly "deactivate restores the legacy decisions" 0 "$LEGACY" -- "$U" check --tenant "$L" --queries "$T/lq.tsv"

cp "$SRC/examples/litware.yaml" "$L"
expect "impact table" 0 "Impact of activating mde on tenant litware after importing its legacy roles: 12 changes for 3 users \(6 gains, 6 losses\)" -- "$U" impact mde --tenant "$L" --import
"$U" impact mde --tenant "$L" --import --format tsv > "$T/impact.tsv"
rc=$?
if [ $rc -eq 0 ] && [ "$(awk -F'\t' '{print NF}' "$T/impact.tsv" | sort -u)" = 6 ] && [ "$(wc -l < "$T/impact.tsv")" -eq 12 ] \
   && grep -qP '^dev@litware.com\tSecurity posture \\ Posture management \\ Vulnerability management\tmde\tdevicegroup:ungrouped\tnone\tread$' "$T/impact.tsv"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL impact tsv (exit $rc):"; cat "$T/impact.tsv"; fi
expect "impact tsv explain" 0 $'\tdirectory role Security reader now counts on mde: dev@litware.com -> directory role Security reader' -- "$U" impact mde --tenant "$L" --import --format tsv --explain
expect "impact tsv pairing" 0 "legacy device access was unioned across groups; the imported assignment pairs it" -- "$U" impact mde --tenant "$L" --import --format tsv --explain
expect "impact csv" 0 $'^user,permission,workload,scope,before,after\r$' -- "$U" impact mde --tenant "$L" --import --format csv
expect "impact csv quoting" 0 '^ana@litware.com,Security operations \\ Security data \\ Security data basics,mde,devicegroup:servers,read,none' -- "$U" impact mde --tenant "$L" --import --format csv
expect "impact json" 0 '"summary": \{"changes": 12, "users": 3, "gains": 6, "losses": 6\}' -- "$U" impact mde --tenant "$L" --import --format json
expect "impact json rows" 0 '\{"user":"ana@litware.com","permission":"Security operations \\\\ Security data \\\\ Security data basics","workload":"mde","scope":"devicegroup:servers","before":"read","after":"none"\}' -- "$U" impact mde --tenant "$L" --import --format json
expect "impact mdo parity" 0 "0 changes for 0 users" -- "$U" impact mdo --tenant "$L" --import
expect "impact mdi without import" 0 "ida@litware.com" -- "$U" impact mdi --tenant "$L"
expect "impact html" 0 '<figure class="chart" id="chart-losses-permission">' -- "$U" impact mde --tenant "$L" --import --format html
expect_exactly "impact html output" 0 "" -- "$U" impact mde --tenant "$L" --import --format html --explain --output "$T/impact.html"
expect "impact html file" 0 '<td>ana@litware.com</td>' -- cat "$T/impact.html"
expect "impact bad format" 2 "unknown format 'pdf'" -- "$U" impact mde --tenant "$L" --format pdf
same "impact writes nothing" "$SRC/examples/litware.yaml" "$L"

# ---- impact for a person: many gains, a few losses (600 more Security readers:
# each gains 2 permissions on 3 device groups), on a terminal (script(1) gives a pty)
M=$T/many.yaml
{ sed -n '1,/^users:/p' "$SRC/examples/litware.yaml"
  for i in $(seq -w 1 600); do echo "- {id: r$i@litware.com, directoryRoles: [Security reader]}"; done
  sed -n '/^users:/,$p' "$SRC/examples/litware.yaml" | sed 1d; } > "$M"
tty() { script -qefc "$(printf '%q ' "$@")" /dev/null; }
expect "impact summary header" 0 '3,612 changes for 603 users \(3,606 gains, 6 losses\)' -- "$U" impact mde --tenant "$M" --import --summary
expect "impact summary: losses first" 0 '^6 losses for 2 users$' -- sh -c "'$U' impact mde --tenant '$M' --import --summary | sed -n 3p"
expect "impact summary: gains after" 0 '^3,606 gains for 601 users$' -- sh -c "'$U' impact mde --tenant '$M' --import --summary | grep -n gains | grep -v Impact | grep '^2[0-9]:' | cut -d: -f2-"
expect "impact summary: no rows" 0 '^0$' -- sh -c "'$U' impact mde --tenant '$M' --import --summary | grep -c 'none -> read' || true"
expect "impact summary --top" 0 'by user \(the 2 largest of 601\)' -- "$U" impact mde --tenant "$M" --import --summary --top 2
expect "impact summary --top rest" 0 '3,594  in the other 599 users' -- "$U" impact mde --tenant "$M" --import --summary --top 2
expect "impact on a terminal: the summary" 0 'A summary: 3,612 changes are too many for a terminal; --rows lists them all' -- tty "$U" impact mde --tenant "$M" --import
expect "impact on a terminal: losses in colour" 0 $'\e\\[1;31m6 losses' -- tty "$U" impact mde --tenant "$M" --import
colours() { grep -c $'\e\[[0-9;]*m' || true; }
tty_colours() { tty "$@" | colours; }
no_color_tty_colours() { NO_COLOR=1 tty_colours "$@"; }
expect "impact on a terminal: NO_COLOR" 0 '^0$' -- no_color_tty_colours "$U" impact mde --tenant "$M" --import
expect "impact on a terminal --rows" 0 '^3612$' -- sh -c "script -qefc \"'$U' impact mde --tenant '$M' --import --rows\" /dev/null | grep -c ' -> '"
expect "impact on a terminal, few rows" 0 '^12$' -- sh -c "script -qefc \"'$U' impact mde --tenant '$L' --import\" /dev/null | grep -c ' -> '"
expect "impact into a pipe: every row" 0 '^3612$' -- sh -c "'$U' impact mde --tenant '$M' --import | grep -c ' -> '"
expect "impact on a terminal --json: the summary" 0 '"usersLosing": 2' -- tty "$U" impact mde --tenant "$M" --import --json
tty "$U" impact mde --tenant "$M" --import --summary -o "$T/sum.txt" > /dev/null
expect "impact summary into a file: no colour" 0 '^0$' -- colours < "$T/sum.txt"
expect_exactly "impact: no progress into a pipe" 0 "" -- "$U" impact mde --tenant "$M" --import --format tsv -o "$T/many.tsv"
expect "impact --progress" 0 'urbac impact: writing done: 3,612 changes in' -- "$U" impact mde --tenant "$M" --import --format tsv -o "$T/many.tsv" --progress
expect "impact progress on a terminal" 0 $'\r\e\\[Kurbac impact: computing the changes' -- tty "$U" impact mde --tenant "$M" --import --format tsv -o "$T/many.tsv"
expect "impact error on a terminal: no progress line in it" 2 '^urbac: [^ ]*/none.yaml: cannot open' -- tty "$U" impact mde --tenant "$T/none.yaml" --format tsv -o "$T/none.tsv"
# the summary's counts against the rows, counted apart by awk
"$U" impact mde --tenant "$M" --import --format tsv > "$T/many.tsv"
"$U" impact mde --tenant "$M" --import --summary --json --top 0 > "$T/sum.json"
want=$(awk -F'\t' '$6 == "none" {n[$2]++} END {for (p in n) print n[p] "\t" p}' "$T/many.tsv" | sort)
got=$(jq -r '.losses.permissions[] | "\(.losses)\t\(.name)"' "$T/sum.json" | sort)
if [ -n "$want" ] && [ "$want" = "$got" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); printf 'FAIL impact summary losses per permission:\n%s\n--- want:\n%s\n' "$got" "$want"; fi
want=$(awk -F'\t' '$5 == "none" {n[$4]++} END {for (d in n) print n[d] "\t" d}' "$T/many.tsv" | sed 's/devicegroup://' | sort)
got=$(jq -r '.gains.deviceGroups[] | "\(.gains)\t\(.name)"' "$T/sum.json" | sort)
if [ -n "$want" ] && [ "$want" = "$got" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); printf 'FAIL impact summary gains per device group:\n%s\n--- want:\n%s\n' "$got" "$want"; fi
expect "impact summary mdi: no device groups" 0 '^0$' -- sh -c "'$U' impact mdi --tenant '$L' --summary | grep -c 'device group' || true"
expect "impact summary mdi" 0 '^               5  identity-team$' -- "$U" impact mdi --tenant "$L" --summary
expect "impact --summary --rows" 2 "impact: --summary and --rows: choose one" -- "$U" impact mde --tenant "$M" --summary --rows
expect "impact --summary --format tsv" 2 "impact: --summary prints text or JSON \(--json\), not --format tsv" -- "$U" impact mde --tenant "$M" --summary --format tsv
expect "impact --json --format csv" 2 "impact: --json and --format csv: choose one" -- "$U" impact mde --tenant "$M" --json --format csv
expect "impact --top too large" 2 "top" -- "$U" impact mde --tenant "$M" --summary --top 99999999

expect "import before export" 0 "2 created, 0 updated, 0 unchanged; written to $L" -- "$U" import mde --tenant "$L"
expect "export header" 0 $'^Role name,Description,Permissions,Assignment name,Data sources,Users and groups,Device groups,mde,mdo,mdi\r$' -- "$U" export --tenant "$L"
expect "export row" 0 '^Live response,Imported from Microsoft Defender for Endpoint: Live response,Security operations \\ Security data \\ Basic live response \(manage\); Security operations \\ Security data \\ Advanced live response \(manage\),imported,mde,group:responders,servers; ungrouped,inactive,inactive,inactive' -- "$U" export --tenant "$L" --format csv
expect "export bad format" 2 "unknown format 'xml'" -- "$U" export --tenant "$L" --format xml


# ---- --json on every listing: one JSON document, an array of objects with the
# fields the text shows (jq parses it; a text line per object is counted apart)
LD=$T/lists.db
"$U" init --db "$LD" >/dev/null 2>&1
"$U" apply --db "$LD" -f "$SRC/examples/contoso.yaml" >/dev/null 2>&1
"$U" key create --db "$LD" --user alice@contoso.com --name 'ci job' --actor keeper >/dev/null 2>&1
"$U" key create --db "$LD" --user bob@contoso.com --actor other --key-scope decisions --expires 2031-01-01T00:00:00Z >/dev/null 2>&1
# json_is NAME JQ-FILTER -- COMMAND...: COMMAND's stdout is valid JSON and the filter is true of it.
json_is() {
  local name=$1 filter=$2 out
  shift 3
  out=$("$@" 2>/dev/null)
  if [ -n "$out" ] && [ "$(jq "$filter" <<<"$out" 2>&1)" = true ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: %s is not true of:\n%s\n---\n' "$name" "$filter" "$out" | head -30
  fi
}
# counts NAME -- LIST...: `urbac LIST` has as many text lines as `urbac LIST --json` has objects.
counts() {
  local name=$1 text json
  shift 2
  text=$("$U" "$@" --db "$LD" | wc -l)
  json=$("$U" "$@" --db "$LD" --json | jq length)
  if [ "$text" -gt 0 ] && [ "$text" = "$json" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: $text lines, $json objects"; fi
}
json_is "key list json" '[.[] | {user, name, scope, expires, state, createdBy}] | sort_by(.user) == [
  {"user": "alice@contoso.com", "name": "ci job", "scope": "all", "expires": null, "state": "valid", "createdBy": "keeper"},
  {"user": "bob@contoso.com", "name": "", "scope": "decisions", "expires": "2031-01-01T00:00:00Z", "state": "valid", "createdBy": "other"}]' -- "$U" key list --db "$LD" --json
json_is "key list json ids and times" 'all(.[]; (.id | test("^[0-9a-f]{16}$")) and (.created | test("^[0-9]{4}-")) and .revoked == null)' -- "$U" key list --db "$LD" --json
expect "key list shows createdBy" 0 $'^[0-9a-f]{16}\talice@contoso.com\tall\tnever\tvalid\tkeeper\tci job$' -- "$U" key list --db "$LD"
KID=$("$U" key list --db "$LD" --json | jq -r '.[] | select(.user == "bob@contoso.com") | .id')
"$U" key revoke "$KID" --db "$LD" >/dev/null 2>&1
json_is "key list json revoked" '.[] | select(.user == "bob@contoso.com") | .state == "revoked" and (.revoked | test("^[0-9]{4}-"))' -- "$U" key list --db "$LD" --json
json_is "user list json" 'map(select(.kind == "user") | .id) | index("alice@contoso.com") != null' -- "$U" user list --db "$LD" --json
json_is "group list json" 'all(.[]; .kind == "group" and .id == .object.id)' -- "$U" group list --db "$LD" --json
json_is "role list json" 'map(.id) | index("SOC analyst") != null' -- "$U" role list --db "$LD" --json
json_is "device list json" 'map(.id) | sort == ["kiosk-7", "lap-042", "srv-001"]' -- "$U" device list --db "$LD" --json
expect "device list" 0 $'^device\tsrv-001$' -- "$U" device list --db "$LD"
json_is "device-group list json" 'all(.[]; .kind == "deviceGroup" and (.object.rank | type) == "number")' -- "$U" device-group list --db "$LD" --json
json_is "assignment list json" 'any(.[]; .role == "SOC analyst" and .name == "tier1") and all(.[]; .kind == "assignment" and .name == .object.name)' -- "$U" assignment list --db "$LD" --json
expect "assignment list" 0 $'^assignment\tSOC analyst\ttier1$' -- "$U" assignment list --db "$LD"
"$U" directory-role assign 'Security reader' --principal group:soc --db "$LD" >/dev/null 2>&1
json_is "directory-role list json" '([.[] | select(.role == "Security reader") | .principal] | sort == ["dave@contoso.com", "group:soc"]) and all(.[]; .kind == "directoryRole")' -- "$U" directory-role list --db "$LD" --json
expect "directory-role list" 0 $'^directory-role\tSecurity reader\tgroup:soc$' -- "$U" directory-role list --db "$LD"
expect "device-group list takes no id" 2 "usage: urbac device-group" -- "$U" device-group list servers --db "$LD"
for l in "user list" "group list" "role list" "device list" "device-group list" "assignment list" "directory-role list" "key list"; do
  # shellcheck disable=SC2086
  counts "$l: as many objects as lines" -- $l
done
json_is "audit log json" 'length > 0 and all(.[]; (.seq | type) == "number" and .actor != null)' -- "$U" audit log --db "$LD" --json

# ---- make demo: every command it prints runs again as printed, from the
# repository root, with the output and exit status it showed; nothing tracked changes.
before=$(git -C "$SRC" status --porcelain 2>&1)
demo=$(cd "$SRC" && URBAC_DEMO_DIR=$T/demo scripts/demo.sh "$U" examples/contoso.yaml 2>/dev/null)
if [[ $demo == *$'\033'* ]]; then fail=$((fail + 1)); echo "FAIL demo prints colour off a terminal"; else pass=$((pass + 1)); fi
# on a terminal (script(1) gives it one): bold headings, unless NO_COLOR or TERM=dumb
tty_demo() {
  (cd "$SRC" && env TERM=xterm "$@" script -qec "URBAC_DEMO_DIR=$(printf %q "$T/demo") scripts/demo.sh \
    $(printf %q "$U") examples/contoso.yaml" /dev/null)
}
if [[ $(tty_demo) == *$'\033[1m== Validate'* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL demo is not bold on a terminal"; fi
for e in NO_COLOR=1 TERM=dumb; do
  if [[ $(tty_demo "$e") == *$'\033'* ]]; then fail=$((fail + 1)); echo "FAIL demo prints colour on a terminal with $e"; else pass=$((pass + 1)); fi
done
n=0
while IFS= read -r line; do
  cmd=${line#\$ }
  # what the demo showed for this command: its output up to "(exit status N)"
  shown=$(awk -v c="$line" '$0 == c {on = 1; next} on && /^\(exit status [0-9]+\)$/ {print; exit} on {print}' <<<"$demo")
  want=${shown##*(exit status }
  want=${want%)}
  got=$(cd "$SRC" && bash -c "$cmd" 2>/dev/null)
  rc=$?
  n=$((n + 1))
  if [ "$rc" = "$want" ] && [ "$got" = "${shown%$'\n'(exit status*}" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL demo command %s: exit %s (demo showed %s)\n%s\n' "$n" "$rc" "$want" "$cmd"
  fi
done < <(grep '^\$ ' <<<"$demo")
[ "$n" -ge 10 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL demo printed $n commands"; }
expect "a demo command denies (exit 1)" 0 "^\(exit status 1\)$" -- echo "$demo"
after=$(git -C "$SRC" status --porcelain 2>&1)
if [ "$before" = "$after" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL demo changed the tree: $after"; fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
