package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// BenchDeleteObject measures DeleteObject (DeleteProfileObject's store
// call) of one object with its key and its INGESTED history record, on a
// profile whose history holds records of other objects: few (Quiet, 50)
// or many (Busy, 5,000). The object's records lose their content in the
// deletion's transaction; the profile's other records are read, not
// written. Each operation is one Update of one DeleteObject; the object is
// put between operations, out of the timer.
func BenchDeleteObject(b *testing.B, open func(testing.TB) profiles.Store) {
	for _, c := range []struct {
		name    string
		records int
	}{{"Quiet", 50}, {"Busy", 5000}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, db := b.Context(), open(b)
			if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
				b.Fatalf("CreateDomain: %v", err)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			pid := fmt.Sprintf("%032x", 0xd0_0000)
			n := 0 // history records written
			for i := 0; i < c.records; i += 1000 {
				err := db.Update(ctx, func(tx profiles.Tx) error {
					if i == 0 {
						if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: pid, Fields: map[string]string{"FirstName": "A"}}); err != nil {
							return err
						}
					}
					for range min(1000, c.records-i) {
						at := start.Add(time.Duration(n) * time.Millisecond)
						if err := tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: pid, ID: fmt.Sprintf("%032x", n),
							ActionType: profiles.ActionIngested, ObjectTypeName: "Other", ObjectKey: fmt.Sprintf("other-%09d", n), PerformedBy: "Other",
							Content: []byte(strings.Repeat("o", 100)), CreatedAt: at, LastUpdatedAt: at}); err != nil {
							return err
						}
						n++
					}
					return nil
				})
				if err != nil {
					b.Fatalf("background history: %v", err)
				}
			}
			objects := 0
			for b.Loop() {
				b.StopTimer()
				uk := fmt.Sprintf("contact-%09d", objects)
				objects++
				err := db.Update(ctx, func(tx profiles.Tx) error {
					at := start.Add(time.Duration(n) * time.Millisecond)
					o := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: uk, ProfileID: pid,
						Data: historyContent(uk), SourceLastUpdated: at, CreatedAt: at, UpdatedAt: at}
					if err := tx.PutObject(ctx, o); err != nil {
						return err
					}
					if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_ctrContactId", Value: uk, ProfileID: pid, Origin: "CTR", ObjectKey: uk}}); err != nil {
						return err
					}
					err := tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: pid, ID: fmt.Sprintf("%032x", n),
						ActionType: profiles.ActionIngested, ObjectTypeName: "CTR", ObjectKey: uk, PerformedBy: "CTR",
						Content: historyContent(uk), CreatedAt: at, LastUpdatedAt: at})
					n++
					return err
				})
				if err != nil {
					b.Fatalf("object to delete: %v", err)
				}
				b.StartTimer()
				if err := db.Update(ctx, func(tx profiles.Tx) error { return tx.DeleteObject(ctx, "d", "CTR", uk) }); err != nil {
					b.Fatalf("DeleteObject: %v", err)
				}
			}
		})
	}
}
