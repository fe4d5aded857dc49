package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awssqs"
	"github.com/openprofiles/profiles/dlqtest"
	"github.com/openprofiles/profiles/internal/fauxqs"
	"github.com/openprofiles/profiles/service"
)

// stall makes the first caller of wait, as a slow ingestion would, start
// reader and wait until the reader has received a message (seen) or max
// has passed.
type stall struct {
	max    time.Duration
	reader func()
	seen   atomic.Bool
	once   sync.Once
}

func (st *stall) wait(ctx context.Context) {
	st.once.Do(func() {
		go st.reader()
		for deadline := time.Now().Add(st.max); !st.seen.Load() && time.Now().Before(deadline); {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// firstDeleteWaits is a dead-letter queue service whose first Delete (by
// a replay, once it has taken its messages and ingested one) stalls, if
// stall is set;
// while noRenew is set, every ChangeVisibilities fails (the queue not
// reached).
type firstDeleteWaits struct {
	profiles.DeadLetters
	*stall
	noRenew bool
}

func (q *firstDeleteWaits) Delete(ctx context.Context, url, receiptHandle string) error {
	if q.stall != nil {
		q.wait(ctx)
	}
	return q.DeadLetters.Delete(ctx, url, receiptHandle)
}

func (q *firstDeleteWaits) ChangeVisibilities(ctx context.Context, url string, handles []string, d time.Duration) ([]error, error) {
	if q.noRenew {
		return nil, profiles.Errorf(profiles.EINTERNAL, "queue unreachable")
	}
	return q.DeadLetters.ChangeVisibilities(ctx, url, handles, d)
}

// firstCopyReadWaits is a store of whole copies whose first read (by a
// replay, as it ingests its first cut letter) stalls.
type firstCopyReadWaits struct {
	profiles.DeadLetterCopyStore
	*stall
}

func (c *firstCopyReadWaits) FindDeadLetterCopy(ctx context.Context, domain, name string) (*profiles.DeadLetterCopy, error) {
	c.wait(ctx)
	return c.DeadLetterCopyStore.FindDeadLetterCopy(ctx, domain, name)
}

// TestReplayDeadLetters_OutlastsHold: a replay that lasts longer than the
// hold of the messages it took (here: 3 s, and a slow first letter) while
// another reader lists the letters keeps them hidden until it is done:
// the reader gets none, and every letter is ingested, its message deleted
// and its whole copy removed. Before, the reader got the messages once
// the hold ran out; the replay's deletes, with stale receipt handles,
// deleted nothing, yet it removed the cut letters' copies: the letters
// stayed in the queue, and a second replay failed them ("not kept any
// more"), though their objects were in.
func TestReplayDeadLetters_OutlastsHold(t *testing.T) {
	for _, queue := range []string{"localsqs", "fauxqs"} {
		t.Run(queue, func(t *testing.T) {
			ctx := t.Context()
			db := MustOpenSQLite(t)
			s, _, _, _ := mustDeadLetterService(t, db, time.Now)
			if queue == "fauxqs" {
				mustFauxqsQueue(t, s)
			}
			const hold = 3 * time.Second // renewed every 1.5 s: room for a loaded machine
			s.DeadLetterHold = hold
			const plain, cut = 24, 3
			for i := range plain + cut {
				o := map[string]string{"id": fmt.Sprintf("letter-%d", i), "email": fmt.Sprintf("l%d@example.com", i)}
				if i >= plain { // characters JSON escapes: the letter is cut, its whole copy kept
					o["note"] = strings.Repeat(`"`, 120000)
				}
				obj, _ := json.Marshal(o)
				if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
					t.Fatal("ingestion into a missing object type succeeded")
				}
			}
			entries, err := s.ListDeadLetters(ctx, "d", 100)
			if err != nil || len(entries) != plain+cut {
				t.Fatalf("the letters: %d, %v; want %d", len(entries), err, plain+cut)
			}
			var copies []string
			for _, e := range entries {
				if e.Letter != nil && e.Letter.ObjectCopy != "" {
					mustCopy(t, db, "d", e.Letter.ObjectCopy)
					copies = append(copies, e.Letter.ObjectCopy)
				}
			}
			if len(copies) != cut {
				t.Fatalf("%d letters name a whole copy, want %d", len(copies), cut)
			}
			if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
				t.Fatal(err)
			}

			done := make(chan struct{})
			var listed atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			slow := &firstDeleteWaits{DeadLetters: s.Queues, stall: &stall{max: 5 * hold / 2}}
			slow.reader = func() { // a console listing, again and again
				defer wg.Done()
				for {
					entries, err := s.ListDeadLetters(ctx, "d", 100)
					if err == nil && len(entries) > 0 {
						listed.Add(int64(len(entries)))
						slow.seen.Store(true)
					}
					select {
					case <-done:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			s.Queues = slow
			replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil)
			close(done)
			wg.Wait()
			if err != nil || replayed != plain+cut || failed != 0 {
				t.Fatalf("replay: %d replayed, %d failed, %v; want %d, 0", replayed, failed, err, plain+cut)
			}
			if n := listed.Load(); n != 0 {
				t.Errorf("a listing during the replay got %d letters the replay held", n)
			}
			if n, err := s.DeadLetterDepth(ctx, "d"); err != nil || n != 0 {
				t.Errorf("messages left in the queue after the replay: %d, %v; want 0", n, err)
			}
			for _, name := range copies {
				if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
					t.Errorf("the whole copy %s of a replayed letter: %v; want it removed (ENOTFOUND)", name, err)
				}
			}
			for i := range plain + cut {
				q := profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_email", Values: []string{fmt.Sprintf("l%d@example.com", i)}}}
				res, _, err := s.SearchProfiles(ctx, "d", q, profiles.Page{})
				if err != nil || len(res) != 1 {
					t.Errorf("the profile of letter %d: %d, %v; want 1", i, len(res), err)
				}
			}
			// Nothing left to replay: no letter failed for want of its copy.
			if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 0 || failed != 0 {
				t.Errorf("a second replay: %d replayed, %d failed, %v; want 0, 0", replayed, failed, err)
			}
		})
	}
}

// TestReplayDeadLetters_HoldNotRenewed: a replay whose holds cannot be
// renewed (the queue did not answer) checks each message by its receipt
// handle before it deletes it: those another reader has received since
// (a second replay, still at work on them) stay in the queue with their
// whole copies, for that reader; the others are replayed. Once the reader
// hands them back, a replay ingests them whole. Before, the replay deleted
// them with stale handles, which deleted nothing, and removed their
// copies: they failed for want of them.
func TestReplayDeadLetters_HoldNotRenewed(t *testing.T) {
	for _, queue := range []string{"localsqs", "fauxqs"} {
		t.Run(queue, func(t *testing.T) {
			ctx := t.Context()
			db := MustOpenSQLite(t)
			s, _, _, _ := mustDeadLetterService(t, db, time.Now)
			if queue == "fauxqs" {
				mustFauxqsQueue(t, s)
			}
			const hold = 2 * time.Second
			s.DeadLetterHold = hold
			const cut, plain = 3, 5 // fewer than 10: the reader receives every one it can
			for i := range cut + plain {
				o := map[string]string{"id": fmt.Sprintf("letter-%d", i), "email": fmt.Sprintf("l%d@example.com", i)}
				if i < cut {
					o["note"] = strings.Repeat(`"`, 120000)
				}
				obj, _ := json.Marshal(o)
				if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
					t.Fatal("ingestion into a missing object type succeeded")
				}
			}
			entries, err := s.ListDeadLetters(ctx, "d", 100)
			if err != nil || len(entries) != cut+plain {
				t.Fatalf("the letters: %d, %v; want %d", len(entries), err, cut+plain)
			}
			copyOf := map[string]string{} // message ID -> whole copy
			for _, e := range entries {
				if e.Letter != nil && e.Letter.ObjectCopy != "" {
					copyOf[e.ID] = e.Letter.ObjectCopy
				}
			}
			if len(copyOf) != cut {
				t.Fatalf("%d letters name a whole copy, want %d", len(copyOf), cut)
			}
			if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
				t.Fatal(err)
			}

			url := mustDomainQueue(t, s)
			queues := s.Queues
			var taken []profiles.QueueMessage // by the other reader, which holds them
			st := &stall{max: 10 * hold}
			st.reader = func() {
				for !st.seen.Load() && ctx.Err() == nil {
					msgs, err := queues.Receive(ctx, url, 10, time.Second, time.Minute)
					if err == nil && len(msgs) > 0 {
						taken = msgs
						st.seen.Store(true)
					}
				}
			}
			s.Queues = &firstDeleteWaits{DeadLetters: queues, noRenew: true}
			s.DeadLetterCopies = &firstCopyReadWaits{DeadLetterCopyStore: db, stall: st}
			if _, _, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil {
				t.Fatalf("replay: %v", err)
			}
			if !st.seen.Load() {
				t.Fatal("the other reader received nothing")
			}
			s.Queues, s.DeadLetterCopies = queues, db
			if n, err := s.DeadLetterDepth(ctx, "d"); err != nil || n != len(taken) {
				t.Errorf("messages left in the queue: %d, %v; want the %d the other reader has", n, err, len(taken))
			}
			cutTaken := 0
			for _, m := range taken {
				if name := copyOf[m.ID]; name != "" {
					mustCopy(t, db, "d", name)
					cutTaken++
				}
			}
			if cutTaken == 0 {
				t.Fatalf("the other reader has %d letters, none cut: nothing checked", len(taken))
			}

			// The other reader hands them back: they replay whole.
			for _, m := range taken {
				if err := queues.ChangeVisibility(ctx, url, m.ReceiptHandle, 0); err != nil {
					t.Fatal(err)
				}
			}
			if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != len(taken) || failed != 0 {
				t.Errorf("replay of the letters handed back: %d replayed, %d failed, %v; want %d, 0", replayed, failed, err, len(taken))
			}
			if n, err := s.DeadLetterDepth(ctx, "d"); err != nil || n != 0 {
				t.Errorf("messages left in the queue at the end: %d, %v; want 0", n, err)
			}
			for _, name := range copyOf {
				if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
					t.Errorf("the whole copy %s at the end: %v; want it removed (ENOTFOUND)", name, err)
				}
			}
		})
	}
}

// mustDomainQueue returns the URL of domain "d"'s dead-letter queue.
func mustDomainQueue(t *testing.T, s *service.Service) string {
	t.Helper()
	d, _, err := s.GetDomain(t.Context(), "d")
	if err != nil {
		t.Fatal(err)
	}
	return d.DeadLetterQueueURL
}

// mustFauxqsQueue starts fauxqs and makes it domain "d"'s dead-letter
// queue, through awssqs, and returns the queue's URL.
func mustFauxqsQueue(t *testing.T, s *service.Service) string {
	t.Helper()
	q := awssqs.New(fauxqs.Start(t), fauxqs.Region, credentials.NewStaticCredentialsProvider("AKTEST", "secret", ""))
	out, err := q.Client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("dlq-" + strconv.FormatInt(time.Now().UnixNano(), 36)),
		Attributes: map[string]string{"Policy": dlqtest.Policy(dlqtest.ServiceStatement("*", "000000000000", dlqtest.DomainARN("us-east-1", "000000000000", "*")))}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	s.Queues = q
	if _, err := s.UpdateDomain(t.Context(), "d", &profiles.DomainUpdate{DeadLetterQueueURL: &url}); err != nil {
		t.Fatal(err)
	}
	return url
}
