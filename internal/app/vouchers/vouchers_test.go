package vouchers

import (
	"slices"
	"strings"
	"testing"

	"sportello/internal/app/casework"
)

// TestRedemptionValidate: the till's request is checked with the pointers
// of the JSON API and texts in both languages.
func TestRedemptionValidate(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		name string
		r    Redemption
		want []string
	}{
		{"nothing", Redemption{}, []string{"/code required", "/amount_cents required"}},
		{"zero", Redemption{Code: "ABCD-EFGH", AmountCents: n(0)}, []string{"/amount_cents minimum"}},
		{"too much", Redemption{Code: "ABCD-EFGH", AmountCents: n(casework.MaxAmountCents + 1)}, []string{"/amount_cents maximum"}},
		{"long code", Redemption{Code: strings.Repeat("B", 70), AmountCents: n(100)},
			[]string{"/code too_long"}},
		{"fine", Redemption{Code: "abcd-efgh", AmountCents: n(100)}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, f := range c.r.Validate() {
			if f.In("en") == "" || f.In("it") == "" {
				t.Errorf("%s: %s without both texts", c.name, f.Pointer)
			}
			got = append(got, f.Pointer+" "+f.Code)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
