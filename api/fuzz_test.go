package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"sportello/api/internal/httpx"
	"sportello/internal/store"
	"sportello/internal/textcheck"
)

// FuzzDecodeJSON: the one JSON decoder of the API never panics; it answers
// nil or a 422 (or 413) that carries English and Italian messages, and what
// it accepts holds only clean text. Seeds: testdata/fuzz/FuzzDecodeJSON.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"form":"buoni-spesa","data":{"applicant":{"first_name":"Maria"},"n":[1,2.5,-3e2,true,null]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var app applicationRequest
		err := decodeBytes(body, &app)
		if err != nil {
			he := httpx.From(err)
			if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("decodeBytes(%q): status %d: %v", body, he.Status, err)
			}
			for _, fe := range fieldBodies(he.Fields) {
				if fe.Message == "" || fe.MessageIT == "" || fe.Code == "" {
					t.Fatalf("decodeBytes(%q): incomplete field error %+v", body, fe)
				}
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("decodeBytes accepted invalid UTF-8: %q", body)
		}
		if code := textcheck.Check(app.Form, true); code != "" {
			t.Fatalf("decodeBytes(%q) accepted form %q (%s)", body, app.Form, code)
		}
		if len(app.Data) > 0 {
			if err := checkJSONText(app.Data); err != nil {
				t.Fatalf("decodeBytes(%q) accepted data that the check refuses: %v", body, err)
			}
			if !json.Valid(app.Data) {
				t.Fatalf("decodeBytes(%q) accepted data that is not JSON", body)
			}
		}
		var red redemptionRequest
		if err := decodeBytes(body, &red); err == nil && textcheck.Check(red.Code, true) != "" {
			t.Fatalf("decodeBytes(%q) accepted the code %q", body, red.Code)
		}
	})
}

// FuzzParseISEE: the ISEE of a request (JSON) never panics and is either
// refused with a 422, cleared (null) or a whole number of euro from 0 to
// store.MaxISEEEuro. Seeds: testdata/fuzz/FuzzParseISEE.
func FuzzParseISEE(f *testing.F) {
	f.Add([]byte(`8500.50`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		euro, err := parseISEE(raw)
		if err != nil {
			var he *httpx.Error
			if !errors.As(err, &he) || he.Status != http.StatusUnprocessableEntity {
				t.Fatalf("parseISEE(%q): %v", raw, err)
			}
			return
		}
		if euro == nil {
			if strings.TrimSpace(string(raw)) != "null" {
				t.Fatalf("parseISEE(%q) cleared the ISEE", raw)
			}
			return
		}
		if *euro < 0 || *euro > store.MaxISEEEuro {
			t.Fatalf("parseISEE(%q) = %d", raw, *euro)
		}
	})
}
