package voucherpdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleInvoice(lines int) Invoice {
	inv := Invoice{Title: "Richiesta di rimborso", Number: 42, PayeeName: "Farmacia Comunale di Tradate", PayeeID: "farmacia-tradate",
		Municipality: "Tradate", Period: "2026-10", IssuedAt: time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC),
		Declaration: []string{"Solo beni di prima necessità.", "Nessuna bevanda alcolica."}}
	for i := range lines {
		inv.Lines = append(inv.Lines, InvoiceLine{Date: time.Date(2026, 10, 1+i%28, 10, 0, 0, 0, time.UTC),
			Description: fmt.Sprintf("Buono spesa riscattato (%d)", i+1), AmountCents: 1250})
		inv.TotalCents += 1250
	}
	return inv
}

func TestInvoicePDF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteInvoice(&b, sampleInvoice(30)); err != nil {
		t.Fatal(err)
	}
	parse(t, b.Bytes())
	if !bytes.Contains(b.Bytes(), []byte("/Count 2")) {
		t.Fatalf("30 lines should take two pages")
	}
	var again bytes.Buffer
	_ = WriteInvoice(&again, sampleInvoice(30))
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Fatal("the same invoice gave different bytes")
	}
	if err := WriteInvoice(&b, Invoice{Title: "Fattura"}); err == nil {
		t.Fatal("an invoice without lines was rendered")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	path := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(path, b.Bytes()[:len(again.Bytes())], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"Richiesta di rimborso n. 42", "Comune di Tradate", "Totale: 375,00 €", "Solo beni di prima necessità.", "pagina 2 di 2", "Buono spesa riscattato (30)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}
