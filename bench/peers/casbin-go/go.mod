module urbac/bench/casbin-go

go 1.19

require github.com/casbin/casbin/v2 v2.60.0

require github.com/Knetic/govaluate v3.0.1-0.20171022003610-9aa49832a739+incompatible // indirect

// Debian's packaged sources (golang-github-casbin-casbin-dev), built offline.
replace github.com/casbin/casbin/v2 => /usr/share/gocode/src/github.com/casbin/casbin

// (build.sh adds the replace for govaluate, which Debian ships without a go.mod)
