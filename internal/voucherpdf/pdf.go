package voucherpdf

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// The documents are drawn with codeberg.org/go-pdf/fpdf. Text is set in
// DejaVu Sans, embedded here and subset by fpdf into each PDF, so names in
// any Latin, Greek or Cyrillic script print as written (Romanian ș and ț,
// Polish ł, Albanian ë, Ukrainian names...); the voucher code is set in the
// standard Courier-Bold, which needs no embedding. fonts/LICENSE holds the
// fonts' licence.

var (
	//go:embed fonts/DejaVuSans.ttf
	sansTTF []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	sansBoldTTF []byte
)

// font is one of the three faces the documents use.
type font int

const (
	sans     font = iota // DejaVu Sans
	sansBold             // DejaVu Sans Bold
	mono                 // Courier-Bold, for the voucher code
)

// covered reports which characters DejaVu Sans (regular and bold) can draw;
// anything else is printed as '?' rather than as an empty box.
var covered = sync.OnceValue(func() func(rune) bool {
	var faces []*sfnt.Font
	for _, ttf := range [][]byte{sansTTF, sansBoldTTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			panic("voucherpdf: embedded font: " + err.Error())
		}
		faces = append(faces, f)
	}
	var mu sync.Mutex
	var buf sfnt.Buffer
	return func(r rune) bool {
		if r > 0xFFFF { // fpdf's UTF-8 fonts cover the Basic Multilingual Plane
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for _, f := range faces {
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				return false
			}
		}
		return true
	}
})

// clean prepares text for the page: composed form (a name typed as "o" plus
// a combining accent prints as "ò"), line breaks and tabs as spaces, other
// control and format characters dropped, characters the font lacks as '?'.
func clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		case r < 0x80 || covered()(r):
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// A4 in points.
const (
	pageW     = 595.28
	pageH     = 841.89
	margin    = 48.0
	footerTop = 52.0 // the rule above the footer
)

// Colours of the Italian public-administration palette (Bootstrap Italia).
type rgb [3]int

var (
	primary   = rgb{0x00, 0x66, 0xCC}
	primaryBg = rgb{0xE6, 0xF0, 0xFA}
	ink       = rgb{0x17, 0x32, 0x4D}
	white     = rgb{0xFF, 0xFF, 0xFF}
	warning   = rgb{0xA6, 0x63, 0x00}
	warningBg = rgb{0xFF, 0xF5, 0xE6}
)

// canvas draws on an fpdf document in points from the bottom left corner
// of the page, as PDF itself does (fpdf counts from the top).
type canvas struct {
	pdf    *fpdf.Fpdf
	cp1252 func(string) string // for the standard font
}

// newCanvas starts an A4 document with its metadata; created is its
// creation date (written in UTC: fpdf writes no time zone).
func newCanvas(title, subject string, created time.Time) *canvas {
	pdf := fpdf.New("P", "pt", "A4", "")
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetCatalogSort(true) // the same input gives the same bytes
	created = created.UTC()
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetProducer("Sportello", true)
	pdf.SetCreator("Sportello", true)
	pdf.SetTitle(clean(title), true)
	pdf.SetSubject(clean(subject), true)
	pdf.AddUTF8FontFromBytes("DejaVu", "", sansTTF)
	pdf.AddUTF8FontFromBytes("DejaVu", "B", sansBoldTTF)
	return &canvas{pdf: pdf, cp1252: pdf.UnicodeTranslatorFromDescriptor("")}
}

// output writes the document to w, or nothing if drawing failed.
func (c *canvas) output(w io.Writer) error {
	var b bytes.Buffer
	if err := c.pdf.Output(&b); err != nil {
		return fmt.Errorf("voucherpdf: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// use selects f at size and returns s as the font needs it.
func (c *canvas) use(f font, size float64, s string) string {
	switch f {
	case mono:
		c.pdf.SetFont("Courier", "B", size)
		return c.cp1252(s)
	case sansBold:
		c.pdf.SetFont("DejaVu", "B", size)
	default:
		c.pdf.SetFont("DejaVu", "", size)
	}
	return s
}

// width is the width in points of s set in f at size.
func (c *canvas) width(f font, size float64, s string) float64 {
	return c.pdf.GetStringWidth(c.use(f, size, s))
}

func (c *canvas) fill(col rgb) { c.pdf.SetFillColor(col[0], col[1], col[2]) }

func (c *canvas) stroke(col rgb, width float64) {
	c.pdf.SetDrawColor(col[0], col[1], col[2])
	c.pdf.SetLineWidth(width)
}

// rect draws a rectangle whose bottom left corner is x, y; op is "F" to
// fill or "D" to stroke.
func (c *canvas) rect(x, y, w, h float64, op string) {
	c.pdf.Rect(x, pageH-y-h, w, h, op)
}

func (c *canvas) line(x1, y1, x2, y2 float64) {
	c.pdf.Line(x1, pageH-y1, x2, pageH-y2)
}

// text draws s with its baseline starting at x, y.
func (c *canvas) text(f font, size, x, y float64, col rgb, s string) {
	if s = clean(s); s == "" {
		return
	}
	s = c.use(f, size, s)
	c.pdf.SetTextColor(col[0], col[1], col[2])
	c.pdf.Text(x, pageH-y, s)
}

// centred draws s centred on x.
func (c *canvas) centred(f font, size, x, y float64, col rgb, s string) {
	c.text(f, size, x-c.width(f, size, s)/2, y, col, s)
}

// right draws s ending at x.
func (c *canvas) right(f font, size, x, y float64, col rgb, s string) {
	c.text(f, size, x-c.width(f, size, s), y, col, s)
}

// fit returns s, cleaned, and the largest size from max down to min at
// which it fits width; at min size it cuts s and ends it with an ellipsis.
func (c *canvas) fit(f font, max, min, width float64, s string) (string, float64) {
	s = clean(s)
	for size := max; size >= min; size -= 0.5 {
		if c.width(f, size, s) <= width {
			return s, size
		}
	}
	r := []rune(s)
	for len(r) > 0 && c.width(f, min, string(r)+"…") > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…", min
}

// wrap breaks s into lines no wider than width; a word wider than a line
// is cut.
func (c *canvas) wrap(f font, size, width float64, s string) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(clean(s)) {
		try := word
		if cur != "" {
			try = cur + " " + word
		}
		if cur != "" && c.width(f, size, try) > width {
			lines = append(lines, cur)
			try = word
		}
		for r := []rune(try); len(r) > 1 && c.width(f, size, try) > width; r = []rune(try) {
			cut := len(r) - 1
			for cut > 1 && c.width(f, size, string(r[:cut])) > width {
				cut--
			}
			lines = append(lines, string(r[:cut]))
			try = string(r[cut:])
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
