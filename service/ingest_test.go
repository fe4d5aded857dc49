package service_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// TestPutProfileObject_TypeChanged: an object is mapped before its
// transaction with the mapping last used for its type; when the type has
// changed since, the transaction maps it again with the type it reads.
func TestPutProfileObject_TypeChanged(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	// The city now goes to the shipping address instead.
	typ := contactType("bench")
	typ.Fields["city"] = profiles.ObjectTypeField{Source: "_source.city", Target: "_profile.ShippingAddress.City"}
	if _, err := s.PutObjectType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(2, 2)); err != nil {
		t.Fatal(err)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"person2@example.com"}}}, profiles.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("found %d profiles, want 1", len(found))
	}
	p := found[0].Profile
	if got := p.Fields["ShippingAddress.City"]; got != "Lyon" {
		t.Fatalf("ShippingAddress.City = %q, want Lyon (fields %v): the object was mapped with the old type", got, p.Fields)
	}
	if got := p.Fields["Address.City"]; got != "" {
		t.Fatalf("Address.City = %q, want none: the object was mapped with the old type", got)
	}
}

// TestPutProfileObject_StandardKeysFollowFields: an object that changes a
// field the standard keys are made of replaces them; one that changes
// none keeps them.
func TestPutProfileObject_StandardKeysFollowFields(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	search := func(key, value string) []string {
		t.Helper()
		found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: key, Values: []string{value}}}, profiles.Page{})
		if err != nil {
			t.Fatalf("SearchProfiles %s %q: %v", key, value, err)
		}
		var ids []string
		for _, f := range found {
			ids = append(ids, f.Profile.ID)
		}
		return ids
	}
	if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(1, 1)); err != nil {
		t.Fatal(err)
	}
	ids := search("_fullName", "Ann Lee")
	if len(ids) != 1 {
		t.Fatalf("_fullName Ann Lee finds %v, want one profile", ids)
	}
	// Same email (the same profile), another last name; then the same again,
	// and one with the same fields.
	for i, obj := range []string{
		`{"id":"c2","email":"person1@example.com","phone":"+1 555 0000001","first":"Ann","last":"Ng","city":"Lyon"}`,
		`{"id":"c3","email":"person1@example.com","phone":"+1 555 0000001","first":"Ann","last":"Ng","city":"Paris"}`,
	} {
		if _, err := s.PutProfileObject(ctx, "bench", "contact", obj); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		if got := search("_fullName", "Ann Ng"); len(got) != 1 || got[0] != ids[0] {
			t.Fatalf("after object %d: _fullName Ann Ng finds %v, want %v", i, got, ids)
		}
		if got := search("_fullName", "Ann Lee"); len(got) != 0 {
			t.Fatalf("after object %d: _fullName Ann Lee finds %v, want none", i, got)
		}
	}
}

// TestProfileIDs_SortByCreation: with SortedProfileIDs, profile ids sort
// in the order the profiles were created, whether by ingestion or by
// CreateProfile, so that new profiles go in at the end of the store's
// indexes; without it (the default, and PostgreSQL's), they are random.
// Both are 32 lower-case hex characters, an AWS profile id's form.
func TestProfileIDs_SortByCreation(t *testing.T) {
	for _, sorted := range []bool{true, false} {
		s := MustOpenService(t)
		s.SortedProfileIDs = sorted
		ids := createProfiles(t, s, 20)
		hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
		inOrder := true
		for i, id := range ids {
			if !hex32.MatchString(id) {
				t.Fatalf("sorted=%v: profile id %q is not 32 lower-case hex characters", sorted, id)
			}
			if i > 0 && id <= ids[i-1] {
				inOrder = false
				if sorted {
					t.Fatalf("profile %d's id %s does not sort after profile %d's %s", i, id, i-1, ids[i-1])
				}
			}
		}
		if !sorted && inOrder {
			t.Fatalf("random ids came in creation order: %v", ids)
		}
	}
}

// createProfiles creates n profiles, alternately by ingestion and by
// CreateProfile, and returns their ids in creation order.
func createProfiles(t *testing.T, s *service.Service, n int) []string {
	ctx := t.Context()
	var ids []string
	for i := range n {
		if i%2 == 0 {
			if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(i, i)); err != nil {
				t.Fatal(err)
			}
			found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("person%d@example.com", i)}}}, profiles.Page{})
			if err != nil || len(found) != 1 {
				t.Fatalf("search person%d: %d found, %v", i, len(found), err)
			}
			ids = append(ids, found[0].Profile.ID)
			continue
		}
		p, err := s.CreateProfile(ctx, "bench", map[string]string{"FirstName": "Ann"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// TestPutProfileObject_DomainChanges: ingestion keeps the domain it read
// for a second (domaincache.go). A change through this service applies to
// the next object; one made beside it (another node, here the store
// itself) within that second; a domain deleted beside it fails the next
// ingestion at once.
func TestPutProfileObject_DomainChanges(t *testing.T) {
	ctx := t.Context()
	s := MustOpenService(t)
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return clock }
	expiryDays := func(i int) int {
		t.Helper()
		key, err := s.PutProfileObject(ctx, "bench", "contact", contact(i, i))
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		var o *profiles.ProfileObject
		err = s.Store.View(ctx, func(tx profiles.Tx) error {
			o, err = tx.FindObject(ctx, "bench", "contact", key)
			return err
		})
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		return int(o.ExpiresAt.Sub(clock) / (24 * time.Hour))
	}
	if got := expiryDays(1); got != 30 {
		t.Fatalf("object 1 expires in %d days, want the domain's 30", got)
	}

	days := 40
	if _, err := s.UpdateDomain(ctx, "bench", &profiles.DomainUpdate{DefaultExpirationDays: &days}); err != nil {
		t.Fatal(err)
	}
	if got := expiryDays(2); got != 40 {
		t.Fatalf("after UpdateDomain through the service, object 2 expires in %d days, want 40", got)
	}

	if _, err := s.Store.UpdateDomain(ctx, "bench", func(d *profiles.Domain) error {
		d.DefaultExpirationDays = 50
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if got := expiryDays(3); got != 50 {
		t.Fatalf("a second after UpdateDomain beside the service, object 3 expires in %d days, want 50", got)
	}

	if err := s.Store.DeleteDomain(ctx, "bench"); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutProfileObject(ctx, "bench", "contact", contact(4, 4))
	if profiles.ErrorCode(err) != profiles.ENOTFOUND || profiles.ErrorMessage(err) != "Domain bench not found." {
		t.Fatalf("after DeleteDomain beside the service: err = %v, want ENOTFOUND Domain bench not found.", err)
	}
}

// findDomainCounter is the store of a service, counting FindDomain calls.
type findDomainCounter struct {
	profiles.Store
	calls atomic.Int64
}

func (c *findDomainCounter) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	c.calls.Add(1)
	return c.Store.FindDomain(ctx, name)
}

// TestPutProfileObject_ReadsDomainOnce: ingestions within a second read
// their domain from the store once between them; after UpdateDomain
// through the service, once more.
func TestPutProfileObject_ReadsDomainOnce(t *testing.T) {
	ctx := t.Context()
	store := &findDomainCounter{Store: MustOpenSQLite(t)}
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := serviceOn(store, &clock)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "bench", DefaultExpirationDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("bench")); err != nil {
		t.Fatal(err)
	}
	ingest := func(from, to int) int64 {
		t.Helper()
		before := store.calls.Load()
		for i := from; i < to; i++ {
			if _, err := s.PutProfileObject(ctx, "bench", "contact", contact(i, i)); err != nil {
				t.Fatalf("object %d: %v", i, err)
			}
		}
		return store.calls.Load() - before
	}
	if n := ingest(0, 20); n != 1 {
		t.Errorf("20 ingestions read the domain %d times, want 1", n)
	}
	days := 40
	if _, err := s.UpdateDomain(ctx, "bench", &profiles.DomainUpdate{DefaultExpirationDays: &days}); err != nil {
		t.Fatal(err)
	}
	if n := ingest(20, 40); n != 1 {
		t.Errorf("after UpdateDomain, 20 ingestions read the domain %d times, want 1", n)
	}
	clock = clock.Add(time.Second)
	if n := ingest(40, 41); n != 1 {
		t.Errorf("a second later, an ingestion read the domain %d times, want 1", n)
	}
}

// TestResolve_SharedEmailNewCustomer: AWS's rule for keys other than a
// contact record's id: an email several profiles share is ignored, and a
// record with a new customer id (UNIQUE and PROFILE) and that email makes
// a new profile; it is not refused as ambiguous.
func TestResolve_SharedEmailNewCustomer(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	ot := &profiles.ObjectType{DomainName: "bench", Name: "crm", Description: "crm", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"customerId": {{StandardIdentifiers: []string{profiles.IdentifierUnique, profiles.IdentifierProfile}, FieldNames: []string{"id"}}},
			"_email":     {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"email"}}},
		}}
	if _, err := s.PutObjectType(ctx, ot); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.CreateProfile(ctx, "bench", map[string]string{"EmailAddress": "family@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutProfileObject(ctx, "bench", "crm", `{"id":"new-1","email":"family@example.com"}`); err != nil {
		t.Fatalf("a new customer with a shared email: %v; want a new profile", err)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"family@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 3 {
		t.Errorf("profiles of the shared email: %d, %v; want the two and a new one", len(found), err)
	}
}

// TestPutProfileObject_ProfileSizeLimit: ingestion keeps a profile within
// MaxProfileSize, as CreateProfile and UpdateProfile do. Fields that share
// a source can make a small object fill a profile past the limit; such an
// object is refused (PROFILE_QUOTA), on a new profile as on an existing
// one, and the profile is left as it was (it was written, 271 KB, and then
// UpdateProfile refused every change to it).
func TestPutProfileObject_ProfileSizeLimit(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	wide := &profiles.ObjectType{DomainName: "bench", Name: "wide", Description: "wide", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{"id": {Source: "_source.id"}},
		Keys: map[string][]profiles.ObjectTypeKey{
			"wideId": {{StandardIdentifiers: []string{profiles.IdentifierUnique, profiles.IdentifierProfile}, FieldNames: []string{"id"}}},
			"_email": {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"email"}}},
		}}
	wide.Fields["email"] = profiles.ObjectTypeField{Source: "_source.email", ContentType: profiles.ContentEmail}
	for i := range 1000 {
		wide.Fields[fmt.Sprintf("a%04d", i)] = profiles.ObjectTypeField{Source: "_source.v", Target: fmt.Sprintf("_profile.Attributes.a%04d", i)}
	}
	if _, err := s.PutObjectType(ctx, wide); err != nil {
		t.Fatal(err)
	}
	v := strings.Repeat("x", 255)     // 1000 × (15 + 255) bytes > 250,000
	small := strings.Repeat("x", 200) // 1000 × (15 + 200) bytes < 250,000

	// A new profile.
	_, err := s.PutProfileObject(ctx, "bench", "wide", `{"id":"w1","email":"w1@example.com","v":"`+v+`"}`)
	if profiles.ErrorReason(err) != profiles.ReasonProfileQuota {
		t.Fatalf("an object making a %d-byte profile: %v; want %s", 1000*(15+255), err, profiles.ReasonProfileQuota)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "wideId", Values: []string{"w1"}}}, profiles.Page{})
	if err != nil || len(found) != 0 {
		t.Fatalf("profiles of the refused object: %d, %v; want none", len(found), err)
	}

	// An existing profile that fits, then an object that would make it too big.
	p, err := s.CreateProfile(ctx, "bench", map[string]string{"EmailAddress": "w2@example.com", "FirstName": "Wen"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutProfileObject(ctx, "bench", "wide", `{"id":"w2","email":"w2@example.com","v":"`+small+`"}`); err != nil {
		t.Fatalf("an object that fits: %v", err)
	}
	_, err = s.PutProfileObject(ctx, "bench", "wide", `{"id":"w3","email":"w2@example.com","v":"`+v+`"}`)
	if profiles.ErrorReason(err) != profiles.ReasonProfileQuota {
		t.Fatalf("an object making an existing profile too big: %v; want %s", err, profiles.ReasonProfileQuota)
	}
	got, _, err := s.BatchGetProfiles(ctx, "bench", []string{p.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("BatchGetProfiles: %d, %v", len(got), err)
	}
	if a := got[0].Fields["Attributes.a0000"]; a != small {
		t.Errorf("Attributes.a0000 is %d characters; want the %d of the object that fit", len(a), len(small))
	}
	if _, err := s.UpdateProfile(ctx, "bench", p.ID, map[string]string{"FirstName": "Wendy"}); err != nil {
		t.Errorf("UpdateProfile after the refused object: %v", err)
	}
}

// TestPutProfileObject_NewOnlyKeyKeptOnUpdate: the docs' ticket example
// (BEHAVIOUR.md §3.3). A ticket whose email several profiles share makes
// an inferred profile keyed by its NEW_ONLY key ticketEmail, and later
// tickets from that address go to it. Updating the first ticket (the same
// UNIQUE key) must keep that key: it replaced the object's keys with
// those of an object that matched (not created) its profile, dropped
// ticketEmail, and the next ticket made yet another profile.
func TestPutProfileObject_NewOnlyKeyKeptOnUpdate(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	ticket := &profiles.ObjectType{DomainName: "bench", Name: "ticket", Description: "tickets", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{
			"id":     {Source: "_source.id"},
			"email":  {Source: "_source.email", ContentType: profiles.ContentEmail},
			"status": {Source: "_source.status"},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"_email":       {{StandardIdentifiers: []string{profiles.IdentifierProfile, profiles.IdentifierLookupOnly}, FieldNames: []string{"email"}}},
			"ticketEmail":  {{StandardIdentifiers: []string{profiles.IdentifierProfile, profiles.IdentifierSecondary, profiles.IdentifierNewOnly}, FieldNames: []string{"email"}}},
			"uniqueTicket": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}},
		}}
	if _, err := s.PutObjectType(ctx, ticket); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.CreateProfile(ctx, "bench", map[string]string{"EmailAddress": "family@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(key string) []string {
		t.Helper()
		found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: key, Values: []string{"family@example.com"}}}, profiles.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range found {
			ids = append(ids, f.Profile.ID)
		}
		return ids
	}
	for _, obj := range []string{
		`{"id":"t1","email":"family@example.com","status":"open"}`,   // a new inferred profile
		`{"id":"t2","email":"family@example.com","status":"open"}`,   // found by ticketEmail
		`{"id":"t1","email":"family@example.com","status":"closed"}`, // t1 updated
		`{"id":"t3","email":"family@example.com","status":"open"}`,   // found by ticketEmail
	} {
		if _, err := s.PutProfileObject(ctx, "bench", "ticket", obj); err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
	}
	if ids := search("_email"); len(ids) != 3 {
		t.Errorf("profiles with the email: %d; want the two and one inferred", len(ids))
	}
	if ids := search("ticketEmail"); len(ids) != 1 {
		t.Errorf("profiles found by ticketEmail: %v; want the inferred one", ids)
	}
}

// TestDeleteObjectType_Implicit: a template used as an object type without
// being defined (an implicit type, BEHAVIOUR.md §3.4) can be deleted to
// remove all the data ingested through it: its objects, their keys and the
// profile fields they set. It answered not found, and the data stayed.
func TestDeleteObjectType_Implicit(t *testing.T) {
	s := MustOpenService(t)
	ctx := t.Context()
	customer := `{"id":207119551,"email":"bob@example.com","first_name":"Bob","updated_at":"2024-01-02T10:11:12-05:00"}`
	if _, err := s.PutProfileObject(ctx, "bench", "Shopify-Customer", customer); err != nil {
		t.Fatal(err)
	}
	search := func() []*profiles.Profile {
		t.Helper()
		found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"bob@example.com"}}}, profiles.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var ps []*profiles.Profile
		for _, f := range found {
			ps = append(ps, f.Profile)
		}
		return ps
	}
	ps := search()
	if len(ps) != 1 || ps[0].Fields["FirstName"] != "Bob" {
		t.Fatalf("profiles of the customer: %v; want one named Bob", ps)
	}
	id := ps[0].ID

	if err := s.DeleteObjectType(ctx, "bench", "Shopify-Customer"); err != nil {
		t.Fatalf("DeleteObjectType of the implicit type: %v", err)
	}
	objs, _, err := s.ListProfileObjects(ctx, "bench", "Shopify-Customer", id, "", nil, profiles.Page{})
	if err != nil || len(objs) != 0 {
		t.Errorf("objects of the deleted type: %d, %v; want none", len(objs), err)
	}
	found, _, err := s.SearchProfiles(ctx, "bench", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_shopifyCustomerId", Values: []string{"207119551"}}}, profiles.Page{})
	if err != nil || len(found) != 0 {
		t.Errorf("profiles found by the deleted type's key: %d, %v; want none", len(found), err)
	}
	got, _, err := s.BatchGetProfiles(ctx, "bench", []string{id})
	if err != nil || len(got) != 1 {
		t.Fatalf("BatchGetProfiles: %d, %v", len(got), err)
	}
	if f := got[0].Fields; len(f) != 0 {
		t.Errorf("profile fields after the type's deletion: %v; want none", f)
	}
	// The template is still there to be used again.
	if _, err := s.PutProfileObject(ctx, "bench", "Shopify-Customer", customer); err != nil {
		t.Errorf("the template after its implicit type's deletion: %v", err)
	}
	// A template never used is an implicit type too: deleting it removes nothing.
	if err := s.DeleteObjectType(ctx, "bench", "Zendesk-users"); err != nil {
		t.Errorf("DeleteObjectType of an unused template: %v", err)
	}
	if err := s.DeleteObjectType(ctx, "bench", "no-such-type"); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("DeleteObjectType of an unknown type: %v; want ENOTFOUND", err)
	}
}

// TestDeleteObjectType_ImplicitScrubKeepsNewObjects: the clearing of the
// profile fields of a deleted implicit type, finished later by the sweep
// (its node killed mid-way), leaves the fields that objects ingested since
// through the template (still an implicit type) set: a profile holding
// objects of the type keeps them. Before, the sweep cleared them, while
// their objects stayed.
func TestDeleteObjectType_ImplicitScrubKeepsNewObjects(t *testing.T) {
	ctx := t.Context()
	s, tpl, _ := implicitScrubEnv(t)
	if err := s.DeleteObjectType(ctx, "d", tpl); err != nil {
		t.Fatal(err)
	}
	// A customer ingested since, through the template.
	if _, err := s.PutProfileObject(ctx, "d", tpl, `{"id":2,"email":"carol@example.com","first_name":"Carol"}`); err != nil {
		t.Fatal(err)
	}
	// The scrub's record as a node killed mid-delete leaves it.
	if err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: "d", Kind: profiles.ConfigTypeScrub, Name: tpl, Data: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RunTypeScrubs(ctx); n != 1 || err != nil {
		t.Fatalf("RunTypeScrubs: %d, %v; want 1 scrub run", n, err)
	}
	found, _, err := s.SearchProfiles(ctx, "d", profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{"carol@example.com"}}}, profiles.Page{})
	if err != nil || len(found) != 1 {
		t.Fatalf("profiles of carol@example.com: %d, %v; want 1", len(found), err)
	}
	if f := found[0].Profile.Fields; f["FirstName"] != "Carol" {
		t.Errorf("fields of the profile of an object ingested after the delete: %v; want FirstName Carol kept", f)
	}
}
