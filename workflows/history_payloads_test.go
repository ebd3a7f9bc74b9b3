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
		&activities.Billing{}, &activities.Ledger{}, &activities.Bookings{}} {
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
