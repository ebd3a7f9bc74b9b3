package voucherpdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// This file is a deliberately small PDF 1.4 writer: numbered indirect objects,
// Flate-compressed streams, a classic cross-reference table and the 14
// standard Type 1 fonts with WinAnsiEncoding, so nothing has to be embedded.

// document collects the bodies of indirect objects; object n is objs[n-1].
type document struct {
	objs [][]byte
}

// add appends an object body and returns its object number.
func (d *document) add(body []byte) int {
	d.objs = append(d.objs, body)
	return len(d.objs)
}

// reserve allocates an object number to be filled in later with set.
func (d *document) reserve() int { return d.add(nil) }

func (d *document) set(n int, body []byte) { d.objs[n-1] = body }

// stream builds a stream object body compressed with FlateDecode (zlib).
func stream(dict string, data []byte) ([]byte, error) {
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< %s /Filter /FlateDecode /Length %d >>\nstream\n", dict, z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream")
	return b.Bytes(), nil
}

// bytes serialises the document: header, objects, xref table and trailer.
// root and info are object numbers of the catalogue and the Info dictionary.
func (d *document) bytes(root, info int) []byte {
	var b bytes.Buffer
	// The second line holds bytes above 127 so that transfer tools treat the
	// file as binary (PDF 1.4, section 3.4.1).
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(d.objs))
	for i, body := range d.objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		b.Write(body)
		b.WriteString("\nendobj\n")
	}
	// A document identifier derived from the content keeps the output
	// deterministic: the same voucher always gives the same bytes.
	sum := sha256.Sum256(b.Bytes())
	id := fmt.Sprintf("%X", sum[:16])

	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n", len(d.objs)+1)
	// Every entry is exactly 20 bytes, end of line included.
	b.WriteString("0000000000 65535 f\r\n")
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(d.objs)+1, root, info, id, id, xref)
	return b.Bytes()
}

// textString encodes s as a PDF text string for the Info dictionary: plain
// ASCII when possible, otherwise UTF-16BE with a byte order mark, written in
// hexadecimal so that no escaping is needed.
func textString(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7E {
			ascii = false
			break
		}
	}
	if ascii {
		return "(" + escape([]byte(s)) + ")"
	}
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// escape returns a byte string ready to go between ( and ) in a PDF literal
// string: parentheses and backslashes are escaped, control bytes are written
// as octal escapes, everything else (WinAnsi bytes above 127 included) is
// written as is.
func escape(s []byte) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7F:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// num formats a coordinate with at most two decimals and no trailing zeros.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// winAnsiHigh maps the characters that Windows-1252 places in 0x80-0x9F.
var winAnsiHigh = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E,
	'‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
	'˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// winAnsiFallback gives an approximation for common characters that
// Windows-1252 lacks.
var winAnsiFallback = map[rune]string{
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2212': "-",
	'\u2002': " ", '\u2003': " ", '\u2009': " ", '\u202F': " ", '\u200B': "",
	'\uFEFF': "",
	'ő':      "o", 'Ő': "O", 'ű': "u", 'Ű': "U", 'ł': "l", 'Ł': "L",
	'ć': "c", 'Ć': "C", 'č': "c", 'Č': "C", 'ę': "e", 'ą': "a", 'ń': "n", 'ś': "s", 'ź': "z", 'ż': "z",
	'ř': "r", 'Ř': "R", 'ě': "e", 'ů': "u", 'ğ': "g", 'ş': "s", 'Ş': "S", 'ı': "i", 'İ': "I",
	'ă': "a", 'Ă': "A", 'ș': "s", 'Ș': "S", 'ț': "t", 'Ț': "T", 'đ': "d", 'Đ': "D",
}

// winAnsi converts UTF-8 text to Windows-1252 (the WinAnsiEncoding of the
// standard fonts). Line breaks and tabs become spaces, other control
// characters are dropped and characters outside the code page become an
// ASCII approximation or '?'.
func winAnsi(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			out = append(out, ' ')
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			// control characters: nothing to print
		case r < 0x80:
			out = append(out, byte(r))
		case r <= 0xFF:
			out = append(out, byte(r))
		default:
			if c, ok := winAnsiHigh[r]; ok {
				out = append(out, c)
			} else if f, ok := winAnsiFallback[r]; ok {
				out = append(out, f...)
			} else {
				out = append(out, '?')
			}
		}
	}
	return out
}
