#!/usr/bin/env bash
# tests/install/completion.sh - shell completion as installed: `cmake --install`
# into a fresh prefix, then bash's script (share/bash-completion/completions/urbac)
# is sourced into a clean bash and its function driven as bash would
# (COMP_WORDS, COMP_CWORD): the commands, a prefix, a command's options (every
# one its --help prints), an option's prefix, file names after an option taking
# a file, nothing after one taking a name; zsh's (share/zsh/vendor-completions/_urbac)
# is parsed by zsh -n and loaded by compinit when zsh is there.
# Usage: completion.sh BUILD_DIR
#
# Depends on: cmake, bash, zsh (optional: Debian's zsh).
set -uo pipefail
B=$1
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
NAME=completion
. "$(dirname "$0")/lib.sh"

if ! out=$(cmake --install "$B" --prefix "$P" 2>&1); then
  echo "$out"
  echo "completion: FAILED: cmake --install" >&2
  exit 1
fi
U=$P/bin/urbac
BASH_SCRIPT=$P/share/bash-completion/completions/urbac
ZSH_SCRIPT=$P/share/zsh/vendor-completions/_urbac
[ -f "$BASH_SCRIPT" ] && ok || bad "$BASH_SCRIPT is not installed"
[ -f "$ZSH_SCRIPT" ] && ok || bad "$ZSH_SCRIPT is not installed"
cmp -s "$BASH_SCRIPT" <("$U" completion bash) && ok || bad "the installed bash script is not urbac completion bash"

# complete WORD...: the words bash would offer for the last WORD (sorted, one a
# line), computed by the installed function in a bash that has nothing else.
mkdir -p "$P/cwd/examples" && touch "$P/cwd/examples/contoso.yaml" "$P/cwd/exact.tsv"
complete() {
  (cd "$P/cwd" && env -i PATH="$PATH" bash --norc --noprofile -c '
    source "$1"; shift
    complete -p urbac > /dev/null || { echo "no completion registered for urbac"; exit 1; }
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _urbac urbac "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_SCRIPT" "$@" | sed '/^$/d' | sort)
}
# expect WANT WORD...: the offered words are exactly WANT (a newline-separated list)
expect() {
  local want=$1 got
  shift
  got=$(complete "$@")
  [ "$got" = "$(sort <<<"$want" | sed '/^$/d')" ] && ok || bad "urbac ${*:2}| offered [$(tr '\n' ' ' <<<"$got")], want [$(tr '\n' ' ' <<<"$want")]"
}

cmds=$("$U" --help | awk '/^commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ "$(wc -w <<<"$cmds")" -ge 28 ] && ok || bad "urbac --help lists only: $cmds"
expect "$(printf '%s\n' $cmds help --help --version)" urbac ""
expect "$(printf '%s\n' $cmds | grep '^de')" urbac de
expect "check" urbac chec
expect "$(printf '%s\n' $cmds | grep '^i')" urbac help i
for cmd in $cmds; do
  opts=$("$U" "$cmd" --help | sed -n 's/^  \(-[a-z]\), \(--[a-z0-9-]*\).*/\1\n\2/p; s/^      \(--[a-z0-9-]*\).*/\1/p')
  expect "$(printf '%s\n' $opts --help | sort -u)" urbac "$cmd" -
done
expect "--permission" urbac check --user alice --perm
expect "--tenant
--tenant-id" urbac who-can --ten
expect "examples" urbac check --tenant exam
expect "examples
exact.tsv" urbac check --tenant ex
expect "exact.tsv" urbac check --queries exact
expect "" urbac check --user a
expect "" urbac chek --
# a bad shell is refused
"$U" completion fish > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "urbac completion fish did not exit 2"

if command -v zsh > /dev/null; then
  zsh -n "$ZSH_SCRIPT" && ok || bad "zsh -n $ZSH_SCRIPT"
  # compinit finds it on fpath and autoloads it as the completion of urbac
  got=$(HOME=$P zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2/zcompdump";
        print -r -- ${_comps[urbac]}' _ "$(dirname "$ZSH_SCRIPT")" "$P" 2>&1)
  [ "$got" = "_urbac" ] && ok || bad "zsh's compinit does not bind _urbac to urbac: $got"
  for cmd in $cmds; do
    for opt in $("$U" "$cmd" --help | sed -n 's/^  \(-[a-z], \|    \)--\([a-z0-9-]*\).*/\2/p'); do
      grep -Eq -- "^    $cmd\)" "$ZSH_SCRIPT" && sed -n "/^    $cmd)/,/;;/p" "$ZSH_SCRIPT" | grep -Eq -- "(\{-[a-z],|'\*?)--$opt[[}]" \
        && ok || bad "zsh: $cmd --$opt has no spec"
    done
  done
else
  echo "completion: zsh is not installed: its script was not checked" >&2
fi

summary
