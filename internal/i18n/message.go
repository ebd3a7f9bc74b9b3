package i18n

import "math"

// Message is a text to be shown later, in the reader's language: the id of
// a message of the message files and the arguments of its fmt verbs.
// Workflows, the store, forms and the application services return
// Messages; the adapters (the JSON API, the pages) translate them, so that
// no sentence is written outside the message files.
//
// A Message travels as JSON ({"id": ..., "args": [...]}): numbers come
// back as float64, and In writes a whole one as an integer, so that %d
// verbs keep working.
type Message struct {
	ID   string `json:"id"`
	Args []any  `json:"args,omitempty"`
}

// M is the message id with args.
func M(id string, args ...any) Message { return Message{ID: id, Args: args} }

// Translatable is a value that has a text in each language: an argument
// of a Message that is Translatable is written in the Message's language.
type Translatable interface {
	In(lang string) string
}

// In is the message's text in lang (T), its arguments written in lang too
// when they are Translatable.
func (m Message) In(lang string) string {
	if len(m.Args) == 0 {
		return T(lang, m.ID)
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		switch v := a.(type) {
		case Translatable:
			args[i] = v.In(lang)
		case float64:
			if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
				args[i] = int64(v)
			} else {
				args[i] = v
			}
		default:
			args[i] = a
		}
	}
	return T(lang, m.ID, args...)
}

// IsZero reports whether m names no message.
func (m Message) IsZero() bool { return m.ID == "" }

// String is the message in English, for logs and error strings.
func (m Message) String() string { return m.In(EN) }

// Texts is a text given in both languages by something outside the message
// files (a form's schema, a record written before messages had ids). It is
// Translatable; Verbatim makes a Message of it.
type Texts struct {
	IT string `json:"it"`
	EN string `json:"en"`
}

// In is the text in lang.
func (t Texts) In(lang string) string {
	if Lang(lang) == EN || t.IT == "" {
		return t.EN
	}
	return t.IT
}

// Verbatim is a Message showing texts as they are, one per language.
func Verbatim(it, en string) Message { return M("i18n.verbatim", Texts{IT: it, EN: en}) }
