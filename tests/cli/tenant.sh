#!/usr/bin/env bash
# tests/cli/tenant.sh - tenant files as code (docs/cli.md "fmt", "validate",
# "plan", "apply"): comments and key order kept through fmt, import, activate and
# deactivate; fmt --check's unified diff (checked by patch(1), which applies it);
# files, directories and standard input; saved plans applied exactly, refused when
# the store moved on or the plan was edited; plan's exit codes and JSON objects.
# Every expected text is written out here by hand.
# Usage: tenant.sh path/to/urbac SOURCE_DIR (the store: a SQLite file, or
# $URBAC_TEST_PG_URL, as tests/pg.sh sets it)
set -u
U=$1
S=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DB=${URBAC_TEST_PG_URL:-$T/urbac.db} # a real PostgreSQL under tests/pg.sh
pass=0 fail=0
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$T" || exit 2

# ---- fmt keeps comments and key order
cat > fab.yaml <<'EOF'
# Fabrikam's tenant, kept in Git.
# Reviewed by the SOC leads.

urbac: 1
tenant: fabrikam    # the tenant id
workloads: {mde: legacy}   # mdo and mdi left out: legacy

users:
  # the analysts
  - name: Ann Analyst      # name first: key order is kept
    id: ann
  - id: ben
    enabled: true          # the default, said out loud
  - {id: cat, name: "Cat # not a comment"}
groups:
  - id: soc
    members:
      - ann   # tier 1
      - ben
roles:
  - name: Reader
    description: |
      Reads alerts. # a hash in a block scalar is text
    permissions:
      - Security operations \ Security data \ Security data basics (read)   # the basics
    assignments:
      - name: everyone
        principals: ['group:soc']
        dataSources: [mde]
# the end
EOF
cat > fab.want <<'EOF'
# Fabrikam's tenant, kept in Git.
# Reviewed by the SOC leads.

urbac: 1
tenant: fabrikam    # the tenant id
workloads: {mde: legacy, mdo: legacy, mdi: legacy} # mdo and mdi left out: legacy
users:
# the analysts
- name: Ann Analyst        # name first: key order is kept
  id: ann
- id: ben                  # the default, said out loud
- id: cat
  name: 'Cat # not a comment'
groups:
- id: soc
  members: [ann, ben] # tier 1
roles:
- name: Reader
  description: 'Reads alerts. # a hash in a block scalar is text

    '
  permissions:
  - Security operations \ Security data \ Security data basics (read)       # the basics
  assignments:
  - name: everyone
    principals: ['group:soc']
    dataSources: [mde]
# the end
EOF
cp fab.yaml f.yaml
expect_exactly "fmt says nothing" 0 "" -- "$U" fmt f.yaml
same "fmt keeps comments, key order and blank lines around comments" fab.want f.yaml
cp f.yaml f2.yaml && "$U" fmt f2.yaml
same "fmt is a fixed point with comments" f.yaml f2.yaml
cp fab.yaml mode.yaml && chmod 640 mode.yaml && "$U" fmt mode.yaml
expect_exactly "fmt keeps the file's mode" 0 "640" -- stat -c %a mode.yaml
same "and writes what it formats" fab.want mode.yaml
expect_exactly "fmt --check on its own output" 0 "" -- "$U" fmt --check f.yaml
"$U" import mdi --tenant f.yaml --output v.json > /dev/null
expect_exactly "the values are the file's: no comment in them" 0 $'Cat # not a comment\nReads alerts. # a hash in a block scalar is text' -- jq -r '.users[2].name, .roles[0].description' v.json

# ---- fmt --check: a unified diff, changing nothing
cp fab.yaml c.yaml
"$U" fmt --check c.yaml > c.diff 2> c.err
expect_exactly "fmt --check exits 1 on a change" 0 "urbac: c.yaml is not in canonical form (run 'urbac fmt c.yaml')" -- cat c.err
same "fmt --check changes nothing" fab.yaml c.yaml
expect_exactly "fmt --check's diff headers" 0 $'--- c.yaml.orig\n+++ c.yaml' -- head -2 c.diff
expect "fmt --check's hunks" 0 '^@@ -[0-9]+,[0-9]+ \+[0-9]+,[0-9]+ @@$' -- sed -n 3p c.diff
expect "a removed line" 0 '^-  - \{id: cat, name: "Cat # not a comment"\}$' -- cat c.diff
patch -s c.yaml c.diff
same "patch(1) applies the diff to what fmt writes" fab.want c.yaml

# ---- files, directories and standard input
mkdir -p dir/sub dir/.hidden
cp fab.want dir/a.yaml
cp fab.yaml dir/sub/b.yml
printf '{"urbac": 1, "tenant": "j",\n "users": [{"id": "a"}]}\n' > dir/sub/c.json
printf 'not: [a tenant\n' > dir/.hidden/x.yaml
printf 'not a tenant either\n' > dir/notes.txt
"$U" fmt --check dir > dir.diff 2> dir.err
expect "fmt --check DIR: exit 1" 1 "." -- "$U" fmt --check dir
expect_exactly "fmt --check DIR: the files not canonical" 0 $'+++ dir/sub/b.yml\n+++ dir/sub/c.json' -- grep '^+++' dir.diff
same "fmt --check DIR changes nothing" fab.yaml dir/sub/b.yml
expect_exactly "fmt DIR" 0 "" -- "$U" fmt dir/
same "fmt DIR rewrites the files below" fab.want dir/sub/b.yml
expect_exactly "fmt json keeps key order (a key the file lacks after)" 0 $'{\n  "urbac": 1,\n  "tenant": "j",\n  "users": [\n    {\n      "id": "a"\n    }\n  ],\n  "workloads": {\n    "mde": "legacy",\n    "mdo": "legacy",\n    "mdi": "legacy"\n  }\n}' -- cat dir/sub/c.json
expect_exactly "fmt --check DIR after fmt" 0 "" -- "$U" fmt --check dir
expect "validate DIR" 0 "dir/sub/c.json: valid \(tenant j" -- "$U" validate dir
expect "validate --json DIR: an array" 0 "^3$" -- sh -c "'$U' validate --json dir | jq 'map(select(.valid)) | length'"
expect "validate --json FILE: an object" 0 "^true$" -- sh -c "'$U' validate --json dir/a.yaml | jq .valid"
printf 'urbac: 1\ntenant: t\nusers:\n- id: a\n- id: a\n' > dir/sub/bad.yaml
expect "validate DIR names the bad file" 2 "dir/sub/bad.yaml:5:3: duplicate user id 'a'" -- "$U" validate dir
expect "validate DIR says every file" 2 "dir/sub/c.json: valid" -- "$U" validate dir
expect "validate --json DIR with a bad file" 2 '"valid": false' -- "$U" validate --json dir
expect "validate -" 0 "^<stdin>: valid \(tenant fabrikam: 3 users" -- sh -c "'$U' validate - < fab.yaml"
expect "validate - names stdin in errors" 2 "^urbac: <stdin>:5:3: duplicate user id 'a'" -- sh -c "'$U' validate - < dir/sub/bad.yaml"
expect "validate - - refused" 2 "standard input \(-\) given twice" -- "$U" validate - -
expect "validate nothing" 2 "validate takes tenant files, directories or -" -- "$U" validate
expect "validate a missing file" 2 "nope.yaml: cannot open" -- "$U" validate nope.yaml
mkfifo fifo.yaml # refused at once by the library too, not waited on (the old code hung)
expect_exactly "--tenant FIFO" 2 "urbac: fifo.yaml: not a regular file" -- timeout 10 "$U" effective --tenant fifo.yaml --user a
expect_exactly "fmt - prints the file formatted" 0 "$(cat fab.want)" -- sh -c "'$U' fmt - < fab.yaml"
expect "fmt - reads JSON" 0 '^  "tenant": "j",$' -- sh -c "printf '{\"tenant\": \"j\", \"urbac\": 1}' | '$U' fmt -"
expect "fmt --check - : a diff" 1 '^\+\+\+ <stdin>$' -- sh -c "'$U' fmt --check - < fab.yaml"
expect_exactly "fmt --check - on canonical input" 0 "" -- sh -c "'$U' fmt --check - < fab.want"

# ---- import, activate and deactivate keep comments and key order
sed -e '1i # Litware, mid-migration: see the change request.' \
    -e 's/^workloads: .*/&   # all legacy today/' \
    -e 's/^- id: ana@litware.com$/&   # the first analyst/' \
    -e 's/^legacy:$/\n# the legacy configuration, kept for rollback\n&/' \
    -e '/^- id: ben@litware.com$/{N;s/^- id: \(.*\)\n  name: \(.*\)$/- name: \2\n  id: \1/}' \
    "$S/examples/litware.yaml" > lw.yaml
grep -c '#' lw.yaml > lw.count
expect "the test file has its comments" 0 "^4$" -- cat lw.count
expect "import keeps comments" 0 "written to lw.yaml" -- "$U" import mde --tenant lw.yaml
expect_exactly "import: the head" 0 $'# Litware, mid-migration: see the change request.\nurbac: 1\ntenant: litware\nworkloads: {mde: legacy, mdo: legacy, mdi: legacy}   # all legacy today\nusers:\n- id: ana@litware.com   # the first analyst\n- name: Ben Responder' -- sed -n '1,5p;/^- id: ana/p;/^- name: Ben/p' lw.yaml
expect_exactly "import: a comment stays with its key" 0 $'\n# the legacy configuration, kept for rollback\nlegacy:' -- grep -B2 '^legacy:' lw.yaml
expect "import: the new roles before it" 0 "^roles:$" -- sed -n '/^roles:/,/^legacy:/p' lw.yaml
expect "activate keeps comments" 0 "mde is now unified" -- "$U" activate mde --tenant lw.yaml
expect_exactly "activate: the changed line keeps its comment, in its column" 0 "workloads: {mde: unified, mdo: legacy, mdi: legacy}  # all legacy today" -- grep '^workloads' lw.yaml
expect "deactivate keeps comments" 0 "mde is now legacy" -- "$U" deactivate mde --tenant lw.yaml
expect_exactly "deactivate: every comment is there" 0 "4" -- grep -c '#' lw.yaml
expect_exactly "import --output keeps the source's comments" 0 "# Litware, mid-migration: see the change request." -- sh -c "'$U' import mdo --tenant lw.yaml --output out.yaml >/dev/null && head -1 out.yaml"
expect_exactly "and a fmt after them changes nothing" 0 "" -- "$U" fmt --check lw.yaml out.yaml

# ---- plan and apply: saved plans
"$U" init --db "$DB" > /dev/null
cp "$S/examples/contoso.yaml" c1.yaml
expect "plan --detailed-exitcode: 2, changes pending" 2 "23 to create" -- "$U" plan -f c1.yaml --db "$DB" --detailed-exitcode
expect "plan -out" 0 "plan saved to p1.json: 'urbac apply p1.json' applies exactly this" -- "$U" plan -f c1.yaml --db "$DB" -out p1.json
expect_exactly "the saved plan: format, revision" 0 $'urbac-plan 1 contoso 0 23' -- sh -c "jq -r '\"\\(.format) \\(.version) \\(.tenant) \\(.revision) \\(.changes | length)\"' p1.json"
expect_exactly "before and after are objects" 0 $'null object' -- sh -c "jq -r '[.changes[] | (.before | type), (.after | type)] | unique | join(\" \")' p1.json"
expect_exactly "plan --json: objects too" 0 "Alice Example" -- sh -c "'$U' plan -f c1.yaml --db '$DB' --json | jq -r '.changes[] | select(.id == \"alice@contoso.com\") | .after.name'"
expect_exactly "plan --json holds no planned tenant" 0 "false" -- sh -c "'$U' plan -f c1.yaml --db '$DB' --json | jq 'has(\"planned\")'"
sed -i 's/Alice Example/Alice Changed/' c1.yaml # the file moves on; the plan does not
expect "apply PLAN" 0 "tenant contoso: applied, now at revision 1" -- "$U" apply p1.json --db "$DB" --actor tester
expect "apply PLAN applied the plan, not the file" 0 "name: Alice Example" -- "$U" dump --db "$DB"
expect "apply PLAN again: the store moved on" 1 "apply refused: p1.json was planned against revision 0 of tenant contoso, which is now at revision 1: the store moved on" -- "$U" apply p1.json --db "$DB"
expect "plan --detailed-exitcode: 0, nothing pending" 0 "0 to create, 0 to change, 0 to delete" -- "$U" plan -f "$S/examples/contoso.yaml" --db "$DB" --detailed-exitcode
expect "plan --detailed-exitcode: 1, an error" 1 "cannot open" -- "$U" plan -f nope.yaml --db "$DB" --detailed-exitcode
expect "plan: 2 on an error without it" 2 "cannot open" -- "$U" plan -f nope.yaml --db "$DB"
expect "plan --out: one change" 0 "^~ user alice@contoso.com$" -- "$U" plan -f c1.yaml --db "$DB" --out p2.json
expect_exactly "the change's before and after" 0 "Alice Example -> Alice Changed" -- sh -c "jq -r '.changes[0] | \"\\(.before.name) -> \\(.after.name)\"' p2.json"
jq '.changes[0].after.name = "Alice Edited"' p2.json > p2-edited.json
expect "an edited plan is refused" 2 "the changes in p2-edited.json are not what its planned tenant makes at revision 1 \(was the plan edited\?\)" -- "$U" apply p2-edited.json --db "$DB"
sed 's/Alice Example/Alice Meanwhile/' "$S/examples/contoso.yaml" > c2.yaml
expect "a write between plan and apply" 0 "now at revision 2" -- "$U" apply -f c2.yaml --db "$DB"
expect "apply PLAN after it: refused" 1 "planned against revision 1 of tenant contoso, which is now at revision 2" -- "$U" apply p2.json --db "$DB"
expect "the refused plan wrote nothing" 0 "name: Alice Meanwhile" -- "$U" dump --db "$DB"
expect "plan again, apply it" 0 "now at revision 3" -- sh -c "'$U' plan -f c1.yaml --db '$DB' -out p3.json >/dev/null && '$U' apply p3.json --db '$DB' --json | jq -r '\"now at revision \\(.revision)\"'"
expect "the audit log names the plan" 0 "urbac apply p3.json" -- "$U" audit log --db "$DB"
expect "apply with a plan and -f" 2 "apply takes a saved plan \(from 'plan -out PLAN'\) or -f FILE, one of them" -- "$U" apply p3.json -f c1.yaml --db "$DB"
expect "apply with nothing" 2 "apply takes a saved plan" -- "$U" apply --db "$DB"
expect "apply PLAN --if-revision" 2 "a saved plan carries its revision" -- "$U" apply p3.json --if-revision 3 --db "$DB"
printf '{"format": "urbac-plan", "version": 9}' > p9.json
expect "a plan of another version" 2 "p9.json: not a saved plan of this urbac" -- "$U" apply p9.json --db "$DB"
printf 'urbac: 1\n' > notjson.json
expect "not JSON" 2 "notjson.json:1:5: not a saved plan" -- "$U" apply notjson.json --db "$DB"
jq '.planned.users[0].id = "x y"' p3.json | jq '.planned.groups[0].members = ["nobody"]' > bad-plan.json
expect "a plan whose tenant is invalid" 2 "bad-plan.json \(planned\):[0-9]+:[0-9]+: .*nobody" -- "$U" apply bad-plan.json --db "$DB"
# ---- users and groups the identity provider manages: apply keeps them unless --prune-provisioned
cat > prov.yaml <<'YAML'
urbac: 1
tenant: prov
users: [{id: a}, {id: s1, managedBy: scim, externalId: 0b9f0000-aaaa-4bbb-8ccc-000000000001}, {id: b}]
groups: [{id: sg, managedBy: scim, members: [s1, b]}]
YAML
printf 'urbac: 1\ntenant: prov\nusers: [{id: a}, {id: b}]\n' > prov2.yaml
printf 'urbac: 1\ntenant: prov\nusers: [{id: a}]\n' > prov3.yaml
expect "apply provisioned" 0 "applied, now at revision 1" -- "$U" apply -f prov.yaml --db "$DB"
expect "plan keeps what scim manages" 0 "^= user s1 kept \(managed by scim; --prune-provisioned deletes it\)" -- "$U" plan -f prov2.yaml --db "$DB"
expect "plan deletes nothing of it" 0 "0 to create, 0 to change, 0 to delete" -- "$U" plan -f prov2.yaml --db "$DB"
expect "plan --json lists it as kept" 0 '"kind": "group",' -- "$U" plan --json -f prov2.yaml --db "$DB"
expect "plan --prune-provisioned deletes it" 0 "^- group sg$" -- "$U" plan -f prov2.yaml --prune-provisioned --db "$DB"
expect "a kept group still names a user the file deletes" 2 "group 'sg' names unknown user 'b'" -- "$U" apply -f prov3.yaml --db "$DB"
expect "apply keeps them" 0 "tenant prov is already as the file says" -- "$U" apply -f prov2.yaml --db "$DB"
expect "still there" 0 "managedBy: scim" -- "$U" dump --tenant-id prov --db "$DB"
expect "apply --prune-provisioned deletes them" 0 "applied, now at revision 2" -- "$U" apply -f prov3.yaml --prune-provisioned --db "$DB"
expect_exactly "gone" 0 "$(printf 'urbac: 1\ntenant: prov\nworkloads: {mde: legacy, mdo: legacy, mdi: legacy}\nusers:\n- id: a')" -- "$U" dump --tenant-id prov --db "$DB"

echo "cli tenant files: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
