package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// BenchIngestBucket measures taking a token from the ingestion bucket of
// one of 1,000 profiles (each with a bucket), 100 takes per Update, as
// one statement (Take: TakeIngestToken) and as the read and write it
// replaced (FindAndPut: FindIngestBucket, IngestBucket.Take,
// PutIngestBucket). The figure is per take, its share of the commit
// included.
func BenchIngestBucket(b *testing.B, open func(testing.TB) profiles.Store) {
	const profileCount, perUpdate = 1000, 100
	const rate, burst = 100.0, 100.0
	takes := map[string]func(ctx context.Context, tx profiles.Tx, id string, now time.Time) error{
		"Take": func(ctx context.Context, tx profiles.Tx, id string, now time.Time) error {
			_, err := tx.TakeIngestToken(ctx, "d", id, rate, burst, now)
			return err
		},
		"FindAndPut": func(ctx context.Context, tx profiles.Tx, id string, now time.Time) error {
			old, err := tx.FindIngestBucket(ctx, "d", id)
			if err != nil {
				return err
			}
			if nb, ok := old.Take(rate, burst, now); ok {
				return tx.PutIngestBucket(ctx, &nb)
			}
			return nil
		},
	}
	for _, name := range []string{"FindAndPut", "Take"} {
		take := takes[name]
		b.Run(name, func(b *testing.B) {
			ctx, s := b.Context(), open(b)
			mustCreateDomains(b, ctx, s, "d")
			now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			mustUpdate(b, ctx, s, func(tx profiles.Tx) error {
				for i := range profileCount {
					if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: profileID(i)}); err != nil {
						return err
					}
					if err := tx.PutIngestBucket(ctx, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(i), Tokens: burst, UpdatedAt: now}); err != nil {
						return err
					}
				}
				return nil
			})
			b.ResetTimer()
			for i := 0; i < b.N; i += perUpdate {
				mustUpdate(b, ctx, s, func(tx profiles.Tx) error {
					for j := i; j < min(i+perUpdate, b.N); j++ {
						now = now.Add(time.Millisecond)
						if err := take(ctx, tx, profileID(j*7%profileCount), now); err != nil {
							return err
						}
					}
					return nil
				})
			}
		})
	}
}
