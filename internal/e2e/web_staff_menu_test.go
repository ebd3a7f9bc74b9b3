package e2e

import (
	"testing"

	"sportello/internal/browsertest"
)

// TestWebStaffMenuKeyboard (issue 16): the supervisor's grouped menu opens
// from the keyboard alone (Enter on a group, Tab to its first link, Enter
// follows it), its open groups keep axe clean, in Italian and in English,
// and the access log is one of its links.
func TestWebStaffMenuKeyboard(t *testing.T) {
	s := newStack(t)
	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	for _, lang := range []string{"it", "en"} {
		sup.Navigate("/lang/" + lang + "?next=/inbox")
		sup.Axe()
		const group = `.site-nav .nav-group details` // the first group: cases and records
		var open, visible bool
		sup.Eval(`document.querySelector('`+group+`').open`, &open)
		if open {
			t.Fatalf("%s: a menu group is open before it is asked", lang)
		}
		sup.PressKeyIn(group+` summary`, browsertest.KeyEnter)
		sup.Eval(`document.querySelector('`+group+`').open`, &open)
		sup.Eval(`(() => { const a = document.querySelector('`+group+` a[href="/audit"]'); return !!a && a.offsetParent !== null })()`, &visible)
		if !open || !visible {
			t.Fatalf("%s: Enter on the group: open %v, access log link visible %v", lang, open, visible)
		}
		sup.Axe()
		sup.PressKey(browsertest.KeyTab)
		var focused string
		sup.Eval(`document.activeElement.getAttribute('href') || ''`, &focused)
		if focused != "/search" {
			t.Fatalf("%s: Tab from the group focuses %q, want its first link /search", lang, focused)
		}
		sup.PressKey(browsertest.KeyTab)
		sup.Eval(`document.activeElement.getAttribute('href') || ''`, &focused)
		if focused != "/audit" {
			t.Fatalf("%s: second Tab focuses %q, want /audit", lang, focused)
		}
		sup.ClickAndWait(group + ` a[href="/audit"]`)
		want := map[string]string{"it": "Registro accessi", "en": "Access log"}[lang]
		assertTitle(t, sup, want)
		var current bool
		sup.Eval(`!!document.querySelector('.site-nav a[href="/audit"][aria-current="page"]')`, &current)
		if !current {
			t.Errorf("%s: the access log's menu link is not marked as the current page", lang)
		}
		sup.Axe()
	}
}
