package api

import (
	"net/http"
	"reflect"
	"testing"

	"sportello/api/internal/httpx"
)

// TestNullIsAWrongType: a null where the request type has no null is a 422
// at its pointer (it used to read as an absent member: POST /teams with
// "municipality": null made a district-wide team, which the API's document
// refuses); where the type has a null (a pointer, a list, free data) it is
// accepted.
func TestNullIsAWrongType(t *testing.T) {
	type inner struct {
		Note string `json:"note"`
	}
	type request struct {
		Name  string         `json:"name"`
		Place string         `json:"municipality"`
		Limit *int           `json:"limit"`
		Tags  []string       `json:"tags"`
		Data  map[string]any `json:"data"`
		Free  any            `json:"free"`
		In    inner          `json:"inner"`
		Ins   []inner        `json:"inners"`
	}
	for _, tc := range []struct {
		body     string
		pointers []string
	}{
		{`{"name":"a","municipality":null}`, []string{"/municipality"}},
		{`{"name":null,"municipality":null}`, []string{"/municipality", "/name"}},
		{`{"name":"a","limit":null,"tags":null,"data":{"x":null},"free":null}`, nil},
		{`{"name":"a","tags":["x",null]}`, []string{"/tags/1"}},
		{`{"name":"a","inner":{"note":null}}`, []string{"/inner/note"}},
		{`{"name":"a","inners":[{"note":"x"},{"note":null}]}`, []string{"/inners/1/note"}},
		{`{"name":"a","inner":null}`, []string{"/inner"}},
		{`{"NAME":null}`, []string{"/NAME"}},
	} {
		var req request
		err := decodeBytes([]byte(tc.body), &req)
		if tc.pointers == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		he := httpx.From(err)
		if err == nil || he.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %v, want 422", tc.body, err)
			continue
		}
		var got []string
		for _, f := range he.Fields {
			got = append(got, f.Pointer)
		}
		if !reflect.DeepEqual(got, tc.pointers) {
			t.Errorf("%s: pointers %v, want %v", tc.body, got, tc.pointers)
		}
	}
}
