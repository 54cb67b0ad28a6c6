// Package browsertest opens pages in a real headless Chromium (Debian's
// chromium package) through the DevTools protocol, for tests that must
// know how a page behaves in a browser: whether it loads without a console
// error and what its DOM holds.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Path returns the Chromium binary, or "" when none is installed.
func Path() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Page is a page loaded in a headless browser.
type Page struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// Open starts a headless Chromium, loads url (file:// works) and waits
// until the page has loaded. Without Chromium the test is skipped, or
// fails when CI is set (CI must not pass without the browser check).
func Open(t testing.TB, url string) *Page {
	t.Helper()
	bin := Path()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found (install Debian's chromium package); CI is set, so the browser test may not be skipped")
		}
		t.Skip("chromium not found; install Debian's chromium package")
	}
	// The profile is not a t.TempDir: Chromium's helper processes can
	// still write into it for a moment after the browser has exited, and
	// t.TempDir's removal then fails the test ("directory not empty").
	profile, err := os.MkdirTemp("", "bluegreen-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		removeProfile(t, profile)
	})
	p := &Page{ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				p.errors = append(p.errors, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
			}
		case *runtime.EventExceptionThrown:
			p.errors = append(p.errors, "exception: "+e.ExceptionDetails.Error())
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError || e.Entry.Level == log.LevelWarning {
				p.errors = append(p.errors, fmt.Sprintf("%s %s: %s (%s)", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable(), chromedp.Navigate(url), chromedp.WaitReady("body", chromedp.ByQuery)); err != nil {
		t.Fatalf("open %s in chromium: %v", url, err)
	}
	// Let late console messages (a blocked fetch, a CSP report) arrive.
	if err := chromedp.Run(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	return p
}

// ConsoleErrors returns every console error or warning, uncaught
// exception and browser log error the page produced.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// Eval evaluates a JavaScript expression in the page and decodes its
// (JSON-serializable) result into out.
func (p *Page) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	if err := chromedp.Run(p.ctx, chromedp.Evaluate(expr, out)); err != nil {
		t.Fatalf("evaluate %q: %v", expr, err)
	}
}

// Screenshot saves a PNG of the whole page, for looking at it by hand.
func (p *Page) Screenshot(t testing.TB, path string) {
	t.Helper()
	var buf []byte
	if err := chromedp.Run(p.ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// removeProfile deletes Chromium's profile folder, trying again while the
// browser's last helper processes finish writing into it.
func removeProfile(t testing.TB, dir string) {
	var err error
	for i := 0; i < 20; i++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("chromium profile %s not removed: %v", dir, err)
}
