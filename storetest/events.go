package storetest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The stream event cases hold stores that implement Tx.PutStreamEvents and
// profiles.EventOutbox to their contract. Every store of this project
// implements them. Besides the contract:
//
//   - Events read back as put: Data byte for byte, CreatedAt to the
//     millisecond in UTC; Seq increases with every put, also across
//     transactions.
//   - An Update whose fn fails puts no event.
//   - Concurrent claimers never hold one stream at once: each event is
//     claimed once while its stream's claim holds, and a stream's events
//     are claimed in Seq order.

func testStreamEvents(t *testing.T, open OpenFunc) {
	t.Run("PutClaimDelete", func(t *testing.T) {
		ctx := t.Context()
		s, ob, clock := mustOpenOutbox(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
		first := []*profiles.StreamEvent{
			{DomainName: "d", StreamName: "s1", ID: "ev1", PartitionKey: "p1", Data: []byte("one"), CreatedAt: at},
			{DomainName: "d", StreamName: "s2", ID: "ev1", PartitionKey: "p1", Data: []byte("one")},
		}
		mustPutStreamEvents(t, ctx, s, first...)
		if first[0].Seq <= 0 || first[1].Seq <= first[0].Seq {
			t.Fatalf("PutStreamEvents: Seq %d, %d: want increasing, > 0", first[0].Seq, first[1].Seq)
		}
		if !first[0].CreatedAt.Equal(storedTime(at)) || !first[1].CreatedAt.Equal(storedTime(clock.Now())) {
			t.Errorf("PutStreamEvents: CreatedAt %v, %v; want %v, %v", first[0].CreatedAt, first[1].CreatedAt, storedTime(at), storedTime(clock.Now()))
		}
		second := &profiles.StreamEvent{DomainName: "e", StreamName: "s1", ID: "ev2", PartitionKey: "p2", Data: []byte{}}
		mustPutStreamEvents(t, ctx, s, second)
		if second.Seq <= first[1].Seq {
			t.Fatalf("PutStreamEvents (second transaction): Seq %d after %d", second.Seq, first[1].Seq)
		}
		// A failed Update puts nothing.
		_ = s.Update(ctx, func(tx profiles.Tx) error {
			if err := tx.PutStreamEvents(ctx, []*profiles.StreamEvent{{DomainName: "d", StreamName: "s1", ID: "gone", PartitionKey: "p", Data: []byte("x")}}); err != nil {
				return err
			}
			return fmt.Errorf("abort")
		})

		got, dropped, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 2)
		if err != nil || dropped != 0 {
			t.Fatalf("ClaimStreamEvents: %v, dropped %d", err, dropped)
		}
		until := storedTime(clock.Now().Add(time.Minute))
		want := []*profiles.StreamEvent{
			{DomainName: "d", StreamName: "s1", ID: "ev1", Seq: first[0].Seq, PartitionKey: "p1", Data: []byte("one"), CreatedAt: storedTime(at), Attempts: 1, ClaimedUntil: until},
			{DomainName: "d", StreamName: "s2", ID: "ev1", Seq: first[1].Seq, PartitionKey: "p1", Data: []byte("one"), CreatedAt: storedTime(clock.Now()), Attempts: 1, ClaimedUntil: until},
		}
		checkKMS(t, "ClaimStreamEvents (lowest Seq first)", want, got)
		first[0].ClaimedUntil, first[1].ClaimedUntil = got[0].ClaimedUntil, got[1].ClaimedUntil

		// Claimed events are not claimed again until the lease lapses.
		got, _, err = ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 10)
		if err != nil || len(got) != 1 || got[0].ID != "ev2" || len(got[0].Data) != 0 {
			t.Fatalf("ClaimStreamEvents (second): %v, %v; want ev2 only, with empty data", describeEvents(got), err)
		}
		mustCountStreamEvents(t, ctx, ob, "d", "s1", 1)
		mustCountStreamEvents(t, ctx, ob, "d", "s2", 1)
		mustCountStreamEvents(t, ctx, ob, "d", "none", 0)

		if err := ob.FinishStreamClaim(ctx, "d", "s1", first[0].ClaimedUntil, []int64{first[0].Seq, 999999}, false); err != nil {
			t.Fatalf("FinishStreamClaim: %v", err)
		}
		mustCountStreamEvents(t, ctx, ob, "d", "s1", 0)
		if err := ob.FinishStreamClaim(ctx, "d", "s2", first[1].ClaimedUntil, nil, false); err != nil {
			t.Fatalf("FinishStreamClaim(none): %v", err)
		}

		clock.Add(time.Minute)
		got, _, err = ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 10)
		if err != nil || len(got) != 2 || got[0].Seq != first[1].Seq || got[0].Attempts != 2 || got[1].ID != "ev2" || got[1].Attempts != 2 {
			t.Fatalf("ClaimStreamEvents (lease lapsed): %v, %v; want s2's ev1 and ev2, attempt 2", describeEvents(got), err)
		}
		if _, _, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 0); profiles.ErrorCode(err) != profiles.EINVALID {
			t.Errorf("ClaimStreamEvents(limit 0): %v, want EINVALID", err)
		}
	})

	t.Run("RetentionPurgeAndDomain", func(t *testing.T) {
		ctx := t.Context()
		s, ob, clock := mustOpenOutbox(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		old := &profiles.StreamEvent{DomainName: "d", StreamName: "s", ID: "old", PartitionKey: "p", Data: []byte("o")}
		mustPutStreamEvents(t, ctx, s, old)
		clock.Add(2 * time.Hour)
		young := &profiles.StreamEvent{DomainName: "d", StreamName: "s", ID: "young", PartitionKey: "p", Data: []byte("y")}
		mustPutStreamEvents(t, ctx, s, young)
		got, dropped, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Nanosecond, time.Hour, 10)
		if err != nil || dropped != 1 || len(got) != 1 || got[0].ID != "young" {
			t.Fatalf("ClaimStreamEvents(retention 1h): %v, dropped %d, %v; want young, 1 dropped", describeEvents(got), dropped, err)
		}

		mustPutStreamEvents(t, ctx, s,
			&profiles.StreamEvent{DomainName: "d", StreamName: "other", ID: "a", PartitionKey: "p", Data: []byte("a")},
			&profiles.StreamEvent{DomainName: "e", StreamName: "s", ID: "b", PartitionKey: "p", Data: []byte("b")})
		if err := ob.PurgeStreamEvents(ctx, "d", "s"); err != nil {
			t.Fatalf("PurgeStreamEvents: %v", err)
		}
		mustCountStreamEvents(t, ctx, ob, "d", "s", 0)
		mustCountStreamEvents(t, ctx, ob, "d", "other", 1)
		mustCountStreamEvents(t, ctx, ob, "e", "s", 1)

		if err := s.DeleteDomain(ctx, "d"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		mustCountStreamEvents(t, ctx, ob, "d", "other", 0)
		clock.Add(time.Minute)
		got, _, err = ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 10)
		if err != nil || len(got) != 1 || got[0].ID != "b" {
			t.Fatalf("ClaimStreamEvents after DeleteDomain: %v, %v; want e's b only", describeEvents(got), err)
		}

		err = s.Update(ctx, func(tx profiles.Tx) error {
			return tx.PutStreamEvents(ctx, []*profiles.StreamEvent{{DomainName: "nope", StreamName: "s", ID: "x", PartitionKey: "p", Data: []byte("x")}})
		})
		checkNotFound(t, "PutStreamEvents(missing domain)", err, "nope")
		err = s.View(ctx, func(tx profiles.Tx) error {
			return tx.PutStreamEvents(ctx, []*profiles.StreamEvent{{DomainName: "e", StreamName: "s", ID: "x", PartitionKey: "p", Data: []byte("x")}})
		})
		if err == nil {
			t.Errorf("PutStreamEvents in a View: no error")
		}
	})

	t.Run("NeverClaimedFirst", func(t *testing.T) {
		// An event never claimed goes before one whose claim lapsed: a
		// destination that keeps failing does not hold back new events.
		ctx := t.Context()
		s, ob, clock := mustOpenOutbox(t, open)
		mustCreateDomains(t, ctx, s, "d")
		old := &profiles.StreamEvent{DomainName: "d", StreamName: "broken", ID: "old", PartitionKey: "p", Data: []byte("o")}
		mustPutStreamEvents(t, ctx, s, old)
		if got, _, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Second, 0, 1); err != nil || len(got) != 1 || got[0].ID != "old" {
			t.Fatalf("ClaimStreamEvents: %v, %v", describeEvents(got), err)
		}
		clock.Add(time.Minute)
		fresh := &profiles.StreamEvent{DomainName: "d", StreamName: "ok", ID: "new", PartitionKey: "p", Data: []byte("n")}
		mustPutStreamEvents(t, ctx, s, fresh)
		got, _, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Second, 0, 1)
		if err != nil || len(got) != 1 || got[0].ID != "new" {
			t.Fatalf("ClaimStreamEvents(limit 1): %v, %v; want the never-claimed event first", describeEvents(got), err)
		}
		got, _, err = ob.ClaimStreamEvents(ctx, clock.Now(), time.Second, 0, 1)
		if err != nil || len(got) != 1 || got[0].ID != "old" || got[0].Attempts != 2 {
			t.Fatalf("ClaimStreamEvents(then): %v, %v; want the lapsed one, attempt 2", describeEvents(got), err)
		}
	})

	t.Run("OneClaimPerStream", func(t *testing.T) {
		// A stream is held by one claim: its later events wait until the
		// claim is finished (released: at once) or lapses (the same oldest
		// events again); a finish of a lapsed claim leaves a newer one alone.
		ctx := t.Context()
		s, ob, clock := mustOpenOutbox(t, open)
		mustCreateDomains(t, ctx, s, "d")
		var evs []*profiles.StreamEvent
		for i := range 5 {
			evs = append(evs, &profiles.StreamEvent{DomainName: "d", StreamName: "s", ID: fmt.Sprint("e", i), PartitionKey: "p", Data: []byte("x")})
		}
		mustPutStreamEvents(t, ctx, s, evs...)
		claim := func(what string, want ...string) []*profiles.StreamEvent {
			t.Helper()
			got, _, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Minute, 0, 2)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if err != nil || !slices.Equal(ids, want) {
				t.Fatalf("ClaimStreamEvents (%s): %v, %v; want %v", what, describeEvents(got), err, want)
			}
			return got
		}
		got := claim("first", "e0", "e1")
		claim("while the stream is held")
		if err := ob.FinishStreamClaim(ctx, "d", "s", got[0].ClaimedUntil, []int64{got[0].Seq, got[1].Seq}, true); err != nil {
			t.Fatalf("FinishStreamClaim: %v", err)
		}
		got = claim("after a release", "e2", "e3")
		if err := ob.FinishStreamClaim(ctx, "d", "s", got[0].ClaimedUntil, nil, false); err != nil {
			t.Fatalf("FinishStreamClaim(nothing delivered): %v", err)
		}
		claim("while the failed claim holds")
		clock.Add(time.Minute)
		again := claim("after the claim lapsed", "e2", "e3")
		if again[0].Attempts != 2 {
			t.Errorf("claimed again: attempts %d, want 2", again[0].Attempts)
		}
		if err := ob.FinishStreamClaim(ctx, "d", "s", got[0].ClaimedUntil, nil, true); err != nil {
			t.Fatalf("FinishStreamClaim(lapsed claim): %v", err)
		}
		claim("after the lapsed claim's release")
		if err := ob.PurgeStreamEvents(ctx, "d", "s"); err != nil {
			t.Fatal(err)
		}
		mustPutStreamEvents(t, ctx, s, &profiles.StreamEvent{DomainName: "d", StreamName: "s", ID: "new", PartitionKey: "p", Data: []byte("x")})
		claim("after a purge", "new")
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		// 8 claimers deliver 4 streams; each event is claimed once, and
		// each stream's claims come in Seq order, one after another.
		ctx := t.Context()
		s, ob, clock := mustOpenOutbox(t, open)
		mustCreateDomains(t, ctx, s, "d")
		const n = 200
		for i := range n / 20 {
			var evs []*profiles.StreamEvent
			for j := range 20 {
				evs = append(evs, &profiles.StreamEvent{DomainName: "d", StreamName: fmt.Sprint("s", j%4), ID: fmt.Sprint(i*20 + j), PartitionKey: "p", Data: []byte("x")})
			}
			mustPutStreamEvents(t, ctx, s, evs...)
		}
		var mu sync.Mutex
		var seen []int64
		last := map[string]int64{} // stream -> highest Seq claimed
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for !t.Failed() {
					got, _, err := ob.ClaimStreamEvents(ctx, clock.Now(), time.Hour, 0, 7)
					if err != nil {
						t.Errorf("ClaimStreamEvents: %v", err)
						return
					}
					mu.Lock()
					done := len(seen) == n
					byStream := map[string][]int64{}
					for _, e := range got {
						seen = append(seen, e.Seq)
						if e.Seq <= last[e.StreamName] {
							t.Errorf("stream %s: event %d claimed after %d", e.StreamName, e.Seq, last[e.StreamName])
						}
						last[e.StreamName] = e.Seq
						byStream[e.StreamName] = append(byStream[e.StreamName], e.Seq)
					}
					mu.Unlock()
					if done && len(got) == 0 {
						return
					}
					for name, seqs := range byStream {
						if err := ob.FinishStreamClaim(ctx, "d", name, got[0].ClaimedUntil, seqs, true); err != nil {
							t.Errorf("FinishStreamClaim: %v", err)
							return
						}
					}
					if len(got) == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		wg.Wait()
		slices.Sort(seen)
		if len(seen) != n || len(slices.Compact(slices.Clone(seen))) != n {
			t.Fatalf("8 concurrent claimers got %d events, %d distinct; want each of %d once", len(seen), len(slices.Compact(slices.Clone(seen))), n)
		}
	})
}

func describeEvents(evs []*profiles.StreamEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%d %s/%s %s attempts %d", e.Seq, e.DomainName, e.StreamName, e.ID, e.Attempts))
	}
	return out
}

func mustOpenOutbox(t *testing.T, open OpenFunc) (profiles.Store, profiles.EventOutbox, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	ob, ok := s.(profiles.EventOutbox)
	if !ok {
		t.Fatalf("%T does not implement profiles.EventOutbox: every store must (event streams deliver from it)", s)
	}
	return s, ob, c
}

func mustPutStreamEvents(tb testing.TB, ctx context.Context, s profiles.Store, evs ...*profiles.StreamEvent) {
	tb.Helper()
	if err := s.Update(ctx, func(tx profiles.Tx) error { return tx.PutStreamEvents(ctx, evs) }); err != nil {
		tb.Fatalf("PutStreamEvents: %v", err)
	}
}

func mustCountStreamEvents(tb testing.TB, ctx context.Context, ob profiles.EventOutbox, domain, stream string, want int) {
	tb.Helper()
	if n, err := ob.CountStreamEvents(ctx, domain, stream); err != nil || n != want {
		tb.Errorf("CountStreamEvents(%s, %s) = %d, %v; want %d", domain, stream, n, err, want)
	}
}
