package notify

import (
	"strings"
	"testing"
)

// The incident e-mail to supervisors renders in both languages for both
// incident kinds, with the booking, the amount, the details and the link to
// the incidents page.
func TestRenderIncident(t *testing.T) {
	for _, ik := range []string{"refund_failed", "payment_mismatch"} {
		for _, lang := range Languages {
			msg, err := Render(KindStaffIncident, lang, map[string]any{"name": "Laura Bianchi", "portal_url": "http://127.0.0.1:8080/",
				"path": "/incidents", "incident_kind": ik, "number": int64(42), "municipality": "Tradate",
				"amount_cents": int64(900), "details": "only a captured payment can be refunded"})
			if err != nil {
				t.Fatalf("%s/%s: %v", ik, lang, err)
			}
			for _, want := range []string{"42", "Tradate", "9,00", "only a captured payment", "http://127.0.0.1:8080/incidents"} {
				if lang == "en" && want == "9,00" {
					want = "9.00"
				}
				if !strings.Contains(msg.Text, want) || !strings.Contains(msg.HTML, want) {
					t.Errorf("%s/%s lacks %q:\n%s", ik, lang, want, msg.Text)
				}
			}
			if !strings.Contains(msg.Subject, "42") {
				t.Errorf("%s/%s subject %q", ik, lang, msg.Subject)
			}
		}
	}
}
