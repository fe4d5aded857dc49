package service

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/postgres/pgtest"
	"github.com/openprofiles/profiles/sqlite"
)

// TestRuleMergeLease_RenewedFromTheClaim: a pass whose reading of the
// profiles (computeMatchGroups) took longer than half the lease renews the
// lease before its first merge, so that no other node takes the domain
// while it merges. The pass counted half the lease from the end of its
// reading: read for 8 minutes, it left the lease to run out 2 minutes
// later, and another node could start a second pass beside it.
func TestRuleMergeLease_RenewedFromTheClaim(t *testing.T) {
	stores := map[string]func(t *testing.T) interface {
		profiles.Store
		profiles.ConfigStore
	}{
		"sqlite": func(t *testing.T) interface {
			profiles.Store
			profiles.ConfigStore
		} {
			db := sqlite.NewDB(filepath.Join(t.TempDir(), "profiles.db"))
			if err := db.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(t *testing.T) interface {
			profiles.Store
			profiles.ConfigStore
		} {
			db := postgres.NewDB(pgtest.MustDatabase(t, "openprofiles_rulemerge"))
			if err := db.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t)
			s := New(db, "us-east-1", "000000000000", []byte("secret"))
			s.Configs = db
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			s.Now = func() time.Time { return clock }
			one := 1
			if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "lease", DefaultExpirationDays: 30, RuleBasedMatching: &profiles.RuleBasedMatchingSettings{
				Enabled: true, MatchingRules: [][]string{{"EmailAddress"}}, MaxAllowedRuleLevelForMerging: &one,
			}}); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := s.CreateProfile(ctx, "lease", map[string]string{"EmailAddress": "lease@example.com"}); err != nil {
					t.Fatal(err)
				}
			}
			d, err := s.Store.FindDomain(ctx, "lease")
			if err != nil {
				t.Fatal(err)
			}
			key := ruleSettingsKey(d.CreatedAt, d.RuleBasedMatching)
			lease, ok, err := s.claimRuleMerge(ctx, "lease", key)
			if !ok || err != nil {
				t.Fatalf("claim: %v %v", ok, err)
			}
			claimed := lease

			// The pass reads the profiles for 8 minutes: the clock is
			// there when it starts merging.
			clock = clock.Add(8 * time.Minute)
			merged, failed, err := s.ruleMergePass(ctx, d, 1, key, &lease)
			if merged != 1 || failed != 0 || err != nil {
				t.Fatalf("pass: merged %d, failed %d, %v; want 1, 0, nil", merged, failed, err)
			}
			if !lease.After(claimed) {
				t.Errorf("lease until %v after 8 minutes of a 10-minute lease, want renewed past %v", lease, claimed)
			}
			// Another node, 3 minutes later, finds the domain held.
			clock = clock.Add(3 * time.Minute)
			if _, ok, err := s.claimRuleMerge(ctx, "lease", key); ok || err != nil {
				t.Errorf("claim by another node 11 minutes after the first: %v %v, want held", ok, err)
			}
		})
	}
}
