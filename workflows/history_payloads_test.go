package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"

	"sportello/activities"
)

// TestRecordedPayloadsKeepTheirNames decodes every activity input and
// result recorded in the committed histories into the type the activity
// takes or returns today, encodes it again and checks that every name and
// value recorded is still there: a renamed JSON name (or a field that lost
// its tag and went back to its Go name) drops the recorded value. A replay alone would not see it:
// the replayer does not compare activity inputs, and a result decoded into
// a renamed field is silently zero.
func TestRecordedPayloadsKeepTheirNames(t *testing.T) {
	acts := map[string]reflect.Method{}
	for _, recv := range []any{&activities.Cases{}, &activities.Delegations{}, &activities.Appointments{},
		&activities.Billing{}, &activities.Ledger{}, &activities.Bookings{}, &activities.Operations{}, &activities.OperationsWatch{}, &activities.Retention{},
		&activities.CallFunding{}} {
		rt := reflect.TypeOf(recv)
		for m := range rt.Methods() {
			acts[m.Name] = m
		}
	}
	checked := 0
	err := filepath.WalkDir("testdata/histories", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(raw), client.HistoryJSONOptions{})
		if err != nil {
			return err
		}
		scheduled := map[int64]reflect.Method{}
		for _, ev := range h.GetEvents() {
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				name := a.GetActivityType().GetName()
				m, ok := acts[name]
				if !ok {
					t.Errorf("%s: event %d schedules %s, which is no activity of the worker", path, ev.GetEventId(), name)
					continue
				}
				scheduled[ev.GetEventId()] = m
				// In(0) is the receiver, In(1) the context.
				for i, p := range a.GetInput().GetPayloads() {
					if 2+i >= m.Type.NumIn() {
						t.Errorf("%s: event %d gives %s more arguments than it takes", path, ev.GetEventId(), name)
						break
					}
					samePayload(t, path, ev.GetEventId(), name+" input", p.GetData(), m.Type.In(2+i))
					checked++
				}
			}
			if a := ev.GetMarkerRecordedEventAttributes(); a != nil && a.GetMarkerName() == "LocalActivity" {
				// A local activity records no input, only its result, under
				// "result" next to the SDK's own "data" (which names it).
				var meta struct{ ActivityType string }
				data := a.GetDetails()["data"].GetPayloads()
				if len(data) != 1 || json.Unmarshal(data[0].GetData(), &meta) != nil {
					t.Errorf("%s: event %d: a local activity marker without its data", path, ev.GetEventId())
					continue
				}
				m, ok := acts[meta.ActivityType]
				if !ok {
					t.Errorf("%s: event %d runs the local activity %s, which is no activity of the worker", path, ev.GetEventId(), meta.ActivityType)
					continue
				}
				if m.Type.NumOut() < 2 {
					continue
				}
				for _, p := range a.GetDetails()["result"].GetPayloads() {
					samePayload(t, path, ev.GetEventId(), m.Name+" local result", p.GetData(), m.Type.Out(0))
					checked++
				}
			}
			if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
				m, ok := scheduled[a.GetScheduledEventId()]
				if !ok || m.Type.NumOut() < 2 {
					continue
				}
				for _, p := range a.GetResult().GetPayloads() {
					samePayload(t, path, ev.GetEventId(), m.Name+" result", p.GetData(), m.Type.Out(0))
					checked++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("only %d activity payloads checked in the committed histories: are they still there?", checked)
	}
}

// workflowFuncs are the workflows the worker registers, by the type name
// their histories record.
var workflowFuncs = map[string]any{
	"FoodVoucher":  FoodVoucher,
	"Appointment":  Appointment,
	"Booking":      Booking,
	"Delegation":   Delegation,
	"Billing":      Billing,
	"LedgerVerify": LedgerVerify,
	// The companies' monthly statements (company_statements.go).
	"CompanyStatements": CompanyStatements,
	// The operations console (refund_resolution.go).
	"RefundResolution": RefundResolution,
	"OperationsWatch":  OperationsWatch,
	// The retention run of personal data (retention.go).
	"Retention": Retention,
	// The password reset e-mail (password_reset.go).
	"PasswordResetMail": PasswordResetMail,
	// A call's budget commitment and funding (call_funding.go).
	"CallFunding": CallFunding,
}

// updateHandlers are the update handlers of each workflow by update name
// (method expressions: the argument is In(2), the result Out(0)).
var updateHandlers = map[string]map[string]any{
	"RefundResolution": {UpdateRefundApprove: (*refundResolution).approve},
	"CallFunding":      {UpdateCancelPublication: (*callFunding).cancelPublication},
	"FoodVoucher": {
		UpdateClaim:       (*foodVoucher).claim,
		UpdateAssign:      (*foodVoucher).assign,
		UpdateRelease:     (*foodVoucher).release,
		UpdateDecide:      (*foodVoucher).decide,
		UpdateProvideInfo: (*foodVoucher).provideInfo,
	},
	"Appointment": {
		UpdateRecordAttendance: (*appointment).recordAttendance,
		UpdateCancel:           (*appointment).cancel,
	},
	"Booking": {
		UpdateBookingRespond:         (*booking).respond,
		UpdateBookingRecordDelivery:  (*booking).recordDelivery,
		UpdateBookingConfirmDelivery: (*booking).confirmDelivery,
		UpdateBookingCancel:          (*booking).cancel,
	},
	"Delegation": {
		UpdateCancelAbsence: (*delegation).cancel,
	},
}

// signalTypes are what each workflow receives its signals into (nil: the
// signal carries nothing).
var signalTypes = map[string]map[string]reflect.Type{
	"Booking": {SignalBookingPayment: reflect.TypeFor[BookingPayment]()},
	"Billing": {SignalDeclared: nil},
}

// TestRecordedWorkflowPayloadsKeepTheirNames does for the workflows what
// TestRecordedPayloadsKeepTheirNames does for the activities: the input of
// every recorded start (and continue-as-new), the result of every
// completion, the argument of every accepted update, the result of every
// completed one and the input of every signal, decoded into today's type
// and encoded again, must keep every recorded name and value. The replayer
// checks none of them: a start input or an update argument decoded into a
// renamed field is silently zero.
func TestRecordedWorkflowPayloadsKeepTheirNames(t *testing.T) {
	found := travellingTypes(t)
	for _, name := range found.workflows {
		if _, ok := workflowFuncs[name]; !ok {
			t.Errorf("workflow %s is missing from workflowFuncs", name)
		}
	}
	if len(workflowFuncs) != len(found.workflows) {
		t.Errorf("workflowFuncs lists %d workflows, the source declares %v", len(workflowFuncs), found.workflows)
	}
	counts := map[string]int{}
	err := filepath.WalkDir("testdata/histories", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(raw), client.HistoryJSONOptions{})
		if err != nil {
			return err
		}
		var wf string
		var fn reflect.Type
		updates := map[string]reflect.Type{} // update id -> the handler's result type
		for _, ev := range h.GetEvents() {
			id := ev.GetEventId()
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				wf = a.GetWorkflowType().GetName()
				f, ok := workflowFuncs[wf]
				if !ok {
					t.Errorf("%s: starts %s, which is no workflow of the worker", path, wf)
					return nil
				}
				fn = reflect.TypeOf(f)
				workflowArgs(t, path, id, wf+" input", a.GetInput(), fn, 1)
				counts["start"]++
			}
			if fn == nil {
				continue
			}
			if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				workflowArgs(t, path, id, wf+" continue-as-new input", a.GetInput(), fn, 1)
				counts["continue-as-new"]++
			}
			if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
				for _, p := range a.GetResult().GetPayloads() {
					samePayload(t, path, id, wf+" result", p.GetData(), fn.Out(0))
					counts["result"]++
				}
			}
			if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
				name := a.GetAcceptedRequest().GetInput().GetName()
				handler, ok := updateHandlers[wf][name]
				if !ok {
					t.Errorf("%s: event %d: update %q, which %s does not handle (add it to updateHandlers)", path, id, name, wf)
					continue
				}
				ht := reflect.TypeOf(handler)
				updates[a.GetAcceptedRequest().GetMeta().GetUpdateId()] = ht.Out(0)
				workflowArgs(t, path, id, wf+" update "+name, a.GetAcceptedRequest().GetInput().GetArgs(), ht, 2)
				counts["update"]++
			}
			if a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil {
				out, ok := updates[a.GetMeta().GetUpdateId()]
				if !ok {
					t.Errorf("%s: event %d completes an update that was not accepted", path, id)
					continue
				}
				for _, p := range a.GetOutcome().GetSuccess().GetPayloads() {
					samePayload(t, path, id, wf+" update result", p.GetData(), out)
					counts["update result"]++
				}
			}
			if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
				name := a.GetSignalName()
				typ, ok := signalTypes[wf][name]
				if !ok {
					t.Errorf("%s: event %d: signal %q, which %s does not receive (add it to signalTypes)", path, id, name, wf)
					continue
				}
				for _, p := range a.GetInput().GetPayloads() {
					if string(p.GetMetadata()["encoding"]) == "binary/null" {
						continue
					}
					if typ == nil {
						t.Errorf("%s: event %d: signal %q carries %s, and %s reads nothing from it", path, id, name, p.GetData(), wf)
						continue
					}
					samePayload(t, path, id, wf+" signal "+name, p.GetData(), typ)
					counts["signal"]++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// What the committed histories hold today: fewer means a history or a
	// kind of event is no longer read.
	for what, least := range map[string]int{"start": 30, "result": 20, "update": 70, "update result": 70, "signal": 5} {
		if counts[what] < least {
			t.Errorf("only %d %s payloads checked in the committed histories (at least %d expected): are they still read?", counts[what], what, least)
		}
	}
}

// workflowArgs checks each payload of args against the parameter of fn
// from index first on (a workflow function takes the context first; a
// handler's method expression the state, then the context).
func workflowArgs(t *testing.T, path string, event int64, what string, args interface{ GetPayloads() []*commonpb.Payload }, fn reflect.Type, first int) {
	t.Helper()
	for i, p := range args.GetPayloads() {
		if first+i >= fn.NumIn() {
			t.Errorf("%s: event %d: %s has more arguments than %s takes", path, event, what, fn)
			return
		}
		samePayload(t, path, event, what, p.GetData(), fn.In(first+i))
	}
}

// samePayload fails when data, decoded into typ and encoded again, is not
// the same JSON.
func samePayload(t *testing.T, path string, event int64, what string, data []byte, typ reflect.Type) {
	t.Helper()
	v := reflect.New(typ)
	if err := json.Unmarshal(data, v.Interface()); err != nil {
		t.Errorf("%s: event %d: %s does not decode into %s: %v", path, event, what, typ, err)
		return
	}
	again, err := json.Marshal(v.Elem().Interface())
	if err != nil {
		t.Errorf("%s: event %d: %s: %v", path, event, what, err)
		return
	}
	var recorded, now any
	if json.Unmarshal(data, &recorded) != nil || json.Unmarshal(again, &now) != nil {
		t.Errorf("%s: event %d: %s: not JSON", path, event, what)
		return
	}
	if where, ok := kept(recorded, now, ""); !ok {
		t.Errorf("%s: event %d: %s loses %s through %s (a JSON name was renamed?)\nrecorded %s\n   today %s",
			path, event, what, where, typ, data, again)
	}
}

// kept reports whether every name and value recorded is in now (now may
// have more: fields added since the history was recorded), and where not.
func kept(recorded, now any, at string) (string, bool) {
	switch r := recorded.(type) {
	case map[string]any:
		n, ok := now.(map[string]any)
		if !ok {
			return at, false
		}
		for k, v := range r {
			w, ok := n[k]
			if !ok {
				return at + "." + k, false
			}
			if where, ok := kept(v, w, at+"."+k); !ok {
				return where, false
			}
		}
		return "", true
	case []any:
		n, ok := now.([]any)
		if !ok || len(n) != len(r) {
			return at, false
		}
		for i := range r {
			if where, ok := kept(r[i], n[i], fmt.Sprintf("%s[%d]", at, i)); !ok {
				return where, false
			}
		}
		return "", true
	default:
		return at, reflect.DeepEqual(recorded, now)
	}
}
