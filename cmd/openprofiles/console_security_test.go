package main_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/chromedp/chromedp"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestConsole_ActivationAddressExpires: the address of an activation step
// (its state signed for the caller) works for a day, as the wizard's run
// token in it; an older one (from a history, a bookmark, a log) opens the
// first step, empty, with HTTP 410 and a page saying why. Before, a signed
// address opened its step, queue and key chosen, for ever (with a new run
// token, so that its Submit went through).
func TestConsole_ActivationAddressExpires(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	m := &main.Main{Config: withTestStore(t, c), Now: clock.Now}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	inst, err := m.Service.CreateInstance(t.Context(), "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	enable := m.URL() + "/console/instances/" + inst.ID + "/enable"

	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, enable))[1]
	r, err := hc.PostForm(enable, url.Values{"csrf": {token}, "step": {"domain"}, "action": {"next"}, "domain_name": {"Acme-Corp"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	step := r.Request.URL.String() // the queue step's address, signed
	if r.StatusCode != http.StatusOK || r.Request.URL.Query().Get("ws") == "" {
		t.Fatalf("Next of the domain step: %d %s, want the queue step's signed address", r.StatusCode, step)
	}

	open := func() (int, string) {
		t.Helper()
		// Sessions last 8 hours: sign in again, as the owner of the
		// address would.
		hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
		r, err := hc.Get(step)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(body)
	}
	const queueStep = `id="queue_name" name="queue_name" value="Acme-Corp-DLQ"`
	clock.add(profiles.FormTokenTTL - time.Hour)
	if status, page := open(); status != http.StatusOK || !strings.Contains(page, queueStep) {
		t.Errorf("the step's address %v after it was made: %d, want the queue step of Acme-Corp\n%s", profiles.FormTokenTTL-time.Hour, status, page)
	}
	clock.add(time.Hour + time.Minute)
	status, page := open()
	if status != http.StatusGone {
		t.Errorf("the step's address a day after it was made: %d, want 410", status)
	}
	if strings.Contains(page, "Acme-Corp") || !strings.Contains(page, `id="domain_name"`) {
		t.Errorf("the step's address a day after it was made opens a step with its state, want the first step, empty\n%s", page)
	}
	if !strings.Contains(page, "more than a day old") || !strings.Contains(page, "Start again from the first step") {
		t.Errorf("the expired address's page does not say why it starts again\n%s", page)
	}
}

// TestConsole_SecureCookies: --secure-cookies marks every console cookie
// Secure on requests that arrive over plain HTTP (a proxy terminated TLS
// before the server); without it they are not (plain HTTP in front too).
func TestConsole_SecureCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		m := MustRunMain(t, func(c *main.Config) { c.SecureCookies = secure })
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		t.Cleanup(hc.CloseIdleConnections)
		// The cookies are sent by hand: a cookie jar keeps Secure ones
		// for https:// addresses.
		r, err := hc.Get(m.URL() + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		cookies := r.Cookies()
		token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(body))[1]
		post := func(keyID, secret string) *http.Response {
			t.Helper()
			form := url.Values{"csrf": {token}, "access_key_id": {keyID}, "secret_access_key": {secret}}
			req, _ := http.NewRequest(http.MethodPost, m.URL()+"/console/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range cookies {
				req.AddCookie(c)
			}
			r, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			return r
		}
		// HSTS only where the browser is on HTTPS (the proxy's side).
		if got, want := r.Header.Get("Strict-Transport-Security"), map[bool]string{true: "max-age=31536000"}[secure]; got != want {
			t.Errorf("secure-cookies %v: Strict-Transport-Security %q, want %q", secure, got, want)
		}
		refused := post(testKeyID, "wrong-secret")
		signedIn := post(testKeyID, testSecret)
		if signedIn.StatusCode != http.StatusSeeOther || strings.Contains(signedIn.Header.Get("Location"), "signin") {
			t.Fatalf("sign-in: %d to %s", signedIn.StatusCode, signedIn.Header.Get("Location"))
		}
		set := map[string]*http.Cookie{}
		for _, r := range []*http.Response{r, refused, signedIn} {
			for _, c := range r.Cookies() {
				if c.MaxAge >= 0 {
					set[c.Name] = c
				}
			}
		}
		for _, name := range []string{"op_signin", "op_signin_key", "op_session"} {
			c := set[name]
			if c == nil {
				t.Errorf("secure-cookies %v: no %s cookie set", secure, name)
				continue
			}
			if c.Secure != secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" {
				t.Errorf("secure-cookies %v: cookie %s: Secure %v, HttpOnly %v, SameSite %v, Path %q; want Secure %v, HttpOnly, SameSite=Strict, Path /console/",
					secure, name, c.Secure, c.HttpOnly, c.SameSite, c.Path, secure)
			}
		}
	}
}

// TestConsole_RefusedSignInKeepsNoSecret: a refused sign-in keeps the
// access key ID typed for the page that says so, but only a value that can
// be an access key ID: a secret access key typed in that field (and any
// value that is not 16 to 128 upper-case letters and digits) is not kept
// in a cookie, the page does not show it, and the server's log does not
// name it. Before, it was kept 15 minutes in cookie op_signin_key, shown
// in the form and logged.
func TestConsole_RefusedSignInKeepsNoSecret(t *testing.T) {
	logs := &syncBuffer{}
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	m := &main.Main{Config: withTestStore(t, c), Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	t.Cleanup(hc.CloseIdleConnections)
	signin := m.URL() + "/console/signin"
	refuse := func(keyID, secret string) (setKey []string, page string) {
		t.Helper()
		token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, signin))[1]
		noRedirect := *hc
		noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		r, err := noRedirect.PostForm(signin, url.Values{"csrf": {token}, "access_key_id": {keyID}, "secret_access_key": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/console/signin?error=") {
			t.Fatalf("sign-in with %q: %d to %s, want the refusal's page", keyID, r.StatusCode, r.Header.Get("Location"))
		}
		for _, c := range r.Cookies() {
			if c.Name == "op_signin_key" && c.MaxAge >= 0 {
				setKey = append(setKey, c.Value)
			}
		}
		resp, err := hc.Get(m.URL() + r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the refusal's page: %d, want 401", resp.StatusCode)
		}
		return setKey, string(body)
	}
	keyField := regexp.MustCompile(`id="access_key_id"[^>]*value="([^"]*)"`)
	typed := func(page string) string {
		if m := keyField.FindStringSubmatch(page); m != nil {
			return m[1]
		}
		return ""
	}

	// An access key ID with a wrong secret: kept, shown.
	if set, page := refuse(testKeyID, "not-the-secret"); len(set) != 1 || typed(page) != testKeyID {
		t.Errorf("a wrong secret: cookie %q, field %q; want the key ID %s kept and shown", set, typed(page), testKeyID)
	}
	// The secret in the key ID field (the secret field empty, or holding
	// something else): not kept, and the ID kept before is dropped.
	for _, tc := range []struct{ keyID, secret string }{
		{testSecret, ""},
		{testSecret, "AKOPTESTKEY000000001"},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "x"},
		{"AKIA1234", "x"}, // too short to be a key ID
	} {
		set, page := refuse(tc.keyID, tc.secret)
		if len(set) != 0 {
			t.Errorf("%q typed as the key ID: kept in a cookie (%q)", tc.keyID, set)
		}
		if strings.Contains(page, tc.keyID) || typed(page) != "" {
			t.Errorf("%q typed as the key ID: the refusal's page shows it (field %q)", tc.keyID, typed(page))
		}
		for _, c := range jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(m.URL(), "http://"), Path: "/console/"}) {
			if c.Name == "op_signin_key" {
				t.Errorf("%q typed as the key ID: the browser still holds op_signin_key %q", tc.keyID, c.Value)
			}
		}
		if strings.Contains(logs.String(), tc.keyID) {
			t.Errorf("%q typed as the key ID: logged", tc.keyID)
		}
	}
	if !strings.Contains(logs.String(), `"accessKeyId":"`+testKeyID+`"`) {
		t.Errorf("the refused sign-in with key ID %s is not logged with it:\n%s", testKeyID, logs.String())
	}
}

// TestConsole_SignInNextStaysInTheConsole: the page a sign-in leads to
// (next, from the sign-in page's address) is a page of the console, in a
// real browser. safeNext only looked at the text's beginning: dot
// segments (/console/../, also %2e%2e) and control characters (which
// http.Redirect passes through unparsed, and browsers drop) led out of the
// console, to any path of the server. (Not to another site: the address
// still began with /console/; the test's other server checks that too.)
func TestConsole_SignInNextStaysInTheConsole(t *testing.T) {
	m := MustRunMain(t)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body><main>elsewhere</main></body></html>")
	}))
	t.Cleanup(evil.Close)
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	b := mustBrowser(t, m)
	for _, next := range []string{
		"/console/../\t/" + evilHost + "/landed",
		"/console/..%2F\t/" + evilHost + "/landed",
		"/console/../\x0b/" + evilHost + "/landed",
		"/console/../\n/" + evilHost + "/landed",
		"/console/./../..//" + evilHost + "/landed",
		"/console/%2e%2e/metrics",
	} {
		if st := b.open("/console/signin?next=" + url.QueryEscape(next)); st != http.StatusOK {
			t.Fatalf("sign-in page with next %q: %d", next, st)
		}
		ctx, cancel := b.timeout()
		_, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.CSS("#access_key_id"), testKeyID+"\t"+testSecret+"\r"))
		cancel()
		if err != nil {
			t.Fatalf("sign in with next %q: %v", next, err)
		}
		if loc := b.location(); !strings.HasPrefix(loc, m.URL()+"/console/") {
			t.Errorf("sign-in with next %q led to %s, want a page of the console", next, loc)
		}
	}
}

// TestConsole_SecurityHeaders: every answer of the console, a page, an
// error page, a refusal, a redirection, a path it does not know, carries
// the headers that keep it out of frames (X-Frame-Options, CSP
// frame-ancestors), run no script (CSP) and stay out of caches (no-store);
// its static files may be cached, and are not framed either.
func TestConsole_SecurityHeaders(t *testing.T) {
	m := MustRunMain(t)
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	anon := &http.Client{CheckRedirect: noRedirect.CheckRedirect}
	t.Cleanup(anon.CloseIdleConnections)
	post := func(hc *http.Client, path string) (*http.Response, error) {
		return hc.PostForm(m.URL()+path, url.Values{"display_name": {"x"}})
	}
	get := func(hc *http.Client, path string) func() (*http.Response, error) {
		return func() (*http.Response, error) { return hc.Get(m.URL() + path) }
	}
	for _, tc := range []struct {
		name   string
		do     func() (*http.Response, error)
		status int
		static bool
	}{
		{"sign-in page", get(anon, "/console/signin"), http.StatusOK, false},
		{"page without a session", get(anon, "/console/domains"), http.StatusSeeOther, false},
		{"page", get(&noRedirect, "/console/domains"), http.StatusOK, false},
		{"error page", get(&noRedirect, "/console/domains/nowhere/profiles"), http.StatusNotFound, false},
		{"unknown path", get(&noRedirect, "/console/nowhere"), http.StatusNotFound, false},
		{"form without its CSRF token", func() (*http.Response, error) { return post(&noRedirect, "/console/domains/nowhere/rename") }, http.StatusForbidden, false},
		{"form without a session", func() (*http.Response, error) { return post(anon, "/console/domains/nowhere/rename") }, http.StatusSeeOther, false},
		{"static file", get(anon, "/console/static/style.css"), http.StatusOK, true},
	} {
		r, err := tc.do()
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		h := r.Header
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %s", tc.name, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-") {
			t.Errorf("%s: Content-Security-Policy %q allows script or inline content", tc.name, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Frame-Options %q, X-Content-Type-Options %q; want DENY, nosniff", tc.name, h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"))
		}
		if cc := h.Get("Cache-Control"); (cc == "no-store") == tc.static {
			t.Errorf("%s: Cache-Control %q", tc.name, cc)
		}
	}
}

// TestWorkspace_ProfileDataEscaped: profile data holding markup (fields,
// attribute names and values, addresses, an object's content, the search
// typed) shows as text in the search results, the profile page and the
// edit form: no element or event handler of its making is in the page.
func TestWorkspace_ProfileDataEscaped(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	const (
		tag   = `<img src=x onerror="document.title='pwned'">`
		close = `"></textarea></dd><script>document.title='pwned'</script>`
	)
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Eve" + tag), LastName: aws.String("Smith" + close),
		AdditionalInformation: aws.String(close + tag), EmailAddress: aws.String("eve@example.com"),
		Attributes: map[string]string{"note" + tag: "v" + close},
		Address:    &types.Address{Address1: aws.String(tag), City: aws.String(close)}})
	e.putType(&customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("ticket"), Description: aws.String("tickets" + tag), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{"id": field("_source.id", "", "STRING"), "email": field("_source.email", "", "EMAIL_ADDRESS")},
		Keys: map[string][]types.ObjectTypeKey{
			"uniqueTicket": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":       key([]string{"email"}, types.StandardIdentifierProfile),
		},
	})
	e.mustPut("ticket", map[string]string{"id": "T1", "email": "eve@example.com", "subject": close + tag})

	injected := `document.querySelectorAll("script, iframe, object, embed, [onerror], [onload], img[src='x']").length`
	for _, path := range []string{
		"/console/domains/d/profiles?q=" + url.QueryEscape("Eve"+tag),
		"/console/domains/d/profiles?q=eve%40example.com",
		"/console/domains/d/profiles/" + id,
		"/console/domains/d/profiles/" + id + "/edit",
		"/console/domains/d/profiles/new?q=" + url.QueryEscape("Eve"+tag),
	} {
		if st := b.open(path); st != http.StatusOK {
			t.Fatalf("GET %s: %d", path, st)
		}
		ctx, cancel := b.timeout()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](injected))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d elements or handlers made of profile data", path, n)
		}
	}
	// Shown as text, or kept as typed in the forms' fields.
	b.open("/console/domains/d/profiles?q=eve%40example.com")
	if body := b.text("main"); !strings.Contains(body, "Eve"+tag) {
		t.Errorf("the search results do not show the name as text:\n%s", body)
	}
	b.open("/console/domains/d/profiles/" + id)
	if body := b.text("main"); !strings.Contains(body, "<script>document.title='pwned'</script>") || !strings.Contains(body, "T1") {
		t.Errorf("the profile page does not show its data as text:\n%s", body)
	}
	b.open("/console/domains/d/profiles/" + id + "/edit")
	if got := b.value("#LastName"); got != "Smith"+close {
		t.Errorf("the edit form's last name: %q, want %q", got, "Smith"+close)
	}
	b.open("/console/domains/d/profiles/new?q=" + url.QueryEscape("Eve"+tag))
	if got := b.value("#FirstName"); got != "Eve<img" {
		t.Errorf("the new form's first name from the search: %q, want %q", got, "Eve<img")
	}
	ctx, cancel := b.timeout()
	defer cancel()
	if title, _ := chromedp.Run(ctx, chromedp.Title()); title == "pwned" {
		t.Errorf("a script of the profile data ran")
	}
}
