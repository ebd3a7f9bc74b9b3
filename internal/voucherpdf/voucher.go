// Package voucherpdf renders the printable food voucher (buono spesa) that a
// citizen downloads from the personal area: a one-page A4 PDF with the code in
// clear, a QR code of the code, the amounts, the expiry, the holder's name and
// short instructions, plus the QR code alone as a PNG for the web page.
//
// The PDF is written by hand (PDF 1.4, standard Type 1 fonts with
// WinAnsiEncoding, the QR code drawn as filled squares), so it needs no font
// files and no network at run time.
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

// A4 in points.
const (
	pageW     = 595.28
	pageH     = 841.89
	margin    = 48.0
	footerTop = 52.0 // the rule above the footer
)

// Colours of the Italian public-administration palette (Bootstrap Italia).
type rgb [3]float64

var (
	primary   = rgb{0, 0.4, 0.8}         // #0066CC
	primaryBg = rgb{0.902, 0.941, 0.980} // #E6F0FA
	ink       = rgb{0.090, 0.196, 0.302} // #17324D
	white     = rgb{1, 1, 1}             // #FFFFFF
	warning   = rgb{0.651, 0.388, 0}     // #A66300
	warningBg = rgb{1, 0.961, 0.902}     // #FFF5E6
)

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

	var d document
	catalog := d.reserve()
	pages := d.reserve()
	page := d.reserve()
	fonts := make([]int, 3)
	for i, f := range []font{helvetica, helveticaBold, courierBold} {
		fonts[i] = d.add([]byte(fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>", f.baseFont())))
	}
	qrBody, err := stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 %d %d] /Resources << >>", len(modules), len(modules)), qrContent(modules))
	if err != nil {
		return err
	}
	qrObj := d.add(qrBody)
	drawing, _ := layout(v, len(modules))
	contentBody, err := stream("", drawing)
	if err != nil {
		return err
	}
	content := d.add(contentBody)
	info := d.add([]byte(fmt.Sprintf("<< /Title %s /Subject %s /Producer (Sportello) /Creator (Sportello) >>",
		textString(title(v)), textString(strings.TrimSpace(v.FundName)))))

	d.set(catalog, []byte(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages)))
	d.set(pages, []byte(fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page)))
	d.set(page, []byte(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] "+
		"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R >> /XObject << /QR %d 0 R >> /ProcSet [/PDF /Text] >> "+
		"/Contents %d 0 R >>", pages, num(pageW), num(pageH), fonts[0], fonts[1], fonts[2], qrObj, content)))

	_, err = w.Write(d.bytes(catalog, info))
	return err
}

// title is the document title shown by PDF viewers.
func title(v Voucher) string {
	t := "Buono spesa " + strings.TrimSpace(v.Code)
	if m := strings.TrimSpace(v.Municipality); m != "" {
		t += " - Comune di " + m
	}
	return t
}

// qrContent draws one unit square per dark module, in module units with the
// origin at the bottom left: the page scales it to the printed size.
func qrContent(modules [][]bool) []byte {
	var b bytes.Buffer
	b.WriteString("0 0 0 rg\n")
	n := len(modules)
	for row, line := range modules {
		for col, dark := range line {
			if dark {
				fmt.Fprintf(&b, "%d %d 1 1 re\n", col, n-1-row)
			}
		}
	}
	b.WriteString("f\n")
	return b.Bytes()
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
func euro(cents int64) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign = "-"
		u = -u
	}
	units := fmt.Sprintf("%d", u/100)
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ",%02d €", u%100)
	return b.String()
}

// expiry formats the expiry instant in Italian time: date and time of day.
func expiry(t time.Time) (date, clock string) {
	t = t.In(calendar.Rome())
	return t.Format("02/01/2006"), t.Format("15:04")
}

// canvas accumulates the page content stream.
type canvas struct {
	b bytes.Buffer
}

func (c *canvas) fill(col rgb) {
	fmt.Fprintf(&c.b, "%s %s %s rg\n", num(col[0]), num(col[1]), num(col[2]))
}

func (c *canvas) stroke(col rgb, width float64) {
	fmt.Fprintf(&c.b, "%s %s %s RG %s w\n", num(col[0]), num(col[1]), num(col[2]), num(width))
}

func (c *canvas) rect(x, y, w, h float64, op string) {
	fmt.Fprintf(&c.b, "%s %s %s %s re %s\n", num(x), num(y), num(w), num(h), op)
}

func (c *canvas) line(x1, y1, x2, y2 float64) {
	fmt.Fprintf(&c.b, "%s %s m %s %s l S\n", num(x1), num(y1), num(x2), num(y2))
}

// text draws already encoded WinAnsi text with its baseline starting at x, y.
func (c *canvas) text(f font, size, x, y float64, col rgb, s []byte) {
	if len(s) == 0 {
		return
	}
	c.fill(col)
	fmt.Fprintf(&c.b, "BT %s %s Tf %s %s Td (%s) Tj ET\n", f.resource(), num(size), num(x), num(y), escape(s))
}

// centred draws s centred on x.
func (c *canvas) centred(f font, size, x, y float64, col rgb, s []byte) {
	c.text(f, size, x-textWidth(f, size, s)/2, y, col, s)
}

// fit returns s set at the largest size from max down to min that fits width;
// at min size it cuts s and ends it with an ellipsis.
func fit(f font, max, min, width float64, s string) ([]byte, float64) {
	enc := winAnsi(s)
	for size := max; size >= min; size -= 0.5 {
		if textWidth(f, size, enc) <= width {
			return enc, size
		}
	}
	for len(enc) > 0 && textWidth(f, min, append(enc[:len(enc):len(enc)], 0x85)) > width {
		enc = enc[:len(enc)-1]
	}
	return append(enc, 0x85), min
}

// wrap breaks s into lines no wider than width.
func wrap(f font, size, width float64, s string) [][]byte {
	var lines [][]byte
	var cur []byte
	for _, word := range strings.Fields(s) {
		w := winAnsi(word)
		try := w
		if len(cur) > 0 {
			try = append(append(append([]byte{}, cur...), ' '), w...)
		}
		if len(cur) > 0 && textWidth(f, size, try) > width {
			lines = append(lines, cur)
			try = w
		}
		// a single word wider than the line is cut
		for textWidth(f, size, try) > width && len(try) > 1 {
			cut := len(try) - 1
			for cut > 1 && textWidth(f, size, try[:cut]) > width {
				cut--
			}
			lines = append(lines, try[:cut])
			try = try[cut:]
		}
		cur = try
	}
	if len(cur) > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// texts holds the wording of the voucher in one language.
type texts struct {
	title, codeLabel, awarded, available, pending, expires, at, holder, qrCaption string
	howTo                                                                         string
	steps                                                                         []string
	personal                                                                      string
	footer                                                                        string
}

var italian = texts{
	title:     "Buono spesa",
	codeLabel: "CODICE DEL BUONO",
	awarded:   "Importo assegnato",
	available: "Disponibile ora",
	pending:   "Ancora da accreditare",
	expires:   "Scadenza",
	at:        "alle ore",
	holder:    "Intestatario",
	qrCaption: "Codice QR del buono",
	howTo:     "Come si usa",
	steps: []string{
		"Mostra il buono, stampato o sullo schermo del telefono, in un esercizio convenzionato: l’esercente inquadra il codice QR oppure digita il codice.",
		"Puoi spenderlo in più volte, fino all’importo disponibile ed entro la scadenza. L’esercente non vede il tuo nome.",
		"Saldo e movimenti aggiornati sono nella tua area personale dello Sportello: gli importi qui sopra sono quelli del momento in cui hai scaricato il buono.",
	},
	personal: "Il buono è personale e non cedibile. Non condividere il codice: chi lo conosce può spendere il tuo credito. In caso di smarrimento rivolgiti subito ai servizi sociali del Comune.",
	footer:   "Sportello sociale - buono spesa",
}

var english = texts{
	title:     "Food voucher",
	codeLabel: "VOUCHER CODE",
	awarded:   "Amount awarded",
	available: "Available now",
	pending:   "Still to be credited",
	expires:   "Expires",
	at:        "at",
	holder:    "Holder",
	qrCaption: "Voucher QR code",
	howTo:     "How to use it",
	steps: []string{
		"Show the voucher, printed or on your phone screen, at an affiliated shop: the shopkeeper scans the QR code or types the code.",
		"You can spend it in several purchases, up to the available amount and before it expires. The shopkeeper does not see your name.",
		"Your current balance and movements are in your personal area on Sportello: the amounts above are those at the time you downloaded the voucher.",
	},
	personal: "This voucher is personal and may not be transferred. Do not share the code: anyone who knows it can spend your credit. If you lose it, contact the municipal social services at once.",
	footer:   "Sportello - food voucher",
}

// label joins the Italian and, for English readers, the English wording.
func label(it, en string, english bool) string {
	if english && en != "" {
		return it + " / " + en
	}
	return it
}

// box is a rectangle on the page, in points from the bottom left corner.
type box struct{ x, y, w, h float64 }

// layout draws the page; n is the QR code's size in modules. It also returns
// where the QR code is drawn.
func layout(v Voucher, n int) ([]byte, box) {
	isEN := strings.EqualFold(strings.TrimSpace(v.Lang), "en")
	it, en := italian, english
	if !isEN {
		en = texts{}
	}
	var c canvas
	contentW := pageW - 2*margin

	// Header band.
	c.fill(primary)
	c.rect(0, pageH-100, pageW, 100, "f")
	if m := strings.TrimSpace(v.Municipality); m != "" {
		s, size := fit(helveticaBold, 11, 7, contentW, strings.ToUpper("Comune di "+m))
		c.text(helveticaBold, size, margin, pageH-34, white, s)
	}
	s, size := fit(helveticaBold, 28, 16, contentW, label(it.title, en.title, isEN))
	c.text(helveticaBold, size, margin, pageH-66, white, s)
	if f := strings.TrimSpace(v.FundName); f != "" {
		s, size := fit(helvetica, 12, 7, contentW, f)
		c.text(helvetica, size, margin, pageH-86, white, s)
	}

	// The voucher card: code on top, details on the left, QR on the right.
	cardTop := pageH - 120
	inner := margin + 20
	innerW := contentW - 40
	y := cardTop - 26
	s, size = fit(helveticaBold, 9, 6, innerW, label(it.codeLabel, en.codeLabel, isEN))
	c.centred(helveticaBold, size, pageW/2, y, ink, s)
	boxH := 48.0
	boxTop := y - 10
	c.fill(primaryBg)
	c.rect(inner, boxTop-boxH, innerW, boxH, "f")
	code, codeSize := fit(courierBold, 32, 10, innerW-20, strings.TrimSpace(v.Code))
	// Courier capitals are about 0.57 em tall: centre them in the box.
	c.centred(courierBold, codeSize, pageW/2, boxTop-boxH/2-0.57*codeSize/2, ink, code)

	// The QR code keeps its four-module quiet zone clear of the card border,
	// the code box, the caption and the details.
	qrSize := 170.0
	quiet := 4 * qrSize / float64(n)
	qrX := pageW - margin - quiet - qrSize
	qrTop := boxTop - boxH - quiet
	c.b.WriteString("q\n")
	fmt.Fprintf(&c.b, "%s 0 0 %s %s %s cm\n/QR Do\nQ\n", num(qrSize/float64(n)), num(qrSize/float64(n)), num(qrX), num(qrTop-qrSize))
	s, size = fit(helvetica, 8.5, 6, qrSize+quiet, label(it.qrCaption, en.qrCaption, isEN))
	bottom := qrTop - qrSize - quiet - 7
	c.centred(helvetica, size, qrX+qrSize/2, bottom, ink, s)

	colW := qrX - quiet - inner
	row := func(lbl string, value string, valueFont font, valueSize float64, col rgb) {
		ls, lsize := fit(helvetica, 9.5, 6, colW, lbl)
		c.text(helvetica, lsize, inner, y, ink, ls)
		vs, vsize := fit(valueFont, valueSize, 8, colW, value)
		c.text(valueFont, vsize, inner, y-valueSize-3, col, vs)
		y -= valueSize + 26
	}
	y = qrTop - 8
	row(label(it.awarded, en.awarded, isEN), euro(v.AmountCents), helveticaBold, 20, ink)
	row(label(it.available, en.available, isEN), euro(v.AvailableCents), helveticaBold, 20, primary)
	if v.PendingCents != 0 {
		row(label(it.pending, en.pending, isEN), euro(v.PendingCents), helveticaBold, 14, ink)
	}
	date, clock := expiry(v.ExpiresAt)
	when := date + " " + it.at + " " + clock
	if isEN {
		when = date + " " + en.at + " " + clock
	}
	expiresLabel := label(it.expires, en.expires, isEN)
	if clock == "00:00" {
		// A voucher that ends at midnight is valid through the day before:
		// say that, rather than a date a citizen would take as still good.
		last := v.ExpiresAt.In(calendar.Rome()).AddDate(0, 0, -1).Format("02/01/2006")
		expiresLabel, when = label("Valido fino al", "Valid through", isEN), last+" (incluso)"
		if isEN {
			when = last + " (incluso / inclusive)"
		}
	}
	row(expiresLabel, when, helveticaBold, 14, ink)
	holder := strings.TrimSpace(v.HolderName)
	if holder == "" {
		holder = "-"
	}
	row(label(it.holder, en.holder, isEN), holder, helveticaBold, 14, ink)
	if y+10 < bottom {
		bottom = y + 10
	}
	cardBottom := bottom - 18
	c.stroke(primary, 1.2)
	c.rect(margin, cardBottom, contentW, cardTop-cardBottom, "S")

	// Instructions, in Italian and, for English readers, in English too,
	// then the warning that the voucher is personal. The body type shrinks
	// until both fit above the footer.
	mark := c.b.Len()
	for _, body := range []float64{10.5, 10, 9.5, 9, 8.5, 8} {
		c.b.Truncate(mark)
		if instructions(&c, cardBottom-30, body, it, en) >= footerTop+12 {
			break
		}
	}

	// Footer.
	c.stroke(ink, 0.5)
	c.line(margin, footerTop, pageW-margin, footerTop)
	foot := it.footer
	if m := strings.TrimSpace(v.Municipality); m != "" {
		foot += " - Comune di " + m
	}
	s, size = fit(courierBold, 8, 6, contentW*0.4, strings.TrimSpace(v.Code))
	codeW := textWidth(courierBold, size, s)
	c.text(courierBold, size, pageW-margin-codeW, 38, ink, s)
	s, size = fit(helvetica, 8, 6, contentW-codeW-12, foot)
	c.text(helvetica, size, margin, 38, ink, s)
	return c.b.Bytes(), box{qrX, qrTop - qrSize, qrSize, qrSize}
}

// instructions draws the numbered steps (Italian, then English when en has
// any) starting with a heading at y, and the personal-voucher warning below
// them, with body text of the given size. It returns the lowest y it used.
func instructions(c *canvas, y, body float64, it, en texts) float64 {
	contentW := pageW - 2*margin
	lead := body * 1.33
	steps := func(t texts) {
		c.text(helveticaBold, body+2.5, margin, y, ink, winAnsi(t.howTo))
		y -= body + 9.5
		for i, step := range t.steps {
			c.text(helveticaBold, body, margin, y, primary, winAnsi(fmt.Sprintf("%d.", i+1)))
			for _, l := range wrap(helvetica, body, contentW-18, step) {
				c.text(helvetica, body, margin+18, y, ink, l)
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

	var note [][]byte
	for _, t := range []string{it.personal, en.personal} {
		if t != "" {
			note = append(note, wrap(helveticaBold, body-0.5, contentW-32, t)...)
		}
	}
	noteLead := (body - 0.5) * 1.3
	noteH := float64(len(note))*noteLead + 18
	noteTop := y - body*0.8
	c.fill(warningBg)
	c.rect(margin, noteTop-noteH, contentW, noteH, "f")
	c.fill(warning)
	c.rect(margin, noteTop-noteH, 5, noteH, "f")
	ly := noteTop - 9 - (body-0.5)*0.95
	for _, l := range note {
		c.text(helveticaBold, body-0.5, margin+18, ly, ink, l)
		ly -= noteLead
	}
	return noteTop - noteH
}
