package e2e

import (
	"strings"
	"testing"

	"sportello/internal/browsertest"
)

// TestWebShops: a visitor who is not signed in finds, from the home page,
// the shops where a food voucher can be spent; filters them by municipality
// and by kind of shop with the form (the choices stay selected); reads the
// same page in English; axe finds no WCAG 2.1 A/AA violation, on a desktop
// and on a phone.
func TestWebShops(t *testing.T) {
	s := newStack(t)
	p := browsertest.NewPage(t, s.srv.URL, "visitor")
	p.Navigate("/")
	p.Follow("Dove spendere i buoni")
	assertPath(t, p, "/shops")
	assertPage(t, p, "Dove spendere i buoni spesa", "Tradate", "Vedano Olona", "Farmacia")
	p.Axe()
	all := p.Count("section ul.list-unstyled > li")
	if all < 2 {
		t.Fatalf("%d shops listed", all)
	}

	p.Fill("Comune", "vedano-olona")
	p.Submit("Filtra")
	assertText(t, p, "Farmacia di Vedano", "Frutta e Verdura Ferrari")
	if strings.Contains(p.MainText(), "Supermercato Tradate Centro") {
		t.Fatal("the municipality filter shows Tradate's shops")
	}
	if p.Value("#shops-municipality") != "vedano-olona" {
		t.Fatalf("the chosen municipality is not kept: %q", p.Value("#shops-municipality"))
	}
	p.Fill("Tipo di esercizio", "pharmacy")
	p.Submit("Filtra")
	if n := p.Count("section ul.list-unstyled > li"); n != 1 {
		t.Fatalf("%d pharmacies in Vedano Olona, want 1", n)
	}
	assertText(t, p, "Farmacia di Vedano", "Esercizi trovati: 1")
	p.Axe()
	p.Phone()
	p.Axe()

	p.Navigate("/lang/en?next=/shops")
	assertPage(t, p, "Where to spend food vouchers", "All municipalities", "Grocery shop", "Pharmacy")
	p.Axe()
}
