package voucherpdf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"sportello/internal/calendar"
)

// Invoice is a cooperative's invoice or a merchant's reimbursement claim to
// a municipality (issue 5, billing), rendered as an A4 PDF with the same
// small writer as the voucher: header, one table row per line, the total
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
	Declaration  []string // statements the merchant declared (claims)
	DeclaredAt   *time.Time
}

// InvoiceLine is one row of the table.
type InvoiceLine struct {
	Date        time.Time
	Description string
	AmountCents int64
}

const rowsPerPage = 28

// WriteInvoice renders inv and writes it to w.
func WriteInvoice(w io.Writer, inv Invoice) error {
	if len(inv.Lines) == 0 {
		return errors.New("voucherpdf: an invoice without lines")
	}
	var d document
	catalog := d.reserve()
	pages := d.reserve()
	fonts := make([]int, 2)
	for i, f := range []font{helvetica, helveticaBold} {
		fonts[i] = d.add([]byte(fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>", f.baseFont())))
	}
	n := (len(inv.Lines) + rowsPerPage - 1) / rowsPerPage
	var kids []string
	for p := range n {
		from, to := p*rowsPerPage, min((p+1)*rowsPerPage, len(inv.Lines))
		body, err := stream("", invoicePage(inv, p+1, n, inv.Lines[from:to], p == n-1))
		if err != nil {
			return err
		}
		content := d.add(body)
		page := d.add([]byte(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] "+
			"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> /ProcSet [/PDF /Text] >> /Contents %d 0 R >>",
			pages, num(pageW), num(pageH), fonts[0], fonts[1], content)))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	title := fmt.Sprintf("%s n. %d - %s", inv.Title, inv.Number, inv.PayeeName)
	info := d.add([]byte(fmt.Sprintf("<< /Title %s /Subject %s /Producer (Sportello) /Creator (Sportello) >>",
		textString(title), textString("Comune di "+inv.Municipality+", "+inv.Period))))
	d.set(catalog, []byte(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages)))
	d.set(pages, []byte(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)))
	_, err := w.Write(d.bytes(catalog, info))
	return err
}

func invoicePage(inv Invoice, page, pages int, lines []InvoiceLine, last bool) []byte {
	var c canvas
	width := pageW - 2*margin
	y := pageH - margin - 20
	head, size := fit(helveticaBold, 20, 12, width, fmt.Sprintf("%s n. %d", inv.Title, inv.Number))
	c.text(helveticaBold, size, margin, y, ink, head)
	y -= 22
	for _, row := range [][2]string{
		{"Emessa da", inv.PayeeName + " (" + inv.PayeeID + ")"},
		{"Destinatario", "Comune di " + inv.Municipality},
		{"Periodo", inv.Period},
		{"Data di emissione", inv.IssuedAt.In(calendar.Rome()).Format("02/01/2006")},
	} {
		c.text(helveticaBold, 10, margin, y, ink, winAnsi(row[0]+":"))
		v, vs := fit(helvetica, 10, 7, width-110, row[1])
		c.text(helvetica, vs, margin+110, y, ink, v)
		y -= 14
	}
	y -= 10
	c.fill(primaryBg)
	c.rect(margin, y-6, width, 18, "f")
	c.text(helveticaBold, 9, margin+4, y, ink, winAnsi("N."))
	c.text(helveticaBold, 9, margin+34, y, ink, winAnsi("Data"))
	c.text(helveticaBold, 9, margin+100, y, ink, winAnsi("Descrizione"))
	amountLabel := winAnsi("Importo")
	c.text(helveticaBold, 9, pageW-margin-4-textWidth(helveticaBold, 9, amountLabel), y, ink, amountLabel)
	y -= 18
	c.stroke(primary, 0.5)
	for i, l := range lines {
		seq := (page-1)*rowsPerPage + i + 1
		c.text(helvetica, 9, margin+4, y, ink, winAnsi(fmt.Sprint(seq)))
		c.text(helvetica, 9, margin+34, y, ink, winAnsi(l.Date.In(calendar.Rome()).Format("02/01/2006")))
		desc, ds := fit(helvetica, 9, 6, width-200, l.Description)
		c.text(helvetica, ds, margin+100, y, ink, desc)
		amt := winAnsi(euro(l.AmountCents))
		c.text(helvetica, 9, pageW-margin-4-textWidth(helvetica, 9, amt), y, ink, amt)
		c.line(margin, y-5, pageW-margin, y-5)
		y -= 17
	}
	if last {
		y -= 6
		total := winAnsi("Totale: " + euro(inv.TotalCents))
		c.text(helveticaBold, 12, pageW-margin-4-textWidth(helveticaBold, 12, total), y, ink, total)
		y -= 24
		if len(inv.Declaration) > 0 {
			c.text(helveticaBold, 10, margin, y, ink, winAnsi("Autodichiarazione dell'esercente"))
			y -= 14
			for _, s := range inv.Declaration {
				for _, ln := range wrap(helvetica, 9, width-12, s) {
					c.text(helvetica, 9, margin+12, y, ink, ln)
					y -= 12
				}
			}
			if inv.DeclaredAt != nil {
				c.text(helvetica, 9, margin, y, ink, winAnsi("Dichiarato il "+inv.DeclaredAt.In(calendar.Rome()).Format("02/01/2006 15:04")))
			}
		}
	}
	c.stroke(primary, 0.5)
	c.line(margin, footerTop, pageW-margin, footerTop)
	c.text(helvetica, 8, margin, footerTop-14, ink, winAnsi(fmt.Sprintf("Sportello sociale - %s n. %d - pagina %d di %d", inv.Title, inv.Number, page, pages)))
	return c.b.Bytes()
}
