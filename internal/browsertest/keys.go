package browsertest

import (
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// PressKeyIn focuses the element matching sel and presses key there (a
// character, or one of chromedp/kb's keys such as kb.Tab), without waiting
// for a page load: for widgets that open in place (a menu group).
func (p *Page) PressKeyIn(sel, key string) {
	p.t.Helper()
	p.run("press a key in "+sel, chromedp.Focus(sel, chromedp.ByQuery), chromedp.KeyEvent(key))
}

// PressKey presses key in the element that has the focus.
func (p *Page) PressKey(key string) {
	p.t.Helper()
	p.run("press a key", chromedp.KeyEvent(key))
}

// Keys of chromedp/kb, for PressKey and PressKeyIn.
const (
	KeyEnter = kb.Enter
	KeyTab   = kb.Tab
	KeyEsc   = kb.Escape
)

// openDisclosures opens the closed <details> around the element matching
// sel, as a person opens a menu group before following one of its links.
func (p *Page) openDisclosures(sel string) {
	p.t.Helper()
	p.run("open the groups around "+sel, chromedp.Evaluate(`(() => {
		for (let e = document.querySelector(`+jsString(sel)+`); e; e = e.parentElement) {
			if (e.tagName === 'DETAILS' && !e.open) e.open = true;
		}
		return true;
	})()`, nil))
}
