// bench/peers/casbin-go - the workload in Go Casbin (Debian's
// golang-github-casbin-casbin-dev, built offline by build.sh), modelled exactly
// as casbin.mjs does it: RBAC with domains (the workload is the domain), role
// links for groups, parent groups, directory roles and MDI roles, one policy line
// per principal, action, workload and device group of each assignment.
// Usage: casbin-go DATA_DIR N RUNS
package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/casbin/casbin/v2"
)

type world struct {
	Modes map[string]string `json:"modes"`
	Users []struct {
		ID       string   `json:"id"`
		Enabled  bool     `json:"enabled"`
		Groups   []string `json:"groups"`
		DirRoles []string `json:"dirRoles"`
	} `json:"users"`
	Groups []struct {
		ID       string   `json:"id"`
		Parents  []string `json:"parents"`
		DirRoles []string `json:"dirRoles"`
	} `json:"groups"`
	Roles []struct {
		Actions []string `json:"actions"`
	} `json:"roles"`
	Assignments []struct {
		Role         int       `json:"role"`
		Users        []string  `json:"users"`
		Groups       []string  `json:"groups"`
		Workloads    []string  `json:"workloads"`
		DeviceGroups *[]string `json:"deviceGroups"`
	} `json:"assignments"`
	DirectoryRoles map[string]map[string][]string `json:"directoryRoles"`
	LegacyMdi      []struct {
		Role    string   `json:"role"`
		Users   []string `json:"users"`
		Groups  []string `json:"groups"`
		Actions []string `json:"actions"`
	} `json:"legacyMdi"`
}

type query struct {
	User, Action, Workload, Scope string
	Dg                            *string
}

const model = `[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.dom == p.dom && (p.obj == "*" || r.obj == "any" || r.obj == p.obj) && r.act == p.act
`

func dirRoleCounts(w *world, role, workload string) bool {
	return w.Modes[workload] == "unified" || workload != "mde" || role == "Global administrator" || role == "Security administrator"
}

func policies(w *world) [][]string {
	var lines [][]string
	enabled := map[string]bool{}
	for _, u := range w.Users {
		if u.Enabled {
			enabled[u.ID] = true
		}
	}
	for _, a := range w.Assignments {
		var who []string
		for _, g := range a.Groups {
			who = append(who, "group:"+g)
		}
		for _, u := range a.Users {
			if enabled[u] {
				who = append(who, "user:"+u)
			}
		}
		for _, wl := range a.Workloads {
			if w.Modes[wl] != "unified" {
				continue
			}
			objects := []string{"*"}
			if wl == "mde" && a.DeviceGroups != nil {
				objects = nil
				for _, d := range *a.DeviceGroups {
					objects = append(objects, "dg:"+d)
				}
			}
			for _, p := range who {
				for _, act := range w.Roles[a.Role].Actions {
					for _, obj := range objects {
						lines = append(lines, []string{"p", p, wl, obj, act})
					}
				}
			}
		}
	}
	roles := make([]string, 0, len(w.DirectoryRoles))
	for r := range w.DirectoryRoles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		for wl, acts := range w.DirectoryRoles[r] {
			if dirRoleCounts(w, r, wl) {
				for _, act := range acts {
					lines = append(lines, []string{"p", "dirrole:" + r, wl, "*", act})
				}
			}
		}
	}
	if w.Modes["mdi"] == "legacy" {
		for _, r := range w.LegacyMdi {
			for _, act := range r.Actions {
				lines = append(lines, []string{"p", "mdirole:" + r.Role, "mdi", "*", act})
			}
			for _, u := range r.Users {
				if enabled[u] {
					lines = append(lines, []string{"g", "user:" + u, "mdirole:" + r.Role})
				}
			}
			for _, g := range r.Groups {
				lines = append(lines, []string{"g", "group:" + g, "mdirole:" + r.Role})
			}
		}
	}
	for _, u := range w.Users {
		if !u.Enabled {
			continue
		}
		for _, g := range u.Groups {
			lines = append(lines, []string{"g", "user:" + u.ID, "group:" + g})
		}
		for _, r := range u.DirRoles {
			lines = append(lines, []string{"g", "user:" + u.ID, "dirrole:" + r})
		}
	}
	for _, g := range w.Groups {
		for _, p := range g.Parents {
			lines = append(lines, []string{"g", "group:" + g.ID, "group:" + p})
		}
		for _, r := range g.DirRoles {
			lines = append(lines, []string{"g", "group:" + g.ID, "dirrole:" + r})
		}
	}
	return lines
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "casbin-go:", err)
		os.Exit(1)
	}
}

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.Atoi(f[1])
	return float64(pages*os.Getpagesize()) / 1048576
}

func main() {
	dir := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	runs, _ := strconv.Atoi(os.Args[3])
	var w world
	raw, err := os.ReadFile(filepath.Join(dir, "world.json"))
	must(err)
	t0 := time.Now()
	must(json.Unmarshal(raw, &w))
	tmp, err := os.MkdirTemp("", "casbin-go")
	must(err)
	defer os.RemoveAll(tmp)
	must(os.WriteFile(filepath.Join(tmp, "model.conf"), []byte(model), 0o644))
	f, err := os.Create(filepath.Join(tmp, "policy.csv"))
	must(err)
	cw := csv.NewWriter(f)
	lines := policies(&w)
	must(cw.WriteAll(lines))
	f.Close()
	e, err := casbin.NewEnforcer(filepath.Join(tmp, "model.conf"), filepath.Join(tmp, "policy.csv"))
	must(err)
	load := time.Since(t0).Seconds()
	engine := rssMiB()

	var qs []query
	raw, err = os.ReadFile(filepath.Join(dir, "queries.json"))
	must(err)
	must(json.Unmarshal(raw, &qs))
	ans, err := os.ReadFile(filepath.Join(dir, "answers.txt"))
	must(err)
	if n > len(qs) {
		n = len(qs)
	}
	rates := []float64{}
	mismatches := 0
	for r := 0; r < runs; r++ {
		start := time.Now()
		for i := 0; i < n; i++ {
			q := qs[i]
			obj := q.Scope
			if q.Scope == "dg" {
				obj = "dg:" + *q.Dg
			}
			ok, err := e.Enforce("user:"+q.User, q.Workload, obj, q.Action)
			must(err)
			if r == 0 && (ok != (ans[i] == '1')) {
				if mismatches < 10 {
					fmt.Fprintf(os.Stderr, "casbin-go: query %d %+v: %v, urbac says %c\n", i+1, q, ok, ans[i])
				}
				mismatches++
			}
		}
		rates = append(rates, float64(n)/time.Since(start).Seconds())
	}
	if mismatches > 0 {
		fmt.Fprintf(os.Stderr, "casbin-go: %d of %d answers differ from urbac's: the harness is wrong and must be fixed\n", mismatches, n)
		os.Exit(1)
	}
	sort.Float64s(rates)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	out, _ := json.Marshal(map[string]interface{}{
		"engine": "Casbin (Go)", "package": "golang-github-casbin-casbin-dev", "version": "2.60.0 (Debian)",
		"load_s": load, "engine_mib": engine, "checks": n, "checks_per_s": rates[len(rates)/2],
		"policy_lines": len(lines), "peak_rss_mib": float64(ru.Maxrss) / 1024,
	})
	fmt.Println(string(out))
}
