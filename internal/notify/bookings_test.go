package notify

import (
	"strings"
	"testing"
)

// Every booking kind renders in both languages with the booking's number,
// service and link; the cancellation names the refund and the voucher
// credit only when there is one.
func TestRenderBookingKinds(t *testing.T) {
	data := func() map[string]any {
		return map[string]any{"name": "Maria Rossi", "portal_url": "http://127.0.0.1:8080/", "path": "/bookings/b1",
			"number": int64(42), "service_name": "Doposcuola", "cooperative": "Eureka!", "previous": "Baobab",
			"reason": "Nessun educatore libero", "refund_cents": int64(0), "voucher_cents": int64(2500),
			"company_cents": int64(1001)}
	}
	for _, kind := range BookingKinds {
		for _, lang := range Languages {
			msg, err := Render(kind, lang, data())
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			for _, want := range []string{"42", "Doposcuola", "http://127.0.0.1:8080/bookings/b1"} {
				if !strings.Contains(msg.Text, want) || !strings.Contains(msg.HTML, want) {
					t.Errorf("%s/%s lacks %q:\n%s", kind, lang, want, msg.Text)
				}
			}
			if kind == KindBookingCancelled {
				if !strings.Contains(msg.Text, "25") || strings.Contains(msg.Text, "0,00") || strings.Contains(msg.Text, "0.00") {
					t.Errorf("%s/%s: voucher credit or a zero refund wrong:\n%s", kind, lang, msg.Text)
				}
				if !strings.Contains(msg.Text, "10,01") && !strings.Contains(msg.Text, "10.01") || !strings.Contains(msg.HTML, "10") {
					t.Errorf("%s/%s: the company credit given back is missing:\n%s", kind, lang, msg.Text)
				}
			}
			if kind == KindBookingReoffered && !strings.Contains(msg.Text, "Baobab") {
				t.Errorf("%s/%s: no previous cooperative:\n%s", kind, lang, msg.Text)
			}
		}
	}
}
