package activities

import (
	"context"
	"reflect"
	"testing"

	"sportello/internal/contract/jsonpin"
)

// The inputs and results of the activities travel through Temporal: every
// workflow history records them under these JSON names, and a replay decodes
// them by the same names. The names are the Go names the fields were encoded
// under before they had tags: never rename one (the contract package's
// json_test.go does the same for the types defined there).

// payloads pins the JSON names of a filled value of every struct this
// package passes to or returns from an activity (Actor travels inside them).
var payloads = []jsonpin.Pinned{
	{Value: Actor{}, Keys: []string{"UserID", "Username"}},
	{Value: AppointmentActionInput{}, Keys: []string{"AppointmentID", "At"}},
	{Value: RecordBookingResult{}, Keys: []string{"Status"}},
	{Value: AppointmentNotifyInput{}, Keys: []string{"Key", "AppointmentID", "Kind", "Data", "At"}},
	{Value: PickAssigneeInput{}, Keys: []string{"TaskID", "CaseID", "ExcludeUserID", "At"}},
	{Value: PickAssigneeResult{}, Keys: []string{"UserID", "Username", "Role"}},
	{Value: CommitmentResult{}, Keys: []string{"Status", "Number", "AmountCents", "Refusal"}},
	{Value: OpenCommittedCallInput{}, Keys: []string{"CallID", "Number", "AmountCents"}},
	{Value: RefuseCallFundingInput{}, Keys: []string{"CallID", "Refusal"}},
	{Value: CancelCallPublicationInput{}, Keys: []string{"CallID", "Actor"}},
	{Value: CallFundingOutcome{}, Keys: []string{"Status"}},
	{Value: PrepareInvoiceInput{}, Keys: []string{"Kind", "PayeeID", "Municipality", "AsOf", "WorkflowID"}},
	{Value: InvoiceInput{}, Keys: []string{"InvoiceID"}},
	{Value: InvoiceStatusResult{}, Keys: []string{"Status", "AccountingID"}},
	{Value: SendInvoiceResult{}, Keys: []string{"AccountingID"}},
	{Value: CheckPaymentInput{}, Keys: []string{"InvoiceID", "AccountingID"}},
	{Value: CheckPaymentResult{}, Keys: []string{"Paid", "PaymentRef", "PaidAt"}},
	{Value: ReconcileInput{}, Keys: []string{"InvoiceID", "PaymentRef", "PaidAt"}},
	{Value: ReconcileResult{}, Keys: []string{"TransferID"}},
	{Value: BookingRef{}, Keys: []string{"BookingID", "At"}},
	{Value: BookingFactsResult{}, Keys: []string{"Status", "CooperativeID", "OnlineCents", "PaymentStatus", "Sessions", "AutoconfirmDays"}},
	{Value: PaymentIntentResult{}, Keys: []string{"PaymentID", "PaymentURL"}},
	{Value: PaymentStatusInput{}, Keys: []string{"PaymentID"}},
	{Value: PaymentStatusResult{}, Keys: []string{"Status", "CapturedCents"}},
	{Value: RecordPaymentInput{}, Keys: []string{"BookingID", "PaymentID", "AmountCents"}},
	{Value: RefundInput{}, Keys: []string{"BookingID", "PaymentID", "Key", "Seqs", "AmountCents", "Reason"}},
	{Value: BookingNotifyInput{}, Keys: []string{"Key", "BookingID", "CitizenID", "Kind", "Data"}},
	{Value: LoadCaseInput{}, Keys: []string{"CaseID"}},
	{Value: LoadCaseResult{}, Keys: []string{"Case", "DefaultAwardCents"}},
	{Value: PrecheckInput{}, Keys: []string{"CaseID", "At"}},
	{Value: PrecheckResult{}, Keys: []string{"Passed", "Checks"}},
	{Value: OpenTaskInput{}, Keys: []string{"TaskID", "CaseID", "Round", "DueAt", "At", "Kind", "CandidateRole"}},
	{Value: TaskActionInput{}, Keys: []string{"TaskID", "CaseID", "Actor", "Seq", "DueAt", "At"}},
	{Value: DecisionInput{}, Keys: []string{"TaskID", "CaseID", "Actor", "Outcome", "AmountCents", "Reason", "At"}},
	{Value: DecisionResult{}, Keys: []string{"VoucherID", "ExpiresAt"}},
	{Value: InformationInput{}, Keys: []string{"CaseID", "Round", "Actor", "Message", "Data", "At"}},
	{Value: TrancheInput{}, Keys: []string{"CaseID", "VoucherID", "Index", "AmountCents", "At"}},
	{Value: ExpireInput{}, Keys: []string{"CaseID", "VoucherID", "At"}},
	{Value: ExpireResult{}, Keys: []string{"ReturnedCents"}},
	{Value: WithdrawInput{}, Keys: []string{"CaseID", "Deadline", "At"}},
	{Value: AssignInput{}, Keys: []string{"TaskID", "CaseID", "Actor", "Assignee", "Previous", "Reason", "Seq", "At"}},
	{Value: AbsenceInput{}, Keys: []string{"AbsenceID", "At"}},
	{Value: AbsenceResult{}, Keys: []string{"Found", "Absence"}},
	{Value: HandoverResult{}, Keys: []string{"Moved", "Kept"}},
	{Value: HandBackInput{}, Keys: []string{"AbsenceID", "Status", "At"}},
	{Value: CancelAbsenceInput{}, Keys: []string{"AbsenceID", "ByUserID", "At"}},
	{Value: LedgerVerifyInput{}, Keys: []string{"grace"}},
	{Value: LedgerVerifyResult{}, Keys: []string{"report"}},
	{Value: IssueStatementsInput{}, Keys: []string{"at"}},
	{Value: IssueStatementsResult{}, Keys: []string{"issued"}},
	{Value: RetentionInput{}, Keys: []string{"run_key", "cutoff", "retention_days", "limit"}},
	{Value: RetentionResult{}, Keys: []string{"run_id", "people", "cases", "kept", "more"}},
	{Value: NotifyInput{}, Keys: []string{"Key", "CaseID", "TaskID", "Kind", "Audience", "Data", "At", "OneContact"}},
}

func TestPayloadNamesArePinned(t *testing.T) { jsonpin.Check(t, payloads) }

// TestEveryPayloadIsPinnedAndTagged reads the signatures of every activity
// (the exported methods of the structs the worker registers): each struct
// of this package they take or return must be in payloads, and every
// exported field reachable from them (here or in internal/contract) must
// have a JSON name of its own.
func TestEveryPayloadIsPinnedAndTagged(t *testing.T) {
	listed := map[reflect.Type]bool{}
	for _, tc := range payloads {
		listed[reflect.TypeOf(tc.Value)] = true
	}
	local := reflect.TypeFor[Actor]().PkgPath()
	contractPkg := reflect.TypeFor[CloseAppointmentInput]().PkgPath()
	w := jsonpin.Walker{T: t, Pkgs: []string{local, contractPkg}, Visit: func(typ reflect.Type, path string) {
		if typ.PkgPath() == local && !listed[typ] {
			t.Errorf("%s: %s travels through Temporal and is not in payloads: pin its JSON names", path, typ.Name())
		}
	}}
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	activities := 0
	for _, recv := range []any{&Cases{}, &Delegations{}, &Appointments{}, &Billing{}, &Ledger{}, &Bookings{}, &Retention{}, &Companies{}, &CallFunding{}} {
		rt := reflect.TypeOf(recv)
		for m := range rt.Methods() {
			activities++
			name := rt.Elem().Name() + "." + m.Name
			for p := range m.Type.Ins() {
				if p != rt && p != ctxType {
					w.Walk(p, name)
				}
			}
			for r := range m.Type.Outs() {
				if r != errType {
					w.Walk(r, name)
				}
			}
		}
	}
	if activities < 30 {
		t.Errorf("found %d activities: the receivers the worker registers are missing from the test", activities)
	}
	for typ := range listed {
		if !w.Seen[typ] {
			t.Errorf("%s is in payloads but no activity takes or returns it: drop it from the list", typ.Name())
		}
	}
}
