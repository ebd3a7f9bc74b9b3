package textcheck

import (
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"Maria Rossi", false, ""},
		{"Niccolò D'Angelo – Forlì €", false, ""},
		{"محمد", false, ""},
		{"a\x00b", true, CodeControl},
		{"a\x1bb", true, CodeControl},
		{"a\u0085b", true, CodeControl},
		{"a\x7fb", true, CodeControl},
		{"a\xffb", true, CodeInvalidUTF8},
		{"\xc0\x80", true, CodeInvalidUTF8},
		{"ab\u202ec", true, CodeBidi},
		{"ab\u2066c", true, CodeBidi},
		{"ab\u200fc", true, CodeBidi},
		{"ab\u061cc", true, CodeBidi},
		{"line\nline\ttab\r", true, ""},
		{"line\nline", false, CodeControl},
		{"a\tb", false, CodeControl},
		{"a\u2028b", false, CodeControl},
		{"a\u2028b", true, ""},
		{"\ufeffa", true, CodeControl},
	} {
		if got := Check(c.in, c.multiline); got != c.want {
			t.Errorf("Check(%q, %v) = %q, want %q", c.in, c.multiline, got, c.want)
		}
	}
}

func TestNeutralize(t *testing.T) {
	if got := Neutralize("Maria\u202eassor\x00\xff\nok"); got != "Maria\ufffdassor\ufffd\ufffd\nok" {
		t.Fatalf("Neutralize = %q", got)
	}
}

// FuzzNeutralize: whatever was stored, what pages show is clean text, and
// clean text is shown as it is. Seeds: testdata/fuzz/FuzzNeutralize.
func FuzzNeutralize(f *testing.F) {
	f.Add("Maria\u202eassor")
	f.Fuzz(func(t *testing.T, s string) {
		out := Neutralize(s)
		if code := Check(out, true); code != "" {
			t.Fatalf("Neutralize(%q) = %q still has %s", s, out, code)
		}
		if Check(s, true) == "" && out != s {
			t.Fatalf("Neutralize changed clean text %q into %q", s, out)
		}
		if Check(s, false) == "" && Check(s, true) != "" {
			t.Fatalf("%q passes the single-line rule but not the multi-line one", s)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Neutralize(%q) is not UTF-8", s)
		}
	})
}
