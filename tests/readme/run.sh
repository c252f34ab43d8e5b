#!/usr/bin/env bash
# tests/readme/run.sh - the README stands alone: a new user reads it in a fresh
# clone, with nothing beside it, and pastes its commands. So: every relative link
# in the repository's Markdown resolves to a file inside the repository; every
# shipped example is in canonical form (`fmt --check`); examples/questions.tsv gets
# the answers worked out by hand from examples/contoso.yaml; and the README's CLI
# tour and store block, run as written in a copy of the working tree (build/urbac
# linked to the binary under test), all succeed (or exit as their comment says:
# "(exit N)"), each `activate W`/`deactivate W` finds W in the other model, and they
# leave the copy exactly as it was (`git status` clean); none runs a bare `urbac`.
# Depends on: git, tar, bash, the urbac binary.
# Usage: run.sh path/to/urbac SOURCE_DIR
set -u
U=$(realpath "$1")
S=$(realpath "$2")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- links: relative Markdown links resolve to existing files inside the repository
files=$(git -C "$S" ls-files -co --exclude-standard -- '*.md' | grep -v '/node_modules/')
nlinks=0
for f in $files; do
  dir=$(dirname "$S/$f")
  # inline links [text](target) and reference definitions [id]: target
  targets=$( { grep -oE '\]\([^) ]+' "$S/$f" | sed 's/^](//'
               grep -oE '^\[[^]]+\]: *[^ ]+' "$S/$f" | sed -E 's/^\[[^]]+\]: *//'; } )
  for t in $targets; do
    case $t in http://* | https://* | mailto:* | '#'*) continue ;; esac
    nlinks=$((nlinks + 1))
    p=${t%%#*}
    r=$(realpath -m "$dir/$p")
    case $r/ in
      "$S"/*) [ -e "$r" ] && ok || bad "$f links to '$t', which does not exist" ;;
      *) bad "$f links to '$t', outside the repository" ;;
    esac
  done
done
[ "$nlinks" -ge 20 ] && ok || bad "only $nlinks relative links found in: $files"

# ---- the examples are canonical
for y in "$S"/examples/*.yaml; do
  "$U" fmt --check "$y" > "$tmp/fmt.out" 2>&1 && ok || { bad "fmt --check ${y#"$S"/}"; cat "$tmp/fmt.out"; }
done

# ---- examples/questions.tsv: the answers, worked out from examples/contoso.yaml
# (alice reaches SOC analyst through soc-tier1 -> soc, on workstations only; bob is
# tier 2, all device groups; carol is in the Quarantine role group; frank is
# disabled; dave is a Security reader)
want=$'allow\ndeny\nallow\nallow\ndeny\nallow'
got=$("$U" check --tenant "$S/examples/contoso.yaml" --queries "$S/examples/questions.tsv" 2>&1)
[ "$got" = "$want" ] && ok || bad "questions.tsv answers: got '$got', want '$want'"
# the README shows lines of it, in order, with their answers
shown=$(awk '/^```text$/{inb = 1; next} inb && /^```$/{exit} inb' "$S/README.md")
if [ -n "$shown" ] && [ "$(grep -nxF -f <(printf '%s\n' "$shown") "$S/examples/questions.tsv" | wc -l)" -eq "$(wc -l <<<"$shown")" ]; then
  ok; else bad "the README's query lines are not lines of examples/questions.tsv: $shown"; fi
# and each line asked on its own gives the same answer
n=0
while IFS=$'\t' read -r user perm wl scope; do
  n=$((n + 1))
  one=$("$U" check --tenant "$S/examples/contoso.yaml" --user "$user" --permission "$perm" --workload "$wl" \
    ${scope:+--scope "$scope"} 2>&1)
  [ "$one" = "$(sed -n "${n}p" <<<"$want")" ] && ok || bad "questions.tsv line $n asked alone: '$one'"
done < "$S/examples/questions.tsv"

# ---- a clone has no `urbac` on its PATH: outside "## Installing", a README command
# runs build/urbac (or $U), never a bare `urbac`
bare=$(awk '/^## /{inst = ($0 ~ /^## Installing/)}
            /^```sh$/{inb = 1; next} inb && /^```$/{inb = 0; next}
            inb && !inst && /^[ \t]*urbac /' "$S/README.md")
[ -z "$bare" ] && ok || bad "README commands that a clone cannot run (no urbac on PATH; build/urbac): $bare"

# ---- the README's commands, from a fresh copy
R=$tmp/repo
mkdir "$R"
(cd "$S" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$R" || bad "copy"
git -C "$R" init -q && git -C "$R" add -A && git -C "$R" -c user.name=t -c user.email=t commit -qm copy || bad "git init"
mkdir -p "$R/build" && ln -s "$U" "$R/build/urbac"
# the CLI tour (every sh block of "## A five-minute tour") and the store block
# (the sh block that runs `init --db`), continuation lines joined
awk '/^## /{tour = ($0 ~ /^## A five-minute tour/)}
     /^```sh$/{inb = 1; n = 0; store = 0; next}
     inb && /^```$/{inb = 0; if (tour || store) for (i = 1; i <= n; i++) print b[i]; next}
     inb {if (/init --db/) store = 1; b[++n] = $0}' "$S/README.md" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' > "$tmp/cmds"
ncmd=$(grep -c . "$tmp/cmds")
[ "$ncmd" -ge 15 ] && ok || bad "only $ncmd README commands found"
{
  echo 'cd "$1" || exit 99; fail=0'
  i=0
  while IFS= read -r c; do
    i=$((i + 1))
    st=$(sed -nE 's/.*#.*\(exit ([0-9]+)\).*/\1/p' <<<"$c")
    # a comment that opens with the answer ("# allow", "# prints allow") is checked too
    ans=$(sed -nE 's/.*  # (prints )?(allow|deny)([ ,;]|$).*/\2/p' <<<"$c")
    # `activate W` / `deactivate W` on the tour's tenant copy must change W's model
    # (activating a workload already unified would show nothing of a migration)
    if [[ $c =~ ^\$U\ (activate|deactivate)\ ([a-z]+)\ --tenant\ \$T ]]; then
      from=legacy; [ "${BASH_REMATCH[1]}" = activate ] || from=unified
      printf 'grep -Eq "^workloads:.*[{ ]%s: %s[,}]" "$T" || { fail=1; echo "FAIL: README runs %s %s on a tenant where %s is not %s: %s"; }\n' \
        "${BASH_REMATCH[2]}" "$from" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[2]}" "$from" \
        "$(printf '%q' "$c")"
    fi
    printf '{\n%s\n} > "$2/out.%d" 2>&1\n' "$c" "$i"
    printf 'rc=$?; [ $rc -eq %d ] || { fail=1; echo "FAIL: README command exits $rc, not %d: %s"; cat "$2/out.%d"; }\n' \
      "${st:-0}" "${st:-0}" "$(printf '%q' "$c")" "$i"
    [ -z "$ans" ] || printf '[ "$(head -1 "$2/out.%d")" = %s ] || { fail=1; echo "FAIL: README command does not answer %s: %s"; }\n' \
      "$i" "$ans" "$ans" "$(printf '%q' "$c")"
  done < "$tmp/cmds"
  echo 'exit $fail'
} > "$tmp/tour.sh"
if timeout 120 bash "$tmp/tour.sh" "$R" "$tmp"; then ok; else bad "the README's commands (above)"; fi
# the queries the tour asks get the answers above
grep -q 'queries examples/questions.tsv' "$tmp/cmds" && [ "$(cat "$tmp/out.$(grep -n 'queries examples/questions.tsv' "$tmp/cmds" | cut -d: -f1)")" = "$want" ] \
  && ok || bad "the tour's --queries line does not answer examples/questions.tsv as expected"
changed=$(git -C "$R" status --porcelain --ignored | grep -v '^!! build/$')
[ -z "$changed" ] && ok || bad "the README's commands changed the clone: $changed"

echo "readme: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
