package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/sqlite"
	"github.com/openprofiles/profiles/storetest"
)

// benchObject is a contact record of about 1 KB.
var benchObject = []byte(`{"ContactId":"%s","Channel":"VOICE","InitiationMethod":"INBOUND",` +
	`"CustomerEndpoint":{"Address":"%s","Type":"TELEPHONE_NUMBER"},` +
	`"Attributes":{` + strings.Repeat(`"attribute":"value of some length",`, 24) + `"last":"x"}}`)

// ingest does what the service does for one object: find the profile by
// key, create it if there is none, store the object and its keys.
func ingest(ctx context.Context, db *sqlite.DB, i, nProfiles int) error {
	phone := fmt.Sprintf("+3361%07d", i%nProfiles)
	uk := fmt.Sprintf("contact-%09d", i)
	return db.Update(ctx, func(tx profiles.Tx) error {
		ids, err := tx.FindProfileIDs(ctx, "d", "_phone", phone)
		if err != nil {
			return err
		}
		var id string
		if len(ids) > 0 {
			id = ids[0]
		} else {
			id = fmt.Sprintf("%032x", i)
			p := &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"PhoneNumber": phone}}
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: profiles.KeyOriginProfile}}); err != nil {
				return err
			}
		}
		o := &profiles.ProfileObject{
			DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: id,
			Data:      fmt.Appendf(nil, string(benchObject), uk, phone),
			ExpiresAt: time.Now().Add(24 * time.Hour),
		}
		if err := tx.PutObject(ctx, o); err != nil {
			return err
		}
		return tx.PutKeys(ctx, []profiles.Key{
			{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: "CTR", ObjectKey: uk},
			{DomainName: "d", Name: "_ctrContactId", Value: uk, ProfileID: id, Origin: "CTR", ObjectKey: uk},
		})
	})
}

// BenchmarkPutObject measures one ingestion transaction of a 1 KB object:
// FindProfileIDs; PutProfile and PutKeys when no profile has the key (the
// first 1,000 objects); PutObject; PutKeys of two object keys. Objects then
// spread over those 1,000 profiles. Serial runs from one goroutine,
// Parallel from GOMAXPROCS: writes are serialised, so Parallel shows what
// waiting for the writer costs, not a speed-up.
func BenchmarkPutObject(b *testing.B) {
	const profileCount = 1000
	b.Run("Serial", func(b *testing.B) {
		ctx, db := b.Context(), MustOpenDB(b)
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
			b.Fatalf("CreateDomain: %v", err)
		}
		i := 0
		for b.Loop() {
			if err := ingest(ctx, db, i, profileCount); err != nil {
				b.Fatalf("ingest: %v", err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		ctx, db := b.Context(), MustOpenDB(b)
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
			b.Fatalf("CreateDomain: %v", err)
		}
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := ingest(ctx, db, int(next.Add(1)), profileCount); err != nil {
					b.Errorf("ingest: %v", err)
					return
				}
			}
		})
	})
}

// BenchmarkFindProfileIDs looks keys up among 10,000: 5,000 profiles each
// hold a key from their fields and one from an object (which the lookup
// checks has not expired).
func BenchmarkFindProfileIDs(b *testing.B) {
	ctx, db := b.Context(), MustOpenDB(b)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
		b.Fatalf("CreateDomain: %v", err)
	}
	const n = 5000
	err := db.Update(ctx, func(tx profiles.Tx) error {
		for i := range n {
			id, phone, email := fmt.Sprintf("%032x", i), fmt.Sprintf("+3361%07d", i), fmt.Sprintf("user%d@example.com", i)
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"PhoneNumber": phone}}); err != nil {
				return err
			}
			uk := fmt.Sprintf("contact-%09d", i)
			o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: id,
				Data: []byte(`{}`), ExpiresAt: time.Now().Add(24 * time.Hour)}
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{
				{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: profiles.KeyOriginProfile},
				{DomainName: "d", Name: "_email", Value: email, ProfileID: id, Origin: "CTR", ObjectKey: uk},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("populate: %v", err)
	}
	find := func(i int) error {
		name, value := "_phone", fmt.Sprintf("+3361%07d", i%n)
		if i%2 == 1 {
			name, value = "_email", fmt.Sprintf("user%d@example.com", i%n)
		}
		return db.View(ctx, func(tx profiles.Tx) error {
			ids, err := tx.FindProfileIDs(ctx, "d", name, value)
			if err == nil && len(ids) != 1 {
				err = fmt.Errorf("FindProfileIDs(%s, %s): %q, want one id", name, value, ids)
			}
			return err
		})
	}
	b.Run("Serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := find(i * 7919); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := find(int(next.Add(1)) * 7919); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkIngestBucket: see storetest.BenchIngestBucket.
func BenchmarkIngestBucket(b *testing.B) {
	storetest.BenchIngestBucket(b, func(tb testing.TB) profiles.Store { return MustOpenDB(tb) })
}

// BenchmarkFindProfileIDs_FrequentCaller looks up the phone of a customer
// whose 1,000 contacts (the most objects a profile holds) each gave the
// profile a key of that phone, as ingestion does for every contact of a
// frequent caller: FindProfileIDs must not read (and check the expiry of)
// all 1,000 keys to return the one profile.
func BenchmarkFindProfileIDs_FrequentCaller(b *testing.B) {
	ctx, db := b.Context(), MustOpenDB(b)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
		b.Fatalf("CreateDomain: %v", err)
	}
	const phone, id = "+33612345678", "00000000000000000000000000000001"
	err := db.Update(ctx, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{"PhoneNumber": phone}}); err != nil {
			return err
		}
		for i := range profiles.MaxObjectsPerProfile {
			uk := fmt.Sprintf("contact-%09d", i)
			o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: id,
				Data: []byte(`{}`), ExpiresAt: time.Now().Add(24 * time.Hour)}
			if err := tx.PutObject(ctx, o); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_phone", Value: phone, ProfileID: id, Origin: "CTR", ObjectKey: uk}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("populate: %v", err)
	}
	for b.Loop() {
		err := db.View(ctx, func(tx profiles.Tx) error {
			ids, err := tx.FindProfileIDs(ctx, "d", "_phone", phone)
			if err == nil && (len(ids) != 1 || ids[0] != id) {
				err = fmt.Errorf("FindProfileIDs: %q, want [%s]", ids, id)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
