// Package apicontract holds the JSON API to its document, api/openapi.json,
// in tests: a Validator checks a request and the response it got against the
// document with kin-openapi's openapi3filter (the route, the request, the
// response's status, headers and body) and refuses members of a JSON object
// the document does not name. Handler wraps the API under test so that every
// response it gives is checked, whichever client asked; the API tests and
// the end-to-end tests wire it into their test servers.
package apicontract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// DocumentPath is where the document lives, from the module's root.
const DocumentPath = "api/openapi.json"

// A Validator checks exchanges with the API against one document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads and checks an OpenAPI document.
func New(data []byte) (*Validator, error) {
	csvOnce.Do(func() { openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder) })
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("apicontract: load the document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apicontract: the document is not valid: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apicontract: routes of the document: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

var (
	sharedOnce sync.Once
	shared     *Validator
	sharedErr  error
)

// Shared is the Validator of the module's own document (DocumentPath, found
// from the working directory up to go.mod, as go test runs in a package's
// folder), loaded once per test binary.
func Shared() (*Validator, error) {
	sharedOnce.Do(func() {
		var data []byte
		data, sharedErr = moduleDocument()
		if sharedErr == nil {
			shared, sharedErr = New(data)
		}
	})
	return shared, sharedErr
}

func moduleDocument() ([]byte, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return os.ReadFile(filepath.Join(dir, filepath.FromSlash(DocumentPath)))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, errors.New("apicontract: no go.mod above the working directory")
		}
		dir = parent
	}
}

// An Exchange is one request and the response the API gave to it.
type Exchange struct {
	Request     *http.Request // its Body is not read: RequestBody holds it
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// IsAPI reports whether a request path belongs to the JSON API (the pages of
// the portal do not): under /api/, or a path of the document.
func (v *Validator) IsAPI(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	_, _, err := v.router.FindRoute(v.routable(r))
	return err == nil || errors.Is(err, routers.ErrMethodNotAllowed)
}

// routable is a copy of r the router matches: the document's server is "/",
// relative, which the router matches against a request without a host.
func (v *Validator) routable(r *http.Request) *http.Request {
	c := r.Clone(context.Background())
	c.URL.Scheme, c.URL.Host, c.Host = "", "", ""
	return c
}

// Check checks one exchange of the JSON API against the document:
//   - a route the document does not describe may only answer 404 or 405
//     (or 422: the input check runs before routing);
//   - a request the document refuses may not succeed (2xx);
//   - the response's status must be documented for the operation, and its
//     headers and body must match the documented response, with no member of
//     a JSON object the document does not name (see unknownMembers).
//
// It returns nil when the exchange is as documented.
func (v *Validator) Check(ex Exchange) error {
	req := v.routable(ex.Request)
	route, params, err := v.router.FindRoute(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/") && !strings.HasSuffix(route.Path, "/") {
		err = routers.ErrPathNotFound // the router forgives a trailing slash, the API does not
	}
	if err != nil {
		switch ex.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return nil // the API agrees: no such route
		case http.StatusUnprocessableEntity:
			return nil // the input check, which runs before routing, refused the query
		}
		return fmt.Errorf("%s %s answered %d, but the document has no such operation (%v)", ex.Request.Method, ex.Request.URL.Path, ex.Status, err)
	}
	what := fmt.Sprintf("%s %s (%s) answered %d", ex.Request.Method, ex.Request.URL.RequestURI(), route.Operation.OperationID, ex.Status)
	dropEmptyQuery(req)
	req.Body = http.NoBody
	if len(ex.RequestBody) > 0 {
		req.Body = readCloser{bytes.NewReader(ex.RequestBody)}
		req.ContentLength = int64(len(ex.RequestBody))
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SchemaValidationOptions: formats},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && ex.Status >= 200 && ex.Status < 300 {
		return fmt.Errorf("%s to a request the document refuses: %v", what, err)
	}
	in.Options = &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
		ExcludeRequestBody:    true,
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: ex.Status, Header: ex.Header, Options: in.Options,
	}
	out.SetBodyBytes(ex.Body)
	var problems []string
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		problems = append(problems, fmt.Sprintf("not as documented: %v", err))
	}
	if unknown := v.unknownMembers(route, ex); len(unknown) > 0 {
		problems = append(problems, "with members the document does not name: "+strings.Join(unknown, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s %s\nbody: %s", what, strings.Join(problems, "; "), clip(ex.Body))
	}
	return nil
}

// csvOnce: the dashboard's CSV has rows of different lengths (each starts
// with the name of its figure), which kin-openapi's CSV decoder refuses; the
// document describes the file as a string, and so it is read.
var csvOnce sync.Once

// formats: kin-openapi checks date and date-time values; a uuid must be one
// too.
var formats = []openapi3.SchemaValidationOption{
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
}

// dropEmptyQuery removes the query parameters without a value: the
// document's convention is that an empty parameter (name=, or only spaces)
// counts as absent.
func dropEmptyQuery(r *http.Request) {
	if r.URL.RawQuery == "" {
		return
	}
	q := r.URL.Query()
	for name, values := range q {
		kept := values[:0]
		for _, v := range values {
			if strings.TrimSpace(v) != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			delete(q, name)
		} else {
			q[name] = kept
		}
	}
	r.URL.RawQuery = q.Encode()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func clip(b []byte) string {
	const most = 2000
	if len(b) > most {
		return string(b[:most]) + "…"
	}
	return string(b)
}
