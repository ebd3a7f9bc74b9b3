package i18n

import (
	"encoding/json"
	"testing"
)

// TestMessage: a Message is written in each language, its arguments too
// when they are Translatable, and it survives a JSON round trip (numbers
// come back as float64 and still fill %d).
func TestMessage(t *testing.T) {
	m := M("booking.err.no_such_session", 3)
	if got := m.In(EN); got != "The booking has no session 3." {
		t.Errorf("en: %q", got)
	}
	if got := m.In(IT); got != "La prenotazione non ha la sessione 3." {
		t.Errorf("it: %q", got)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"id":"booking.err.no_such_session","args":[3]}` {
		t.Errorf("JSON %s", raw)
	}
	var back Message
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.In(EN); got != "The booking has no session 3." {
		t.Errorf("after JSON: %q", got)
	}
	if raw, _ := json.Marshal(M("forms.err.json")); string(raw) != `{"id":"forms.err.json"}` {
		t.Errorf("JSON without args %s", raw)
	}
	month := Texts{IT: "Febbraio", EN: "February"}
	if got := M("teams.err.no_such_date", month, 29).In(IT); got != "Febbraio ha 29 giorni." {
		t.Errorf("nested it: %q", got)
	}
	if got := M("teams.err.no_such_date", month, 29).In(EN); got != "February has 29 days." {
		t.Errorf("nested en: %q", got)
	}
	if got := Verbatim("sì", "yes"); got.In(IT) != "sì" || got.In(EN) != "yes" || got.String() != "yes" {
		t.Errorf("verbatim %q %q", got.In(IT), got.In(EN))
	}
	if got := M("no.such.err.id").In(EN); got != "no.such.err.id" {
		t.Errorf("a missing id shows itself, got %q", got)
	}
	if !(Message{}).IsZero() || m.IsZero() {
		t.Error("IsZero")
	}
}
