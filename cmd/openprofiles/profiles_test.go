package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/google/go-cmp/cmp"
	"github.com/openprofiles/profiles"
)

func (e *ingestEnv) createProfile(in *customerprofiles.CreateProfileInput) string {
	e.t.Helper()
	in.DomainName = aws.String(e.domain)
	out, err := e.client.CreateProfile(e.t.Context(), in)
	if err != nil {
		e.t.Fatalf("CreateProfile: %v", err)
	}
	return aws.ToString(out.ProfileId)
}

func (e *ingestEnv) getProfile(id string) types.Profile {
	e.t.Helper()
	out, err := e.client.BatchGetProfile(e.t.Context(), &customerprofiles.BatchGetProfileInput{DomainName: aws.String(e.domain), ProfileIds: []string{id}})
	if err != nil {
		e.t.Fatalf("BatchGetProfile: %v", err)
	}
	if len(out.Profiles) != 1 {
		e.t.Fatalf("BatchGetProfile %s: %d profiles, errors %+v", id, len(out.Profiles), out.Errors)
	}
	return out.Profiles[0]
}

func (e *ingestEnv) history(id string) []types.ProfileHistoryRecord {
	e.t.Helper()
	out, err := e.client.ListProfileHistoryRecords(e.t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), MaxResults: aws.Int32(100)})
	if err != nil {
		e.t.Fatalf("ListProfileHistoryRecords: %v", err)
	}
	return out.ProfileHistoryRecords
}

func actions(recs []types.ProfileHistoryRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.ActionType))
	}
	slices.Sort(out)
	return out
}

func TestProfiles_CreateUpdateDelete(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	id := e.createProfile(&customerprofiles.CreateProfileInput{
		FirstName: aws.String("Grace"), MiddleName: aws.String("Brewster"), LastName: aws.String("Hopper"),
		BirthDate: aws.String("1906-12-09"), Gender: types.GenderFemale, GenderString: aws.String("woman"),
		PartyType: types.PartyTypeIndividual, PartyTypeString: aws.String("person"),
		PhoneNumber: aws.String("+1 (555) 010-0001"), MobilePhoneNumber: aws.String("555 010 0002"), HomePhoneNumber: aws.String("+15550100003"), BusinessPhoneNumber: aws.String("15550100004"),
		EmailAddress: aws.String("grace@example.com"), PersonalEmailAddress: aws.String("Grace.H@Example.org"), BusinessEmailAddress: aws.String("ghopper@navy.example"),
		Address:         &types.Address{Address1: aws.String("1 Main St"), City: aws.String("Arlington"), State: aws.String("VA"), PostalCode: aws.String("22201"), Country: aws.String("US")},
		ShippingAddress: &types.Address{City: aws.String("Norfolk")}, MailingAddress: &types.Address{County: aws.String("Fairfax")}, BillingAddress: &types.Address{Province: aws.String("ON")},
		Attributes:    map[string]string{"rank": "Rear Admiral", "language": "COBOL"},
		AccountNumber: aws.String("ACC-1"), BusinessName: aws.String("US Navy"), AdditionalInformation: aws.String("Pioneer"),
		ProfileType: types.ProfileTypeProfile,
		EngagementPreferences: &types.EngagementPreferences{
			Email: []types.ContactPreference{{KeyName: aws.String("_email"), KeyValue: aws.String("grace@example.com"), ContactType: types.ContactTypeEmailAddress}},
		},
	})
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("ProfileId %q", id)
	}
	p := e.getProfile(id)
	if aws.ToString(p.MiddleName) != "Brewster" || p.Gender != types.GenderFemale || aws.ToString(p.GenderString) != "woman" || p.PartyType != types.PartyTypeIndividual ||
		aws.ToString(p.BusinessPhoneNumber) != "15550100004" || aws.ToString(p.PersonalEmailAddress) != "Grace.H@Example.org" ||
		aws.ToString(p.Address.City) != "Arlington" || aws.ToString(p.BillingAddress.Province) != "ON" || p.Attributes["language"] != "COBOL" ||
		aws.ToString(p.AccountNumber) != "ACC-1" || p.ProfileType != types.ProfileTypeProfile || p.EngagementPreferences == nil ||
		aws.ToString(p.EngagementPreferences.Email[0].KeyValue) != "grace@example.com" {
		b, _ := json.Marshal(p)
		t.Fatalf("profile read back: %s", b)
	}

	t.Run("StandardKeys", func(t *testing.T) {
		for _, q := range []struct{ key, value string }{
			{"_profileId", id}, {"_phone", "555-010-0002"}, {"_phone", "+1 555 010 0004"}, {"_email", "GRACE.H@example.org"},
			{"_email", "ghopper@NAVY.example"}, {"_account", "ACC-1"}, {"_fullName", "grace  brewster HOPPER"},
		} {
			if got := e.search(q.key, q.value); len(got) != 1 || aws.ToString(got[0].ProfileId) != id {
				t.Errorf("SearchProfiles %s=%q found %d profiles", q.key, q.value, len(got))
			}
		}
	})
	t.Run("UpdateIsPartial", func(t *testing.T) {
		_, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{
			DomainName: aws.String(e.domain), ProfileId: aws.String(id),
			FirstName: aws.String("Amazing Grace"), MiddleName: aws.String(""), // change one, remove one
			Address:    &types.UpdateAddress{City: aws.String("New York"), State: aws.String("")},
			Attributes: map[string]string{"rank": "", "era": "1950s"},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := e.getProfile(id)
		if aws.ToString(p.FirstName) != "Amazing Grace" || p.MiddleName != nil || aws.ToString(p.LastName) != "Hopper" {
			t.Errorf("names after update: %q %v %q", aws.ToString(p.FirstName), p.MiddleName, aws.ToString(p.LastName))
		}
		if aws.ToString(p.Address.City) != "New York" || p.Address.State != nil || aws.ToString(p.Address.PostalCode) != "22201" {
			t.Errorf("address after update: %+v", p.Address)
		}
		if _, ok := p.Attributes["rank"]; ok || p.Attributes["era"] != "1950s" || p.Attributes["language"] != "COBOL" {
			t.Errorf("attributes after update: %v", p.Attributes)
		}
		if got := e.search("_fullName", "amazing grace hopper"); len(got) != 1 {
			t.Errorf("_fullName not maintained after update")
		}
	})
	t.Run("IngestionKeepsOffAPIValues", func(t *testing.T) {
		e.putType(contactType("contact"))
		e.mustPut("contact", map[string]any{"id": "c1", "email": "grace@example.com", "name": map[string]any{"first": "Robot", "last": "Hopper"}, "tier": "gold"})
		p := e.getProfile(id)
		if aws.ToString(p.FirstName) != "Amazing Grace" {
			t.Errorf("ingestion overwrote FirstName set through the API: %q", aws.ToString(p.FirstName))
		}
		if p.Attributes["tier"] != "gold" {
			t.Errorf("ingestion did not set a field the API never set: %v", p.Attributes)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		_, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(strings.Repeat("0", 32)), FirstName: aws.String("x")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("update of a missing profile: %v", err)
		}
		_, err = e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String("NOT-HEX"), FirstName: aws.String("x")})
		wantAPIError(t, err, "BadRequestException", "ProfileId")
		big := map[string]string{}
		for i := range 1100 {
			big[fmt.Sprintf("a%04d", i)] = strings.Repeat("x", 250)
		}
		_, err = e.client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(e.domain), Attributes: big})
		wantAPIError(t, err, "BadRequestException", "250000")
	})
	t.Run("DeleteTakesObjectsAndKeys", func(t *testing.T) {
		if _, err := e.client.DeleteProfile(ctx, &customerprofiles.DeleteProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		if got := e.search("_email", "grace@example.com"); len(got) != 0 {
			t.Errorf("deleted profile still found")
		}
		out, err := e.client.BatchGetProfile(ctx, &customerprofiles.BatchGetProfileInput{DomainName: aws.String(e.domain), ProfileIds: []string{id}})
		if err != nil || len(out.Profiles) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ProfileId) != id {
			t.Fatalf("BatchGetProfile after delete: %+v %v", out, err)
		}
		d, _ := e.client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
		if d.Stats.ObjectCount != 0 || d.Stats.ProfileCount != 0 {
			t.Errorf("stats after delete: %+v", d.Stats)
		}
		// Its history survives, ending with the deletion.
		if got := actions(e.history(id)); !slices.Contains(got, "DELETED_BY_CUSTOMER") || !slices.Contains(got, "CREATED") || !slices.Contains(got, "INGESTED") {
			t.Errorf("history of the deleted profile: %v", got)
		}
	})
}

// TestProfiles_ConcurrentUpdates: UpdateProfile calls of one profile made
// at once, each of its own fields, all hold: none is lost to another's
// read of the profile before it wrote (SQLite's single writer, PostgreSQL's
// serializable transactions retried), and each left its UPDATED record.
func TestProfiles_ConcurrentUpdates(t *testing.T) {
	e := newIngestEnv(t)
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Con")})
	const writers, each = 2, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := e.client.UpdateProfile(t.Context(), &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
					Attributes: map[string]string{fmt.Sprintf("w%d-%d", w, i): "set"}, LastName: aws.String(fmt.Sprintf("w%d", w))})
				if err != nil {
					t.Errorf("writer %d update %d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	p := e.getProfile(id)
	if len(p.Attributes) != writers*each || aws.ToString(p.FirstName) != "Con" {
		t.Errorf("after %d concurrent updates: %d attributes, FirstName %q; want every update's attribute and FirstName kept", writers*each, len(p.Attributes), aws.ToString(p.FirstName))
	}
	if last := aws.ToString(p.LastName); last != "w0" && last != "w1" {
		t.Errorf("LastName %q", last)
	}
	if got := strings.Count(strings.Join(actions(e.history(id)), " "), "UPDATED"); got != writers*each {
		t.Errorf("%d UPDATED records, want %d", got, writers*each)
	}
}

// TestProfiles_UpdatePastTheSizeLimit: a profile stored past the 250,000
// bytes a profile holds (by a release whose ingestion did not hold it to
// the limit; written here through the store) may be trimmed, and changed
// without growing, through UpdateProfile, as through ingestion; only a
// change that makes it bigger is refused. UpdateProfile refused every
// change to it, removals too, which left no way to trim it.
func TestProfiles_UpdatePastTheSizeLimit(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Big")})
	err := e.m.Service.Store.Update(ctx, func(tx profiles.Tx) error {
		p, err := tx.FindProfile(ctx, e.domain, id)
		if err != nil {
			return err
		}
		for i := range 1000 { // 1,000 × (15 + 255) bytes
			p.Fields[fmt.Sprintf("Attributes.a%04d", i)] = strings.Repeat("x", 255)
		}
		return tx.PutProfile(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	size := func() int {
		t.Helper()
		b, _ := json.Marshal(e.getProfile(id))
		return len(b)
	}
	update := func(in *customerprofiles.UpdateProfileInput) error {
		in.DomainName, in.ProfileId = aws.String(e.domain), aws.String(id)
		_, err := e.client.UpdateProfile(ctx, in)
		return err
	}
	before := size()
	for _, tt := range []struct {
		name string
		in   *customerprofiles.UpdateProfileInput
	}{
		{"Removal", &customerprofiles.UpdateProfileInput{Attributes: map[string]string{"a0000": "", "a0001": ""}}},
		{"SameSize", &customerprofiles.UpdateProfileInput{FirstName: aws.String("Bag")}},
		{"Smaller", &customerprofiles.UpdateProfileInput{Attributes: map[string]string{"a0002": "short"}, LastName: aws.String("Lee")}},
	} {
		if err := update(tt.in); err != nil {
			t.Errorf("%s: %v; want a change that does not grow the profile accepted", tt.name, err)
		}
	}
	p := e.getProfile(id)
	if _, ok := p.Attributes["a0000"]; ok || p.Attributes["a0002"] != "short" || aws.ToString(p.FirstName) != "Bag" || aws.ToString(p.LastName) != "Lee" {
		t.Errorf("after the trims: a0000 kept %v, a0002 %q, names %q %q", ok, p.Attributes["a0002"], aws.ToString(p.FirstName), aws.ToString(p.LastName))
	}
	after := size()
	if after >= before {
		t.Errorf("the profile is %d bytes of JSON after the trims, was %d", after, before)
	}
	wantAPIError(t, update(&customerprofiles.UpdateProfileInput{MiddleName: aws.String("grows")}), "BadRequestException", "250000")
	if n := size(); n != after {
		t.Errorf("the refused change left the profile at %d bytes of JSON, want %d", n, after)
	}
}

func TestProfiles_Search(t *testing.T) {
	e := newIngestEnv(t)
	ann := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), PhoneNumber: aws.String("+1 555 000 1111"), EmailAddress: aws.String("ann@example.com"), AccountNumber: aws.String("A1")})
	bob := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Bob"), LastName: aws.String("Lee"), PhoneNumber: aws.String("(555) 000-2222"), EmailAddress: aws.String("bob@example.com"), AccountNumber: aws.String("A1")})
	search := func(in *customerprofiles.SearchProfilesInput) []string {
		t.Helper()
		in.DomainName = aws.String(e.domain)
		out, err := e.client.SearchProfiles(t.Context(), in)
		if err != nil {
			t.Fatalf("SearchProfiles: %v", err)
		}
		var ids []string
		for _, p := range out.Items {
			ids = append(ids, aws.ToString(p.ProfileId))
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{ann, bob}
	slices.Sort(both)
	tests := []struct {
		name string
		in   *customerprofiles.SearchProfilesInput
		want []string
	}{
		{"PhoneAnyFormat", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_phone"), Values: []string{"5550001111"}}, []string{ann}},
		{"EmailAnyCase", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_email"), Values: []string{" BOB@Example.COM "}}, []string{bob}},
		{"SeveralValues", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_email"), Values: []string{"ann@example.com", "bob@example.com"}}, both},
		{"And", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_account"), Values: []string{"A1"}, LogicalOperator: types.LogicalOperatorAnd,
			AdditionalSearchKeys: []types.AdditionalSearchKey{{KeyName: aws.String("_phone"), Values: []string{"+15550002222"}}}}, []string{bob}},
		{"Or", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_email"), Values: []string{"ann@example.com"}, LogicalOperator: types.LogicalOperatorOr,
			AdditionalSearchKeys: []types.AdditionalSearchKey{{KeyName: aws.String("_phone"), Values: []string{"555-000-2222"}}}}, both},
		{"AndNothing", &customerprofiles.SearchProfilesInput{KeyName: aws.String("_email"), Values: []string{"ann@example.com"}, LogicalOperator: types.LogicalOperatorAnd,
			AdditionalSearchKeys: []types.AdditionalSearchKey{{KeyName: aws.String("_phone"), Values: []string{"555-000-2222"}}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := search(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("found %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("UnknownKey", func(t *testing.T) {
		_, err := e.client.SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain), KeyName: aws.String("shoeSize"), Values: []string{"9"}})
		wantAPIError(t, err, "BadRequestException", "shoeSize")
	})
	t.Run("Paging", func(t *testing.T) {
		var ids []string
		for i := range 25 {
			ids = append(ids, e.createProfile(&customerprofiles.CreateProfileInput{AccountNumber: aws.String("PAGED"), FirstName: aws.String(fmt.Sprint(i))}))
		}
		slices.Sort(ids)
		var got []string
		var token *string
		for {
			out, err := e.client.SearchProfiles(t.Context(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain), KeyName: aws.String("_account"), Values: []string{"PAGED"}, NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Items) > 20 {
				t.Fatalf("page of %d, default is 20", len(out.Items))
			}
			for _, p := range out.Items {
				got = append(got, aws.ToString(p.ProfileId))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("paged search returned %d profiles, want the 25 in id order", len(got))
		}
	})
}

func TestProfiles_Keys(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Kay")})
	ctx := t.Context()
	if _, err := e.client.AddProfileKey(ctx, &customerprofiles.AddProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), KeyName: aws.String("_phone"), Values: []string{"+44 20 7946 0958"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.search("_phone", "0044 20 7946 0958"); len(got) != 1 {
		t.Fatalf("added key not found: %d", len(got))
	}
	// Objects now find the profile through the added key.
	e.mustPut("contact", map[string]any{"id": "c1", "phone": "+442079460958"})
	if got := len(e.objects("contact", id)); got != 1 {
		t.Fatalf("the object did not attach through the added key (%d objects)", got)
	}
	if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), KeyName: aws.String("_phone"), Values: []string{"+44 20 7946 0958"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.search("_phone", "+442079460958"); len(got) != 0 {
		t.Fatalf("deleted key still found")
	}
	_, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), KeyName: aws.String("_phone"), Values: []string{"+44 20 7946 0958"}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("deleting a missing key: %v", err)
	}
	_, err = e.client.AddProfileKey(ctx, &customerprofiles.AddProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), KeyName: aws.String("nope"), Values: []string{"1"}})
	wantAPIError(t, err, "BadRequestException", "nope")
	got := actions(e.history(id))
	if !slices.Contains(got, "ADDED_PROFILE_KEY") || !slices.Contains(got, "DELETED_PROFILE_KEY") || !slices.Contains(got, "INGESTED") {
		t.Errorf("history: %v", got)
	}

	t.Run("DeletedStandardKeyStaysDeleted", func(t *testing.T) {
		// A standard key removed with DeleteProfileKey stays removed
		// through an update of other fields (UpdateProfile made every
		// standard key again); sending the field it is made of makes it
		// again.
		id := e.createProfile(&customerprofiles.CreateProfileInput{AccountNumber: aws.String("ACC-DK"), EmailAddress: aws.String("dk@example.com")})
		if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), KeyName: aws.String("_account"), Values: []string{"ACC-DK"}}); err != nil {
			t.Fatal(err)
		}
		update := func(in *customerprofiles.UpdateProfileInput) {
			t.Helper()
			in.DomainName, in.ProfileId = aws.String(e.domain), aws.String(id)
			if _, err := e.client.UpdateProfile(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		update(&customerprofiles.UpdateProfileInput{BirthDate: aws.String("1990-01-01"), Attributes: map[string]string{"x": "y"}})
		if got := e.search("_account", "ACC-DK"); len(got) != 0 {
			t.Errorf("_account found %d profiles after an update of other fields, want the deleted key to stay deleted", len(got))
		}
		if got := e.search("_email", "dk@example.com"); len(got) != 1 {
			t.Errorf("_email found %d profiles, want 1", len(got))
		}
		// Nor through an update of a field another standard key is made
		// of, or an object whose fields change one: only the keys made of
		// the fields sent (changed) are made again (every standard key
		// was).
		update(&customerprofiles.UpdateProfileInput{MiddleName: aws.String("Dee")})
		if got := e.search("_account", "ACC-DK"); len(got) != 0 {
			t.Errorf("_account found %d profiles after an update of MiddleName, want the deleted key to stay deleted", len(got))
		}
		if got := e.search("_fullName", "Dee"); len(got) != 1 {
			t.Errorf("_fullName found %d profiles after an update of MiddleName, want 1", len(got))
		}
		e.mustPut("contact", map[string]any{"id": "dk-1", "email": "dk@example.com", "name": map[string]any{"last": "Kay"}})
		if got := len(e.objects("contact", id)); got != 1 {
			t.Fatalf("the object did not go to the profile (%d objects)", got)
		}
		if got := e.search("_account", "ACC-DK"); len(got) != 0 {
			t.Errorf("_account found %d profiles after an object changed LastName, want the deleted key to stay deleted", len(got))
		}
		if got := e.search("_fullName", "Dee Kay"); len(got) != 1 {
			t.Errorf("_fullName found %d profiles after an object changed LastName, want 1", len(got))
		}
		update(&customerprofiles.UpdateProfileInput{AccountNumber: aws.String("ACC-DK")})
		if got := e.search("_account", "ACC-DK"); len(got) != 1 {
			t.Errorf("_account found %d profiles after AccountNumber was sent again, want 1", len(got))
		}
		update(&customerprofiles.UpdateProfileInput{AccountNumber: aws.String("")})
		if got := e.search("_account", "ACC-DK"); len(got) != 0 {
			t.Errorf("_account found %d profiles after AccountNumber was removed, want 0", len(got))
		}
	})
	t.Run("AttributeValues", func(t *testing.T) {
		e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), Address: &types.Address{City: aws.String("Lyon")}, Attributes: map[string]string{"tier": "gold"}})
		e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), Address: &types.Address{City: aws.String("Oslo")}, Attributes: map[string]string{"tier": "silver"}})
		for _, tt := range []struct {
			attr string
			want []string
		}{{"FirstName", []string{"Ann", "Kay"}}, {"Address.City", []string{"Lyon", "Oslo"}}, {"tier", []string{"gold", "silver"}}} {
			out, err := e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String(e.domain), AttributeName: aws.String(tt.attr)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range out.Items {
				got = append(got, aws.ToString(it.Value))
			}
			if !slices.Equal(got, tt.want) || out.StatusCode != 200 {
				t.Errorf("%s values %v (status %d), want %v", tt.attr, got, out.StatusCode, tt.want)
			}
		}
		// A standard field no profile has a value of yet has none; a custom
		// attribute no profile has, or a misspelt field, is not found.
		out, err := e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String(e.domain), AttributeName: aws.String("Address.Province")})
		if err != nil || len(out.Items) != 0 || out.StatusCode != 200 {
			t.Errorf("Address.Province: %v %v, want no values", out, err)
		}
		for _, attr := range []string{"nosuch", "Attributes.nosuch", "Adress.City"} {
			_, err := e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String(e.domain), AttributeName: aws.String(attr)})
			wantAPIError(t, err, "ResourceNotFoundException", attr)
		}
	})
}

func TestProfiles_Merge(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	e.putType(&customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("order"), Description: aws.String("orders"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{"id": field("_source.id", "", "STRING"), "email": field("_source.email", "", "EMAIL_ADDRESS")},
		Keys: map[string][]types.ObjectTypeKey{
			"orderId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":  key([]string{"email"}, types.StandardIdentifierProfile),
		},
	})
	main := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Jon"), LastName: aws.String("Main"), EmailAddress: aws.String("jon@example.com"),
		Address: &types.Address{City: aws.String("Paris"), PostalCode: aws.String("75001")}})
	e.mustPut("contact", map[string]any{"id": "c-main", "email": "jon@example.com"})
	e.mustPut("contact", map[string]any{"id": "c-dup", "email": "jonathan@example.com", "name": map[string]any{"first": "Jonathan", "last": "Dup"}, "address": map[string]any{"city": "Lyon"}})
	e.mustPut("order", map[string]any{"id": "o-1", "email": "jonathan@example.com"})
	dup := aws.ToString(e.mustOne("_email", "jonathan@example.com").ProfileId)
	third := e.createProfile(&customerprofiles.CreateProfileInput{MiddleName: aws.String("T"), PhoneNumber: aws.String("+1 555 999 0000")})

	_, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{
		DomainName: aws.String(e.domain), MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{dup, third},
		FieldSourceProfileIds: &types.FieldSourceProfileIds{LastName: aws.String(dup), Address: aws.String(dup)},
	})
	if err != nil {
		t.Fatalf("MergeProfiles: %v", err)
	}
	p := e.getProfile(main)
	if aws.ToString(p.FirstName) != "Jon" || aws.ToString(p.LastName) != "Dup" || aws.ToString(p.MiddleName) != "T" || aws.ToString(p.PhoneNumber) != "+1 555 999 0000" {
		t.Errorf("merged names/phone: %q %q %q %q", aws.ToString(p.FirstName), aws.ToString(p.MiddleName), aws.ToString(p.LastName), aws.ToString(p.PhoneNumber))
	}
	if p.Address == nil || aws.ToString(p.Address.City) != "Lyon" || p.Address.PostalCode != nil {
		t.Errorf("address must come whole from the duplicate: %+v", p.Address)
	}
	if got := len(e.objects("contact", main)); got != 2 {
		t.Errorf("main has %d contacts, want 2", got)
	}
	if got := len(e.objects("order", main)); got != 1 {
		t.Errorf("main has %d orders, want 1", got)
	}
	for _, q := range []struct{ key, value string }{{"_email", "jonathan@example.com"}, {"_phone", "5559990000"}, {"orderId", "o-1"}} {
		if got := e.search(q.key, q.value); len(got) != 1 || aws.ToString(got[0].ProfileId) != main {
			t.Errorf("%s=%s does not find the main profile after the merge", q.key, q.value)
		}
	}
	out, _ := e.client.BatchGetProfile(t.Context(), &customerprofiles.BatchGetProfileInput{DomainName: aws.String(e.domain), ProfileIds: []string{dup, third}})
	if len(out.Profiles) != 0 {
		t.Errorf("merged profiles still exist")
	}
	if got := actions(e.history(main)); !slices.Contains(got, "MERGED") {
		t.Errorf("main history %v lacks MERGED", got)
	}
	if got := actions(e.history(dup)); !slices.Contains(got, "DELETED_BY_MERGE") {
		t.Errorf("duplicate history %v lacks DELETED_BY_MERGE", got)
	}

	// The keys of a merged profile's own fields move too, whichever values
	// the main profile keeps: its email, phone, name and id still find the
	// main profile, and an object carrying them lands there.
	t.Run("KeysOfLosingFields", func(t *testing.T) {
		other := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Jo"), LastName: aws.String("Other"),
			EmailAddress: aws.String("jo.other@example.com"), PhoneNumber: aws.String("+1 555 777 0000")})
		if _, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{
			DomainName: aws.String(e.domain), MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{other},
		}); err != nil {
			t.Fatalf("MergeProfiles: %v", err)
		}
		p := e.getProfile(main)
		if aws.ToString(p.EmailAddress) != "jon@example.com" || aws.ToString(p.PhoneNumber) != "+1 555 999 0000" {
			t.Fatalf("main profile's fields changed: %q %q", aws.ToString(p.EmailAddress), aws.ToString(p.PhoneNumber))
		}
		for _, q := range []struct{ key, value string }{{"_email", "jo.other@example.com"}, {"_phone", "+1 555 777 0000"}, {"_fullName", "Jo Other"},
			{"_profileId", other}, {"_email", "jon@example.com"}} {
			if got := e.search(q.key, q.value); len(got) != 1 || aws.ToString(got[0].ProfileId) != main {
				t.Errorf("%s=%s finds %d profiles after the merge, want the main one", q.key, q.value, len(got))
			}
		}
		e.mustPut("contact", map[string]any{"id": "c-other", "email": "jo.other@example.com"})
		if got := e.search("contactId", "c-other"); len(got) != 1 || aws.ToString(got[0].ProfileId) != main {
			t.Errorf("an object with the merged profile's email landed on %d other profiles, want the main one", len(got))
		}
	})

	// A standard key removed from the main profile with DeleteProfileKey
	// stays removed through a merge that leaves the fields it is made of
	// as they were (the merge made every standard key of the main profile
	// again); a key made of a field the merge changes is made again from
	// the merged value, and the main profile's own value of it still
	// finds it.
	t.Run("DeletedStandardKeyStaysDeleted", func(t *testing.T) {
		ctx := t.Context()
		keep := e.createProfile(&customerprofiles.CreateProfileInput{AccountNumber: aws.String("ACC-MK"), EmailAddress: aws.String("mk@example.com"),
			PhoneNumber: aws.String("+1 555 010 0101")})
		for _, k := range [][2]string{{"_account", "ACC-MK"}, {"_phone", "+1 555 010 0101"}} {
			if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(keep),
				KeyName: aws.String(k[0]), Values: []string{k[1]}}); err != nil {
				t.Fatalf("DeleteProfileKey %s: %v", k[0], err)
			}
		}
		merge := func(in *customerprofiles.CreateProfileInput, sources func(id string) *types.FieldSourceProfileIds) {
			t.Helper()
			id := e.createProfile(in)
			if _, err := e.client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(keep),
				ProfileIdsToBeMerged: []string{id}, FieldSourceProfileIds: sources(id)}); err != nil {
				t.Fatalf("MergeProfiles: %v", err)
			}
		}
		finds := func(key, value string, want bool) {
			t.Helper()
			got := e.search(key, value)
			switch {
			case want && (len(got) != 1 || aws.ToString(got[0].ProfileId) != keep):
				t.Errorf("%s=%s finds %d profiles, want the main one", key, value, len(got))
			case !want && len(got) != 0:
				t.Errorf("%s=%s finds %d profiles, want none (its key was deleted)", key, value, len(got))
			}
		}

		// The email comes from the merged profile, and a name: _email and
		// _fullName are made again; the account and phone stay the main
		// profile's, their keys stay deleted.
		merge(&customerprofiles.CreateProfileInput{FirstName: aws.String("Mergedk"), EmailAddress: aws.String("ok@example.com")},
			func(id string) *types.FieldSourceProfileIds {
				return &types.FieldSourceProfileIds{EmailAddress: aws.String(id)}
			})
		p := e.getProfile(keep)
		if aws.ToString(p.AccountNumber) != "ACC-MK" || aws.ToString(p.PhoneNumber) != "+1 555 010 0101" || aws.ToString(p.EmailAddress) != "ok@example.com" {
			t.Fatalf("merged account/phone/email: %q %q %q", aws.ToString(p.AccountNumber), aws.ToString(p.PhoneNumber), aws.ToString(p.EmailAddress))
		}
		finds("_account", "ACC-MK", false)
		finds("_phone", "+1 555 010 0101", false)
		finds("_email", "ok@example.com", true)
		finds("_email", "mk@example.com", true) // the main profile's own, which lost
		finds("_fullName", "Mergedk", true)

		// A merge that changes AccountNumber makes _account again, of the
		// new value; the deleted one stays deleted, the phone's too.
		merge(&customerprofiles.CreateProfileInput{AccountNumber: aws.String("ACC-2")},
			func(id string) *types.FieldSourceProfileIds {
				return &types.FieldSourceProfileIds{AccountNumber: aws.String(id)}
			})
		finds("_account", "ACC-2", true)
		finds("_account", "ACC-MK", false)
		finds("_phone", "+1 555 010 0101", false)
		finds("_email", "ok@example.com", true)

		// A key deleted from a merged profile does not come to the main
		// one (the merged profile's standard keys were made again from
		// its fields); its other keys do.
		gone := e.createProfile(&customerprofiles.CreateProfileInput{AccountNumber: aws.String("ACC-GONE"), EmailAddress: aws.String("gone@example.com")})
		if _, err := e.client.DeleteProfileKey(ctx, &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(gone),
			KeyName: aws.String("_account"), Values: []string{"ACC-GONE"}}); err != nil {
			t.Fatalf("DeleteProfileKey: %v", err)
		}
		if _, err := e.client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(keep),
			ProfileIdsToBeMerged: []string{gone}}); err != nil {
			t.Fatalf("MergeProfiles: %v", err)
		}
		finds("_account", "ACC-GONE", false)
		finds("_email", "gone@example.com", true)
		finds("_account", "ACC-2", true)
	})

	// Gender and GenderString (PartyType and PartyTypeString) are one fact:
	// FieldSourceProfileIds.Gender chooses both, and without it the main
	// profile's form wins whole.
	t.Run("GenderWithItsString", func(t *testing.T) {
		mk := func(gender types.Gender, genderString, partyString string) string {
			return e.createProfile(&customerprofiles.CreateProfileInput{Gender: gender, GenderString: aws.String(genderString), PartyTypeString: aws.String(partyString)})
		}
		for _, tt := range []struct {
			name            string
			chooseOther     bool
			gender          types.Gender
			genderS, partyS string
		}{
			{"chosen", true, types.GenderMale, "male", "business"},
			{"main's", false, "", "female", "individual"},
		} {
			x, y := mk("", "female", "individual"), mk(types.GenderMale, "male", "business")
			in := &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(x), ProfileIdsToBeMerged: []string{y}}
			if tt.chooseOther {
				in.FieldSourceProfileIds = &types.FieldSourceProfileIds{Gender: aws.String(y), PartyType: aws.String(y)}
			}
			if _, err := e.client.MergeProfiles(t.Context(), in); err != nil {
				t.Fatalf("%s: MergeProfiles: %v", tt.name, err)
			}
			p := e.getProfile(x)
			if p.Gender != tt.gender || aws.ToString(p.GenderString) != tt.genderS || aws.ToString(p.PartyTypeString) != tt.partyS {
				t.Errorf("%s: Gender %q GenderString %q PartyTypeString %q, want %q %q %q", tt.name, p.Gender, aws.ToString(p.GenderString), aws.ToString(p.PartyTypeString), tt.gender, tt.genderS, tt.partyS)
			}
		}
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{main}})
		wantAPIError(t, err, "BadRequestException", "itself")
		_, err = e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{dup}})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), dup) {
			t.Errorf("merging a missing profile: %v", err)
		}
		other := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("O")})
		_, err = e.client.MergeProfiles(t.Context(), &customerprofiles.MergeProfilesInput{DomainName: aws.String(e.domain), MainProfileId: aws.String(main), ProfileIdsToBeMerged: []string{other},
			FieldSourceProfileIds: &types.FieldSourceProfileIds{FirstName: aws.String(strings.Repeat("a", 32))}})
		wantAPIError(t, err, "BadRequestException", "FirstName")
		if aws.ToString(e.getProfile(other).FirstName) != "O" {
			t.Errorf("a refused merge changed the profile")
		}
	})
}

func TestProfiles_History(t *testing.T) {
	e := newIngestEnv(t)
	id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("H")})
	for i := range 3 {
		if _, err := e.client.UpdateProfile(t.Context(), &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), LastName: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	recs := e.history(id)
	if len(recs) != 4 || recs[0].ActionType != types.ActionTypeUpdated || recs[3].ActionType != types.ActionTypeCreated {
		t.Fatalf("history %v, want 3 UPDATED then CREATED, newest first", actions(recs))
	}
	if !strings.HasPrefix(aws.ToString(recs[0].PerformedBy), "arn:aws:iam::000000000000:") || aws.ToString(recs[0].ObjectTypeName) != "_profile" {
		t.Errorf("record: %+v", recs[0])
	}
	got, err := e.client.GetProfileHistoryRecord(t.Context(), &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), Id: recs[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(got.Content), `"LastName":"2"`) {
		t.Errorf("content of the last update: %s", aws.ToString(got.Content))
	}
	t.Run("ContentIsAProfile", func(t *testing.T) {
		// A profile's record holds the profile as the API gives it:
		// ProfileId, an address and Attributes as objects, the
		// engagement preferences as a structure (they were the store's
		// flat "Address.City", "Attributes.tier" and a JSON string).
		id := e.createProfile(&customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"),
			Address: &types.Address{City: aws.String("Lyon")}, Attributes: map[string]string{"tier": "gold"},
			EngagementPreferences: &types.EngagementPreferences{Email: []types.ContactPreference{{KeyName: aws.String("_email"), KeyValue: aws.String("ann@example.com"), ContactType: types.ContactTypeEmailAddress}}}})
		if _, err := e.client.UpdateProfile(t.Context(), &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
			BillingAddress: &types.UpdateAddress{Country: aws.String("FR")}, Attributes: map[string]string{"tier": ""}}); err != nil {
			t.Fatal(err)
		}
		type address struct{ City, Country string }
		type profile struct {
			ProfileId, FirstName    string
			Address, BillingAddress *address
			Attributes              map[string]string
			EngagementPreferences   struct {
				Email []struct{ KeyName, KeyValue, ContactType string }
			}
		}
		recs := e.history(id)
		if len(recs) != 2 {
			t.Fatalf("history %v, want UPDATED and CREATED", actions(recs))
		}
		for i, want := range []profile{
			{ProfileId: id, FirstName: "Ann", Address: &address{City: "Lyon"}, BillingAddress: &address{Country: "FR"}},
			{ProfileId: id, FirstName: "Ann", Address: &address{City: "Lyon"}, Attributes: map[string]string{"tier": "gold"}},
		} {
			rec, err := e.client.GetProfileHistoryRecord(t.Context(), &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), Id: recs[i].Id})
			if err != nil {
				t.Fatal(err)
			}
			var got profile
			if err := json.Unmarshal([]byte(aws.ToString(rec.Content)), &got); err != nil {
				t.Fatalf("%s content %s: %v", recs[i].ActionType, aws.ToString(rec.Content), err)
			}
			want.EngagementPreferences.Email = append(want.EngagementPreferences.Email, struct{ KeyName, KeyValue, ContactType string }{"_email", "ann@example.com", "EmailAddress"})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s content %s (-want +got):\n%s", recs[i].ActionType, aws.ToString(rec.Content), diff)
			}
		}
	})
	out, err := e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), ActionType: types.ActionTypeCreated})
	if err != nil || len(out.ProfileHistoryRecords) != 1 {
		t.Errorf("filter by action: %v %v", out, err)
	}
	_, err = e.client.GetProfileHistoryRecord(t.Context(), &customerprofiles.GetProfileHistoryRecordInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), Id: aws.String(strings.Repeat("f", 32))})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing record: %v", err)
	}

	// The history of a profile the domain never had is not an empty list
	// (the model declares ResourceNotFoundException); a deleted profile's
	// is still there, and a filter matching none of it is an empty list.
	ghost := strings.Repeat("0", 32)
	_, err = e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String(e.domain), ProfileId: aws.String(ghost)})
	wantAPIError(t, err, "ResourceNotFoundException", ghost)
	if _, err := e.client.DeleteProfile(t.Context(), &customerprofiles.DeleteProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if recs := e.history(id); len(recs) != 5 || recs[0].ActionType != types.ActionTypeDeletedByCustomer {
		t.Errorf("history of the deleted profile: %v, want DELETED_BY_CUSTOMER and the 4 before", actions(recs))
	}
	out, err = e.client.ListProfileHistoryRecords(t.Context(), &customerprofiles.ListProfileHistoryRecordsInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id), ActionType: types.ActionTypeMerged})
	if err != nil || len(out.ProfileHistoryRecords) != 0 {
		t.Errorf("deleted profile's history filtered by MERGED: %v %v, want an empty list", out, err)
	}
}

// TestProfiles_AttributeValuesKinds: ListProfileAttributeValues over the
// kinds of profile fields: an enum field and its free-text twin, a custom
// attribute named bare or as Attributes.<name>, values of a deleted profile
// gone, the wire (StatusCode is the HTTP status, not a body member), and
// what is refused: EngagementPreferences (no text value), a missing domain.
func TestProfiles_AttributeValuesKinds(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	e.createProfile(&customerprofiles.CreateProfileInput{Gender: types.GenderFemale, PartyType: types.PartyTypeIndividual, Attributes: map[string]string{"tier": "gold", "a.b": "dotted"}})
	e.createProfile(&customerprofiles.CreateProfileInput{GenderString: aws.String("nonbinary"), Attributes: map[string]string{"tier": "gold"}})
	gone := e.createProfile(&customerprofiles.CreateProfileInput{Gender: types.GenderMale, Attributes: map[string]string{"tier": "bronze"}})
	if _, err := e.client.DeleteProfile(ctx, &customerprofiles.DeleteProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	values := func(attr string) ([]string, error) {
		out, err := e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String(e.domain), AttributeName: aws.String(attr)})
		if err != nil {
			return nil, err
		}
		if out.StatusCode != 200 || aws.ToString(out.AttributeName) != attr || aws.ToString(out.DomainName) != e.domain {
			t.Errorf("%s answered status %d, attribute %q, domain %q", attr, out.StatusCode, aws.ToString(out.AttributeName), aws.ToString(out.DomainName))
		}
		got := []string{}
		for _, it := range out.Items {
			got = append(got, aws.ToString(it.Value))
		}
		return got, nil
	}
	for _, tt := range []struct {
		attr string
		want []string
	}{
		{"Gender", []string{"FEMALE"}}, {"GenderString", []string{"nonbinary"}}, {"PartyType", []string{"INDIVIDUAL"}},
		{"tier", []string{"gold"}}, {"Attributes.tier", []string{"gold"}}, {"a.b", []string{"dotted"}}, {"LastName", []string{}},
	} {
		got, err := values(tt.attr)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.attr, got, err, tt.want)
		}
	}
	r := mustDo(t, mustSignedRequest(t, e.m, "GET", "/domains/"+e.domain+"/profile-attributes/tier/values", nil, signOpts{}))
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); r.Status != 200 || err != nil || body["StatusCode"] != nil || body["AttributeName"] != "tier" {
		t.Errorf("wire answer %d %s", r.Status, r.Body)
	}
	_, err := values("EngagementPreferences")
	wantAPIError(t, err, "BadRequestException", "EngagementPreferences")
	_, err = e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String("nodomain"), AttributeName: aws.String("FirstName")})
	wantAPIError(t, err, "ResourceNotFoundException", "nodomain")
}

// TestProfiles_AttributeValuesManyPages: ListProfileAttributeValues reads
// a domain of more profiles than one page of its scan (500 a transaction,
// in the order of profile ids), the values of the profiles on the first,
// second and last pages included, each once.
func TestProfiles_AttributeValuesManyPages(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	const n = 1100
	ids := make([]string, n)
	for i := range n {
		ids[i] = e.createProfile(&customerprofiles.CreateProfileInput{Attributes: map[string]string{"tier": []string{"gold", "silver"}[i%2]}})
	}
	// Ids are random: the scan's pages are of the sorted ids.
	slices.Sort(ids)
	for tier, id := range map[string]string{"first": ids[0], "second-page": ids[700], "last": ids[n-1]} {
		if _, err := e.client.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(e.domain), ProfileId: aws.String(id),
			Attributes: map[string]string{"tier": tier}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.client.ListProfileAttributeValues(ctx, &customerprofiles.ListProfileAttributeValuesInput{DomainName: aws.String(e.domain), AttributeName: aws.String("tier")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, aws.ToString(it.Value))
	}
	if want := []string{"first", "gold", "last", "second-page", "silver"}; !slices.Equal(got, want) {
		t.Errorf("values of %d profiles: %v, want %v", n, got, want)
	}
}
