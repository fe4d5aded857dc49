package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The dead-letter copy cases hold stores that implement
// profiles.DeadLetterCopyStore to its contract. Every store of this project
// implements it: a store that does not fails them. Besides the contract:
//
//   - Copies read back as stored: Data byte for byte (a sealed object,
//     hundreds of KiB, any bytes), CreatedAt to the millisecond in UTC.
//   - A name is a domain's: two domains may hold copies of one name.

func testDeadLetterCopies(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, cs, clock := mustOpenCopies(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		// Every byte value, and more than a queue message holds.
		data := bytes.Repeat(func() []byte {
			b := make([]byte, 256)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}(), 1200)
		at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
		c := &profiles.DeadLetterCopy{DomainName: "d", Name: "0123456789abcdef0123456789abcdef", Data: data, CreatedAt: at}
		mustPutCopy(t, ctx, cs, c)
		want := &profiles.DeadLetterCopy{DomainName: "d", Name: c.Name, Data: data, CreatedAt: storedTime(at)}
		checkKMS(t, "PutDeadLetterCopy: c", want, c)
		checkKMS(t, "FindDeadLetterCopy", want, mustFindCopy(t, ctx, cs, "d", c.Name))

		// A zero CreatedAt: the store's clock. The same name in another
		// domain is another copy.
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		z := &profiles.DeadLetterCopy{DomainName: "e", Name: c.Name, Data: []byte("e's")}
		mustPutCopy(t, ctx, cs, z)
		wantZ := &profiles.DeadLetterCopy{DomainName: "e", Name: c.Name, Data: []byte("e's"), CreatedAt: storedTime(clock.Now())}
		checkKMS(t, "PutDeadLetterCopy(zero time): c", wantZ, z)
		checkKMS(t, "FindDeadLetterCopy(e)", wantZ, mustFindCopy(t, ctx, cs, "e", c.Name))
		checkKMS(t, "FindDeadLetterCopy(d) after e's", want, mustFindCopy(t, ctx, cs, "d", c.Name))

		// A put of a name held replaces the copy, its time too.
		clock.Add(time.Hour)
		again := &profiles.DeadLetterCopy{DomainName: "d", Name: c.Name, Data: []byte("renewed")}
		mustPutCopy(t, ctx, cs, again)
		checkKMS(t, "FindDeadLetterCopy after a put again",
			&profiles.DeadLetterCopy{DomainName: "d", Name: c.Name, Data: []byte("renewed"), CreatedAt: storedTime(clock.Now())},
			mustFindCopy(t, ctx, cs, "d", c.Name))

		if err := cs.DeleteDeadLetterCopy(ctx, "d", c.Name); err != nil {
			t.Fatalf("DeleteDeadLetterCopy: %v", err)
		}
		_, err := cs.FindDeadLetterCopy(ctx, "d", c.Name)
		checkNotFound(t, "FindDeadLetterCopy after its delete", err, c.Name)
		checkKMS(t, "FindDeadLetterCopy(e) after d's delete", wantZ, mustFindCopy(t, ctx, cs, "e", c.Name))
	})

	t.Run("Errors", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenCopies(t, open)
		mustCreateDomains(t, ctx, s, "d")
		err := cs.PutDeadLetterCopy(ctx, &profiles.DeadLetterCopy{DomainName: "nope", Name: "a", Data: []byte("x")})
		checkNotFound(t, "PutDeadLetterCopy(missing domain)", err, "nope")
		_, err = cs.FindDeadLetterCopy(ctx, "d", "missing")
		checkNotFound(t, "FindDeadLetterCopy(missing)", err, "missing")
		err = cs.DeleteDeadLetterCopy(ctx, "d", "missing")
		checkNotFound(t, "DeleteDeadLetterCopy(missing)", err, "missing")
		_, err = cs.FindDeadLetterCopy(ctx, "nope", "a")
		checkCode(t, "FindDeadLetterCopy(missing domain)", err, profiles.ENOTFOUND)
	})

	t.Run("DeleteDomain", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenCopies(t, open)
		mustCreateDomains(t, ctx, s, "gone", "kept")
		for _, d := range []string{"gone", "kept"} {
			for _, n := range []string{"a", "b"} {
				mustPutCopy(t, ctx, cs, &profiles.DeadLetterCopy{DomainName: d, Name: n, Data: []byte(d + n)})
			}
		}
		if err := s.DeleteDomain(ctx, "gone"); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		for _, n := range []string{"a", "b"} {
			_, err := cs.FindDeadLetterCopy(ctx, "gone", n)
			checkNotFound(t, "FindDeadLetterCopy of a deleted domain", err, n)
			if got := mustFindCopy(t, ctx, cs, "kept", n); string(got.Data) != "kept"+n {
				t.Errorf("kept's copy %s: %q after another domain's delete", n, got.Data)
			}
		}
		// A domain of the same name created again holds none of them.
		mustCreateDomains(t, ctx, s, "gone")
		_, err := cs.FindDeadLetterCopy(ctx, "gone", "a")
		checkNotFound(t, "FindDeadLetterCopy of a domain created again", err, "a")
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		ctx := t.Context()
		s, cs, _ := mustOpenCopies(t, open)
		mustCreateDomains(t, ctx, s, "d", "e")
		cut := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		// Four copies before the cut, in two domains, put out of order;
		// one at the cut and one after it stay.
		for _, c := range []struct {
			domain, name string
			at           time.Time
		}{
			{"d", "old2", cut.Add(-2 * time.Hour)},
			{"e", "old1", cut.Add(-3 * time.Hour)},
			{"d", "at", cut},
			{"d", "old4", cut.Add(-time.Millisecond)},
			{"e", "new", cut.Add(time.Hour)},
			{"e", "old3", cut.Add(-time.Hour)},
		} {
			mustPutCopy(t, ctx, cs, &profiles.DeadLetterCopy{DomainName: c.domain, Name: c.name, Data: []byte(c.name), CreatedAt: c.at})
		}
		// The limit takes the oldest first.
		if n, err := cs.DeleteDeadLetterCopiesBefore(ctx, cut, 2); err != nil || n != 2 {
			t.Fatalf("DeleteDeadLetterCopiesBefore(limit 2) = %d, %v; want 2", n, err)
		}
		for _, c := range [][2]string{{"e", "old1"}, {"d", "old2"}} {
			_, err := cs.FindDeadLetterCopy(ctx, c[0], c[1])
			checkNotFound(t, "FindDeadLetterCopy of one of the oldest, deleted", err, c[1])
		}
		mustFindCopy(t, ctx, cs, "e", "old3")
		if n, err := cs.DeleteDeadLetterCopiesBefore(ctx, cut, 0); err != nil || n != 2 {
			t.Fatalf("DeleteDeadLetterCopiesBefore(no limit) = %d, %v; want 2", n, err)
		}
		if n, err := cs.DeleteDeadLetterCopiesBefore(ctx, cut, 0); err != nil || n != 0 {
			t.Fatalf("DeleteDeadLetterCopiesBefore again = %d, %v; want 0", n, err)
		}
		for _, c := range [][2]string{{"d", "at"}, {"e", "new"}} {
			mustFindCopy(t, ctx, cs, c[0], c[1])
		}
	})
}

// mustOpenCopies opens a store that must be a profiles.DeadLetterCopyStore.
func mustOpenCopies(t *testing.T, open OpenFunc) (profiles.Store, profiles.DeadLetterCopyStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	cs, ok := s.(profiles.DeadLetterCopyStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.DeadLetterCopyStore: every store must (every node replays cut dead letters from it)", s)
	}
	return s, cs, c
}

func mustPutCopy(tb testing.TB, ctx context.Context, cs profiles.DeadLetterCopyStore, c *profiles.DeadLetterCopy) {
	tb.Helper()
	if err := cs.PutDeadLetterCopy(ctx, c); err != nil {
		tb.Fatalf("PutDeadLetterCopy(%s %s): %v", c.DomainName, c.Name, err)
	}
}

func mustFindCopy(tb testing.TB, ctx context.Context, cs profiles.DeadLetterCopyStore, domain, name string) *profiles.DeadLetterCopy {
	tb.Helper()
	c, err := cs.FindDeadLetterCopy(ctx, domain, name)
	if err != nil {
		tb.Fatalf("FindDeadLetterCopy(%s %s): %v", domain, name, err)
	}
	return c
}
