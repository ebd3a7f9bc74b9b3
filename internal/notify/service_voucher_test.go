package notify

import (
	"strings"
	"testing"
)

// TestVoucherReadyByFundKind: a service voucher is spent in the catalogue,
// so its "voucher ready" message does not send the citizen to a shop; a
// food voucher's (fund_kind food, or none given) does.
func TestVoucherReadyByFundKind(t *testing.T) {
	for _, c := range []struct {
		kind, lang string
		want, not  string
	}{
		{"service", "it", "catalogo dei servizi", "esercizi convenzionati"},
		{"service", "en", "service catalogue", "affiliated shops"},
		{"food", "it", "esercizi convenzionati", "catalogo dei servizi"},
		{"", "en", "affiliated shops", "service catalogue"},
	} {
		d := fullData()
		if c.kind != "" {
			d["fund_kind"] = c.kind
		}
		msg, err := Render(KindVoucherReady, c.lang, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{msg.Text, msg.HTML} {
			if !strings.Contains(part, c.want) || strings.Contains(part, c.not) {
				t.Errorf("%s %s: want %q and not %q in\n%s", c.kind, c.lang, c.want, c.not, part)
			}
		}
	}
}
