package main_test

import (
	"context"
	"fmt"
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
	"github.com/chromedp/chromedp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// newTab opens another tab of b's browser (its cookies, so its session).
func (b *browser) newTab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	return &browser{t: b.t, ctx: ctx, base: b.base}
}

// submit submits the page's first form of class grid-form, as its button
// would, and returns the status of the page it leads to.
func (b *browser) submit() (int64, error) {
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(f => (f.requestSubmit(), true))(document.querySelector("form.grid-form"))`)(ctx, tg)
		return err
	}))
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}

// mustProfilesNamed returns the ids of the profiles of a domain with a
// full name, through the API.
func mustProfilesNamed(t *testing.T, m *main.Main, domain, name string) []string {
	t.Helper()
	out, err := MustClient(t, m).SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain),
		KeyName: aws.String("_fullName"), Values: []string{name}})
	if err != nil {
		t.Fatalf("SearchProfiles %s: %v", name, err)
	}
	var ids []string
	for _, p := range out.Items {
		ids = append(ids, aws.ToString(p.ProfileId))
	}
	return ids
}

// mustCreateForm reads the create form of a domain with a signed-in
// client and returns its hidden fields (csrf, once).
func mustCreateForm(t *testing.T, hc *http.Client, base, domain string) url.Values {
	t.Helper()
	page := get(t, hc, base+"/console/domains/"+domain+"/profiles/new")
	form := url.Values{}
	for _, name := range []string{"csrf", "once"} {
		m := regexp.MustCompile(`name="` + name + `"(?: id="once")? value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the create form has no %s field:\n%s", name, page)
		}
		form.Set(name, m[1])
	}
	return form
}

// TestWorkspace_CreateOnce: the create form carries a one-time token, so
// that a form sent twice makes one profile: the same form sent from two
// tabs at once, a double submission in one tab, and a plain repeat of the
// POST all end on the profile the first made. A token made for another
// domain, or changed, creates nothing.
func TestWorkspace_CreateOnce(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	m := e.m

	// Two tabs send the same form (its token) at once: neither
	// navigation cancels the other, both reach the server.
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Omar")
	other := b.newTab()
	other.open("/console/domains/d/profiles/new")
	other.fill("#FirstName", "Omar")
	other.forge("#once", b.value("#once"))
	var wg sync.WaitGroup
	statuses, errs := make([]int64, 2), make([]error, 2)
	for i, tab := range []*browser{b, other} {
		wg.Go(func() { statuses[i], errs[i] = tab.submit() })
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil || statuses[i] != http.StatusOK {
			t.Fatalf("submission %d: status %d, %v", i, statuses[i], errs[i])
		}
	}
	if ids := mustProfilesNamed(t, m, "d", "Omar"); len(ids) != 1 {
		t.Errorf("the form sent from two tabs made profiles %v, want one", ids)
	} else {
		for _, tab := range []*browser{b, other} {
			if got := tab.text("#profile-id"); got != ids[0] {
				t.Errorf("a tab shows profile %s, want %s (on %s)", got, ids[0], tab.location())
			}
			tab.mustContain(".flash", "Profile created")
		}
	}

	// A double submission in one tab (Chromium itself sends one of two
	// submissions made in one task; a second one later cancels the first
	// navigation, whose request the server may or may not have had: the
	// two tabs above are the case that surely reaches it twice).
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Dana")
	ctx, cancel := b.timeout()
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(f => (f.requestSubmit(), f.requestSubmit(), true))(document.querySelector("form.grid-form"))`)(ctx, tg)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if ids := mustProfilesNamed(t, m, "d", "Dana"); len(ids) != 1 || b.text("#profile-id") != ids[0] {
		t.Errorf("a double submission made profiles %v, and shows %s", ids, b.text("#profile-id"))
	}

	// A plain repeat of the POST, then the token with another domain's
	// form, and a changed token.
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	form := mustCreateForm(t, hc, m.URL(), "d")
	form.Set("FirstName", "Rui")
	var landed []string
	for range 2 {
		r, err := hc.PostForm(m.URL()+"/console/domains/d/profiles/new", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("post: %d\n%s", r.StatusCode, body)
		}
		landed = append(landed, r.Request.URL.Path)
	}
	ids := mustProfilesNamed(t, m, "d", "Rui")
	if len(ids) != 1 || landed[0] != landed[1] || !strings.HasSuffix(landed[0], "/profiles/"+ids[0]) {
		t.Errorf("a repeated POST made profiles %v, and led to %v", ids, landed)
	}
	if _, err := MustClient(t, m).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("e"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	for name, once := range map[string]string{"another domain's": form.Get("once"), "a changed": form.Get("once") + "x", "no": ""} {
		f := url.Values{"csrf": {form.Get("csrf")}, "once": {once}, "FirstName": {"Eve"}}
		r, err := hc.PostForm(m.URL()+"/console/domains/e/profiles/new", f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "one-time token, field once") {
			t.Errorf("%s token: %d, want 400 naming the token\n%s", name, r.StatusCode, body)
		}
	}
	if ids := mustProfilesNamed(t, m, "e", "Eve"); len(ids) != 0 {
		t.Errorf("bad tokens made profiles %v", ids)
	}
}

// TestWorkspace_CreateOnceExpires: a create form's token is good for a
// day; its record is swept a day after the form was sent.
func TestWorkspace_CreateOnceExpires(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("d", "")
	hc := mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
	form := mustCreateForm(t, hc, e.m.URL(), "d")
	form.Set("FirstName", "Ines")
	// A console session lasts 8 hours: the form is sent again from a new
	// one (same agent), as after signing in again.
	resume := func() {
		hc = mustConsoleSession(t, e.m.URL(), testKeyID, testSecret)
		form.Set("csrf", mustCreateForm(t, hc, e.m.URL(), "d").Get("csrf"))
	}
	post := func() (int, string) {
		r, err := hc.PostForm(e.m.URL()+"/console/domains/d/profiles/new", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(body)
	}
	if st, body := post(); st != http.StatusOK {
		t.Fatalf("create: %d\n%s", st, body)
	}
	e.clock.add(23 * time.Hour)
	resume()
	if n, err := e.m.Service.SweepFormTokens(t.Context()); err != nil || n != 0 {
		t.Errorf("sweep a day early: %d, %v; want none", n, err)
	}
	if st, _ := post(); st != http.StatusOK || len(mustProfilesNamed(t, e.m, "d", "Ines")) != 1 {
		t.Errorf("a repeat within the day: %d, profiles %v", st, mustProfilesNamed(t, e.m, "d", "Ines"))
	}
	e.clock.add(2 * time.Hour)
	resume()
	if n, err := e.m.Service.SweepFormTokens(t.Context()); err != nil || n != 1 {
		t.Errorf("sweep after a day: %d, %v; want 1", n, err)
	}
	// The form is too old now: refused, with a fresh form.
	if st, body := post(); st != http.StatusBadRequest || !strings.Contains(body, "more than a day old") {
		t.Errorf("a day-old form: %d, want 400\n%s", st, body)
	}
	if ids := mustProfilesNamed(t, e.m, "d", "Ines"); len(ids) != 1 {
		t.Errorf("profiles %v, want one", ids)
	}
}

// TestWorkspace_FieldErrorsDescribed: every input of the profile form
// with an error names its error text (aria-describedby), the address and
// attribute inputs as the others.
func TestWorkspace_FieldErrorsDescribed(t *testing.T) {
	_, b := mustWorkspace(t, "d")
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Lea")
	b.fill("#EmailAddress", "lea.example.com")
	b.fill("#Address\\.City", strings.Repeat("c", 256)) // maxlength is the browser's; a crafted post is not
	b.fill("#attributes", "no equals sign")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", r.Status)
	}
	ctx, cancel := b.timeout()
	defer cancel()
	described, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("[aria-invalid=true]")].map(e =>
		[e.id, (document.getElementById(e.getAttribute("aria-describedby") || "") || {}).textContent || ""]))`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"EmailAddress": "name@example.com", "Address.City": "at most 255 characters", "attributes": "name=value"} {
		if got, ok := described[id]; !ok || !strings.Contains(got, want) {
			t.Errorf("#%s is described by %q, want its error (%q)", id, got, want)
		}
	}
	if len(described) != 3 {
		t.Errorf("invalid inputs %v, want 3", described)
	}
	// The keyboard focus is on the first of them, to correct it at once.
	if got := b.waitFocused("#EmailAddress"); !strings.HasPrefix(got, "#EmailAddress ") {
		t.Errorf("after the errors the focus is on %q, want #EmailAddress", got)
	}
}

// TestWorkspace_FormAfterSessionEnded: a form sent after its session ended
// (signed out in another tab, or expired) shows the sign-in page saying
// why nothing was saved, and signing in leads back to the form's page.
func TestWorkspace_FormAfterSessionEnded(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	m := e.m
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Lea")
	other := b.newTab()
	other.open("/console/domains")
	other.click("form.signout button")

	if r := b.click("#save"); r.Status != http.StatusUnauthorized {
		t.Errorf("the form after sign-out: status %d, want 401", r.Status)
	}
	b.mustContain("#page-error", "session ended", "nothing was saved")
	ctx, cancel := b.timeout()
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.CSS("#access_key_id"), testKeyID+"\t"+testSecret+"\r")); err != nil {
		t.Fatalf("sign in again: %v", err)
	}
	if u, _ := url.Parse(b.location()); u.Path != "/console/domains/d/profiles/new" {
		t.Errorf("signing in again led to %s, want the form's page", b.location())
	}
	if ids := mustProfilesNamed(t, m, "d", "Lea"); len(ids) != 0 {
		t.Errorf("profiles %v were created by a form without a session", ids)
	}
}

// TestWorkspace_ContactHistoryIncomplete: when a later page of a
// contact-record type's objects cannot be read, the profile page shows the
// contacts read before it, and says the history is incomplete.
func TestWorkspace_ContactHistoryIncomplete(t *testing.T) {
	e, east := newSalesEnv(t)
	now := e.clock.Now()
	var records []string
	for i := range 110 {
		records = append(records, ctr(east.Arn, fmt.Sprintf("c-%03d", i), "+12065550100", now.Add(-time.Duration(200-i)*time.Hour)))
	}
	e.mustPost(east.Id, records...)
	ids := e.profilesOf("sales", "_phone", "+12065550100")
	if len(ids) != 1 {
		t.Fatalf("profiles of the caller: %v", ids)
	}
	// The record ingested first is read last (the second page): its
	// sealed envelope (version 1, then chunks) is damaged, so that page
	// cannot be read.
	mustRawExec(t, e.m, `UPDATE objects SET data = ? WHERE domain = 'sales' AND object_type = 'CTR' AND unique_key =
		(SELECT unique_key FROM objects WHERE domain = 'sales' AND object_type = 'CTR' ORDER BY updated_at, unique_key LIMIT 1)`, append([]byte{1}, "damaged"...))

	b := mustSignedIn(t, e.m, testKeyID, testSecret)
	b.open("/console/domains/sales/profiles/" + ids[0])
	if n := b.count("#contact-history li"); n != 100 {
		t.Errorf("%d contacts shown, want the first page's 100", n)
	}
	b.mustContain("#contacts-incomplete", "incomplete", "those read are shown")
	b.mustContain("#contact-history li:first-child", "c-109")
	b.shot("workspace-history-incomplete")
}

// TestWorkspace_MergeOnce: the merge form sent twice (from two tabs at
// once, or a plain repeat of its POST) merges once, and both answers are
// the merged profile's page saying so; a profile merged into another one
// still fails.
func TestWorkspace_MergeOnce(t *testing.T) {
	e, b := mustWorkspace(t, "sales")
	m, client, ctx := e.m, e.client, t.Context()
	dn := aws.String("sales")
	create := func(first, phone string) string {
		out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: dn, FirstName: aws.String(first), PhoneNumber: aws.String(phone)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ProfileId)
	}
	ann, dup, zoe, bob := create("Ann", "+12065550100"), create("Ann", "+12065550142"), create("Zoe", "+12065550199"), create("Bob", "+12065550111")

	merge := "/console/domains/sales/profiles/" + ann + "/merge?other=" + dup
	b.open(merge)
	other := b.newTab()
	other.open(merge)
	var wg sync.WaitGroup
	statuses, errs := make([]int64, 2), make([]error, 2)
	for i, tab := range []*browser{b, other} {
		wg.Go(func() {
			ctx, cancel := tab.timeout()
			defer cancel()
			resp, err := chromedp.RunResponse(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Evaluate[bool](`(f => (f.requestSubmit(), true))(document.querySelector("#merge-form"))`)(ctx, tg)
				return err
			}))
			if err == nil {
				statuses[i] = resp.Status
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, tab := range []*browser{b, other} {
		if errs[i] != nil || statuses[i] != http.StatusOK {
			t.Fatalf("merge %d: status %d, %v\n%s", i, statuses[i], errs[i], tab.text("main"))
		}
		if u, _ := url.Parse(tab.location()); !strings.HasSuffix(u.Path, "/profiles/"+ann) {
			t.Errorf("merge %d ends at %s, want Ann's page", i, tab.location())
		}
		tab.mustContain(".flash", "Profile "+dup+" merged into this one.")
		tab.mustContain(`dd[data-field="PhoneNumber"]`, "+12065550100")
	}
	// The confirmation page again (Back, a reload): the merged profile,
	// not "profile not found".
	if st := b.open(merge); st != http.StatusOK {
		t.Errorf("the merge page after the merge: %d, want Ann's page\n%s", st, b.text("main"))
	}
	if u, _ := url.Parse(b.location()); !strings.HasSuffix(u.Path, "/profiles/"+ann) {
		t.Errorf("the merge page after the merge led to %s, want Ann's page", b.location())
	}
	b.mustContain(".flash", "Profile "+dup+" was merged into this one already.")
	got, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_profileId"), Values: []string{dup}})
	if err != nil || len(got.Items) != 1 || aws.ToString(got.Items[0].ProfileId) != ann {
		t.Fatalf("after the merge, _profileId %s finds %+v, %v; want Ann's profile only", dup, got, err)
	}

	// A plain repeat of the POST: the merged page both times.
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	page := get(t, hc, m.URL()+"/console/domains/sales/profiles/"+ann+"/merge?other="+zoe)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	post := func(main, other string) (int, string) {
		r, err := hc.PostForm(m.URL()+"/console/domains/sales/profiles/"+main+"/merge", url.Values{"csrf": {csrf}, "other": {other}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(body)
	}
	for i := range 2 {
		if st, body := post(ann, zoe); st != http.StatusOK || !strings.Contains(body, "Profile "+zoe+" merged into this one.") {
			t.Errorf("POST %d of the merge: %d, want Ann's page saying so\n%s", i, st, body)
		}
	}
	// Zoe was merged into Ann, not into Bob: merging her into Bob fails.
	if st, body := post(bob, zoe); st != http.StatusNotFound {
		t.Errorf("merging a profile merged into another: %d, want 404\n%s", st, body)
	}
}
