#!/usr/bin/env bash
# tests/cli/graph.sh - Microsoft Graph in and out (docs/interop.md): import-graph
# of the documentation's bodies (tests/fixtures/graph/docs) and of a generated
# paged export (urbac_gen_graph), what it builds (asked through check, who-can
# and the tenant file), what it leaves out (file and JSON path), idempotence, a
# round trip through export --format graph, --strict, files it cannot read, and
# the store (--db). Expected values are written out here by hand, or counted
# from the generated files with jq, independently of urbac.
# Usage: graph.sh path/to/urbac path/to/urbac_gen_graph SOURCE_DIR
set -u
U=$1
GEN=$2
S=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DB=${URBAC_TEST_PG_URL:-$T/urbac.db}
pass=0 fail=0
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$T" || exit 2
F=$S/tests/fixtures/graph/docs
ADELE=87d349ed-44d7-43e1-9a83-5f2406dee5bd
MEGAN=8e811502-ebda-4782-8f81-071d17f0f892
SOC=30e3492f-964c-4d73-88c6-986a53c6e2a0
HR=02bd9fd6-8f93-4758-87c3-1fb73740a315

# ---- the documentation's bodies, into a new tenant
expect "a new tenant needs an id" 2 "a new tenant needs --tenant-id" -- "$U" import-graph "$F" -o new.yaml
expect "import-graph of the docs fixtures" 0 "users: 3 created, 0 updated, 0 unchanged" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml
expect "groups and roles made" 0 "^groups: 2 created.*
roles: 2 created" -- "$U" import-graph "$F" --tenant-id contoso -o t.yaml
expect "each file's kind" 0 "defenderRoleAssignments +.*/defender-roleAssignments-list.json" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "members files by the group in their name" 0 "groupMembers +.*/group-members-$SOC.json" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "a device member is left out, located" 0 \
  "group-members-$HR.json: \\\$.value\[1\]: member 'lap-042' is a device" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "a directory role urbac does not model" 0 \
  "directory-roleAssignments.json: \\\$.value\[2\]: directory role User Administrator is not one urbac models" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "an administrative unit scope" 0 \
  "directory-roleAssignments.json: \\\$.value\[3\]: directory scope '/administrativeUnits/" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "the CloudSet assignment is left out whole" 0 \
  "defender-roleAssignments-list.json: \\\$.value\[2\].appScopeIds\[1\]: scope '/CloudSet/123' is not one urbac models: the assignment is left out" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
expect "a PATCH body names no role" 0 "defender-roleDefinitions-update.request.json: \\\$: a role definition needs a displayName" -- \
  "$U" import-graph "$F" --tenant-id contoso -o t.yaml --dry-run
"$U" import-graph "$F" --tenant-id contoso -o t.yaml > /dev/null
expect "a new tenant decides with today's catalog" 0 "^catalog: current$" -- cat t.yaml
expect "users by UPN, with their object ids" 0 "id: AdeleV@contoso.com
  name: Adele Vance
  externalId: $ADELE
  directoryRoles: \[Security reader\]" -- cat t.yaml
expect "a disabled user" 0 "name: Conf Room Adams
  enabled: false" -- cat t.yaml
expect "groups by object id, nested" 0 "id: $SOC
  name: SOC analysts
  externalId: $SOC
  members: \[MeganB@contoso.com, 'group:$HR'\]
  directoryRoles: \[Security administrator\]" -- cat t.yaml
expect "a role's actions in canonical form" 0 "Security operations \\\\ Security data \\\\ Alerts \(manage\)" -- cat t.yaml
expect "an assignment over all data sources" 0 "name: SOC tier 1 everywhere
    principals: \['group:$SOC'\]
    dataSources: all" -- cat t.yaml
expect "an assignment read twice is one" 1 "^0$" -- grep -c "Endpoint and mail responders (2)" t.yaml
expect "the documentation's group action, kept as written" 0 "name: Role 1
  description: Role 1 description
  permissions:
  - microsoft.xdr/securityposture/read" -- cat t.yaml
expect "and granting every posture read" 0 "^allow$" -- \
  "$U" check --tenant t.yaml --user AdeleV@contoso.com --permission 'Vulnerability management (read)' --workload mde
expect "Adele through HR Taskforce in SOC analysts" 0 "^allow$" -- \
  "$U" check --tenant t.yaml --user AdeleV@contoso.com --permission 'Alerts (manage)' --workload mdi
expect "Adele by her object id" 0 "^allow$" -- \
  "$U" check --tenant t.yaml --user "$ADELE" --permission 'Alerts (manage)' --workload mdi
expect "the disabled room has nothing" 1 "^deny$" -- \
  "$U" check --tenant t.yaml --user Adams@contoso.com --permission 'Security data basics (read)' --workload mde
expect "who can manage alerts on mdo" 0 "MeganB@contoso.com" -- \
  "$U" who-can --tenant t.yaml --permission 'Alerts (manage)' --workload mdo

# ---- idempotent: the same files again change nothing
cp t.yaml t0.yaml
expect "a second import changes nothing" 0 "users: 0 created, 0 updated, 3 unchanged
groups: 0 created, 0 updated, 2 unchanged
roles: 0 created, 0 updated, 2 unchanged" -- "$U" import-graph "$F" --tenant t.yaml
expect "and writes nothing" 0 "nothing changed, nothing written" -- "$U" import-graph "$F" --tenant t.yaml
same "the tenant file is as it was" t.yaml t0.yaml

# ---- a change in Entra ID comes in as an update
jq '.value[0].displayName = "Adele V." | .value[1].accountEnabled = false' "$F/users.json" > users.json
expect "two users updated" 0 "users: 0 created, 2 updated, 1 unchanged" -- \
  "$U" import-graph users.json --tenant t.yaml -o t2.yaml
expect "renamed and disabled" 0 "name: Adele V\..*name: Megan Bowen
  enabled: false" -- tr '\n' ' ' < t2.yaml
# ---- names as the tenant format carries them: refused where a file would be
jq '.value[0].displayName = "Adele \u007f V."' "$F/users.json" > del.json
expect "a name holding DEL is refused for a new tenant, as in a tenant file" 2 \
  "control characters are not allowed" -- "$U" import-graph del.json --tenant-id del -o del.yaml
jq '.value[0].displayName = "Adèle 漢字 \ud83d\ude00 \"V\"."' "$F/users.json" > utf8.json
"$U" import-graph utf8.json --tenant-id utf8 -o utf8-tenant.json > /dev/null
same "a name in other scripts, with quotes, comes in as written" \
  <(jq -r '.value[] | select(.userPrincipalName == "AdeleV@contoso.com") | .displayName' utf8.json) \
  <(jq -r '.users[] | select(.id == "AdeleV@contoso.com") | .name' utf8-tenant.json)
expect "and that name is there" 0 'Adèle 漢字' -- cat utf8-tenant.json
jq '.value = [.value[0]]' "$F/group-members-$SOC.json" > "members-$SOC.json"
expect "members files replace a group's members" 0 "groups: 0 created, 1 updated, 1 unchanged" -- \
  "$U" import-graph "members-$SOC.json" --tenant t.yaml -o t3.yaml
expect "so Adele lost the role" 1 "^deny$" -- \
  "$U" check --tenant t3.yaml --user AdeleV@contoso.com --permission 'Alerts (manage)' --workload mdi

# ---- a round trip through the Graph requests changes nothing
"$U" export --tenant t.yaml --format graph -o export.json
expect "export --format graph" 0 '"url": "/roleManagement/defender/roleDefinitions"' -- cat export.json
expect "principals as object ids" 0 "^\[\"$MEGAN\"\]$" -- \
  jq -c '.requests[] | select(.body.displayName == "Endpoint and mail responders") | .body.principalIds' export.json
expect "a group's object id" 0 "^\[\"$SOC\"\]$" -- \
  jq -c '.requests[] | select(.body.displayName == "SOC tier 1 everywhere") | .body.principalIds' export.json
expect "assignments name their role's request" 0 '^"\{role-2\}" \["role-2"\] \["/"\]$' -- \
  jq -r '.requests[] | select(.body.displayName == "SOC tier 1 everywhere") | "\(.body.roleDefinitionId | tojson) \(.dependsOn | tojson) \(.body.appScopeIds | tojson)"' export.json
expect "actions as Graph ids" 0 '"microsoft.xdr/[a-z/]+/alerts/manage"' -- cat export.json
expect "nothing unresolved" 0 '^0$' -- jq '.unresolved | length' export.json
expect "import of the export changes nothing" 0 "roles: 0 created, 0 updated, 2 unchanged
nothing changed, nothing written" -- "$U" import-graph export.json --tenant t.yaml
same "round trip: the tenant file is as it was" t.yaml t0.yaml
"$U" import-graph export.json "$F/users.json" "$F/groups.json" --tenant-id again -o again.yaml > /dev/null
"$U" export --tenant again.yaml --format graph -o export2.json
expect "export, import, export: the same requests" 0 "^same$" -- \
  sh -c 'jq -S "del(.tenant)" export.json > a.json; jq -S "del(.tenant)" export2.json > b.json; cmp -s a.json b.json && echo same'

# ---- --strict, and files it cannot read
expect "--strict refuses what would be left out" 2 "member 'lap-042' is a device.*\(--strict\)" -- \
  "$U" import-graph "$F" --tenant-id contoso -o strict.yaml --strict
expect "--strict wrote nothing" 0 "^absent$" -- sh -c 'test -e strict.yaml || echo absent'
expect "--strict passes a clean export" 0 "written to" -- \
  "$U" import-graph "$F/users.json" "$F/groups.json" --tenant-id c -o clean.yaml --strict
echo '{"hello": "world"}' > other.json
expect "a file of no known kind is named" 0 "other.json: \\\$: not a Graph response urbac reads \(@odata.context missing\)" -- \
  "$U" import-graph other.json "$F/users.json" --tenant-id c -o o.yaml
printf '{"value": [1,\n  }' > broken.json
expect "a file that is not JSON: refused, located" 2 "broken.json:2:3: not JSON" -- \
  "$U" import-graph broken.json --tenant-id c -o b.yaml
printf '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": [1,\n  }' > broken2.json
expect "not JSON past its @odata.context (parsed in its turn): refused, located" 2 "broken2.json:2:3: not JSON" -- \
  "$U" import-graph "$F/groups.json" broken2.json --tenant-id c -o b.yaml
expect "and nothing written" 0 "^absent$" -- sh -c 'test -e b.yaml || echo absent'
jq '.value' "$F/group-members-$SOC.json" | jq '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value: .}' > members.json
expect "members of an unnamed group" 0 "members.json: \\\$: group members, but of which group\?" -- \
  "$U" import-graph members.json "$F/users.json" --tenant-id c -o m.yaml
expect "members of a group not imported" 0 "the members of group $SOC, which is not among the groups" -- \
  "$U" import-graph "$F/group-members-$SOC.json" "$F/users.json" --tenant-id c -o m.yaml
expect "--json report" 0 '"code": "EDANGLING"' -- \
  "$U" import-graph "$F/group-members-$SOC.json" "$F/users.json" --tenant-id c -o m.yaml --json

# ---- device groups: kept when the tenant has them, else the assignment is left out
cat > dg.yaml <<EOF
urbac: 1
tenant: dg
workloads: {mde: unified}
deviceGroups:
  - id: servers
    name: Servers
    rank: 1
    rules: {name: {startsWith: [srv-]}}
EOF
cat > dg-roles.json <<EOF
{"@odata.context": "https://graph.microsoft.com/beta/\$metadata#roleManagement/defender/roleDefinitions",
 "value": [{"id": "r1", "displayName": "Responders",
            "rolePermissions": [{"allowedResourceActions": ["microsoft.xdr/secops/securitydata/response/manage"]}]}]}
EOF
cat > dg-asg.json <<EOF
{"@odata.context": "https://graph.microsoft.com/beta/\$metadata#roleManagement/defender/roleAssignments",
 "value": [{"id": "a1", "displayName": "servers only", "roleDefinitionId": "r1", "principalIds": ["$ADELE"],
            "appScopeIds": ["Mde", "/DeviceGroups/servers"]},
           {"id": "a2", "displayName": "unknown group", "roleDefinitionId": "r1", "principalIds": ["$ADELE"],
            "appScopeIds": ["/DeviceGroups/42"]},
           {"id": "a3", "displayName": "cloud and exposure", "roleDefinitionId": "r1", "principalIds": ["$ADELE"],
            "appScopeIds": ["Mda", "Mdc", "SecureScoreExternal"]}]}
EOF
expect "an unknown device group leaves its assignment out" 0 \
  "dg-asg.json: \\\$.value\[1\].appScopeIds\[0\]: scope '/DeviceGroups/42' is no device group of the tenant" -- \
  "$U" import-graph dg-roles.json dg-asg.json "$F/users.json" --tenant dg.yaml
expect "a known one scopes it" 0 "name: servers only
    principals: \[AdeleV@contoso.com\]
    dataSources: \[mde\]
    deviceGroups: \[servers\]" -- cat dg.yaml
expect "and exports as an appScopeId" 0 '^\["Mde","/DeviceGroups/servers"\]$' -- \
  sh -c "\"$U\" export --tenant dg.yaml --format graph | jq -c '.requests[1].body.appScopeIds'"
expect "the data sources beyond the seeds' three" 0 "name: cloud and exposure
    principals: \[AdeleV@contoso.com\]
    dataSources: \[mda, mdc, exposure\]" -- cat dg.yaml
expect "and back to their appScopeIds" 0 '^\["Mda","Mdc","SecureScoreExternal"\]$' -- \
  sh -c "\"$U\" export --tenant dg.yaml --format graph | jq -c '.requests[2].body.appScopeIds'"

# ---- an assignment's object id that names nothing imported: kept pending, granting once the group comes
NIGHT=6F1D2C3B-4A5E-4F60-8172-93A4B5C6D7E8
night=$(echo "$NIGHT" | tr 'A-F' 'a-f')
cat > pend-asg.json <<EOF
{"@odata.context": "https://graph.microsoft.com/beta/\$metadata#roleManagement/defender/roleAssignments",
 "value": [{"id": "p1", "displayName": "night shift", "roleDefinitionId": "b5c08161-a7af-481c-ace2-a20a69a48fb1",
            "principalIds": ["$NIGHT", "not-an-object-id"], "appScopeIds": ["Mde"]}]}
EOF
pend=(pend-asg.json "$F/defender-roleDefinitions-list.json" "$F/users.json" --tenant-id p)
expect "an unknown object id is kept pending, located" 0 "pending \(1\), kept.*
  pend-asg.json: \\\$.value\[0\].principalIds\[0\]: principal $NIGHT is among no users and groups.*kept as 'group:$night', pending" -- \
  "$U" import-graph "${pend[@]}" -o p.yaml
expect "a name that is no object id is still left out" 0 \
  "principalIds\[1\]: principal not-an-object-id is not an object id.*left out of the assignment" -- \
  "$U" import-graph "${pend[@]}" -o p.yaml --dry-run
expect "--json lists it under pending" 0 '^\$.value\[0\].principalIds\[0\] EDANGLING$' -- \
  sh -c '"$0" import-graph "$@" -o x.yaml --json --dry-run | jq -r ".pending[] | \"\(.path) \(.code)\""' "$U" "${pend[@]}"
expect "in the tenant as the group it will be" 0 "name: night shift
    principals: \['group:$night'\]
    dataSources: \[mde\]" -- cat p.yaml
expect "valid, with a warning" 0 "names group '$night', which no group has as its id or externalId yet" -- \
  "$U" validate p.yaml
expect "granting nothing yet" 1 "^deny$" -- \
  "$U" check --tenant p.yaml --user AdeleV@contoso.com --permission 'Alerts (manage)' --workload mde
"$U" export --tenant p.yaml --format graph -o p-export.json
expect "exported as the object id it is" 0 "^\[\"$night\"\]$" -- \
  jq -c '.requests[] | select(.body.displayName == "night shift") | .body.principalIds' p-export.json
expect "not as unresolved" 0 '^0$' -- jq '.unresolved | length' p-export.json
cat > pend-groups.json <<EOF
{"@odata.context": "https://graph.microsoft.com/v1.0/\$metadata#groups(id,displayName)",
 "value": [{"id": "$NIGHT", "displayName": "Night shift"}]}
EOF
cat > "pend-members-$NIGHT.json" <<EOF
{"@odata.context": "https://graph.microsoft.com/v1.0/\$metadata#directoryObjects",
 "value": [{"@odata.type": "#microsoft.graph.user", "id": "$ADELE", "displayName": "Adele Vance"}]}
EOF
expect "the group comes later" 0 "groups: 1 created" -- \
  "$U" import-graph pend-groups.json "pend-members-$NIGHT.json" --tenant p.yaml
expect "and the assignment grants" 0 "^allow$" -- \
  "$U" check --tenant p.yaml --user AdeleV@contoso.com --permission 'Alerts (manage)' --workload mde
expect "--strict refuses a pending principal" 2 "principal $NIGHT is among no users.*\(--strict\)" -- \
  "$U" import-graph "${pend[@]}" -o strict-p.yaml --strict

# ---- a generated export, paged
"$GEN" -u 2500 -g 300 -r 40 -s 7 big > /dev/null
expect "pages link to the next" 0 'skiptoken=page3' -- jq -r '.["@odata.nextLink"]' big/users-0002.json
expect "the last page links to nothing" 0 '^null$' -- jq -r '.["@odata.nextLink"]' big/users-0003.json
expect "every page of every list" 0 "users: 2500 created, 0 updated, 0 unchanged
groups: 300 created, 0 updated, 0 unchanged
roles: 40 created" -- "$U" import-graph big --tenant-id big -o big.yaml
g0=$(jq -r '.value[0].id' big/groups-0001.json)
want=$(cat big/group-members-"$g0"-*.json | jq -s '[.[].value[]] | length')
got=$(awk -v g="$g0" '$0 ~ "- id: " g {on = 1; next} on && /^  members:/ {print; exit}' big.yaml |
  tr ',' '\n' | grep -c .)
expect "a group's members from all its pages ($want, counted by jq)" 0 "^$want$" -- echo "$got"
expect "more than one page of members" 0 "^[2-9]" -- sh -c "ls big/group-members-$g0-*.json | wc -l"
expect "the same export again changes nothing" 0 "users: 0 created, 0 updated, 2500 unchanged" -- \
  "$U" import-graph big --tenant big.yaml
# a damaged file among hundreds, parsed in its phase: named and located, nothing written
cp -r big big-bad
bad=$(ls big-bad/group-members-*.json | sed -n 150p)
printf '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",\n "value": [}\n' > "$bad"
expect "a damaged file among hundreds, named" 2 "$(basename "$bad"):2:[0-9]+: not JSON" -- \
  "$U" import-graph big-bad --tenant-id big -o big-bad.yaml
expect "and nothing written" 0 "^none$" -- sh -c '[ -e big-bad.yaml ] && echo written || echo none'
jq '.value[120].userPrincipalName = null' big/users-0001.json > users-120.json
expect "an item's path past one digit" 0 "users-120.json: \\\$.value\[120\]: a user needs an id and a userPrincipalName" -- \
  "$U" import-graph users-120.json --tenant-id u -o u120.yaml

# ---- past 20,000 objects: the trees made on two threads (io/graph_import.c's assemble()), and
# the store's audit chain on its own (store/store.c): checked by the update path, which compares
# every object with its own reading of the export, and by the chain's own verification
"$GEN" -u 20100 -g 40 -r 5 -s 9 huge > /dev/null
expect "a new tenant of 20,100 users" 0 "users: 20100 created" -- \
  "$U" import-graph huge --tenant-id huge -o huge.yaml
expect "the same export again changes nothing" 0 "users: 0 created, 0 updated, 20100 unchanged
groups: 0 created, 0 updated, 40 unchanged
roles: 0 created, 0 updated, 5 unchanged" -- "$U" import-graph huge --tenant huge.yaml
"$U" init --db huge.db > /dev/null
expect "into a store" 0 "written to the store, revision 1" -- \
  "$U" import-graph huge --tenant-id huge --db huge.db
expect "its audit chain verifies" 0 "20147 records, chain intact" -- "$U" audit verify --db huge.db --tenant-id huge
expect "and again changes nothing" 0 "nothing changed, nothing written" -- "$U" import-graph huge --db huge.db

# ---- the store
"$U" init --db "$DB" > /dev/null
"$U" apply -f t0.yaml --db "$DB" --actor tester > /dev/null
expect "into the store" 0 "written to the store, revision 2" -- \
  "$U" import-graph users.json --db "$DB" --actor tester
expect "again: nothing written" 0 "nothing changed, nothing written" -- "$U" import-graph users.json --db "$DB"
expect "audited as import-graph" 0 "urbac import-graph" -- "$U" audit log --db "$DB"
expect "a tenant the store does not hold yet: made there" 0 "users: 3 created.*
.*
.*written to the store, revision 1" -- "$U" import-graph "$F" --db "$DB" --tenant-id fresh
expect "with every object" 0 "^allow$" -- "$U" check --db "$DB" --tenant-id fresh --user AdeleV@contoso.com \
  --permission 'Alerts (manage)' --workload mdi
expect "the same files again: nothing written" 0 "users: 0 created, 0 updated, 3 unchanged" -- \
  "$U" import-graph "$F" --db "$DB" --tenant-id fresh

echo "cli graph: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
