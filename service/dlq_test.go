package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
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
	s := service.New(MustOpenSQLite(t), "us-east-1", "000000000000", []byte("secret"))
	s.SetSpool(filepath.Join(t.TempDir(), "dlq-spool.jsonl"))
	dl := &service.DeadLetter{Version: 1, DomainName: "d", ObjectTypeName: "t", Source: "import",
		ErrorCode: "INVALID_OBJECT", ErrorMessage: strings.Repeat("e", 300_000), Object: strings.Repeat("o", 300_000)}
	done := make(chan struct{})
	var body []byte
	var err error
	go func() { body, err = s.Truncate(dl); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("truncate did not return")
	}
	if err != nil || len(body) > 256*1024 || len(dl.ErrorMessage) > 1000+len("…") || !dl.ObjectTruncated {
		t.Errorf("letter of %d bytes, %v, message of %d bytes; want it within a queue message", len(body), err, len(dl.ErrorMessage))
	}
}
