// Package voucherpdf renders the printable food voucher (buono spesa) that a
// citizen downloads from the personal area: a one-page A4 PDF with the code in
// clear, a QR code of the code, the amounts, the expiry, the holder's name and
// short instructions, plus the QR code alone as a PNG for the web page.
//
// The PDFs are drawn with codeberg.org/go-pdf/fpdf and an embedded font
// (pdf.go), so they need no font files and no network at run time.
package voucherpdf

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"sportello/internal/calendar"
	"sportello/internal/i18n"
)

// Voucher is what the printed voucher shows.
type Voucher struct {
	Code           string // e.g. "QWYZ-25YQ-JRGK-DKT5"
	AmountCents    int64
	AvailableCents int64
	PendingCents   int64
	Municipality   string // display name, e.g. "Tradate"
	FundName       string // e.g. "Buoni spesa 2026 - Tradate"
	ExpiresAt      time.Time
	HolderName     string
	Lang           string // "it" (default) or "en"
}

// Write renders v as a one-page A4 PDF and writes it to w. Nothing is written
// when v cannot be rendered (no code, or a code too long for a QR code).
func Write(w io.Writer, v Voucher) error {
	if strings.TrimSpace(v.Code) == "" {
		return errors.New("voucherpdf: empty voucher code")
	}
	qr, err := qrcode.New(v.Code, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("voucherpdf: QR code: %w", err)
	}
	qr.DisableBorder = true // the quiet zone is left white by the layout
	modules := qr.Bitmap()

	c := newCanvas(title(v), strings.TrimSpace(v.FundName), now())
	c.pdf.AddPage()
	layout(c, v, modules)
	return c.output(w)
}

// now is the clock that dates the voucher's PDF (tests fix it).
var now = time.Now

// title is the document title shown by PDF viewers.
func title(v Voucher) string {
	t := "Buono spesa " + strings.TrimSpace(v.Code)
	if m := strings.TrimSpace(v.Municipality); m != "" {
		t += " - Comune di " + m
	}
	return t
}

// QRPNG returns a size×size PNG of the QR code of content, black on white,
// with the standard four-module quiet zone and whole pixels per module (the
// symbol is centred when size is not a multiple of the module count). It fails
// when size is too small to give every module at least one pixel.
func QRPNG(content string, size int) ([]byte, error) {
	if content == "" {
		return nil, errors.New("voucherpdf: empty QR content")
	}
	qr, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("voucherpdf: QR code: %w", err)
	}
	modules := qr.Bitmap() // quiet zone included
	n := len(modules)
	if size < n {
		return nil, fmt.Errorf("voucherpdf: QR image of %d pixels is too small, need at least %d", size, n)
	}
	scale := size / n
	offset := (size - scale*n) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for row, line := range modules {
		for col, dark := range line {
			if !dark {
				continue
			}
			for y := offset + row*scale; y < offset+(row+1)*scale; y++ {
				start := img.PixOffset(offset+col*scale, y)
				for i := range scale {
					img.Pix[start+i] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// euro formats cents the Italian way: "1.234,50 €".
func euro(cents int64) string { return i18n.Money(i18n.IT, cents) }

// texts holds the wording of the voucher in one language.
type texts struct {
	title, codeLabel, awarded, available, pending, expires, holder, qrCaption string
	howTo                                                                     string
	steps                                                                     []string
	personal                                                                  string
	footer                                                                    string
	merchantPart, holderPart                                                  string
}

// textsIn is the wording of the voucher in lang, from the message files.
func textsIn(lang string) texts {
	t := func(id string) string { return i18n.T(lang, "pdf.voucher."+id) }
	return texts{
		title: t("title"), codeLabel: t("code_label"), awarded: t("awarded"), available: t("available"),
		pending: t("pending"), expires: t("expires"), holder: t("holder"), qrCaption: t("qr_caption"),
		howTo: t("how_to"), steps: []string{t("step1"), t("step2"), t("step3")}, personal: t("personal"),
		footer: t("footer"), merchantPart: t("merchant_part"), holderPart: t("holder_part"),
	}
}

var (
	italian = textsIn(i18n.IT)
	english = textsIn(i18n.EN)
)

// label joins the Italian and, for English readers, the English wording.
func label(it, en string, english bool) string {
	if english && en != "" {
		return it + " / " + en
	}
	return it
}

// box is a rectangle on the page, in points from the bottom left corner.
type box struct{ x, y, w, h float64 }

// layout draws the page around the QR code's modules (quiet zone excluded)
// and returns where the QR code is drawn.
func layout(c *canvas, v Voucher, modules [][]bool) box {
	isEN := strings.EqualFold(strings.TrimSpace(v.Lang), "en")
	it, en := italian, english
	if !isEN {
		en = texts{}
	}
	n := len(modules)
	contentW := pageW - 2*margin

	// Header band.
	c.fill(primary)
	c.rect(0, pageH-100, pageW, 100, "F")
	if m := strings.TrimSpace(v.Municipality); m != "" {
		s, size := c.fit(sansBold, 11, 7, contentW, strings.ToUpper(i18n.T(i18n.IT, "pdf.voucher.municipality", m)))
		c.text(sansBold, size, margin, pageH-34, white, s)
	}
	s, size := c.fit(sansBold, 28, 16, contentW, label(it.title, en.title, isEN))
	c.text(sansBold, size, margin, pageH-66, white, s)
	if f := strings.TrimSpace(v.FundName); f != "" {
		s, size := c.fit(sans, 12, 7, contentW, f)
		c.text(sans, size, margin, pageH-86, white, s)
	}

	// The voucher card: code on top, details on the left, QR on the right.
	cardTop := pageH - 120
	inner := margin + 20
	innerW := contentW - 40
	y := cardTop - 26
	s, size = c.fit(sansBold, 9, 6, innerW, label(it.codeLabel, en.codeLabel, isEN))
	c.centred(sansBold, size, pageW/2, y, ink, s)
	boxH := 48.0
	boxTop := y - 10
	c.fill(primaryBg)
	c.rect(inner, boxTop-boxH, innerW, boxH, "F")
	code, codeSize := c.fit(mono, 32, 10, innerW-20, strings.TrimSpace(v.Code))
	// Courier capitals are about 0.57 em tall: centre them in the box.
	c.centred(mono, codeSize, pageW/2, boxTop-boxH/2-0.57*codeSize/2, ink, code)

	// The QR code keeps its four-module quiet zone clear of the card border,
	// the code box, the caption and the details. Each run of dark modules in
	// a row is one black rectangle.
	qrSize := 170.0
	m := qrSize / float64(n)
	quiet := 4 * m
	qrX := pageW - margin - quiet - qrSize
	qrTop := boxTop - boxH - quiet
	c.fill(rgb{0, 0, 0})
	for row, line := range modules {
		for col := 0; col < n; col++ {
			if !line[col] {
				continue
			}
			end := col
			for end < n && line[end] {
				end++
			}
			c.rect(qrX+float64(col)*m, qrTop-float64(row+1)*m, float64(end-col)*m, m, "F")
			col = end
		}
	}
	s, size = c.fit(sans, 8.5, 6, qrSize+quiet, label(it.qrCaption, en.qrCaption, isEN))
	bottom := qrTop - qrSize - quiet - 7
	c.centred(sans, size, qrX+qrSize/2, bottom, ink, s)

	colW := qrX - quiet - inner
	row := func(lbl string, value string, valueFont font, valueSize float64, col rgb) {
		ls, lsize := c.fit(sans, 9.5, 6, colW, lbl)
		c.text(sans, lsize, inner, y, ink, ls)
		vs, vsize := c.fit(valueFont, valueSize, 8, colW, value)
		c.text(valueFont, vsize, inner, y-valueSize-3, col, vs)
		y -= valueSize + 26
	}
	y = qrTop - 8
	row(label(it.awarded, en.awarded, isEN), euro(v.AmountCents), sansBold, 20, ink)
	row(label(it.available, en.available, isEN), euro(v.AvailableCents), sansBold, 20, primary)
	if v.PendingCents != 0 {
		row(label(it.pending, en.pending, isEN), euro(v.PendingCents), sansBold, 14, ink)
	}
	// The expiry in the one wording of the platform (i18n.ValidUntil), in
	// the reader's language.
	lang := i18n.IT
	if isEN {
		lang = i18n.EN
	}
	row(label(it.expires, en.expires, isEN), i18n.ValidUntil(lang, v.ExpiresAt, calendar.Rome()), sansBold, 14, ink)
	if y+10 < bottom {
		bottom = y + 10
	}
	cardBottom := bottom - 18
	c.stroke(primary, 1.2)
	c.rect(margin, cardBottom, contentW, cardTop-cardBottom, "D")
	s, size = c.fit(sansBold, 8, 6, contentW, label(it.merchantPart, en.merchantPart, isEN))
	c.text(sansBold, size, margin, cardTop+6, ink, s)

	// The cut line: the card above is what the shop sees, and carries no
	// name; the holder's part below it is theirs to keep.
	cut := cardBottom - 16
	c.stroke(ink, 0.6)
	c.pdf.SetDashPattern([]float64{5, 3}, 0)
	c.line(margin, cut, pageW-margin, cut)
	c.pdf.SetDashPattern([]float64{}, 0)
	y = cut - 14
	s, size = c.fit(sansBold, 9, 6, contentW, label(it.holderPart, en.holderPart, isEN))
	c.text(sansBold, size, margin, y, ink, s)
	holder := strings.TrimSpace(v.HolderName)
	if holder == "" {
		holder = "-"
	}
	y -= 18
	ls, lsize := c.fit(sans, 9.5, 6, contentW/2, label(it.holder, en.holder, isEN)+":")
	c.text(sans, lsize, margin, y, ink, ls)
	lw := c.width(sans, lsize, ls) + 6
	hs, hsize := c.fit(sansBold, 12, 8, contentW-lw, holder)
	c.text(sansBold, hsize, margin+lw, y, ink, hs)
	holderBottom := y

	// Instructions, in Italian and, for English readers, in English too,
	// then the warning that the voucher is personal. The body type is the
	// largest size at which both fit above the footer.
	body := 8.0
	for _, b := range []float64{10.5, 10, 9.5, 9, 8.5} {
		if instructions(c, holderBottom-26, b, it, en, false) >= footerTop+12 {
			body = b
			break
		}
	}
	instructions(c, holderBottom-26, body, it, en, true)

	// Footer.
	c.stroke(ink, 0.5)
	c.line(margin, footerTop, pageW-margin, footerTop)
	foot := it.footer
	if m := strings.TrimSpace(v.Municipality); m != "" {
		foot += " - " + i18n.T(i18n.IT, "pdf.voucher.municipality", m)
	}
	s, size = c.fit(mono, 8, 6, contentW*0.4, strings.TrimSpace(v.Code))
	codeW := c.width(mono, size, s)
	c.text(mono, size, pageW-margin-codeW, 38, ink, s)
	s, size = c.fit(sans, 8, 6, contentW-codeW-12, foot)
	c.text(sans, size, margin, 38, ink, s)
	return box{qrX, qrTop - qrSize, qrSize, qrSize}
}

// instructions lays out the numbered steps (Italian, then English when en
// has any) starting with a heading at y, and the personal-voucher warning
// below them, with body text of the given size; it draws them only when
// draw is set. It returns the lowest y it uses.
func instructions(c *canvas, y, body float64, it, en texts, draw bool) float64 {
	contentW := pageW - 2*margin
	lead := body * 1.33
	text := func(f font, size, x, y float64, col rgb, s string) {
		if draw {
			c.text(f, size, x, y, col, s)
		}
	}
	steps := func(t texts) {
		text(sansBold, body+2.5, margin, y, ink, t.howTo)
		y -= body + 9.5
		for i, step := range t.steps {
			text(sansBold, body, margin, y, primary, fmt.Sprintf("%d.", i+1))
			for _, l := range c.wrap(sans, body, contentW-18, step) {
				text(sans, body, margin+18, y, ink, l)
				y -= lead
			}
			y -= body * 0.4
		}
	}
	steps(it)
	if len(en.steps) > 0 {
		y -= body * 0.8
		steps(en)
	}

	var note []string
	for _, t := range []string{it.personal, en.personal} {
		if t != "" {
			note = append(note, c.wrap(sansBold, body-0.5, contentW-32, t)...)
		}
	}
	noteLead := (body - 0.5) * 1.3
	noteH := float64(len(note))*noteLead + 18
	noteTop := y - body*0.8
	if draw {
		c.fill(warningBg)
		c.rect(margin, noteTop-noteH, contentW, noteH, "F")
		c.fill(warning)
		c.rect(margin, noteTop-noteH, 5, noteH, "F")
	}
	ly := noteTop - 9 - (body-0.5)*0.95
	for _, l := range note {
		text(sansBold, body-0.5, margin+18, ly, ink, l)
		ly -= noteLead
	}
	return noteTop - noteH
}
