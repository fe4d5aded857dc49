package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/postgres"
)

// Several server nodes share one database and nothing else. These tests
// open several DBs on one database and run, at once, what every node's
// queue receivers and expiry sweeper run.

// TestNodes_ReceiveOnce: receivers on three nodes, four each, draining one
// queue: every message goes to exactly one receiver within its visibility
// timeout.
func TestNodes_ReceiveOnce(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	nodes := []*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
	now := time.Now().UTC()
	q := &profiles.Queue{Name: "dlq", URL: "http://x/000000000000/dlq", ARN: "arn:aws:sqs:us-east-1:000000000000:dlq",
		Attributes: map[string]string{}, Tags: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := nodes[0].CreateQueue(ctx, q); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		m := &profiles.StoredMessage{QueueName: "dlq", ID: fmt.Sprintf("m%03d", i), Body: "dead letter", SentAt: now, VisibleAt: now}
		if err := nodes[i%3].PutMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	var seq int64
	var seqMu sync.Mutex
	for r := range 12 {
		wg.Go(func() {
			db := nodes[r%3]
			for {
				msgs, err := db.ReceiveMessages(ctx, "dlq", 10, time.Now().UTC(), time.Hour, 24*time.Hour, func() string {
					seqMu.Lock()
					defer seqMu.Unlock()
					seq++
					return fmt.Sprintf("h%06d", seq)
				})
				if err != nil {
					t.Errorf("ReceiveMessages: %v", err)
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					got[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d distinct messages received, want %d", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("message %s received %d times within its visibility timeout", id, k)
		}
	}
}

// TestNodes_SweepOnce: the expiry sweepers of three nodes running at once
// delete every expired object exactly once between them, with its keys.
func TestNodes_SweepOnce(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	nodes := []*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
	if err := nodes[0].CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
		t.Fatal(err)
	}
	past := time.Now().UTC().Add(-time.Hour)
	const profilesN, perProfile = 20, 15
	err := nodes[0].Update(ctx, func(tx profiles.Tx) error {
		for p := range profilesN {
			id := fmt.Sprintf("%032x", p+1)
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id}); err != nil {
				return err
			}
			for o := range perProfile {
				key := fmt.Sprintf("o-%d-%d", p, o)
				obj := &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "CTR", UniqueKey: key, ProfileID: id,
					Data: []byte(`{}`), CreatedAt: past, UpdatedAt: past, SourceLastUpdated: past, ExpiresAt: past}
				if err := tx.PutObject(ctx, obj); err != nil {
					return err
				}
				if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "contactId", Value: key, ProfileID: id,
					Origin: "CTR", ObjectKey: key}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for {
				n, err := nodes[i%3].DeleteExpired(ctx, time.Now().UTC(), 7)
				if err != nil {
					t.Errorf("DeleteExpired: %v", err)
					return
				}
				if n == 0 {
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if total != profilesN*perProfile {
		t.Errorf("the sweepers deleted %d objects between them, want %d (each once)", total, profilesN*perProfile)
	}
	st, err := nodes[1].DomainStats(ctx, "d")
	if err != nil || st.ObjectCount != 0 {
		t.Errorf("DomainStats after the sweeps: %+v, %v; want no object", st, err)
	}
	err = nodes[2].View(ctx, func(tx profiles.Tx) error {
		ids, err := tx.FindProfileIDs(ctx, "d", "contactId", "o-3-4")
		if err == nil && len(ids) != 0 {
			return fmt.Errorf("the key of a swept object still finds %v", ids)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	// Each object swept has one EXPIRED record on its profile: the
	// attempts that lost to another sweeper wrote none.
	err = nodes[0].View(ctx, func(tx profiles.Tx) error {
		for p := range profilesN {
			recs, err := tx.ListHistory(ctx, profiles.HistoryQuery{DomainName: "d", ProfileID: fmt.Sprintf("%032x", p+1), ActionType: profiles.ActionExpired})
			if err != nil {
				return err
			}
			keys := map[string]bool{}
			for _, r := range recs {
				keys[r.ObjectKey] = true
			}
			if len(recs) != perProfile || len(keys) != perProfile {
				return fmt.Errorf("profile %d: %d EXPIRED records of %d objects, want %d of %d", p, len(recs), len(keys), perProfile, perProfile)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestNodes_DeleteDomainDuringWrites: writers on two nodes keep adding
// profiles, objects, keys and history records to a domain while a third
// node deletes it; once the deletion returned no write succeeds, and no row
// of the domain is left in any table (objects and keys reach their domain
// through their profile, see migration 0010). Five rounds, the domain
// created anew each time.
func TestNodes_DeleteDomainDuringWrites(t *testing.T) {
	ctx, dsn := t.Context(), postgres.MustSchema(t)
	nodes := []*postgres.DB{mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil), mustOpenDBAt(t, dsn, nil)}
	conn := mustConnect(t, dsn)
	var seq atomic.Int64
	write := func(db *postgres.DB) error {
		n := seq.Add(1)
		id := fmt.Sprintf("%032x", n)
		return db.Update(ctx, func(tx profiles.Tx) error {
			if err := tx.PutProfile(ctx, &profiles.Profile{DomainName: "d", ID: id}); err != nil {
				return err
			}
			key := fmt.Sprintf("o%d", n)
			if err := tx.PutObject(ctx, &profiles.ProfileObject{DomainName: "d", ObjectTypeName: "T", UniqueKey: key,
				ProfileID: id, Data: []byte(`{}`)}); err != nil {
				return err
			}
			if err := tx.PutKeys(ctx, []profiles.Key{{DomainName: "d", Name: "k", Value: key, ProfileID: id, Origin: "T", ObjectKey: key}}); err != nil {
				return err
			}
			return tx.PutHistory(ctx, &profiles.HistoryRecord{DomainName: "d", ProfileID: id, ID: fmt.Sprintf("%032x", n),
				ActionType: "CREATED", ObjectTypeName: "T", Content: []byte(`{}`)})
		})
	}
	for round := range 5 {
		if err := nodes[2].CreateDomain(ctx, &profiles.Domain{Name: "d"}, 0); err != nil {
			t.Fatalf("round %d: CreateDomain: %v", round, err)
		}
		var deleted, stop atomic.Bool
		var written atomic.Int64
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				for !stop.Load() {
					gone := deleted.Load() // read before the write starts
					err := write(nodes[w%2])
					switch {
					case err == nil && gone:
						t.Errorf("round %d: a write that began after DeleteDomain returned succeeded", round)
						return
					case err == nil:
						written.Add(1)
					case profiles.ErrorCode(err) == profiles.ENOTFOUND:
						return // the domain is gone
					default:
						t.Errorf("round %d: write: %v", round, err)
						return
					}
				}
			})
		}
		for deadline := time.Now().Add(30 * time.Second); written.Load() < 20; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("round %d: %d writes in 30 s, want 20 before the deletion", round, written.Load())
			}
		}
		if err := nodes[2].DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("round %d: DeleteDomain: %v", round, err)
		}
		deleted.Store(true)
		wg.Wait()
		for _, table := range []string{"profiles", "objects", "keys", "history", "ingest_buckets", "object_types"} {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE domain = 'd'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("round %d: %d rows of the deleted domain left in %s (%d writes succeeded)", round, n, table, written.Load())
			}
		}
	}
}
