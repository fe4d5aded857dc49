package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/service"
)

// receiveHook is a dead-letter queue service that calls beforeSecond, with
// the messages the first Receive returned, before its second Receive (once
// a delete or a replay has received its first batch); and cancel, if set,
// at its first Delete, which then fails as a request ended midway would.
type receiveHook struct {
	profiles.DeadLetters
	beforeSecond func(ctx context.Context, first []profiles.QueueMessage)
	cancel       context.CancelFunc

	mu       sync.Mutex
	receives int
	deletes  int
	first    []profiles.QueueMessage
}

func (q *receiveHook) Receive(ctx context.Context, url string, max int, wait, visibility time.Duration) ([]profiles.QueueMessage, error) {
	q.mu.Lock()
	q.receives++
	n, first := q.receives, q.first
	q.mu.Unlock()
	if n == 2 && q.beforeSecond != nil {
		q.beforeSecond(ctx, first)
	}
	msgs, err := q.DeadLetters.Receive(ctx, url, max, wait, visibility)
	if n == 1 {
		q.mu.Lock()
		q.first = msgs
		q.mu.Unlock()
	}
	return msgs, err
}

func (q *receiveHook) Delete(ctx context.Context, url, receiptHandle string) error {
	q.mu.Lock()
	q.deletes++
	n := q.deletes
	q.mu.Unlock()
	if n == 1 && q.cancel != nil {
		q.cancel()
		return ctx.Err()
	}
	return q.DeadLetters.Delete(ctx, url, receiptHandle)
}

// mustPlainLetters makes n dead letters of domain "d" (objects of a
// missing object type) and returns their message IDs.
func mustPlainLetters(t *testing.T, s *service.Service, n int) []string {
	t.Helper()
	ctx := t.Context()
	for i := range n {
		obj, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("letter-%d", i), "email": fmt.Sprintf("l%d@example.com", i)})
		if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
			t.Fatal("ingestion into a missing object type succeeded")
		}
	}
	entries, err := s.ListDeadLetters(ctx, "d", 100)
	if err != nil || len(entries) != n {
		t.Fatalf("the letters: %d, %v; want %d", len(entries), err, n)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// TestDeadLetters_ReceivingOutlastsHold: the console's replay and delete
// (all the letters), whose receiving of the queue lasts longer than the
// hold (here 3 s, and a slow second batch), keep the letters they
// received first hidden meanwhile: another reader gets none of them, and
// every letter is replayed, or deleted. Before, the holds were renewed
// only once the whole queue was received: the first letters' holds ran
// out, the reader received them, and the replay or delete left them
// alone (neither replayed nor deleted).
func TestDeadLetters_ReceivingOutlastsHold(t *testing.T) {
	for _, queue := range []string{"localsqs", "fauxqs"} {
		for _, op := range []string{"replay", "delete"} {
			t.Run(queue+"/"+op, func(t *testing.T) {
				ctx := t.Context()
				db := MustOpenSQLite(t)
				s, _, _, _ := mustDeadLetterService(t, db, time.Now)
				if queue == "fauxqs" {
					mustFauxqsQueue(t, s)
				}
				const hold = 3 * time.Second // renewed every 1.5 s: room for a loaded machine
				s.DeadLetterHold = hold
				const n = 25 // three batches at least
				ids := mustPlainLetters(t, s, n)
				if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
					t.Fatal(err)
				}

				// Before the second batch, the other reader receives what
				// it can until it has a letter of the first batch, or
				// three holds have passed; it makes what it received
				// visible again at once, so that the replay or delete then
				// receives the rest of the queue.
				url, queues := mustDomainQueue(t, s), s.Queues
				got := 0
				slow := &receiveHook{DeadLetters: queues}
				slow.beforeSecond = func(ctx context.Context, first []profiles.QueueMessage) {
					inFirst := map[string]bool{}
					for _, m := range first {
						inFirst[m.ID] = true
					}
					for deadline := time.Now().Add(3 * hold); got == 0 && time.Now().Before(deadline); {
						msgs, err := queues.Receive(ctx, url, 10, 0, 30*time.Second)
						if err == nil && len(msgs) > 0 {
							handles := make([]string, len(msgs))
							for i, m := range msgs {
								if inFirst[m.ID] {
									got++
								}
								handles[i] = m.ReceiptHandle
							}
							if _, err := queues.ChangeVisibilities(ctx, url, handles, 0); err != nil {
								t.Errorf("the other reader's ChangeVisibilities: %v", err)
							}
						}
						select {
						case <-ctx.Done():
							return
						case <-time.After(50 * time.Millisecond):
						}
					}
				}
				s.Queues = slow
				if op == "replay" {
					replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil)
					if err != nil || replayed != n || failed != 0 {
						t.Errorf("replay: %d replayed, %d failed, %v; want %d, 0", replayed, failed, err, n)
					}
				} else {
					deleted, err := s.DeleteDeadLetters(ctx, "d", ids)
					if err != nil || deleted != n {
						t.Errorf("delete: %d deleted, %v; want %d", deleted, err, n)
					}
				}
				if slow.receives < 3 {
					t.Errorf("the queue was received in %d call(s); want several batches", slow.receives)
				}
				if got != 0 {
					t.Errorf("the other reader received %d letters of the first batch while the %s received the rest; want none", got, op)
				}
				s.Queues = queues
				if entries, err := s.ListDeadLetters(ctx, "d", 100); err != nil || len(entries) != 0 {
					t.Errorf("letters left in the queue after the %s: %d, %v; want 0", op, len(entries), err)
				}
			})
		}
	}
}

// TestDeadLetters_CancelledHandsBack: a console replay or delete whose
// request ends (the browser closed) while it receives the queue, as it
// ingests its first letter, or as it deletes its first letter, hands back
// every letter it received and did not delete, as it was: all of them are
// visible again at once, not hidden for a whole hold (here an hour), and
// none is sent again as failed. Before, the letter whose delete the end of
// the request interrupted stayed hidden for what was left of its hold.
func TestDeadLetters_CancelledHandsBack(t *testing.T) {
	for _, queue := range []string{"localsqs", "fauxqs"} {
		for _, c := range []struct{ op, when string }{
			{"replay", "receiving"}, {"replay", "ingesting"}, {"replay", "deleting"},
			{"delete", "receiving"}, {"delete", "deleting"},
		} {
			op, when := c.op, c.when
			t.Run(queue+"/"+op+"/"+when, func(t *testing.T) {
				db := MustOpenSQLite(t)
				s, _, _, _ := mustDeadLetterService(t, db, time.Now)
				if queue == "fauxqs" {
					mustFauxqsQueue(t, s)
				}
				s.DeadLetterHold = time.Hour // longer than the test: a letter not handed back stays hidden
				const n = 25
				ids := mustPlainLetters(t, s, n)
				if _, err := s.PutObjectType(t.Context(), contactType("d")); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				queues := s.Queues
				hook := &receiveHook{DeadLetters: queues}
				var allow func(string) error
				switch when {
				case "receiving":
					hook.beforeSecond = func(context.Context, []profiles.QueueMessage) { cancel() }
				case "ingesting": // as the first letter is put
					allow = func(string) error { cancel(); return nil }
				case "deleting":
					hook.cancel = cancel
				}
				s.Queues = hook
				var err error
				if op == "replay" {
					_, _, _, err = s.ReplayDeadLetters(ctx, "d", nil, allow)
				} else {
					_, err = s.DeleteDeadLetters(ctx, "d", ids)
				}
				s.Queues = queues
				if err == nil {
					t.Errorf("%s cancelled while %s: no error", op, when)
				}
				entries, err := s.ListDeadLetters(t.Context(), "d", 100)
				if err != nil || len(entries) != n {
					t.Errorf("letters visible after the %s was cancelled while %s: %d, %v; want all %d (handed back)", op, when, len(entries), err, n)
				}
				for _, e := range entries {
					if e.Letter == nil || e.Letter.Attempts != 1 {
						t.Errorf("letter %s after the cancelled %s: %+v; want it as it was (1 attempt)", e.ID, op, e.Letter)
					}
				}
			})
		}
	}
}
