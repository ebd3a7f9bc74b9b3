package apicontract

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// Handler wraps the API under test: every response h gives to a request of
// the JSON API (IsAPI) is checked against the document when it is complete,
// and a mismatch fails t. The pages of the portal pass untouched.
func (v *Validator) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.IsAPI(r) {
			h.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			var err error
			reqBody, err = io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("apicontract: read the request body of %s %s: %v", r.Method, r.URL.Path, err)
			}
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		err := v.Check(Exchange{Request: r, RequestBody: reqBody, Status: status, Header: w.Header().Clone(), Body: rec.body.Bytes()})
		if err != nil {
			t.Errorf("apicontract: %v", err)
		}
	})
}

// For is the Handler of the module's document (Shared) around h; a document
// that does not load fails t at once.
func For(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	v, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	return v.Handler(t, h)
}

// recorder passes a response through and keeps a copy of its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Flush and Unwrap keep http.Flusher and http.ResponseController working
// through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
