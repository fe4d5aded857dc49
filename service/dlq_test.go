package service_test

import (
	"context"
	"fmt"
	"testing"

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
