package app

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	"sportello/internal/i18n"
	"sportello/workflows"
)

// overTheWire is err as a caller of the workflow gets it: encoded into a
// Temporal failure and decoded again (details become JSON payloads).
func overTheWire(err error) error {
	fc := temporal.GetDefaultFailureConverter()
	return fc.FailureToError(fc.ErrorToFailure(err))
}

// TestDecisionField: a validator's field problem (a message id and its
// arguments) reaches the caller in both languages, and so does the shape
// workflows sent before their problems had ids (the sentences).
func TestDecisionField(t *testing.T) {
	for _, c := range []struct {
		name    string
		details any
		pointer string
		en, it  string
	}{
		{"id", workflows.FieldProblem{Pointer: "/seqs/0", ID: "booking.err.no_such_session", Args: []any{4}},
			"/seqs/0", "The booking has no session 4.", "La prenotazione non ha la sessione 4."},
		{"sentences", map[string]string{"pointer": "/reason", "message": "A reason is required.", "message_it": "Indicare il motivo."},
			"/reason", "A reason is required.", "Indicare il motivo."},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := overTheWire(temporal.NewApplicationError("refused", workflows.ErrTypeInvalidDecision, c.details))
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("not an application error: %v", err)
			}
			f := DecisionField(appErr)
			if f.Pointer != c.pointer || f.Code != "invalid_decision" || f.In(i18n.EN) != c.en || f.In(i18n.IT) != c.it {
				t.Fatalf("field %+v: %q / %q", f, f.In(i18n.EN), f.In(i18n.IT))
			}
			ae := Classify(err)
			if ae.Kind != Invalid || ae.Message != c.en || len(ae.Fields) != 1 {
				t.Fatalf("classified %+v", ae)
			}
		})
	}
	local := temporal.NewApplicationError("x", workflows.ErrTypeInvalidDecision, workflows.FieldProblem{Pointer: "/a", ID: "booking.err.no_such_session", Args: []any{2}})
	if f := DecisionField(local.(*temporal.ApplicationError)); f.Pointer != "/a" || f.In(i18n.EN) != "The booking has no session 2." {
		t.Errorf("not encoded: %+v", f)
	}
	f := DecisionField(temporal.NewApplicationError("no details", workflows.ErrTypeInvalidDecision).(*temporal.ApplicationError))
	if f.In(i18n.IT) != "no details" || f.In(i18n.EN) != "no details" {
		t.Errorf("without details: %+v", f)
	}
}
