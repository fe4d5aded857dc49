package postgres

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
)

// TestFindProfileIDs_FewPredicateLocks finds the profiles of a key value
// that one profile holds for each of its 400 objects (a customer's email
// on each of their contact records), in a SERIALIZABLE Update. It used to
// read every key of the value and look up each one's object: past a few
// dozen pages PostgreSQL promoted the transaction's predicate locks to
// the whole objects and keys tables, and every concurrent ingestion, of
// any profile, conflicted with it. It now reads one live key a profile,
// and holds no lock on a whole table.
func TestFindProfileIDs_FewPredicateLocks(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, nil)
	if err := db.CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	data := []byte(`{"note":"` + strings.Repeat("x", 1000) + `"}`)
	err := db.Update(ctx, func(tx profiles.Tx) error {
		for _, id := range []string{"p1", "p2"} {
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id, Fields: map[string]string{}}); err != nil {
				return err
			}
		}
		for i := range 401 {
			id, key := "p1", fmt.Sprintf("c%03d", i)
			if i == 400 {
				id = "p2"
			}
			if err := tx.PutObject(ctx, &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "contact", UniqueKey: key, ProfileID: id, Data: data}); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "_email", Value: "a@example.com", ProfileID: id, Origin: "contact", ObjectKey: key}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	var ids []string
	var tables []string
	err = db.Update(ctx, func(ptx profiles.Tx) error {
		var err error
		if ids, err = ptx.FindProfileIDs(ctx, "d", "_email", "a@example.com"); err != nil {
			return err
		}
		// This transaction's locks only: those of the session's
		// committed ones stay while any serializable transaction of the
		// server that overlapped them runs (other tests, other databases).
		rows, err := ptx.(*tx).ptx.Query(ctx, `SELECT l.relation::regclass::text FROM pg_locks l
			WHERE l.pid = pg_backend_pid() AND l.mode = 'SIReadLock' AND l.locktype = 'relation'
				AND l.virtualtransaction = (SELECT v.virtualtransaction FROM pg_locks v
					WHERE v.pid = pg_backend_pid() AND v.locktype = 'virtualxid')
			ORDER BY 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			tables = append(tables, name)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if want := []string{"p1", "p2"}; !slices.Equal(ids, want) {
		t.Errorf("FindProfileIDs = %q, want %q", ids, want)
	}
	if len(tables) > 0 {
		t.Errorf("predicate locks on whole tables %q, want none", tables)
	}
}
