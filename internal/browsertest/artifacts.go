package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	resetDone  = map[string]bool{} // test names whose artifacts folder was emptied by this process; guarded by mu
)

// ArtifactsDir is the folder for the test's screenshots and HTML dumps:
// $SPORTELLO_ARTIFACTS/<test name> or <module root>/.data/test-artifacts/<test name>.
func ArtifactsDir(t testing.TB) string {
	base := os.Getenv(EnvArtifacts)
	if base == "" {
		root, err := moduleRoot()
		if err != nil {
			root = os.TempDir()
		}
		base = filepath.Join(root, ".data", "test-artifacts")
	}
	return filepath.Join(base, safeName(t.Name()))
}

func safeName(s string) string {
	return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "_")
}

// resetArtifacts empties the test's folder the first time the test opens a
// page, so it only ever holds the latest run's files.
func resetArtifacts(t testing.TB) {
	mu.Lock()
	defer mu.Unlock()
	if resetDone[t.Name()] {
		return
	}
	resetDone[t.Name()] = true
	_ = os.RemoveAll(ArtifactsDir(t))
}

// Screenshot saves a full-page PNG of the tab as <n>-<user>-<name>.png in the
// test's artifacts folder and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	p.mu.Lock()
	p.shots++
	n := p.shots
	p.mu.Unlock()
	path, err := writeScreenshot(p.Ctx, ArtifactsDir(p.t), fmt.Sprintf("%02d-%s-%s", n, safeName(p.User), safeName(name)))
	if err != nil {
		p.t.Fatalf("browsertest [%s]: screenshot %s: %v", p.User, name, err)
	}
	p.t.Logf("browsertest [%s]: screenshot %s", p.User, path)
	return path
}

// Screenshot saves a full-page PNG of the chromedp tab ctx in t's artifacts
// folder (for callers that drive chromedp directly).
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	path, err := writeScreenshot(ctx, ArtifactsDir(t), safeName(name))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	t.Logf("browsertest: screenshot %s", path)
	return path
}

func writeScreenshot(ctx context.Context, dir, base string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var png []byte
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(rctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		return "", err
	}
	path := filepath.Join(dir, base+".png")
	return path, os.WriteFile(path, png, 0o644)
}

// saveFailure writes what the tab shows when its test failed: a full-page
// screenshot, the serialised HTML with the URL, and the console log.
func (p *Page) saveFailure() {
	dir := ArtifactsDir(p.t)
	base := "failure-" + safeName(p.User)
	var saved []string
	var problems []string
	if p.Ctx.Err() != nil {
		p.t.Logf("browsertest [%s]: tab already closed, no failure artifacts", p.User)
		return
	}
	if path, err := writeScreenshot(p.Ctx, dir, base); err != nil {
		problems = append(problems, "screenshot: "+err.Error())
	} else {
		saved = append(saved, filepath.Base(path))
	}
	var html, loc string
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	err := chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Evaluate(`document.documentElement.outerHTML`, &html))
	cancel()
	if err != nil {
		problems = append(problems, "HTML: "+err.Error())
	} else {
		path := filepath.Join(dir, base+".html")
		content := fmt.Sprintf("<!-- %s (HTTP %d) -->\n%s\n", loc, p.Status(), html)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			problems = append(problems, "HTML: "+err.Error())
		} else {
			saved = append(saved, filepath.Base(path))
		}
	}
	if lines := p.Console(); len(lines) > 0 {
		path := filepath.Join(dir, base+"-console.txt")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err == nil {
			saved = append(saved, filepath.Base(path))
		}
	}
	msg := fmt.Sprintf("browsertest [%s]: test failed at %s; saved %s in %s", p.User, loc, strings.Join(saved, ", "), dir)
	if len(problems) > 0 {
		msg += " (could not save: " + strings.Join(problems, "; ") + ")"
	}
	p.t.Log(msg)
}
