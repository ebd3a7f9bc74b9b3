package voucherpdf

import (
	"bytes"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// The PDFs are checked with the poppler utilities (pdfinfo, pdftotext,
// pdffonts, pdftoppm), which `make deps` installs. A missing tool fails the
// test: these checks are the proof that the documents can be read.

// tool returns the path of a poppler utility or fails the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: the PDF tests need poppler-utils; run `make deps` (or apt-get install poppler-utils)", name)
	}
	return path
}

// pdfFile writes pdf to a file of the test (or into $VOUCHERPDF_KEEP, to
// look at it) and returns its path.
func pdfFile(t *testing.T, name string, pdf []byte) string {
	t.Helper()
	dir := os.Getenv("VOUCHERPDF_KEEP")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a poppler utility and fails the test if it fails or complains.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

// pdfInfo is what pdfinfo says of pdf; pdfinfo must accept it silently.
func pdfInfo(t *testing.T, pdf []byte) string {
	t.Helper()
	return string(run(t, "pdfinfo", pdfFile(t, "info.pdf", pdf)))
}

// pdfText is the text pdftotext extracts from pdf.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	return string(run(t, "pdftotext", "-enc", "UTF-8", pdfFile(t, "text.pdf", pdf), "-"))
}

// word is a word pdftotext found, with its box in points from the top left
// corner of its page.
type word struct {
	page                   int
	text                   string
	xMin, yMin, xMax, yMax float64
}

var (
	pageTag = regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`)
	wordTag = regexp.MustCompile(`<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>`)
)

// pdfWords returns every word of pdf with its position.
func pdfWords(t *testing.T, pdf []byte) []word {
	t.Helper()
	out := run(t, "pdftotext", "-bbox", "-enc", "UTF-8", pdfFile(t, "words.pdf", pdf), "-")
	var words []word
	pages := pageTag.FindAllIndex(out, -1)
	for i, p := range pages {
		end := len(out)
		if i+1 < len(pages) {
			end = pages[i+1][0]
		}
		for _, m := range wordTag.FindAllSubmatch(out[p[1]:end], -1) {
			w := word{page: i + 1, text: html.UnescapeString(string(m[5]))}
			for j, f := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
				*f, _ = strconv.ParseFloat(string(m[j+1]), 64)
			}
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		t.Fatalf("pdftotext found no words:\n%s", out)
	}
	return words
}
