package localkms_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/postgres/pgtest"
	"github.com/openprofiles/profiles/sqlite"
)

// otherNodeFirst is a node's store on which another node makes the
// service-owned key between this node's look for it (none yet) and its
// alias: two first starts on one database at once, the other one winning.
type otherNodeFirst struct {
	profiles.KMSStore
	other *localkms.KMS
	once  sync.Once
	err   error
}

func (s *otherNodeFirst) CreateKMSAlias(ctx context.Context, a *profiles.KMSAlias) error {
	s.once.Do(func() { _, s.err = s.other.EnsureDefaultKey(ctx) })
	if s.err != nil {
		return s.err
	}
	return s.KMSStore.CreateKMSAlias(ctx, a)
}

// TestEnsureDefaultKey_LostRaceUnderAnotherRootKey: the node that loses
// the race to make the service-owned key uses the winner's, which must
// unwrap under its own root key. With root keys of their own (none
// shared: each made one in its data dir), it refuses rather than serve
// with a root key that opens none of the store's keys; with the same root
// key it uses the winner's key, as before.
func TestEnsureDefaultKey_LostRaceUnderAnotherRootKey(t *testing.T) {
	stores := map[string]func(t *testing.T) profiles.KMSStore{
		"SQLite": func(t *testing.T) profiles.KMSStore {
			db := sqlite.NewDB(filepath.Join(t.TempDir(), "kms.db"))
			if err := db.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"PostgreSQL": func(t *testing.T) profiles.KMSStore {
			db := postgres.NewDB(pgtest.MustDatabase(t, "openprofiles_kms"))
			if err := db.Open(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name     string
				sameRoot bool
			}{{"OwnRootKeys", false}, {"SharedRootKey", true}} {
				t.Run(tc.name, func(t *testing.T) {
					db := open(t)
					winnerRoot := bytes.Repeat([]byte{1}, 32)
					loserRoot := bytes.Repeat([]byte{2}, 32)
					if tc.sameRoot {
						loserRoot = winnerRoot
					}
					winner := &localkms.KMS{Store: db, Region: testRegion, AccountID: testAccount, RootKey: winnerRoot}
					store := &otherNodeFirst{KMSStore: db, other: winner}
					loser := &localkms.KMS{Store: store, Region: testRegion, AccountID: testAccount, RootKey: loserRoot}
					if err := loser.CheckRootKey(t.Context()); err != nil {
						t.Fatalf("CheckRootKey on the empty store: %v", err)
					}
					arn, err := loser.EnsureDefaultKey(t.Context())
					if store.err != nil {
						t.Fatalf("the winner's EnsureDefaultKey: %v", store.err)
					}
					winnerARN, werr := winner.EnsureDefaultKey(t.Context())
					if werr != nil {
						t.Fatal(werr)
					}
					if tc.sameRoot {
						if err != nil || arn != winnerARN {
							t.Fatalf("EnsureDefaultKey of the loser with the same root key: %q, %v; want the winner's %s", arn, err, winnerARN)
						}
						return
					}
					if err == nil {
						t.Fatalf("the loser of the race, with a root key of its own, got the winner's key %s, which its root key does not unwrap", arn)
					}
					if !strings.Contains(err.Error(), winnerARN) || !strings.Contains(err.Error(), "same root key") {
						t.Errorf("error %q does not name the key %s and the remedy", err, winnerARN)
					}
				})
			}
		})
	}
}
