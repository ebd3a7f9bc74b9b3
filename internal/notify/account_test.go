package notify

import (
	"strings"
	"testing"
	"time"
)

// The account notices render in both languages; the recovery carries the
// code, its expiry and what to do when the citizen did not ask for it.
func TestRenderAccountKinds(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 4, 0, 0, time.UTC)
	data := map[string]any{"name": "Maria Rossi", "portal_url": "http://127.0.0.1:8080/", "path": "/login",
		"username": "maria.rossi", "code": "ABCD-EFGH-JKLM", "requested_at": at, "expires_at": at.Add(24 * time.Hour),
		"changed_at": at, "activate_url": "http://127.0.0.1:8080/attiva",
		"reset_url": "http://127.0.0.1:8080/password/reset?token=abc"}
	for _, kind := range AccountKinds {
		for _, lang := range Languages {
			msg, err := Render(kind, lang, data)
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			want := []string{"maria.rossi", "02/12/2026"}
			if kind == KindPasswordReset {
				want = append(want, "http://127.0.0.1:8080/password/reset?token=abc", "03/12/2026")
			}
			if kind == KindAccountRecovery {
				want = append(want, "ABCD-EFGH-JKLM", "03/12/2026", "http://127.0.0.1:8080/attiva")
			}
			for _, w := range want {
				if !strings.Contains(msg.Text, w) || !strings.Contains(msg.HTML, w) {
					t.Errorf("%s/%s lacks %q:\n%s", kind, lang, w, msg.Text)
				}
			}
		}
	}
}
