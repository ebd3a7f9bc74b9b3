package worker

import (
	"strings"
	"testing"

	"sportello/internal/notify"
)

// Amounts arrive from workflow payloads as float64; the templates take them.
func TestCentsSurviveTheTripThroughJSON(t *testing.T) {
	data := notify.IntegerCents(map[string]any{"amount_cents": float64(15000), "name": "Maria", "case_number": "BS-1",
		"portal_url": "http://x", "path": "/cases/BS-1", "ratio": 0.5})
	if _, ok := data["amount_cents"].(int64); !ok {
		t.Fatalf("amount_cents is %T", data["amount_cents"])
	}
	if data["ratio"] != 0.5 {
		t.Fatal("other numbers must be left alone")
	}
	msg, err := notify.Render("approved", "it", data)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject == "" || !containsAll(msg.Text, "150,00 €", "BS-1") {
		t.Fatalf("rendered: %q\n%s", msg.Subject, msg.Text)
	}

}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
