package e2e

import (
	"net/http"
	"strings"
	"testing"

	"sportello/internal/mailcatcher"
)

// TestCitizenGetsEmailsOverSMTP: the citizen's receipt and the decision reach
// a real SMTP server (the platform's mail catcher on loopback), in Italian,
// once each; the outbox records them as sent.
func TestCitizenGetsEmailsOverSMTP(t *testing.T) {
	s, inbox := newMailStack(t)

	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 3000))

	receipt := inbox.wait("of receipt", func(c mailcatcher.Captured) bool {
		return strings.Contains(c.Subject, created.ID) && len(c.To) == 1 && c.To[0] == "maria.rossi@example.org"
	})
	if !strings.Contains(receipt.Text, created.ID) || !strings.Contains(receipt.Text, "http://portal.test/cases/"+created.ID) {
		t.Fatalf("receipt text lacks the case number or its link:\n%s", receipt.Text)
	}

	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil)
	approved := inbox.wait("of approval", func(c mailcatcher.Captured) bool {
		return c.ID != receipt.ID && strings.Contains(c.Text, "150,00 €") && strings.Contains(c.Subject, created.ID)
	})
	if approved.MessageID == "" || approved.MessageID == receipt.MessageID {
		t.Fatalf("message ids: %q %q", receipt.MessageID, approved.MessageID)
	}
	eventually(t, "the outbox to record the deliveries", func() bool {
		return s.count(`SELECT count(*) FROM notifications WHERE case_id = $1 AND status = 'sent' AND channel = 'email'`, created.ID) >= 3
	})
	// Each notification went out once, whatever the retries.
	seen := map[string]int{}
	for _, c := range inbox.catcher.Messages() {
		seen[c.MessageID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %s delivered %d times", id, n)
		}
	}
}
