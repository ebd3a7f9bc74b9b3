package seed

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// TaxCode builds the Italian tax code (codice fiscale) of a person born on
// born in the place with the given cadastral code, check character
// included. Names are reduced to their ASCII letters (accents dropped).
func TaxCode(lastName, firstName string, female bool, born time.Time, birthPlace string) string {
	var b strings.Builder
	b.WriteString(surnamePart(lastName))
	b.WriteString(namePart(firstName))
	fmt.Fprintf(&b, "%02d", born.Year()%100)
	b.WriteByte("ABCDEHLMPRST"[born.Month()-1])
	day := born.Day()
	if female {
		day += 40
	}
	fmt.Fprintf(&b, "%02d", day)
	b.WriteString(strings.ToUpper(birthPlace))
	code := b.String()
	return code + string(checkChar(code))
}

// letters splits the ASCII letters of s (upper-cased, accents folded) into
// consonants and vowels.
func letters(s string) (consonants, vowels string) {
	var c, v strings.Builder
	for _, r := range strings.ToUpper(s) {
		r = foldAccent(r)
		if r < 'A' || r > 'Z' {
			continue
		}
		if strings.ContainsRune("AEIOU", r) {
			v.WriteRune(r)
		} else {
			c.WriteRune(r)
		}
	}
	return c.String(), v.String()
}

func foldAccent(r rune) rune {
	switch r {
	case 'À', 'Á', 'Â', 'Ä':
		return 'A'
	case 'È', 'É', 'Ê', 'Ë':
		return 'E'
	case 'Ì', 'Í', 'Î', 'Ï':
		return 'I'
	case 'Ò', 'Ó', 'Ô', 'Ö':
		return 'O'
	case 'Ù', 'Ú', 'Û', 'Ü':
		return 'U'
	}
	return unicode.ToUpper(r)
}

func pad3(s string) string { return (s + "XXX")[:3] }

// surnamePart: consonants, then vowels, padded with X.
func surnamePart(s string) string {
	c, v := letters(s)
	return pad3(c + v)
}

// namePart: with four or more consonants the 1st, 3rd and 4th; otherwise as
// for surnames.
func namePart(s string) string {
	c, v := letters(s)
	if len(c) >= 4 {
		return c[:1] + c[2:4]
	}
	return pad3(c + v)
}

// oddValue holds the weights of characters in odd (1-based) positions, for
// digits 0-9 and letters A-Z alike (index = digit value or letter offset).
var oddValue = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// checkChar computes the 16th character from the first 15.
func checkChar(first15 string) byte {
	sum := 0
	for i := 0; i < len(first15); i++ {
		c := first15[i]
		idx := int(c - 'A')
		if c >= '0' && c <= '9' {
			idx = int(c - '0')
		}
		if i%2 == 0 {
			sum += oddValue[idx]
		} else {
			sum += idx
		}
	}
	return byte('A' + sum%26)
}
