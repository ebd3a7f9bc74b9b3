package forms

import (
	"errors"
	"strings"
)

// Layout of an Italian tax code (codice fiscale) of a natural person:
//
//	RSS MRA 85 T 10 A562 S
//	 |   |   |  |  |   |   +- check character
//	 |   |   |  |  |   +----- municipality (Belfiore) code: letter + 3 digits
//	 |   |   |  |  +--------- day of birth (women: day + 40)
//	 |   |   |  +------------ month of birth letter (ABCDEHLMPRST)
//	 |   |   +--------------- last two digits of the year of birth
//	 |   +------------------- three letters from the first name
//	 +----------------------- three letters from the surname
//
// When two people would get the same code (omocodia), the revenue agency
// replaces digits, starting from the right, with the letters LMNPQRSTUV
// (standing for 0-9); such codes are valid and accepted here.

// taxCodeDigitPositions are the 0-based positions that normally hold digits.
var taxCodeDigitPositions = [...]int{6, 7, 9, 10, 12, 13, 14}

// omocodiaLetters maps the letters that may replace digits to their digit.
const omocodiaLetters = "LMNPQRSTUV"

// taxCodeMonths are the month letters, January to December.
const taxCodeMonths = "ABCDEHLMPRST"

// oddValues are the check-sum values of the characters in odd (1-based)
// positions, indexed by 0-9 for digits and by 0-25 for letters A-Z: digits
// and letters share the same table.
var oddValues = [26]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // A/0 .. J/9
	2, 4, 18, 20, 11, 3, 6, 8, 12, 14, // K .. T
	16, 10, 22, 25, 24, 23, // U .. Z
}

// charIndex returns the 0-based index of an upper-case letter or digit in the
// check-sum tables, or -1.
func charIndex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	}
	return -1
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// TaxCodeCheckChar computes the check character (the 16th, an upper-case
// letter) of an Italian tax code from its first 15 characters. Input is
// case-insensitive; it must be exactly 15 ASCII letters or digits. The layout
// is not checked: use ValidTaxCode on the complete code for that.
func TaxCodeCheckChar(first15 string) (byte, error) {
	if len(first15) != 15 {
		return 0, errors.New("forms: tax code prefix must be 15 characters long")
	}
	sum := 0
	for i := 0; i < 15; i++ {
		idx := charIndex(upperASCII(first15[i]))
		if idx < 0 {
			return 0, errors.New("forms: tax code prefix must contain only letters and digits")
		}
		if i%2 == 0 { // 1st, 3rd, ... character: odd position
			sum += oddValues[idx]
		} else {
			sum += idx
		}
	}
	return byte('A' + sum%26), nil
}

// ValidTaxCode reports whether s is a well-formed Italian tax code (codice
// fiscale) of a natural person: 16 characters with the expected layout of
// letters and digits, a valid month letter and day of birth, and the right check
// character. Letters standing for digits (omocodia) are accepted in every digit
// position. Input is case-insensitive; surrounding spaces are not accepted.
func ValidTaxCode(s string) bool {
	if len(s) != 16 {
		return false
	}
	var c [16]byte
	for i := 0; i < 16; i++ {
		c[i] = upperASCII(s[i])
	}
	isLetter := func(b byte) bool { return b >= 'A' && b <= 'Z' }
	for _, i := range [...]int{0, 1, 2, 3, 4, 5, 8, 11, 15} {
		if !isLetter(c[i]) {
			return false
		}
	}
	// Digit positions: a digit, or an omocodia letter standing for one.
	var digits [16]int
	for _, i := range taxCodeDigitPositions {
		switch {
		case c[i] >= '0' && c[i] <= '9':
			digits[i] = int(c[i] - '0')
		default:
			k := strings.IndexByte(omocodiaLetters, c[i])
			if k < 0 {
				return false
			}
			digits[i] = k
		}
	}
	if strings.IndexByte(taxCodeMonths, c[8]) < 0 {
		return false
	}
	day := digits[9]*10 + digits[10]
	if !(day >= 1 && day <= 31) && !(day >= 41 && day <= 71) {
		return false
	}
	check, err := TaxCodeCheckChar(string(c[:15]))
	return err == nil && check == c[15]
}
