package activities

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The inputs and results of the activities travel through Temporal: every
// workflow history records them under these JSON names, and a replay decodes
// them by the same names. The names are the Go names the fields were encoded
// under before they had tags: never rename one (the contract package's
// json_test.go does the same for the types defined there).

// payloads pins the JSON names of a filled value of every struct this
// package passes to or returns from an activity (Actor travels inside them).
var payloads = []struct {
	value any
	keys  []string
}{
	{Actor{}, []string{"UserID", "Username"}},
	{AppointmentActionInput{}, []string{"AppointmentID", "At"}},
	{RecordBookingResult{}, []string{"Status"}},
	{AppointmentNotifyInput{}, []string{"Key", "AppointmentID", "Kind", "Data", "At"}},
	{PickAssigneeInput{}, []string{"TaskID", "CaseID", "ExcludeUserID", "At"}},
	{PickAssigneeResult{}, []string{"UserID", "Username", "Role"}},
	{PrepareInvoiceInput{}, []string{"Kind", "PayeeID", "Municipality", "AsOf", "WorkflowID"}},
	{InvoiceInput{}, []string{"InvoiceID"}},
	{InvoiceStatusResult{}, []string{"Status", "AccountingID"}},
	{SendInvoiceResult{}, []string{"AccountingID"}},
	{CheckPaymentInput{}, []string{"InvoiceID", "AccountingID"}},
	{CheckPaymentResult{}, []string{"Paid", "PaymentRef", "PaidAt"}},
	{ReconcileInput{}, []string{"InvoiceID", "PaymentRef", "PaidAt"}},
	{ReconcileResult{}, []string{"TransferID"}},
	{BookingRef{}, []string{"BookingID", "At"}},
	{BookingFactsResult{}, []string{"Status", "CooperativeID", "OnlineCents", "PaymentStatus", "Sessions", "AutoconfirmDays"}},
	{PaymentIntentResult{}, []string{"PaymentID", "PaymentURL"}},
	{PaymentStatusInput{}, []string{"PaymentID"}},
	{PaymentStatusResult{}, []string{"Status", "CapturedCents"}},
	{RecordPaymentInput{}, []string{"BookingID", "PaymentID", "AmountCents"}},
	{RefundInput{}, []string{"BookingID", "PaymentID", "Key", "Seqs", "AmountCents", "Reason"}},
	{BookingNotifyInput{}, []string{"Key", "BookingID", "CitizenID", "Kind", "Data"}},
	{LoadCaseInput{}, []string{"CaseID"}},
	{LoadCaseResult{}, []string{"Case", "DefaultAwardCents"}},
	{PrecheckInput{}, []string{"CaseID", "At"}},
	{PrecheckResult{}, []string{"Passed", "Checks"}},
	{OpenTaskInput{}, []string{"TaskID", "CaseID", "Round", "DueAt", "At", "Kind", "CandidateRole"}},
	{TaskActionInput{}, []string{"TaskID", "CaseID", "Actor", "Seq", "DueAt", "At"}},
	{DecisionInput{}, []string{"TaskID", "CaseID", "Actor", "Outcome", "AmountCents", "Reason", "At"}},
	{DecisionResult{}, []string{"VoucherID", "ExpiresAt"}},
	{InformationInput{}, []string{"CaseID", "Round", "Actor", "Message", "Data", "At"}},
	{TrancheInput{}, []string{"CaseID", "VoucherID", "Index", "AmountCents", "At"}},
	{ExpireInput{}, []string{"CaseID", "VoucherID", "At"}},
	{ExpireResult{}, []string{"ReturnedCents"}},
	{WithdrawInput{}, []string{"CaseID", "Deadline", "At"}},
	{AssignInput{}, []string{"TaskID", "CaseID", "Actor", "Assignee", "Previous", "Reason", "Seq", "At"}},
	{AbsenceInput{}, []string{"AbsenceID", "At"}},
	{AbsenceResult{}, []string{"Found", "Absence"}},
	{HandoverResult{}, []string{"Moved", "Kept"}},
	{HandBackInput{}, []string{"AbsenceID", "Status", "At"}},
	{CancelAbsenceInput{}, []string{"AbsenceID", "ByUserID", "At"}},
	{LedgerVerifyInput{}, []string{"grace"}},
	{LedgerVerifyResult{}, []string{"report"}},
	{NotifyInput{}, []string{"Key", "CaseID", "TaskID", "Kind", "Audience", "Data", "At"}},
}

func TestPayloadNamesArePinned(t *testing.T) {
	for _, tc := range payloads {
		typ := reflect.TypeOf(tc.value)
		t.Run(typ.Name(), func(t *testing.T) {
			v := reflect.New(typ)
			fill(v.Elem(), 1)
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("unmarshal %s: %v", raw, err)
			}
			var got []string
			for k := range obj {
				got = append(got, k)
			}
			want := slices.Clone(tc.keys)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("JSON names of a filled %s:\n got %q\nwant %q\n(recorded histories are decoded by these names: never rename one)",
					typ, got, want)
			}
		})
	}
}

// TestEveryPayloadIsPinnedAndTagged reads the signatures of every activity
// (the exported methods of the structs the worker registers): each struct
// of this package they take or return must be in payloads, and every
// exported field reachable from them (here or in internal/contract) must
// have a JSON name of its own.
func TestEveryPayloadIsPinnedAndTagged(t *testing.T) {
	listed := map[reflect.Type]bool{}
	for _, tc := range payloads {
		listed[reflect.TypeOf(tc.value)] = true
	}
	local := reflect.TypeFor[Actor]().PkgPath()
	contractPkg := reflect.TypeFor[CloseAppointmentInput]().PkgPath()
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || (typ.PkgPath() != local && typ.PkgPath() != contractPkg) {
			return
		}
		seen[typ] = true
		if typ.PkgPath() == local && !listed[typ] {
			t.Errorf("%s: %s travels through Temporal and is not in payloads: pin its JSON names", path, typ.Name())
		}
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				t.Errorf("%s: %s.%s has no JSON name (tag %q): give it the name it is encoded with today", path, typ.Name(), f.Name, f.Tag)
			}
			walk(f.Type, path)
		}
	}
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	activities := 0
	for _, recv := range []any{&Cases{}, &Delegations{}, &Appointments{}, &Billing{}, &Ledger{}, &Bookings{}} {
		rt := reflect.TypeOf(recv)
		for m := range rt.Methods() {
			activities++
			name := rt.Elem().Name() + "." + m.Name
			for p := range m.Type.Ins() {
				if p != rt && p != ctxType {
					walk(p, name)
				}
			}
			for r := range m.Type.Outs() {
				if r != errType {
					walk(r, name)
				}
			}
		}
	}
	if activities < 30 {
		t.Errorf("found %d activities: the receivers the worker registers are missing from the test", activities)
	}
	for typ := range listed {
		if !seen[typ] {
			t.Errorf("%s is in payloads but no activity takes or returns it: drop it from the list", typ.Name())
		}
	}
}

// fill sets every field of v to a value that is not zero, so that fields
// with omitempty are encoded too.
func fill(v reflect.Value, n int) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 3, n, 9, 30, 0, 0, time.UTC)))
		return
	case reflect.TypeFor[json.RawMessage]():
		v.Set(reflect.ValueOf(json.RawMessage(`{"members":2}`)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n+i)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf("x"))
		} else {
			fill(e, n)
		}
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	default:
		panic("fill: no value for " + v.Type().String())
	}
}
