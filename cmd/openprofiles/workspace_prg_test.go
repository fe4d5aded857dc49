package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// documentRequests records the method and address of every page (document)
// request of b's tab.
type documentRequests struct {
	mu   sync.Mutex
	list []string // "METHOD path?query"
}

func recordDocuments(b *browser) *documentRequests {
	d := &documentRequests{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument {
			u, _ := url.Parse(e.Request.URL)
			d.mu.Lock()
			d.list = append(d.list, e.Request.Method+" "+u.RequestURI())
			d.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatalf("listen to the tab: %v", err)
	}
	return d
}

// since returns the requests recorded from the n-th on.
func (d *documentRequests) since(n int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.list[min(n, len(d.list)):]...)
}

func (d *documentRequests) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.list)
}

// history moves through b's tab history (Back, Forward, Reload) and
// returns the response of the page it leads to, or the error of that
// navigation (a resubmission prompt is a page that fails to load).
func (b *browser) history(action chromedp.Action[chromedp.Void]) (*network.Response, error) {
	ctx, cancel := b.timeout()
	defer cancel()
	return chromedp.RunResponse(ctx, action)
}

// TestWorkspace_RefusedFormIsAPage: a refused profile form (create, edit)
// answers its POST with a redirection to a GET page that shows what was
// typed, the errors and the refusal's status, with the focus on the first
// field in error and nothing typed in the address; Back, Forward and
// Reload then show pages without posting anything again, and the profile
// corrected and sent is made once.
func TestWorkspace_RefusedFormIsAPage(t *testing.T) {
	m := MustRunMain(t)
	if _, err := MustClient(t, m).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("d"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	docs := recordDocuments(b)

	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Leandra")
	b.fill("#EmailAddress", "leandra.example.com")
	start := docs.len()
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Fatalf("a refused form: status %d, want 400", r.Status)
	}
	refused := b.location()
	u, _ := url.Parse(refused)
	if u.Path != "/console/domains/d/profiles/new" || u.Query().Get("form") == "" || strings.Contains(strings.ToLower(refused), "leandra") {
		t.Errorf("the refused form is shown at %s, want its page with a form id and nothing typed", refused)
	}
	if got := docs.since(start); len(got) != 2 || !strings.HasPrefix(got[0], "POST ") || got[1] != "GET "+u.RequestURI() {
		t.Errorf("the submission made the requests %q, want the POST then a GET of the refused form's page", got)
	}
	check := func(when, email string) {
		t.Helper()
		if got := b.value("#FirstName"); got != "Leandra" {
			t.Errorf("%s: first name %q, want what was typed", when, got)
		}
		if got := b.value("#EmailAddress"); got != email {
			t.Errorf("%s: email %q, want %q", when, got, email)
		}
		b.mustContain("#EmailAddress-error", "name@example.com")
		b.mustContain("#page-error", "not created")
		if got := b.waitFocused("#EmailAddress"); !strings.HasPrefix(got, "#EmailAddress ") {
			t.Errorf("%s: the focus is on %q, want #EmailAddress", when, got)
		}
	}
	check("after the refusal", "leandra.example.com")

	// Reload: the page again, by a GET.
	start = docs.len()
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusBadRequest {
		t.Fatalf("reload of the refused form: %v, %v", r, err)
	}
	if got := docs.since(start); len(got) != 1 || got[0] != "GET "+u.RequestURI() {
		t.Errorf("the reload made the requests %q, want one GET of %s", got, u.RequestURI())
	}
	check("after a reload", "leandra.example.com")

	// Corrected and sent: the profile is made, once.
	b.fill("#EmailAddress", "leandra@example.com")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("the corrected form: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain(".flash", "Profile created")
	made := b.location()

	// Back to the refused form, Forward to the profile, Reload it: pages
	// got by GET, no resubmission prompt, nothing posted.
	start = docs.len()
	if r, err := b.history(chromedp.NavigateBack()); err != nil || r.Status != http.StatusBadRequest {
		t.Fatalf("Back to the refused form: %v, %v (on %s)", r, err, b.location())
	}
	if b.location() != refused {
		t.Errorf("Back led to %s, want %s", b.location(), refused)
	}
	// (Chromium puts back what was typed in the page's fields last: the
	// corrected email.)
	check("after Back", "leandra@example.com")
	if r, err := b.history(chromedp.NavigateForward()); err != nil || r.Status != http.StatusOK {
		t.Fatalf("Forward to the profile: %v, %v (on %s)", r, err, b.location())
	}
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusOK || b.location() != made {
		t.Fatalf("reload of the profile: %v, %v (on %s)", r, err, b.location())
	}
	for _, req := range docs.since(start) {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("Back, Forward and Reload sent %q", req)
		}
	}
	ctx, cancel := b.timeout()
	defer cancel()
	nav, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range nav.Entries {
		if strings.Contains(strings.ToLower(e.URL), "leandra") || strings.HasPrefix(e.URL, "chrome-error:") {
			t.Errorf("history entry %s", e.URL)
		}
	}
	ids := mustProfilesNamed(t, m, "d", "Leandra")
	if len(ids) != 1 {
		t.Fatalf("profiles %v, want one", ids)
	}

	// The edit form refused the same way; nothing is saved.
	b.open("/console/domains/d/profiles/" + ids[0] + "/edit")
	b.fill("#PhoneNumber", "12")
	start = docs.len()
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Fatalf("a refused edit: status %d, want 400", r.Status)
	}
	if got := docs.since(start); len(got) != 2 || !strings.HasPrefix(got[0], "POST ") || !strings.HasPrefix(got[1], "GET /console/domains/d/profiles/"+ids[0]+"/edit?form=") {
		t.Errorf("the edit made the requests %q, want the POST then a GET of the edit page", got)
	}
	if got := b.value("#PhoneNumber"); got != "12" {
		t.Errorf("refused edit: phone %q, want what was typed", got)
	}
	b.mustContain("#PhoneNumber-error", "at least 7 digits")
	if got := b.waitFocused("#PhoneNumber"); !strings.HasPrefix(got, "#PhoneNumber ") {
		t.Errorf("refused edit: the focus is on %q, want #PhoneNumber", got)
	}
	start = docs.len()
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusBadRequest || b.value("#PhoneNumber") != "12" {
		t.Fatalf("reload of the refused edit: %v, %v", r, err)
	}
	if got := docs.since(start); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
		t.Errorf("the reload made the requests %q, want one GET", got)
	}
	p, err := MustClient(t, m).SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String("d"),
		KeyName: aws.String("_profileId"), Values: []string{ids[0]}})
	if err != nil || len(p.Items) != 1 || aws.ToString(p.Items[0].PhoneNumber) != "" {
		t.Errorf("after the refused edit: %v, %v; want the profile without a phone number", p, err)
	}
}

// TestWorkspace_RefusedFormKept: a refused form's page shows it to the
// session that sent it, for 15 minutes: another session (the address
// copied elsewhere) and a later visit get the empty form with a note. On
// PostgreSQL it is kept for every node of the store.
func TestWorkspace_RefusedFormKept(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("d", "")
	hc := mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
	form := mustCreateForm(t, hc, e.m.URL(), "d")
	form.Set("FirstName", "Ottilie")
	form.Set("PhoneNumber", "555")
	r, err := hc.PostForm(e.m.URL()+"/console/domains/d/profiles/new", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	at := r.Request.URL
	if r.StatusCode != http.StatusBadRequest || r.Request.Method != http.MethodGet || at.Query().Get("form") == "" ||
		!strings.Contains(string(body), `value="Ottilie"`) || !strings.Contains(string(body), "at least 7 digits") {
		t.Fatalf("refused form: %d by %s %s\n%s", r.StatusCode, r.Request.Method, at, body)
	}
	if strings.Contains(at.String(), "Ottilie") || strings.Contains(at.String(), "555") {
		t.Errorf("the address %s holds what was typed", at)
	}
	// Kept sealed: the store holds nothing typed in the clear.
	kept, err := e.m.Service.Configs.ListConfigs(t.Context(), "d", "form-token", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	drafts := 0
	for _, c := range kept {
		if strings.HasPrefix(c.Name, "draft.") {
			drafts++
		}
		var doc struct{ Sealed []byte }
		json.Unmarshal(c.Data, &doc)
		if strings.Contains(string(c.Data), "Ottilie") || strings.Contains(string(doc.Sealed), "Ottilie") {
			t.Errorf("config %s holds the form in the clear: %s", c.Name, c.Data)
		}
	}
	if drafts != 1 {
		t.Errorf("%d drafts kept, want 1", drafts)
	}
	show := func(hc *http.Client) (int, string) {
		r, err := hc.Get(at.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(body)
	}
	if st, body := show(hc); st != http.StatusBadRequest || !strings.Contains(body, `value="Ottilie"`) {
		t.Errorf("the refused form again: %d\n%s", st, body)
	}
	other := mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
	if st, body := show(other); st != http.StatusOK || strings.Contains(body, "Ottilie") || !strings.Contains(body, "no longer kept") {
		t.Errorf("another session's look at the refused form: %d\n%s", st, body)
	}
	e.clock.add(16 * time.Minute)
	if st, body := show(hc); st != http.StatusOK || strings.Contains(body, "Ottilie") || !strings.Contains(body, "no longer kept") {
		t.Errorf("the refused form after 16 minutes: %d\n%s", st, body)
	}
	if n, err := e.m.Service.SweepFormTokens(t.Context()); err != nil || n != 2 {
		t.Errorf("sweep: %d, %v; want the draft and its owner's index", n, err)
	}
	if ids := mustProfilesNamed(t, e.m, "d", "Ottilie"); len(ids) != 0 {
		t.Errorf("a refused form made profiles %v", ids)
	}
}

// TestPostgres_RefusedFormOnTwoNodes: the page of a form refused by one
// node shows it on another node of the store.
func TestPostgres_RefusedFormOnTwoNodes(t *testing.T) {
	nodes := mustConsoleNodes(t, 2, 0)
	if _, err := MustClient(t, nodes[0]).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("d"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	hc := mustConsoleSession(t, nodes[0].URL(), testKeyID, testSecret)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := mustCreateForm(t, hc, nodes[0].URL(), "d")
	form.Set("FirstName", "Ottilie")
	form.Set("EmailAddress", "ottilie")
	r, err := hc.PostForm(nodes[0].URL()+"/console/domains/d/profiles/new", form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/domains/d/profiles/new?form=") {
		t.Fatalf("refused form: %d to %q, want 303 to its page", r.StatusCode, loc)
	}
	// The browser's cookie goes to both nodes (one host, 127.0.0.1).
	r, err = hc.Get(nodes[1].URL() + loc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `value="Ottilie"`) || !strings.Contains(string(body), "name@example.com") {
		t.Errorf("the refused form on the other node: %d\n%s", r.StatusCode, body)
	}
}

// TestConsole_RefusedStepIsAPage: a refused step of the activation wizard
// answers its POST with a redirection to the step's page, a GET showing
// the step with its errors and the refusal's status; Reload and Back show
// pages without posting again, and a Submit refused after it created the
// new queue shows that queue as the choice, so that neither a reload nor
// the next Submit makes another.
func TestConsole_RefusedStepIsAPage(t *testing.T) {
	m := MustRunMain(t)
	inst, err := m.Service.CreateInstance(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	bare := mustCreateKey(t, MustKMSClient(t, m), keyPolicy("")) // no grant for the service
	good := mustServiceKey(t, m)
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	docs := recordDocuments(b)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "bad name!")
	start := docs.len()
	if r := b.click(`button[value="next"]`); r.Status != http.StatusBadRequest {
		t.Fatalf("a bad domain name: status %d, want 400", r.Status)
	}
	refused := b.location()
	if got := docs.since(start); len(got) != 2 || !strings.HasPrefix(got[0], "POST ") || !strings.HasPrefix(got[1], "GET /console/instances/"+inst.ID+"/enable?") {
		t.Errorf("the step made the requests %q, want the POST then a GET of the step", got)
	}
	b.mustContain("#domain_name_error", "1 to 64 letters")
	if got := b.value("#domain_name"); got != "bad name!" {
		t.Errorf("domain name %q, want what was typed", got)
	}
	start = docs.len()
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusBadRequest {
		t.Fatalf("reload of the refused step: %v, %v", r, err)
	}
	if got := docs.since(start); len(got) != 1 || got[0] != "GET "+strings.TrimPrefix(refused, b.base) {
		t.Errorf("the reload made the requests %q, want one GET of the step", got)
	}
	b.mustContain("#domain_name_error", "1 to 64 letters")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)
	b.mustContain("main", "Dead-letter queue")
	if r, err := b.history(chromedp.NavigateBack()); err != nil || r.Status != http.StatusBadRequest || b.location() != refused {
		t.Fatalf("Back to the refused step: %v, %v (on %s)", r, err, b.location())
	}
	b.mustContain("#domain_name_error", "1 to 64 letters")
	if r, err := b.history(chromedp.NavigateForward()); err != nil || r.Status != http.StatusOK {
		t.Fatalf("Forward to the queue step: %v, %v", r, err)
	}
	// A new queue, then a key the service may not use: the queue is made,
	// the domain is not; the key step shows the queue as the choice.
	b.click(`button[value="next"]`)
	b.check("#key_existing")
	b.fill("#key_arn", bare)
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Fatalf("a key without the service grant: status %d, want 400", r.Status)
	}
	b.mustContain("#key_arn_error", "does not allow profile.amazonaws.com")
	start = docs.len()
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusBadRequest {
		t.Fatalf("reload of the refused Submit: %v, %v", r, err)
	}
	if got := docs.since(start); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
		t.Errorf("the reload made the requests %q, want one GET", got)
	}
	ctx, cancel := b.timeout()
	defer cancel()
	carried, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("input[name=queue_url]").value + " " + document.querySelector("input[name=queue_choice]").value`))
	if err != nil || !strings.HasSuffix(carried, "/000000000000/Acme-DLQ existing") {
		t.Errorf("the refused Submit carries the queue %q (%v), want the one it made as the existing choice", carried, err)
	}
	if domains, _, queues := mustCounts(t, m); domains != 0 || queues != 1 {
		t.Errorf("after the refused Submit and its reload: %d domains, %d queues; want 0 and 1", domains, queues)
	}
	b.fill("#key_arn", good)
	if r := b.click("#submit"); r.Status != http.StatusOK {
		t.Fatalf("Submit with a good key: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain(".flash", "Customer Profiles is enabled")
	if domains, _, queues := mustCounts(t, m); domains != 1 || queues != 1 {
		t.Errorf("after the activation: %d domains, %d queues; want 1 of each", domains, queues)
	}
}

// TestConsole_RefusedSignInIsAPage: a refused sign-in answers its POST
// with a redirection to the sign-in page saying why (401), the access key
// ID typed kept and neither it nor the secret in the address; a reload
// posts nothing, and signing in from there leads where the first was to.
func TestConsole_RefusedSignInIsAPage(t *testing.T) {
	m := MustRunMain(t)
	b := mustBrowser(t, m)
	docs := recordDocuments(b)
	b.open("/console/domains")
	b.fill("#access_key_id", testKeyID)
	b.fill("#secret_access_key", "not-the-secret")
	start := docs.len()
	if r := b.click("form.stack button"); r.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: status %d, want 401", r.Status)
	}
	at := b.location()
	if got := docs.since(start); len(got) != 2 || got[0] != "POST /console/signin" || !strings.HasPrefix(got[1], "GET /console/signin?") {
		t.Errorf("the sign-in made the requests %q, want the POST then a GET of the sign-in page", got)
	}
	if strings.Contains(at, testKeyID) || strings.Contains(at, "not-the-secret") {
		t.Errorf("the refused sign-in's address %s holds what was typed", at)
	}
	b.mustContain("#page-error", "wrong")
	if got := b.value("#access_key_id"); got != testKeyID {
		t.Errorf("access key ID %q, want the one typed", got)
	}
	start = docs.len()
	if r, err := b.history(chromedp.Reload()); err != nil || r.Status != http.StatusUnauthorized {
		t.Fatalf("reload of the refused sign-in: %v, %v", r, err)
	}
	if got := docs.since(start); len(got) != 1 || !strings.HasPrefix(got[0], "GET /console/signin?") {
		t.Errorf("the reload made the requests %q, want one GET", got)
	}
	b.fill("#secret_access_key", testSecret)
	if r := b.click("form.stack button"); r.Status != http.StatusOK {
		t.Fatalf("sign in: status %d", r.Status)
	}
	if u, _ := url.Parse(b.location()); u.Path != "/console/domains" {
		t.Errorf("signing in led to %s, want /console/domains", b.location())
	}
}

// TestConsole_RefusedStepTooLongForAnAddress: a step refused for a value
// too long to go in the step's address (its state is in the query, and a
// domain name is there five times over: as itself and in the proposed
// queue, alias and description) is shown as the answer to its POST, with
// the error: a redirection would lead to an address the server itself
// refuses (431), losing the form.
func TestConsole_RefusedStepTooLongForAnAddress(t *testing.T) {
	m := MustRunMain(t)
	inst, err := m.Service.CreateInstance(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	page := get(t, hc, m.URL()+"/console/instances/"+inst.ID+"/enable")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("the wizard has no csrf field:\n%s", page)
	}
	long := strings.Repeat("a", 20000)
	r, err := hc.PostForm(m.URL()+"/console/instances/"+inst.ID+"/enable", url.Values{"csrf": {csrf[1]},
		"step": {"domain"}, "action": {"next"}, "domain_name": {long}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "1 to 64 letters") {
		t.Fatalf("a domain name of %d letters: %d by %s %d bytes of address, want the step with its error (400)\n%.500s",
			len(long), r.StatusCode, r.Request.Method, len(r.Request.URL.String()), body)
	}
	// A refused step of ordinary length is still a redirection.
	r, err = hc.PostForm(m.URL()+"/console/instances/"+inst.ID+"/enable", url.Values{"csrf": {csrf[1]},
		"step": {"domain"}, "action": {"next"}, "domain_name": {"bad name!"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || r.Request.Method != http.MethodGet {
		t.Errorf("a bad domain name: %d by %s, want the step's page (GET, 400)", r.StatusCode, r.Request.Method)
	}
}
