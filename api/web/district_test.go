package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No district is named in the templates or the message files: what a
// district is and shows comes from its district file (issue 15).
func TestNoDistrictNamedInTemplatesOrMessages(t *testing.T) {
	var files []string
	for _, dir := range []string{"templates", filepath.Join("..", "..", "internal", "i18n", "messages")} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d files found: %v", len(files), files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Ambito di Tradate", "Tradate district", "Bene Comune", "Alta Padovana"} {
			if strings.Contains(string(raw), name) {
				t.Errorf("%s names a district: %q", f, name)
			}
		}
	}
}
