package archtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxLines is the size above which a package must say why it is that big.
const maxLines = 3000

// TestLargePackagesSayWhy: a package of more than maxLines lines of
// non-test Go has a paragraph starting "Size:" in its doc comment that
// gives the reason; everything else is split by domain instead.
func TestLargePackagesSayWhy(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Doc", "sportello/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath, Dir string
			GoFiles         []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		lines, doc := 0, ""
		for _, f := range p.GoFiles {
			raw, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			lines += strings.Count(string(raw), "\n")
			if i := strings.Index(string(raw), "\npackage "); i >= 0 && strings.Contains(string(raw[:i]), "// Package ") {
				doc += string(raw[:i])
			}
		}
		checked++
		if lines > maxLines && !strings.Contains(doc, "// Size:") {
			t.Errorf("%s has %d lines of non-test Go (more than %d): split it by domain, or say why in a \"Size:\" paragraph of its doc comment",
				p.ImportPath, lines, maxLines)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d packages listed", checked)
	}
}
