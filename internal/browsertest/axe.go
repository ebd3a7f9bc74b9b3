package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeTags are the rule sets checked: WCAG 2.0 and 2.1, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axePath is axe-core's script inside the npm tree of the web assets.
const axePath = "api/web/node_modules/axe-core/axe.min.js"

// Violation is one failed axe-core rule with the elements that fail it.
type Violation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Tags    []string  `json:"tags"`
	Nodes   []AxeNode `json:"nodes"`
}

// AxeNode is one element failing a rule.
type AxeNode struct {
	Target         []string `json:"target"` // CSS selectors (one per frame/shadow level)
	HTML           string   `json:"html"`
	FailureSummary string   `json:"failureSummary"`
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript reads axe.min.js once from the module's npm tree.
func axeScript() (string, error) {
	axeOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			axeErr = err
			return
		}
		path := filepath.Join(root, axePath)
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("browsertest: axe-core not found at %s (%v): run `make assets` (npm ci in api/web)", path, err)
			return
		}
		axeSource = string(b)
	})
	return axeSource, axeErr
}

// axeRunJS runs axe on the whole document, limited to the WCAG 2.x A/AA tags,
// and returns the violations as plain data.
const axeRunJS = `axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']}).then(r => ({
	passes: r.passes.length,
	violations: r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl, tags: v.tags,
		nodes: v.nodes.map(n => ({
			target: n.target.map(t => typeof t === 'string' ? t : JSON.stringify(t)),
			html: n.html, failureSummary: n.failureSummary || ''}))}))}))`

// RunAxe injects axe-core into the tab ctx (through the DevTools protocol, so
// the page's Content-Security-Policy does not apply) and returns the WCAG 2.1
// A/AA violations of the current document. It waits for the page to settle
// first.
func RunAxe(ctx context.Context) ([]Violation, error) {
	vs, _, err := runAxe(ctx)
	return vs, err
}

// runAxe is RunAxe that also counts the rules the document passes.
func runAxe(ctx context.Context) ([]Violation, int, error) {
	src, err := axeScript()
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// Let the document (and any htmx swap) finish.
	if err := pollJS(ctx, settledJS, 30*time.Second); err != nil {
		return nil, 0, fmt.Errorf("browsertest: page did not settle before axe: %w", err)
	}
	var present bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`typeof window.axe === 'object' && typeof window.axe.run === 'function'`, &present)); err != nil {
		return nil, 0, fmt.Errorf("browsertest: probing axe: %w", err)
	}
	if !present {
		if err := chromedp.Run(ctx, chromedp.Evaluate(src, nil)); err != nil {
			return nil, 0, fmt.Errorf("browsertest: injecting axe-core: %w", err)
		}
	}
	tags := "['" + strings.Join(AxeTags, "','") + "']"
	var out struct {
		Passes     int         `json:"passes"`
		Violations []Violation `json:"violations"`
	}
	err = chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(axeRunJS, tags), &out,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if err != nil {
		return nil, 0, fmt.Errorf("browsertest: running axe: %w", err)
	}
	return out.Violations, out.Passes, nil
}

// FormatViolations renders violations for a test failure: rule, impact, help,
// and for each element its selector, an HTML snippet and axe's summary.
func FormatViolations(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "- %s [%s]: %s (%s)\n", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "    at %s\n      %s\n", strings.Join(n.Target, " >> "), clip(oneLine(n.HTML), 300))
			if n.FailureSummary != "" {
				fmt.Fprintf(&b, "      %s\n", clip(oneLine(n.FailureSummary), 400))
			}
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Axe checks the current document of the tab ctx against WCAG 2.1 A and AA
// with axe-core and fails the test listing every violation.
func Axe(t testing.TB, ctx context.Context) {
	t.Helper()
	vs, err := RunAxe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) > 0 {
		var loc string
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = chromedp.Run(lctx, chromedp.Location(&loc))
		cancel()
		t.Errorf("accessibility: %d WCAG 2.1 A/AA violation(s) at %s:\n%s", len(vs), loc, FormatViolations(vs))
	}
}

// Axe checks the page's current document (see the package function Axe). A
// violation fails the test but lets it go on, so one run lists every page's
// problems.
func (p *Page) Axe() {
	p.t.Helper()
	vs, passes, err := runAxe(p.Ctx)
	if err != nil {
		p.t.Fatalf("browsertest [%s]: %v", p.User, err)
	}
	if len(vs) == 0 {
		p.t.Logf("axe [%s]: %s: no WCAG 2.1 A/AA violation (%d rules passed)", p.User, p.Path(), passes)
		return
	}
	p.mu.Lock()
	p.shots++
	base := fmt.Sprintf("%02d-%s-axe", p.shots, safeName(p.User))
	p.mu.Unlock()
	dir := ArtifactsDir(p.t)
	saved := "not saved"
	if path, err := writeScreenshot(p.Ctx, dir, base); err == nil {
		saved = path
		_ = os.WriteFile(filepath.Join(dir, base+".html"), []byte("<!-- "+p.URL()+" -->\n"+p.HTML()), 0o644)
	}
	p.t.Errorf("accessibility [%s]: %d WCAG 2.1 A/AA violation(s) at %s (screenshot %s):\n%s",
		p.User, len(vs), p.URL(), saved, FormatViolations(vs))
}
