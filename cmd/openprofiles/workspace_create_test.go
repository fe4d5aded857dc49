package main_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
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

// TestWorkspace_EditClears: clearing inputs of the edit form deletes those
// fields (as UpdateProfile's "" does), and what the form does not show
// (party type, gender, other address kinds, attributes) stays as it was.
func TestWorkspace_EditClears(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	client, ctx := e.client, t.Context()
	out, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ana"),
		LastName: aws.String("Silva"), EmailAddress: aws.String("ana@example.com"), PartyTypeString: aws.String("individual"),
		GenderString: aws.String("female"), Address: &types.Address{City: aws.String("Lisbon"), Country: aws.String("PT")},
		ShippingAddress: &types.Address{City: aws.String("Porto")}, Attributes: map[string]string{"tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ProfileId)
	b.open("/console/domains/d/profiles/" + id + "/edit")
	b.fill("#LastName", "")
	b.fill("#EmailAddress", "")
	b.fill("#Address\\.City", "")
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("save: status %d\n%s", r.Status, b.text("main"))
	}
	found, err := client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("d"), KeyName: aws.String("_profileId"), Values: []string{id}})
	if err != nil || len(found.Items) != 1 {
		t.Fatal(err)
	}
	p := found.Items[0]
	if p.LastName != nil || p.EmailAddress != nil || p.Address == nil || p.Address.City != nil {
		t.Errorf("cleared fields: last name %v, email %v, address %+v; want none, and the address without its city", p.LastName, p.EmailAddress, p.Address)
	}
	if aws.ToString(p.Address.Country) != "PT" || aws.ToString(p.FirstName) != "Ana" || aws.ToString(p.PartyTypeString) != "individual" ||
		aws.ToString(p.GenderString) != "female" || p.ShippingAddress == nil || aws.ToString(p.ShippingAddress.City) != "Porto" || p.Attributes["tier"] != "gold" {
		t.Errorf("fields the agent left alone changed: %+v", p)
	}
	// The email is no longer a key of the profile.
	if n := len(mustProfilesOf(t, client, "d", "_email", "ana@example.com")); n != 0 {
		t.Errorf("the cleared email still finds %d profiles", n)
	}
}

// TestWorkspace_BirthDateInTheFuture: a birth date after today (a slip of
// the year) is refused beside the field, in Create and in Edit; a past
// one is taken.
func TestWorkspace_BirthDateInTheFuture(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Ana")
	b.fill("#BirthDate", "2985-04-23")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Errorf("a birth date in the future: status %d, want 400", r.Status)
	}
	b.mustContain("#BirthDate-error", "in the future")
	if ids := mustProfilesNamed(t, e.m, "d", "Ana"); len(ids) != 0 {
		t.Errorf("the refused form made profiles %v", ids)
	}
	b.fill("#BirthDate", "1985-04-23")
	b.click("#save")
	b.mustContain(`dd[data-field="BirthDate"]`, "1985-04-23")
	b.click("#edit")
	b.fill("#BirthDate", "2985-04-23")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Errorf("an edit to a birth date in the future: status %d, want 400", r.Status)
	}
	b.mustContain("#BirthDate-error", "in the future")
}

// TestWorkspace_EditShowsWhatItKeeps: the edit form says which addresses
// it keeps as they are (shipping, mailing, billing: it edits the home
// address only; they showed nowhere on it) and which attributes, also on
// the page of a refused save (the attributes' note was gone from it).
func TestWorkspace_EditShowsWhatItKeeps(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	out, err := e.client.CreateProfile(t.Context(), &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ana"),
		ShippingAddress: &types.Address{Address1: aws.String("1 Rua Nova"), City: aws.String("Porto")},
		BillingAddress:  &types.Address{Country: aws.String("PT")}, Attributes: map[string]string{"a=b": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	b.open("/console/domains/d/profiles/" + aws.ToString(out.ProfileId) + "/edit")
	b.mustContain("#kept-addresses", "Shipping address: 1 Rua Nova, Porto", "Billing address: PT")
	b.mustContain("#kept-attributes", "a=b")
	b.fill("#EmailAddress", "not-an-email")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Errorf("a bad email: status %d, want 400", r.Status)
	}
	b.mustContain("#EmailAddress-error", "name@example.com")
	b.mustContain("#kept-addresses", "Shipping address: 1 Rua Nova, Porto")
	b.mustContain("#kept-attributes", "a=b")
}

func mustProfilesOf(t *testing.T, client *customerprofiles.Client, domain, key, value string) []types.Profile {
	t.Helper()
	out, err := client.SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain), KeyName: aws.String(key), Values: []string{value}})
	if err != nil {
		t.Fatalf("SearchProfiles %s=%s: %v", key, value, err)
	}
	return out.Items
}

// TestWorkspace_EditMergedMeanwhile: a profile merged into another while
// an agent edits it: Save keeps what the agent typed and shows it on the
// other profile's edit form, saying why and saving nothing (it showed
// "not found" and lost the agent's changes); a second Save writes them
// there. The edit page of a merged profile (a bookmark) opens the other's.
func TestWorkspace_EditMergedMeanwhile(t *testing.T) {
	e, b := mustWorkspace(t, "d")
	client, ctx := e.client, t.Context()
	x, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ann"),
		LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	y, err := client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String("d"), FirstName: aws.String("Ann"),
		LastName: aws.String("Lee"), PhoneNumber: aws.String("+12065550100")})
	if err != nil {
		t.Fatal(err)
	}
	xid, yid := aws.ToString(x.ProfileId), aws.ToString(y.ProfileId)
	b.open("/console/domains/d/profiles/" + xid + "/edit")
	if _, err := client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: aws.String("d"), MainProfileId: aws.String(yid),
		ProfileIdsToBeMerged: []string{xid}}); err != nil {
		t.Fatal(err)
	}
	b.fill("#LastName", "Leigh")
	if r := b.click("#save"); r.Status != http.StatusConflict {
		t.Errorf("a save of a profile merged meanwhile: status %d, want 409\n%s", r.Status, b.text("main"))
	}
	if loc := b.location(); !strings.Contains(loc, "/profiles/"+yid+"/edit") {
		t.Errorf("after the save: at %s, want the edit form of %s", loc, yid)
	}
	b.mustContain("#page-error", "was merged into this one", "not saved", xid)
	if got := b.value("#LastName"); got != "Leigh" {
		t.Errorf("the last name typed was lost: %q", got)
	}
	if got := b.value("#PhoneNumber"); got != "+12065550100" {
		t.Errorf("the form does not show the other profile's phone: %q", got)
	}
	if p := mustProfilesOf(t, client, "d", "_profileId", yid); len(p) != 1 || aws.ToString(p[0].LastName) != "Lee" {
		t.Errorf("the refused save changed the profile: %+v", p)
	}
	if r := b.click("#save"); r.Status != http.StatusOK {
		t.Fatalf("second save: status %d\n%s", r.Status, b.text("main"))
	}
	p := mustProfilesOf(t, client, "d", "_profileId", yid)
	if len(p) != 1 || p[0].ProfileId == nil || aws.ToString(p[0].ProfileId) != yid || aws.ToString(p[0].LastName) != "Leigh" ||
		aws.ToString(p[0].EmailAddress) != "ann@example.com" || aws.ToString(p[0].PhoneNumber) != "+12065550100" {
		t.Errorf("after the second save: %+v", p)
	}

	b.open("/console/domains/d/profiles/" + xid + "/edit")
	if loc := b.location(); !strings.Contains(loc, "/profiles/"+yid+"/edit") {
		t.Errorf("the edit page of the merged profile: at %s, want the edit form of %s", loc, yid)
	}
	b.mustContain(".flash", "was merged into this one")
}
