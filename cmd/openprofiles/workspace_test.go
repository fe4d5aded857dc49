package main_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/chromedp/chromedp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// mustAgent creates a user with the policy statements and an access key,
// and returns the key.
func mustAgent(t *testing.T, m *main.Main, name string, statements ...string) (id, secret string) {
	t.Helper()
	return mustUserKey(t, m, name, map[string]string{"agent": policy(statements...)})
}

const (
	agentProfiles = `{"Effect":"Allow","Action":["profile:*","connect:ListInstances"],"Resource":"*"}`
	agentDecrypt  = `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`
)

// TestWorkspace_Agent: an agent signs in, searches by a phone number
// written differently from the contact records, opens the profile, reads
// its contact history, then creates a profile (a validation message
// first) and edits it.
func TestWorkspace_Agent(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-24 * time.Hour)
	e.mustPost(east.Id,
		ctr(east.Arn, "v-1", "+12065550100", at),
		ctr(east.Arn, "v-2", "+1 206 555 0100", at.Add(time.Hour)),
		ctr(east.Arn, "chat-1", "ana.silva@example.com", at.Add(2*time.Hour)),
	)
	id, secret := mustAgent(t, e.m, "grace", agentProfiles, agentDecrypt)
	// Contacts counted from the contact records, on the profile's page.
	if _, err := e.client.CreateCalculatedAttributeDefinition(t.Context(), &customerprofiles.CreateCalculatedAttributeDefinitionInput{
		DomainName: aws.String("sales"), CalculatedAttributeName: aws.String("contacts"), DisplayName: aws.String("Contacts so far"),
		AttributeDetails: &types.AttributeDetails{Attributes: []types.AttributeItem{{Name: aws.String("contactId")}}, Expression: aws.String("{CTR.contactId}")},
		Statistic:        types.StatisticCount, UseHistoricalData: aws.Bool(true)}); err != nil {
		t.Fatalf("CreateCalculatedAttributeDefinition: %v", err)
	}

	b := mustSignedIn(t, e.m, id, secret)
	b.open("/console/domains/sales/profiles")
	b.shot("workspace-search")
	b.fill("#q", "(206) 555-0100")
	b.click(`form.search button`)
	b.mustContain("#results", "1 result")
	b.shot("workspace-results")

	b.click(`.results a`)
	b.mustContain("#contact-history", "VOICE", "grace.kim", "Billing", "4m 00s", "v-1", "v-2")
	b.mustContain("#calculated", "Contacts so far", "2")
	if n := b.count("#contact-history li"); n != 2 {
		t.Errorf("contact history shows %d contacts, want 2", n)
	}
	history := b.text("#contact-history")
	if strings.Index(history, "v-2") > strings.Index(history, "v-1") {
		t.Errorf("contact history is not newest first:\n%s", history)
	}
	b.shot("workspace-profile")

	// Create: a bad email is refused beside the field, nothing is created.
	b.open("/console/domains/sales/profiles/new")
	b.fill("#FirstName", "Mateo")
	b.fill("#LastName", "Jackson")
	b.fill("#EmailAddress", "mateo.example.com")
	b.fill("#PhoneNumber", "+44 20 7946 0958")
	b.fill("#Address\\.City", "London")
	b.fill("#attributes", "tier=gold\nlanguage=es")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Errorf("a bad email: status %d, want 400", r.Status)
	}
	b.mustContain("#EmailAddress-error", "name@example.com")
	if b.value("#FirstName") != "Mateo" {
		t.Error("the form lost what was typed")
	}
	b.shot("workspace-create-error")
	b.fill("#EmailAddress", "Mateo.Jackson@Example.com")
	b.click("#save")
	b.mustContain(".flash", "Profile created")
	b.mustContain("#profile-name", "Mateo Jackson")
	b.mustContain("#standard-fields", "Mateo.Jackson@Example.com", "+44 20 7946 0958")
	b.mustContain("#attributes", "tier", "gold", "language", "es")
	newID := b.text("#profile-id")

	// Edit: change the last name, drop an attribute.
	b.click(`a[href$="/edit"]`)
	b.fill("#LastName", "Jackson-Silva")
	b.fill("#attributes", "tier=platinum")
	b.click("#save")
	b.mustContain(".flash", "Profile saved")
	b.mustContain("#profile-name", "Mateo Jackson-Silva")
	if attrs := b.text("#attributes"); !strings.Contains(attrs, "platinum") || strings.Contains(attrs, "language") {
		t.Errorf("attributes after the edit: %s", attrs)
	}

	// The email finds it whatever its case; the API agrees.
	b.open("/console/domains/sales/profiles?q=" + url.QueryEscape("mateo.jackson@example.COM"))
	b.mustContain("#results", "1 result", "Mateo Jackson-Silva")
	if ids := e.profilesOf("sales", "_email", "mateo.jackson@example.com"); len(ids) != 1 || ids[0] != newID {
		t.Errorf("SearchProfiles by email: %v, want [%s]", ids, newID)
	}

	// Readable in a phone-sized window: nothing wider than the screen.
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	b.open("/console/domains/sales/profiles/" + newID)
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
	if err != nil || wide {
		t.Errorf("the profile page scrolls sideways at 390 px (err %v)", err)
	}
	b.shot("workspace-profile-phone")
}

// TestWorkspace_NoDecrypt: a principal allowed every profile action but not
// kms:Decrypt on the domain's key sees no profile data.
func TestWorkspace_NoDecrypt(t *testing.T) {
	e := newDomainEnv(t, "vault")
	m, client, ctx := e.m, e.client, t.Context()
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("vault"),
		FirstName: aws.String("Secretia"), PhoneNumber: aws.String("+12065550111")})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := mustAgent(t, m, "nodecrypt", agentProfiles)
	b := mustSignedIn(t, m, id, secret)
	if st := b.open("/console/domains/vault/profiles?q=%2B12065550111"); st != http.StatusForbidden {
		t.Errorf("search without kms:Decrypt: status %d, want 403", st)
	}
	b.mustContain("#denied", "kms:Decrypt")
	b.shot("workspace-no-decrypt")
	if st := b.open("/console/domains/vault/profiles/" + aws.ToString(out.ProfileId)); st != http.StatusForbidden {
		t.Errorf("profile page without kms:Decrypt: status %d, want 403", st)
	}
	// (Not "555" alone: the key id in the message is random hex and can hold it.)
	if page := b.text("body"); strings.Contains(page, "Secretia") || strings.Contains(page, "2065550111") {
		t.Errorf("profile data shown without kms:Decrypt:\n%s", page)
	}
	// The overview (counts only) is not profile data.
	if st := b.open("/console/domains/vault"); st != http.StatusOK {
		t.Errorf("overview: %d", st)
	}
	b.mustContain("#count-profiles", "1")
}

// TestConsole_CSRF: a form post without the session's CSRF token changes
// nothing, from a browser (a form the page did not serve) or a plain
// client with the session cookie.
func TestConsole_CSRF(t *testing.T) {
	e, b := mustWorkspace(t, "guarded")
	m, client, ctx := e.m, e.client, t.Context()
	b.open("/console/domains/guarded/profiles/new")
	// A forged form: same fields, no token, posted by the browser with the
	// session cookie.
	forge := `(() => { const f = document.createElement("form"); f.method = "post"; f.action = "/console/domains/guarded/profiles/new";
		const i = document.createElement("input"); i.name = "FirstName"; i.value = "Forged"; f.appendChild(i);
		document.body.appendChild(f); f.submit(); return true; })()`
	rctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(rctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](forge)(ctx, tg)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("forged post: status %d, want 403", resp.Status)
	}
	b.mustContain("main", "CSRF token is missing or wrong", "Nothing was changed")
	b.shot("csrf-refused")

	// A plain client with a valid session and a wrong token: refused too.
	hc, _ := signedInClient(t, m)
	r, err := hc.PostForm(m.URL()+"/console/domains/guarded/profiles/new", url.Values{"csrf": {"forged"}, "FirstName": {"Forged"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("post with a wrong token: %d, want 403", r.StatusCode)
	}
	found, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("guarded"),
		KeyName: aws.String("_fullName"), Values: []string{"Forged"}})
	if err != nil || len(found.Items) != 0 {
		t.Errorf("a forged post created profiles: %v %v", found, err)
	}
	// The session cookie is HttpOnly and SameSite=Strict.
	raw := signinCookie(t, m)
	if !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Strict") {
		t.Errorf("session cookie %q is not HttpOnly and SameSite=Strict", raw)
	}
}

func get(t testing.TB, hc *http.Client, u string) string {
	t.Helper()
	r, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// signinCookie signs in with a client that does not follow redirections
// and returns the Set-Cookie header of the session.
func signinCookie(t *testing.T, m *main.Main) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, m.URL()+"/console/signin"))[1]
	r, err := hc.PostForm(m.URL()+"/console/signin", url.Values{"csrf": {token}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "op_session=") {
			return v
		}
	}
	t.Fatalf("no session cookie: %d %v", r.StatusCode, r.Header)
	return ""
}

// TestConsole_DeadLetters: objects that failed (their object type did not
// exist yet) are listed with error, source and object; one is replayed,
// one deleted, the rest replayed together; the overview counts them and
// charts the failures.
func TestConsole_DeadLetters(t *testing.T) {
	d := newDLQEnv(t, "built-in", "ops", "ops-dlq", dlqKey, dlqConfig(func(c *main.Config) { c.KMSKeyCheckInterval, c.DataKeyMaxAge = 0, 0 }))
	m, client, k, key, ctx := d.m, d.client, MustKMSClient(t, d.m), d.key, t.Context()
	// The domain's key is disabled: every object of the import fails.
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "contacts.json")
	var objs []map[string]any
	for i := range 4 {
		objs = append(objs, map[string]any{"id": fmt.Sprint(i), "email": fmt.Sprintf("dl%d@example.com", i)})
	}
	data, _ := json.Marshal(objs)
	os.WriteFile(path, data, 0o600)
	if out, err := runCLI(t, m, "import", "--domain", "ops", "--object-type", "contact", "--quiet", path); err != nil || !strings.Contains(out, `"Failed": 4`) {
		t.Fatalf("import: %v\n%s", err, out)
	}

	b := mustSignedIn(t, m, testKeyID, testSecret)
	b.open("/console/domains/ops")
	b.mustContain("#count-dlq", "4")
	b.mustContain("#chart-title", "Ingestion")
	if n := b.count("svg.chart rect.failed"); n != 1 {
		t.Errorf("the chart has %d failure bars, want 1 (this hour)", n)
	}
	b.shot("domain-overview")
	if b.scrollsSideways(375) {
		t.Errorf("the domain overview scrolls sideways at 375 px")
	}

	b.open("/console/domains/ops/dlq")
	letters := b.mustContain("#dead-letters", "KMS_KEY_STATE", "import", "contact", "dl0@example.com")
	if n := b.count("#dead-letters > li"); n != 4 {
		t.Fatalf("%d dead letters listed, want 4:\n%s", n, letters)
	}
	b.shot("dead-letters")

	// Replaying before the cause is fixed keeps the letter, one attempt more.
	b.click(`#dead-letters > li:first-child button[value="replay-one"]`)
	b.mustContain(".flash", "0 ingested, 1 failed again")
	b.mustContain("#dead-letters", "attempts 2")

	// Fix the cause: the key is enabled again.
	if _, err := k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	b.click(`#dead-letters > li:first-child button[value="replay-one"]`)
	b.mustContain(".flash", "1 ingested, 0 failed")
	b.click(`#dead-letters > li:first-child button[value="delete-one"]`)
	b.mustContain(".flash", "Deleted 1 dead letter.")
	if n := b.count("#dead-letters > li"); n != 2 {
		t.Errorf("%d dead letters left, want 2", n)
	}
	b.click("#replay-all")
	b.mustContain(".flash", "2 ingested, 0 failed")
	b.mustContain("#no-dead-letters", "No dead letter")

	found := 0
	for i := range 4 {
		out, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("ops"),
			KeyName: aws.String("_email"), Values: []string{fmt.Sprintf("dl%d@example.com", i)}})
		if err != nil {
			t.Fatal(err)
		}
		found += len(out.Items)
	}
	if found != 3 {
		t.Errorf("%d profiles after the replays, want 3 (one letter was deleted)", found)
	}
	if n, err := m.Service.DeadLetterDepth(ctx, "ops"); err != nil || n != 0 {
		t.Errorf("queue depth %d, %v; want 0", n, err)
	}

	// A replayed object is on its profile's page, under its type; a
	// search that finds one profile opens it at once with open=1.
	for i := range 4 {
		email := fmt.Sprintf("dl%d@example.com", i)
		out, _ := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("ops"),
			KeyName: aws.String("_email"), Values: []string{email}})
		if len(out.Items) == 0 {
			continue // the deleted one
		}
		b.open("/console/domains/ops/profiles?open=1&q=" + url.QueryEscape(email))
		if !strings.HasSuffix(b.location(), "/profiles/"+aws.ToString(out.Items[0].ProfileId)) {
			t.Fatalf("open=1 with one result led to %s", b.location())
		}
		b.mustContain("#objects-contact", "contact objects", "(1)")
		b.mustContain("main", email)
		break
	}
}

// TestConsole_SignOutEndsTheSession: after signing out, a copy of the
// session cookie taken before is refused: the revocation is in the store
// (which every node of it reads), not only in the browser.
func TestConsole_SignOutEndsTheSession(t *testing.T) {
	m := MustRunMain(t)
	hc, jar := signedInClient(t, m)
	u, _ := url.Parse(m.URL() + "/console/")
	var copied *http.Cookie
	for _, c := range jar.Cookies(u) {
		if c.Name == "op_session" {
			copied = c
		}
	}
	if copied == nil {
		t.Fatal("no session cookie after signing in")
	}
	// withCookie asks for a page with only the copied cookie, not following
	// redirects: 200 for a live session, 303 to the sign-in page otherwise.
	withCookie := func(base string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/console/domains", nil)
		req.AddCookie(copied)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		defer c.CloseIdleConnections()
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := withCookie(m.URL()); st != http.StatusOK {
		t.Fatalf("the copied cookie before signing out: %d, want 200", st)
	}
	page := get(t, hc, m.URL()+"/console/domains")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	r, err := hc.PostForm(m.URL()+"/console/signout", url.Values{"csrf": {csrf}})
	if err != nil || r.StatusCode != http.StatusOK || !strings.HasSuffix(r.Request.URL.Path, "/console/signin") {
		t.Fatalf("sign out: %v %v", err, r)
	}
	r.Body.Close()
	if st := withCookie(m.URL()); st != http.StatusSeeOther {
		t.Errorf("the copied cookie after signing out: %d, want 303 to the sign-in page", st)
	}
	if revoked, err := m.DB.SessionRevoked(t.Context(), sessionID(t, copied.Value)); err != nil || !revoked {
		t.Errorf("the store's record of the session: revoked %v, %v", revoked, err)
	}
}

// sessionID reads the id (nonce) of a console session cookie's payload.
func sessionID(t *testing.T, cookie string) string {
	t.Helper()
	payload, _, _ := strings.Cut(cookie, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		N string `json:"n"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.N == "" {
		t.Fatalf("session payload %s: %v", b, err)
	}
	return s.N
}

// signedInClient returns a plain HTTP client signed in to m's console with
// the test's root key, and its cookie jar.
func signedInClient(t *testing.T, m *main.Main) (*http.Client, *cookiejar.Jar) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	t.Cleanup(hc.CloseIdleConnections)
	signinHTML := get(t, hc, m.URL()+"/console/signin")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(signinHTML)[1]
	r, err := hc.PostForm(m.URL()+"/console/signin", url.Values{"csrf": {token}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret}})
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %v %v", err, r)
	}
	r.Body.Close()
	return hc, jar
}

// TestWorkspace_Duplicates: a profile's page lists the profiles identity
// resolution found alike, and an agent merges one into it; an agent who
// may not merge sees the list without the button.
func TestWorkspace_Duplicates(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	dn := aws.String("sales")
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: dn, DefaultExpirationDays: aws.Int32(30),
		Matching: &types.MatchingRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	create := func(in customerprofiles.CreateProfileInput) string {
		in.DomainName = dn
		out, err := client.CreateProfile(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ProfileId)
	}
	ann := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")})
	dup := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), EmailAddress: aws.String("ANN@example.com"),
		PhoneNumber: aws.String("+12065550142")})
	create(customerprofiles.CreateProfileInput{FirstName: aws.String("Zoe"), LastName: aws.String("Martin"), EmailAddress: aws.String("zoe@example.com")})
	if n, err := m.Service.RunIdentityResolution(ctx); err != nil || n != 1 {
		t.Fatalf("RunIdentityResolution: %d, %v", n, err)
	}

	// An agent who may read but not merge.
	id, secret := mustAgent(t, m, "reader", `{"Effect":"Allow","Action":["profile:SearchProfiles","profile:ListProfileObjects","profile:GetSimilarProfiles"],"Resource":"*"}`, agentDecrypt)
	b := mustSignedIn(t, m, id, secret)
	if st := b.open("/console/domains/sales/profiles/" + ann); st != http.StatusOK {
		t.Fatalf("profile page: %d", st)
	}
	b.mustContain("#duplicates", "Ann Lee", "identity resolution, confidence 0.99")
	if n := b.count("#duplicates a.merge"); n != 0 {
		t.Errorf("%d merge buttons for an agent without profile:MergeProfiles", n)
	}

	id, secret = mustAgent(t, m, "merger", agentProfiles, agentDecrypt)
	b = mustSignedIn(t, m, id, secret)
	b.open("/console/domains/sales/profiles/" + ann)
	if n := b.count("#duplicates li"); n != 1 {
		t.Fatalf("%d possible duplicates listed, want 1 (Zoe is no one's)", n)
	}
	b.shot("workspace-duplicates")
	b.click(`#duplicates li[data-profile="` + dup + `"] a.merge`)
	// A page to confirm, with both profiles: nothing merged yet.
	b.mustContain("main", "Merge a duplicate", "cannot be undone", "+12065550142")
	if labels := b.unlabelled(); len(labels) != 0 {
		t.Errorf("unlabelled controls on the merge page: %v", labels)
	}
	b.shot("workspace-merge")
	b.click(`#merge-form button`)
	if loc := b.location(); !strings.Contains(loc, "/profiles/"+ann) {
		t.Fatalf("after the merge: at %s", loc)
	}
	b.mustContain("main", "merged into this one")
	b.mustContain(`dd[data-field="PhoneNumber"]`, "+12065550142")
	if n := b.count("#duplicates"); n != 0 {
		t.Errorf("the merged profile is still listed as a duplicate")
	}
	// The merged profile's page (a bookmark) opens the profile it was
	// merged into.
	if st := b.open("/console/domains/sales/profiles/" + dup); st != http.StatusOK || b.text("#profile-id") != ann {
		t.Errorf("the merged profile's page: %d, profile %s, want 200 and %s", st, b.text("#profile-id"), ann)
	}
}

// TestWorkspace_WritersSeeNoData: the edit and merge pages show a
// profile's fields; through the API, UpdateProfile and MergeProfiles return
// none, so these pages need profile:SearchProfiles as reading does.
func TestWorkspace_WritersSeeNoData(t *testing.T) {
	e := newDomainEnv(t, "d")
	m, client, ctx := e.m, e.client, t.Context()
	var ids []string
	for _, name := range []string{"Secret", "Other"} {
		out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.ProfileId))
	}
	id, secret := mustAgent(t, m, "writer", agentProfiles, agentDecrypt,
		`{"Effect":"Deny","Action":["profile:SearchProfiles","profile:BatchGetProfile"],"Resource":"*"}`)
	hc := mustConsoleSession(t, m.URL(), id, secret)
	for _, path := range []string{"/profiles/" + ids[0] + "/edit", "/profiles/" + ids[0] + "/merge?other=" + ids[1]} {
		r, err := hc.Get(m.URL() + "/console/domains/d" + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden || strings.Contains(string(body), "Secret") {
			t.Errorf("%s for an agent who may not read profiles: %d; want 403 without the profile's fields", path, r.StatusCode)
		}
	}
}

// TestWorkspace_EditKeepsAttributes: saving the edit form with one field
// changed keeps every attribute as the API stored it: names of any
// characters, values with spaces around them, and those a name=value line
// cannot hold (a line break, an "=" in the name), which are listed as
// kept rather than broken.
func TestWorkspace_EditKeepsAttributes(t *testing.T) {
	e := newDomainEnv(t, "d")
	m, client, ctx := e.m, e.client, t.Context()
	attrs := map[string]string{"my attr": "x", "Ünï": "y", "padded": "  padded  ", "multi": "a\nb", "eq=name": "z", "plain": "p"}
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Edith"),
		PhoneNumber: aws.String("+12065550100"), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	page := get(t, hc, m.URL()+"/console/domains/d/profiles/"+id+"/edit")
	if !strings.Contains(page, "kept-attributes") {
		t.Errorf("the edit form does not list the attributes it keeps")
	}
	form := url.Values{"csrf": {regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]}}
	for _, m := range regexp.MustCompile(`<input id="([^"]+)" name="[^"]+" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	textarea := regexp.MustCompile(`(?s)<textarea id="attributes"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)[1]
	form.Set("attributes", html.UnescapeString(strings.TrimPrefix(textarea, "\n")))
	form.Set("PhoneNumber", "+12065550199")
	r, err := hc.PostForm(m.URL()+"/console/domains/d/profiles/"+id+"/edit", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("save: %d\n%s", r.StatusCode, body)
	}
	found, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("d"), KeyName: aws.String("_profileId"), Values: []string{id}})
	if err != nil || len(found.Items) != 1 {
		t.Fatal(err)
	}
	p := found.Items[0]
	if aws.ToString(p.PhoneNumber) != "+12065550199" {
		t.Errorf("phone after save: %q", aws.ToString(p.PhoneNumber))
	}
	if !maps.Equal(p.Attributes, attrs) {
		t.Errorf("attributes after a save that changed the phone: %q, want %q", p.Attributes, attrs)
	}
}

// TestWorkspace_SearchPages: a search with more matches than a page shows
// goes on to the next page, and every match is shown once.
func TestWorkspace_SearchPages(t *testing.T) {
	e := newDomainEnv(t, "d")
	m, client, ctx := e.m, e.client, t.Context()
	for range 55 {
		if _, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Jo"), LastName: aws.String("Smith")}); err != nil {
			t.Fatal(err)
		}
	}
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	seen := map[string]bool{}
	next := "/console/domains/d/profiles?q=" + url.QueryEscape("Jo Smith")
	pages := 0
	for next != "" && pages < 5 {
		page := get(t, hc, m.URL()+next)
		pages++
		for _, id := range regexp.MustCompile(`href="/console/domains/d/profiles/([0-9a-f]{32})"`).FindAllStringSubmatch(page, -1) {
			if seen[id[1]] {
				t.Errorf("profile %s shown twice", id[1])
			}
			seen[id[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`id="next-results" href="([^"]+)"`).FindStringSubmatch(page); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 55 || pages != 2 {
		t.Errorf("%d profiles over %d pages, want 55 over 2", len(seen), pages)
	}
}

// TestWorkspace_EditKeepsUnchangedFormats: a profile the API made with a
// birth date as 04/23/1985 (the API takes any string) can be edited: the
// fields the agent leaves alone are not checked against the form's
// formats (they stopped every save until the agent rewrote the birth
// date); a birth date the agent types is still checked.
func TestWorkspace_EditKeepsUnchangedFormats(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	client, ctx := e.client, t.Context()
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("José"),
		LastName: aws.String("Müller-Ødegård"), BirthDate: aws.String("04/23/1985"), BusinessPhoneNumber: aws.String("555-0100")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	b.open("/console/domains/d/profiles/" + id + "/edit")
	b.fill("#PhoneNumber", "+1 206 555 0142")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("save with only the phone changed: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain(".flash", "Profile saved.")
	b.mustContain(`dd[data-field="BirthDate"]`, "04/23/1985")
	b.mustContain(`dd[data-field="PhoneNumber"]`, "+1 206 555 0142")
	b.mustContain(`dd[data-field="BusinessPhoneNumber"]`, "555-0100")

	b.open("/console/domains/d/profiles/" + id + "/edit")
	b.fill("#BirthDate", "04/24/1985")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Errorf("a birth date typed as 04/24/1985: status %d, want 400", r.Status)
	}
	b.mustContain("#BirthDate-error", "YYYY-MM-DD")
	if got := b.value("#BirthDate"); got != "04/24/1985" {
		t.Errorf("the birth date typed was not kept: %q", got)
	}
}

// TestWorkspace_EditLostUpdate: two agents edit one profile. A save
// changes only what its agent changed: the email and attribute another
// agent changed while the form was open stay (the form's stale values
// overwrote them). When both changed the same field, the save stops and
// shows the other's value beside the agent's, which a second save keeps.
func TestWorkspace_EditLostUpdate(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	client, ctx := e.client, t.Context()
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Anna"),
		LastName: aws.String("Lee"), EmailAddress: aws.String("anna@example.com"), Attributes: map[string]string{"tier": "gold", "lang": "fr"}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	other := func(in *customerprofiles.UpdateProfileInput) {
		t.Helper()
		in.DomainName, in.ProfileId = aws.String("d"), aws.String(id)
		if _, err := client.UpdateProfile(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() types.Profile {
		t.Helper()
		found, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("d"), KeyName: aws.String("_profileId"), Values: []string{id}})
		if err != nil || len(found.Items) != 1 {
			t.Fatal(err)
		}
		return found.Items[0]
	}

	b.open("/console/domains/d/profiles/" + id + "/edit")
	other(&customerprofiles.UpdateProfileInput{EmailAddress: aws.String("anna.lee@newmail.com"), Attributes: map[string]string{"tier": "platinum"}})
	b.fill("#FirstName", "Annabel")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("save: status %d\n%s", r.Status, b.text("main"))
	}
	p := stored()
	if aws.ToString(p.FirstName) != "Annabel" || aws.ToString(p.EmailAddress) != "anna.lee@newmail.com" || p.Attributes["tier"] != "platinum" || p.Attributes["lang"] != "fr" {
		t.Errorf("after the save: first name %q, email %q, attributes %v; want Annabel, the other agent's anna.lee@newmail.com and tier=platinum, lang=fr",
			aws.ToString(p.FirstName), aws.ToString(p.EmailAddress), p.Attributes)
	}

	// Both change the last name: the save stops and says so.
	b.open("/console/domains/d/profiles/" + id + "/edit")
	other(&customerprofiles.UpdateProfileInput{LastName: aws.String("Lee-Smith"), PhoneNumber: aws.String("+12065550100")})
	b.fill("#LastName", "Leigh")
	if r := b.click("#save"); r.Status != http.StatusConflict {
		t.Errorf("a save over another agent's change of the same field: status %d, want 409", r.Status)
	}
	b.mustContain("#page-error", "someone else changed it")
	b.mustContain("#LastName-error", "Lee-Smith")
	if got := b.value("#LastName"); got != "Leigh" {
		t.Errorf("the last name typed was not kept: %q", got)
	}
	if got := b.value("#PhoneNumber"); got != "+12065550100" {
		t.Errorf("the phone the other agent set shows as %q", got)
	}
	if got := aws.ToString(stored().LastName); got != "Lee-Smith" {
		t.Errorf("last name after the refused save: %q", got)
	}
	b.shot("workspace-edit-conflict")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("second save: status %d\n%s", r.Status, b.text("main"))
	}
	p = stored()
	if aws.ToString(p.LastName) != "Leigh" || aws.ToString(p.PhoneNumber) != "+12065550100" || aws.ToString(p.EmailAddress) != "anna.lee@newmail.com" {
		t.Errorf("after the second save: last name %q, phone %q, email %q", aws.ToString(p.LastName), aws.ToString(p.PhoneNumber), aws.ToString(p.EmailAddress))
	}
}

// TestWorkspace_LongValues: a profile whose name, email and attribute are
// long words (the API takes 255 characters without a space) fits the
// window: the name wraps, and the attribute's value keeps a readable
// column (its name took the whole width, the page scrolled sideways
// three windows wide and the value showed one character a line).
func TestWorkspace_LongValues(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	client, ctx := e.client, t.Context()
	long := strings.Repeat("x", 200)
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Wolfeschlegel" + long),
		EmailAddress: aws.String(long + "@example.com"), Attributes: map[string]string{"k" + long: "v" + long}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	for _, path := range []string{"/console/domains/d/profiles/" + id, "/console/domains/d/profiles?q=" + long + "%40example.com",
		"/console/domains/d/profiles/" + id + "/edit"} {
		b.open(path)
		ctx, cancel := b.timeout()
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth"))
		cancel()
		if err != nil || wide {
			t.Errorf("%s is wider than the window (%v)", path, err)
		}
	}
	b.open("/console/domains/d/profiles/" + id)
	ctx2, cancel := b.timeout()
	defer cancel()
	w, err := chromedp.Run(ctx2, chromedp.Evaluate[float64](`document.querySelector('dd[data-field="Attributes.k`+long+`"]').getBoundingClientRect().width`))
	if err != nil || w < 150 {
		t.Errorf("the long attribute's value is %v px wide (%v), want a readable column", w, err)
	}
	b.shot("workspace-long-values")
}

// TestWorkspace_SearchErrors: a search that cannot run (no key name for
// "another key", a key the domain does not have, a stale page token)
// shows why, and not "No profile matches. Create one." under it, which
// led agents to create a profile that may exist.
func TestWorkspace_SearchErrors(t *testing.T) {
	_, b := mustWorkspace(t, "d")
	for _, tt := range []struct{ query, why string }{
		{"q=abc&by=key", "Enter the name of the key"},
		{"q=abc&by=key&key=nosuch", `Key "nosuch" is not a search key`},
		{"q=abc&page=stale", "NextToken is invalid"},
	} {
		if st := b.open("/console/domains/d/profiles?" + tt.query); st != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.query, st)
		}
		b.mustContain("#page-error", tt.why)
		if got := b.text("main"); strings.Contains(got, "No profile matches") || strings.Contains(got, "result") {
			t.Errorf("%s: the page says the search ran:\n%s", tt.query, got)
		}
		if got := b.value("#q"); got != "abc" {
			t.Errorf("%s: the query typed was not kept: %q", tt.query, got)
		}
	}
}

// TestWorkspace_ContactHistoryNewest: a profile with more contacts than
// its page shows lists the newest by when they began, the contact of a
// minute ago first, even when older records were ingested after it (a
// backfill): the page showed the 100 last ingested, without today's call.
func TestWorkspace_ContactHistoryNewest(t *testing.T) {
	e, east := newSalesEnv(t)
	now := e.clock.Now()
	records := []string{ctr(east.Arn, "today", "+12065550100", now.Add(-time.Minute))}
	for i := range 100 {
		records = append(records, ctr(east.Arn, fmt.Sprintf("old-%03d", i), "+12065550100", now.Add(-time.Duration(400-i)*24*time.Hour)))
	}
	e.mustPost(east.Id, records...)
	ids := e.profilesOf("sales", "_phone", "+12065550100")
	if len(ids) != 1 {
		t.Fatalf("profiles of the caller: %v", ids)
	}
	b := mustSignedIn(t, e.m, testKeyID, testSecret)
	b.open("/console/domains/sales/profiles/" + ids[0])
	if n := b.count("#contact-history li"); n != 100 {
		t.Errorf("%d contacts shown, want 100", n)
	}
	b.mustContain("#contact-history li:first-child", "today")
	b.mustContain("#contact-history li:nth-child(2)", "old-099")
	b.mustContain("#contacts-range", "Contacts 1 to 100 of 101, newest first")
	if got := b.text("#contact-history"); strings.Contains(got, "old-000") {
		t.Errorf("the oldest contact is shown among the 100 newest")
	}
}

// TestWorkspace_UnnamedProfiles: a profile without a name (as contact
// intake makes them) is shown by its phone number, else its email
// address, else its account number, else its id, in search results, as
// its page's heading and title, above its contact history.
func TestWorkspace_UnnamedProfiles(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctr(east.Arn, "v-1", "+12065550100", at), ctr(east.Arn, "chat-1", "ana.silva@example.com", at.Add(time.Minute)))
	account, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("sales"),
		AccountNumber: aws.String("ACC-1042"), Attributes: map[string]string{"tier": "gold"}})
	if err != nil {
		t.Fatalf("CreateProfile: %v", err)
	}
	bare, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("sales"),
		Attributes: map[string]string{"tier": "silver"}})
	if err != nil {
		t.Fatalf("CreateProfile: %v", err)
	}

	b := mustSignedIn(t, e.m, testKeyID, testSecret)
	title := func() string {
		t.Helper()
		ctx, cancel := b.timeout()
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatalf("title: %v", err)
		}
		return s
	}
	for _, tt := range []struct {
		search, want string
	}{
		{"+12065550100", "+12065550100"},
		{"ana.silva@example.com", "ana.silva@example.com"},
	} {
		b.open("/console/domains/sales/profiles?q=" + url.QueryEscape(tt.search))
		b.mustContain("#results", "1 result")
		if got := b.text(".results a"); got != tt.want {
			t.Errorf("search %s: result named %q, want %q", tt.search, got, tt.want)
		}
		if got := b.text(".results li .muted"); strings.Contains(got, tt.want) {
			t.Errorf("search %s: the result repeats its name after it: %q", tt.search, got)
		}
		b.click(".results a")
		if got := b.text("#profile-name"); got != tt.want {
			t.Errorf("profile of %s: heading %q, want %q", tt.search, got, tt.want)
		}
		if got := title(); !strings.HasPrefix(got, tt.want+" — sales") {
			t.Errorf("profile of %s: title %q, want it to begin with %q", tt.search, got, tt.want+" — sales")
		}
		b.mustContain("#contact-history", "1")
	}
	for _, tt := range []struct{ id, want string }{
		{aws.ToString(account.ProfileId), "ACC-1042"},
		{aws.ToString(bare.ProfileId), "Profile " + aws.ToString(bare.ProfileId)},
	} {
		b.open("/console/domains/sales/profiles/" + tt.id)
		if got := b.text("#profile-name"); got != tt.want {
			t.Errorf("profile %s: heading %q, want %q", tt.id, got, tt.want)
		}
	}
}
