package htmlform

import (
	"encoding/json"
	"net/url"

	"sportello/forms"
)

// ArrayAction reports whether the post asked to add or remove an array item
// (buttons named "_add" / "_remove" whose value is the array's pointer, or the
// item's pointer for remove) and applies it to data; pages re-render without
// validating then.
//
// The answer is true whenever the post carries "_add" or "_remove", even when
// nothing could be done (the array is at maxItems or minItems, the pointer
// names no array of the schema): the page must not take such a post for a
// submission. A new item is {} for objects, "" for strings, false for
// booleans, null otherwise. data is normally what Parse returned for the same
// post; nil stands for {}.
func ArrayAction(schema json.RawMessage, form url.Values, data json.RawMessage) (json.RawMessage, bool) {
	addPtr, add := firstValue(form, "_add")
	removePtr, remove := firstValue(form, "_remove")
	if !add && !remove {
		return data, false
	}
	root, err := parseSchema(schema)
	if err != nil {
		return data, true
	}
	doc, err := decodeData(data)
	if err != nil {
		return data, true
	}
	if doc == nil {
		doc = map[string]any{}
	}
	var changed bool
	if add {
		doc, changed = addItem(root, doc, forms.SplitPointer(addPtr))
	} else {
		doc, changed = removeItem(root, doc, forms.SplitPointer(removePtr))
	}
	if !changed {
		return data, true
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return data, true
	}
	return out, true
}

func firstValue(form url.Values, name string) (string, bool) {
	vs, ok := form[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// addItem appends a blank item to the array at tokens, creating the array and
// the objects holding it when missing.
func addItem(n *node, doc any, tokens []string) (any, bool) {
	if n.skip() {
		return doc, false
	}
	if len(tokens) == 0 {
		if n.kind() != "array" || len(n.Enum) > 0 {
			return doc, false
		}
		items, ok := doc.([]any)
		if !ok && doc != nil {
			return doc, false
		}
		limit := n.maxItems()
		if limit < 0 {
			limit = maxItemsCap
		}
		if len(items) >= limit {
			return doc, false
		}
		itemNode := n.Items
		if itemNode.skip() {
			itemNode = &node{Type: typeList{"string"}}
		}
		return append(items, blank(itemNode)), true
	}
	if doc == nil {
		child := n.child(tokens[0])
		if child == nil || n.kind() != "object" {
			return doc, false
		}
		next, changed := addItem(child, nil, tokens[1:])
		if !changed {
			return doc, false
		}
		return map[string]any{tokens[0]: next}, true
	}
	return atChild(n, doc, tokens, addItem)
}

// removeItem removes the array item at tokens, unless the array would get
// fewer items than its minItems.
func removeItem(n *node, doc any, tokens []string) (any, bool) {
	if n.skip() || len(tokens) == 0 {
		return doc, false
	}
	if len(tokens) == 1 {
		items, ok := doc.([]any)
		i, isIndex := index(tokens[0])
		if !ok || !isIndex || n.kind() != "array" || i >= len(items) || len(items) <= n.minItems() {
			return doc, false
		}
		return append(items[:i:i], items[i+1:]...), true
	}
	return atChild(n, doc, tokens, removeItem)
}

// atChild applies op to the value of doc (an object or an array) under
// tokens[0], with n's schema there and the rest of tokens, and stores what
// op changed back into doc.
func atChild(n *node, doc any, tokens []string, op func(*node, any, []string) (any, bool)) (any, bool) {
	child := n.child(tokens[0])
	if child == nil {
		return doc, false
	}
	switch c := doc.(type) {
	case map[string]any:
		next, changed := op(child, c[tokens[0]], tokens[1:])
		if changed {
			c[tokens[0]] = next
		}
		return c, changed
	case []any:
		i, ok := index(tokens[0])
		if !ok || i >= len(c) {
			return doc, false
		}
		next, changed := op(child, c[i], tokens[1:])
		if changed {
			c[i] = next
		}
		return c, changed
	}
	return doc, false
}
