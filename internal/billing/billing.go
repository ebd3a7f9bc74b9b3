// Package billing holds what the billing activities and the API share about
// an invoice: the statements a merchant declares before its claim is sent
// and the invoice's PDF.
package billing

import (
	"bytes"

	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// Declaration statements a merchant signs before its claim is sent (Italian,
// English), by store.DeclarationItems key.
var Declaration = map[string][2]string{
	"essentials_only": {"I buoni spesa sono stati accettati solo per beni di prima necessità (alimentari, igiene, farmaci da banco).",
		"The food vouchers were accepted only for essentials (food, hygiene, over-the-counter medicines)."},
	"no_alcohol_tobacco": {"Nessun buono è stato usato per alcolici, tabacchi, giochi o lotterie.",
		"No voucher was used for alcohol, tobacco, gambling or lotteries."},
	"no_cash_or_change": {"Non è stato dato resto in denaro né credito su altri acquisti.",
		"No change was given in cash and no credit on other purchases."},
	"redemptions_genuine": {"Ogni riscatto elencato corrisponde a un acquisto reale; non conserviamo né inviamo gli scontrini con il dettaglio degli acquisti.",
		"Every redemption listed is a real purchase; we neither keep nor send receipts detailing what was bought."},
}

// InvoicePDF renders an invoice or claim (deterministic: the same invoice
// gives the same bytes, so what is downloaded is what was sent).
func InvoicePDF(v store.InvoiceView) ([]byte, error) {
	inv := voucherpdf.Invoice{Title: "Fattura", Number: v.Number, PayeeName: v.PayeeName, PayeeID: v.PayeeID,
		Municipality: v.MunicipalityName, Period: v.Period, IssuedAt: v.IssuedAt, TotalCents: v.TotalCents,
		DeclaredAt: v.DeclaredAt}
	if v.Kind == store.InvoiceMerchant {
		inv.Title = "Richiesta di rimborso buoni spesa"
		for _, k := range store.DeclarationItems {
			if v.Declaration[k] {
				inv.Declaration = append(inv.Declaration, Declaration[k][0])
			}
		}
	}
	for _, l := range v.Lines {
		inv.Lines = append(inv.Lines, voucherpdf.InvoiceLine{Date: l.Date, Description: l.Description, AmountCents: l.AmountCents})
	}
	var b bytes.Buffer
	err := voucherpdf.WriteInvoice(&b, inv)
	return b.Bytes(), err
}
