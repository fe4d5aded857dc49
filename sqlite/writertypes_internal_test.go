package sqlite

import (
	"fmt"
	"testing"

	"github.com/openprofiles/profiles"
)

// The committer's own commits and the checkpoints (which restart the WAL)
// leave its remembered types good: only changes to types, or another
// connection's commits, make them stale.
func TestWriterTypes_KeptAcrossCommitsAndCheckpoints(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx profiles.Tx) error {
		return tx.PutObjectType(ctx, &profiles.ObjectType{DomainName: "d", Name: "t"}, 0)
	}); err != nil {
		t.Fatal(err)
	}
	find := func(tx profiles.Tx) error {
		_, err := tx.FindObjectType(ctx, "d", "t")
		return err
	}
	if err := db.Update(ctx, find); err != nil {
		t.Fatal(err)
	}
	gen := db.wtypes.gen.Load()
	for i := range 20 {
		err := db.Update(ctx, func(tx profiles.Tx) error {
			if err := find(tx); err != nil {
				return err
			}
			return tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: fmt.Sprintf("p%02d", i), Fields: map[string]string{"FirstName": "Ann"}})
		})
		if err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		if _, err := db.cdb.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
	}
	if got := db.wtypes.gen.Load(); got != gen {
		t.Errorf("generation %d after commits and checkpoints, want %d", got, gen)
	}
	if db.wtypes.get("d", "t") == nil {
		t.Errorf("the type is not remembered")
	}
}
