package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openprofiles/profiles"
	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// TestWorkspace_ContactHistoryPages: a profile with hundreds of contacts
// pages through all of them, 100 a page, newest first (the page showed
// the 100 newest and no way to the others). A record that does not say
// how long the contact waited in its queue shows no wait ("waited 0s").
func TestWorkspace_ContactHistoryPages(t *testing.T) {
	e, east := newSalesEnv(t)
	now := e.clock.Now()
	var records []string
	for i := range 250 {
		records = append(records, ctr(east.Arn, fmt.Sprintf("c-%03d", i), "+12065550100", now.Add(-time.Duration(i)*time.Hour)))
	}
	// The newest says how long it waited in the queue.
	var waited map[string]any
	if err := json.Unmarshal([]byte(ctr(east.Arn, "waited", "+12065550100", now.Add(time.Minute))), &waited); err != nil {
		t.Fatal(err)
	}
	waited["Queue"].(map[string]any)["Duration"] = 65
	b, _ := json.Marshal(waited)
	e.mustPost(east.Id, append(records, string(b))...)
	ids := e.profilesOf("sales", "_phone", "+12065550100")
	if len(ids) != 1 {
		t.Fatalf("profiles of the caller: %v", ids)
	}
	br := mustSignedIn(t, e.m, testKeyID, testSecret)
	br.open("/console/domains/sales/profiles/" + ids[0])
	br.mustContain("#contacts-range", "Contacts 1 to 100 of 251")
	if n := br.count("#contact-history li"); n != 100 {
		t.Errorf("first page: %d contacts, want 100", n)
	}
	br.mustContain("#contact-history li:first-child", "waited", "waited 1m 05s", "Billing")
	if got := br.text("#contact-history li:nth-child(2)"); !strings.Contains(got, "c-000") || strings.Contains(got, "waited") {
		t.Errorf("second contact (c-000, no queue duration in its record): %q", got)
	}
	if br.count("#newer-contacts") != 0 {
		t.Error("the first page links to newer contacts")
	}
	br.shot("workspace-contact-pages")

	seen := map[string]bool{}
	collect := func() {
		t.Helper()
		for _, line := range strings.Split(br.text("#contact-history"), "\n") {
			if id, ok := strings.CutPrefix(strings.TrimSpace(line), "Contact "); ok {
				id, _, _ = strings.Cut(id, " ")
				if seen[id] {
					t.Errorf("contact %s shown on two pages", id)
				}
				seen[id] = true
			}
		}
	}
	collect()
	br.click("#older-contacts")
	br.mustContain("#contacts-range", "Contacts 101 to 200 of 251")
	br.mustContain("#contact-history li:first-child", "c-099")
	collect()
	br.click("#older-contacts")
	br.mustContain("#contacts-range", "Contacts 201 to 251 of 251")
	if n := br.count("#contact-history li"); n != 51 {
		t.Errorf("last page: %d contacts, want 51", n)
	}
	br.mustContain("#contact-history li:last-child", "c-249")
	if br.count("#older-contacts") != 0 {
		t.Error("the last page links to older contacts")
	}
	collect()
	if len(seen) != 251 {
		t.Errorf("%d contacts over the pages, want 251", len(seen))
	}
	br.click("#newer-contacts")
	br.mustContain("#contacts-range", "Contacts 101 to 200 of 251")
	// A position past the end (a stale link) shows the last page.
	br.open("/console/domains/sales/profiles/" + ids[0] + "?contacts=9000")
	br.mustContain("#contacts-range", "Contacts 201 to 251 of 251")
}

// TestWorkspace_MergedProfileLink: the page of a profile merged into
// another (a bookmark, a link in a ticket) opens the profile it was
// merged into, saying so, with the contacts of both (it said "not
// found"); a profile that never existed is still not found.
func TestWorkspace_MergedProfileLink(t *testing.T) {
	e, east := newSalesEnv(t)
	at := e.clock.Now().Add(-time.Hour)
	e.mustPost(east.Id, ctr(east.Arn, "v-main", "+12065550100", at), ctr(east.Arn, "v-other", "+12065550177", at.Add(time.Minute)))
	main, other := e.profilesOf("sales", "_phone", "+12065550100"), e.profilesOf("sales", "_phone", "+12065550177")
	if len(main) != 1 || len(other) != 1 {
		t.Fatalf("profiles: %v, %v", main, other)
	}
	if _, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String("sales"),
		MainProfileId: aws.String(main[0]), ProfileIdsToBeMerged: other}); err != nil {
		t.Fatal(err)
	}
	b := mustSignedIn(t, e.m, testKeyID, testSecret)
	if st := b.open("/console/domains/sales/profiles/" + other[0]); st != http.StatusOK {
		t.Fatalf("page of the merged profile: status %d\n%s", st, b.text("main"))
	}
	if got := b.text("#profile-id"); got != main[0] {
		t.Errorf("the merged profile's page shows profile %s, want %s", got, main[0])
	}
	b.mustContain(".flash", "Profile "+other[0]+" was merged into this one")
	b.mustContain("#contact-history", "v-main", "v-other")
	if st := b.open("/console/domains/sales/profiles/01a2226ede88000000fd38a4d5e295a7"); st != http.StatusNotFound {
		t.Errorf("page of a profile that never was: status %d, want 404", st)
	}
}

// TestWorkspace_SearchPhoneAsTyped: the search box finds a caller by a
// phone number as agents type or paste it, with an extension (ext. 12,
// x12, #12) or a tel: prefix, which the service's phone key ignores: the
// page took those for a name and found no one. Create one, after a search
// of a pasted tel: or mailto: link, fills in the field without the scheme.
func TestWorkspace_SearchPhoneAsTyped(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	out, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("d"),
		FirstName: aws.String("Ana"), PhoneNumber: aws.String("+1 206 555 0100")})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"+1 (206) 555-0100 ext. 12", "206-555-0100 x12", "(206) 555-0100 #12", "tel:+12065550100", "206.555.0100 Extension 7"} {
		b.open("/console/domains/d/profiles")
		b.fill("#q", q)
		b.click(`form.search button`)
		b.mustContain("#results", "1 result", "found by _phone")
		if got := b.text(".results a"); got != "Ana" {
			t.Errorf("search %q: found %q, want Ana (%s)", q, got, aws.ToString(out.ProfileId))
		}
	}
	// A pasted link that finds no one: Create one fills in the number or
	// address without the link's scheme (the field kept "tel:").
	for q, want := range map[string][2]string{"tel:+12065550199": {"#PhoneNumber", "+12065550199"},
		"MAILTO:rui@example.com": {"#EmailAddress", "rui@example.com"}} {
		b.open("/console/domains/d/profiles")
		b.fill("#q", q)
		b.click(`form.search button`)
		b.mustContain("#no-match", "No profile matches")
		b.click(`#no-match a`)
		if got := b.value(want[0]); got != want[1] {
			t.Errorf("Create one after a search of %q: %s is %q, want %q", q, want[0], got, want[1])
		}
	}
}

// TestWorkspace_OffersOnlyWhatIsAllowed: an agent who may read profiles
// but not create or edit them is offered neither (the page showed Edit
// and Create buttons that led to a 403 page); an agent who may is
// offered both.
func TestWorkspace_OffersOnlyWhatIsAllowed(t *testing.T) {
	e := newDomainEnv(t, "d")
	out, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("d"),
		FirstName: aws.String("Ana"), PhoneNumber: aws.String("+12065550100")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	for _, tt := range []struct {
		name   string
		policy string
		may    bool
	}{
		{"reader", `{"Effect":"Allow","Action":["profile:SearchProfiles","profile:ListProfileObjects","profile:ListDomains"],"Resource":"*"}`, false},
		{"writer", agentProfiles, true},
	} {
		key, secret := mustAgent(t, e.m, tt.name, tt.policy, agentDecrypt)
		b := mustSignedIn(t, e.m, key, secret)
		b.open("/console/domains/d/profiles/" + id)
		b.mustContain("#profile-name", "Ana")
		if got := b.count("#edit") == 1; got != tt.may {
			t.Errorf("%s: Edit offered %v, want %v", tt.name, got, tt.may)
		}
		b.open("/console/domains/d/profiles?q=nobody")
		b.mustContain("#no-match", "No profile matches")
		if got := b.count("#create") == 1; got != tt.may {
			t.Errorf("%s: Create a profile offered %v, want %v", tt.name, got, tt.may)
		}
		if got := b.count(`#no-match a[href*="/profiles/new"]`) == 1; got != tt.may {
			t.Errorf("%s: Create one offered %v, want %v", tt.name, got, tt.may)
		}
	}
}

// TestWorkspace_SearchKeyDisabled: a search in a domain whose KMS key is
// disabled says so, naming the key, with the status of a refusal (403,
// as the API's AccessDeniedException; it was 400, bad input), and keeps
// what was typed; the profile page says the same, and so does Create
// (it answered 400).
func TestWorkspace_SearchKeyDisabled(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.KMSKeyCheckInterval = 0 })
	client, k, ctx := MustClient(t, m), MustKMSClient(t, m), t.Context()
	key := mustCreateKey(t, k, keyPolicy("arn:aws:profile:us-east-1:000000000000:domains/*", serviceActions...))
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("d"), DefaultExpirationDays: aws.Int32(30),
		DefaultEncryptionKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ana"),
		PhoneNumber: aws.String("+12065550100")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	b := mustSignedIn(t, m, testKeyID, testSecret)
	b.open("/console/domains/d/profiles")
	b.fill("#q", "(206) 555-0100")
	if r := b.click(`form.search button`); r.Status != http.StatusForbidden {
		t.Errorf("a search with the domain's key disabled: status %d, want 403", r.Status)
	}
	b.mustContain("#page-error", key, "Disabled")
	if got := b.value("#q"); got != "(206) 555-0100" {
		t.Errorf("the search typed was not kept: %q", got)
	}
	if b.count("#results") != 0 {
		t.Error("the page shows results of a search that did not run")
	}
	if st := b.open("/console/domains/d/profiles/" + aws.ToString(out.ProfileId)); st != http.StatusForbidden {
		t.Errorf("the profile page with the key disabled: status %d, want 403", st)
	}
	b.mustContain("#page-error", key, "Disabled")
	// Create refused by the key is a refusal too (it was 400), with what
	// was typed kept.
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Rui")
	if r := b.click("#save"); r.Status != http.StatusForbidden {
		t.Errorf("a create with the domain's key disabled: status %d, want 403", r.Status)
	}
	b.mustContain("#page-error", key, "Disabled")
	if got := b.value("#FirstName"); got != "Rui" {
		t.Errorf("the create form lost what was typed: %q", got)
	}
}

// TestWorkspace_ContactHistoryAll: the contact history pages through
// every contact a profile can hold (1000 objects), the oldest on its
// last page.
func TestWorkspace_ContactHistoryAll(t *testing.T) {
	e, east := newSalesEnv(t)
	now := e.clock.Now()
	var records []string
	for i := range profiles.MaxObjectsPerProfile {
		records = append(records, ctr(east.Arn, fmt.Sprintf("c-%04d", i), "+12065550100", now.Add(-time.Duration(i)*time.Minute)))
	}
	e.mustPost(east.Id, records...)
	ids := e.profilesOf("sales", "_phone", "+12065550100")
	if len(ids) != 1 {
		t.Fatalf("profiles of the caller: %v", ids)
	}
	b := mustSignedIn(t, e.m, testKeyID, testSecret)
	b.open("/console/domains/sales/profiles/" + ids[0] + "?contacts=900")
	b.mustContain("#contacts-range", "Contacts 901 to 1000 of 1000")
	b.mustContain("#contact-history li:last-child", "c-0999")
	if b.count("#older-contacts") != 0 {
		t.Error("the last page links to older contacts")
	}
}
