#!/usr/bin/env bash
# tests/docs/interop.sh - docs/interop.md's commands run as written: every ```sh
# block, in order, in one bash, in an empty folder, with `urbac` the binary under
# test and `az` a stand-in that answers Graph's GETs from a generated export
# (urbac_gen_graph: 2,000 users, 200 groups, 30 roles, paged) and the
# documentation's directory-role bodies, and answers POSTs with a new id; every
# request it gets is logged. Then what the page says happened is checked: each
# list saved page by page, the tenant built, the what-if's one new user, and
# the change replayed as two POSTs, the assignment naming the role the first made
# and the user by object id (both worked out from the generated files with jq).
# Usage: interop.sh path/to/urbac path/to/urbac_gen_graph SOURCE_DIR
set -u
U=$(realpath "$1")
GEN=$(realpath "$2")
S=$(realpath "$3")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/work"
"$GEN" -u 2000 -g 200 -r 30 -s 42 "$T/data" > /dev/null
ln -s "$U" "$T/bin/urbac"
cat > "$T/bin/az" <<'AZ'
#!/usr/bin/env bash
# a stand-in for `az rest`: GETs from $AZ_DATA (and $AZ_DOCS), POSTs answered with a new id
m='' u='' b=''
[ "${1:-}" = rest ] && shift || { echo "az stand-in: only 'az rest'" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --method) m=$2; shift 2 ;;
    --url) u=$2; shift 2 ;;
    --body) b=$2; shift 2 ;;
    *) echo "az stand-in: unexpected '$1'" >&2; exit 2 ;;
  esac
done
printf '%s %s %s\n' "$m" "$u" "$b" >> "$AZ_LOG"
case $m in
  get)
    path=${u#https://graph.microsoft.com/}; path=${path#v1.0/}; path=${path#beta/}
    q=${path#*\?}; path=${path%%\?*}
    page=1; [[ $q =~ skiptoken=page([0-9]+) ]] && page=${BASH_REMATCH[1]}
    case $path in
      users | groups) f=$path ;;
      groups/*/members) g=${path#groups/}; f=group-members-${g%/members} ;;
      roleManagement/defender/*) f=defender-${path##*/} ;;
      roleManagement/directory/*) cat "$AZ_DOCS/directory-${path##*/}.json"; exit 0 ;;
      *) echo "az stand-in: no such list: $path" >&2; exit 2 ;;
    esac
    file=$(printf '%s/%s-%04d.json' "$AZ_DATA" "$f" "$page")
    if [ -f "$file" ]; then cat "$file"; else
      echo '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": []}'; fi ;;
  post) n=$(grep -c '^post ' "$AZ_LOG"); jq -c --arg id "new-$n" '. + {id: $id}' <<<"$b" ;;
  patch) ;;
  *) echo "az stand-in: method '$m'" >&2; exit 2 ;;
esac
AZ
chmod +x "$T/bin/az"

awk '/^```sh$/ {on = 1; next} on && /^```$/ {on = 0; next} on' "$S/docs/interop.md" > "$T/script.sh"
[ "$(grep -c . "$T/script.sh")" -ge 40 ] && ok || bad "docs/interop.md has too few sh lines: $(wc -l < "$T/script.sh")"
grep -qE '(^|[^-])\burbac-?[a-z]* ' "$T/script.sh" && ok || bad "no urbac command in docs/interop.md"
(cd "$T/work" && PATH="$T/bin:$PATH" AZ_DATA="$T/data" AZ_DOCS="$S/tests/fixtures/graph/docs" AZ_LOG="$T/az.log" \
  bash -eo pipefail "$T/script.sh" > "$T/out.txt" 2>&1) && ok || { bad "docs/interop.md's commands failed:"; tail -20 "$T/out.txt"; }
W=$T/work
# every page of every list was saved
[ "$(ls "$W"/graph/users-*.json | wc -l)" -eq 3 ] && ok || bad "users pages: $(ls "$W"/graph/users-*.json)"
[ "$(cat "$W"/graph/users-*.json | jq -s '[.[].value[]] | length')" -eq 2000 ] && ok || bad "not every user saved"
[ "$(ls "$W"/graph/group-members-*.json | wc -l)" -gt 200 ] && ok || bad "members of each group, some paged"
# the tenant
grep -q "users: 2000 created, 0 updated, 0 unchanged" "$T/out.txt" && ok || bad "import-graph output: $(head -5 "$T/out.txt")"
grep -qx "user7@contoso.example" "$T/out.txt" && ok || bad "who-can lists user7"
# the what-if: user3 could not before, can after, and comm said so
who() { "$U" who-can --db "$W/$1" --permission 'Alerts (manage)' --workload mde | grep -cx user3@contoso.example; }
[ "$(who urbac.db)" = 0 ] && [ "$(who whatif.db)" = 1 ] && ok || bad "user3 before/after: $(who urbac.db)/$(who whatif.db)"
grep -qx 'user3@contoso.example' "$T/out.txt" && ok || bad "comm did not print user3"
# the change: two requests, replayed as two POSTs
[ "$(jq '.requests | length' "$W/change.json")" -eq 2 ] && ok || bad "change.json: $(jq -c '.requests[].id' "$W/change.json")"
posts=$(grep -c '^post ' "$T/az.log")
[ "$posts" -eq 2 ] && ok || bad "$posts POSTs replayed"
user3=$(cat "$T"/data/users-*.json | jq -rs '[.[].value[]] | map(select(.userPrincipalName == "user3@contoso.example"))[0].id')
grep '^post https://graph.microsoft.com/beta/roleManagement/defender/roleDefinitions ' "$T/az.log" | grep -q '"displayName":"Alert triage"' &&
  ok || bad "the role was not POSTed: $(cat "$T/az.log" | grep '^post')"
asg=$(grep '^post https://graph.microsoft.com/beta/roleManagement/defender/roleAssignments ' "$T/az.log" | cut -d' ' -f3-)
[ "$(jq -c '[.roleDefinitionId, .principalIds, .appScopeIds]' <<<"$asg")" = "[\"new-1\",[\"$user3\"],[\"Mde\"]]" ] &&
  ok || bad "the assignment POSTed: $asg (want role new-1, principal $user3)"
echo "docs interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
