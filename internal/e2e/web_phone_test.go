package e2e

import (
	"strings"
	"testing"

	"sportello/internal/browsertest"
)

// TestWebOnAPhoneWithTheKeyboardAlone: on a phone-sized screen no page of
// the citizen's path scrolls sideways and axe finds nothing; with the
// keyboard alone a citizen skips to the content, logs in and reaches the
// application form.
func TestWebOnAPhoneWithTheKeyboardAlone(t *testing.T) {
	s := newStack(t)
	p := browsertest.NewPage(t, s.srv.URL, "telefono")
	p.Phone()

	noSidewaysScroll := func() {
		t.Helper()
		var wide bool
		p.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &wide)
		if wide {
			var sw, iw int
			p.Eval(`document.documentElement.scrollWidth`, &sw)
			p.Eval(`window.innerWidth`, &iw)
			t.Errorf("%s scrolls sideways on a phone: %dpx of content in a %dpx window", p.Path(), sw, iw)
		}
	}
	focused := func() string {
		var s string
		p.Eval(`(function(e){return e ? (e.tagName + ' ' + (e.getAttribute('name')||'') + ' ' + (e.textContent||'').trim()).trim() : ''})(document.activeElement)`, &s)
		return s
	}

	p.Navigate("/")
	noSidewaysScroll()
	p.Axe()
	// The first Tab lands on the skip link, and Enter on it moves to the content.
	p.PressTab()
	if f := focused(); !strings.Contains(f, "A") || !strings.Contains(strings.ToLower(f), "contenuto") {
		t.Fatalf("the first Tab focuses %q, want the skip link to the content", f)
	}
	p.PressEnter()
	var at string
	p.Eval(`location.hash`, &at)
	if at != "#main" {
		t.Fatalf("the skip link led to %q", at)
	}

	// Log in with the keyboard alone: type, Tab, type, Enter.
	p.Navigate("/login")
	noSidewaysScroll()
	p.Eval(`document.querySelector('input[name=username]').focus(), true`, new(bool))
	p.FillSelector(`input[name=username]`, "cittadino.tradate")
	p.PressTab()
	if f := focused(); !strings.Contains(f, "password") {
		t.Fatalf("Tab after the username focuses %q, want the password", f)
	}
	p.FillSelector(`input[name=password]`, "demo")
	p.PressEnterIn(`input[name=password]`)
	if strings.HasPrefix(p.Path(), "/login") {
		t.Fatalf("still on the login page: %s", p.MainText())
	}
	for _, path := range []string{"/", "/apply/buoni-spesa", "/apply/buoni-spesa/data", "/me"} {
		p.Navigate(path)
		noSidewaysScroll()
		p.Axe()
	}
	// Every control of the application form is reachable with Tab.
	p.Navigate("/apply/buoni-spesa/data")
	var controls int
	p.Eval(`document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button').length`, &controls)
	p.Eval(`document.body.focus(), true`, new(bool))
	reached := map[string]bool{}
	for i := 0; i < 200 && len(reached) < controls; i++ {
		p.PressTab()
		var key string
		p.Eval(`(function(e){return e && e.closest('main') ? (e.id || e.name || e.textContent.trim()) : ''})(document.activeElement)`, &key)
		if key != "" {
			reached[key] = true
		}
	}
	if len(reached) < controls {
		t.Fatalf("Tab reached %d of the form's %d controls", len(reached), controls)
	}
	p.Screenshot("phone-form")
}
