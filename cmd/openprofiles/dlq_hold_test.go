package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/service"
)

// TestDLQ_ReplayOutlastsHold: `dlq replay` whose run lasts longer than the
// hold of the letters it took (here 3 s, and a slow first letter) while
// another reader receives from the queue keeps them hidden until it is
// done: the reader gets none, every letter is ingested and its message
// deleted. Before, the hold (a fixed visibility timeout) ran out: the
// reader received the letters, and the replay's deletes, with stale
// receipt handles, deleted nothing: the letters ingested stayed in the
// queue, for the next replay to ingest again.
func TestDLQ_ReplayOutlastsHold(t *testing.T) {
	for _, queue := range []string{"built-in", "fauxqs"} {
		t.Run(queue, func(t *testing.T) {
			ctx := t.Context()
			d := newDLQEnv(t, queue, "held", "held-dlq")
			const n = 12
			d.sendNumbered(n, "held")

			// The other reader, started as the first letter is ingested:
			// it receives what it can (hiding it for a second) until the
			// replay is done.
			const hold = 3 * time.Second // renewed every 1.5 s: room for a loaded machine
			var got atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			reader := func() {
				defer wg.Done()
				for {
					out, err := d.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.url), MaxNumberOfMessages: 10, VisibilityTimeout: 1})
					if err == nil {
						got.Add(int64(len(out.Messages)))
					}
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			var once sync.Once
			slowFirst := func() {
				once.Do(func() {
					wg.Add(1)
					go reader()
					// Until the reader has a letter, or three holds have
					// passed.
					for deadline := time.Now().Add(3 * hold); got.Load() == 0 && time.Now().Before(deadline); {
						select {
						case <-ctx.Done():
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				})
			}
			var out, errb bytes.Buffer
			err := main.RunDlq(ctx, d.dlqArgs("replay"), &out, &errb, hold, slowFirst)
			close(stop)
			wg.Wait()
			if err != nil || !strings.Contains(out.String(), fmt.Sprintf(`"Replayed": %d`, n)) {
				t.Fatalf("dlq replay: %v\n%s%s", err, out.String(), errb.String())
			}
			if g := got.Load(); g != 0 {
				t.Errorf("the other reader received %d letters while the replay held them; want none", g)
			}
			for i := range n {
				d.mustOne("_email", fmt.Sprintf("held%d@example.com", i))
			}
			if v, h := d.depth(); v != "0" || h != "0" {
				t.Errorf("after the replay the queue holds %s visible and %s hidden messages; want none (each letter replayed deleted)", v, h)
			}
			if s := errb.String(); s != "" {
				t.Errorf("dlq replay wrote to stderr:\n%s", s)
			}
		})
	}
}

// TestDLQ_ReplayReceivingOutlastsHold: `dlq replay` whose receiving of the
// queue lasts longer than the hold (here 3 s, and a slow first batch)
// keeps the letters it received first hidden meanwhile: another reader
// gets none of them, and every letter is replayed and deleted. Before,
// the holds were renewed only once the whole queue was received: the
// first letters' holds ran out, the reader received them, and the replay
// left them alone (counted in neither Replayed nor StillFailing).
func TestDLQ_ReplayReceivingOutlastsHold(t *testing.T) {
	for _, queue := range []string{"built-in", "fauxqs"} {
		t.Run(queue, func(t *testing.T) {
			ctx := t.Context()
			d := newDLQEnv(t, queue, "slow", "slow-dlq")
			const n = 25 // three batches at least
			d.sendNumbered(n, "slow")

			// After the first batch, the other reader receives what it can
			// until it has a letter of that batch, or three holds have
			// passed; it makes what it received visible again at once, so
			// that the replay then receives the rest of the queue.
			const hold = 3 * time.Second // renewed every 1.5 s: room for a loaded machine
			var got atomic.Int64
			reader := func(first map[string]bool, stop <-chan struct{}) {
				for {
					out, err := d.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.url), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
					if err == nil && len(out.Messages) > 0 {
						var back []sqstypes.ChangeMessageVisibilityBatchRequestEntry
						for i, msg := range out.Messages {
							if first[aws.ToString(msg.MessageId)] {
								got.Add(1)
							}
							back = append(back, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
						}
						if _, err := d.q.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(d.url), Entries: back}); err != nil {
							t.Errorf("the other reader's ChangeMessageVisibilityBatch: %v", err)
						}
					}
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			batches := 0
			slowFirst := func(ids []string) {
				batches++
				if batches > 1 {
					return
				}
				first := map[string]bool{}
				for _, id := range ids {
					first[id] = true
				}
				stop, done := make(chan struct{}), make(chan struct{})
				go func() { defer close(done); reader(first, stop) }()
				for deadline := time.Now().Add(3 * hold); got.Load() == 0 && time.Now().Before(deadline); {
					select {
					case <-ctx.Done():
					case <-time.After(20 * time.Millisecond):
					}
				}
				close(stop)
				<-done
			}
			var out, errb bytes.Buffer
			err := main.RunDlqReceiving(ctx, d.dlqArgs("replay"), &out, &errb, hold, slowFirst)
			if err != nil || !strings.Contains(out.String(), fmt.Sprintf(`"Replayed": %d`, n)) {
				t.Errorf("dlq replay: %v\n%s%s", err, out.String(), errb.String())
			}
			if batches < 2 {
				t.Errorf("the replay received the queue in %d batch(es); want several", batches)
			}
			if g := got.Load(); g != 0 {
				t.Errorf("the other reader received %d letters of the first batch while the replay received the rest; want none", g)
			}
			for i := range n {
				d.mustOne("_email", fmt.Sprintf("slow%d@example.com", i))
			}
			if v, h := d.depth(); v != "0" || h != "0" {
				t.Errorf("after the replay the queue holds %s visible and %s hidden messages; want none", v, h)
			}
			if s := errb.String(); s != "" {
				t.Errorf("dlq replay wrote to stderr:\n%s", s)
			}
		})
	}
}

// TestDLQ_ReplayCancelledHandsBack: a replay stopped (Ctrl-C) while it
// ingests a letter hands that letter back with the rest, visible at once,
// as it was: not hidden for the rest of a long hold, not sent again with
// the cancellation as its error.
func TestDLQ_ReplayCancelledHandsBack(t *testing.T) {
	ctx := t.Context()
	d := newDLQEnv(t, "built-in", "stopped", "stopped-dlq")
	const n = 5
	d.sendNumbered(n, "stopped")

	// Stopped as it ingests the second letter: the first is replayed and
	// deleted, the four others must be visible again at once.
	replayCtx, stop := context.WithCancel(ctx)
	puts := 0
	var out, errb bytes.Buffer
	err := main.RunDlq(replayCtx, d.dlqArgs("replay"), &out, &errb, time.Hour, func() {
		if puts++; puts == 2 {
			stop()
		}
	})
	if err == nil {
		t.Fatalf("dlq replay stopped midway: no error\n%s%s", out.String(), errb.String())
	}
	seen := map[string]int{}
	for range 3 {
		got, err := d.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.url), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range got.Messages {
			var dl service.DeadLetter
			if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &dl); err != nil {
				t.Fatal(err)
			}
			if dl.Attempts != 1 || dl.ErrorCode != "INTERNAL" {
				t.Errorf("letter %s came back changed: attempts %d, %s %s", dl.Object, dl.Attempts, dl.ErrorCode, dl.ErrorMessage)
			}
			seen[dl.Object]++
		}
	}
	if len(seen) != n-1 {
		t.Errorf("visible after the stopped replay: %d letters %v; want the %d not replayed, once each", len(seen), seen, n-1)
	}
	for o, c := range seen {
		if c != 1 {
			t.Errorf("letter %s is in the queue %d times", o, c)
		}
	}
}
