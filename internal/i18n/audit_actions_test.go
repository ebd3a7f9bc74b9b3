package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// auditActionCode is the shape of an audit action ("read_agenda").
var auditActionCode = regexp.MustCompile(`^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$`)

// auditSQLAction finds actions written by SQL literals in the store
// ("'system', 'system', 'retention_run'").
var auditSQLAction = regexp.MustCompile(`'system', 'system', '([a-z_]+)'`)

// auditActionsInCode walks every non-test Go file of the module and
// returns every audit action code the code can write: the string
// constants named Audit<Something> (but the "_refused" suffix), the
// literals given to an Action (or action) field, the literal action of
// app.TaskAudit, app.OnBehalfAudit, app.ReadEntry and Core.AuditRead, and
// the actions written by SQL literals.
func auditActionsInCode(t *testing.T) map[string]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{} // code -> where
	add := func(fset *token.FileSet, lit ast.Expr) {
		b, ok := lit.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(b.Value)
		if err != nil || !auditActionCode.MatchString(s) {
			return
		}
		if _, seen := found[s]; !seen {
			found[s] = fset.Position(b.Pos()).String()
		}
	}
	// argument position of the action in the helpers that take it
	actionArg := map[string]int{"TaskAudit": 0, "OnBehalfAudit": 0, "ReadEntry": 2, "AuditRead": 2}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			// Generated code (the typed API client) writes no audit row;
			// its Action-like fields are the document's enums.
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if strings.HasPrefix(name.Name, "Audit") && name.Name != "AuditRefusedSuffix" && i < len(n.Values) {
						add(fset, n.Values[i])
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Action" || k.Name == "action") {
					add(fset, n.Value)
				}
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if i, ok := actionArg[name]; ok && i < len(n.Args) {
					add(fset, n.Args[i])
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					for _, m := range auditSQLAction.FindAllStringSubmatch(n.Value, -1) {
						if _, seen := found[m[1]]; !seen {
							found[m[1]] = fset.Position(n.Pos()).String()
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestAuditActionsWorded: every action code the code can write has its
// label (audit.action.<code>) in both languages, so the access log never
// shows a raw code; the walk finds the actions it must (a sanity check
// that it still reads the code).
func TestAuditActionsWorded(t *testing.T) {
	found := auditActionsInCode(t)
	for _, must := range []string{"read_agenda", "isee_declared", "decide", "retention_run", "delegate_task", "assign", "cancel_absence"} {
		if _, ok := found[must]; !ok {
			t.Errorf("the walk did not find the action %q: does it still read the code?", must)
		}
	}
	codes := make([]string, 0, len(found))
	for code := range found {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		for _, lang := range Languages {
			if _, ok := cat.texts[lang]["audit.action."+code]; !ok {
				t.Errorf("audit action %q (%s) has no %s label audit.action.%s", code, found[code], lang, code)
			}
		}
	}
	t.Logf("%d audit action codes", len(codes))
}
