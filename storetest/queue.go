package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// The queue cases hold stores that implement profiles.QueueStore (the
// persistence of the built-in queue service) to its contract. Every store
// of this project implements it: a store that does not fails them (a
// skipped case would hide a missing component in CI). Besides the contract:
//
//   - Queues and messages read back as stored: times to the millisecond in
//     UTC, Attributes and Tags as given (nil and empty alike). A zero
//     CreatedAt of a queue becomes the store's current time and a zero
//     UpdatedAt its CreatedAt; a zero SentAt of a message becomes the
//     store's current time and a zero VisibleAt its SentAt. CreateQueue
//     and PutMessage write the times as stored back into their argument.
//   - UpdateQueue returns the queue as FindQueue would; a zero UpdatedAt
//     becomes the store's current time. It returns EINVALID when fn
//     changes the name, and fn's error as is; nothing changes then.
//   - Queue names are compared as they are (no case folding); message ids
//     are unique per queue, and PutMessage of a taken id is ECONFLICT.
//   - ReceiveMessages compares with its argument now, never with the
//     store's clock. A message is visible at now when its VisibleAt is at
//     or before now. It returns the visible messages oldest first (SentAt,
//     then ID), with VisibleAt now+visibility, the ReceiptHandle handle()
//     made for it, ReceiveCount one more and FirstReceive now on the first
//     receive (kept after). With retention > 0 the visible messages sent at
//     or before now-retention are deleted and never returned; retention 0
//     keeps every message. max < 1 is EINVALID.
//   - DeleteMessage and ChangeVisibility find a message by its last
//     receipt handle: the handle of an earlier receive, "" (a message never
//     received) and a handle of another queue are ENOTFOUND. They, and
//     every other method given a missing queue, return ENOTFOUND naming it.
//   - CountMessages counts as visible the messages visible at its now.
//   - A queue deleted and created again has no messages.

func testQueue(t *testing.T, open OpenFunc) {
	t.Run("Queue", func(t *testing.T) { testQueueQueue(t, open) })
	t.Run("Message", func(t *testing.T) { testQueueMessage(t, open) })
}

// mustOpenQueues opens a store and returns it as a QueueStore, or fails t if
// the store does not implement it.
func mustOpenQueues(t *testing.T, open OpenFunc) (profiles.QueueStore, *clock) {
	t.Helper()
	s, c := mustOpenClock(t, open)
	qs, ok := s.(profiles.QueueStore)
	if !ok {
		t.Fatalf("%T does not implement profiles.QueueStore: every store must (the built-in queue service keeps its queues there)", s)
	}
	return qs, c
}

// fullQueue returns a queue of the given name with every field set, times
// below the millisecond and outside UTC.
func fullQueue(name string) *profiles.Queue {
	east := time.FixedZone("UTC+2", 2*60*60)
	return &profiles.Queue{
		Name: name,
		URL:  "http://127.0.0.1:4566/000000000000/" + name,
		ARN:  "arn:aws:sqs:us-east-1:000000000000:" + name,
		Attributes: map[string]string{
			"VisibilityTimeout":      "30",
			"MessageRetentionPeriod": "1209600",
			"Policy":                 `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"profile.amazonaws.com"},"Action":"SQS:SendMessage"}]}`,
			"Empty":                  "",
		},
		Tags:      map[string]string{"team": "support", "ünï": "✓"},
		CreatedAt: time.Date(2024, 2, 29, 23, 59, 58, 123456789, east),
		UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 987654321, east),
	}
}

func storedQueue(q *profiles.Queue) *profiles.Queue {
	out := *q
	out.CreatedAt, out.UpdatedAt = storedTime(q.CreatedAt), storedTime(q.UpdatedAt)
	return &out
}

// mustCreateQueues creates queues of the given names, with no attributes.
func mustCreateQueues(tb testing.TB, ctx context.Context, s profiles.QueueStore, names ...string) {
	tb.Helper()
	for _, name := range names {
		if err := s.CreateQueue(ctx, &profiles.Queue{Name: name, URL: "http://q/" + name, ARN: "arn:q:" + name}); err != nil {
			tb.Fatalf("CreateQueue(%q): %v", name, err)
		}
	}
}

func mustFindQueue(tb testing.TB, ctx context.Context, s profiles.QueueStore, name string) *profiles.Queue {
	tb.Helper()
	q, err := s.FindQueue(ctx, name)
	if err != nil {
		tb.Fatalf("FindQueue(%q): %v", name, err)
	}
	return q
}

func queueNames(qs []*profiles.Queue) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Name)
	}
	return out
}

// newMessage returns a message of queue with the given id, sent (and
// visible) at sent.
func newMessage(queue, id string, sent time.Time) *profiles.StoredMessage {
	return &profiles.StoredMessage{QueueName: queue, ID: id, Body: "body of " + id, SentAt: sent}
}

func mustPutMessage(tb testing.TB, ctx context.Context, s profiles.QueueStore, m *profiles.StoredMessage) {
	tb.Helper()
	if err := s.PutMessage(ctx, m); err != nil {
		tb.Fatalf("PutMessage(%q, %q): %v", m.QueueName, m.ID, err)
	}
}

// handles returns a func that makes receipt handles h1, h2, …; it is safe
// for concurrent use.
func handles() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("h%d", n.Add(1)) }
}

func mustReceive(tb testing.TB, ctx context.Context, s profiles.QueueStore, queue string, max int, now time.Time,
	visibility, retention time.Duration, handle func() string) []*profiles.StoredMessage {
	tb.Helper()
	ms, err := s.ReceiveMessages(ctx, queue, max, now, visibility, retention, handle)
	if err != nil {
		tb.Fatalf("ReceiveMessages(%q, %d, %v): %v", queue, max, now, err)
	}
	return ms
}

func messageIDs(ms []*profiles.StoredMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// checkCounts fails tb unless CountMessages at now returns visible, hidden.
func checkCounts(tb testing.TB, ctx context.Context, s profiles.QueueStore, queue string, now time.Time, visible, hidden int) {
	tb.Helper()
	v, h, err := s.CountMessages(ctx, queue, now)
	if err != nil {
		tb.Fatalf("CountMessages(%q): %v", queue, err)
	}
	if v != visible || h != hidden {
		tb.Errorf("CountMessages(%q, %v) = %d visible, %d hidden; want %d, %d", queue, now, v, h, visible, hidden)
	}
}

func testQueueQueue(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		if zero := zeroFields("Queue", reflect.ValueOf(fullQueue("q"))); len(zero) > 0 {
			t.Fatalf("fixture leaves fields unset, so they are not round-tripped: %v", zero)
		}
		var want []*profiles.Queue
		for _, name := range []string{"orders-dlq", "profiles_dlq.fifo"} {
			q := fullQueue(name)
			if err := s.CreateQueue(ctx, q); err != nil {
				t.Fatalf("CreateQueue(%q): %v", name, err)
			}
			w := storedQueue(fullQueue(name))
			checkKMS(t, "CreateQueue: q", w, q)
			checkKMS(t, "FindQueue", w, mustFindQueue(t, ctx, s, name))
			want = append(want, w)
		}
		bare := &profiles.Queue{Name: "bare", CreatedAt: clockStart(), UpdatedAt: clockStart()}
		if err := s.CreateQueue(ctx, bare); err != nil {
			t.Fatalf("CreateQueue(bare): %v", err)
		}
		checkKMS(t, "FindQueue(bare)", &profiles.Queue{Name: "bare", CreatedAt: clockStart(), UpdatedAt: clockStart()},
			mustFindQueue(t, ctx, s, "bare"))
		list, err := s.ListQueues(ctx, "", "", 0)
		if err != nil {
			t.Fatalf("ListQueues: %v", err)
		}
		checkKMS(t, "ListQueues", []string{"bare", "orders-dlq", "profiles_dlq.fifo"}, queueNames(list))
		checkKMS(t, "ListQueues: queues", want, list[1:])
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenQueues(t, open)
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		q := fullQueue("both")
		q.CreatedAt, q.UpdatedAt = time.Time{}, time.Time{}
		if err := s.CreateQueue(ctx, q); err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		want := fullQueue("both")
		want.CreatedAt, want.UpdatedAt = storedTime(clock.Now()), storedTime(clock.Now())
		checkKMS(t, "CreateQueue: q", want, q)
		checkKMS(t, "FindQueue", want, mustFindQueue(t, ctx, s, "both"))

		q = fullQueue("updated")
		q.UpdatedAt = time.Time{}
		if err := s.CreateQueue(ctx, q); err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		want = storedQueue(fullQueue("updated"))
		want.UpdatedAt = want.CreatedAt
		checkKMS(t, "CreateQueue: q", want, q)
		checkKMS(t, "FindQueue", want, mustFindQueue(t, ctx, s, "updated"))
	})

	t.Run("CreateConflict", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		if err := s.CreateQueue(ctx, fullQueue("taken")); err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		other := &profiles.Queue{Name: "taken", URL: "other", CreatedAt: clockStart()}
		checkCode(t, "CreateQueue(taken)", s.CreateQueue(ctx, other), profiles.ECONFLICT)
		checkKMS(t, "FindQueue after conflict", storedQueue(fullQueue("taken")), mustFindQueue(t, ctx, s, "taken"))
		// Names are compared as they are: no case folding.
		mustCreateQueues(t, ctx, s, "Taken")
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "orders")
		now := clockStart()
		for _, tt := range []struct {
			name  string
			call  func(queue string) error
			queue string
		}{
			{"FindQueue", func(q string) error { _, err := s.FindQueue(ctx, q); return err }, "ghost"},
			{"FindQueueOtherCase", func(q string) error { _, err := s.FindQueue(ctx, q); return err }, "Orders"},
			{"UpdateQueue", func(q string) error {
				_, err := s.UpdateQueue(ctx, q, func(*profiles.Queue) error { return nil })
				return err
			}, "ghost"},
			{"DeleteQueue", func(q string) error { return s.DeleteQueue(ctx, q) }, "ghost"},
			{"PutMessage", func(q string) error { return s.PutMessage(ctx, newMessage(q, "m1", now)) }, "ghost"},
			{"ReceiveMessages", func(q string) error {
				_, err := s.ReceiveMessages(ctx, q, 1, now, time.Minute, 0, handles())
				return err
			}, "ghost"},
			{"DeleteMessage", func(q string) error { return s.DeleteMessage(ctx, q, "h1") }, "ghost"},
			{"ChangeVisibility", func(q string) error { return s.ChangeVisibility(ctx, q, "h1", now) }, "ghost"},
			{"PurgeQueue", func(q string) error { return s.PurgeQueue(ctx, q) }, "ghost"},
			{"CountMessages", func(q string) error { _, _, err := s.CountMessages(ctx, q, now); return err }, "ghost"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkNotFound(t, tt.name, tt.call(tt.queue), tt.queue)
			})
		}
		checkCounts(t, ctx, s, "orders", now, 0, 0)
	})

	t.Run("Update", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenQueues(t, open)
		if err := s.CreateQueue(ctx, fullQueue("q")); err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		later := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("UTC-5", -5*60*60))
		got, err := s.UpdateQueue(ctx, "q", func(q *profiles.Queue) error {
			q.Attributes["VisibilityTimeout"] = "60"
			delete(q.Attributes, "Policy")
			q.Attributes["DelaySeconds"] = "5"
			q.Tags = nil
			q.UpdatedAt = later
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateQueue: %v", err)
		}
		want := storedQueue(fullQueue("q"))
		want.Attributes = map[string]string{"VisibilityTimeout": "60", "MessageRetentionPeriod": "1209600", "Empty": "", "DelaySeconds": "5"}
		want.Tags, want.UpdatedAt = nil, storedTime(later)
		checkKMS(t, "UpdateQueue", want, got)
		checkKMS(t, "FindQueue after UpdateQueue", want, mustFindQueue(t, ctx, s, "q"))

		clock.Set(time.Date(2026, 8, 1, 0, 0, 0, 999999, time.UTC))
		got, err = s.UpdateQueue(ctx, "q", func(q *profiles.Queue) error {
			q.Tags, q.UpdatedAt = map[string]string{"env": "prod"}, time.Time{}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateQueue: %v", err)
		}
		want.Tags, want.UpdatedAt = map[string]string{"env": "prod"}, storedTime(clock.Now())
		checkKMS(t, "UpdateQueue with a zero UpdatedAt", want, got)

		errStop := errors.New("stop")
		_, err = s.UpdateQueue(ctx, "q", func(q *profiles.Queue) error {
			q.Attributes = nil
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Errorf("UpdateQueue: err=%v, want fn's error %v", err, errStop)
		}
		_, err = s.UpdateQueue(ctx, "q", func(q *profiles.Queue) error {
			q.Name, q.Attributes = "renamed", nil
			return nil
		})
		checkCode(t, "UpdateQueue renaming", err, profiles.EINVALID)
		checkKMS(t, "FindQueue after failed updates", want, mustFindQueue(t, ctx, s, "q"))
		checkCode(t, "FindQueue(renamed)", func() error { _, err := s.FindQueue(ctx, "renamed"); return err }(), profiles.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "éa", "b", "a.", "a_b", "a", "B", "ab", "a-1", "é", "a-")
		all := []string{"B", "a", "a-", "a-1", "a.", "a_b", "ab", "b", "é", "éa"} // byte order
		for _, tt := range []struct {
			prefix, after string
			limit         int
			want          []string
		}{
			{"", "", 0, all},
			{"", "", -1, all},
			{"", "a", 3, []string{"a-", "a-1", "a."}},
			{"", "éa", 0, nil},
			{"a", "", 0, []string{"a", "a-", "a-1", "a.", "a_b", "ab"}},
			{"a", "", 2, []string{"a", "a-"}},
			{"a", "a-", 2, []string{"a-1", "a."}},
			{"a", "a.", 2, []string{"a_b", "ab"}},
			{"a", "ab", 2, nil},
			{"a", "B", 1, []string{"a"}},         // after sorts before the prefix
			{"a", "zz", 0, nil},                  // after sorts after the prefix
			{"a-", "", 0, []string{"a-", "a-1"}}, // not "a.", the next string in byte order
			{"B", "", 0, []string{"B"}},
			{"é", "", 0, []string{"é", "éa"}},
			{"é", "é", 0, []string{"éa"}},
			{"c", "", 0, nil},
			{"ab-", "", 0, nil},
		} {
			got, err := s.ListQueues(ctx, tt.prefix, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("ListQueues(%q, %q, %d): %v", tt.prefix, tt.after, tt.limit, err)
			}
			checkKMS(t, fmt.Sprintf("ListQueues(%q, %q, %d)", tt.prefix, tt.after, tt.limit), tt.want, queueNames(got))
		}

		// Paging one at a time lists every queue of the prefix once.
		var paged []string
		for after := ""; ; {
			page, err := s.ListQueues(ctx, "a", after, 1)
			if err != nil {
				t.Fatalf("ListQueues(a, %q, 1): %v", after, err)
			}
			if len(page) == 0 {
				break
			} else if len(page) > 1 {
				t.Fatalf("ListQueues(a, %q, 1) = %v, more than 1", after, queueNames(page))
			}
			paged, after = append(paged, page[0].Name), page[0].Name
		}
		checkKMS(t, "ListQueues(a) paged", []string{"a", "a-", "a-1", "a.", "a_b", "ab"}, paged)
	})

	t.Run("DeleteCascades", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "gone", "kept")
		t0 := clockStart()
		for i := range 3 {
			mustPutMessage(t, ctx, s, newMessage("gone", fmt.Sprint("m", i), t0))
			mustPutMessage(t, ctx, s, newMessage("kept", fmt.Sprint("m", i), t0))
		}
		if err := s.DeleteQueue(ctx, "gone"); err != nil {
			t.Fatalf("DeleteQueue: %v", err)
		}
		checkNotFound(t, "FindQueue(gone)", func() error { _, err := s.FindQueue(ctx, "gone"); return err }(), "gone")
		checkNotFound(t, "DeleteQueue(gone) again", s.DeleteQueue(ctx, "gone"), "gone")
		checkCounts(t, ctx, s, "kept", t0, 3, 0)

		mustCreateQueues(t, ctx, s, "gone")
		checkCounts(t, ctx, s, "gone", t0, 0, 0)
		if got := mustReceive(t, ctx, s, "gone", 10, t0, time.Minute, 0, handles()); len(got) != 0 {
			t.Errorf("ReceiveMessages of a queue created again: %v, want none", messageIDs(got))
		}
		mustPutMessage(t, ctx, s, newMessage("gone", "m0", t0)) // the id is free again
		checkCounts(t, ctx, s, "gone", t0, 1, 0)
	})
}

func testQueueMessage(t *testing.T, open OpenFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q")
		east := time.FixedZone("UTC+2", 2*60*60)
		m := &profiles.StoredMessage{
			QueueName:  "q",
			ID:         "0b7e2a3c-1111-4222-8333-444455556666",
			Body:       `{"error":"KEY_MISSING","object":"« CTR » \"quoted\" <b> ✓\n\ttab"}`,
			Attributes: map[string]string{"Reason": "KEY_MISSING", "ünï": "✓", "empty": ""},
			SentAt:     time.Date(2026, 5, 31, 23, 59, 59, 123456789, east),
			VisibleAt:  time.Date(2026, 6, 1, 0, 0, 1, 987654321, east),
		}
		if zero := zeroFields("StoredMessage", reflect.ValueOf(*m)); !slices.Equal(zero, []string{
			"StoredMessage.ReceiveCount", "StoredMessage.ReceiptHandle", "StoredMessage.FirstReceive"}) {
			t.Fatalf("fixture leaves other fields unset, so they are not round-tripped: %v", zero)
		}
		mustPutMessage(t, ctx, s, m)
		want := *m
		want.SentAt, want.VisibleAt = storedTime(m.SentAt), storedTime(m.VisibleAt)
		checkKMS(t, "PutMessage: m", &want, m)

		now := time.Date(2026, 6, 1, 12, 0, 0, 555555555, time.UTC)
		got := mustReceive(t, ctx, s, "q", 10, now, 30*time.Second, 0, handles())
		want.VisibleAt, want.ReceiveCount, want.ReceiptHandle = storedTime(now.Add(30*time.Second)), 1, "h1"
		want.FirstReceive = storedTime(now)
		checkKMS(t, "ReceiveMessages", []*profiles.StoredMessage{&want}, got)

		// Ids are unique per queue.
		checkCode(t, "PutMessage of a taken id", s.PutMessage(ctx, newMessage("q", m.ID, now)), profiles.ECONFLICT)
		mustCreateQueues(t, ctx, s, "other")
		mustPutMessage(t, ctx, s, newMessage("other", m.ID, now))
		checkCounts(t, ctx, s, "q", now, 0, 1)
		checkCounts(t, ctx, s, "other", now, 1, 0)
	})

	t.Run("ZeroTimes", func(t *testing.T) {
		ctx := t.Context()
		s, clock := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q")
		clock.Set(time.Date(2026, 7, 14, 9, 30, 0, 123456789, time.UTC))
		m := newMessage("q", "m1", time.Time{})
		mustPutMessage(t, ctx, s, m)
		if want := storedTime(clock.Now()); !m.SentAt.Equal(want) || m.SentAt.Location() != time.UTC ||
			!m.VisibleAt.Equal(want) || m.VisibleAt.Location() != time.UTC {
			t.Errorf("PutMessage with zero times: SentAt %v, VisibleAt %v; want both %v", m.SentAt, m.VisibleAt, want)
		}
		delayed := newMessage("q", "m2", clockStart())
		delayed.VisibleAt = clockStart().Add(time.Minute)
		mustPutMessage(t, ctx, s, delayed)
		checkCounts(t, ctx, s, "q", clockStart(), 0, 2)
		checkCounts(t, ctx, s, "q", clockStart().Add(time.Minute), 1, 1)
		checkCounts(t, ctx, s, "q", clock.Now(), 2, 0)
	})

	t.Run("ReceiveOrder", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q", "other")
		t0 := clockStart()
		// Put out of order; m-b and m-a are sent at the same time.
		for _, m := range []*profiles.StoredMessage{
			newMessage("q", "m4", t0.Add(4*time.Second)),
			newMessage("q", "m-b", t0.Add(2*time.Second)),
			newMessage("q", "m1", t0.Add(time.Second)),
			newMessage("q", "m5", t0.Add(5*time.Second)),
			newMessage("q", "m-a", t0.Add(2*time.Second)),
			newMessage("q", "m0", t0),
			newMessage("other", "x", t0.Add(-time.Hour)),
		} {
			mustPutMessage(t, ctx, s, m)
		}
		now, h := t0.Add(time.Minute), handles()
		got := mustReceive(t, ctx, s, "q", 3, now, time.Hour, 0, h)
		checkKMS(t, "first ReceiveMessages(3)", []string{"m0", "m1", "m-a"}, messageIDs(got))
		got = mustReceive(t, ctx, s, "q", 10, now, time.Hour, 0, h)
		checkKMS(t, "second ReceiveMessages(10)", []string{"m-b", "m4", "m5"}, messageIDs(got))
		if got := mustReceive(t, ctx, s, "q", 10, now, time.Hour, 0, h); len(got) != 0 {
			t.Errorf("third ReceiveMessages: %v, want none (all hidden)", messageIDs(got))
		}
		checkCounts(t, ctx, s, "q", now, 0, 6)
		checkCounts(t, ctx, s, "other", now, 1, 0)
		_, err := s.ReceiveMessages(ctx, "other", 0, now, time.Hour, 0, h)
		checkCode(t, "ReceiveMessages(max 0)", err, profiles.EINVALID)
		checkCounts(t, ctx, s, "other", now, 1, 0)
	})

	t.Run("Visibility", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q")
		t0, h := clockStart(), handles()
		delayed := newMessage("q", "m1", t0)
		delayed.VisibleAt = t0.Add(10 * time.Second) // DelaySeconds
		mustPutMessage(t, ctx, s, delayed)
		if got := mustReceive(t, ctx, s, "q", 1, t0.Add(10*time.Second-time.Millisecond), 30*time.Second, 0, h); len(got) != 0 {
			t.Fatalf("ReceiveMessages before the delay ends: %v, want none", messageIDs(got))
		}
		t1 := t0.Add(10 * time.Second)
		first := mustReceive(t, ctx, s, "q", 1, t1, 30*time.Second, 0, h)
		if len(first) != 1 || first[0].ReceiveCount != 1 || first[0].ReceiptHandle != "h1" {
			t.Fatalf("ReceiveMessages when the delay ends: %+v, want m1 received once with handle h1", first)
		}
		checkCounts(t, ctx, s, "q", t1.Add(30*time.Second-time.Millisecond), 0, 1)
		checkCounts(t, ctx, s, "q", t1.Add(30*time.Second), 1, 0)
		if got := mustReceive(t, ctx, s, "q", 1, t1.Add(30*time.Second-time.Millisecond), 30*time.Second, 0, h); len(got) != 0 {
			t.Fatalf("ReceiveMessages while hidden: %v, want none", messageIDs(got))
		}
		t2 := t1.Add(30 * time.Second)
		second := mustReceive(t, ctx, s, "q", 1, t2, 5*time.Second, 0, h)
		want := &profiles.StoredMessage{QueueName: "q", ID: "m1", Body: "body of m1", SentAt: t0,
			VisibleAt: t2.Add(5 * time.Second), ReceiveCount: 2, ReceiptHandle: "h2", FirstReceive: t1}
		checkKMS(t, "ReceiveMessages when visible again", []*profiles.StoredMessage{want}, second)

		// The handle of the first receive is stale.
		checkCode(t, "ChangeVisibility(stale handle)", s.ChangeVisibility(ctx, "q", "h1", t2), profiles.ENOTFOUND)
		checkCode(t, "DeleteMessage(stale handle)", s.DeleteMessage(ctx, "q", "h1"), profiles.ENOTFOUND)
		checkCounts(t, ctx, s, "q", t2, 0, 1)

		// ChangeVisibility by the last handle: visible at once, then hidden again.
		if err := s.ChangeVisibility(ctx, "q", "h2", t2); err != nil {
			t.Fatalf("ChangeVisibility(h2, now): %v", err)
		}
		checkCounts(t, ctx, s, "q", t2, 1, 0)
		if err := s.ChangeVisibility(ctx, "q", "h2", t2.Add(time.Hour)); err != nil {
			t.Fatalf("ChangeVisibility(h2, +1h): %v", err)
		}
		checkCounts(t, ctx, s, "q", t2.Add(time.Hour-time.Millisecond), 0, 1)
		third := mustReceive(t, ctx, s, "q", 1, t2.Add(time.Hour), 0, 0, h)
		if len(third) != 1 || third[0].ReceiveCount != 3 || third[0].ReceiptHandle != "h3" ||
			!third[0].FirstReceive.Equal(t1) || !third[0].VisibleAt.Equal(t2.Add(time.Hour)) {
			t.Fatalf("ReceiveMessages after ChangeVisibility: %+v, want m1, 3rd receive, h3, first received %v, visible at once", third, t1)
		}
		checkCounts(t, ctx, s, "q", t2.Add(time.Hour), 1, 0) // visibility 0
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q", "other")
		t0, h := clockStart(), handles()
		for _, id := range []string{"m1", "m2", "never"} {
			mustPutMessage(t, ctx, s, newMessage("q", id, t0))
		}
		mustPutMessage(t, ctx, s, newMessage("other", "x", t0))
		got := mustReceive(t, ctx, s, "q", 2, t0, time.Minute, 0, h)
		checkKMS(t, "ReceiveMessages", []string{"m1", "m2"}, messageIDs(got))
		if other := mustReceive(t, ctx, s, "other", 1, t0, time.Minute, 0, h); len(other) != 1 || other[0].ReceiptHandle != "h3" {
			t.Fatalf("ReceiveMessages(other): %+v, want x with handle h3", other)
		}

		for _, tt := range []struct{ name, queue, handle string }{
			{"Unknown", "q", "nope"},
			{"Empty", "q", ""}, // the message never received has no handle
			{"OfOtherQueue", "q", "h3"},
			{"OfQueueToOther", "other", "h1"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkCode(t, "DeleteMessage", s.DeleteMessage(ctx, tt.queue, tt.handle), profiles.ENOTFOUND)
				checkCode(t, "ChangeVisibility", s.ChangeVisibility(ctx, tt.queue, tt.handle, t0), profiles.ENOTFOUND)
			})
		}
		checkCounts(t, ctx, s, "q", t0, 1, 2)
		checkCounts(t, ctx, s, "other", t0, 0, 1)

		if err := s.DeleteMessage(ctx, "q", "h1"); err != nil {
			t.Fatalf("DeleteMessage(h1): %v", err)
		}
		checkCode(t, "DeleteMessage(h1) again", s.DeleteMessage(ctx, "q", "h1"), profiles.ENOTFOUND)
		checkCounts(t, ctx, s, "q", t0, 1, 1)
		// After the visibility timeout, m2 and never come back; m1 does not.
		got = mustReceive(t, ctx, s, "q", 10, t0.Add(time.Minute), time.Minute, 0, h)
		checkKMS(t, "ReceiveMessages after the timeout", []string{"m2", "never"}, messageIDs(got))
	})

	t.Run("Purge", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q", "other")
		t0, h := clockStart(), handles()
		for i := range 5 {
			mustPutMessage(t, ctx, s, newMessage("q", fmt.Sprint("m", i), t0))
		}
		mustPutMessage(t, ctx, s, newMessage("other", "x", t0))
		mustReceive(t, ctx, s, "q", 2, t0, time.Minute, 0, h)
		checkCounts(t, ctx, s, "q", t0, 3, 2)
		if err := s.PurgeQueue(ctx, "q"); err != nil {
			t.Fatalf("PurgeQueue: %v", err)
		}
		checkCounts(t, ctx, s, "q", t0.Add(time.Hour), 0, 0)
		checkCounts(t, ctx, s, "other", t0, 1, 0)
		checkCode(t, "DeleteMessage after purge", s.DeleteMessage(ctx, "q", "h1"), profiles.ENOTFOUND)
		if err := s.PurgeQueue(ctx, "q"); err != nil {
			t.Fatalf("PurgeQueue of an empty queue: %v", err)
		}
		mustFindQueue(t, ctx, s, "q")
		mustPutMessage(t, ctx, s, newMessage("q", "m0", t0))
		checkCounts(t, ctx, s, "q", t0, 1, 0)
	})

	t.Run("Retention", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q")
		t0, h := clockStart(), handles()
		now, retention := t0.Add(10*time.Minute), 9*time.Minute // messages sent at or before t0+1m expire
		for _, m := range []*profiles.StoredMessage{
			newMessage("q", "old", t0),
			newMessage("q", "at-limit", t0.Add(time.Minute)),
			newMessage("q", "young", t0.Add(time.Minute+time.Millisecond)),
			newMessage("q", "new", now),
		} {
			mustPutMessage(t, ctx, s, m)
		}
		// Retention 0 keeps everything.
		got := mustReceive(t, ctx, s, "q", 10, now, 0, 0, h)
		checkKMS(t, "ReceiveMessages(retention 0)", []string{"old", "at-limit", "young", "new"}, messageIDs(got))
		checkCounts(t, ctx, s, "q", now, 4, 0)

		got = mustReceive(t, ctx, s, "q", 1, now, time.Minute, retention, h)
		checkKMS(t, "ReceiveMessages(retention 9m)", []string{"young"}, messageIDs(got))
		checkCounts(t, ctx, s, "q", now, 1, 1)
		got = mustReceive(t, ctx, s, "q", 10, now, time.Minute, retention, h)
		checkKMS(t, "ReceiveMessages(retention 9m) again", []string{"new"}, messageIDs(got))
		// The expired messages are gone, also without retention.
		checkCounts(t, ctx, s, "q", now.Add(time.Minute), 2, 0)
		got = mustReceive(t, ctx, s, "q", 10, now.Add(time.Minute), time.Minute, 0, h)
		checkKMS(t, "ReceiveMessages after expiry", []string{"young", "new"}, messageIDs(got))
	})

	t.Run("ConcurrentReceive", func(t *testing.T) {
		ctx := t.Context()
		s, _ := mustOpenQueues(t, open)
		mustCreateQueues(t, ctx, s, "q")
		const messages, receivers = 50, 8
		t0 := clockStart()
		for i := range messages {
			mustPutMessage(t, ctx, s, newMessage("q", fmt.Sprintf("m%02d", i), t0.Add(time.Duration(i%7)*time.Millisecond)))
		}
		h := handles()
		var mu sync.Mutex
		received := map[string][]string{} // message id → handles
		codes, errs := concurrently(receivers, func(int) error {
			for {
				ms, err := s.ReceiveMessages(ctx, "q", 1, t0.Add(time.Second), time.Hour, 0, h)
				if err != nil {
					return err
				} else if len(ms) == 0 {
					return nil
				} else if len(ms) > 1 {
					return fmt.Errorf("received %d messages, max 1", len(ms))
				}
				mu.Lock()
				received[ms[0].ID] = append(received[ms[0].ID], ms[0].ReceiptHandle)
				mu.Unlock()
			}
		})
		checkCodes(t, "ReceiveMessages", codes, map[string]int{"": receivers}, errs)
		if len(received) != messages {
			t.Errorf("received %d distinct messages, want %d", len(received), messages)
		}
		for id, hs := range received {
			if len(hs) != 1 {
				t.Errorf("message %s received %d times (handles %v), want once", id, len(hs), hs)
			}
		}
		checkCounts(t, ctx, s, "q", t0.Add(time.Second), 0, messages)
		// Each message is hidden under the handle its receiver got.
		for id, hs := range received {
			if err := s.DeleteMessage(ctx, "q", hs[len(hs)-1]); err != nil {
				t.Errorf("DeleteMessage(%s, %s): %v", id, hs[len(hs)-1], err)
			}
		}
		checkCounts(t, ctx, s, "q", t0.Add(2*time.Hour), 0, 0)
	})
}
