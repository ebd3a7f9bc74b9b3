package casework

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"

	"sportello/workflows"
)

// TestBulkRefusalReadsTheReasonNotTheText: a bulk approval tells the two
// second-approval refusals apart by the reason the workflow attaches
// (workflows.ForbiddenReason), not by the English text of its message: a
// reworded message keeps its code, and a message that only mentions "four
// eyes" without the reason is not taken for one.
func TestBulkRefusalReadsTheReasonNotTheText(t *testing.T) {
	wrap := func(err error) error { return errors.Join(errors.New("update failed"), err) }
	cases := []struct {
		name     string
		err      error
		wantCode string
		wantIT   string
	}{
		{"four eyes, reworded", wrap(temporal.NewApplicationError("il primo approvatore non può dare la seconda",
			workflows.ErrTypeForbidden, workflows.ForbiddenReason{Code: workflows.ReasonFourEyes})),
			"four_eyes", "Quattro occhi: chi ha dato la prima approvazione non può dare la seconda."},
		{"supervisors only, reworded", wrap(temporal.NewApplicationError("riservata ai supervisori",
			workflows.ErrTypeForbidden, workflows.ForbiddenReason{Code: workflows.ReasonSupervisorOnly})),
			"forbidden", "La seconda approvazione spetta a un supervisore."},
		{"the words without the reason", wrap(temporal.NewApplicationError("four eyes: second approval",
			workflows.ErrTypeForbidden)), "forbidden", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it := RefusedItem(BulkItem{TaskID: "t", CaseID: "BS-2026-000001"}, tc.err, "")
			if it.Status != BulkRefused || it.Code != tc.wantCode {
				t.Fatalf("item %+v, want refused %s", it, tc.wantCode)
			}
			if tc.wantIT != "" && it.Text.In("it") != tc.wantIT {
				t.Fatalf("Italian message %q, want %q", it.Text.In("it"), tc.wantIT)
			}
			if tc.wantIT == "" && (it.Text.In("it") == "La seconda approvazione spetta a un supervisore." || it.Code == "four_eyes") {
				t.Fatalf("taken for a second-approval refusal by its words: %+v", it)
			}
		})
	}
}
