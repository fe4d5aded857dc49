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
		checkConcurrentTakes(t, open, func(ctx context.Context, tx profiles.Tx) (bool, error) {
			b, err := tx.FindIngestBucket(ctx, "d", profileID(1))
			if err != nil || b.Tokens < 1 {
				return false, err
			}
			b.Tokens--
			return true, tx.PutIngestBucket(ctx, b)
		})
	})
}

// testTakeIngestToken checks TakeIngestToken against the rule it applies,
// profiles.IngestBucket.Take, to the bit: the tokens it leaves and the time
// it keeps.
func testTakeIngestToken(t *testing.T, open OpenFunc) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		start       *profiles.IngestBucket // nil: no bucket
		rate, burst float64
		now         time.Time
	}{
		{"no bucket: full", nil, 100, 100, t0.Add(123_456_789)},
		{"no bucket, burst below one: refused", nil, 100, 0.5, t0},
		{"same time: no refill", &profiles.IngestBucket{Tokens: 1, UpdatedAt: t0}, 100, 100, t0},
		{"same time, empty: refused", &profiles.IngestBucket{Tokens: 0.999, UpdatedAt: t0}, 100, 100, t0},
		{"refills by the nanosecond", &profiles.IngestBucket{Tokens: 0.5, UpdatedAt: t0}, 300, 100, t0.Add(3_456_789)},
		{"refill just short: refused", &profiles.IngestBucket{Tokens: 0.5, UpdatedAt: t0}, 100, 100, t0.Add(4_999_999)},
		{"refill to just above one", &profiles.IngestBucket{Tokens: 0.9, UpdatedAt: t0}, 100, 100, t0.Add(1_000_001)},
		{"awkward floats", &profiles.IngestBucket{Tokens: 0.1, UpdatedAt: t0}, 7.3, 13.7, t0.Add(123_456_789)},
		{"awkward floats, seconds", &profiles.IngestBucket{Tokens: 0.3, UpdatedAt: t0}, 0.7, 3.3, t0.Add(2*time.Second + 987_654_321)},
		{"capped at burst", &profiles.IngestBucket{Tokens: 5, UpdatedAt: t0}, 100, 10, t0.Add(time.Hour)},
		{"above burst, no time elapsed: kept", &profiles.IngestBucket{Tokens: 50, UpdatedAt: t0}, 100, 10, t0},
		{"clock behind: no refill, keeps its time", &profiles.IngestBucket{Tokens: 3.75, UpdatedAt: t0.Add(time.Second)}, 100, 100, t0},
		{"clock behind, empty: refused", &profiles.IngestBucket{Tokens: 0.25, UpdatedAt: t0.Add(time.Second)}, 100, 100, t0.Add(999 * time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, s := t.Context(), mustOpen(t, open)
			mustCreateDomains(t, ctx, s, "d")
			mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
			want := profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: tt.burst, UpdatedAt: tt.now}
			if tt.start != nil {
				want.Tokens, want.UpdatedAt = tt.start.Tokens, tt.start.UpdatedAt
				if err := putBucket(ctx, s, &want); err != nil {
					t.Fatalf("PutIngestBucket: %v", err)
				}
			}
			after, wantOK := want.Take(tt.rate, tt.burst, tt.now)
			var ok bool
			mustUpdate(t, ctx, s, func(tx profiles.Tx) (err error) {
				ok, err = tx.TakeIngestToken(ctx, "d", profileID(1), tt.rate, tt.burst, tt.now)
				return err
			})
			if ok != wantOK {
				t.Errorf("TakeIngestToken = %v, want %v", ok, wantOK)
			}
			got, err := findBucket(t, ctx, s, "d", profileID(1))
			switch {
			case !wantOK && tt.start == nil:
				checkNotFound(t, "FindIngestBucket after a refused take from no bucket", err)
			case err != nil:
				t.Fatalf("FindIngestBucket: %v", err)
			case !wantOK:
				checkEqual(t, "bucket after a refused take (unchanged)", &want, got)
			default:
				after.UpdatedAt = storedTime(after.UpdatedAt)
				checkEqual(t, "bucket after the take", &after, got)
				if got.Tokens != after.Tokens {
					t.Errorf("tokens = %b, want %b (IngestBucket.Take's bits)", got.Tokens, after.Tokens)
				}
			}
		})
	}

	t.Run("Missing", func(t *testing.T) {
		ctx, s := t.Context(), mustOpen(t, open)
		mustCreateDomains(t, ctx, s, "d")
		mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
		take := func(domain, id string, burst float64) error {
			return s.Update(ctx, func(tx profiles.Tx) error {
				_, err := tx.TakeIngestToken(ctx, domain, id, 100, burst, t0)
				return err
			})
		}
		checkNotFound(t, "TakeIngestToken(missing profile)", take("d", profileID(2), 100), profileID(2))
		checkNotFound(t, "TakeIngestToken(missing profile, burst below one)", take("d", profileID(2), 0.5), profileID(2))
		checkNotFound(t, "TakeIngestToken(missing domain)", take("missing", profileID(1), 100), "missing")
		err := s.View(ctx, func(tx profiles.Tx) error {
			_, err := tx.TakeIngestToken(ctx, "d", profileID(1), 100, 100, t0)
			return err
		})
		if err == nil {
			t.Errorf("TakeIngestToken in View: no error")
		}
		_, err = findBucket(t, ctx, s, "d", profileID(1))
		checkNotFound(t, "FindIngestBucket after a take in View", err)
	})

	// Concurrent takes from one bucket behave as if one after another: a
	// bucket of 3 that does not refill gives 3 tokens.
	t.Run("Concurrent", func(t *testing.T) {
		checkConcurrentTakes(t, open, func(ctx context.Context, tx profiles.Tx) (bool, error) {
			return tx.TakeIngestToken(ctx, "d", profileID(1), 100, 100, clockStart())
		})
	})
}

// checkConcurrentTakes checks that Updates that each take a token from one
// bucket behave as if run one after another: a bucket of 3 (that does not
// refill at the store's time) gives 3 tokens, whatever the concurrency.
func checkConcurrentTakes(t *testing.T, open OpenFunc, take func(context.Context, profiles.Tx) (bool, error)) {
	t.Helper()
	ctx, s := t.Context(), mustOpen(t, open)
	mustCreateDomains(t, ctx, s, "d")
	mustPut(t, ctx, s, &profiles.Profile{DomainName: "d", ID: profileID(1)})
	if err := putBucket(ctx, s, &profiles.IngestBucket{DomainName: "d", ProfileID: profileID(1), Tokens: 3, UpdatedAt: clockStart()}); err != nil {
		t.Fatalf("PutIngestBucket: %v", err)
	}
	codes, errs := concurrently(12, func(int) error {
		return s.Update(ctx, func(tx profiles.Tx) error {
			if ok, err := take(ctx, tx); err != nil {
				return err
			} else if !ok {
				return profiles.Errorf(profiles.EQUOTA, "empty")
			}
			return nil
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
}
