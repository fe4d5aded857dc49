package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// BenchObjectHistory measures ingestion's look-up of the INGESTED
// history record of a contact delivered again (service/ingest.go
// recordIngested: ListHistory by object type and key, limit 1) on a
// profile of a frequent caller, with 5,000 history records of 1 KB, one
// for each contact (the same for every store: the figures of the stores
// compare): Newest looks up the latest contact's record, Oldest
// the first's.
func BenchObjectHistory(b *testing.B, open func(testing.TB) profiles.Store) {
	const records = 5000
	ctx, db := b.Context(), open(b)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 366}, 0); err != nil {
		b.Fatalf("CreateDomain: %v", err)
	}
	const profile = "0123456789abcdef0123456789abcdef"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < records; i += 500 {
		err := db.Update(ctx, func(tx profiles.Tx) error {
			for j := i; j < i+500; j++ {
				uk := fmt.Sprintf("contact-%09d", j)
				at := start.Add(time.Duration(j) * time.Minute)
				if err := tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: profile, ID: fmt.Sprintf("%032x", j),
					ActionType: profiles.ActionIngested, ObjectTypeName: "CTR", ObjectKey: uk, PerformedBy: "CTR",
					Content: historyContent(uk), CreatedAt: at, LastUpdatedAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("PutHistory: %v", err)
		}
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"Newest", records - 1}, {"Oldest", 0}} {
		b.Run(c.name, func(b *testing.B) {
			q := profiles.HistoryQuery{DomainName: "d", ProfileID: profile, ObjectTypeName: "CTR",
				ObjectKey: fmt.Sprintf("contact-%09d", c.n), ActionType: profiles.ActionIngested, Limit: 1}
			for b.Loop() {
				err := db.View(ctx, func(tx profiles.Tx) error {
					recs, err := tx.ListHistory(ctx, q)
					if err == nil && (len(recs) != 1 || recs[0].ObjectKey != q.ObjectKey) {
						err = fmt.Errorf("got %d records, want the one of %s", len(recs), q.ObjectKey)
					}
					return err
				})
				if err != nil {
					b.Fatalf("ListHistory: %v", err)
				}
			}
		})
	}
}

// historyContent is the content of a contact's history record, about 1 KB.
func historyContent(contactID string) []byte {
	return fmt.Appendf(nil, `{"ContactId":%q,"Channel":"VOICE","InitiationMethod":"INBOUND","CustomerEndpoint":{"Address":"+33610000000","Type":"TELEPHONE_NUMBER"},"Notes":%q}`,
		contactID, strings.Repeat("n", 850))
}
