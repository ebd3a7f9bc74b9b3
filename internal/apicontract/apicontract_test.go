package apicontract

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testDocument = `{
  "openapi": "3.1.0",
  "info": {"title": "t", "version": "1"},
  "servers": [{"url": "/"}],
  "paths": {
    "/api/v1/things/{id}": {
      "get": {
        "operationId": "getThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {
          "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
          "404": {"description": "no", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "object"}}}}}}
        }
      }
    },
    "/api/v1/things": {
      "post": {
        "operationId": "createThing",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
        "responses": {
          "201": {"description": "made", "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "object", "properties": {"extra": {"type": "integer"}}}]}}}},
          "422": {"description": "bad"}
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Thing": {
        "type": "object",
        "required": ["id"],
        "properties": {
          "id": {"type": "string"},
          "owner": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"name": {"type": "string"}}}]},
          "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
          "data": {"type": "object", "description": "free-form"},
          "labels": {"type": "object", "additionalProperties": {"type": "string"}}
        }
      }
    }
  }
}`

func TestCheck(t *testing.T) {
	v, err := New([]byte(testDocument))
	if err != nil {
		t.Fatal(err)
	}
	const id = "/api/v1/things/0b7e6a8e-8d5c-4bb0-9d4e-0d8a1c6f4e1a"
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	cases := []struct {
		name, method, path, reqBody string
		status                      int
		body                        string
		wantErr                     string // "" when the exchange is as documented
	}{
		{"documented", "GET", id, "", 200, `{"id":"a","owner":{"name":"n"},"tags":[{"k":"v"}],"data":{"any":1},"labels":{"x":"y"}}`, ""},
		{"null in a oneOf", "GET", id, "", 200, `{"id":"a","owner":null}`, ""},
		{"unknown member", "GET", id, "", 200, `{"id":"a","secret":1}`, "/secret"},
		{"unknown member inside oneOf", "GET", id, "", 200, `{"id":"a","owner":{"name":"n","age":3}}`, "/owner/age"},
		{"unknown member in an array", "GET", id, "", 200, `{"id":"a","tags":[{"k":"v"},{"k":"w","x":1}]}`, "/tags/1/x"},
		{"wrong type", "GET", id, "", 200, `{"id":3}`, "doesn't match schema"},
		{"missing required", "GET", id, "", 200, `{}`, "doesn't match schema"},
		{"undocumented status", "GET", id, "", 409, `{"error":{}}`, "status is not supported"},
		{"undocumented route answering", "GET", "/api/v1/others", "", 200, `{}`, "no such operation"},
		{"undocumented route, 404", "GET", "/api/v1/others", "", 404, `{"error":{}}`, ""},
		{"undocumented method, 405", "DELETE", id, "", 405, `{"error":{}}`, ""},
		{"allOf members", "POST", "/api/v1/things", `{"name":"x"}`, 201, `{"id":"a","extra":2}`, ""},
		{"allOf unknown member", "POST", "/api/v1/things", `{"name":"x"}`, 201, `{"id":"a","extra":2,"more":1}`, "/more"},
		{"refused request, refused", "POST", "/api/v1/things", `{}`, 422, ``, ""},
		{"refused request, accepted", "POST", "/api/v1/things", `{}`, 201, `{"id":"a"}`, "request the document refuses"},
		{"bad path parameter accepted", "GET", "/api/v1/things/x", "", 200, `{"id":"a"}`, "request the document refuses"},
		{"a trailing slash is another route", "GET", id + "/", "", 404, `{"error":{}}`, ""},
		{"an empty query parameter is absent", "GET", id + "?limit=", "", 200, `{"id":"a"}`, ""},
		{"a malformed query parameter accepted", "GET", id + "?limit=x", "", 200, `{"id":"a"}`, "request the document refuses"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://127.0.0.1:1234"+c.path, nil)
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err := v.Check(Exchange{Request: req, RequestBody: []byte(c.reqBody), Status: c.status, Header: json, Body: []byte(c.body)})
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("unexpected refusal: %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("accepted, want a refusal with %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("refusal %v, want one with %q", err, c.wantErr)
			}
		})
	}
}

// TestHandlerSkipsPages checks that the wrapper leaves the portal's pages
// alone and checks the API.
func TestHandlerSkipsPages(t *testing.T) {
	v, err := New([]byte(testDocument))
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<p>page</p>"))
	})
	rec := &fakeT{TB: t}
	srv := httptest.NewServer(v.Handler(rec, h))
	defer srv.Close()
	for _, path := range []string{"/", "/login", "/api/v1/things/0b7e6a8e-8d5c-4bb0-9d4e-0d8a1c6f4e1a"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "getThing") {
		t.Errorf("errors %q, want one about getThing only", rec.errors)
	}
}

type fakeT struct {
	testing.TB
	errors []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
