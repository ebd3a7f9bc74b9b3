package htmlform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sportello/forms"
)

// node is the part of a JSON Schema (draft 2020-12) the renderer and the
// parser understand. Properties keep the order of the schema document, which is
// the order fields are shown in.
type node struct {
	Bool *bool `json:"-"` // set for the boolean schemas true and false

	Ref              string                       `json:"$ref"`
	Type             typeList                     `json:"type"`
	Title            string                       `json:"title"`
	TitleEN          string                       `json:"x-title-en"`
	Description      string                       `json:"description"`
	DescriptionEN    string                       `json:"x-description-en"`
	Properties       properties                   `json:"properties"`
	Required         []string                     `json:"required"`
	Enum             []json.RawMessage            `json:"enum"`
	EnumTitles       map[string]map[string]string `json:"x-enum-titles"`
	Const            json.RawMessage              `json:"const"`
	Format           string                       `json:"format"`
	MinLength        *float64                     `json:"minLength"`
	MaxLength        *float64                     `json:"maxLength"`
	Minimum          json.RawMessage              `json:"minimum"`
	Maximum          json.RawMessage              `json:"maximum"`
	ExclusiveMinimum json.RawMessage              `json:"exclusiveMinimum"`
	ExclusiveMaximum json.RawMessage              `json:"exclusiveMaximum"`
	Items            *node                        `json:"items"`
	MinItems         *float64                     `json:"minItems"`
	MaxItems         *float64                     `json:"maxItems"`
}

// typeList is the "type" keyword: a string or a list of strings.
type typeList []string

func (t *typeList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = typeList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("\"type\" must be a string or a list of strings")
	}
	*t = many
	return nil
}

type property struct {
	Name string
	Node *node
}

// properties is the "properties" keyword, in document order.
type properties []property

func (p *properties) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("\"properties\" must be an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		n := new(node)
		if err := dec.Decode(n); err != nil {
			return fmt.Errorf("property %q: %w", name, err)
		}
		*p = append(*p, property{Name: name, Node: n})
	}
	_, err = dec.Token()
	return err
}

func (n *node) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "false":
		v := string(bytes.TrimSpace(b)) == "true"
		*n = node{Bool: &v}
		return nil
	}
	type plain node
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*n = node(p)
	return nil
}

// maxRefDepth bounds "$ref" chains (and cycles).
const maxRefDepth = 32

// parseSchema decodes a schema document and resolves its local "$ref"s
// ("#/$defs/name" and the like).
func parseSchema(raw json.RawMessage) (*node, error) {
	root := new(node)
	if err := json.Unmarshal(raw, root); err != nil {
		return nil, fmt.Errorf("htmlform: invalid schema: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("htmlform: invalid schema: %w", err)
	}
	if err := resolveRefs(root, doc, 0); err != nil {
		return nil, err
	}
	return root, nil
}

func resolveRefs(n *node, doc any, depth int) error {
	if n == nil {
		return nil
	}
	if depth > maxRefDepth {
		return errors.New("htmlform: schema nested too deeply or with a \"$ref\" cycle")
	}
	for n.Ref != "" {
		if depth > maxRefDepth {
			return errors.New("htmlform: \"$ref\" cycle in the schema")
		}
		depth++
		if !strings.HasPrefix(n.Ref, "#") {
			return fmt.Errorf("htmlform: only local \"$ref\"s are supported, not %q", n.Ref)
		}
		target, ok := lookup(doc, forms.SplitPointer(strings.TrimPrefix(n.Ref, "#")))
		if !ok {
			return fmt.Errorf("htmlform: \"$ref\" %q points nowhere", n.Ref)
		}
		b, err := json.Marshal(target)
		if err != nil {
			return err
		}
		resolved := new(node)
		if err := json.Unmarshal(b, resolved); err != nil {
			return fmt.Errorf("htmlform: \"$ref\" %q: %w", n.Ref, err)
		}
		// Annotations next to the "$ref" win over the referenced ones.
		if n.Title != "" {
			resolved.Title = n.Title
		}
		if n.TitleEN != "" {
			resolved.TitleEN = n.TitleEN
		}
		if n.Description != "" {
			resolved.Description = n.Description
		}
		if n.DescriptionEN != "" {
			resolved.DescriptionEN = n.DescriptionEN
		}
		*n = *resolved
	}
	for _, p := range n.Properties {
		if err := resolveRefs(p.Node, doc, depth+1); err != nil {
			return err
		}
	}
	return resolveRefs(n.Items, doc, depth+1)
}

// kind is the JSON type a node describes: the first of its types other than
// "null", or guessed from its other keywords.
func (n *node) kind() string {
	for _, t := range n.Type {
		if t != "null" {
			return t
		}
	}
	switch {
	case len(n.Properties) > 0:
		return "object"
	case n.Items != nil:
		return "array"
	case isTrue(n.Const):
		return "boolean"
	}
	return "string"
}

// skip reports whether a node renders and parses to nothing: the schema false,
// or a missing one.
func (n *node) skip() bool {
	return n == nil || n.Bool != nil && !*n.Bool
}

func (n *node) isRequired(name string) bool {
	for _, r := range n.Required {
		if r == name {
			return true
		}
	}
	return false
}

// child returns the schema of one pointer token below n.
func (n *node) child(tok string) *node {
	switch n.kind() {
	case "object":
		for _, p := range n.Properties {
			if p.Name == tok {
				return p.Node
			}
		}
	case "array":
		if _, ok := index(tok); ok {
			return n.Items
		}
	}
	return nil
}

func isTrue(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "true"
}

func (n *node) minItems() int {
	if n.MinItems == nil || *n.MinItems < 0 {
		return 0
	}
	return int(min(*n.MinItems, maxItemsCap))
}

// maxItems returns the schema's maxItems, or -1 without one.
func (n *node) maxItems() int {
	if n.MaxItems == nil {
		return -1
	}
	return int(max(0, min(*n.MaxItems, maxItemsCap)))
}

// maxItemsCap bounds the number of array items read from a post or added by
// ArrayAction, whatever the schema says.
const maxItemsCap = 200

// label returns the title of n in lang, falling back to the other language.
func (n *node) label(lang string) string {
	return pick(lang, n.Title, n.TitleEN)
}

func (n *node) hint(lang string) string {
	return pick(lang, n.Description, n.DescriptionEN)
}

func pick(lang, it, en string) string {
	if lang == "en" && en != "" || it == "" {
		return en
	}
	return it
}

// enumString is the form value of an enum member: strings as they are, other
// values as JSON.
func enumString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// index parses an array index token: decimal digits without leading zeros.
func index(tok string) (int, bool) {
	if tok == "" || len(tok) > 6 || len(tok) > 1 && tok[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(tok)
	return i, err == nil
}

// lookup resolves pointer tokens in a decoded JSON document (an array
// index as index reads it).
func lookup(doc any, tokens []string) (any, bool) {
	return forms.Lookup(doc, tokens, index)
}

// decodeData decodes JSON data keeping numbers as json.Number; empty input
// and null give nil.
func decodeData(data json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}
