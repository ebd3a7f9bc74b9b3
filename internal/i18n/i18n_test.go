package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCatalogueComplete: both languages hold the same ids, no text is
// empty, and a text's fmt verbs are the same in both (the same arguments
// fill them).
func TestCatalogueComplete(t *testing.T) {
	it := IDs(IT)
	if len(it) < 1000 || len(IDs(EN)) != len(it) {
		t.Fatalf("%d Italian and %d English messages: are the message files loaded?", len(it), len(IDs(EN)))
	}
	for _, pair := range [][2]string{{IT, EN}, {EN, IT}} {
		for _, id := range IDs(pair[0]) {
			if _, ok := cat.texts[pair[1]][id]; !ok {
				t.Errorf("%s has no %s text (it is in %s)", id, pair[1], pair[0])
			}
		}
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, id := range it {
		i, e := T(IT, id), T(EN, id)
		if strings.TrimSpace(i) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("%s: empty text (it %q, en %q)", id, i, e)
		}
		if vi, ve := verbs.FindAllString(i, -1), verbs.FindAllString(e, -1); strings.Join(vi, " ") != strings.Join(ve, " ") {
			t.Errorf("%s: Italian verbs %v, English %v", id, vi, ve)
		}
	}
}

// usedID finds the message ids named in code and templates: a literal
// passed to the portal's translation helpers (s.t, translate, i18n.T,
// setFlash) and the template function t.
// A literal followed by + is the prefix of ids made at run time
// ("cat.unit." + unit): some id must start with it.
var usedID = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:s\.t|translate|i18n\.T|i18n\.M)\([^"()]*"([a-z][a-z0-9_]*\.[a-z0-9_.]+)"(\s*\+)?`),
	regexp.MustCompile(`setFlash\(c, "[a-z]+", "([a-z][a-z0-9_]*\.[a-z0-9_.]+)"(\s*\+)?`),
	regexp.MustCompile(`[({]\s*t\s+"([a-z][a-z0-9_]*\.[a-z0-9_.]+)"()`),
	// The ids of refusals (workflows, store, forms, application services:
	// app.Field, i18n.M, ...) are named "<area>.err.<what>".
	regexp.MustCompile(`"([a-z][a-z0-9_]*\.err\.[a-z0-9_.]*)"(\s*\+)?`),
}

// hasPrefix reports whether some id of every language starts with p.
func hasPrefix(p string) bool {
	for _, lang := range Languages {
		found := false
		for id := range cat.texts[lang] {
			if strings.HasPrefix(id, p) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// walkCode calls fn with the path of every file of the repository, tests
// excepted, whose name ends in one of the suffixes; an error fails the
// test.
func walkCode(t *testing.T, suffixes []string, fn func(path string) error) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", ".data", "bin", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, suffix := range suffixes {
			if strings.HasSuffix(path, suffix) {
				return fn(path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEveryUsedMessageExists walks the repository's Go code and templates
// and fails on an id that has no text in one of the languages.
func TestEveryUsedMessageExists(t *testing.T) {
	seen := 0
	walkCode(t, []string{".go", ".html"}, func(path string) error {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range usedID {
			for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
				seen++
				if m[2] != "" {
					if !hasPrefix(m[1]) {
						t.Errorf("%s makes message ids from %q, and none starts so", path, m[1])
					}
					continue
				}
				if !Has(m[1]) {
					t.Errorf("%s uses message %q, missing in a language", path, m[1])
				}
			}
		}
		return nil
	})
	if seen < 500 {
		t.Errorf("only %d message uses found: has the code moved?", seen)
	}
	t.Logf("%d message uses checked", seen)
}

func TestMoneyAndDates(t *testing.T) {
	for _, c := range []struct {
		lang  string
		cents int64
		want  string
	}{
		{IT, 123450, "1.234,50 €"}, {EN, 123450, "€1,234.50"}, {IT, 5, "0,05 €"}, {EN, -1234567, "-€12,345.67"},
		{IT, 100000000, "1.000.000,00 €"}, {IT, -250, "-2,50 €"}, {IT, -9223372036854775808, "-92.233.720.368.547.758,08 €"},
	} {
		if got := Money(c.lang, c.cents); got != c.want {
			t.Errorf("Money(%s, %d) = %q, want %q", c.lang, c.cents, got, c.want)
		}
	}
	if got := WholeEuro(IT, 10000); got != "10.000 €" {
		t.Errorf("WholeEuro it: %q", got)
	}
	if got := WholeEuro(EN, 10000); got != "€10,000" {
		t.Errorf("WholeEuro en: %q", got)
	}
	if got := MoneyInput(IT, 123450); got != "1234,50" {
		t.Errorf("MoneyInput it: %q", got)
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC) // 3 March in Rome
	if got := DateTime(IT, at, rome); got != "3 marzo 2026, ore 00:30" {
		t.Errorf("DateTime it: %q", got)
	}
	if got := Date(EN, at, rome); got != "3 March 2026" {
		t.Errorf("Date en: %q", got)
	}
	if got := T(EN, "no.such.id"); got != "no.such.id" {
		t.Errorf("a missing id shows itself, got %q", got)
	}
}

// idArgs names the functions that take a message id, and the index of that
// argument: their signatures take it as a plain string followed by the
// message's arguments, so a sentence passed where the id belongs compiles
// (and would be shown as the text of a missing id). This test reads the
// calls, and a literal there must be an id of the message files.
var idArgs = map[string]int{"app.Field": 2, "app.Param": 2, "i18n.M": 0, "i18n.T": 1}

// TestMessageIDArguments walks the repository's Go code (go/ast) and fails
// on a call of idArgs whose id argument is a string literal that is no
// message id in every language.
func TestMessageIDArguments(t *testing.T) {
	calls := 0
	fset := token.NewFileSet()
	walkCode(t, []string{".go"}, func(path string) error {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		// Inside package app (and i18n) the functions are called unqualified.
		own := map[string]string{"app": "app.", "i18n": "i18n."}[f.Name.Name]
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok {
					name = x.Name + "." + fn.Sel.Name
				}
			case *ast.Ident:
				if own != "" {
					name = own + fn.Name
				}
			}
			i, ok := idArgs[name]
			if !ok || len(call.Args) <= i {
				return true
			}
			calls++
			arg, prefix := call.Args[i], false
			for {
				b, ok := arg.(*ast.BinaryExpr)
				if !ok || b.Op != token.ADD {
					break
				}
				arg, prefix = b.X, true // "area.err." + what: the literal begins some ids
			}
			lit, ok := arg.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true // an id held in a variable or made by a function
			}
			id, err := strconv.Unquote(lit.Value)
			switch {
			case err != nil:
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
			case prefix && !hasPrefix(id):
				t.Errorf("%s: %s(…%q + …): no message id of every language begins so", fset.Position(lit.Pos()), name, id)
			case !prefix && !Has(id):
				t.Errorf("%s: %s(…%q…): not a message id of every language", fset.Position(lit.Pos()), name, id)
			}
			return true
		})
		return nil
	})
	if calls < 100 {
		t.Errorf("only %d calls taking a message id found: has the code moved?", calls)
	}
	t.Logf("%d calls taking a message id checked", calls)
}
