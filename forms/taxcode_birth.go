package forms

import (
	"strings"
	"time"
)

// TaxCodeBirth reads the date of birth and the sex a valid tax code encodes
// (positions 7-11: year, month letter, day; women have 40 added to the
// day). The code gives only the last two digits of the year: the century is
// the latest one that does not put the birth after now. ok is false when
// the code is not valid or names no real date (30 February).
func TaxCodeBirth(code string, now time.Time) (born time.Time, female bool, ok bool) {
	if !ValidTaxCode(code) {
		return time.Time{}, false, false
	}
	code = strings.ToUpper(code)
	digit := func(i int) int {
		if c := code[i]; c >= '0' && c <= '9' {
			return int(c - '0')
		}
		return strings.IndexByte(omocodiaLetters, code[i])
	}
	yy := digit(6)*10 + digit(7)
	month := strings.IndexByte(taxCodeMonths, code[8]) + 1
	day := digit(9)*10 + digit(10)
	if day > 40 {
		female, day = true, day-40
	}
	year := now.Year() - now.Year()%100 + yy
	if year > now.Year() {
		year -= 100
	}
	born = time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if born.Day() != day || born.Month() != time.Month(month) {
		return time.Time{}, false, false
	}
	if born.After(now) {
		born = born.AddDate(-100, 0, 0)
	}
	return born, female, true
}
