package htmlform

import (
	"encoding/json"
	"strconv"
	"strings"
)

// numberProblem says why a posted number was refused.
type numberProblem int

const (
	numberOK numberProblem = iota
	numberInvalid
	numberNotInteger
	numberAmbiguous
)

// maxNumberLength bounds the posted text of a number.
const maxNumberLength = 64

// parseNumber turns the text of a number typed by a person into a JSON number.
//
// Accepted: an optional sign (also the Unicode minus), digits, and a decimal
// separator that is either a comma (Italian) or a point; thousands separators
// (point, comma, space, no-break space) are accepted only in well-formed
// groups of three digits and only together with a decimal separator of the
// other kind or repeated ("1.234.567", "1.234,50", "1,234.50"). A single
// separator followed by exactly three digits ("7.200", "7,200") could be
// either, so it is refused as ambiguous rather than guessed. The result has no
// leading zeros and no trailing decimal zeros ("007,50" gives 7.5).
func parseNumber(text string, integer bool) (json.Number, numberProblem) {
	s := strings.TrimSpace(text)
	if s == "" || len(s) > maxNumberLength {
		return "", numberInvalid
	}
	s = strings.ReplaceAll(s, "\u2212", "-")
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	// Spaces inside a number are thousands separators.
	spaced := false
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009':
			spaced = true
			return '\''
		}
		return r
	}, s)
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	var intPart, frac, sep string
	switch {
	case dots > 0 && commas > 0:
		dec := "."
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			dec = ","
		}
		if strings.Count(s, dec) != 1 {
			return "", numberInvalid
		}
		i := strings.LastIndex(s, dec)
		intPart, frac = s[:i], s[i+1:]
		sep = "."
		if dec == "." {
			sep = ","
		}
	case dots+commas == 1:
		i := strings.IndexAny(s, ".,")
		intPart, frac = s[:i], s[i+1:]
		if !spaced && len(frac) == 3 && len(intPart) >= 1 && len(intPart) <= 3 && intPart[0] != '0' && digits(intPart) && digits(frac) {
			return "", numberAmbiguous
		}
	case dots > 1:
		intPart, sep = s, "."
	case commas > 1:
		intPart, sep = s, ","
	default:
		intPart = s
	}
	if sep != "" || spaced {
		isSep := func(r rune) bool { return sep != "" && string(r) == sep || r == '\'' }
		groups := strings.FieldsFunc(intPart, isSep)
		seps := 0
		for _, r := range intPart {
			if isSep(r) {
				seps++
			}
		}
		if len(groups) == 0 || seps != len(groups)-1 {
			return "", numberInvalid
		}
		for i, g := range groups {
			if !digits(g) || i == 0 && len(g) > 3 || i > 0 && len(g) != 3 {
				return "", numberInvalid
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" && frac == "" || !digits(intPart) && intPart != "" || !digits(frac) && frac != "" {
		return "", numberInvalid
	}
	if (dots+commas == 1 || sep != "" && strings.Contains(s, ".") && strings.Contains(s, ",")) && frac == "" {
		return "", numberInvalid // "12," or "1.234,"
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	if integer && frac != "" {
		return "", numberNotInteger
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	if len(out) > maxNumberLength {
		// Shown back (formatNumber keeps its length) it could not be typed
		// again: ",000…1" at the limit gains its leading zero.
		return "", numberInvalid
	}
	return json.Number(out), numberOK
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatNumber writes a JSON number for a person: a decimal comma in Italian,
// no exponent.
func formatNumber(n json.Number, lang string) string {
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
