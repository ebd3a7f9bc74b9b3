// Package archtest checks the layers of Sportello: what each package may
// import, read from `go list` over the whole module, so that a wrong import
// fails CI instead of waiting for a reviewer.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the module path of Sportello (go.mod).
const module = "sportello"

// A rule constrains the non-test code of the packages it names. Paths are
// relative to the module ("internal/store"); a path covers its subpackages
// ("api" covers "api/web"); "..." is every package of the module.
type rule struct {
	pkgs []string
	// only lists the Sportello packages the package may import directly
	// (nil: no such limit).
	only []string
	// never lists packages (of Sportello or the standard library) the
	// package may not depend on, directly or through another package.
	never []string
	// except lists packages under pkgs the rule does not apply to (they
	// have their own rule).
	except []string
	// neverDirect lists packages it may not import directly (it may still
	// reach them through a package it is allowed to import).
	neverDirect []string
	why         string
}

// rules are the layers of docs/DESIGN (edges -> application -> contract,
// store, integrations; workflows -> contract and activities' references).
var rules = []rule{
	{pkgs: []string{"internal/contract"}, only: []string{},
		why: "the contract is what crosses the Temporal boundary and the layers: it imports nothing of Sportello"},
	{pkgs: []string{"workflows"}, only: []string{"internal/contract", "internal/calendar", "activities"},
		why: "workflows are deterministic journeys: they speak the contract, use the calendar and name activities through nil pointers of their types"},
	{pkgs: []string{"internal/store"},
		never: []string{"api", "workflows", "activities", "worker", "cmd", "internal/accounting", "internal/payments", "net/http"},
		why:   "the store knows no HTTP path, workflow or outside client"},
	{pkgs: []string{"activities"}, never: []string{"api", "worker", "workflows", "cmd"},
		why: "activities are the side effects workflows call; the edges call them only through the worker"},
	{pkgs: []string{"api"}, neverDirect: []string{"activities", "worker"},
		why: "the API starts and talks to workflows; it shares with activities only through internal domain packages"},
	{pkgs: []string{"worker"}, never: []string{"api", "cmd"},
		why: "the worker registers workflows and activities; it serves no HTTP route"},
	{pkgs: []string{"forms"}, never: []string{"internal/store", "api", "workflows", "activities", "worker"},
		why: "forms are schemas, validation and rendering, with no database behind them"},
	{pkgs: []string{"internal/app"}, never: []string{"api", "worker", "cmd", "github.com/gin-gonic/gin"},
		neverDirect: []string{"activities", "net/http"},
		why:         "the application services hold the use cases below the adapters: no HTTP, no adapter; they reach activities only through workflows"},
	{pkgs: []string{"internal"}, except: []string{"internal/app"}, never: []string{"api", "workflows", "activities", "worker"},
		why: "internal packages are integrations, domain helpers and tools below the layers that use them"},
	{pkgs: []string{"..."}, never: []string{"cmd"},
		why: "cmd is the binary's entry point: nothing depends on it"},
}

// An exception is a rule broken today on purpose, with the reason it is not
// fixed yet. The test fails when an exception is no longer needed, so the
// list only shrinks: delete the line when the import goes.
type exception struct {
	pkg, dep, why string
}

var exceptions = []exception{
	{"internal/bookingtest", "workflows",
		"a helper for tests only (api, store, bench): it checks a booking out through the real Booking workflow"},
	{"internal/bookingtest", "activities",
		"through workflows (see the exception above)"},
}

// pkg is what `go list -json` says of a package that matters here.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	violations := check(rules, pkgs)
	used := map[exception]bool{}
	for _, v := range violations {
		if x, ok := excepted(v); ok {
			used[x] = true
			continue
		}
		t.Errorf("%s", v)
	}
	for _, x := range exceptions {
		if !used[x] {
			t.Errorf("exception %s -> %s is no longer needed: delete it from the list (%s)", x.pkg, x.dep, x.why)
		}
	}
	checkRulesNamePackages(t, pkgs)
}

// TestRulesCatchWrongImports feeds the checker a made-up module in which each
// kind of rule is broken once, so that a checker that sees nothing cannot pass.
func TestRulesCatchWrongImports(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	fake := []pkg{
		{ImportPath: m("internal/contract"), Imports: []string{m("internal/calendar")}, Deps: []string{m("internal/calendar")}},
		{ImportPath: m("workflows"), Imports: []string{m("internal/notify")}, Deps: []string{m("internal/notify")}},
		{ImportPath: m("internal/store"), Imports: []string{m("internal/calendar")}, Deps: []string{m("internal/calendar"), "net/http"}},
		{ImportPath: m("api"), Imports: []string{m("activities")}, Deps: []string{m("activities")}},
		{ImportPath: m("api/web"), Imports: []string{m("workflows")}, Deps: []string{m("workflows"), m("activities")}},
		{ImportPath: m("internal/seed"), Imports: []string{m("cmd/sportello")}, Deps: []string{m("cmd/sportello")}},
	}
	got := map[string]bool{}
	for _, v := range check(rules, fake) {
		got[v.pkg+" -> "+v.dep] = true
	}
	want := []string{
		"internal/contract -> internal/calendar", // imports Sportello
		"workflows -> internal/notify",           // not in its list
		"internal/store -> net/http",             // through another package
		"api -> activities",                      // directly
		"internal/seed -> cmd/sportello",         // nothing imports cmd
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("the rules do not catch %s (caught: %v)", w, got)
		}
	}
	if got["api/web -> activities"] {
		t.Errorf("api/web reaches activities through workflows, which the API may do: caught %v", got)
	}
}

// A violation is one package depending on one it may not.
type violation struct {
	pkg, dep string
	direct   bool
	rule     rule
}

func (v violation) String() string {
	how := "imports"
	if !v.direct {
		how = "depends on (through another package)"
	}
	return fmt.Sprintf("%s %s %s: %s", v.pkg, how, v.dep, v.rule.why)
}

// check returns every violation of rules by the packages of the module.
func check(rules []rule, pkgs []pkg) []violation {
	var out []violation
	for _, p := range pkgs {
		name, ok := local(p.ImportPath)
		if !ok || p.Standard {
			continue
		}
		for _, r := range rules {
			if !slices.ContainsFunc(r.pkgs, func(q string) bool { return covers(q, name) }) ||
				slices.ContainsFunc(r.except, func(q string) bool { return covers(q, name) }) {
				continue
			}
			if r.only != nil {
				for _, imp := range p.Imports {
					if dep, ok := local(imp); ok && !slices.ContainsFunc(r.only, func(q string) bool { return covers(q, dep) }) {
						out = append(out, violation{name, dep, true, r})
					}
				}
			}
			for _, dep := range p.Deps {
				if q, ok := forbidden(r.never, dep); ok {
					out = append(out, violation{name, q, slices.Contains(p.Imports, dep), r})
				}
			}
			for _, imp := range p.Imports {
				if q, ok := forbidden(r.neverDirect, imp); ok {
					out = append(out, violation{name, q, true, r})
				}
			}
		}
	}
	// One line per package and forbidden package (several rules, several
	// paths to one package say the same thing).
	slices.SortFunc(out, func(a, b violation) int {
		return strings.Compare(a.pkg+" "+a.dep, b.pkg+" "+b.dep)
	})
	return slices.CompactFunc(out, func(a, b violation) bool { return a.pkg == b.pkg && a.dep == b.dep })
}

// forbidden reports which entry of never the import path dep falls under,
// as the entry (the module-relative path, or the standard library path).
func forbidden(never []string, dep string) (string, bool) {
	rel, isLocal := local(dep)
	for _, q := range never {
		if isLocal && covers(q, rel) {
			return rel, true
		}
		if !isLocal && dep == q {
			return q, true
		}
	}
	return "", false
}

// local turns an import path of the module into its module-relative path.
func local(path string) (string, bool) {
	return strings.CutPrefix(path, module+"/")
}

// covers reports whether the rule path q names the package p.
func covers(q, p string) bool {
	return q == "..." || p == q || strings.HasPrefix(p, q+"/")
}

func excepted(v violation) (exception, bool) {
	for _, x := range exceptions {
		if x.pkg == v.pkg && x.dep == v.dep {
			return x, true
		}
	}
	return exception{}, false
}

// checkRulesNamePackages fails on a rule or an exception that names no package of
// the module: a misspelt path would otherwise check nothing.
func checkRulesNamePackages(t *testing.T, pkgs []pkg) {
	t.Helper()
	exists := func(q string) bool {
		return slices.ContainsFunc(pkgs, func(p pkg) bool {
			name, _ := local(p.ImportPath)
			return covers(q, name)
		})
	}
	// A standard library package in a rule must be one the module uses.
	std := func(q string) bool {
		return slices.ContainsFunc(pkgs, func(p pkg) bool { return slices.Contains(p.Deps, q) })
	}
	for _, r := range rules {
		for _, q := range slices.Concat(r.pkgs, r.only, r.never, r.neverDirect) {
			if !exists(q) && !std(q) {
				t.Errorf("rule %q names %q, which is no package of the module", r.why, q)
			}
		}
	}
	for _, x := range exceptions {
		if !exists(x.pkg) || !exists(x.dep) {
			t.Errorf("exception %s -> %s names no package of the module", x.pkg, x.dep)
		}
	}
}

// listPackages runs `go list -json` over the module (non-test code: the
// test files of a package may reach across the layers to set up a test).
func listPackages(t *testing.T) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to read the imports: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Standard,Imports,Deps,Error,DepsErrors", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		for _, e := range p.DepsErrors {
			t.Errorf("go list %s: %s", p.ImportPath, e.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of %s: is the test run inside the module?", len(pkgs), module)
	}
	return pkgs
}
