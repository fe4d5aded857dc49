package main_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// TestWorkspace_CreateWarnsOfExisting: creating a profile with the phone
// number (in another format) or email address (in another case) of a
// profile that exists stops with that profile listed, to open it; the
// agent creates the new one only by ticking "Create a new profile
// anyway". A form sent again after it created its profile still goes to
// that profile.
func TestWorkspace_CreateWarnsOfExisting(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	m, client, ctx := e.m, e.client, t.Context()
	ana, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ana"),
		LastName: aws.String("Silva"), MobilePhoneNumber: aws.String("+1 206 555 0100")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Bo"),
		PersonalEmailAddress: aws.String("bo@example.com")}); err != nil {
		t.Fatal(err)
	}

	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Ana")
	b.fill("#LastName", "Souza")
	b.fill("#PhoneNumber", "(206) 555-0100")
	b.fill("#EmailAddress", "BO@Example.com")
	if r := b.click("#save"); r.Status != http.StatusConflict {
		t.Errorf("a new profile with an existing phone and email: status %d, want 409", r.Status)
	}
	b.mustContain("#page-error", "exists already")
	b.mustContain("#existing", "Ana Silva", "same phone number (206) 555-0100", "Bo", "same email address BO@Example.com")
	if got := b.value("#LastName"); got != "Souza" {
		t.Errorf("the form lost what was typed: last name %q", got)
	}
	if ids := mustProfilesNamed(t, m, "d", "Ana Souza"); len(ids) != 0 {
		t.Errorf("the refused form made profiles %v", ids)
	}
	b.shot("workspace-create-existing")
	b.click(`#existing a[href$="/` + aws.ToString(ana.ProfileId) + `"]`)
	if got := b.text("#profile-id"); got != aws.ToString(ana.ProfileId) {
		t.Errorf("the link of the existing profile opened %s", got)
	}

	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Ana")
	b.fill("#LastName", "Souza")
	b.fill("#PhoneNumber", "(206) 555-0100")
	b.click("#save")
	b.check("#duplicates_ok")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("create anyway: status %d\n%s", r.Status, b.text("main"))
	}
	b.mustContain(".flash", "Profile created")
	if ids := mustProfilesNamed(t, m, "d", "Ana Souza"); len(ids) != 1 || ids[0] != b.text("#profile-id") {
		t.Errorf("create anyway made %v, shows %s", ids, b.text("#profile-id"))
	}

	// The form sent twice: the repeat finds the profile the first made,
	// and goes to it.
	hc := mustConsoleSession(t, m.URL(), testKeyID, testSecret)
	form := mustCreateForm(t, hc, m.URL(), "d")
	form.Set("FirstName", "Rui")
	form.Set("EmailAddress", "rui@example.com")
	var landed []string
	for range 2 {
		r, err := hc.PostForm(m.URL()+"/console/domains/d/profiles/new", form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "Profile created") {
			t.Fatalf("post: %d\n%s", r.StatusCode, body)
		}
		landed = append(landed, r.Request.URL.Path)
	}
	if ids := mustProfilesNamed(t, m, "d", "Rui"); len(ids) != 1 || landed[0] != landed[1] || !strings.HasSuffix(landed[0], "/profiles/"+ids[0]) {
		t.Errorf("a repeated POST made profiles %v, and led to %v", ids, landed)
	}
}
