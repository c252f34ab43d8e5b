#!/usr/bin/env bash
# bench/peers/casbin-go/build.sh OUT - builds the Go Casbin harness offline from
# Debian's packaged sources (golang-github-casbin-casbin-dev): a copy of the
# harness in a temporary module, govaluate (which ships without a go.mod) given one.
set -euo pipefail
out=$(realpath -m "$1") # absolute: the build runs in a temporary folder
here=$(cd "$(dirname "$0")" && pwd)
src=/usr/share/gocode/src/github.com
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cp -r "$src/Knetic/govaluate" "$t/govaluate"
printf 'module github.com/Knetic/govaluate\n\ngo 1.12\n' > "$t/govaluate/go.mod"
cp "$here/main.go" "$here/go.mod" "$t/"
cd "$t"
go mod edit -replace "github.com/Knetic/govaluate=$t/govaluate"
GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOCACHE="${GOCACHE:-$t/cache}" go build -o "$out" .
