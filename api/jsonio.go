package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/i18n"
	"sportello/internal/textcheck"
)

// decodeJSON reads the request body into v. Malformed JSON is a 422 with code
// "json"; a value of the wrong type or an unknown member is a 422 with the
// field's pointer.
func decodeJSON(c *gin.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads the (size-limited) request body.
func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, &httpx.Error{Status: http.StatusBadRequest, Code: "body", Message: "could not read the request body", Cause: err}
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return httpx.New(http.StatusUnprocessableEntity, "json", "the request body is empty; a JSON object is expected")
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return httpx.New(http.StatusUnprocessableEntity, "json", "the request body holds more than one JSON value")
	}
	if fields := nullFields(body, v); len(fields) > 0 {
		return invalid(fields...)
	}
	return nil
}

// maxJSONDepth bounds the nesting of a request body.
const maxJSONDepth = 32

// maxJSONProblems bounds the field errors reported for one body.
const maxJSONProblems = 20

// jsonFrame is an object or array being walked by checkJSONText.
type jsonFrame struct {
	array   bool
	index   int
	key     string
	wantKey bool
}

// checkJSONText is the input hygiene of every JSON body, before it is
// decoded: each string (member names and values, at any depth, including
// the application data of forms) must be valid UTF-8 without NUL, control
// or bidirectional-control characters (tab and line breaks are allowed in
// values, not in member names), and objects and arrays may nest at most
// maxJSONDepth levels. Problems are 422s pointing at the string; malformed
// JSON is left to the decoder's own message.
func checkJSONText(body []byte) error {
	if plainJSON(body) {
		return checkDepth(body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []jsonFrame
	var fields []FieldError
	pointer := func() string {
		var b strings.Builder
		for _, f := range stack {
			b.WriteByte('/')
			if f.array {
				b.WriteString(strconv.Itoa(f.index))
			} else {
				b.WriteString(forms.EscapePointerToken(f.key))
			}
		}
		return b.String()
	}
	report := func(ptr, code string) {
		if len(fields) < maxJSONProblems {
			fields = append(fields, FieldError{Pointer: ptr, Code: code, Text: textcheck.Text(code)})
		}
	}
	// advance moves the enclosing container past a complete value.
	advance := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // the decoder reports malformed JSON
		}
		raw := body[start:dec.InputOffset()]
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			key, ok := tok.(string)
			if !ok { // '}'
				stack = stack[:n-1]
				advance()
				continue
			}
			stack[n-1].key, stack[n-1].wantKey = key, false
			code := ""
			if !utf8.Valid(raw) {
				code = textcheck.CodeInvalidUTF8
			} else {
				code = textcheck.Check(key, false)
			}
			if code != "" {
				report(pointer(), code)
			}
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return invalid(app.Field(pointer(), "depth", "api.err.json_depth", maxJSONDepth))
				}
				stack = append(stack, jsonFrame{array: t == '[', wantKey: t == '{'})
			case ']':
				stack = stack[:len(stack)-1]
				advance()
			}
		case string:
			code := ""
			if !utf8.Valid(raw) {
				code = textcheck.CodeInvalidUTF8
			} else {
				code = textcheck.Check(t, true)
			}
			if code != "" {
				report(pointer(), code)
			}
			advance()
		default:
			advance()
		}
		if len(stack) == 0 {
			break
		}
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	return nil
}

// plainJSON reports a body of printable ASCII without escapes: its strings
// need no check (raw control characters inside a string are a syntax error).
func plainJSON(body []byte) bool {
	for _, b := range body {
		if b >= 0x7f || b == '\\' {
			return false
		}
	}
	return true
}

// checkDepth refuses a plain body that nests deeper than maxJSONDepth.
func checkDepth(body []byte) error {
	depth, inString := 0, false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case inString:
			if b == '"' {
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > maxJSONDepth {
				return invalid(app.Field("", "depth", "api.err.json_depth", maxJSONDepth))
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "json",
			Message: fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error()), Cause: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "json", Message: "malformed JSON: unexpected end of input", Cause: err}
	case errors.As(err, &typeError):
		ptr := "/" + strings.ReplaceAll(typeError.Field, ".", "/")
		if typeError.Field == "" {
			return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "json",
				Message: "the request body must be a JSON object", Cause: err}
		}
		return invalid(app.Field(ptr, "type", "api.err.json_type", jsonKind(typeError.Type.Kind().String()), typeError.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(app.Field("/"+name, "unknown_field", "api.err.unknown_field", name))
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "json", Message: "malformed JSON: " + err.Error(), Cause: err}
}

// jsonKind names the JSON type of a Go kind, in the reader's language.
func jsonKind(kind string) i18n.Message {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return i18n.M("api.err.json_kind.integer")
	case strings.HasPrefix(kind, "float"):
		return i18n.M("api.err.json_kind.number")
	case kind == "string":
		return i18n.M("api.err.json_kind.string")
	case kind == "bool":
		return i18n.M("api.err.json_kind.bool")
	case kind == "slice", kind == "array":
		return i18n.M("api.err.json_kind.array")
	default:
		return i18n.M("api.err.json_kind.object")
	}
}
