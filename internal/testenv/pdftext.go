package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// PDFText is the text poppler's pdftotext finds in pdf (a missing tool
// fails the test: `make deps` installs it); pdftotext must accept it
// without a complaint.
func PDFText(t testing.TB, pdf []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: the PDF checks need poppler-utils (make deps)")
	}
	f := filepath.Join(t.TempDir(), "document.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, "-enc", "UTF-8", f, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("pdftotext: %v %s", err, stderr.Bytes())
	}
	return string(out)
}
