package voucherpdf

import (
	"errors"
	"fmt"
	"io"
	"time"

	"sportello/internal/calendar"
)

// Invoice is a cooperative's invoice or a merchant's reimbursement claim to
// a municipality (billing), rendered as an A4 PDF in the same style as the
// voucher: header, one table row per line, the total
// and, for claims, the merchant's self-declaration. Italian only: it is a
// document for the municipality's accounting office.
type Invoice struct {
	Title        string // e.g. "Fattura" or "Richiesta di rimborso"
	Number       int64
	PayeeName    string
	PayeeID      string
	Municipality string // display name
	Period       string // YYYY-MM
	IssuedAt     time.Time
	Lines        []InvoiceLine
	TotalCents   int64
	// Shares are the totals by funder ("di cui a carico di ..."), printed
	// under the total when an invoice has more than one funder.
	Shares      []InvoiceShare
	Declaration []string // statements the merchant declared (claims)
	DeclaredAt  *time.Time
}

// InvoiceShare is what one funder pays of an invoice.
type InvoiceShare struct {
	Funder      string // who pays, as printed
	AmountCents int64
}

// InvoiceLine is one row of the table.
type InvoiceLine struct {
	Date        time.Time
	Description string
	AmountCents int64
}

const rowsPerPage = 28

// WriteInvoice renders inv and writes it to w. The document is dated by
// its issue date, so the same invoice always gives the same bytes.
func WriteInvoice(w io.Writer, inv Invoice) error {
	if len(inv.Lines) == 0 {
		return errors.New("voucherpdf: an invoice without lines")
	}
	c := newCanvas(fmt.Sprintf("%s n. %d - %s", inv.Title, inv.Number, inv.PayeeName),
		"Comune di "+inv.Municipality+", "+inv.Period, inv.IssuedAt)
	n := (len(inv.Lines) + rowsPerPage - 1) / rowsPerPage
	for p := range n {
		from, to := p*rowsPerPage, min((p+1)*rowsPerPage, len(inv.Lines))
		c.pdf.AddPage()
		invoicePage(c, inv, p+1, n, inv.Lines[from:to], p == n-1)
	}
	return c.output(w)
}

func invoicePage(c *canvas, inv Invoice, page, pages int, lines []InvoiceLine, last bool) {
	width := pageW - 2*margin
	y := pageH - margin - 20
	head, size := c.fit(sansBold, 20, 12, width, fmt.Sprintf("%s n. %d", inv.Title, inv.Number))
	c.text(sansBold, size, margin, y, ink, head)
	y -= 22
	for _, row := range [][2]string{
		{"Emessa da", inv.PayeeName + " (" + inv.PayeeID + ")"},
		{"Destinatario", "Comune di " + inv.Municipality},
		{"Periodo", inv.Period},
		{"Data di emissione", inv.IssuedAt.In(calendar.Rome()).Format("02/01/2006")},
	} {
		c.text(sansBold, 10, margin, y, ink, row[0]+":")
		v, vs := c.fit(sans, 10, 7, width-110, row[1])
		c.text(sans, vs, margin+110, y, ink, v)
		y -= 14
	}
	y -= 10
	c.fill(primaryBg)
	c.rect(margin, y-6, width, 18, "F")
	c.text(sansBold, 9, margin+4, y, ink, "N.")
	c.text(sansBold, 9, margin+34, y, ink, "Data")
	c.text(sansBold, 9, margin+100, y, ink, "Descrizione")
	c.right(sansBold, 9, pageW-margin-4, y, ink, "Importo")
	y -= 18
	c.stroke(primary, 0.5)
	for i, l := range lines {
		seq := (page-1)*rowsPerPage + i + 1
		c.text(sans, 9, margin+4, y, ink, fmt.Sprint(seq))
		c.text(sans, 9, margin+34, y, ink, l.Date.In(calendar.Rome()).Format("02/01/2006"))
		desc, ds := c.fit(sans, 9, 6, width-200, l.Description)
		c.text(sans, ds, margin+100, y, ink, desc)
		c.right(sans, 9, pageW-margin-4, y, ink, euro(l.AmountCents))
		c.line(margin, y-5, pageW-margin, y-5)
		y -= 17
	}
	if last {
		y -= 6
		c.right(sansBold, 12, pageW-margin-4, y, ink, "Totale: "+euro(inv.TotalCents))
		y -= 24
		if len(inv.Shares) > 1 {
			for _, sh := range inv.Shares {
				c.right(sans, 9, pageW-margin-4, y+8, ink, "di cui a carico di "+sh.Funder+": "+euro(sh.AmountCents))
				y -= 12
			}
			y -= 8
		}
		if len(inv.Declaration) > 0 {
			c.text(sansBold, 10, margin, y, ink, "Autodichiarazione dell'esercente")
			y -= 14
			for _, s := range inv.Declaration {
				for _, ln := range c.wrap(sans, 9, width-12, s) {
					c.text(sans, 9, margin+12, y, ink, ln)
					y -= 12
				}
			}
			if inv.DeclaredAt != nil {
				c.text(sans, 9, margin, y, ink, "Dichiarato il "+inv.DeclaredAt.In(calendar.Rome()).Format("02/01/2006 15:04"))
			}
		}
	}
	c.stroke(primary, 0.5)
	c.line(margin, footerTop, pageW-margin, footerTop)
	foot, fs := c.fit(sans, 8, 6, width, fmt.Sprintf("Sportello sociale - %s n. %d - pagina %d di %d", inv.Title, inv.Number, page, pages))
	c.text(sans, fs, margin, footerTop-14, ink, foot)
}
