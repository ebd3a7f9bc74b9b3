package voucherpdf

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/skip2/go-qrcode"
)

// Letter is what the Social Point posts to a citizen without e-mail
// (issue 16): a cover letter (the decision and how to use the voucher),
// then, when there is one, the printable voucher on its own page. The
// texts come written in the citizen's language by the caller (from the
// message files).
type Letter struct {
	Sender     string   // e.g. "Comune di Tradate - Sportello sociale"
	Recipient  []string // name, then the postal address lines
	Place      string   // "Tradate, 3 dicembre 2026"
	Subject    string
	Paragraphs []string
	Signature  string
	Voucher    *Voucher // nil: no voucher page
}

// WriteLetter renders l as an A4 PDF (the letter, then the voucher) and
// writes it to w; nothing is written when it cannot be rendered.
func WriteLetter(w io.Writer, l Letter) error {
	if len(l.Recipient) == 0 || strings.TrimSpace(l.Subject) == "" {
		return errors.New("voucherpdf: a letter needs a recipient and a subject")
	}
	var modules [][]bool
	if l.Voucher != nil {
		if strings.TrimSpace(l.Voucher.Code) == "" {
			return errors.New("voucherpdf: empty voucher code")
		}
		qr, err := qrcode.New(l.Voucher.Code, qrcode.Medium)
		if err != nil {
			return fmt.Errorf("voucherpdf: QR code: %w", err)
		}
		qr.DisableBorder = true
		modules = qr.Bitmap()
	}
	c := newCanvas(l.Subject, l.Sender, now())
	c.pdf.AddPage()
	width := pageW - 2*margin
	y := pageH - margin - 10
	c.text(sansBold, 11, margin, y, primary, l.Sender)
	y -= 60
	for i, line := range l.Recipient {
		f := sans
		if i == 0 {
			f = sansBold
		}
		c.text(f, 11, pageW/2, y, ink, line)
		y -= 15
	}
	y -= 30
	c.text(sans, 10, margin, y, ink, l.Place)
	y -= 30
	for _, line := range c.wrap(sansBold, 12, width, l.Subject) {
		c.text(sansBold, 12, margin, y, ink, line)
		y -= 17
	}
	y -= 10
	for _, p := range l.Paragraphs {
		for _, line := range c.wrap(sans, 10.5, width, p) {
			if y < margin+40 {
				c.pdf.AddPage()
				y = pageH - margin
			}
			c.text(sans, 10.5, margin, y, ink, line)
			y -= 15
		}
		y -= 9
	}
	y -= 20
	c.text(sans, 10.5, margin, y, ink, l.Signature)
	if l.Voucher != nil {
		c.pdf.AddPage()
		layout(c, *l.Voucher, modules)
	}
	return c.output(w)
}
