package applications

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"sportello/internal/app/apptest"
	"sportello/internal/jsonx"
	"sportello/internal/store"
)

// TestReplyValidate: the applicant's reply is checked field by field, with
// the pointers of the JSON API, before the case is read.
func TestReplyValidate(t *testing.T) {
	cases := []struct {
		name string
		r    Reply
		want []string
	}{
		{"no data", Reply{}, []string{"/data required"}},
		{"blank message", Reply{Data: &ReplyData{Message: "  "}}, []string{"/data/message required"}},
		{"long message", Reply{Data: &ReplyData{Message: strings.Repeat("è", MaxReply+1)}}, []string{"/data/message too_long"}},
		{"changes not an object", Reply{Data: &ReplyData{Message: "ok", Changes: json.RawMessage(`[1]`)}},
			[]string{"/data/changes type"}},
		{"immutable fields", Reply{Data: &ReplyData{Message: "ok",
			Changes: json.RawMessage(`{"applicant":{"tax_code":"X"},"residence":{"municipality":"y"}}`)}},
			[]string{"/data/changes/applicant/tax_code immutable", "/data/changes/residence/municipality immutable"}},
		{"fine", Reply{Data: &ReplyData{Message: " ok ", Changes: json.RawMessage(`{"household":{"members":3}}`)}}, nil},
	}
	for _, c := range cases {
		if got := apptest.Fields(t, c.r.Validate()); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	r := Reply{Data: &ReplyData{Message: "  grazie  ", Changes: json.RawMessage("null")}}
	if fields := r.Validate(); len(fields) > 0 || r.Data.Message != "grazie" || r.Data.Changes != nil {
		t.Fatalf("a null change is no change and the message is trimmed: %+v, %q, %s", fields, r.Data.Message, r.Data.Changes)
	}
}

// TestFilingValidate: a filing names its form and carries an object.
func TestFilingValidate(t *testing.T) {
	f := Filing{Form: "  ", Data: json.RawMessage("null")}
	if got, want := apptest.Fields(t, f.Validate()), []string{"/form required", "/data required"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	f = Filing{Form: " buoni-spesa ", Data: json.RawMessage(`"x"`)}
	if got, want := apptest.Fields(t, f.Validate()), []string{"/data type"}; !slices.Equal(got, want) || f.Form != "buoni-spesa" {
		t.Fatalf("got %q (form %q), want %q", got, f.Form, want)
	}
}

// TestRequestHashIsCanonical: the idempotency hash does not depend on the
// order of keys or on white space, and keeps numbers as written, so that a
// retried filing is recognised whatever re-encoded it.
func TestRequestHashIsCanonical(t *testing.T) {
	a, err := jsonx.RequestHash(map[string]any{"form": "f", "data": json.RawMessage(`{ "b": 1.50, "a": [true, null] }`)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`{"data":{"a":[true,null],"b":1.50},"form":"f"}`))
	if want := hex.EncodeToString(sum[:]); a != want {
		t.Fatalf("hash %s, want %s", a, want)
	}
}

// TestOwnerProblems: a citizen files with their own tax code (any case);
// someone without one (staff) is not checked here.
func TestOwnerProblems(t *testing.T) {
	data := json.RawMessage(`{"applicant":{"tax_code":"rssmra80a01h501u"}}`)
	if p := ownerProblems(store.UserView{TaxCode: "RSSMRA80A01H501U"}, data); len(p) != 0 {
		t.Fatalf("own tax code refused: %+v", p)
	}
	p := ownerProblems(store.UserView{TaxCode: "VRDLGU80A01H501X"}, data)
	if len(p) != 1 || p[0].Pointer != "/applicant/tax_code" || p[0].Code != "tax_code_mismatch" {
		t.Fatalf("another's tax code: %+v", p)
	}
	if p := ownerProblems(store.UserView{}, data); len(p) != 0 {
		t.Fatalf("no tax code to compare: %+v", p)
	}
}
