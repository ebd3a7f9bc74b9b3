package pseudonym

import (
	"strings"
	"testing"
)

func TestPseudonymStableKeyedAndOpaque(t *testing.T) {
	if _, err := New("short"); err == nil {
		t.Fatal("a short key was accepted")
	}
	a, _ := New("0123456789abcdef-key-a")
	b, _ := New("0123456789abcdef-key-b")
	const tax = "RSSMRA80A01L319X"
	p := a.Of(tax)
	if p != a.Of(" rssmra80a01l319x ") {
		t.Errorf("the same tax code gives two pseudonyms")
	}
	if p == b.Of(tax) {
		t.Errorf("two keys give the same pseudonym")
	}
	if p == a.Of("VRDLGU75B02L319Y") {
		t.Errorf("two people share a pseudonym")
	}
	if !strings.HasPrefix(p, Prefix) || len(p) != len(Prefix)+20 || strings.Contains(p, "RSS") && strings.Contains(p, tax) {
		t.Errorf("pseudonym %q", p)
	}
}
