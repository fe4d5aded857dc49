package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/service"
)

// runDlqHeld runs `openprofiles dlq` with args, holding at most maxHeld
// messages (0: the default bound), and calls afterReceive (if set) with
// each batch it receives; it fails t on an error and returns the output.
func runDlqHeld(t *testing.T, args []string, maxHeld int, afterReceive func(ids []string)) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	if err := main.RunDlqHeld(t.Context(), args, &out, &errb, maxHeld, afterReceive); err != nil {
		t.Fatalf("dlq %s: %v\n%s%s", args[0], err, out.String(), errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("dlq %s printed %q: %v", args[0], out.String(), err)
	}
	return got
}

// TestDLQ_SampledShortPolls: `openprofiles dlq` on an external queue
// service that answers a short poll with no message while the queue holds
// some (Amazon SQS answers it from a sample of its servers; here fauxqs
// behind a proxy that empties every other short poll) lists, replays and
// purges every letter: an empty short poll is followed by a receive that
// waits (a long poll), and only an empty answer of that ends the run.
// Before, the first empty answer ended it: list showed no letter, replay
// and purge did nothing.
func TestDLQ_SampledShortPolls(t *testing.T) {
	d := newDLQEnv(t, "fauxqs-sampled", "sampled", "sampled-dlq")
	const n = 25 // three batches
	d.sendNumbered(n, "sampled")

	got := runDlqHeld(t, d.dlqArgs("list"), 0, nil)
	if letters, _ := got["DeadLetters"].([]any); len(letters) != n {
		t.Fatalf("dlq list listed %d letters, want %d: %v", len(letters), n, got)
	}
	got = runDlqHeld(t, d.dlqArgs("replay"), 0, nil)
	if got["Replayed"] != float64(n) || got["StillFailing"] != float64(0) {
		t.Fatalf("dlq replay: %v; want Replayed %d", got, n)
	}
	for i := range n {
		d.mustOne("_email", fmt.Sprintf("sampled%d@example.com", i))
	}
	d.sendNumbered(n, "again")
	got = runDlqHeld(t, d.dlqArgs("purge"), 0, nil)
	if got["Deleted"] != float64(n) {
		t.Fatalf("dlq purge: %v; want Deleted %d", got, n)
	}
	if v, h := d.depth(); v != "0" || h != "0" {
		t.Errorf("after the purge the queue holds %s visible and %s hidden messages; want none", v, h)
	}
	if short, emptied, long := d.sampling.Counts(); emptied == 0 || long == 0 {
		t.Errorf("the proxy saw %d short polls (%d emptied) and %d long polls: the runs met no empty short poll", short, emptied, long)
	}
}

// TestDLQ_InChunks: replay and purge of a queue longer than the messages
// a run may hold at once (Amazon SQS refuses to receive past 120,000 in
// flight; here a bound of 10) take it a chunk at a time, deleting the
// domain's letters of each chunk before receiving more: the queue never
// has more hidden than the bound and a batch, and every letter is done.
// Before, a run received the whole queue before it deleted any. Letters
// replay sends back (failed again) are not tried twice. A run whose
// messages left in the queue reach the bound stops and says so (More).
func TestDLQ_InChunks(t *testing.T) {
	for _, queue := range []string{"built-in", "fauxqs"} {
		t.Run(queue, func(t *testing.T) {
			const maxHeld, n = 10, 25
			d := newDLQEnv(t, queue, "chunks", "chunks-dlq")
			maxHidden := 0
			watch := func([]string) {
				_, h := d.depth()
				hidden, err := strconv.Atoi(h)
				if err != nil {
					t.Errorf("hidden messages %q: %v", h, err)
				}
				maxHidden = max(maxHidden, hidden)
			}

			t.Run("Purge", func(t *testing.T) {
				maxHidden = 0
				d.sendNumbered(n, "purged")
				got := runDlqHeld(t, d.dlqArgs("purge"), maxHeld, watch)
				if got["Deleted"] != float64(n) || got["More"] != nil {
					t.Fatalf("dlq purge: %v; want Deleted %d", got, n)
				}
				if maxHidden > maxHeld+9 {
					t.Errorf("the queue had %d messages hidden at once during the purge; want at most %d (the bound and a batch)", maxHidden, maxHeld+9)
				}
				if v, h := d.depth(); v != "0" || h != "0" {
					t.Errorf("after the purge the queue holds %s visible and %s hidden messages; want none", v, h)
				}
			})

			t.Run("Replay", func(t *testing.T) {
				maxHidden = 0
				// First in the queue, of a type the domain lacks: they
				// fail again, and are sent back in the first chunk, to be
				// received again in a later one.
				for i := range 5 {
					d.send(service.DeadLetter{Version: 1, DomainName: d.domain, ObjectTypeName: "missing", ErrorCode: "NOT_FOUND",
						Object: fmt.Sprintf(`{"id":"f%d"}`, i), Attempts: 1})
				}
				d.sendNumbered(n-5, "replayed")
				got := runDlqHeld(t, d.dlqArgs("replay"), maxHeld, watch)
				if got["Replayed"] != float64(n-5) || got["StillFailing"] != float64(5) || got["More"] != nil {
					t.Fatalf("dlq replay: %v; want Replayed %d, StillFailing 5", got, n-5)
				}
				if maxHidden > maxHeld+9 {
					t.Errorf("the queue had %d messages hidden at once during the replay; want at most %d", maxHidden, maxHeld+9)
				}
				for i := range n - 5 {
					d.mustOne("_email", fmt.Sprintf("replayed%d@example.com", i))
				}
				left := d.letters()
				if len(left) != 5 {
					t.Fatalf("%d letters left, want the 5 that failed again", len(left))
				}
				for _, l := range left {
					if l.Attempts != 2 {
						t.Errorf("letter %s left with %d attempts, want 2 (tried once by the replay)", l.Object, l.Attempts)
					}
				}
			})

			t.Run("More", func(t *testing.T) {
				other := d.addDomain("other", "chunks-dlq")
				other.sendNumbered(12, "other")
				got := runDlqHeld(t, d.dlqArgs("purge"), maxHeld, nil)
				if more, _ := got["More"].(string); !strings.Contains(more, "stopped receiving") || got["Deleted"] != float64(0) {
					t.Fatalf("dlq purge with 12 letters of another domain and a bound of %d: %v; want Deleted 0 and More", maxHeld, got)
				}
				if left := d.bodies(); len(left) != 12 {
					t.Errorf("%d messages visible after the purge, want the 12 of the other domain", len(left))
				}
			})
		})
	}
}
