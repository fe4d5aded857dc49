package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

// TestLockActivation: one console activation at a time; one that waits
// longer than ActivationWait gets ECONFLICT saying why, and the next one
// after the release takes its turn.
func TestLockActivation(t *testing.T) {
	s := MustOpenService(t)
	s.ActivationWait = 200 * time.Millisecond
	ctx := t.Context()
	release, err := s.LockActivation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.LockActivation(ctx)
	if profiles.ErrorCode(err) != profiles.ECONFLICT || !strings.Contains(profiles.ErrorMessage(err), "Another activation of Customer Profiles") {
		t.Fatalf("LockActivation while another runs: %v, want ECONFLICT naming the other activation", err)
	}
	// A caller that goes away stops waiting too.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LockActivation(gone); profiles.ErrorCode(err) != profiles.ECONFLICT {
		t.Fatalf("LockActivation with a canceled context: %v, want ECONFLICT", err)
	}
	s.ActivationWait = time.Minute
	got := make(chan error, 1)
	go func() { // another Submit on this node
		release, err := s.LockActivation(ctx)
		if err == nil {
			release()
		}
		got <- err
	}()
	release()
	release() // a second call does nothing (it would free the other's turn)
	if err := <-got; err != nil {
		t.Fatalf("LockActivation after the release: %v", err)
	}
}
