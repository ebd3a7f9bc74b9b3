// Package billing holds what the billing activities and the API share about
// an invoice: the statements a merchant declares before its claim is sent
// and the invoice's PDF.
package billing

import (
	"bytes"
	"slices"

	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
)

// Statement is the statement key (one of store.DeclarationItems) of the
// declaration a merchant signs before its claim is sent, as the message
// "inv.decl.statement.<key>"; ok is false for a key that is none of them.
func Statement(key string) (text i18n.Message, ok bool) {
	if !slices.Contains(store.DeclarationItems, key) {
		return i18n.Message{}, false
	}
	return i18n.M("inv.decl.statement." + key), true
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
				text, _ := Statement(k)
				inv.Declaration = append(inv.Declaration, text.In(i18n.IT))
			}
		}
	}
	for _, l := range v.Lines {
		inv.Lines = append(inv.Lines, voucherpdf.InvoiceLine{Date: l.Date, Description: l.Description, AmountCents: l.AmountCents})
	}
	for _, f := range v.Funders {
		who := "Comune di " + v.MunicipalityName + " (buoni servizio)"
		if f.Funder == store.FunderCompany {
			who = f.CompanyName + " (welfare aziendale)"
		}
		inv.Shares = append(inv.Shares, voucherpdf.InvoiceShare{Funder: who, AmountCents: f.TotalCents})
	}
	var b bytes.Buffer
	err := voucherpdf.WriteInvoice(&b, inv)
	return b.Bytes(), err
}
