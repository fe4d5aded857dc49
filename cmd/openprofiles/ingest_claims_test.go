package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/templates"
)

// memberType maps a loyalty member: id (UNIQUE), email (PROFILE, into
// EmailAddress), loyalty card (PROFILE loyaltyId), phone (PROFILE
// SECONDARY) and first name.
func memberType(name string) *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName:       aws.String(name),
		Description:          aws.String("loyalty members"),
		AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":      field("_source.id", "", "STRING"),
			"email":   field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"loyalty": field("_source.card", "", "STRING"),
			"phone":   field("_source.phone", "", "PHONE_NUMBER"),
			"first":   field("_source.first", "_profile.FirstName", "NAME"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"memberId":  key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":    key([]string{"email"}, types.StandardIdentifierProfile),
			"loyaltyId": key([]string{"loyalty"}, types.StandardIdentifierProfile),
			"_phone":    key([]string{"phone"}, types.StandardIdentifierProfile, types.StandardIdentifierSecondary),
		},
	}
}

// uniqueKeys returns the ProfileObjectUniqueKeys of a profile's objects of
// a type that an ObjectFilter (nil: none) keeps, sorted.
func (e *ingestEnv) uniqueKeys(objectType, profileID string, f *types.ObjectFilter) []string {
	e.t.Helper()
	out, err := e.client.ListProfileObjects(e.t.Context(), &customerprofiles.ListProfileObjectsInput{
		DomainName: aws.String(e.domain), ObjectTypeName: aws.String(objectType), ProfileId: aws.String(profileID),
		ObjectFilter: f, MaxResults: aws.Int32(100),
	})
	if err != nil {
		e.t.Fatalf("ListProfileObjects %s %+v: %v", objectType, f, err)
	}
	var keys []string
	for _, it := range out.Items {
		keys = append(keys, aws.ToString(it.ProfileObjectUniqueKey))
	}
	slices.Sort(keys)
	return keys
}

func sortedStrings(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestIngest_TwoKeysTwoProfiles: BEHAVIOUR.md §4 step 4. An object two of
// whose PROFILE keys (not SECONDARY) each find one profile, but not the
// same one, is refused with BadRequest naming the two keys (AWS's
// outcome is not documented; the notes ask for a message naming the
// conflicting key: it said only "All the keys in this object are linked
// to multiple profiles", which is untrue of each key and named none), and
// nothing is stored. A SECONDARY key is not consulted when a key of the
// first round found a profile, so one finding another profile is no
// conflict.
func TestIngest_TwoKeysTwoProfiles(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(memberType("member"))
	e.mustPut("member", map[string]any{"id": "a1", "email": "ann@example.com", "card": "C-1"})
	e.mustPut("member", map[string]any{"id": "b1", "email": "bob@example.com", "card": "C-2", "phone": "+33 1 23 45 67 89"})
	ann := aws.ToString(e.mustOne("_email", "ann@example.com").ProfileId)
	bob := aws.ToString(e.mustOne("_email", "bob@example.com").ProfileId)

	_, err := e.put("member", map[string]any{"id": "x1", "email": "ann@example.com", "card": "C-2"})
	wantAPIError(t, err, "BadRequestException", "All the keys in this object are linked to multiple profiles", "_email", "loyaltyId")
	if got := e.search("memberId", "x1"); len(got) != 0 {
		t.Errorf("the refused object's UNIQUE key finds %d profiles, want none", len(got))
	}
	if got := len(e.objects("member", ann)) + len(e.objects("member", bob)); got != 2 {
		t.Errorf("%d objects on the two profiles after the refusal, want 2", got)
	}

	// Alone, Bob's phone (SECONDARY) finds Bob.
	e.mustPut("member", map[string]any{"id": "x2", "phone": "+33123456789"})
	if got := len(e.objects("member", bob)); got != 2 {
		t.Errorf("Bob has %d objects, want 2: a SECONDARY key finds the profile when no PROFILE key says anything", got)
	}
	// The email finds Ann; Bob's phone is not consulted.
	e.mustPut("member", map[string]any{"id": "x3", "email": "ann@example.com", "phone": "0033123456789"})
	if got := len(e.objects("member", ann)); got != 2 {
		t.Errorf("Ann has %d objects, want 2: the PROFILE key's profile wins over the SECONDARY key's", got)
	}
}

// TestDeleteProfileObject_KeysAndProfile: DeleteProfileObject removes the
// object and the keys it put on its profile (a value another object of the
// profile also gave stays), never the profile nor the fields the object
// set; it refuses an object of another profile; the same UNIQUE value
// ingested again is a new object.
func TestDeleteProfileObject_KeysAndProfile(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(memberType("member"))
	k1 := e.mustPut("member", map[string]any{"id": "o1", "email": "del@example.com", "card": "L-1", "first": "Dell"})
	k2 := e.mustPut("member", map[string]any{"id": "o2", "email": "del@example.com", "card": "L-2"})
	k3 := e.mustPut("member", map[string]any{"id": "o3", "email": "del@example.com", "card": "L-2"})
	pid := aws.ToString(e.mustOne("loyaltyId", "L-1").ProfileId)
	other := e.mustPut("member", map[string]any{"id": "z1", "email": "other@example.com"})

	del := func(profileID, uniqueKey string) error {
		_, err := e.client.DeleteProfileObject(t.Context(), &customerprofiles.DeleteProfileObjectInput{
			DomainName: aws.String(e.domain), ObjectTypeName: aws.String("member"), ProfileId: aws.String(profileID), ProfileObjectUniqueKey: aws.String(uniqueKey),
		})
		return err
	}
	var nf *types.ResourceNotFoundException
	if err := del(pid, other); !errors.As(err, &nf) {
		t.Fatalf("deleting another profile's object: %v, want ResourceNotFoundException", err)
	}
	if got := e.search("memberId", "z1"); len(got) != 1 {
		t.Fatalf("the other profile's object lost its key after a refused delete")
	}

	if err := del(pid, k1); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ name, value string }{{"loyaltyId", "L-1"}, {"memberId", "o1"}} {
		if got := e.search(k.name, k.value); len(got) != 0 {
			t.Errorf("%s=%s, a key only the deleted object gave, finds %d profiles", k.name, k.value, len(got))
		}
	}
	p := e.mustOne("_profileId", pid)
	if aws.ToString(p.FirstName) != "Dell" || aws.ToString(p.EmailAddress) != "del@example.com" {
		t.Errorf("profile after deleting the object that set its fields: FirstName %q, EmailAddress %q; want them kept",
			aws.ToString(p.FirstName), aws.ToString(p.EmailAddress))
	}

	if err := del(pid, k2); err != nil {
		t.Fatal(err)
	}
	if got := e.search("loyaltyId", "L-2"); len(got) != 1 || aws.ToString(got[0].ProfileId) != pid {
		t.Errorf("loyaltyId=L-2, which object o3 still gives, finds %d profiles, want the profile", len(got))
	}
	if err := del(pid, k3); err != nil {
		t.Fatal(err)
	}
	if got := e.search("loyaltyId", "L-2"); len(got) != 0 {
		t.Errorf("loyaltyId=L-2 finds %d profiles after its last object went", len(got))
	}
	if got := e.objects("member", pid); len(got) != 0 {
		t.Errorf("%d objects left", len(got))
	}
	// The profile stays, found by its standard keys.
	if got := e.search("_email", "del@example.com"); len(got) != 1 || aws.ToString(got[0].ProfileId) != pid {
		t.Fatalf("the profile without objects: _email finds %d profiles, want it", len(got))
	}

	// o1 again: a new object, on the profile its email finds.
	if k := e.mustPut("member", map[string]any{"id": "o1", "email": "del@example.com", "card": "L-1"}); k != k1 {
		t.Errorf("the same UNIQUE value got key %q after a delete, was %q", k, k1)
	}
	if got := e.uniqueKeys("member", pid, nil); !slices.Equal(got, []string{k1}) {
		t.Errorf("objects %v, want [%s]", got, k1)
	}
}

// TestListProfileObjects_ObjectFilter: the keys an ObjectFilter may name
// are the keys the listed type's objects stored on the profile: its UNIQUE
// key, its PROFILE keys (values normalised by the key's content type),
// several values meaning any of them. A key the type does not have, or
// that only another type's objects gave, filters every object out; it is
// not an error.
func TestListProfileObjects_ObjectFilter(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(memberType("member"))
	e.putType(contactType("contact"))
	k1 := e.mustPut("member", map[string]any{"id": "o1", "email": "f@example.com", "card": "L-1", "phone": "+1 555 010 0001"})
	k2 := e.mustPut("member", map[string]any{"id": "o2", "email": "f@example.com", "card": "L-2"})
	e.mustPut("contact", map[string]any{"id": "c1", "email": "f@example.com", "phone": "+1 555 010 0002"})
	pid := aws.ToString(e.mustOne("loyaltyId", "L-1").ProfileId)

	tests := []struct {
		name   string
		filter *types.ObjectFilter
		want   []string
	}{
		{"None", nil, sortedStrings(k1, k2)},
		{"UniqueKey", &types.ObjectFilter{KeyName: aws.String("memberId"), Values: []string{"o2"}}, []string{k2}},
		{"ProfileKey", &types.ObjectFilter{KeyName: aws.String("loyaltyId"), Values: []string{"L-1"}}, []string{k1}},
		{"AnyOfSeveralValues", &types.ObjectFilter{KeyName: aws.String("loyaltyId"), Values: []string{"L-2", "L-1", "L-9"}}, sortedStrings(k1, k2)},
		{"NormalisedEmail", &types.ObjectFilter{KeyName: aws.String("_email"), Values: []string{" F@Example.COM"}}, sortedStrings(k1, k2)},
		{"NormalisedPhone", &types.ObjectFilter{KeyName: aws.String("_phone"), Values: []string{"(555) 010-0001"}}, []string{k1}},
		{"KeyOfAnotherType", &types.ObjectFilter{KeyName: aws.String("contactId"), Values: []string{"c1"}}, nil},
		{"ValueOnlyAnotherTypeGave", &types.ObjectFilter{KeyName: aws.String("_phone"), Values: []string{"+15550100002"}}, nil},
		{"UnknownKey", &types.ObjectFilter{KeyName: aws.String("nope"), Values: []string{"L-1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, e.uniqueKeys("member", pid, tt.filter)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

// TestObjectTypes_OutputFields: GetProfileObjectTypeTemplate answers every
// member of its output from the template (TemplateId, SourceName,
// SourceObject, AllowProfileCreation, SourceLastUpdatedTimestampFormat,
// Fields, Keys); a type based on it answers the template's Fields, Keys,
// AllowProfileCreation and format with its TemplateId. A type with no
// MaxProfileObjectCount, SourcePriority or ExpirationDays of its own
// answers none of them, and MaxAvailableProfileObjectCount is the objects
// per profile quota (1000), in Get, Put and List alike.
func TestObjectTypes_OutputFields(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	for _, id := range []string{"Salesforce-Account", "CTR-AutoAssociateOnly", "Shopify-Order"} {
		t.Run(id, func(t *testing.T) {
			tpl, _ := templates.Get(id)
			got, err := e.client.GetProfileObjectTypeTemplate(ctx, &customerprofiles.GetProfileObjectTypeTemplateInput{TemplateId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.TemplateId) != id || aws.ToString(got.SourceName) != tpl.SourceName || aws.ToString(got.SourceObject) != tpl.SourceObject ||
				got.AllowProfileCreation != tpl.ObjectType.AllowProfileCreation ||
				aws.ToString(got.SourceLastUpdatedTimestampFormat) != tpl.ObjectType.SourceLastUpdatedTimestampFormat {
				t.Errorf("template %s: TemplateId %q SourceName %q SourceObject %q AllowProfileCreation %v format %q; want %q %q %v %q",
					id, aws.ToString(got.TemplateId), aws.ToString(got.SourceName), aws.ToString(got.SourceObject), got.AllowProfileCreation,
					aws.ToString(got.SourceLastUpdatedTimestampFormat), tpl.SourceName, tpl.SourceObject, tpl.ObjectType.AllowProfileCreation, tpl.ObjectType.SourceLastUpdatedTimestampFormat)
			}
			if tpl.SourceName == "" || len(got.Fields) == 0 || len(got.Fields) != len(tpl.ObjectType.Fields) || len(got.Keys) != len(tpl.ObjectType.Keys) {
				t.Errorf("template %s: %d fields and %d keys, want %d and %d", id, len(got.Fields), len(got.Keys), len(tpl.ObjectType.Fields), len(tpl.ObjectType.Keys))
			}

			name := "from-" + id
			e.putType(&customerprofiles.PutProfileObjectTypeInput{ObjectTypeName: aws.String(name), Description: aws.String("from a template"), TemplateId: aws.String(id)})
			typ, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			opts := []cmp.Option{cmpopts.IgnoreUnexported(types.ObjectTypeField{}, types.ObjectTypeKey{})}
			if diff := cmp.Diff(got.Fields, typ.Fields, opts...); diff != "" {
				t.Errorf("type's Fields (-template +type):\n%s", diff)
			}
			if diff := cmp.Diff(got.Keys, typ.Keys, opts...); diff != "" {
				t.Errorf("type's Keys (-template +type):\n%s", diff)
			}
			if aws.ToString(typ.TemplateId) != id || typ.AllowProfileCreation != got.AllowProfileCreation ||
				aws.ToString(typ.SourceLastUpdatedTimestampFormat) != aws.ToString(got.SourceLastUpdatedTimestampFormat) {
				t.Errorf("type from %s: TemplateId %q AllowProfileCreation %v format %q", id, aws.ToString(typ.TemplateId), typ.AllowProfileCreation, aws.ToString(typ.SourceLastUpdatedTimestampFormat))
			}
		})
	}

	t.Run("Unset", func(t *testing.T) {
		in := contactType("plain")
		in.DomainName = aws.String(e.domain)
		put, err := e.client.PutProfileObjectType(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.GetProfileObjectType(ctx, &customerprofiles.GetProfileObjectTypeInput{DomainName: in.DomainName, ObjectTypeName: in.ObjectTypeName})
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.client.ListProfileObjectTypes(ctx, &customerprofiles.ListProfileObjectTypesInput{DomainName: in.DomainName, MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list.Items, func(it types.ListProfileObjectTypeItem) bool { return aws.ToString(it.ObjectTypeName) == "plain" })
		if i < 0 {
			t.Fatal("plain not listed")
		}
		it := list.Items[i]
		for _, c := range []struct {
			op                   string
			max, avail, priority *int32
		}{
			{"Put", put.MaxProfileObjectCount, put.MaxAvailableProfileObjectCount, put.SourcePriority},
			{"Get", got.MaxProfileObjectCount, got.MaxAvailableProfileObjectCount, got.SourcePriority},
			{"List", it.MaxProfileObjectCount, it.MaxAvailableProfileObjectCount, it.SourcePriority},
		} {
			if c.max != nil || c.priority != nil || aws.ToInt32(c.avail) != 1000 {
				t.Errorf("%s: MaxProfileObjectCount %v SourcePriority %v MaxAvailableProfileObjectCount %v; want none, none, 1000", c.op, c.max, c.priority, c.avail)
			}
		}
		if got.ExpirationDays != nil || put.ExpirationDays != nil {
			t.Errorf("ExpirationDays %v (Put %v); want none: the domain's default applies", got.ExpirationDays, put.ExpirationDays)
		}
	})
}

// TestIngest_SourcePriority: BEHAVIOUR.md §3.4, §4 step 7. A value from
// the type of better SourcePriority (lower) is kept whatever the recency
// of others; a type without one ranks below every type with one; between
// equal priorities the newer source wins; a field only a lower type maps
// is still set.
func TestIngest_SourcePriority(t *testing.T) {
	e := newIngestEnv(t)
	crm := contactType("crm")
	crm.SourcePriority = aws.Int32(1)
	e.putType(crm)
	support := contactType("support")
	support.SourcePriority = aws.Int32(2)
	e.putType(support)
	e.putType(contactType("web")) // no priority

	first := func() string {
		t.Helper()
		return aws.ToString(e.mustOne("_email", "prio@example.com").FirstName)
	}
	e.mustPut("web", map[string]any{"id": "w1", "email": "prio@example.com", "name": map[string]any{"first": "Web"}, "updated": "2024-01-01T00:00:00Z"})
	if got := first(); got != "Web" {
		t.Fatalf("FirstName %q, want Web (the only source)", got)
	}
	e.mustPut("support", map[string]any{"id": "s1", "email": "prio@example.com", "name": map[string]any{"first": "Support"}, "updated": "2023-01-01T00:00:00Z"})
	if got := first(); got != "Support" {
		t.Fatalf("FirstName %q, want Support: priority 2 beats none, older or not", got)
	}
	e.mustPut("crm", map[string]any{"id": "c1", "email": "prio@example.com", "name": map[string]any{"first": "Crm"}, "updated": "2022-01-01T00:00:00Z"})
	if got := first(); got != "Crm" {
		t.Fatalf("FirstName %q, want Crm: priority 1 beats 2", got)
	}
	e.mustPut("web", map[string]any{"id": "w2", "email": "prio@example.com", "name": map[string]any{"first": "Web2"}, "address": map[string]any{"city": "Nantes"}, "updated": "2025-01-01T00:00:00Z"})
	e.mustPut("support", map[string]any{"id": "s2", "email": "prio@example.com", "name": map[string]any{"first": "Support2"}, "updated": "2025-01-01T00:00:00Z"})
	p := e.mustOne("_email", "prio@example.com")
	if got := aws.ToString(p.FirstName); got != "Crm" {
		t.Errorf("FirstName %q after newer objects of worse priority, want Crm", got)
	}
	if p.Address == nil || aws.ToString(p.Address.City) != "Nantes" {
		t.Errorf("Address %+v: the city only the type without priority maps was not set", p.Address)
	}
	e.mustPut("crm", map[string]any{"id": "c0", "email": "prio@example.com", "name": map[string]any{"first": "CrmOlder"}, "updated": "2021-01-01T00:00:00Z"})
	if got := first(); got != "Crm" {
		t.Errorf("FirstName %q, want Crm: an older source of the same priority loses", got)
	}
	e.mustPut("crm", map[string]any{"id": "c2", "email": "prio@example.com", "name": map[string]any{"first": "CrmNewer"}, "updated": "2026-01-01T00:00:00Z"})
	if got := first(); got != "CrmNewer" {
		t.Errorf("FirstName %q, want CrmNewer: a newer source of the same priority wins", got)
	}
}

// TestIngest_ExpirationStampedAtIngestion: BEHAVIOUR.md §3.4. An object's
// retention is its type's ExpirationDays when it was ingested: changing the
// type affects only objects ingested afterwards. ExpirationDays is 1-1098.
func TestIngest_ExpirationStampedAtIngestion(t *testing.T) {
	clock := &testClock{now: time.Now()}
	e := newIngestEnvClock(t, clock)
	ct := contactType("contact")
	ct.ExpirationDays = aws.Int32(2)
	e.putType(ct)
	e.mustPut("contact", map[string]any{"id": "before", "email": "stamp@example.com"})
	ct.ExpirationDays = aws.Int32(10)
	e.putType(ct)
	after := e.mustPut("contact", map[string]any{"id": "after", "email": "stamp@example.com"})
	pid := aws.ToString(e.mustOne("_email", "stamp@example.com").ProfileId)

	clock.add(3 * 24 * time.Hour)
	if got := e.uniqueKeys("contact", pid, nil); !slices.Equal(got, []string{after}) {
		t.Errorf("objects 3 days on: %v, want only the one ingested after ExpirationDays became 10 (%s)", got, after)
	}
	clock.add(8 * 24 * time.Hour)
	if got := e.uniqueKeys("contact", pid, nil); len(got) != 0 {
		t.Errorf("objects 11 days on: %v, want none", got)
	}

	for _, days := range []int32{0, 1099} {
		bad := contactType("bad")
		bad.DomainName, bad.ExpirationDays = aws.String(e.domain), aws.Int32(days)
		_, err := e.client.PutProfileObjectType(t.Context(), bad)
		wantAPIError(t, err, "BadRequestException", "ExpirationDays")
	}
}

// TestIngest_SourceLastUpdatedFormat: BEHAVIOUR.md §3.4. With a
// SourceLastUpdatedTimestampFormat, the _sourceLastUpdatedTimestamp field
// is read with that Java pattern: an older version of an object, by that
// time, does not replace a newer one; a value that does not match the
// pattern refuses the object, naming the format.
func TestIngest_SourceLastUpdatedFormat(t *testing.T) {
	e := newIngestEnv(t)
	ct := contactType("contact")
	ct.SourceLastUpdatedTimestampFormat = aws.String("dd/MM/yyyy HH:mm")
	e.putType(ct)
	e.mustPut("contact", map[string]any{"id": "c1", "email": "fmt@example.com", "tier": "new", "updated": "02/03/2024 10:00"})
	// 1 March is older than 2 March (read as month first, it would be 3 January vs 3 February: newer).
	e.mustPut("contact", map[string]any{"id": "c1", "email": "fmt@example.com", "tier": "old", "updated": "01/03/2024 11:00"})
	p := e.mustOne("_email", "fmt@example.com")
	if got := p.Attributes["tier"]; got != "new" {
		t.Errorf("tier %q, want new: the older version replaced the newer one", got)
	}
	_, err := e.put("contact", map[string]any{"id": "c2", "email": "fmt@example.com", "updated": "2024-03-02T10:00:00Z"})
	wantAPIError(t, err, "BadRequestException", "dd/MM/yyyy HH:mm")
}

// TestIngest_ProfileBytesQuota: BEHAVIOUR.md §11, §4 step 8. The objects of
// one profile hold at most 50 MB: an object that would take a profile past
// it is refused (BadRequest naming the limit) and stored nowhere; replacing
// an object of the profile by one of the same size is still fine, and so
// is a new object on another profile.
func TestIngest_ProfileBytesQuota(t *testing.T) {
	e := newIngestEnv(t, func(c *main.Config) { c.IngestRate = 0 })
	e.putType(contactType("contact"))
	const size, limit = 255_000, 50 << 20
	obj := func(id, email string) map[string]any {
		o := map[string]any{"id": id, "email": email, "note": ""}
		b, _ := json.Marshal(o)
		o["note"] = strings.Repeat("n", size-len(b))
		return o
	}
	n := limit / size // objects that fit
	for i := range n {
		e.mustPut("contact", obj(fmt.Sprintf("b%03d", i), "bytes@example.com"))
	}
	_, err := e.put("contact", obj("over", "bytes@example.com"))
	wantAPIError(t, err, "BadRequestException", fmt.Sprint(limit))
	if got := e.search("contactId", "over"); len(got) != 0 {
		t.Errorf("the refused object's key finds %d profiles", len(got))
	}
	d, err := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	if err != nil || d.Stats.ObjectCount != int64(n) || d.Stats.ProfileCount != 1 {
		t.Errorf("domain stats %+v (%v), want %d objects on one profile", d.Stats, err, n)
	}
	e.mustPut("contact", obj("b000", "bytes@example.com")) // a replacement adds nothing
	e.mustPut("contact", obj("elsewhere", "other@example.com"))
}

// TestObjectTypes_KeyRules: BEHAVIOUR.md §3.2-3.3 through the API. UNIQUE
// cannot be combined with LOOKUP_ONLY; the one UNIQUE key has one
// definition; some key must tie the object to a profile (or asset, case,
// order); identifiers come from the model's enum; several PROFILE keys, and
// one key with several identifiers, are fine.
func TestObjectTypes_KeyRules(t *testing.T) {
	e := newIngestEnv(t)
	tests := []struct {
		name  string
		keys  map[string][]types.ObjectTypeKey
		words []string // none: accepted
	}{
		{"UniqueLookupOnly", map[string][]types.ObjectTypeKey{
			"contactId": key([]string{"id"}, types.StandardIdentifierUnique, types.StandardIdentifierLookupOnly, types.StandardIdentifierProfile),
		}, []string{"contactId", "UNIQUE", "LOOKUP_ONLY"}},
		{"UniqueTwoDefinitions", map[string][]types.ObjectTypeKey{
			"contactId": append(key([]string{"id"}, types.StandardIdentifierUnique), key([]string{"email"}, types.StandardIdentifierUnique)...),
			"_email":    key([]string{"email"}, types.StandardIdentifierProfile),
		}, []string{"contactId", "UNIQUE"}},
		{"NothingTies", map[string][]types.ObjectTypeKey{
			"contactId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":    key([]string{"email"}, types.StandardIdentifierSecondary),
		}, []string{"PROFILE"}},
		{"UnknownIdentifier", map[string][]types.ObjectTypeKey{
			"contactId": key([]string{"id"}, types.StandardIdentifierUnique, "PRIMARY"),
			"_email":    key([]string{"email"}, types.StandardIdentifierProfile),
		}, []string{"Keys.contactId.1.member.StandardIdentifiers.2.member", "enum value set"}},
		{"SeveralProfileKeys", map[string][]types.ObjectTypeKey{
			"contactId": key([]string{"id"}, types.StandardIdentifierUnique, types.StandardIdentifierProfile),
			"_email":    key([]string{"email"}, types.StandardIdentifierProfile, types.StandardIdentifierLookupOnly),
			"_phone":    key([]string{"phone"}, types.StandardIdentifierProfile, types.StandardIdentifierSecondary, types.StandardIdentifierNewOnly),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := contactType("k" + tt.name)
			in.DomainName, in.Keys = aws.String(e.domain), tt.keys
			_, err := e.client.PutProfileObjectType(t.Context(), in)
			if tt.words == nil {
				if err != nil {
					t.Fatalf("PutProfileObjectType: %v", err)
				}
				return
			}
			wantAPIError(t, err, "BadRequestException", tt.words...)
		})
	}
}

// TestListProfileObjects_ObjectFilterTypesOwnKey: an ObjectFilter value is
// normalised as the listed type made its objects' keys, by its own
// definition of the key. Key names are shared by the domain, and another
// type (first by name) may define the same name over a field of another
// content type: the filter was normalised by that one, so a phone number
// written as the customer gave it found none of the listed type's objects.
func TestListProfileObjects_ObjectFilterTypesOwnKey(t *testing.T) {
	e := newIngestEnv(t)
	for _, c := range []struct{ name, ct string }{{"alpha", "STRING"}, {"beta", "PHONE_NUMBER"}} {
		e.putType(&customerprofiles.PutProfileObjectTypeInput{
			ObjectTypeName: aws.String(c.name), Description: aws.String(c.name), AllowProfileCreation: true,
			Fields: map[string]types.ObjectTypeField{
				"id":    field("_source.id", "", "STRING"),
				"email": field("_source.email", "", "EMAIL_ADDRESS"),
				"ref":   field("_source.ref", "", c.ct),
			},
			Keys: map[string][]types.ObjectTypeKey{
				c.name + "Id": key([]string{"id"}, types.StandardIdentifierUnique),
				"_email":      key([]string{"email"}, types.StandardIdentifierProfile),
				"callbackRef": key([]string{"ref"}),
			},
		})
	}
	k := e.mustPut("beta", map[string]any{"id": "b1", "email": "ref@example.com", "ref": "+1 (555) 010-0003"})
	e.mustPut("beta", map[string]any{"id": "b2", "email": "ref@example.com", "ref": "+1 (555) 010-0004"})
	pid := aws.ToString(e.mustOne("_email", "ref@example.com").ProfileId)
	f := &types.ObjectFilter{KeyName: aws.String("callbackRef"), Values: []string{"555.010.0003"}}
	if got := e.uniqueKeys("beta", pid, f); !slices.Equal(got, []string{k}) {
		t.Errorf("beta objects with callbackRef 555.010.0003: %v, want [%s]", got, k)
	}
}

// TestObjectTypes_TemplateSettingsWin: BEHAVIOUR.md §3.4 (model,
// PutProfileObjectType TemplateId): with a TemplateId, AllowProfileCreation
// and SourceLastUpdatedTimestampFormat are the template's, whatever the
// request says. A format sent with the template replaced the template's,
// and the template's own records, whose timestamps follow its format, were
// then refused.
func TestObjectTypes_TemplateSettingsWin(t *testing.T) {
	e := newIngestEnv(t)
	tpl, _ := templates.Get("Salesforce-Contact")
	e.putType(&customerprofiles.PutProfileObjectTypeInput{ObjectTypeName: aws.String("sf"), Description: aws.String("contacts"),
		TemplateId: aws.String("Salesforce-Contact"), SourceLastUpdatedTimestampFormat: aws.String("dd/MM/yyyy")})
	got, err := e.client.GetProfileObjectType(t.Context(), &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("sf")})
	if err != nil {
		t.Fatal(err)
	}
	if f := aws.ToString(got.SourceLastUpdatedTimestampFormat); f != tpl.ObjectType.SourceLastUpdatedTimestampFormat {
		t.Errorf("SourceLastUpdatedTimestampFormat %q, want the template's %q", f, tpl.ObjectType.SourceLastUpdatedTimestampFormat)
	}
	e.mustPut("sf", map[string]any{"Id": "003A000009", "AccountId": "001A000009", "FirstName": "Ada", "Email": "ada@example.com", "LastModifiedDate": "2024-05-01T10:00:00.000+0000"})
	if p := e.mustOne("_salesforceContactId", "003A000009"); aws.ToString(p.FirstName) != "Ada" {
		t.Errorf("profile %+v", p)
	}

	tplNo, _ := templates.Get("CTR-AutoAssociateOnly")
	in := &customerprofiles.PutProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("ctr2"), Description: aws.String("contacts"),
		TemplateId: aws.String("CTR-AutoAssociateOnly"), AllowProfileCreation: true}
	if _, err := e.client.PutProfileObjectType(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got, err = e.client.GetProfileObjectType(t.Context(), &customerprofiles.GetProfileObjectTypeInput{DomainName: aws.String(e.domain), ObjectTypeName: aws.String("ctr2")})
	if err != nil {
		t.Fatal(err)
	}
	if got.AllowProfileCreation != tplNo.ObjectType.AllowProfileCreation {
		t.Errorf("AllowProfileCreation %v, want the template's %v", got.AllowProfileCreation, tplNo.ObjectType.AllowProfileCreation)
	}
}
