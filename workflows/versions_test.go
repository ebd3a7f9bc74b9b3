package workflows

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// history is what the coverage test reads of one committed history.
type history struct {
	path     string
	workflow string                      // the workflow type of its first event
	markers  map[string]workflow.Version // change id -> version its Version markers recorded
}

// committedHistories reads every history under testdata/histories, in every
// folder.
func committedHistories(t *testing.T) []history {
	t.Helper()
	var out []history
	err := filepath.WalkDir("testdata/histories", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(raw), client.HistoryJSONOptions{})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		events := h.GetEvents()
		if len(events) == 0 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
			return fmt.Errorf("%s: the first event is not the start of an execution", path)
		}
		r := history{path: path, workflow: events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName(),
			markers: map[string]workflow.Version{}}
		dc := converter.GetDefaultDataConverter()
		for _, ev := range events {
			m := ev.GetMarkerRecordedEventAttributes()
			if m == nil || m.GetMarkerName() != "Version" {
				continue
			}
			var id string
			var v workflow.Version
			if err := dc.FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
				return fmt.Errorf("%s: version marker: %w", path, err)
			}
			if err := dc.FromPayloads(m.GetDetails()["version"], &v); err != nil {
				return fmt.Errorf("%s: version marker %s: %w", path, id, err)
			}
			r.markers[id] = v
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no committed histories under testdata/histories")
	}
	return out
}

// TestHistoriesCoverEveryBranch keeps the replay tests honest, from the list
// in versions.go: every history committed under testdata/histories replays
// against the current code, every version listed for a change (every branch
// still in the code) is what at least one of them recorded (no marker counts
// as DefaultVersion), and no history recorded a change or a version the
// list does not have (its branch was deleted: its histories go with it).
func TestHistoriesCoverEveryBranch(t *testing.T) {
	histories := committedHistories(t)
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	r := sdkworker.NewWorkflowReplayer()
	for _, w := range []any{FoodVoucher, Booking, Delegation, Appointment, Billing, LedgerVerify, RefundResolution, OperationsWatch, Retention, CompanyStatements, CallFunding} {
		r.RegisterWorkflow(w)
	}
	for _, h := range histories {
		t.Run("replay "+h.path, func(t *testing.T) {
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, h.path); err != nil {
				t.Fatalf("replay %s: %v", h.path, err)
			}
		})
	}

	listed := map[string]map[string][]workflow.Version{} // workflow -> change id -> versions
	for _, c := range changes {
		if listed[c.workflow] == nil {
			listed[c.workflow] = map[string][]workflow.Version{}
		}
		listed[c.workflow][c.id] = c.versions
		for _, v := range c.versions {
			var on []string
			for _, h := range histories {
				got, ok := h.markers[c.id]
				if !ok {
					got = workflow.DefaultVersion
				}
				if h.workflow == c.workflow && got == v {
					on = append(on, filepath.Base(h.path))
				}
			}
			if len(on) == 0 {
				t.Errorf("%s change %q version %d: no committed history replays this branch; record one (internal/e2e with SPORTELLO_RECORD_HISTORIES)",
					c.workflow, c.id, v)
			} else {
				t.Logf("%s %s=%d: %s", c.workflow, c.id, v, strings.Join(on, ", "))
			}
		}
	}
	for _, h := range histories {
		for id, v := range h.markers {
			versions, ok := listed[h.workflow][id]
			if !ok {
				t.Errorf("%s: %s change %q is not in versions.go", h.path, h.workflow, id)
				continue
			}
			if !containsVersion(versions, v) {
				t.Errorf("%s: %s=%d, a version versions.go does not list for %s (a deleted branch takes its histories with it)",
					h.path, id, v, h.workflow)
			}
		}
	}
}

func containsVersion(vs []workflow.Version, v workflow.Version) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// TestChangesAreWellFormed checks the list itself: one entry per change id
// and workflow, versions from DefaultVersion or above, oldest first.
func TestChangesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range changes {
		key := c.workflow + "/" + c.id
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if c.workflow == "" || c.id == "" || len(c.versions) < 2 {
			t.Errorf("%s: a change names its workflow and has an old and a new branch: %+v", key, c)
			continue
		}
		if c.versions[0] < workflow.DefaultVersion {
			t.Errorf("%s: version %d below DefaultVersion", key, c.versions[0])
		}
		for i := 1; i < len(c.versions); i++ {
			if c.versions[i] <= c.versions[i-1] {
				t.Errorf("%s: versions %v not in increasing order", key, c.versions)
			}
		}
	}
}

// getVersionCall is one workflow.GetVersion call found in the source.
type getVersionCall struct {
	pos      string
	id       string
	min, max workflow.Version
}

// TestEveryGetVersionIsListed parses the workflows' Go files (go/ast, tests
// excluded) and checks every workflow.GetVersion call: its change id is a
// constant listed in versions.go, its minimum is the oldest listed version
// and its maximum the newest; and every listed change id is read by a call.
func TestEveryGetVersionIsListed(t *testing.T) {
	calls := getVersionCalls(t, ".")
	if len(calls) == 0 {
		t.Fatal("no workflow.GetVersion call found: the parser missed them")
	}
	byID := map[string][]change{}
	for _, c := range changes {
		byID[c.id] = append(byID[c.id], c)
	}
	used := map[string]bool{}
	for _, call := range calls {
		cs := byID[call.id]
		if len(cs) == 0 {
			t.Errorf("%s: GetVersion change id %q is not listed in versions.go", call.pos, call.id)
			continue
		}
		used[call.id] = true
		for _, c := range cs {
			if lo, hi := c.versions[0], c.versions[len(c.versions)-1]; call.min != lo || call.max != hi {
				t.Errorf("%s: GetVersion(%q, %d, %d), but versions.go lists %v for %s", call.pos, call.id, call.min, call.max, c.versions, c.workflow)
			}
		}
	}
	for _, c := range changes {
		if !used[c.id] {
			t.Errorf("versions.go lists %s change %q, but no GetVersion call reads it", c.workflow, c.id)
		}
	}
}

// getVersionCalls finds the workflow.GetVersion calls of the non-test Go
// files in dir and evaluates their constant arguments.
func getVersionCalls(t *testing.T, dir string) []getVersionCall {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var parsed []*ast.File
	consts := map[string]ast.Expr{} // package-level and local constants by name
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		ast.Inspect(af, func(n ast.Node) bool {
			gd, ok := n.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				return true
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						consts[name.Name] = vs.Values[i]
					}
				}
			}
			return true
		})
	}
	var calls []getVersionCall
	for _, af := range parsed {
		wf := importName(af, "go.temporal.io/sdk/workflow")
		if wf == "" {
			continue
		}
		ev := &constEval{consts: consts, workflowPkg: wf}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isSelector(call.Fun, wf, "GetVersion") {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			if len(call.Args) != 4 {
				t.Errorf("%s: GetVersion with %d arguments", pos, len(call.Args))
				return true
			}
			id, err := ev.eval(call.Args[1])
			if err != nil || id.Kind() != constant.String {
				t.Errorf("%s: the change id of a GetVersion call must be a constant string (%v)", pos, err)
				return true
			}
			var vs [2]workflow.Version
			for i, arg := range call.Args[2:] {
				v, err := ev.eval(arg)
				n, exact := constant.Int64Val(constant.ToInt(v))
				if err != nil || !exact {
					t.Errorf("%s: the versions of a GetVersion call must be constant integers (%v)", pos, err)
					return true
				}
				vs[i] = workflow.Version(n)
			}
			calls = append(calls, getVersionCall{pos: pos, id: constant.StringVal(id), min: vs[0], max: vs[1]})
			return true
		})
	}
	return calls
}

// importName is the name file af gives the package at path ("" if it does
// not import it).
func importName(af *ast.File, path string) string {
	for _, imp := range af.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == pkg
}

// constEval evaluates the constant expressions versions are written with:
// literals, constants of the package, workflow.DefaultVersion, conversions
// such as workflow.Version(1), and arithmetic on them.
type constEval struct {
	consts      map[string]ast.Expr
	workflowPkg string
	depth       int
}

func (c *constEval) eval(e ast.Expr) (constant.Value, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 50 {
		return constant.MakeUnknown(), fmt.Errorf("constant too deep")
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		return constant.MakeFromLiteral(e.Value, e.Kind, 0), nil
	case *ast.Ident:
		if x, ok := c.consts[e.Name]; ok {
			return c.eval(x)
		}
		return constant.MakeUnknown(), fmt.Errorf("%s is not a constant of the package", e.Name)
	case *ast.SelectorExpr:
		if isSelector(e, c.workflowPkg, "DefaultVersion") {
			return constant.MakeInt64(int64(workflow.DefaultVersion)), nil
		}
		return constant.MakeUnknown(), fmt.Errorf("cannot evaluate %s", e.Sel.Name)
	case *ast.ParenExpr:
		return c.eval(e.X)
	case *ast.CallExpr: // a conversion
		if len(e.Args) == 1 {
			return c.eval(e.Args[0])
		}
	case *ast.UnaryExpr:
		x, err := c.eval(e.X)
		if err != nil {
			return x, err
		}
		return constant.UnaryOp(e.Op, x, 0), nil
	case *ast.BinaryExpr:
		x, err := c.eval(e.X)
		if err != nil {
			return x, err
		}
		y, err := c.eval(e.Y)
		if err != nil {
			return y, err
		}
		return constant.BinaryOp(x, e.Op, y), nil
	}
	return constant.MakeUnknown(), fmt.Errorf("cannot evaluate %T", e)
}
