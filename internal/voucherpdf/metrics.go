package voucherpdf

// Glyph widths of the standard fonts, in thousandths of the font size, from
// the Adobe font metrics of Helvetica and Helvetica-Bold. They are used only
// to centre, right-align, wrap and shrink text; Courier-Bold is monospaced.

// font identifies one of the three standard fonts used by the voucher.
type font int

const (
	helvetica font = iota
	helveticaBold
	courierBold
)

// resource is the name of the font in the page's resource dictionary.
func (f font) resource() string {
	switch f {
	case helveticaBold:
		return "/F2"
	case courierBold:
		return "/F3"
	default:
		return "/F1"
	}
}

// baseFont is the PostScript name of the standard font.
func (f font) baseFont() string {
	switch f {
	case helveticaBold:
		return "Helvetica-Bold"
	case courierBold:
		return "Courier-Bold"
	default:
		return "Helvetica"
	}
}

// ASCII 32..126.
var helveticaASCII = [95]int{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space../
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0..9
	278, 278, 584, 584, 584, 556, 1015, // :..@
	667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A..M
	722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N..Z
	278, 278, 278, 469, 556, 333, // [..`
	556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a..m
	556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n..z
	334, 260, 334, 584, // {..~
}

var helveticaBoldASCII = [95]int{
	278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556,
	333, 333, 584, 584, 584, 611, 975,
	722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
	722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
	333, 278, 333, 584, 556, 333,
	556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889,
	611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500,
	389, 280, 389, 584,
}

// latin1Base gives, for 0xC0..0xFF, the ASCII letter whose width the accented
// letter shares; '*' marks the few glyphs with widths of their own.
const latin1Base = "AAAAAA*CEEEEIIII*NOOOOO**UUUUY**aaaaaa*ceeeeiiii*nooooo**uuuuy*y"

// highWidths holds the remaining WinAnsi glyphs above 127, as
// {Helvetica, Helvetica-Bold}.
var highWidths = map[byte][2]int{
	0x80: {556, 556}, 0x82: {222, 278}, 0x83: {556, 556}, 0x84: {333, 500}, 0x85: {1000, 1000},
	0x86: {556, 556}, 0x87: {556, 556}, 0x88: {333, 333}, 0x89: {1000, 1000}, 0x8A: {667, 667},
	0x8B: {333, 333}, 0x8C: {1000, 1000}, 0x8E: {611, 611}, 0x91: {222, 278}, 0x92: {222, 278},
	0x93: {333, 500}, 0x94: {333, 500}, 0x95: {350, 350}, 0x96: {556, 556}, 0x97: {1000, 1000},
	0x98: {333, 333}, 0x99: {1000, 1000}, 0x9A: {500, 556}, 0x9B: {333, 333}, 0x9C: {944, 944},
	0x9E: {500, 500}, 0x9F: {667, 667},
	0xA0: {278, 278}, 0xA1: {333, 333}, 0xA2: {556, 556}, 0xA3: {556, 556}, 0xA4: {556, 556},
	0xA5: {556, 556}, 0xA6: {260, 280}, 0xA7: {556, 556}, 0xA8: {333, 333}, 0xA9: {737, 737},
	0xAA: {370, 370}, 0xAB: {556, 556}, 0xAC: {584, 584}, 0xAD: {333, 333}, 0xAE: {737, 737},
	0xAF: {333, 333}, 0xB0: {400, 400}, 0xB1: {584, 584}, 0xB2: {333, 333}, 0xB3: {333, 333},
	0xB4: {333, 333}, 0xB5: {556, 611}, 0xB6: {537, 556}, 0xB7: {278, 278}, 0xB8: {333, 333},
	0xB9: {333, 333}, 0xBA: {365, 365}, 0xBB: {556, 556}, 0xBC: {834, 834}, 0xBD: {834, 834},
	0xBE: {834, 834}, 0xBF: {611, 611},
	0xC6: {1000, 1000}, 0xD0: {722, 722}, 0xD7: {584, 584}, 0xD8: {778, 778}, 0xDE: {667, 667},
	0xDF: {611, 611}, 0xE6: {889, 889}, 0xF0: {556, 611}, 0xF7: {584, 584}, 0xF8: {611, 611},
	0xFE: {556, 611},
}

// glyphWidth is the width of WinAnsi byte c in thousandths of the font size.
func glyphWidth(f font, c byte) int {
	if f == courierBold {
		return 600
	}
	bold := 0
	table := &helveticaASCII
	if f == helveticaBold {
		bold = 1
		table = &helveticaBoldASCII
	}
	switch {
	case c >= 32 && c <= 126:
		return table[c-32]
	case c >= 0xC0:
		if base := latin1Base[c-0xC0]; base != '*' {
			return table[base-32]
		}
	}
	if w, ok := highWidths[c]; ok {
		return w[bold]
	}
	return 556
}

// textWidth is the width in points of WinAnsi text s set in f at size.
func textWidth(f font, size float64, s []byte) float64 {
	total := 0
	for _, c := range s {
		total += glyphWidth(f, c)
	}
	return float64(total) * size / 1000
}
