package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each browser step (a navigation, a click, a wait); it
// only guards against hangs.
const DefaultTimeout = 30 * time.Second

// Page is one simulated user: a browser tab in its own browser context, so its
// cookies and storage are separate from every other Page's.
type Page struct {
	t       testing.TB
	Ctx     context.Context // chromedp context of the tab, for chromedp.Run and Axe
	cancel  context.CancelFunc
	BaseURL string        // prefixed to paths starting with "/"
	User    string        // a short label used in logs and artifact names
	Timeout time.Duration // per step; DefaultTimeout unless changed

	mu         sync.Mutex
	console    []string // console messages, exceptions and browser log entries
	lastStatus int64    // HTTP status of the last top-level document
	lastDocURL string
	shots      int
}

// NewPage opens a tab for user in a fresh browser context of the shared
// browser. The tab closes when the test ends; if the test failed, its
// screenshot, HTML and console are saved first (see the package doc).
func NewPage(t testing.TB, baseURL, user string) *Page {
	t.Helper()
	b, err := get()
	if err != nil {
		t.Fatal(err)
	}
	// A browser context of its own (like an incognito window) keeps the
	// user's cookies apart. Headless Chromium only opens a tab in a new
	// browser context as a new window, which chromedp's WithNewBrowserContext
	// does not ask for, so the context and its window are created here.
	bcID, targetID, err := b.newWindow()
	if err != nil {
		t.Fatalf("browsertest: opening a window for %s: %v", user, err)
	}
	ctx, cancel := chromedp.NewContext(b.rootCtx, chromedp.WithTargetID(targetID))
	p := &Page{t: t, Ctx: ctx, cancel: cancel, BaseURL: strings.TrimRight(baseURL, "/"), User: user, Timeout: DefaultTimeout}
	chromedp.ListenTarget(ctx, p.onEvent)
	// The first Run attaches to the target; it must use ctx itself, which owns
	// the tab's lifetime.
	attached := make(chan error, 1)
	go func() { attached <- chromedp.Run(ctx) }()
	select {
	case err = <-attached:
	case <-time.After(DefaultTimeout):
		err = errors.New("timed out")
	}
	closeAll := func() {
		cancel()
		b.disposeContext(bcID)
	}
	if err == nil {
		err = p.try(emulatedMedia(""))
	}
	if err != nil {
		closeAll()
		t.Fatalf("browsertest: opening a tab for %s: %v", user, err)
	}
	resetArtifacts(t)
	t.Cleanup(closeAll)
	t.Cleanup(func() {
		if t.Failed() {
			p.saveFailure()
		}
	})
	return p
}

func (p *Page) onEvent(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		line = fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		line = fmt.Sprintf("log %s/%s: %s %s", e.Source, e.Level, e.Text, e.URL)
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			p.mu.Lock()
			p.lastStatus = ev.Response.Status
			p.lastDocURL = ev.Response.URL
			p.mu.Unlock()
		}
		return
	default:
		return
	}
	p.mu.Lock()
	p.console = append(p.console, clip(line, 500))
	p.mu.Unlock()
}

// Console returns the console messages, uncaught exceptions and browser log
// entries (such as Content-Security-Policy refusals) seen so far.
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// run executes actions with the page's step timeout, failing the test on error.
func (p *Page) run(what string, actions ...chromedp.Action) {
	p.t.Helper()
	if err := p.try(actions...); err != nil {
		p.t.Fatalf("browsertest [%s]: %s: %v (at %s)", p.User, what, err, p.URL())
	}
}

func (p *Page) try(actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(p.Ctx, p.Timeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// URL returns the address the tab shows now ("" if it cannot be read).
func (p *Page) URL() string {
	ctx, cancel := context.WithTimeout(p.Ctx, 5*time.Second)
	defer cancel()
	var u string
	if err := chromedp.Run(ctx, chromedp.Location(&u)); err != nil {
		return ""
	}
	return u
}

// Path returns the path (and query) of the address the tab shows now.
func (p *Page) Path() string {
	u, err := url.Parse(p.URL())
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

func (p *Page) abs(target string) string {
	if strings.HasPrefix(target, "/") {
		return p.BaseURL + target
	}
	return target
}

// Navigate loads target (a path under BaseURL or a full URL), waits for the
// page to settle, and fails the test if the server answered with an error
// status. Use NavigateStatus to expect one.
func (p *Page) Navigate(target string) {
	p.t.Helper()
	if st := p.NavigateStatus(target); st >= 400 {
		p.t.Fatalf("browsertest [%s]: GET %s answered %d:\n%s", p.User, target, st, clip(p.BodyText(), 1500))
	}
}

// NavigateStatus loads target, waits for the page to settle and returns the
// HTTP status of the document the tab ended on (after redirects).
func (p *Page) NavigateStatus(target string) int {
	p.t.Helper()
	p.mu.Lock()
	p.lastStatus = 0
	p.mu.Unlock()
	p.run("navigate to "+target, chromedp.Navigate(p.abs(target)))
	p.waitSettled("navigate to " + target)
	return p.Status()
}

// Reload reloads the current page and waits for it to settle.
func (p *Page) Reload() {
	p.t.Helper()
	p.run("reload", chromedp.Reload())
	p.waitSettled("reload")
}

// Status is the HTTP status of the last top-level document load (0 if none was
// seen, e.g. after an htmx-boosted swap).
func (p *Page) Status() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.lastStatus)
}

// settledJS is true once the document has loaded and htmx (if present) has no
// request, swap or settle in flight.
const settledJS = `document.readyState === 'complete' && !document.getElementById('browsertest-stale') &&
	!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')`

// waitSettled polls until settledJS holds. Evaluation errors (the page may be
// between two documents) are retried until the step timeout.
func (p *Page) waitSettled(what string) {
	p.t.Helper()
	if err := p.poll(settledJS); err != nil {
		p.t.Fatalf("browsertest [%s]: %s: the page did not settle: %v (at %s)", p.User, what, err, p.URL())
	}
}

// poll evaluates a JavaScript boolean expression until it is true.
func (p *Page) poll(expr string) error {
	return pollJS(p.Ctx, expr, p.Timeout)
}

// pollJS evaluates a JavaScript boolean expression in the tab ctx until it is
// true. It polls from Go with plain evaluations (no in-page timers or eval, so
// the page's CSP does not interfere), and retries evaluation errors, which
// happen while the tab is between two documents, until the timeout.
func pollJS(ctx context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		var ok bool
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Run(ectx, chromedp.Evaluate("Boolean("+expr+")", &ok))
		cancel()
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out after %s (last error: %v)", timeout, last)
			}
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// markStale plants an inert marker in the body that any navigation or
// htmx-boosted swap of the body removes, so the next settle waits for the new page.
func (p *Page) markStale() {
	p.t.Helper()
	p.run("mark page", chromedp.Evaluate(`(() => {
		if (!document.getElementById('browsertest-stale')) {
			const m = document.createElement('template'); m.id = 'browsertest-stale'; document.body.appendChild(m);
		}
		return true })()`, nil))
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON
// value into res (which may be nil).
func (p *Page) Eval(expr string, res any) {
	p.t.Helper()
	p.run("evaluate "+clip(expr, 80), chromedp.Evaluate(expr, res))
}

// BodyText is the visible text of the page (innerText of body).
func (p *Page) BodyText() string {
	p.t.Helper()
	var s string
	p.run("read page text", chromedp.Evaluate(`document.body ? document.body.innerText : ''`, &s))
	return s
}

// MainText is the visible text of the main landmark (or of the body if there is none).
func (p *Page) MainText() string {
	p.t.Helper()
	var s string
	p.run("read main text", chromedp.Evaluate(`(document.querySelector('main') || document.body).innerText`, &s))
	return s
}

// HTML is the current serialised document.
func (p *Page) HTML() string {
	p.t.Helper()
	var s string
	p.run("read HTML", chromedp.Evaluate(`document.documentElement.outerHTML`, &s))
	return s
}

// Text returns the visible text of the first element matching the CSS selector,
// waiting for it to appear.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	// One evaluation finds the element and reads it, waiting until one
	// matches: chromedp.Text finds the node, then reads it in a second call,
	// which fails ("No node with given id found") when an htmx swap
	// replaces the element in between.
	var s []string
	p.run("read text of "+sel, chromedp.Poll(fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e ? [e.innerText] : null })()`, jsString(sel)), &s,
		chromedp.WithPollingTimeout(p.Timeout)))
	if len(s) == 0 {
		return ""
	}
	return strings.TrimSpace(s[0])
}

// Texts returns the visible texts of every element matching the CSS selector (none is fine).
func (p *Page) Texts(sel string) []string {
	p.t.Helper()
	var out []string
	p.run("read texts of "+sel, chromedp.Evaluate(fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s)).map(e => e.innerText.trim())`, jsString(sel)), &out))
	return out
}

// Attr returns an attribute of the first element matching sel ("" if absent).
func (p *Page) Attr(sel, name string) string {
	p.t.Helper()
	var s string
	p.run("read attribute "+name+" of "+sel, chromedp.Evaluate(fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e ? (e.getAttribute(%s) || '') : '' })()`,
		jsString(sel), jsString(name)), &s))
	return s
}

// Count is the number of elements matching the CSS selector.
func (p *Page) Count(sel string) int {
	p.t.Helper()
	var n int
	p.run("count "+sel, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)), &n))
	return n
}

// Has reports whether an element matches the CSS selector now.
func (p *Page) Has(sel string) bool { return p.Count(sel) > 0 }

// WaitVisible waits until an element matching the CSS selector is visible.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	p.run("wait for "+sel, chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// WaitText waits until the page's visible text contains s.
func (p *Page) WaitText(s string) {
	p.t.Helper()
	if err := p.poll(fmt.Sprintf(`document.body && document.body.innerText.includes(%s)`, jsString(s))); err != nil {
		p.t.Fatalf("browsertest [%s]: waiting for text %q: %v (at %s)\npage text:\n%s", p.User, s, err, p.URL(), clip(p.BodyText(), 2000))
	}
}

// ReloadUntil reloads the page until cond holds (cond reads the page through p).
// The limit only guards against hangs; it is not an assertion on time.
func (p *Page) ReloadUntil(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(2 * p.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("browsertest [%s]: timed out waiting for %s (at %s)\npage text:\n%s", p.User, what, p.URL(), clip(p.BodyText(), 2000))
		}
		time.Sleep(200 * time.Millisecond)
		p.Reload()
	}
}

// findJS locates an element and returns a selector for it: the control labelled
// by a label, a button by its text, a link by its text. It is a function of
// (kind, text, scope) returning {sel, err}.
const findJS = `(kind, text, scope) => {
	const norm = s => (s || '').replace(/\s+/g, ' ').trim();
	const root = scope ? document.querySelector(scope) : document;
	if (!root) return {err: 'no element matches the scope ' + scope};
	const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) ||
		(e.type === 'radio' || e.type === 'checkbox');
	let candidates = [];
	let nameOf;
	if (kind === 'label') {
		const labelled = [];
		for (const l of root.querySelectorAll('label')) {
			const c = l.control;
			if (c) labelled.push([l.innerText || l.textContent, c]);
		}
		for (const c of root.querySelectorAll('[aria-label]')) labelled.push([c.getAttribute('aria-label'), c]);
		const strip = s => norm(s).replace(/\s*\*$/, '').replace(/\s*\((obbligatorio|required|facoltativo|optional)\)$/i, '').trim();
		let hits = labelled.filter(([l]) => strip(l) === text);
		if (!hits.length) hits = labelled.filter(([l]) => strip(l).startsWith(text));
		candidates = [...new Set(hits.map(h => h[1]))];
		nameOf = 'field labelled';
	} else {
		const sel = kind === 'button'
			? 'button, input[type=submit], input[type=button], [role=button]'
			: 'a[href]';
		const all = Array.from(root.querySelectorAll(sel)).filter(visible);
		const label = e => norm(e.innerText || e.value || e.getAttribute('aria-label') || e.textContent);
		candidates = all.filter(e => label(e) === text);
		if (!candidates.length) candidates = all.filter(e => label(e).includes(text));
		nameOf = kind === 'button' ? 'button' : 'link';
	}
	if (!candidates.length) return {err: 'no ' + nameOf + ' ' + JSON.stringify(text) + (scope ? ' in ' + scope : '')};
	if (candidates.length > 1) {
		return {err: candidates.length + ' elements match: ' + nameOf + ' ' + JSON.stringify(text) + ': ' +
			candidates.map(c => c.outerHTML.slice(0, 120)).join(' | ')};
	}
	const e = candidates[0];
	if (e.id) return {sel: '#' + CSS.escape(e.id)};
	window.__browsertestSeq = (window.__browsertestSeq || 0) + 1;
	e.setAttribute('data-browsertest', String(window.__browsertestSeq));
	return {sel: '[data-browsertest="' + window.__browsertestSeq + '"]'};
}`

func (p *Page) find(kind, text, scope string) string {
	p.t.Helper()
	var res struct {
		Sel string `json:"sel"`
		Err string `json:"err"`
	}
	p.run("find "+kind+" "+text, chromedp.Evaluate(fmt.Sprintf("(%s)(%s, %s, %s)", findJS, jsString(kind), jsString(text), jsString(scope)), &res))
	if res.Err != "" {
		p.t.Fatalf("browsertest [%s]: %s (at %s)", p.User, res.Err, p.URL())
	}
	return res.Sel
}

// Field returns a CSS selector for the form control whose label (or
// aria-label) reads label: exact match first, then prefix; a trailing "*" or
// "(obbligatorio)" is ignored. Ambiguity fails the test.
func (p *Page) Field(label string) string {
	p.t.Helper()
	return p.find("label", label, "")
}

// FieldIn is Field within the element matching scope (e.g. a fieldset).
func (p *Page) FieldIn(scope, label string) string {
	p.t.Helper()
	return p.find("label", label, scope)
}

// Fill sets the control labelled label to value (see FillSelector).
func (p *Page) Fill(label, value string) {
	p.t.Helper()
	p.FillSelector(p.Field(label), value)
}

// FillByName sets the control named name to value; for radio buttons, the one
// whose value is value is chosen.
func (p *Page) FillByName(name, value string) {
	p.t.Helper()
	var kind string
	p.run("find field "+name, chromedp.Evaluate(fmt.Sprintf(
		`(() => { const e = document.querySelector('[name="' + CSS.escape(%s) + '"]'); return e ? (e.type || e.tagName.toLowerCase()) : '' })()`,
		jsString(name)), &kind))
	switch kind {
	case "":
		p.t.Fatalf("browsertest [%s]: no field named %q (at %s)", p.User, name, p.URL())
	case "radio":
		p.FillSelector(fmt.Sprintf(`[name="%s"][value="%s"]`, cssString(name), cssString(value)), "true")
	default:
		p.FillSelector(fmt.Sprintf(`[name="%s"]`, cssString(name)), value)
	}
}

// FillSelector sets the control matching sel: text-like inputs and text areas
// are cleared and typed into with key events; selects take an option's value
// or visible text; checkboxes are clicked into the state value names ("true"
// or "false"); radio buttons are clicked; date and other picker inputs get
// their value set with input and change events.
func (p *Page) FillSelector(sel, value string) {
	p.t.Helper()
	var kind string
	p.run("inspect "+sel, chromedp.Evaluate(fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e ? (e.tagName === 'INPUT' ? (e.type || 'text') : e.tagName.toLowerCase()) : '' })()`,
		jsString(sel)), &kind))
	switch kind {
	case "":
		p.t.Fatalf("browsertest [%s]: nothing matches %s (at %s)", p.User, sel, p.URL())
	case "checkbox", "radio":
		want := kind == "radio" || value == "true" || value == "on" || value == "1"
		p.setChecked(sel, want)
	case "select":
		var ok bool
		p.Eval(fmt.Sprintf(`(() => {
			const e = document.querySelector(%s), v = %s;
			const o = Array.from(e.options).find(o => o.value === v) || Array.from(e.options).find(o => o.text.trim() === v);
			if (!o) return false;
			e.value = o.value;
			e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));
			return true })()`, jsString(sel), jsString(value)), &ok)
		if !ok {
			p.t.Fatalf("browsertest [%s]: %s has no option %q", p.User, sel, value)
		}
	case "text", "email", "tel", "number", "search", "password", "url", "textarea":
		p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); e.value = '';
			e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, jsString(sel)), nil)
		if value != "" {
			p.run("type into "+sel, chromedp.SendKeys(sel, value, chromedp.ByQuery))
		}
	default: // date, time, month, color, range...
		p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); e.value = %s;
			e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); return true })()`,
			jsString(sel), jsString(value)), nil)
	}
}

// setChecked clicks a checkbox or radio button into the wanted state the way a
// person does: on its label (styled controls often hide the input itself
// off-screen), or on the input when it has no label.
func (p *Page) setChecked(sel string, want bool) {
	p.t.Helper()
	checked := func() bool {
		var c bool
		p.Eval(fmt.Sprintf(`document.querySelector(%s).checked`, jsString(sel)), &c)
		return c
	}
	if checked() == want {
		return
	}
	var target string
	p.Eval(fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		const l = e.labels && e.labels[0];
		if (!l) return '';
		window.__browsertestSeq = (window.__browsertestSeq || 0) + 1;
		l.setAttribute('data-browsertest', String(window.__browsertestSeq));
		return '[data-browsertest="' + window.__browsertestSeq + '"]' })()`, jsString(sel)), &target)
	if target == "" {
		target = sel
	}
	p.run("click "+target, chromedp.Click(target, chromedp.ByQuery))
	if checked() != want {
		p.t.Fatalf("browsertest [%s]: clicking %s did not make %s checked=%v (at %s)", p.User, target, sel, want, p.URL())
	}
}

// emulatedMedia is the media every page is shown with: the media type (""
// for the screen) and reduced motion. Reduced motion turns off smooth
// scrolling and transitions (Bootstrap honours the media feature), so a click
// lands where the element is rather than where a scroll animation has not yet
// brought it. The DevTools call replaces the whole emulated media state, so
// the feature must go with every change of media type: a test that set only
// the type would silently bring smooth scrolling back and make later clicks
// miss by chance.
func emulatedMedia(media string) chromedp.Action {
	return emulation.SetEmulatedMedia().WithMedia(media).WithFeatures([]*emulation.MediaFeature{
		{Name: "prefers-reduced-motion", Value: "reduce"}})
}

// EmulateMedia makes the page's CSS see the media type media ("print", or ""
// for the screen again), keeping reduced motion.
func (p *Page) EmulateMedia(media string) {
	p.t.Helper()
	p.run("emulate media "+strconv.Quote(media), emulatedMedia(media))
}

// PrintToPDF prints the page as the browser's Print command does and returns
// the PDF.
func (p *Page) PrintToPDF() []byte {
	p.t.Helper()
	var pdf []byte
	p.run("print to PDF", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		pdf, _, err = cdppage.PrintToPDF().Do(ctx)
		return err
	}))
	return pdf
}

// Value is the current value of the control matching sel.
func (p *Page) Value(sel string) string {
	p.t.Helper()
	var v string
	p.run("read value of "+sel, chromedp.Value(sel, &v, chromedp.ByQuery))
	return v
}

// Click clicks the button (button, submit input, role=button) whose text is
// text (exact, else containing), without waiting for a new page.
func (p *Page) Click(text string) {
	p.t.Helper()
	p.ClickSelector(p.find("button", text, ""))
}

// ClickSelector clicks the element matching the CSS selector.
func (p *Page) ClickSelector(sel string) {
	p.t.Helper()
	p.run("click "+sel, chromedp.Click(sel, chromedp.ByQuery))
}

// Submit clicks the button whose text is text and waits for the resulting page
// (a full navigation or an htmx-boosted swap) to settle.
func (p *Page) Submit(text string) {
	p.t.Helper()
	p.SubmitIn("", text)
}

// SubmitIn is Submit for a button inside the element matching scope.
func (p *Page) SubmitIn(scope, text string) {
	p.t.Helper()
	p.clickFound("button", text, scope, "after pressing "+text)
}

// clickFound clicks the element of kind whose text is text inside scope
// and waits for the resulting page to settle (what names the wait).
func (p *Page) clickFound(kind, text, scope, what string) {
	p.t.Helper()
	sel := p.find(kind, text, scope)
	p.openDisclosures(sel)
	p.markStale()
	p.ClickSelector(sel)
	p.waitSettled(what)
}

// Follow clicks the link whose text is text (exact, else containing) and waits
// for the new page.
func (p *Page) Follow(text string) {
	p.t.Helper()
	p.FollowIn("", text)
}

// FollowIn is Follow for a link inside the element matching scope.
func (p *Page) FollowIn(scope, text string) {
	p.t.Helper()
	p.clickFound("link", text, scope, "after following "+text)
}

// ClickAndWait clicks the element matching the CSS selector (a link or a
// submit button) and waits for the resulting page to settle.
func (p *Page) ClickAndWait(sel string) {
	p.t.Helper()
	p.markStale()
	p.ClickSelector(sel)
	p.waitSettled("after clicking " + sel)
}

// PressEnterIn focuses the control matching sel and presses Enter, waiting for
// the page that the implicit form submission loads.
func (p *Page) PressEnterIn(sel string) {
	p.t.Helper()
	p.markStale()
	p.run("press Enter in "+sel, chromedp.SendKeys(sel, "\r", chromedp.ByQuery))
	p.waitSettled("after Enter in " + sel)
}

// Cookies returns the names of the cookies the tab's browser context holds for
// its current URL, with their HttpOnly/Secure/SameSite flags.
func (p *Page) Cookies() []*network.Cookie {
	p.t.Helper()
	var cookies []*network.Cookie
	p.run("read cookies", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().Do(ctx)
		return err
	}))
	return cookies
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cssString escapes a value for a double-quoted CSS attribute selector.
func cssString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
