package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/service"
	"github.com/openprofiles/profiles/sqlite"
)

// unreadableDomains is a store whose FindDomain fails but for ENOTFOUND.
type unreadableDomains struct{ profiles.Store }

func (u unreadableDomains) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	if name == "gone" {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "no domain %s", name)
	}
	return nil, fmt.Errorf("the database is away")
}

// TestDeadLetter_DomainUnreadable: a dead letter whose domain cannot be
// read is an error, not "the domain has no queue" (a replay would then
// delete the message with nothing sent); a deleted domain keeps nothing.
func TestDeadLetter_DomainUnreadable(t *testing.T) {
	s := service.New(unreadableDomains{MustOpenSQLite(t)}, "us-east-1", "000000000000", []byte("secret"))
	ctx := t.Context()
	if err := s.DeadLetterObject(ctx, "d", "t", "{}", "import", fmt.Errorf("failed")); err == nil {
		t.Errorf("a dead letter of a domain that cannot be read: nil error, want the store's")
	}
	if err := s.DeadLetterObject(ctx, "gone", "t", "{}", "import", fmt.Errorf("failed")); err != nil {
		t.Errorf("a dead letter of a deleted domain: %v, want nil (nothing to keep it in)", err)
	}
}

// TestDeadLetter_HugeErrorMessage: a letter too large for a queue message
// even without its object (an error message quoting what failed) has its
// message cut too, rather than its object cut forever.
func TestDeadLetter_HugeErrorMessage(t *testing.T) {
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	s.SetSpool(filepath.Join(t.TempDir(), "dlq-spool.jsonl"))
	s.DeadLetterCopies = s.Store.(profiles.DeadLetterCopyStore)
	dl := &service.DeadLetter{Version: 1, DomainName: "enc", ObjectTypeName: "t", Source: "import",
		ErrorCode: "INVALID_OBJECT", ErrorMessage: strings.Repeat("e", 300_000), Object: strings.Repeat("o", 300_000)}
	done := make(chan struct{})
	var body []byte
	var err error
	go func() { body, err = s.Truncate(t.Context(), dl); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("truncate did not return")
	}
	if err != nil || len(body) > 256*1024 || len(dl.ErrorMessage) > 1000+len("…") || !dl.ObjectTruncated {
		t.Errorf("letter of %d bytes, %v, message of %d bytes; want it within a queue message", len(body), err, len(dl.ErrorMessage))
	}
}

// deleteFails is a dead-letter queue service whose Delete fails while
// down is set: a queue that cannot be reached at that moment.
type deleteFails struct {
	profiles.DeadLetters
	down atomic.Bool
}

func (d *deleteFails) Delete(ctx context.Context, url, receiptHandle string) error {
	if d.down.Load() {
		return profiles.Errorf(profiles.EINTERNAL, "queue unreachable")
	}
	return d.DeadLetters.Delete(ctx, url, receiptHandle)
}

// TestReplayDeadLetters_CopyOutlivesMessage: a dead letter cut to fit a
// queue message keeps its whole copy until its message is deleted: a
// replay whose delete fails (or a crash before it) leaves the message in
// the queue, and a later replay still finds the whole object. Before, the
// copy was removed first, and the message came back without it.
func TestReplayDeadLetters_CopyOutlivesMessage(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, _, queues, ahead := mustDeadLetterService(t, db, time.Now)
	// Characters JSON escapes: the letter is cut; no type yet: it fails.
	obj := bigObject()
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	name := mustCopyName(t, s, "d")
	mustCopy(t, db, "d", name)
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}

	queues.down.Store(true)
	if _, _, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err == nil {
		t.Fatal("a replay whose delete failed: nil error")
	}
	mustCopy(t, db, "d", name)
	queues.down.Store(false)
	ahead.Store(int64(time.Hour)) // the message, hidden by the replay, is back
	replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil)
	if err != nil || replayed != 1 || failed != 0 {
		t.Fatalf("the replay once the queue is back: %d replayed, %d failed, %v; want 1, 0", replayed, failed, err)
	}
	if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("the whole copy of a replayed letter: %v; want it removed (ENOTFOUND)", err)
	}
}

// TestSweepDeadLetterCopies_Age: the sweep removes the store's whole
// copies older than the longest retention of a queue message (14 days)
// and a day, which no letter names any more (a queue purged; its letters
// expired). A replay that fails sends its letter again, for a new
// retention, and renews its copy: the sweep keeps it for as long. A letter
// whose copy was swept fails to replay, saying so.
func TestSweepDeadLetterCopies_Age(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	clock, move := testClock()
	s, _, _, _ := mustDeadLetterService(t, db, clock)
	obj := bigObject()
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	name := mustCopyName(t, s, "d")
	sweep := func(want int) {
		t.Helper()
		if n, err := s.SweepDeadLetterCopies(ctx); err != nil || n != want {
			t.Fatalf("sweep at %s: %d removed, %v; want %d", clock().Format(time.DateOnly), n, err, want)
		}
	}

	move(10 * 24 * time.Hour)
	sweep(0)
	if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 0 || failed != 1 {
		t.Fatalf("replay with no object type: %d replayed, %d failed, %v; want it failed", replayed, failed, err)
	}
	if c := mustCopy(t, db, "d", name); !c.CreatedAt.Equal(clock().Truncate(time.Millisecond)) {
		t.Errorf("the copy of a letter sent again dates from %s, want the replay's time %s", c.CreatedAt, clock())
	}
	move(10 * 24 * time.Hour) // 20 days after the letter, 10 after the replay
	sweep(0)
	mustCopy(t, db, "d", name)
	move(5*24*time.Hour + time.Hour) // 15 days and an hour after the replay
	sweep(1)
	if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Fatalf("a copy older than the longest retention after the sweep: %v; want it removed", err)
	}

	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 0 || failed != 1 {
		t.Fatalf("replay of a letter whose copy was swept: %d replayed, %d failed, %v; want it failed", replayed, failed, err)
	}
	entries, err := s.ListDeadLetters(ctx, "d", 10)
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Letter.ErrorMessage, "not kept") {
		t.Fatalf("the letter whose copy was swept: %v; want it kept, saying its copy is not kept", err)
	}
}

// copiesAway is a store of dead-letter copies that cannot be written.
type copiesAway struct{ profiles.DeadLetterCopyStore }

func (copiesAway) PutDeadLetterCopy(ctx context.Context, c *profiles.DeadLetterCopy) error {
	return fmt.Errorf("the database is away")
}

// TestTruncate_CopyNotKept: a letter whose whole copy cannot be kept (the
// store away) is not cut and sent naming a copy that does not exist: the
// dead letter fails, and says why.
func TestTruncate_CopyNotKept(t *testing.T) {
	s, _ := MustOpenEncrypted(t, service.DefaultCryptConfig)
	s.DeadLetterCopies = copiesAway{s.Store.(profiles.DeadLetterCopyStore)}
	dl := &service.DeadLetter{Version: 1, DomainName: "enc", ObjectTypeName: "t", Source: "import", ErrorCode: "INVALID_OBJECT", Object: strings.Repeat("o", 300_000)}
	if _, err := s.Truncate(t.Context(), dl); err == nil || !strings.Contains(err.Error(), "cannot be kept") {
		t.Errorf("a dead letter cut with its copy not kept: %v; want an error saying so", err)
	}
	if dl.ObjectTruncated || dl.ObjectCopy != "" {
		t.Errorf("the letter is marked cut (%v) naming copy %q; want it as it was", dl.ObjectTruncated, dl.ObjectCopy)
	}
}

// sendFails is a dead-letter queue service whose Send fails with err
// while err is set.
type sendFails struct {
	profiles.DeadLetters
	mu  sync.Mutex
	err error
}

func (q *sendFails) fail(err error) { q.mu.Lock(); defer q.mu.Unlock(); q.err = err }

func (q *sendFails) Send(ctx context.Context, url, body, account, source string) error {
	q.mu.Lock()
	err := q.err
	q.mu.Unlock()
	if err != nil {
		return err
	}
	return q.DeadLetters.Send(ctx, url, body, account, source)
}

// countCopies returns how many whole copies of dead letters db keeps (and
// deletes them).
func countCopies(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	n, err := db.DeleteDeadLetterCopiesBefore(t.Context(), time.Now().Add(100*365*24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeadLetter_RefusedKeepsNoCopy: a cut letter that goes neither to the
// queue (which refuses it) nor to the spool leaves no whole copy behind:
// no message names it, and an object sent again (a workflow's step, a
// client's retry) would add one copy each time, to be kept 15 days. A
// letter spooled (the queue unreachable) keeps its copy.
func TestDeadLetter_RefusedKeepsNoCopy(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, _, queues, _ := mustDeadLetterService(t, db, time.Now)
	q := &sendFails{DeadLetters: queues}
	s.Queues = q
	obj := bigObject()

	q.fail(profiles.Errorf(profiles.EFORBIDDEN, "the queue's policy refuses the message"))
	for range 3 {
		if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil || !strings.Contains(err.Error(), "dead-letter queue") {
			t.Fatalf("a failed ingestion whose letter the queue refuses: %v; want an error naming the queue", err)
		}
	}
	if n := countCopies(t, db); n != 0 {
		t.Errorf("%d whole copies kept for letters the queue refused; want none", n)
	}

	q.fail(profiles.Errorf(profiles.EINTERNAL, "queue unreachable"))
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	if n := countCopies(t, db); n != 1 {
		t.Errorf("%d whole copies kept for a spooled letter; want 1", n)
	}
}

// TestDeliverSpooled_RenewsCopy: a cut letter delivered from the spool
// days after it was cut renews its whole copy, for the retention of the
// message sent only then: the sweep keeps it as long, and a replay ingests
// it whole. Before, the copy dated from the cut and was swept while the
// letter could still be in the queue.
func TestDeliverSpooled_RenewsCopy(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	clock, move := testClock()
	s, _, queues, _ := mustDeadLetterService(t, db, clock)
	q := &sendFails{DeadLetters: queues}
	s.Queues = q
	obj := bigObject()

	q.fail(profiles.Errorf(profiles.EINTERNAL, "queue unreachable"))
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	move(10 * 24 * time.Hour) // the queue is back 10 days later
	q.fail(nil)
	if n, err := s.DeliverSpooled(ctx); err != nil || n != 1 {
		t.Fatalf("DeliverSpooled: %d, %v; want 1 delivered", n, err)
	}
	name := mustCopyName(t, s, "d")
	if c := mustCopy(t, db, "d", name); !c.CreatedAt.Equal(clock().Truncate(time.Millisecond)) {
		t.Errorf("the copy of a letter delivered from the spool dates from %s, want the delivery's time %s", c.CreatedAt, clock())
	}
	move(10 * 24 * time.Hour) // 20 days after the cut, 10 after the delivery
	if n, err := s.SweepDeadLetterCopies(ctx); err != nil || n != 0 {
		t.Fatalf("sweep 10 days after the delivery: %d removed, %v; want none", n, err)
	}
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 1 || failed != 0 {
		t.Fatalf("replay of the delivered letter: %d replayed, %d failed, %v; want 1, 0", replayed, failed, err)
	}
}

// TestDeleteDeadLetters_CopyOfTwoMessages: a replay that fails sends its
// letter again; should the delete of the first message then fail, two
// messages name one whole copy. Deleting one of them keeps the copy, which
// the other needs: it replays whole, and then its copy goes. Before, the
// delete removed the copy, and the other letter could not be replayed.
func TestDeleteDeadLetters_CopyOfTwoMessages(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, _, queues, ahead := mustDeadLetterService(t, db, time.Now)
	obj := bigObject()
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	name := mustCopyName(t, s, "d")
	queues.down.Store(true)
	if _, _, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err == nil {
		t.Fatal("a replay whose delete failed: nil error")
	}
	queues.down.Store(false)
	ahead.Store(int64(time.Hour)) // the first message, hidden by the replay, is back
	entries, err := s.ListDeadLetters(ctx, "d", 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("the letters after a replay whose delete failed: %d, %v; want 2", len(entries), err)
	}
	var first string
	for _, e := range entries {
		if e.Letter == nil || e.Letter.ObjectCopy != name {
			t.Fatalf("a letter %+v; want both naming copy %s", e.Letter, name)
		}
		if e.Letter.Attempts == 1 {
			first = e.ID
		}
	}
	if n, err := s.DeleteDeadLetters(ctx, "d", []string{first}); err != nil || n != 1 {
		t.Fatalf("DeleteDeadLetters(the first): %d, %v; want 1", n, err)
	}
	mustCopy(t, db, "d", name)
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 1 || failed != 0 {
		t.Fatalf("replay of the letter left: %d replayed, %d failed, %v; want 1, 0", replayed, failed, err)
	}
	if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("the whole copy once its last letter is replayed: %v; want it removed (ENOTFOUND)", err)
	}
}

// TestReplayDeadLetters_CopyOfTwoMessages: two messages naming one whole
// copy (as above) replayed together both go in, neither failing for want
// of the copy the other's ingestion removed; then the copy goes.
func TestReplayDeadLetters_CopyOfTwoMessages(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, _, queues, ahead := mustDeadLetterService(t, db, time.Now)
	obj := bigObject()
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	name := mustCopyName(t, s, "d")
	queues.down.Store(true)
	if _, _, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err == nil {
		t.Fatal("a replay whose delete failed: nil error")
	}
	queues.down.Store(false)
	ahead.Store(int64(time.Hour))
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}
	if replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err != nil || replayed != 2 || failed != 0 {
		t.Fatalf("replay of two letters naming one copy: %d replayed, %d failed, %v; want 2, 0", replayed, failed, err)
	}
	if entries, err := s.ListDeadLetters(ctx, "d", 10); err != nil || len(entries) != 0 {
		t.Errorf("letters left after the replay: %d, %v; want none", len(entries), err)
	}
	if _, err := db.FindDeadLetterCopy(ctx, "d", name); profiles.ErrorCode(err) != profiles.ENOTFOUND {
		t.Errorf("the whole copy once both letters are replayed: %v; want it removed (ENOTFOUND)", err)
	}
}

// mustDeadLetterService returns a service on db whose clock is now, with
// the built-in KMS and queues (on real time, put forward by ahead) of db,
// copies of dead letters kept in db, and domain "d" whose dead-letter
// queue is queue; queues' Delete fails while down is set.
func mustDeadLetterService(t *testing.T, db *sqlite.DB, now func() time.Time) (s *service.Service, queue string, queues *deleteFails, ahead *atomic.Int64) {
	t.Helper()
	ctx := t.Context()
	s = service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(0, 1)
	s.Now = now
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}
	key, err := k.EnsureDefaultKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Keys, s.DefaultKey = k, key
	s.SetSpool(filepath.Join(t.TempDir(), "dlq-spool.jsonl"))
	s.DeadLetterCopies = db
	ahead = new(atomic.Int64)
	sqs := &localsqs.SQS{Store: db, Region: "us-east-1", AccountID: "000000000000", BaseURL: func() string { return "http://127.0.0.1" },
		Now: func() time.Time { return time.Now().UTC().Add(time.Duration(ahead.Load())) }}
	q, err := sqs.CreateServiceQueue(ctx, "dlq")
	if err != nil {
		t.Fatal(err)
	}
	queues = &deleteFails{DeadLetters: sqs}
	s.Queues = queues
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DeadLetterQueueURL: q.URL}); err != nil {
		t.Fatal(err)
	}
	return s, q.URL, queues, ahead
}

// bigObject is an object too large for a queue message (its JSON escapes
// every '"'), so its dead letter is cut and keeps a whole copy.
func bigObject() []byte {
	obj, _ := json.Marshal(map[string]string{"id": "big-1", "email": "big@example.com", "note": strings.Repeat(`"`, 120000)})
	return obj
}

// testClock returns a clock starting now and a function that puts it
// forward.
func testClock() (clock func() time.Time, move func(time.Duration)) {
	var mu sync.Mutex
	now := time.Now().UTC()
	clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	move = func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	return clock, move
}

// mustCopyName returns the name of the whole copy the one dead letter of
// domain's queue names.
func mustCopyName(t *testing.T, s *service.Service, domain string) string {
	t.Helper()
	entries, err := s.ListDeadLetters(t.Context(), domain, 10)
	if err != nil || len(entries) != 1 || entries[0].Letter == nil || entries[0].Letter.ObjectCopy == "" {
		t.Fatalf("the dead letters of %s: %d, %v; want one, cut, naming its whole copy", domain, len(entries), err)
	}
	return entries[0].Letter.ObjectCopy
}

// mustCopy returns the store's whole copy of a dead letter.
func mustCopy(t *testing.T, db *sqlite.DB, domain, name string) *profiles.DeadLetterCopy {
	t.Helper()
	c, err := db.FindDeadLetterCopy(t.Context(), domain, name)
	if err != nil {
		t.Fatalf("the whole copy %s of a letter of %s: %v", name, domain, err)
	}
	return c
}

// domainsAway is a store whose FindDomain fails, as in a database outage,
// while down is set.
type domainsAway struct {
	profiles.Store
	down *atomic.Bool
}

func (d domainsAway) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	if d.down.Load() {
		return nil, fmt.Errorf("the database is away")
	}
	return d.Store.FindDomain(ctx, name)
}

// TestDeadLetter_DomainUnreadableSpools: a dead letter whose domain cannot
// be read (the database away: the domain names the queue) waits in the
// spool, and goes, once the domain can be read again, to the queue the
// domain names then; one whose domain was deleted meanwhile is dropped.
// Before, such a letter was neither queued nor spooled: an import told of
// its failure found nothing in the dead-letter queue.
func TestDeadLetter_DomainUnreadableSpools(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	s, queue, _, _ := mustDeadLetterService(t, db, time.Now)
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d2", DefaultExpirationDays: 30, DeadLetterQueueURL: queue}); err != nil {
		t.Fatal(err)
	}
	down := new(atomic.Bool)
	s.Store = domainsAway{Store: db, down: down}

	down.Store(true)
	for _, domain := range []string{"d", "d2"} {
		if err := s.DeadLetterObject(ctx, domain, "contact", `{"id":"`+domain+`"}`, "import", profiles.Errorf(profiles.EINTERNAL, "the store failed")); err != nil {
			t.Fatalf("a dead letter of domain %s, unreadable: %v, want it spooled", domain, err)
		}
	}
	if n, err := s.DeliverSpooled(ctx); n != 0 || err != nil {
		t.Fatalf("DeliverSpooled with the domains unreadable: %d, %v; want 0 delivered", n, err)
	}
	down.Store(false)
	if err := s.DeleteDomain(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeliverSpooled(ctx); n != 1 || err != nil {
		t.Fatalf("DeliverSpooled: %d, %v; want 1 delivered (d's), d2's dropped", n, err)
	}
	entries, err := s.ListDeadLetters(ctx, "d", 10)
	if err != nil || len(entries) != 1 || entries[0].Letter == nil || entries[0].Letter.Object != `{"id":"d"}` {
		t.Fatalf("the letters of d: %+v, %v; want the one spooled", entries, err)
	}
	if n, err := s.DeliverSpooled(ctx); n != 0 || err != nil {
		t.Fatalf("DeliverSpooled again: %d, %v; want 0 (the spool is empty)", n, err)
	}
}

// TestDeadLetter_DomainUnreadableRecreated: a letter spooled while its
// domain could not be read, whose domain was then deleted and created
// again (a new domain of the same name, with a queue), is dropped at the
// delivery: the letters of a deleted domain are not the new one's (as for
// the whole copies of earlier versions). Before, it went to the new
// domain's queue.
func TestDeadLetter_DomainUnreadableRecreated(t *testing.T) {
	ctx := t.Context()
	db := MustOpenSQLite(t)
	var offset atomic.Int64
	s, queue, _, _ := mustDeadLetterService(t, db, func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	down := new(atomic.Bool)
	s.Store = domainsAway{Store: db, down: down}

	down.Store(true)
	if err := s.DeadLetterObject(ctx, "d", "contact", `{"id":"old"}`, "import", profiles.Errorf(profiles.EINTERNAL, "the store failed")); err != nil {
		t.Fatalf("a dead letter of domain d, unreadable: %v, want it spooled", err)
	}
	down.Store(false)
	if err := s.DeleteDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Minute))
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DeadLetterQueueURL: queue}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeliverSpooled(ctx); n != 0 || err != nil {
		t.Fatalf("DeliverSpooled: %d, %v; want 0 delivered (the letter of the deleted d dropped)", n, err)
	}
	if entries, err := s.ListDeadLetters(ctx, "d", 10); err != nil || len(entries) != 0 {
		t.Fatalf("the letters of the new d: %+v, %v; want none", entries, err)
	}
	if err := s.DeadLetterObject(ctx, "d", "contact", `{"id":"new"}`, "import", profiles.Errorf(profiles.EINTERNAL, "the store failed")); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	if err := s.DeadLetterObject(ctx, "d", "contact", `{"id":"new2"}`, "import", profiles.Errorf(profiles.EINTERNAL, "the store failed")); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	if n, err := s.DeliverSpooled(ctx); n != 1 || err != nil {
		t.Fatalf("DeliverSpooled: %d, %v; want the new d's letter delivered", n, err)
	}
	if entries, err := s.ListDeadLetters(ctx, "d", 10); err != nil || len(entries) != 2 {
		t.Fatalf("the letters of the new d: %+v, %v; want its two", entries, err)
	}
}
