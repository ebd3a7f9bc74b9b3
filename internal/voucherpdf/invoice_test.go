package voucherpdf

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleInvoice(lines int) Invoice {
	declared := time.Date(2026, 10, 31, 17, 5, 0, 0, time.UTC)
	inv := Invoice{Title: "Richiesta di rimborso", Number: 42, PayeeName: "Farmacia Comunale di Tradate", PayeeID: "farmacia-tradate",
		Municipality: "Tradate", Period: "2026-10", IssuedAt: time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC),
		Declaration: []string{"Solo beni di prima necessità.", "Nessuna bevanda alcolica."}, DeclaredAt: &declared}
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
	pdf := b.Bytes()
	var again bytes.Buffer
	if err := WriteInvoice(&again, sampleInvoice(30)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again.Bytes()) {
		t.Fatal("the same invoice gave different bytes")
	}
	if len(pdf) > 80_000 {
		t.Errorf("invoice PDF of %d bytes: are the fonts subset?", len(pdf))
	}
	if err := WriteInvoice(&b, Invoice{Title: "Fattura"}); err == nil {
		t.Fatal("an invoice without lines was rendered")
	}

	info := pdfInfo(t, pdf)
	for _, want := range []string{`Pages:\s+2\n`, `Page size:\s+595.28 x 841.89 pts \(A4\)`, `Producer:\s+Sportello\n`,
		`Title:\s+Richiesta di rimborso n. 42 - Farmacia Comunale di Tradate\n`, `Subject:\s+Comune di Tradate, 2026-10\n`,
		`CreationDate:\s+Sun Nov  1 02:00:00 2026 UTC\n`} {
		if !regexp.MustCompile(want).MatchString(info) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	text := pdfText(t, pdf)
	if m := lacks(text, "Richiesta di rimborso n. 42", "Emessa da:", "Farmacia Comunale di Tradate (farmacia-tradate)",
		"Destinatario:", "Comune di Tradate", "Periodo:", "2026-10", "Data di emissione:", "01/11/2026",
		"Descrizione", "Importo", "12,50 €", "Totale: 375,00 €", "Autodichiarazione dell'esercente",
		"Solo beni di prima necessità.", "Nessuna bevanda alcolica.", "Dichiarato il 31/10/2026 18:05",
		"pagina 1 di 2", "pagina 2 di 2", "Buono spesa riscattato (1)", "Buono spesa riscattato (30)"); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	// 28 rows on the first page, the rest and the total on the second.
	pages := strings.Split(text, "\f")
	if len(pages) < 2 || !strings.Contains(pages[0], "(28)") || strings.Contains(pages[0], "(29)") ||
		strings.Contains(pages[0], "Totale") || !strings.Contains(pages[1], "(29)") {
		t.Errorf("rows not split 28 + 2 over the pages:\n%s", text)
	}
}

// A cooperative's invoice carries no declaration; names print as written.
func TestInvoiceUnicodeAndNoDeclaration(t *testing.T) {
	inv := sampleInvoice(2)
	inv.Title = "Fattura"
	inv.PayeeName = "Cooperativa Sociale Ștefănescu & Wąs"
	inv.Declaration, inv.DeclaredAt = nil, nil
	inv.Lines[0].Description = "Assistenza domiciliare — sig.ra Łucja Dvořáková"
	var b bytes.Buffer
	if err := WriteInvoice(&b, inv); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b.Bytes())
	if m := lacks(text, "Fattura n. 42", "Cooperativa Sociale Ștefănescu & Wąs", "Assistenza domiciliare — sig.ra Łucja Dvořáková",
		"Totale: 25,00 €", "pagina 1 di 1"); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	if strings.Contains(text, "Autodichiarazione") {
		t.Error("a declaration on an invoice without one")
	}
}

// A cooperative's invoice paid by two funders prints what each pays under
// the total; one with a single funder prints nothing more.
func TestInvoicePDFSharesByFunder(t *testing.T) {
	inv := sampleInvoice(2)
	inv.Title, inv.Declaration, inv.DeclaredAt = "Fattura", nil, nil
	inv.Shares = []InvoiceShare{{Funder: "Comune di Tradate (buoni servizio)", AmountCents: 1500},
		{Funder: "Meccanica Tradatese S.r.l. (welfare aziendale)", AmountCents: 1000}}
	var b bytes.Buffer
	if err := WriteInvoice(&b, inv); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b.Bytes())
	if m := lacks(text, "Totale: 25,00 €", "di cui a carico di Comune di Tradate (buoni servizio): 15,00 €",
		"di cui a carico di Meccanica Tradatese S.r.l. (welfare aziendale): 10,00 €"); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	inv.Shares = inv.Shares[:1]
	b.Reset()
	if err := WriteInvoice(&b, inv); err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, b.Bytes()); strings.Contains(text, "di cui a carico") {
		t.Errorf("one funder printed as a share:\n%s", text)
	}
}
