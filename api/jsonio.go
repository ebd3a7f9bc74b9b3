package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

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
		return nil, &httpError{status: http.StatusBadRequest, code: "body", message: "could not read the request body", cause: err}
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusUnprocessableEntity, "json", "the request body is empty; a JSON object is expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newError(http.StatusUnprocessableEntity, "json", "the request body holds more than one JSON value")
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
		return &httpError{status: http.StatusUnprocessableEntity, code: "json",
			message: fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error()), cause: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &httpError{status: http.StatusUnprocessableEntity, code: "json", message: "malformed JSON: unexpected end of input", cause: err}
	case errors.As(err, &typeError):
		ptr := "/" + strings.ReplaceAll(typeError.Field, ".", "/")
		if typeError.Field == "" {
			return &httpError{status: http.StatusUnprocessableEntity, code: "json",
				message: "the request body must be a JSON object", cause: err}
		}
		return invalid(field(ptr, "type",
			fmt.Sprintf("must be %s, not %s", jsonKind(typeError.Type.Kind().String()), typeError.Value),
			fmt.Sprintf("deve essere %s, non %s", jsonKindIT(typeError.Type.Kind().String()), typeError.Value)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(field("/"+name, "unknown_field", "unknown field "+strconv.Quote(name),
			"campo sconosciuto "+strconv.Quote(name)))
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return &httpError{status: http.StatusUnprocessableEntity, code: "json", message: "malformed JSON: " + err.Error(), cause: err}
}

func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "an array"
	default:
		return "an object"
	}
}

func jsonKindIT(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "un numero intero"
	case strings.HasPrefix(kind, "float"):
		return "un numero"
	case kind == "string":
		return "un testo"
	case kind == "bool":
		return "true o false"
	case kind == "slice", kind == "array":
		return "un elenco"
	default:
		return "un oggetto"
	}
}

// canonicalJSON re-encodes a JSON value with sorted object keys and no
// insignificant whitespace, keeping numbers as written.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// requestHash is the sha256 of the canonical JSON of v.
func requestHash(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	canon, err := canonicalJSON(raw)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// isJSONObject reports whether raw is a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// mergePatch applies an RFC 7386 JSON merge patch to target: objects merge
// member by member, null removes a member, anything else replaces.
func mergePatch(target, patch json.RawMessage) (json.RawMessage, error) {
	var t, p any
	for _, d := range []struct {
		raw json.RawMessage
		v   *any
	}{{target, &t}, {patch, &p}} {
		dec := json.NewDecoder(bytes.NewReader(d.raw))
		dec.UseNumber()
		if err := dec.Decode(d.v); err != nil {
			return nil, err
		}
	}
	return json.Marshal(mergeValue(t, p))
}

func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	out := make(map[string]any, len(tm)+len(pm))
	for k, v := range tm {
		out[k] = v
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergeValue(out[k], v)
	}
	return out
}

// stringAt returns the string at a JSON pointer path of raw ("" when absent).
func stringAt(raw json.RawMessage, path ...string) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// hasPath reports whether raw has a member at path.
func hasPath(raw json.RawMessage, path ...string) bool {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[p]; !ok {
			return false
		}
	}
	return true
}
