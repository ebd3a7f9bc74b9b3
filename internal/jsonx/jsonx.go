// Package jsonx holds the JSON helpers shared by the API and the
// application services: canonical encoding and request hashes (for
// idempotency keys), merge patches and reading a string at a path.
package jsonx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// JSON helpers of the filing and the reply. They are the same as the API's
// (api/jsonio.go), which keeps its own for its other handlers: a request
// hash computed here equals one computed there, so an idempotent retry
// stays a replay across the move.

// CanonicalJSON re-encodes a JSON value with sorted object keys and no
// insignificant whitespace, keeping numbers as written.
func CanonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// RequestHash is the sha256 of the canonical JSON of v.
func RequestHash(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	canon, err := CanonicalJSON(raw)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// IsJSONObject reports whether raw is a JSON object.
func IsJSONObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// MergePatch applies an RFC 7386 JSON merge patch to target: objects merge
// member by member, null removes a member, anything else replaces.
func MergePatch(target, patch json.RawMessage) (json.RawMessage, error) {
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

// StringAt returns the string at a JSON pointer path of raw ("" when absent).
func StringAt(raw json.RawMessage, path ...string) string {
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

// HasPath reports whether raw has a member at path.
func HasPath(raw json.RawMessage, path ...string) bool {
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
