package forms

// ValidVATNumber reports whether s is a well-formed Italian VAT number
// (partita IVA): 11 digits, not all zero, the last being the check digit
// of the first ten (digits in odd places summed, those in even places
// doubled, less 9 when over 9, and summed; the check digit brings the
// total to a multiple of 10). Surrounding spaces are not accepted.
func ValidVATNumber(s string) bool {
	if len(s) != 11 {
		return false
	}
	sum, zero := 0, true
	for i := 0; i < 11; i++ {
		d := int(s[i]) - '0'
		if d < 0 || d > 9 {
			return false
		}
		if d != 0 {
			zero = false
		}
		if i == 10 {
			break
		}
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return !zero && (10-sum%10)%10 == int(s[10])-'0'
}
