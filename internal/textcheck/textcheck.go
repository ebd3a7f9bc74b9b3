// Package textcheck is the one rule for text that people and programs send
// to Sportello: valid UTF-8, no NUL or other control characters, no
// bidirectional-text controls. Tab, line feed and carriage return are allowed
// only where free text is legitimate (multi-line values); never in paths,
// query parameters, keys or names of fields. The API's middleware, its JSON
// decoder, the web form posts and the form validation (forms/) all use it,
// and pages neutralise with it what was stored before the rule existed.
package textcheck

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"sportello/internal/i18n"
)

// Problem codes, also the "code" of the API's field errors.
const (
	CodeInvalidUTF8 = "invalid_utf8"
	CodeControl     = "control_character"
	CodeBidi        = "bidi_control"
)

// IsBidiControl reports the invisible characters that reorder text
// (Trojan Source): the embeddings, overrides and isolates U+202A-U+202E and
// U+2066-U+2069, and the marks U+200E, U+200F and U+061C.
func IsBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// isLineBreak is what a multi-line value may hold besides printable text.
func isLineBreak(r rune) bool { return r == '\t' || r == '\n' || r == '\r' }

// Check returns the problem code of s, or "" when s is clean. multiline
// allows tab, line feed and carriage return (free text such as notes).
func Check(s string, multiline bool) string {
	// Fast path: printable ASCII.
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return ""
	}
	if !utf8.ValidString(s) {
		return CodeInvalidUTF8
	}
	for _, r := range s {
		switch {
		case multiline && isLineBreak(r):
		case unicode.IsControl(r), r == '\uFEFF':
			return CodeControl
		case !multiline && (r == '\u2028' || r == '\u2029'):
			return CodeControl
		case IsBidiControl(r):
			return CodeBidi
		}
	}
	return ""
}

// Text explains a problem code: a message id of internal/i18n.
func Text(code string) i18n.Message {
	switch code {
	case CodeInvalidUTF8:
		return i18n.M("textcheck.err.invalid_utf8")
	case CodeBidi:
		return i18n.M("textcheck.err.bidi")
	default:
		return i18n.M("textcheck.err.control")
	}
}

// Neutralize makes stored text safe to show: invalid bytes, control
// characters other than tab and line breaks, and bidirectional controls
// become U+FFFD, a visible mark that something was there.
func Neutralize(s string) string {
	if Check(s, true) == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
			b.WriteRune(r)
		case isLineBreak(r):
			b.WriteRune(r)
		case unicode.IsControl(r), IsBidiControl(r), r == '\uFEFF':
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
