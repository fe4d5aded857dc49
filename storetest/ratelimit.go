package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// findBucket runs FindIngestBucket in its own View.
func findBucket(tb testing.TB, ctx context.Context, s profiles.Store, domain, id string) (*profiles.IngestBucket, error) {
	tb.Helper()
	var b *profiles.IngestBucket
	var ferr error
	mustView(tb, ctx, s, func(tx profiles.Tx) error {
		b, ferr = tx.FindIngestBucket(ctx, domain, id)
		return nil
	})
	return b, ferr
}

func putBucket(ctx context.Context, s profiles.Store, b *profiles.IngestBucket) error {
	return s.Update(ctx, func(tx profiles.Tx) error { return tx.PutIngestBucket(ctx, b) })
}

func testIngestBucket(t *testing.T, open OpenFunc) {
	t.Run("PutAndFind", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d", "other")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "other", ID: profileID(1)})
		at := time.Date(2026, 6, 1, 11, 59, 58, 123_456_789, time.FixedZone("x", 3600))
		if err := putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 2.5, UpdatedAt: at}); err != nil {
			t.Fatalf("PutIngestBucket: %v", err)
		}
		got, err := findBucket(t, ctx, s, "d", profileID(1))
		if err != nil {
			t.Fatalf("FindIngestBucket: %v", err)
		}
		checkEqual(t, "FindIngestBucket", &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 2.5, UpdatedAt: storedTime(at)}, got)
		checkEqual(t, "FindIngestBucket: UpdatedAt", storedTime(at), got.UpdatedAt)

		// Put replaces; a zero UpdatedAt is the store's time.
		if err := putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 0.125}); err != nil {
			t.Fatalf("PutIngestBucket: %v", err)
		}
		got, err = findBucket(t, ctx, s, "d", profileID(1))
		if err != nil {
			t.Fatalf("FindIngestBucket: %v", err)
		}
		checkEqual(t, "FindIngestBucket after replace", &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 0.125, UpdatedAt: clockStart()}, got)
		checkEqual(t, "FindIngestBucket after replace: UpdatedAt", clockStart(), got.UpdatedAt)

		// The same profile id in another domain has a bucket of its own.
		_, err = findBucket(t, ctx, s, "other", profileID(1))
		checkNotFound(t, "FindIngestBucket(other domain)", err)
	})

	t.Run("Missing", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		_, err := findBucket(t, ctx, s, "d", profileID(1))
		checkNotFound(t, "FindIngestBucket(no bucket)", err)
		_, err = findBucket(t, ctx, s, "missing", profileID(1))
		checkNotFound(t, "FindIngestBucket(missing domain)", err, "missing")
		err = putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(2), Tokens: 1})
		checkNotFound(t, "PutIngestBucket(missing profile)", err, profileID(2))
		err = putBucket(ctx, s, &profiles.IngestBucket{DomainName: "missing", ProfileID: profileID(1), Tokens: 1})
		checkNotFound(t, "PutIngestBucket(missing domain)", err, "missing")
		err = s.View(ctx, func(tx profiles.Tx) error {
			return tx.PutIngestBucket(ctx, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 1})
		})
		if err == nil {
			t.Errorf("PutIngestBucket in View: no error")
		}
		_, err = findBucket(t, ctx, s, "d", profileID(1))
		checkNotFound(t, "FindIngestBucket after a Put in View", err)
	})

	t.Run("GoesWithTheProfile", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)}, &profiles.Profile{DomainName: "d", ID: profileID(2)})
		for _, id := range []string{profileID(1), profileID(2)} {
			if err := putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: id, Tokens: 1}); err != nil {
				t.Fatalf("PutIngestBucket: %v", err)
			}
		}
		// Replacing the profile keeps its bucket.
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1), Fields: map[string]string{"FirstName": "x"}})
		if _, err := findBucket(t, ctx, s, "d", profileID(1)); err != nil {
			t.Fatalf("FindIngestBucket after PutProfile: %v", err)
		}
		mustUpdate(t, ctx, s, func(tx profiles.Tx) error { return tx.DeleteProfile(ctx, "d", profileID(1)) })
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		_, err := findBucket(t, ctx, s, "d", profileID(1))
		checkNotFound(t, "FindIngestBucket after DeleteProfile", err)

		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(2)})
		_, err = findBucket(t, ctx, s, "d", profileID(2))
		checkNotFound(t, "FindIngestBucket after DeleteDomain", err)
	})

	// Updates that each take a token from one bucket behave as if run one
	// after another: a bucket of 3 gives 3 tokens, whatever the
	// concurrency.
	t.Run("ConcurrentTakes", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		if err := putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 3}); err != nil {
			t.Fatalf("PutIngestBucket: %v", err)
		}
		codes, errs := concurrently(12, func(int) error {
			return s.Update(ctx, func(tx profiles.Tx) error {
				b, err := tx.FindIngestBucket(ctx, "d", profileID(1))
				if err != nil {
					return err
				}
				if b.Tokens < 1 {
					return profiles.Errorf(profiles.EQUOTA, "empty")
				}
				b.Tokens--
				return tx.PutIngestBucket(ctx, b)
			})
		})
		checkCodes(t, "12 concurrent takes from a bucket of 3", codes, map[string]int{"": 3, profiles.EQUOTA: 9}, errs)
		got, err := findBucket(t, ctx, s, "d", profileID(1))
		if err != nil {
			t.Fatalf("FindIngestBucket: %v", err)
		}
		if got.Tokens != 0 {
			t.Errorf("bucket holds %v tokens, want 0", got.Tokens)
		}
	})
}
