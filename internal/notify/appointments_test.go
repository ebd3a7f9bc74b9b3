package notify

import (
	"strings"
	"testing"
)

func appointmentData() map[string]any {
	return map[string]any{
		"name": "Maria Rossi", "portal_url": "http://127.0.0.1:8080/", "path": "/appointments/abc",
		"point_name": "Social Point di Tradate", "point_address": "Piazza Mazzini 6", "starts_at": due,
		"topic": "Affitto", "reason": "Impegno di lavoro", "by_staff": true,
	}
}

// Every appointment kind renders in both languages with the time in Rome,
// the point and the link to the appointment; a missing key is an error.
func TestRenderAppointmentKinds(t *testing.T) {
	for _, kind := range AppointmentKinds {
		for _, lang := range Languages {
			msg, err := Render(kind, lang, appointmentData())
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			for part, body := range map[string]string{"subject": msg.Subject, "text": msg.Text, "html": msg.HTML} {
				if !strings.Contains(body, "Social Point di Tradate") {
					t.Errorf("%s/%s %s lacks the point: %s", kind, lang, part, body)
				}
			}
			for part, body := range map[string]string{"text": msg.Text, "html": msg.HTML} {
				for _, want := range []string{dueText, "01:30", "http://127.0.0.1:8080/appointments/abc"} {
					if !strings.Contains(body, want) {
						t.Errorf("%s/%s %s lacks %q:\n%s", kind, lang, part, want, body)
					}
				}
			}
			if kind == KindAppointmentCancelled && !strings.Contains(msg.Text, "Impegno di lavoro") {
				t.Errorf("%s/%s: no reason:\n%s", kind, lang, msg.Text)
			}
			d := appointmentData()
			delete(d, "starts_at")
			if _, err := Render(kind, lang, d); err == nil {
				t.Errorf("%s/%s rendered without starts_at", kind, lang)
			}
		}
	}
}
