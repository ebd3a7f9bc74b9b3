package voucherpdf

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"sportello/internal/calendar"
)

// downloaded is when the test vouchers are downloaded.
var downloaded = time.Date(2026, 11, 5, 9, 30, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return downloaded }
	os.Exit(m.Run())
}

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

// lacks returns the wanted strings that text does not contain.
func lacks(text string, want ...string) []string {
	var missing []string
	for _, w := range want {
		if !strings.Contains(text, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

func TestInfoAndDeterminism(t *testing.T) {
	pdf := render(t, sample())
	info := pdfInfo(t, pdf)
	for _, want := range []string{`Pages:\s+1\n`, `Page size:\s+595.28 x 841.89 pts \(A4\)`, `Producer:\s+Sportello\n`,
		`Creator:\s+Sportello\n`, `Title:\s+Buono spesa QWYZ-25YQ-JRGK-DKT5 - Comune di Tradate\n`,
		`Subject:\s+Buoni spesa 2026 - Tradate\n`, `CreationDate:\s+Thu Nov  5 09:30:00 2026 UTC\n`} {
		if !regexp.MustCompile(want).MatchString(info) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	if again := render(t, sample()); !bytes.Equal(pdf, again) {
		t.Error("the same voucher downloaded at the same time gave different bytes")
	}
	// The fonts are embedded and subset: the whole of DejaVu Sans is
	// 750 KB, the voucher a few tens.
	if len(pdf) > 80_000 {
		t.Errorf("voucher PDF of %d bytes: are the fonts subset?", len(pdf))
	}
	fonts := string(run(t, "pdffonts", pdfFile(t, "fonts.pdf", pdf)))
	for _, line := range strings.Split(strings.TrimSpace(fonts), "\n")[2:] {
		f := strings.Fields(line)
		if f[0] != "Courier-Bold" && f[len(f)-5] != "yes" {
			t.Errorf("font not embedded: %s", line)
		}
	}
	if !strings.Contains(fonts, "dejavu") {
		t.Errorf("DejaVu Sans not in the PDF:\n%s", fonts)
	}
}

func TestItalianVoucherText(t *testing.T) {
	text := pdfText(t, render(t, sample()))
	if m := lacks(text,
		"QWYZ-25YQ-JRGK-DKT5",
		"550,00 €",
		"275,00 €",
		"Scadenza", "valido fino al 30 dicembre 2026 (incluso)",
		"PARTE DA MOSTRARE ALL'ESERCENTE", "PARTE DA CONSERVARE",
		"Mario Rossi",
		"COMUNE DI TRADATE",
		"Buono spesa\n",
		"Buoni spesa 2026 - Tradate",
		"CODICE DEL BUONO",
		"Importo assegnato",
		"Disponibile ora",
		"Ancora da accreditare",
		"Intestatario",
		"Codice QR del buono",
		"Come si usa",
		"Il buono è personale e non cedibile.",
		"Sportello sociale - buono spesa - Comune di Tradate",
	); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	for _, english := range []string{"How to use it", "Food voucher", "Amount awarded", "This voucher is personal"} {
		if strings.Contains(text, english) {
			t.Errorf("English %q in an Italian voucher", english)
		}
	}
}

func TestEnglishAddsEnglish(t *testing.T) {
	v := sample()
	v.Lang = "en"
	v.PendingCents = 0
	text := pdfText(t, render(t, v))
	if m := lacks(text, "Buono spesa / Food voucher", "CODICE DEL BUONO / VOUCHER CODE", "Come si usa", "How to use it",
		"Importo assegnato / Amount awarded", "Disponibile ora / Available now", "Intestatario / Holder",
		"Il buono è personale", "This voucher is personal", "Scadenza / Expires",
		"valid until 30 December 2026 (inclusive)",
		"PARTE DA CONSERVARE / PART TO KEEP", "Codice QR del buono / Voucher QR code"); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	if strings.Contains(text, "Ancora da accreditare") {
		t.Error("pending row shown with nothing pending")
	}
}

// Residents' names are written as they are: accents, and letters that
// Windows-1252 lacks (Romanian, Polish, Czech, Albanian, Ukrainian...).
func TestNamesAsWritten(t *testing.T) {
	for _, name := range []string{
		"Niccolò Perù D’Angelo",
		"Ștefan Țîrcă-Văduva",
		"Łukasz Wąsowski-Żółć",
		"Ëndrit Çela",
		"Jiří Dvořák",
		"Olena Шевченко",
		"Ayşe Yılmaz Öztürk",
	} {
		v := sample()
		v.HolderName = name
		v.Municipality = "Città di Castello"
		v.FundName = "Buoni spesa “2026” – Città"
		pdf := render(t, v)
		text := pdfText(t, pdf)
		if m := lacks(text, name, "COMUNE DI CITTÀ DI CASTELLO", "Buoni spesa “2026” – Città", "550,00 €", "Il buono è personale", "più volte"); m != nil {
			t.Errorf("%s: text lacks %q:\n%s", name, m, text)
		}
		if info := pdfInfo(t, pdf); !strings.Contains(info, "Comune di Città di Castello") {
			t.Errorf("title not in Unicode:\n%s", info)
		}
	}
	// A name typed with combining accents prints composed; a script the
	// font lacks prints as question marks, not as empty boxes.
	v := sample()
	v.HolderName = "Nicco\u0300lo 山田"
	if text := pdfText(t, render(t, v)); !strings.Contains(text, "Niccòlo ??") {
		t.Errorf("holder not shown as %q:\n%s", "Niccòlo ??", text)
	}
}

// The web server renders vouchers for many citizens at once.
func TestConcurrentRenders(t *testing.T) {
	v := sample()
	v.HolderName = "Ștefan Łukasz 山田"
	want := render(t, v)
	var wg sync.WaitGroup
	got := make([][]byte, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() {
			var b bytes.Buffer
			errs[i] = Write(&b, v)
			got[i] = b.Bytes()
		})
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || !bytes.Equal(got[i], want) {
			t.Errorf("render %d at the same time: %v, %d bytes, want %d", i, errs[i], len(got[i]), len(want))
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"abc":                "abc",
		"€ àèéìòù ÀÈÉÌÒÙ":    "€ àèéìòù ÀÈÉÌÒÙ",
		"a\nb\tc\x00d\u200B": "a b cd",
		"Łódź Ștefan":        "Łódź Ștefan",
		"Nicco\u0300lo":      "Niccòlo",
		"日本 😀":               "?? ?",
		"«ciao» — ‘x’ …":     "«ciao» — ‘x’ …",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostileStringsAreShownIntact(t *testing.T) {
	v := sample()
	v.HolderName = `Evil) Tj ET (x\) \ (y`
	v.FundName = `) Tj /F1 99 Tf (`
	v.Municipality = `\(`
	v.Code = "AB(C)-\\D"
	pdf := render(t, v)
	text := pdfText(t, pdf)
	if m := lacks(text, v.HolderName, v.FundName, `COMUNE DI \(`, v.Code); m != nil {
		t.Errorf("text lacks %q:\n%s", m, text)
	}
	if info := pdfInfo(t, pdf); !strings.Contains(info, `Buono spesa AB(C)-\D - Comune di \(`) {
		t.Errorf("title not intact:\n%s", info)
	}
}

// Every word is inside the printable area, nothing runs into the footer
// and the footer's two texts do not overlap, however long the values.
func TestLongValuesStayOnThePage(t *testing.T) {
	v := sample()
	v.HolderName = strings.Repeat("Maria Giovanna ", 20)
	v.FundName = strings.Repeat("Fondo ", 60)
	v.AmountCents = math.MaxInt64
	v.AvailableCents = math.MinInt64
	v.Lang = "en"
	v.Code = strings.Repeat("LONG-CODE ", 12)
	v.Municipality = strings.Repeat("San Giovanni ", 10)
	words := pdfWords(t, render(t, v))
	rule := pageH - footerTop // the footer rule, from the top
	var footer []word
	for _, w := range words {
		if w.xMin < margin-0.5 || w.xMax > pageW-margin+0.5 || w.yMin < 20 || w.yMax > pageH-30 {
			t.Errorf("%q at x %.1f-%.1f, y %.1f-%.1f leaves the printable area", w.text, w.xMin, w.xMax, w.yMin, w.yMax)
		}
		if w.yMax > rule {
			if w.yMin < rule {
				t.Errorf("%q at y %.1f-%.1f crosses the footer rule at %.1f", w.text, w.yMin, w.yMax, rule)
			}
			footer = append(footer, w)
		}
	}
	if len(footer) < 2 {
		t.Fatalf("footer words: %v", footer)
	}
	sort.Slice(footer, func(i, j int) bool { return footer[i].xMin < footer[j].xMin })
	for i := 1; i < len(footer); i++ {
		if footer[i-1].xMax > footer[i].xMin+0.1 {
			t.Errorf("footer words overlap: %q and %q", footer[i-1].text, footer[i].text)
		}
	}
	if last := footer[len(footer)-1]; !strings.HasSuffix(last.text, "…") {
		t.Errorf("the long code in the footer is not cut: %q", last.text)
	}
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

// An expiry during the day keeps its time; one at midnight is shown as the
// last valid day, which is what a citizen needs to know; 23:30 UTC on 31
// December is already 1 January in Rome.
func TestExpiryWording(t *testing.T) {
	v := sample()
	v.ExpiresAt = time.Date(2026, 12, 31, 12, 0, 0, 0, calendar.Rome())
	text := pdfText(t, render(t, v))
	if !strings.Contains(text, "Scadenza") || !strings.Contains(text, "valido fino al 31 dicembre 2026, ore 12:00") ||
		strings.Contains(text, "(incluso)") {
		t.Errorf("midday expiry:\n%s", text)
	}
	v.Lang = "en"
	if text := pdfText(t, render(t, v)); !strings.Contains(text, "Scadenza / Expires") || !strings.Contains(text, "valid until 31 December 2026, 12:00") {
		t.Errorf("midday expiry in English:\n%s", text)
	}
	v = sample()
	v.ExpiresAt = time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	if text := pdfText(t, render(t, v)); !strings.Contains(text, "valido fino al 1 gennaio 2027, ore 00:30") {
		t.Errorf("expiry in Rome time:\n%s", text)
	}
}

// The part a citizen shows at the shop (code, QR code, amounts, expiry)
// carries no name: the holder's name is below the cut line, in the part
// they keep, and the voucher no longer claims the shop cannot see a name
// printed right under it.
func TestMerchantPartCarriesNoName(t *testing.T) {
	for _, lang := range []string{"it", "en"} {
		v := sample()
		v.Lang = lang
		words := pdfWords(t, render(t, v))
		cut := -1.0
		for _, w := range words {
			if w.text == "CONSERVARE" {
				cut = w.yMin
			}
		}
		if cut < 0 {
			t.Fatalf("%s: no holder's part", lang)
		}
		seen := map[string]float64{}
		for _, w := range words {
			if _, ok := seen[w.text]; !ok {
				seen[w.text] = w.yMin
			}
			if (w.text == "Mario" || w.text == "Rossi") && w.yMin < cut {
				t.Errorf("%s: %q at y %.1f, in the part shown at the shop (cut at %.1f)", lang, w.text, w.yMin, cut)
			}
		}
		for _, above := range []string{"QWYZ-25YQ-JRGK-DKT5", "550,00", "MOSTRARE", "30"} {
			if y, ok := seen[above]; !ok || y > cut {
				t.Errorf("%s: %q not in the part shown at the shop", lang, above)
			}
		}
		if _, ok := seen["Mario"]; !ok {
			t.Errorf("%s: the holder's name is not on the holder's part", lang)
		}
	}
	if text := pdfText(t, render(t, sample())); strings.Contains(text, "L’esercente non vede il tuo nome") {
		t.Error("the voucher still claims the shop does not see the name")
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

// TestRenderedQR renders the page with pdftoppm and reads the QR code back
// where the layout puts it, module by module, with its quiet zone white.
// Set VOUCHERPDF_KEEP to a directory to keep the files for a look.
func TestRenderedQR(t *testing.T) {
	for _, tc := range []struct{ lang, code string }{
		{"it", "QWYZ-25YQ-JRGK-DKT5"},
		{"en", "QWYZ-25YQ-JRGK-DKT5"},
		{"it", "a much longer code, lower case, to force a bigger version 1234567890"},
	} {
		v := sample()
		v.Lang = tc.lang
		v.Code = tc.code
		v.HolderName = "Niccolò Perù"
		pdfPath := pdfFile(t, "voucher-"+tc.lang+".pdf", render(t, v))
		const dpi = 144
		prefix := filepath.Join(filepath.Dir(pdfPath), "voucher-"+tc.lang)
		run(t, "pdftoppm", "-r", strconv.Itoa(dpi), "-png", "-singlefile", pdfPath, prefix)
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
		c := newCanvas("", "", downloaded)
		c.pdf.AddPage()
		qr := layout(c, v, mods)
		m := qr.w / float64(n)
		for r := range n {
			for col := range n {
				x := (qr.x + (float64(col)+0.5)*m) * k
				y := (pageH - (qr.y + qr.h - (float64(r)+0.5)*m)) * k
				cr, cg, cb, _ := img.At(int(x), int(y)).RGBA()
				dark := (cr+cg+cb)/3 < 0x8000
				if dark != mods[r][col] {
					t.Fatalf("%q: rendered module (%d,%d) dark=%v, bitmap %v", tc.code, r, col, dark, mods[r][col])
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
						t.Fatalf("%q: quiet zone not white at module (%v,%v)", tc.code, pt[1], pt[0])
					}
				}
			}
		}
	}
}
