package voucherpdf

import (
	"sportello/internal/calendar"

	"bytes"
	"compress/zlib"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

func sample() Voucher {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return Voucher{
		Code:           "QWYZ-25YQ-JRGK-DKT5",
		AmountCents:    550_00,
		AvailableCents: 275_00,
		PendingCents:   275_00,
		Municipality:   "Tradate",
		FundName:       "Buoni spesa 2026 - Tradate",
		ExpiresAt:      time.Date(2026, 12, 31, 0, 0, 0, 0, rome),
		HolderName:     "Mario Rossi",
	}
}

func render(t *testing.T, v Voucher) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, v); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// parsed is a PDF read back through its cross-reference table.
type parsed struct {
	raw     []byte
	objects map[int][]byte // object number -> text between "N 0 obj" and "endobj"
}

var (
	startxrefRe = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	xrefEntryRe = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])\r\n$`)
	lengthRe    = regexp.MustCompile(`/Length (\d+)`)
	sizeRe      = regexp.MustCompile(`trailer\n<< /Size (\d+) /Root (\d+) 0 R /Info (\d+) 0 R`)
	refRe       = func(key string) *regexp.Regexp { return regexp.MustCompile(key + `\s*(\d+) 0 R`) }
)

// parse checks the file structure: header, trailer, xref offsets.
func parse(t *testing.T, pdf []byte) parsed {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) {
		t.Fatalf("header: %q", pdf[:min(len(pdf), 20)])
	}
	if !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("no %%%%EOF at the end")
	}
	m := startxrefRe.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table: %q", xref, pdf[xref:xref+10])
	}
	rest := pdf[xref+len("xref\n"):]
	nl := bytes.IndexByte(rest, '\n')
	var first, count int
	if _, err := fmtSscan(string(rest[:nl]), &first, &count); err != nil || first != 0 {
		t.Fatalf("xref subsection header %q", rest[:nl])
	}
	entries := rest[nl+1:]
	sm := sizeRe.FindSubmatch(pdf)
	if sm == nil {
		t.Fatal("trailer without /Size /Root /Info")
	}
	if size, _ := strconv.Atoi(string(sm[1])); size != count {
		t.Fatalf("/Size %d, xref has %d entries", size, count)
	}
	p := parsed{raw: pdf, objects: map[int][]byte{}}
	for i := range count {
		e := entries[i*20 : (i+1)*20]
		em := xrefEntryRe.FindSubmatch(e)
		if em == nil {
			t.Fatalf("xref entry %d malformed: %q", i, e)
		}
		if i == 0 {
			if string(em[3]) != "f" || string(em[2]) != "65535" {
				t.Fatalf("entry 0 must be the free head: %q", e)
			}
			continue
		}
		off, _ := strconv.Atoi(string(em[1]))
		head := strconv.Itoa(i) + " 0 obj\n"
		if !bytes.HasPrefix(pdf[off:], []byte(head)) {
			t.Fatalf("xref entry %d: offset %d points at %q", i, off, pdf[off:min(len(pdf), off+12)])
		}
		body := pdf[off+len(head):]
		// a stream may contain "endobj" bytes: skip its data by /Length
		end := 0
		if k := bytes.Index(body, []byte("stream\n")); k >= 0 && k < bytes.Index(body, []byte("endobj")) {
			lm := lengthRe.FindSubmatch(body[:k])
			if lm == nil {
				t.Fatalf("object %d: stream without /Length", i)
			}
			l, _ := strconv.Atoi(string(lm[1]))
			end = k + len("stream\n") + l
			if !bytes.HasPrefix(body[end:], []byte("\nendstream\nendobj\n")) {
				t.Fatalf("object %d: /Length %d does not end at endstream: %q", i, l, body[end:min(len(body), end+20)])
			}
		}
		e2 := bytes.Index(body[end:], []byte("\nendobj\n"))
		if e2 < 0 {
			t.Fatalf("object %d without endobj", i)
		}
		p.objects[i] = body[:end+e2]
	}
	if !bytes.HasPrefix(entries[count*20:], []byte("trailer\n")) {
		t.Fatalf("trailer does not follow the xref table")
	}
	return p
}

func fmtSscan(s string, a, b *int) (int, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, errors.New("want two numbers")
	}
	var err1, err2 error
	*a, err1 = strconv.Atoi(f[0])
	*b, err2 = strconv.Atoi(f[1])
	return 2, errors.Join(err1, err2)
}

// streamData decompresses the stream of object n.
func (p parsed) streamData(t *testing.T, n int) []byte {
	t.Helper()
	obj := p.objects[n]
	k := bytes.Index(obj, []byte("stream\n"))
	if k < 0 {
		t.Fatalf("object %d is not a stream", n)
	}
	if !bytes.Contains(obj[:k], []byte("/Filter /FlateDecode")) {
		return obj[k+len("stream\n"):]
	}
	zr, err := zlib.NewReader(bytes.NewReader(obj[k+len("stream\n"):]))
	if err != nil {
		t.Fatalf("object %d: %v", n, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("object %d: %v", n, err)
	}
	return data
}

// ref returns the object number after key in object n ("/Contents 7 0 R").
func (p parsed) ref(t *testing.T, n int, key string) int {
	t.Helper()
	m := refRe(key).FindSubmatch(p.objects[n])
	if m == nil {
		t.Fatalf("object %d has no %s reference: %s", n, key, p.objects[n])
	}
	r, _ := strconv.Atoi(string(m[1]))
	return r
}

// pageObj follows Root -> Pages -> Kids[0].
func (p parsed) pageObj(t *testing.T) int {
	t.Helper()
	sm := sizeRe.FindSubmatch(p.raw)
	root, _ := strconv.Atoi(string(sm[2]))
	pages := p.ref(t, root, "/Pages")
	if !bytes.Contains(p.objects[pages], []byte("/Count 1")) {
		t.Fatalf("pages: %s", p.objects[pages])
	}
	return p.ref(t, pages, `/Kids \[`)
}

func (p parsed) content(t *testing.T) []byte {
	return p.streamData(t, p.ref(t, p.pageObj(t), "/Contents"))
}

func (p parsed) info(t *testing.T) []byte {
	sm := sizeRe.FindSubmatch(p.raw)
	n, _ := strconv.Atoi(string(sm[3]))
	return p.objects[n]
}

// shownStrings tokenises a content stream and returns the decoded operand of
// every Tj, failing on anything that is not well-formed.
func shownStrings(t *testing.T, cs []byte) [][]byte {
	t.Helper()
	var out [][]byte
	var pending []byte
	havePending := false
	for i := 0; i < len(cs); {
		c := cs[i]
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			i++
		case c == '(':
			if havePending {
				t.Fatalf("two strings in a row at %d", i)
			}
			depth := 1
			var s []byte
			i++
			for depth > 0 {
				if i >= len(cs) {
					t.Fatal("unterminated string")
				}
				c := cs[i]
				switch c {
				case '\\':
					n := cs[i+1]
					switch {
					case n >= '0' && n <= '7':
						v, _ := strconv.ParseUint(string(cs[i+1:i+4]), 8, 8)
						s = append(s, byte(v))
						i += 4
						continue
					case n == 'n':
						s = append(s, '\n')
					default:
						s = append(s, n)
					}
					i += 2
					continue
				case '(':
					depth++
				case ')':
					depth--
					if depth == 0 {
						i++
						continue
					}
				}
				s = append(s, c)
				i++
			}
			pending, havePending = s, true
		default:
			j := i
			for j < len(cs) && !bytes.ContainsRune([]byte(" \n\r\t("), rune(cs[j])) {
				j++
			}
			tok := string(cs[i:j])
			if havePending {
				if tok != "Tj" {
					t.Fatalf("string %q followed by %q, not Tj", pending, tok)
				}
				out = append(out, pending)
				havePending = false
			} else if tok == "Tj" {
				t.Fatal("Tj without a string operand")
			}
			i = j
		}
	}
	if havePending {
		t.Fatal("string at the end of the stream")
	}
	return out
}

func contains(shown [][]byte, want string) bool {
	for _, s := range shown {
		if bytes.Contains(s, []byte(want)) {
			return true
		}
	}
	return false
}

func TestStructureAndXref(t *testing.T) {
	pdf := render(t, sample())
	p := parse(t, pdf)
	if len(p.objects) < 8 {
		t.Fatalf("only %d objects", len(p.objects))
	}
	page := p.objects[p.pageObj(t)]
	for _, want := range []string{"/MediaBox [0 0 595.28 841.89]", "/F1 ", "/F2 ", "/F3 ", "/QR "} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q: %s", want, page)
		}
	}
	for _, f := range []string{"Helvetica", "Helvetica-Bold", "Courier-Bold"} {
		if !bytes.Contains(pdf, []byte("/BaseFont /"+f+" /Encoding /WinAnsiEncoding")) {
			t.Errorf("font %s with WinAnsiEncoding missing", f)
		}
	}
	if again := render(t, sample()); !bytes.Equal(pdf, again) {
		t.Error("output is not deterministic")
	}
}

func TestTextInContent(t *testing.T) {
	v := sample()
	p := parse(t, render(t, v))
	shown := shownStrings(t, p.content(t))
	for _, want := range []string{
		"QWYZ-25YQ-JRGK-DKT5",
		"550,00 \x80",
		"275,00 \x80",
		"Valido fino al", "30/12/2026 (incluso)",
		"Mario Rossi",
		"COMUNE DI TRADATE",
		"Buoni spesa 2026 - Tradate",
		"Importo assegnato",
		"Disponibile ora",
		"Ancora da accreditare",
		"personale",
		"Come si usa",
	} {
		if !contains(shown, want) {
			t.Errorf("content lacks %q", want)
		}
	}
	if contains(shown, "How to use it") {
		t.Error("English instructions in an Italian voucher")
	}
	info := p.info(t)
	for _, want := range []string{"/Producer (Sportello)", "/Title (Buono spesa QWYZ-25YQ-JRGK-DKT5 - Comune di Tradate)"} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf("Info lacks %q: %s", want, info)
		}
	}
}

func TestEnglishAddsEnglish(t *testing.T) {
	v := sample()
	v.Lang = "en"
	v.PendingCents = 0
	shown := shownStrings(t, parse(t, render(t, v)).content(t))
	for _, want := range []string{"Come si usa", "How to use it", "Importo assegnato / Amount awarded", "This voucher is personal", "Valid through", "30/12/2026 (incluso / inclusive)"} {
		if !contains(shown, want) {
			t.Errorf("content lacks %q", want)
		}
	}
	if contains(shown, "Ancora da accreditare") {
		t.Error("pending row shown with nothing pending")
	}
}

func TestWinAnsiAccentsAndEuro(t *testing.T) {
	v := sample()
	v.HolderName = "Niccolò Perù D’Angelo"
	v.Municipality = "Città di Castello"
	v.FundName = "Buoni spesa “2026” – Città"
	p := parse(t, render(t, v))
	cs := p.content(t)
	shown := shownStrings(t, cs)
	for _, want := range []string{
		"Niccol\xF2 Per\xF9 D\x92Angelo",
		"COMUNE DI CITT\xC0 DI CASTELLO",
		"Buoni spesa \x932026\x94 \x96 Citt\xE0",
		"550,00 \x80",
		"Il buono \xE8 personale",
		"pi\xF9 volte",
	} {
		if !contains(shown, want) {
			t.Errorf("content lacks WinAnsi %q", want)
		}
	}
	if bytes.Contains(cs, []byte("ò")) || bytes.Contains(cs, []byte("€")) || bytes.Contains(cs, []byte("è")) {
		t.Error("UTF-8 bytes left in the content stream")
	}
	// The Info dictionary uses UTF-16BE for non-ASCII text.
	if !bytes.Contains(p.info(t), []byte("/Title <FEFF")) {
		t.Errorf("non-ASCII title not in UTF-16: %s", p.info(t))
	}
}

func TestWinAnsi(t *testing.T) {
	for in, want := range map[string]string{
		"abc":            "abc",
		"€":              "\x80",
		"àèéìòù ÀÈÉÌÒÙ":  "\xE0\xE8\xE9\xEC\xF2\xF9 \xC0\xC8\xC9\xCC\xD2\xD9",
		"a\nb\tc\x00d":   "a b cd",
		"Łódź":           "L\xF3dz",
		"日本":             "??",
		"«ciao» — ‘x’ …": "\xABciao\xBB \x97 \x91x\x92 \x85",
	} {
		if got := string(winAnsi(in)); got != want {
			t.Errorf("winAnsi(%q) = %q, want %q", in, got, want)
		}
	}
	if len(latin1Base) != 64 {
		t.Fatalf("latin1Base has %d entries", len(latin1Base))
	}
}

func TestHostileStringsAreEscaped(t *testing.T) {
	v := sample()
	v.HolderName = `Evil) Tj ET (x\) \ (y`
	v.FundName = `) Tj /F1 99 Tf (`
	v.Municipality = `\(`
	v.Code = "AB(C)-\\D"
	p := parse(t, render(t, v))
	cs := p.content(t)
	shown := shownStrings(t, cs) // fails on any unbalanced string
	for _, want := range []string{v.HolderName, v.FundName, `COMUNE DI \(`, v.Code} {
		if !contains(shown, want) {
			t.Errorf("%q not shown intact; shown: %q", want, shown)
		}
	}
	if !bytes.Contains(cs, []byte(`(Evil\) Tj ET \(x\\\) \\ \(y)`)) {
		t.Errorf("holder not escaped as expected")
	}
	// The title in Info is escaped too.
	if !bytes.Contains(p.info(t), []byte(`/Title (Buono spesa AB\(C\)-\\D - Comune di \\\()`)) {
		t.Errorf("Info title not escaped: %s", p.info(t))
	}
}

func TestLongValuesStayOnThePage(t *testing.T) {
	v := sample()
	v.HolderName = strings.Repeat("Maria Giovanna ", 20)
	v.FundName = strings.Repeat("Fondo ", 60)
	v.AmountCents = math.MaxInt64
	v.AvailableCents = math.MinInt64
	v.Lang = "en"
	v.Code = strings.Repeat("LONG-CODE ", 12)
	v.Municipality = strings.Repeat("San Giovanni ", 10)
	cs := parse(t, render(t, v)).content(t)
	shownStrings(t, cs)
	// every text position is inside the page
	td := regexp.MustCompile(`/F(\d) ([\d.]+) Tf ([-\d.]+) ([-\d.]+) Td \(((?:[^\\)]|\\.)*)\) Tj`)
	for _, m := range td.FindAllSubmatch(cs, -1) {
		size, _ := strconv.ParseFloat(string(m[2]), 64)
		x, _ := strconv.ParseFloat(string(m[3]), 64)
		y, _ := strconv.ParseFloat(string(m[4]), 64)
		f := map[string]font{"1": helvetica, "2": helveticaBold, "3": courierBold}[string(m[1])]
		w := textWidth(f, size, unescape(m[5]))
		if x < margin-0.01 || x+w > pageW-margin+0.01 || y < 30 || y > pageH-20 {
			t.Errorf("text %q at (%v,%v) width %v leaves the printable area", m[5], x, y, w)
		}
		if y < footerTop+10 && y != 38 {
			t.Errorf("text %q at (%v,%v) runs into the footer", m[5], x, y)
		}
	}
	// the footer's two texts do not overlap
	foot := td.FindAllSubmatch(cs, -1)
	a, b := foot[len(foot)-2], foot[len(foot)-1]
	ax, _ := strconv.ParseFloat(string(a[3]), 64)
	as, _ := strconv.ParseFloat(string(a[2]), 64)
	bx, _ := strconv.ParseFloat(string(b[3]), 64)
	bs, _ := strconv.ParseFloat(string(b[2]), 64)
	fa := map[string]font{"1": helvetica, "2": helveticaBold, "3": courierBold}
	l, lx, ls, rx := b, bx, bs, ax
	if ax < bx {
		l, lx, ls, rx = a, ax, as, bx
	}
	if lx+textWidth(fa[string(l[1])], ls, unescape(l[5])) > rx {
		t.Errorf("footer texts overlap")
	}
}

func unescape(s []byte) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		out = append(out, s[i])
	}
	return out
}

func TestEuro(t *testing.T) {
	for cents, want := range map[int64]string{
		0:             "0,00 €",
		5:             "0,05 €",
		550_00:        "550,00 €",
		1_000_00:      "1.000,00 €",
		1_234_567_89:  "1.234.567,89 €",
		-12_50:        "-12,50 €",
		math.MinInt64: "-92.233.720.368.547.758,08 €",
	} {
		if got := euro(cents); got != want {
			t.Errorf("euro(%d) = %q, want %q", cents, got, want)
		}
	}
}

func TestExpiryInItalianTime(t *testing.T) {
	// 23:30 UTC on 31 December is already 1 January in Rome.
	d, c := expiry(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
	if d != "01/01/2027" || c != "00:30" {
		t.Fatalf("got %s %s", d, c)
	}
}

func TestErrors(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Voucher{Code: "  "}); err == nil {
		t.Fatal("empty code accepted")
	}
	if err := Write(&b, Voucher{Code: strings.Repeat("X", 5000)}); err == nil {
		t.Fatal("code too long for a QR code accepted")
	}
	if b.Len() != 0 {
		t.Fatal("bytes written on error")
	}
	if _, err := QRPNG("", 200); err == nil {
		t.Fatal("empty QR content accepted")
	}
	if _, err := QRPNG("QWYZ-25YQ-JRGK-DKT5", 20); err == nil {
		t.Fatal("size below the module count accepted")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestWriteError(t *testing.T) {
	if err := Write(failWriter{}, sample()); err == nil {
		t.Fatal("writer error lost")
	}
}

func bitmap(t *testing.T, content string, border bool) [][]bool {
	t.Helper()
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = !border
	return q.Bitmap()
}

func TestQRPNG(t *testing.T) {
	const code = "QWYZ-25YQ-JRGK-DKT5"
	mods := bitmap(t, code, true)
	n := len(mods)
	for _, size := range []int{n, 200, 256, 333} {
		data, err := QRPNG(code, size)
		if err != nil {
			t.Fatalf("QRPNG(%d): %v", size, err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || format != "png" || cfg.Width != size || cfg.Height != size {
			t.Fatalf("QRPNG(%d): %v %s %dx%d", size, err, format, cfg.Width, cfg.Height)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		scale := size / n
		off := (size - scale*n) / 2
		for r := range n {
			for c := range n {
				px := img.At(off+c*scale+scale/2, off+r*scale+scale/2)
				y, _, _, _ := px.RGBA()
				if dark := y < 0x8000; dark != mods[r][c] {
					t.Fatalf("size %d: module (%d,%d) dark=%v in PNG, %v in bitmap", size, r, c, dark, mods[r][c])
				}
			}
		}
	}
}

var moduleRe = regexp.MustCompile(`(?m)^(\d+) (\d+) 1 1 re$`)

func TestQRInPDFMatchesBitmap(t *testing.T) {
	for _, code := range []string{"QWYZ-25YQ-JRGK-DKT5", "a much longer code, lower case, to force a bigger version 1234567890"} {
		v := sample()
		v.Code = code
		p := parse(t, render(t, v))
		page := p.pageObj(t)
		xo := p.ref(t, page, "/QR")
		mods := bitmap(t, code, false)
		n := len(mods)
		if !bytes.Contains(p.objects[xo], []byte("/Subtype /Form /BBox [0 0 "+strconv.Itoa(n)+" "+strconv.Itoa(n)+"]")) {
			t.Fatalf("QR form: %s", p.objects[xo][:80])
		}
		data := p.streamData(t, xo)
		rects := moduleRe.FindAllSubmatch(data, -1)
		if got := bytes.Count(data, []byte(" re\n")); got != len(rects) {
			t.Fatalf("unexpected rectangles in the QR form")
		}
		dark := 0
		for _, line := range mods {
			for _, d := range line {
				if d {
					dark++
				}
			}
		}
		if len(rects) != dark {
			t.Fatalf("%q: %d rectangles, %d dark modules", code, len(rects), dark)
		}
		for _, m := range rects {
			x, _ := strconv.Atoi(string(m[1]))
			y, _ := strconv.Atoi(string(m[2]))
			if !mods[n-1-y][x] {
				t.Fatalf("rectangle at (%d,%d) on a light module", x, y)
			}
		}
		if !bytes.Contains(p.content(t), []byte("/QR Do")) {
			t.Fatal("page does not draw the QR form")
		}
	}
}

// TestPoppler checks the file with real PDF tools when poppler-utils is
// installed: pdfinfo reads it without complaint, pdftotext finds the text
// (which proves the WinAnsi encoding) and pdftoppm renders the QR code where
// the layout puts it, module by module. Set VOUCHERPDF_KEEP to a directory to
// keep the files for a look.
func TestPoppler(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm not installed (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	if keep := os.Getenv("VOUCHERPDF_KEEP"); keep != "" {
		dir = keep
	}
	for _, lang := range []string{"it", "en"} {
		v := sample()
		v.Lang = lang
		v.HolderName = "Niccolò Perù"
		pdfPath := filepath.Join(dir, "voucher-"+lang+".pdf")
		if err := os.WriteFile(pdfPath, render(t, v), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := exec.LookPath("pdfinfo"); err == nil {
			out, err := exec.Command("pdfinfo", pdfPath).CombinedOutput()
			if err != nil || bytes.Contains(out, []byte("Error")) {
				t.Fatalf("pdfinfo: %v\n%s", err, out)
			}
			for _, want := range []string{`Pages:\s+1\n`, `Page size:\s+595.28 x 841.89 pts \(A4\)`, `Producer:\s+Sportello\n`, `Title:\s+Buono spesa QWYZ-25YQ-JRGK-DKT5`, `PDF version:\s+1.4`} {
				if !regexp.MustCompile(want).Match(out) {
					t.Errorf("pdfinfo lacks %q:\n%s", want, out)
				}
			}
		}
		if _, err := exec.LookPath("pdftotext"); err == nil {
			out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			for _, want := range []string{"QWYZ-25YQ-JRGK-DKT5", "550,00 €", "275,00 €", "Valido fino al", "30/12/2026 (incluso", "Niccolò Perù", "Il buono è personale", "COMUNE DI TRADATE"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("pdftotext lacks %q:\n%s", want, out)
				}
			}
		}
		const dpi = 144
		prefix := filepath.Join(dir, "voucher-"+lang)
		if out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-png", "-singlefile", pdfPath, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		f, err := os.Open(prefix + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		k := float64(dpi) / 72
		if b := img.Bounds(); math.Abs(float64(b.Dx())-pageW*k) > 2 || math.Abs(float64(b.Dy())-pageH*k) > 2 {
			t.Fatalf("rendered page %v, want A4", b)
		}
		mods := bitmap(t, v.Code, false)
		n := len(mods)
		_, qr := layout(v, n)
		m := qr.w / float64(n)
		for r := range n {
			for c := range n {
				x := (qr.x + (float64(c)+0.5)*m) * k
				y := (pageH - (qr.y + qr.h - (float64(r)+0.5)*m)) * k
				cr, cg, cb, _ := img.At(int(x), int(y)).RGBA()
				dark := (cr+cg+cb)/3 < 0x8000
				if dark != mods[r][c] {
					t.Fatalf("%s: rendered module (%d,%d) dark=%v, bitmap %v", lang, r, c, dark, mods[r][c])
				}
			}
		}
		// The quiet zone around the symbol (four modules) is white.
		for i := -3.75; i < float64(n)+4; i += 0.5 {
			for d := 0.25; d < 4; d += 0.5 {
				for _, pt := range [][2]float64{{i, -d}, {i, float64(n) + d}, {-d, i}, {float64(n) + d, i}} {
					x := (qr.x + pt[0]*m) * k
					y := (pageH - (qr.y + qr.h - pt[1]*m)) * k
					cr, cg, cb, _ := img.At(int(x), int(y)).RGBA()
					if (cr+cg+cb)/3 < 0xF000 {
						t.Fatalf("%s: quiet zone not white at module (%v,%v)", lang, pt[1], pt[0])
					}
				}
			}
		}
	}
}

// An expiry during the day keeps its time; one at midnight is shown as the
// last valid day, which is what a citizen needs to know.
func TestExpiryWording(t *testing.T) {
	v := sample()
	v.ExpiresAt = time.Date(2026, 12, 31, 12, 0, 0, 0, calendar.Rome())
	shown := shownStrings(t, parse(t, render(t, v)).content(t))
	if !contains(shown, "31/12/2026 alle ore 12:00") || contains(shown, "Valido fino al") {
		t.Errorf("midday expiry: %q", shown)
	}
}
