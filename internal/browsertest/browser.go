// Package browsertest drives Debian's headless Chromium from Go tests through
// the DevTools protocol (chromedp): one browser per test process, one
// isolated browser context (its own cookies and storage) per simulated user,
// small helpers that speak the page's language (labels, button texts), and an
// accessibility check with axe-core run inside the page.
//
// When a test fails, every page it opened leaves a full-page screenshot, the
// page's HTML and its console messages in the artifacts folder
// ($SPORTELLO_ARTIFACTS/<test> or <module root>/.data/test-artifacts/<test>),
// and the folder is printed with the failure.
//
// A missing browser fails the test with instructions; it never skips.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"sportello/internal/testenv"
)

// Environment variables read by browsertest.
const (
	// EnvChromium is the path of the Chromium executable (default /usr/bin/chromium).
	EnvChromium = "SPORTELLO_CHROMIUM"
	// EnvArtifacts is the folder for screenshots and HTML dumps (default
	// <module root>/.data/test-artifacts).
	EnvArtifacts = "SPORTELLO_ARTIFACTS"
)

const defaultChromium = "/usr/bin/chromium"

// userDataPrefix names the temporary profile folders; the process id after it
// lets a later run remove folders left by a killed test process.
const userDataPrefix = "sportello-chromium-"

// browser is the test process's Chromium, started on first use.
type browser struct {
	allocCancel context.CancelFunc
	rootCtx     context.Context // the browser's first target; parent of every user context
	rootCancel  context.CancelFunc
	dataDir     string
}

var (
	mu      sync.Mutex
	current *browser
)

// ChromiumPath is the Chromium executable the tests use: $SPORTELLO_CHROMIUM or
// /usr/bin/chromium. It fails with instructions when the file is missing.
func ChromiumPath() (string, error) {
	p := os.Getenv(EnvChromium)
	if p == "" {
		p = defaultChromium
	}
	info, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("browsertest: Chromium not found at %s (%v): install chromium (make deps), or set %s to its path", p, err, EnvChromium)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("browsertest: %s is not an executable: install chromium (make deps), or set %s to its path", p, EnvChromium)
	}
	return p, nil
}

// allocatorOptions are the flags Chromium runs with: headless, no sandbox (tests
// often run as root in containers), and nothing that reaches the network on its own.
func allocatorOptions(execPath, dataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(1280, 900),
	}
}

// get returns the process's browser, starting it the first time.
func get() (*browser, error) {
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		return current, nil
	}
	execPath, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	sweepStaleProfiles()
	dataDir, err := os.MkdirTemp("", userDataPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("browsertest: profile folder: %w", err)
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocatorOptions(execPath, dataDir)...)
	rootCtx, rootCancel := chromedp.NewContext(allocCtx)
	// The first Run starts the browser; it must use rootCtx itself (not a
	// derived context), which owns the browser's lifetime. The start-up limit
	// is enforced from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Run(rootCtx) }()
	select {
	case err = <-started:
	case <-time.After(60 * time.Second):
		err = errors.New("timed out after 60s")
	}
	if err != nil {
		rootCancel()
		allocCancel()
		_ = os.RemoveAll(dataDir)
		return nil, fmt.Errorf("browsertest: starting %s: %w (install chromium with make deps; it needs no display)", execPath, err)
	}
	current = &browser{allocCancel: allocCancel, rootCtx: rootCtx, rootCancel: rootCancel, dataDir: dataDir}
	return current, nil
}

// newWindow creates a browser context and a window (a page target) in it.
func (b *browser) newWindow() (cdp.BrowserContextID, target.ID, error) {
	ctx, cancel := context.WithTimeout(b.rootCtx, DefaultTimeout)
	defer cancel()
	exec := cdp.WithExecutor(ctx, chromedp.FromContext(b.rootCtx).Browser)
	bcID, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec)
	if err != nil {
		return "", "", fmt.Errorf("creating a browser context: %w", err)
	}
	targetID, err := target.CreateTarget("about:blank").WithBrowserContextID(bcID).WithNewWindow(true).Do(exec)
	if err != nil {
		b.disposeContext(bcID)
		return "", "", fmt.Errorf("creating a window: %w", err)
	}
	return bcID, targetID, nil
}

// disposeContext closes a browser context with its windows and cookies.
func (b *browser) disposeContext(id cdp.BrowserContextID) {
	ctx, cancel := context.WithTimeout(b.rootCtx, 10*time.Second)
	defer cancel()
	_ = target.DisposeBrowserContext(id).Do(cdp.WithExecutor(ctx, chromedp.FromContext(b.rootCtx).Browser))
}

// Close stops the browser, if one was started, and removes its profile. A
// TestMain may call it after m.Run; without it the browser dies with the test
// process and the next run removes the profile.
func Close() {
	mu.Lock()
	defer mu.Unlock()
	if current == nil {
		return
	}
	current.rootCancel()
	current.allocCancel()
	_ = os.RemoveAll(current.dataDir)
	current = nil
}

// sweepStaleProfiles removes profile folders of test processes that no longer run.
func sweepStaleProfiles() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), userDataPrefix+"*"))
	for _, dir := range matches {
		rest := strings.TrimPrefix(filepath.Base(dir), userDataPrefix)
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// moduleRoot is the folder holding go.mod.
func moduleRoot() (string, error) { return testenv.ModuleRoot() }
