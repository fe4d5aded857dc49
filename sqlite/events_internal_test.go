package sqlite

import (
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestStreamEvents_NoPayloadLeft: the payloads (profile data, sealed) live
// in stream_event_data; every way events go — delivered, purged, past the
// retention, with their domain — takes their payloads too.
func TestStreamEvents_NoPayloadLeft(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	for _, d := range []string{"a", "b"} {
		if err := db.CreateDomain(ctx, &profiles.Domain{Name: d, DefaultExpirationDays: 7}, 0); err != nil {
			t.Fatal(err)
		}
	}
	put := func(domain, stream string, n int) {
		t.Helper()
		var evs []*profiles.StreamEvent
		for range n {
			evs = append(evs, &profiles.StreamEvent{DomainName: domain, StreamName: stream, ID: "e", PartitionKey: "p", Data: []byte("payload")})
		}
		if err := db.Update(ctx, func(tx profiles.Tx) error { return tx.PutStreamEvents(ctx, evs) }); err != nil {
			t.Fatal(err)
		}
	}
	payloads := func() int {
		t.Helper()
		var n int
		if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM stream_event_data`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	put("a", "s", 3)
	put("a", "t", 2)
	put("b", "s", 4)
	if n := payloads(); n != 9 {
		t.Fatalf("%d payloads, want 9", n)
	}
	claimed, _, err := db.ClaimStreamEvents(ctx, time.Now(), time.Minute, 0, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	if err := db.FinishStreamClaim(ctx, "a", "s", claimed[0].ClaimedUntil, []int64{claimed[0].Seq, claimed[1].Seq}, true); err != nil {
		t.Fatal(err)
	}
	if n := payloads(); n != 7 {
		t.Errorf("after 2 delivered: %d payloads, want 7", n)
	}
	if err := db.PurgeStreamEvents(ctx, "a", "t"); err != nil {
		t.Fatal(err)
	}
	if n := payloads(); n != 5 {
		t.Errorf("after a purge of 2: %d payloads, want 5", n)
	}
	if err := db.DeleteDomain(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n := payloads(); n != 1 {
		t.Errorf("after deleting the domain of 4: %d payloads, want 1", n)
	}
	if _, dropped, err := db.ClaimStreamEvents(ctx, time.Now().Add(48*time.Hour), time.Minute, 24*time.Hour, 10); err != nil || dropped != 1 {
		t.Fatalf("retention: dropped %d, %v", dropped, err)
	}
	if n := payloads(); n != 0 {
		t.Errorf("after the retention: %d payloads, want 0", n)
	}
}
