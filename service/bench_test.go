package service_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sqlite"
)

// MustOpenSQLite returns a new SQLite store in a temp dir, closed when tb
// ends.
func MustOpenSQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "profiles.db"))
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// serviceOn returns a service on store with no ingestion rate limit, whose
// clock reads *clock (tests move it).
func serviceOn(store profiles.Store, clock *time.Time) *service.Service {
	s := service.New(store, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(0, 1)
	s.Now = func() time.Time { return *clock }
	return s
}

// MustOpenService returns a service on a new SQLite store with one domain
// and a contact object type.
func MustOpenService(tb testing.TB) *service.Service {
	tb.Helper()
	db := MustOpenSQLite(tb)
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(0, 1)
	ctx := tb.Context()
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "bench", DefaultExpirationDays: 30}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.PutObjectType(ctx, contactType("bench")); err != nil {
		tb.Fatal(err)
	}
	return s
}

// contactType is an object type of contacts: id (UNIQUE), email (PROFILE),
// phone (PROFILE, SECONDARY), names and city.
func contactType(domain string) *profiles.ObjectType {
	return &profiles.ObjectType{
		DomainName: domain, Name: "contact", Description: "contacts", AllowProfileCreation: true,
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
			"phone": {Source: "_source.phone", Target: "_profile.PhoneNumber", ContentType: profiles.ContentPhone},
			"first": {Source: "_source.first", Target: "_profile.FirstName", ContentType: profiles.ContentName},
			"last":  {Source: "_source.last", Target: "_profile.LastName", ContentType: profiles.ContentName},
			"city":  {Source: "_source.city", Target: "_profile.Address.City"},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"contactId": {{StandardIdentifiers: []string{profiles.IdentifierUnique}, FieldNames: []string{"id"}}},
			"_email":    {{StandardIdentifiers: []string{profiles.IdentifierProfile}, FieldNames: []string{"email"}}},
			"_phone":    {{StandardIdentifiers: []string{profiles.IdentifierProfile, profiles.IdentifierSecondary}, FieldNames: []string{"phone"}}},
		},
	}
}

func contact(i, person int) string {
	return fmt.Sprintf(`{"id":"c%d","email":"person%d@example.com","phone":"+1 555 %07d","first":"Ann","last":"Lee","city":"Lyon"}`, i, person, person)
}

// BenchmarkPutProfileObject_NewProfiles ingests objects that each create a profile.
func BenchmarkPutProfileObject_NewProfiles(b *testing.B) {
	s := MustOpenService(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.PutProfileObject(b.Context(), "bench", "contact", contact(i, i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutProfileObject_KnownProfiles ingests objects into 100 existing profiles.
func BenchmarkPutProfileObject_KnownProfiles(b *testing.B) {
	s := MustOpenService(b)
	for p := range 100 {
		if _, err := s.PutProfileObject(b.Context(), "bench", "contact", contact(-p-1, p)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := s.PutProfileObject(b.Context(), "bench", "contact", contact(i, i%100)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchProfiles_Email searches one of 1,000 profiles by email.
func BenchmarkSearchProfiles_Email(b *testing.B) {
	s := MustOpenService(b)
	for p := range 1000 {
		if _, err := s.PutProfileObject(b.Context(), "bench", "contact", contact(p, p)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		i++
		q := profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("PERSON%d@example.com", i%1000)}}}
		found, _, err := s.SearchProfiles(b.Context(), "bench", q, profiles.Page{})
		if err != nil || len(found) != 1 {
			b.Fatalf("found %d, err %v", len(found), err)
		}
	}
}
