package main_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/chromedp/chromedp"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestConsole_Activation walks the product brief's activation in the
// browser: the instance list, the instance's Customer Profiles page with no
// domain, Enable customer profiles, the domain name, a new dead-letter
// queue with its policy statement, a new KMS key, Submit, and the summary;
// then renaming the domain and changing the instance's domain.
func TestConsole_Activation(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	if !strings.HasSuffix(b.location(), "/console/instances") {
		t.Fatalf("after sign-in: %s, want the instance list", b.location())
	}
	b.mustContain("main", "ExampleCorp", "Not enabled")
	b.shot("instances")

	b.click(`a[href="/console/instances/` + inst.ID + `"]`)
	b.mustContain("main", "Customer Profiles", "No domain is enabled", "Enable customer profiles")
	b.shot("instance-not-enabled")

	// The whole activation works from the keyboard: the first Tab reaches
	// the skip link; links open with Enter; Enter in a field sends its
	// step (the step's primary button comes first in each form).
	b.press("\t")
	if got := b.waitFocused("Skip to content"); !strings.Contains(got, "Skip to content") {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	b.focus("a.button")
	b.pressAndWait("\r")

	// Step 1: the domain's friendly name, checked in place.
	if got := b.waitFocused("#domain_name"); !strings.HasPrefix(got, "#domain_name") {
		t.Errorf("the domain step starts with the focus on %q, want #domain_name", got)
	}
	if got := b.value("#domain_name"); got != "CustomerProfiles-ExampleCorp" {
		t.Errorf("proposed domain name %q, want CustomerProfiles-ExampleCorp", got)
	}
	b.fill("#domain_name", "bad name!")
	b.focus("#domain_name")
	if r := b.pressAndWait("\r"); r.Status != http.StatusBadRequest {
		t.Errorf("a bad domain name: status %d, want 400", r.Status)
	}
	b.mustContain("#domain_name_error", "1 to 64 letters")
	b.fill("#domain_name", "CustomerProfiles-ExampleCorp")
	b.focus("#domain_name")
	b.pressAndWait("\r")

	// Step 2: a new queue, its policy statement filled in and shown.
	b.mustContain("main", "Dead-letter queue", "CustomerProfiles-ExampleCorp")
	if !strings.Contains(b.value("#queue_policy"), `"SQS:SendMessage"`) ||
		!strings.Contains(b.value("#queue_policy"), "arn:aws:sqs:us-east-1:000000000000:CustomerProfiles-ExampleCorp-DLQ") {
		t.Errorf("queue policy statement: %s", b.value("#queue_policy"))
	}
	b.shot("enable-queue")
	b.focus("#queue_name")
	b.pressAndWait("\r")

	// Step 3: a new symmetric key with an alias and a description.
	b.mustContain("main", "Encryption key", "Review")
	if !strings.Contains(b.value("#key_policy"), "profile.amazonaws.com") {
		t.Errorf("key policy statement: %s", b.value("#key_policy"))
	}
	b.fill("#key_alias", "alias/example-corp")
	b.fill("#key_description", "Profiles of ExampleCorp")
	b.shot("enable-key")
	b.focus("#key_description")
	if r := b.pressAndWait("\r"); r.Status != http.StatusOK {
		t.Fatalf("Submit: status %d\n%s", r.Status, b.text("main"))
	}

	// The summary: domain, queue and key.
	b.mustContain(".flash", "Customer Profiles is enabled")
	b.mustContain("#summary-domain", "CustomerProfiles-ExampleCorp")
	b.mustContain("#summary-dlq", "/000000000000/CustomerProfiles-ExampleCorp-DLQ")
	b.mustContain("#summary-key", "arn:aws:kms:us-east-1:000000000000:key/", "alias/example-corp")
	b.shot("instance-summary")

	// The API sees the same: the domain with its queue and key, the
	// instance associated with it.
	client := MustClient(t, m)
	d, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String("CustomerProfiles-ExampleCorp")})
	if err != nil {
		t.Fatalf("GetDomain: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(d.DeadLetterQueueUrl), "/CustomerProfiles-ExampleCorp-DLQ") || !strings.Contains(aws.ToString(d.DefaultEncryptionKey), ":key/") {
		t.Errorf("domain: DLQ %q key %q", aws.ToString(d.DeadLetterQueueUrl), aws.ToString(d.DefaultEncryptionKey))
	}
	views, _ := m.Service.ListInstances(ctx)
	if len(views) != 1 || views[0].DomainName != "CustomerProfiles-ExampleCorp" {
		t.Errorf("instance association: %+v", views)
	}

	// Rename: the display name shows; the domain name stays (it is in ARNs).
	b.fill("#display_name", "Example Corp customers")
	b.click(`form[action$="/rename"] button`)
	b.mustContain(".flash", "now shown as Example Corp customers")
	b.mustContain("#summary-domain", "Example Corp customers", "CustomerProfiles-ExampleCorp")

	// Changing the instance's domain warns that profiles stay, and moves
	// only the association.
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("ExampleCorp-2027"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	b.open("/console/instances/" + inst.ID)
	b.mustContain(".warning", "Profiles are not moved")
	b.click(`form[action$="/domain"] button`)
	b.mustContain(".flash", "now uses domain ExampleCorp-2027", "stayed in CustomerProfiles-ExampleCorp")
	views, _ = m.Service.ListInstances(ctx)
	if views[0].DomainName != "ExampleCorp-2027" {
		t.Errorf("after the change the instance is in %q", views[0].DomainName)
	}
}

// TestConsole_ActivationErrors: an existing key whose policy lacks the
// service's grant is refused in place, with the statement to add, and
// nothing is created; after choosing a good key the domain is created.
func TestConsole_ActivationErrors(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	k := MustKMSClient(t, m)
	bare := mustCreateKey(t, k, keyPolicy("")) // the root only: no grant for the service
	good := mustServiceKey(t, m)
	queue := mustServiceQueue(t, m, "acme-dlq")

	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)
	b.check("#queue_existing")
	// No queue chosen: the list is marked, as a field in error is.
	if r := b.click(`button[value="next"]`); r.Status != http.StatusBadRequest {
		t.Errorf("an existing queue, none chosen: status %d, want 400", r.Status)
	}
	b.mustContain("#queue_url_error", "Choose a queue")
	if n := b.count(`#queue_url[aria-invalid="true"]`); n != 1 {
		t.Errorf("the queue list in error is not marked invalid")
	}
	b.fill("#queue_url", queue)
	b.click(`button[value="next"]`)
	b.check("#key_existing")
	b.fill("#key_arn", bare)
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("a key without the service grant: status %d, want 400", r.Status)
	}
	if n := b.count(`#key_arn[aria-invalid="true"]`); n != 1 {
		t.Errorf("the key list in error is not marked invalid")
	}
	b.mustContain("#key_arn_error", "does not allow profile.amazonaws.com", "kms:GenerateDataKey")
	if b.value("#key_arn") != bare {
		t.Errorf("the chosen key was not kept: %q", b.value("#key_arn"))
	}
	b.shot("enable-key-error")
	if _, _, err := m.Service.GetDomain(ctx, "Acme"); err == nil {
		t.Fatal("the domain was created with a key the service may not use")
	}
	b.fill("#key_arn", good)
	b.click("#submit")
	b.mustContain("#summary-domain", "Acme")
	b.mustContain("#summary-dlq", queue)
	b.mustContain("#summary-key", good)

	// A second instance can use the existing domain instead of a new one.
	other, err := m.Service.CreateInstance(ctx, "Acme-West")
	if err != nil {
		t.Fatal(err)
	}
	b.open("/console/instances/" + other.ID + "/enable")
	b.mustContain("#use-existing", "Or use an existing domain")
	b.click("#use-domain")
	b.mustContain(".flash", "Customer Profiles is enabled: the instance uses domain Acme.")
	b.mustContain("#summary-domain", "Acme")
}

// TestPostgres_ConsoleAcrossNodes: a console session made on one node works
// on another node of the same store (they share the server secret), forms
// included, so a load balancer needs no stickiness.
func TestPostgres_ConsoleAcrossNodes(t *testing.T) {
	dsn := mustPostgresDatabase(t)
	secret, root := make([]byte, 32), make([]byte, 32)
	rand.Read(secret)
	rand.Read(root)
	node := func() main.Config {
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
		c.Store = dsn
		c.ServerSecret = base64.StdEncoding.EncodeToString(secret)
		c.KMSRootKey = base64.StdEncoding.EncodeToString(root)
		return c
	}
	a, b := MustOpenMain(t, node()), MustOpenMain(t, node())
	if _, err := MustClient(t, a).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("shared"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	// Cookies are not scoped by port: the jar sends the session made on a
	// to b, as a browser behind one host name would.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	defer hc.CloseIdleConnections()
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, a.URL()+"/console/signin"))[1]
	r, err := hc.PostForm(a.URL()+"/console/signin", url.Values{"csrf": {token}, "access_key_id": {testKeyID}, "secret_access_key": {testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if page := get(t, hc, b.URL()+"/console/domains/shared/profiles/new"); !strings.Contains(page, "New profile") {
		t.Fatalf("node b did not take node a's session:\n%s", page)
	}
	// The create form sent to node b, then again to node a (its one-time
	// token is in the store): one profile, and both lead to it.
	form := mustCreateForm(t, hc, b.URL(), "shared")
	form.Set("FirstName", "Noor")
	var landed []string
	for _, node := range []*main.Main{b, a} {
		r, err = hc.PostForm(node.URL()+"/console/domains/shared/profiles/new", form)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Request.URL.Path, "/console/domains/shared/profiles/") {
			t.Fatalf("create on %s: %d %s", node.URL(), r.StatusCode, r.Request.URL)
		}
		landed = append(landed, r.Request.URL.Path)
	}
	found, err := MustClient(t, a).SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String("shared"),
		KeyName: aws.String("_fullName"), Values: []string{"Noor"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Items) != 1 {
		t.Fatalf("node a finds %d profiles; want the one made through node b", len(found.Items))
	}
	if want := "/profiles/" + aws.ToString(found.Items[0].ProfileId); !strings.HasSuffix(landed[0], want) || landed[1] != landed[0] {
		t.Errorf("the form led to %v, want its profile (%s) both times", landed, want)
	}

	// The activation wizard's Submit sent to node b, then again to node a
	// (the domain it made records the wizard's token): one domain, and
	// both show that it was created.
	inst, err := a.Service.CreateInstance(t.Context(), "Nodes")
	if err != nil {
		t.Fatal(err)
	}
	page := get(t, hc, b.URL()+"/console/instances/"+inst.ID+"/enable")
	wizard := url.Values{"step": {"key"}, "action": {"submit"}, "domain_name": {"Noded"}, "queue_choice": {"none"}, "key_choice": {"new"},
		"key_alias": {"alias/noded"}, "key_description": {"Profiles of Noded"}}
	for _, name := range []string{"csrf", "run"} {
		v := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindStringSubmatch(page)
		if v == nil {
			t.Fatalf("the wizard has no %s field", name)
		}
		wizard.Set(name, v[1])
	}
	for _, node := range []*main.Main{b, a} {
		r, err = hc.PostForm(node.URL()+"/console/instances/"+inst.ID+"/enable", wizard)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "Customer Profiles is enabled: domain Noded was created.") {
			t.Errorf("Submit on %s: %d %s, want the success page\n%s", node.URL(), r.StatusCode, r.Request.URL, body)
		}
	}
	if d, err := MustClient(t, a).ListDomains(t.Context(), &customerprofiles.ListDomainsInput{}); err != nil || len(d.Items) != 2 {
		t.Errorf("after Submit on both nodes: %v domains, %v; want shared and Noded", d, err)
	}
}

// mustConsoleSession signs in to the console at base with a plain HTTP
// client and returns it (its cookie jar holds the session).
func mustConsoleSession(t testing.TB, base, keyID, secret string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	t.Cleanup(hc.CloseIdleConnections)
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, base+"/console/signin"))[1]
	r, err := hc.PostForm(base+"/console/signin", url.Values{"csrf": {token}, "access_key_id": {keyID}, "secret_access_key": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if strings.HasSuffix(r.Request.URL.Path, "/signin") {
		t.Fatalf("sign-in refused: %d", r.StatusCode)
	}
	return hc
}

// TestConsole_ResourceTags: the console evaluates policies with the
// domain's tags as aws:ResourceTag/… condition keys, as the API does.
func TestConsole_ResourceTags(t *testing.T) {
	m := MustRunMain(t)
	client := MustClient(t, m)
	ctx := t.Context()
	for name, tags := range map[string]map[string]string{"east": {"team": "east"}, "west": {"team": "west"}} {
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(name),
			DefaultExpirationDays: aws.Int32(30), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	id, secret := mustAgent(t, m, "east-agent",
		`{"Effect":"Allow","Action":"profile:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"east"}}}`, agentDecrypt)
	hc := mustConsoleSession(t, m.URL(), id, secret)
	for domain, want := range map[string]int{"east": http.StatusOK, "west": http.StatusForbidden} {
		r, err := hc.Get(m.URL() + "/console/domains/" + domain + "/profiles?q=ana")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("search in %s: %d, want %d", domain, r.StatusCode, want)
		}
	}
}

// TestConsole_Off: --console=false serves no page (an API-only node): the
// paths fall to the API, which refuses unsigned requests.
func TestConsole_Off(t *testing.T) {
	on := MustRunMain(t)
	off := MustRunMain(t, func(c *main.Config) { c.Console = false })
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	for _, tc := range []struct {
		m          *main.Main
		path       string
		wantStatus int
	}{
		{on, "/", http.StatusSeeOther}, {on, "/console/signin", http.StatusOK},
		{off, "/", http.StatusForbidden}, {off, "/console/signin", http.StatusForbidden}, {off, "/console/static/style.css", http.StatusForbidden},
	} {
		r, err := hc.Get(tc.m.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tc.wantStatus {
			t.Errorf("GET %s (console %v): %d, want %d", tc.path, tc.m.Config.Console, r.StatusCode, tc.wantStatus)
		}
	}
}

// TestConsole_SessionEnds: signing out ends the session in the browser, and
// deactivating the access key ends every session made with it.
func TestConsole_SessionEnds(t *testing.T) {
	m := MustRunMain(t)
	id, secret := mustAgent(t, m, "shift", agentProfiles)
	noRedirect := func(hc *http.Client) *http.Client {
		c := *hc
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &c
	}
	status := func(hc *http.Client, path string) (int, string) {
		r, err := noRedirect(hc).Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode, r.Header.Get("Location")
	}

	// Sign out: the cookie is gone, pages lead to the sign-in page again.
	hc := mustConsoleSession(t, m.URL(), id, secret)
	if st, _ := status(hc, "/console/domains"); st != http.StatusOK {
		t.Fatalf("signed in: %d", st)
	}
	page := get(t, hc, m.URL()+"/console/domains")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	r, err := hc.PostForm(m.URL()+"/console/signout", url.Values{"csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if st, loc := status(hc, "/console/domains"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
		t.Errorf("after sign-out: %d %s, want the sign-in page", st, loc)
	}

	// Deactivating the key ends the session at the next request.
	hc = mustConsoleSession(t, m.URL(), id, secret)
	if err := m.Service.UpdateAccessKey(t.Context(), "shift", id, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if st, loc := status(hc, "/console/domains"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/signin") {
		t.Errorf("after deactivating the key: %d %s, want the sign-in page", st, loc)
	}
	// And the key no longer signs in.
	jar, _ := cookiejar.New(nil)
	fresh := &http.Client{Jar: jar}
	defer fresh.CloseIdleConnections()
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, fresh, m.URL()+"/console/signin"))[1]
	r, err = noRedirect(fresh).PostForm(m.URL()+"/console/signin", url.Values{"csrf": {tok}, "access_key_id": {id}, "secret_access_key": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/console/signin?error=wrong" {
		t.Errorf("sign-in with an inactive key: %d to %q, want the sign-in page saying so", r.StatusCode, loc)
	} else if st, _ := status(fresh, loc); st != http.StatusUnauthorized {
		t.Errorf("the refused sign-in's page: %d, want 401", st)
	}
}

// TestConsole_Home: after sign-in an administrator lands on the instances,
// an agent who may not list instances on the domains, and a principal
// allowed neither gets a page saying which permissions are missing.
func TestConsole_Home(t *testing.T) {
	m := MustRunMain(t)
	for _, tc := range []struct {
		user, statement, want string
	}{
		{"admin", `{"Effect":"Allow","Action":["connect:ListInstances","profile:*"],"Resource":"*"}`, "/console/instances"},
		{"agent", `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, "/console/domains"},
		{"nobody", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`, ""},
	} {
		id, secret := mustAgent(t, m, tc.user, tc.statement)
		hc := mustConsoleSession(t, m.URL(), id, secret)
		r, err := hc.Get(m.URL() + "/console/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		switch {
		case tc.want != "" && (r.StatusCode != http.StatusOK || r.Request.URL.Path != tc.want):
			t.Errorf("%s lands on %s (%d), want %s", tc.user, r.Request.URL.Path, r.StatusCode, tc.want)
		case tc.want == "" && (r.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "profile:ListDomains")):
			t.Errorf("%s: %d, want 403 naming the missing permissions", tc.user, r.StatusCode)
		}
	}
}

// TestConsole_RenameTagActions: renaming a domain in the console is
// authorised as the tag calls it makes, with their condition keys:
// clearing the name is profile:UntagResource, and a policy on the tag's
// value holds.
func TestConsole_RenameTagActions(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	if _, err := MustClient(t, m).CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("named"), DefaultExpirationDays: aws.Int32(30),
		Tags: map[string]string{"openprofiles:DisplayName": "Named"}}); err != nil {
		t.Fatal(err)
	}
	id, secret := mustAgent(t, m, "renamer", `{"Effect":"Allow","Action":["profile:*","connect:ListInstances","kms:Decrypt"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"profile:UntagResource","Resource":"*"}`,
		`{"Effect":"Deny","Action":"profile:TagResource","Resource":"*","Condition":{"StringLike":{"aws:RequestTag/openprofiles:DisplayName":"*secret*"}}}`)
	b := mustBrowser(t, m)
	b.signIn(id, secret)
	used := func() bool { k, err := m.Service.GetAccessKey(ctx, id); return err == nil && !k.LastUsedAt.IsZero() }
	for deadline := time.Now().Add(30 * time.Second); !used() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the use is written beside the sign-in
	}
	if !used() {
		t.Errorf("the key after a console sign-in: not used; want it used (GetAccessKeyLastUsed)")
	}
	for _, name := range []string{"", "Top secret domain"} {
		b.open("/console/domains/named")
		b.fill("#display_name", name)
		b.click(`form[action$="/rename"] button`)
		b.mustContain("#page-error", "not authorized")
	}
	b.open("/console/domains/named")
	b.fill("#display_name", "Renamed")
	b.click(`form[action$="/rename"] button`)
	b.mustContain(".flash", "now shown as Renamed")
}

// TestConsole_ActivationRechecks: activation checks every step again (the
// wizard's state comes from the form): a queue the user may not send to,
// slipped into the key step's hidden fields, is refused, and no domain is
// made.
func TestConsole_ActivationRechecks(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	victim := mustServiceQueue(t, m, "victim-dlq")
	good := mustServiceKey(t, m)
	id, secret := mustAgent(t, m, "activator", `{"Effect":"Allow","Action":["profile:*","connect:*","kms:*","sqs:*"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:victim-dlq"}`)
	b := mustBrowser(t, m)
	b.signIn(id, secret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme")
	b.click(`button[value="next"]`)
	b.check("#queue_none")
	b.click(`button[value="next"]`)
	b.check("#key_existing")
	b.fill("#key_arn", good)
	b.forge(`input[type="hidden"][name="queue_choice"]`, "existing")
	b.forge(`input[type="hidden"][name="queue_url"]`, victim)
	if r := b.click("#submit"); r.Status != http.StatusBadRequest {
		t.Errorf("activation with a forged queue: status %d, want 400", r.Status)
	}
	b.mustContain("#queue_url_error", "sqs:SendMessage")
	if _, _, err := m.Service.GetDomain(ctx, "Acme"); err == nil {
		t.Fatal("the domain was created with a queue its creator may not send to")
	}
}

// TestConsole_ActivationByAnAdmin: an administrator who is not the root
// enables Customer Profiles with a new key and its alias (kms:CreateAlias
// on the alias, whose key does not exist yet: no key policy to ask); one
// who may not associate the instance (profile:PutIntegration) is refused
// before anything is made.
func TestConsole_ActivationByAnAdmin(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	for _, tt := range []struct {
		name, instance string
		deny           string
		wantDomain     bool
	}{
		{name: "admin", instance: "Acme", wantDomain: true},
		{name: "halfadmin", instance: "Beta", deny: `{"Effect":"Deny","Action":"profile:PutIntegration","Resource":"*"}`},
	} {
		inst, err := m.Service.CreateInstance(ctx, tt.instance)
		if err != nil {
			t.Fatal(err)
		}
		statements := []string{`{"Effect":"Allow","Action":["profile:*","connect:*","kms:*","sqs:*"],"Resource":"*"}`}
		if tt.deny != "" {
			statements = append(statements, tt.deny)
		}
		id, secret := mustAgent(t, m, tt.name, statements...)
		b := mustBrowser(t, m)
		b.signIn(id, secret)
		b.open("/console/instances/" + inst.ID + "/enable")
		b.fill("#domain_name", tt.instance)
		b.click(`button[value="next"]`)
		b.check("#queue_none")
		b.click(`button[value="next"]`)
		b.check("#key_new")
		r := b.click("#submit")
		_, _, err = m.Service.GetDomain(ctx, tt.instance)
		if tt.wantDomain && (r.Status != http.StatusOK || err != nil) {
			t.Errorf("%s: activation with a new key: status %d, domain %v; want it enabled", tt.name, r.Status, err)
		}
		if !tt.wantDomain && (r.Status != http.StatusForbidden || err == nil) {
			t.Errorf("%s: activation without profile:PutIntegration: status %d, domain made: %v; want 403 and no domain", tt.name, r.Status, err == nil)
		}
	}
}

// TestConsole_ForgedConfirmation: the confirmation banner shows only what
// the console itself said (signed), not words a link puts in ?done=.
func TestConsole_ForgedConfirmation(t *testing.T) {
	m := MustRunMain(t)
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	const forged = "Your session has expired: call IT on +1 555 0100"
	page := get(t, hc, m.URL()+"/console/domains?done="+url.QueryEscape(forged))
	if strings.Contains(page, "call IT") {
		t.Errorf("a forged confirmation is shown")
	}
	page = get(t, hc, m.URL()+"/console/domains?done="+url.QueryEscape(forged)+"&ds=AAAAAAAAAAAAAAAAAAAAAA")
	if strings.Contains(page, "call IT") {
		t.Errorf("a forged confirmation with a made-up signature is shown")
	}
}

// TestConsole_ActivationNamesFollowTheDomain: the new queue's name and
// the new key's alias and description proposed from the domain name
// follow the name the administrator types (they were made for the
// proposed CustomerProfiles-{alias} and kept it: domain Acme-Corp got
// queue CustomerProfiles-ExampleCorp-DLQ); a name the administrator
// changed stays as typed when the domain name changes again.
func TestConsole_ActivationNamesFollowTheDomain(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	inst, err := m.Service.CreateInstance(ctx, "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme-Corp")
	b.click(`button[value="next"]`)
	if got := b.value("#queue_name"); got != "Acme-Corp-DLQ" {
		t.Errorf("proposed queue name for domain Acme-Corp: %q, want Acme-Corp-DLQ", got)
	}
	if got := b.value("#queue_policy"); !strings.Contains(got, ":Acme-Corp-DLQ") {
		t.Errorf("queue policy statement for domain Acme-Corp: %s", got)
	}
	b.click(`button[value="next"]`)
	if got := b.value("#key_alias"); got != "alias/Acme-Corp" {
		t.Errorf("proposed key alias for domain Acme-Corp: %q, want alias/Acme-Corp", got)
	}
	if got := b.value("#key_description"); got != "Encrypts the profiles of Acme-Corp" {
		t.Errorf("proposed key description for domain Acme-Corp: %q", got)
	}
	// A queue name of one's own stays; the proposed alias follows.
	b.click(`button[value="back"]`)
	b.fill("#queue_name", "acme-failures")
	b.click(`button[value="back"]`)
	b.fill("#domain_name", "Acme-West")
	b.click(`button[value="next"]`)
	if got := b.value("#queue_name"); got != "acme-failures" {
		t.Errorf("queue name typed before the domain name changed: %q, want acme-failures", got)
	}
	b.click(`button[value="next"]`)
	if got := b.value("#key_alias"); got != "alias/Acme-West" {
		t.Errorf("proposed key alias after the domain name changed: %q, want alias/Acme-West", got)
	}
	if r := b.click("#submit"); r.Status != http.StatusOK {
		t.Fatalf("Submit: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain("#summary-domain", "Acme-West")
	b.mustContain("#summary-dlq", "/000000000000/acme-failures")
	b.mustContain("#summary-key", "alias/Acme-West")
}

// TestConsole_ActivationBackButton: the browser's Back goes through the
// activation's steps with what was typed (each step was the answer to a
// post: Back asked to send the form again, or failed with
// ERR_CACHE_MISS), and a step reloads as it was.
func TestConsole_ActivationBackButton(t *testing.T) {
	m := MustRunMain(t)
	inst, err := m.Service.CreateInstance(t.Context(), "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/instances/" + inst.ID + "/enable")
	b.fill("#domain_name", "Acme-Corp")
	b.click(`button[value="next"]`)
	b.fill("#queue_name", "acme-failures")
	b.click(`button[value="next"]`)
	b.mustContain("main", "Encryption key", "acme-failures")

	// back goes one page back in the history as the Back button does, and
	// waits for the page it shows.
	back := func() {
		t.Helper()
		from := b.location()
		ctx, cancel := b.timeout()
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any]("history.back()")); err != nil {
			t.Fatalf("Back on %s: %v", from, err)
		}
		for ctx.Err() == nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.readyState"))
			if loc != from && state == "complete" {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("Back on %s: still there", from)
	}
	ctx, cancel := b.timeout()
	_, err = chromedp.Run(ctx, chromedp.Reload())
	cancel()
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	b.mustContain("main", "Encryption key", "acme-failures")
	// chromedp's queries lose the page after a move in the history: the
	// pages are read by script.
	js := func(expr string) string {
		t.Helper()
		ctx, cancel := b.timeout()
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s on %s: %v", expr, b.location(), err)
		}
		return s
	}
	back()
	if got := js(`document.querySelector("h2").textContent + " " + document.querySelector("#queue_name").value`); got != "Dead-letter queue acme-failures" {
		t.Errorf("after Back: %q, want the queue step with acme-failures", got)
	}
	back()
	if got := js(`document.querySelector("h2").textContent`); got != "Create domain" {
		t.Errorf("after Back twice: %q, want the domain step", got)
	}
	b.open(strings.TrimPrefix(b.location(), m.URL()))
	b.fill("#domain_name", "Acme-Corp")
	// On from there, and Submit.
	b.click(`button[value="next"]`)
	b.click(`button[value="next"]`)
	if r := b.click("#submit"); r.Status != http.StatusOK {
		t.Fatalf("Submit: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain("#summary-domain", "Acme-Corp")
}

// TestConsole_ActivationForgedLink: a step's page takes the wizard's state
// from its address only when the console made that address for the
// caller (a Next or Back): a link made elsewhere cannot open the last step
// with a dead-letter queue (which gets failed objects in the clear) or a
// key of its own already chosen, one Submit away. Before, any link did.
func TestConsole_ActivationForgedLink(t *testing.T) {
	m := MustRunMain(t)
	inst, err := m.Service.CreateInstance(t.Context(), "ExampleCorp")
	if err != nil {
		t.Fatal(err)
	}
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	enable := m.URL() + "/console/instances/" + inst.ID + "/enable"
	const evil = "https://sqs.us-east-1.amazonaws.com/666666666666/evil"
	forged := url.Values{"step": {"key"}, "domain_name": {"Acme"}, "named_for": {"Acme"},
		"queue_choice": {"existing"}, "queue_url": {evil}, "key_choice": {"existing"},
		"key_arn": {"arn:aws:kms:us-east-1:666666666666:key/evil"}}
	for _, q := range []string{forged.Encode(), forged.Encode() + "&ws=AAAAAAAAAAAAAAAAAAAAAA"} {
		page := get(t, hc, enable+"?"+q)
		if strings.Contains(page, "666666666666") || !strings.Contains(page, `id="domain_name"`) {
			t.Errorf("a forged link to the last step opens it with its state: %s", q)
		}
	}
	// The console's own Next leads to the next step, state and all.
	page := get(t, hc, enable)
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	r, err := hc.PostForm(enable, url.Values{"csrf": {token}, "step": {"domain"}, "action": {"next"}, "domain_name": {"Acme-Corp"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || r.Request.Method != http.MethodGet || !strings.Contains(string(body), `id="queue_name" name="queue_name" value="Acme-Corp-DLQ"`) {
		t.Errorf("Next of the domain step: %d %s, want the queue step of Acme-Corp", r.StatusCode, r.Request.URL)
	}
}

// TestConsole_ActivationKeyByAlias: the wizard authorises
// kms:GenerateDataKey on the key the domain's data will be sealed under,
// as the API's CreateDomain does: a key named by alias or id counts as the
// ARN it names, so that a Deny on that ARN holds however it is named.
func TestConsole_ActivationKeyByAlias(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	k := MustKMSClient(t, m)
	key := mustServiceKey(t, m)
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/guarded"), TargetKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	id, secret := mustAgent(t, m, "activator", `{"Effect":"Allow","Action":["profile:*","connect:*","kms:*"],"Resource":"*"}`,
		`{"Effect":"Deny","Action":"kms:GenerateDataKey","Resource":"`+key+`"}`)
	hc := mustConsoleSession(t, m.URL(), id, secret)
	for i, name := range []string{"alias/guarded", key[strings.LastIndex(key, "/")+1:]} {
		inst, err := m.Service.CreateInstance(ctx, fmt.Sprintf("Inst%d", i))
		if err != nil {
			t.Fatal(err)
		}
		page := m.URL() + "/console/instances/" + inst.ID + "/enable"
		token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, hc, page))[1]
		domain := fmt.Sprintf("Guarded%d", i)
		r, err := hc.PostForm(page, url.Values{"csrf": {token}, "step": {"key"}, "action": {"next"}, "domain_name": {domain},
			"queue_choice": {"none"}, "key_choice": {"existing"}, "key_arn": {name}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if d, _, err := m.Service.GetDomain(ctx, domain); err == nil {
			t.Errorf("key %s: domain made with key %s, which its creator may not kms:GenerateDataKey under (status %d)", name, d.DefaultEncryptionKey, r.StatusCode)
		}
	}
}
