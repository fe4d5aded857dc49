package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// BenchDeleteExpired measures the expiry sweep: one DeleteExpired of a
// page of 1,000 expired objects of 1 KB, each with its keys and its
// INGESTED history record of 1 KB (which the sweep empties), on profiles
// that hold other history records (100 bytes of content each). Spread: one
// object on each of 1,000 profiles of 50 records; Frequent: the 1,000
// objects on one profile of 5,000 records (a frequent caller). Each run
// adds an EXPIRED record and an emptied one to the profiles: run it a
// fixed number of times (-benchtime=10x) for figures that compare. The
// pages are written with the timer stopped.
func BenchDeleteExpired(b *testing.B, open func(testing.TB) profiles.Store) {
	for _, c := range []struct {
		name              string
		profiles, records int
	}{{"Spread", 1000, 50}, {"Frequent", 1, 5000}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, db := b.Context(), open(b)
			if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
				b.Fatalf("CreateDomain: %v", err)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			id := func(p int) string { return fmt.Sprintf("%032x", 0xb0_0000+p) }
			n := 0 // history records written
			for p := 0; p < c.profiles; p += 100 {
				err := db.Update(ctx, func(tx profiles.Tx) error {
					for q := p; q < min(p+100, c.profiles); q++ {
						if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id(q), Fields: map[string]string{"FirstName": "A"}}); err != nil {
							return err
						}
						for range c.records {
							at := start.Add(time.Duration(n) * time.Millisecond)
							if err := tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: id(q), ID: fmt.Sprintf("%032x", n),
								ActionType: profiles.ActionIngested, ObjectTypeName: "Other", ObjectKey: fmt.Sprintf("other-%09d", n), PerformedBy: "Other",
								Content: []byte(strings.Repeat("o", 100)), CreatedAt: at, LastUpdatedAt: at}); err != nil {
								return err
							}
							n++
						}
					}
					return nil
				})
				if err != nil {
					b.Fatalf("background history: %v", err)
				}
			}
			const page = 1000
			sweepAt := start.Add(24 * time.Hour)
			objects := 0
			for b.Loop() {
				b.StopTimer()
				for i := 0; i < page; i += 250 {
					err := db.Update(ctx, func(tx profiles.Tx) error {
						for j := i; j < i+250; j++ {
							pid, uk := id(objects%c.profiles), fmt.Sprintf("contact-%09d", objects)
							at := start.Add(time.Duration(objects) * time.Millisecond)
							o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: pid,
								Data: historyContent(uk), SourceLastUpdated: at, CreatedAt: at, UpdatedAt: at, ExpiresAt: at.Add(time.Hour)}
							if err := tx.PutObject(ctx, o); err != nil {
								return err
							}
							if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_ctrContactId", Value: uk, ProfileID: pid, Origin: "CTR", ObjectKey: uk}}); err != nil {
								return err
							}
							if err := tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: pid, ID: fmt.Sprintf("%032x", n),
								ActionType: profiles.ActionIngested, ObjectTypeName: "CTR", ObjectKey: uk, PerformedBy: "CTR",
								Content: historyContent(uk), CreatedAt: at, LastUpdatedAt: at}); err != nil {
								return err
							}
							n++
							objects++
						}
						return nil
					})
					if err != nil {
						b.Fatalf("expiring objects: %v", err)
					}
				}
				b.StartTimer()
				if got, err := db.DeleteExpired(ctx, sweepAt, page); err != nil || got != page {
					b.Fatalf("DeleteExpired: %d, %v; want %d", got, err, page)
				}
			}
		})
	}
}
