package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/service"
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
	s := service.New(db, "us-east-1", "000000000000", []byte("secret"))
	s.SetIngestRate(0, 1)
	k := &localkms.KMS{Store: db, Region: "us-east-1", AccountID: "000000000000", RootKey: bytes.Repeat([]byte{7}, 32), Now: time.Now}
	key, err := k.EnsureDefaultKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Keys, s.DefaultKey = k, key
	dir := t.TempDir()
	s.SetSpool(filepath.Join(dir, "dlq-spool.jsonl"))
	var ahead atomic.Int64 // how far the queue's clock is put forward
	sqs := &localsqs.SQS{Store: db, Region: "us-east-1", AccountID: "000000000000", BaseURL: func() string { return "http://127.0.0.1" },
		Now: func() time.Time { return time.Now().UTC().Add(time.Duration(ahead.Load())) }}
	queue, err := sqs.CreateServiceQueue(ctx, "dlq")
	if err != nil {
		t.Fatal(err)
	}
	queues := &deleteFails{DeadLetters: sqs}
	s.Queues = queues
	if _, err := s.CreateDomain(ctx, &profiles.Domain{Name: "d", DefaultExpirationDays: 30, DeadLetterQueueURL: queue.URL}); err != nil {
		t.Fatal(err)
	}
	// Characters JSON escapes: the letter is cut; no type yet: it fails.
	obj, _ := json.Marshal(map[string]string{"id": "big-1", "email": "big@example.com", "note": strings.Repeat(`"`, 120000)})
	if _, err := s.IngestAsync(ctx, "d", "contact", string(obj), "import"); err == nil {
		t.Fatal("ingestion into a missing object type succeeded")
	}
	files, err := os.ReadDir(filepath.Join(dir, "dlq-objects", "d"))
	if err != nil || len(files) != 1 {
		t.Fatalf("kept copies: %v, %v; want one", files, err)
	}
	copyPath := filepath.Join(dir, "dlq-objects", "d", files[0].Name())
	if _, err := s.PutObjectType(ctx, contactType("d")); err != nil {
		t.Fatal(err)
	}

	queues.down.Store(true)
	if _, _, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil); err == nil {
		t.Fatal("a replay whose delete failed: nil error")
	}
	if _, err := os.Stat(copyPath); err != nil {
		t.Fatalf("the whole copy of a letter still in the queue: %v", err)
	}
	queues.down.Store(false)
	ahead.Store(int64(time.Hour)) // the message, hidden by the replay, is back
	replayed, failed, _, err := s.ReplayDeadLetters(ctx, "d", nil, nil)
	if err != nil || replayed != 1 || failed != 0 {
		t.Fatalf("the replay once the queue is back: %d replayed, %d failed, %v; want 1, 0", replayed, failed, err)
	}
	if _, err := os.Stat(copyPath); !os.IsNotExist(err) {
		t.Errorf("the whole copy of a replayed letter is still kept: %v", err)
	}
}
