package main_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// The console's end-to-end tests drive Debian's Chromium headless
// (scripts/test installs it) against the real server on loopback.
// Screenshots of the main pages go to $OPENPROFILES_SCREENSHOTS, or a
// directory under the system's temp dir that the test log names; with
// OPENPROFILES_UPDATE_SCREENSHOTS=1 they also refresh the ones kept in
// docs/screenshots/ for the README.

// chromiumPath finds the browser: $OPENPROFILES_CHROMIUM, else Debian's.
func chromiumPath(tb testing.TB) string {
	if p := os.Getenv("OPENPROFILES_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("no Chromium: install Debian's chromium (apt-get install -y chromium; scripts/test does) or set OPENPROFILES_CHROMIUM")
	return ""
}

var (
	shotsOnce sync.Once
	shotsDir  string
)

func screenshotDir(tb testing.TB) string {
	shotsOnce.Do(func() {
		shotsDir = os.Getenv("OPENPROFILES_SCREENSHOTS")
		if shotsDir == "" {
			shotsDir = filepath.Join(os.TempDir(), "openprofiles-ui-screenshots")
		}
		os.MkdirAll(shotsDir, 0o755)
	})
	return shotsDir
}

// browser is one headless Chromium tab on a server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func mustBrowser(t *testing.T, m *main.Main) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: m.URL()}
}

// mustSignedIn starts a browser on m signed in to its console with an
// access key.
func mustSignedIn(t *testing.T, m *main.Main, keyID, secret string) *browser {
	t.Helper()
	b := mustBrowser(t, m)
	b.signIn(keyID, secret)
	return b
}

// mustWorkspace starts a server with a domain (newDomainEnv) and a browser
// signed in to its console with the test's root key.
func mustWorkspace(t *testing.T, domain string) (*ingestEnv, *browser) {
	t.Helper()
	e := newDomainEnv(t, domain)
	return e, mustSignedIn(t, e.m, testKeyID, testSecret)
}

func (b *browser) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 30*time.Second)
}

// open loads a page and returns its HTTP status.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// click clicks what sel finds and waits for the page it leads to; it
// returns that page's response.
func (b *browser) click(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("click %s on %s: %v\n%s", sel, b.location(), err, b.text("main"))
	}
	return resp
}

// check clicks what sel finds, such as a radio button, without waiting
// for a page.
func (b *browser) check(sel string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	action := chromedp.SetValue(chromedp.CSS(sel), value)
	if value == "" {
		action = chromedp.Clear(chromedp.CSS(sel)) // SetValue refuses ""
	}
	if err := chromedp.Do(ctx, action); err != nil {
		b.t.Fatalf("fill %s: %v", sel, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
	if err != nil {
		b.t.Fatalf("text of %s on %s: %v", sel, b.location(), err)
	}
	return s
}

// forge sets the value of the first element sel matches, hidden ones too:
// a form as a crafted request would send it.
func (b *browser) forge(sel, value string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(e => e ? (e.value = "+jsString(value)+", true) : false)(document.querySelector("+jsString(sel)+"))"))
	if err != nil || !ok {
		b.t.Fatalf("forge %s: %v, found %v", sel, err, ok)
	}
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (b *browser) location() string {
	ctx, cancel := b.timeout()
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// mustContain fails unless the text of sel holds every word.
func (b *browser) mustContain(sel string, words ...string) string {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range words {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s on %s lacks %q:\n%s", sel, b.location(), w, got)
		}
	}
	return got
}

// unlabelled returns the names of the form fields of the page that have
// no label (a label for their id, or aria-label).
func (b *browser) unlabelled() []string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
		.filter(e => !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.getAttribute("aria-label"))
		.map(e => e.name || e.outerHTML)`))
	if err != nil {
		b.t.Fatalf("labels: %v", err)
	}
	return names
}

// focus moves the keyboard focus to what sel finds.
func (b *browser) focus(sel string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("focus %s: %v", sel, err)
	}
}

// press sends keys to the page's focused element.
func (b *browser) press(keys string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(keys)); err != nil {
		b.t.Fatalf("keys %q: %v", keys, err)
	}
}

// pressAndWait sends keys that lead to another page and waits for it.
func (b *browser) pressAndWait(keys string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(keys))
	if err != nil {
		b.t.Fatalf("keys %q on %s: %v", keys, b.location(), err)
	}
	return resp
}

// waitFocused waits up to 20 s for the keyboard focus to be on an element
// whose description (see focused) holds want, and returns the description
// it saw last. Chromium moves the focus to an autofocus field on a frame
// after the load event, so a check right after a load must wait.
func (b *browser) waitFocused(want string) string {
	b.t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = b.focused(); strings.Contains(got, want) {
			break
		}
	}
	return got
}

// focused describes the element that has the keyboard focus.
func (b *browser) focused() string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(e => (e.id ? "#" + e.id + " " : "") + (e.className ? "." + e.className + " " : "") + e.textContent.trim())(document.activeElement)`))
	if err != nil {
		b.t.Fatalf("focused: %v", err)
	}
	return s
}

// shot saves a screenshot of the page as name.png, after checking that
// every form field of the page has a label.
func (b *browser) shot(name string) {
	b.t.Helper()
	if bad := b.unlabelled(); len(bad) > 0 {
		b.t.Errorf("page %s (%s) has form fields without a label: %v", name, b.location(), bad)
	}
	ctx, cancel := b.timeout()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(b.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	// The README shows a few of them: refresh those that are there.
	doc := filepath.Join("..", "..", "docs", "screenshots", name+".png")
	if _, err := os.Stat(doc); err == nil && os.Getenv("OPENPROFILES_UPDATE_SCREENSHOTS") == "1" {
		if err := os.WriteFile(doc, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// signIn signs in with an access key, by keyboard only: the ID field has
// the focus, Tab moves to the secret, Enter sends the form.
func (b *browser) signIn(keyID, secret string) {
	b.t.Helper()
	if st := b.open("/console/"); st != http.StatusOK {
		b.t.Fatalf("GET /console/ (to the sign-in page): %d", st)
	}
	if !strings.Contains(b.location(), "/console/signin") {
		b.t.Fatalf("without a session /console/ led to %s, want the sign-in page", b.location())
	}
	ctx, cancel := b.timeout()
	defer cancel()
	_, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.CSS("#access_key_id"), keyID+"\t"+secret+"\r"))
	if err != nil {
		b.t.Fatalf("sign in: %v", err)
	}
	if strings.Contains(b.location(), "/console/signin") {
		b.t.Fatalf("still on the sign-in page: %s", b.text("main"))
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// scrollsSideways reports whether the page is wider than a window width
// px wide (a phone's), then puts the window back to its size.
func (b *browser) scrollsSideways(width int64) bool {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
		b.t.Fatal(err)
	}
	defer chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
	if err != nil {
		b.t.Fatalf("page width: %v", err)
	}
	return wide
}
