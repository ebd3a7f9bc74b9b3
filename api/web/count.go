package web

import (
	"strconv"
	"strings"

	"sportello/internal/store"
)

// Case lists and the catalogue count only up to a cap (store.CaseCountCap,
// store.CatalogueCountCap): beyond it they say "more than N".

// countText is a count as a person reads it: "1.234" or "più di 10.000"
// ("1,234", "more than 10,000" in English).
func countText(lang string, n store.Count) string {
	digits := strconv.Itoa(n.N)
	sep := "."
	if lang == langEN {
		sep = ","
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if n.More {
		return translate(lang, "count.more_than", b.String())
	}
	return b.String()
}
