package service

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
)

// BenchmarkSearchProfiles_100k searches by phone, by email and by AND of
// both among 100,000 profiles. The profiles are written in one transaction
// through the store, with the standard keys the service maintains.
func BenchmarkSearchProfiles_100k(b *testing.B) {
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "search.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := New(db, "us-east-1", "000000000000", []byte("secret"))
	ctx := b.Context()
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "big", DefaultExpirationDays: 30}); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	err := db.Update(ctx, func(tx profiles.Tx) error {
		for i := range n {
			p := &profiles.Profile{DomainName: "big", ID: fmt.Sprintf("%032x", i+1), Fields: map[string]string{
				"FirstName": "Person", "LastName": fmt.Sprint(i),
				"PhoneNumber": fmt.Sprintf("+1 555 %07d", i), "EmailAddress": fmt.Sprintf("person%d@example.com", i),
			}}
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, s.standardKeys(p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	queries := map[string]func(i int) profiles.SearchQuery{
		"Phone": func(i int) profiles.SearchQuery {
			return profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_phone", Values: []string{fmt.Sprintf("(555) %07d", i)}}}
		},
		"Email": func(i int) profiles.SearchQuery {
			return profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("PERSON%d@example.com", i)}}}
		},
		"PhoneAndEmail": func(i int) profiles.SearchQuery {
			return profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_phone", Values: []string{fmt.Sprintf("555%07d", i)}}, LogicalOperator: "AND",
				Additional: []profiles.SearchKey{{KeyName: "_email", Values: []string{fmt.Sprintf("person%d@example.com", i)}}}}
		},
	}
	for _, name := range []string{"Phone", "Email", "PhoneAndEmail"} {
		q := queries[name]
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i = (i + 7919) % n
				found, _, err := s.SearchProfiles(ctx, "big", q(i), profiles.Page{})
				if err != nil || len(found) != 1 {
					b.Fatalf("found %d, err %v", len(found), err)
				}
			}
		})
	}
}
