package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// DefaultActivationWait is how long a console activation waits for
// another one to finish (LockActivation).
const DefaultActivationWait = 30 * time.Second

// activationGate lets one console activation of a node run at a time; it
// waits as a context allows, unlike a sync.Mutex.
type activationGate struct {
	once sync.Once
	ch   chan struct{}
}

func (g *activationGate) enter(ctx context.Context) error {
	g.once.Do(func() { g.ch = make(chan struct{}, 1) })
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *activationGate) leave() { <-g.ch }

// LockActivation serializes the console's activations: one at a time on
// this node (an activation waiting for another node's does not hold a
// connection of each of its Submits), then one at a time on every node of
// the store through Activations (see profiles.DomainService).
func (s *Service) LockActivation(ctx context.Context) (func(), error) {
	wait := s.ActivationWait
	if wait <= 0 {
		wait = DefaultActivationWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	busy := func() error {
		return profiles.Errorf(profiles.ECONFLICT, "Another activation of Customer Profiles (from another tab, a repeated Submit or another user) "+
			"has been running for more than %s; this one waited for it, then gave up and created nothing. "+
			"Check the instance's page: if it shows no domain yet, submit again.", wait)
	}
	if err := s.activating.enter(wctx); err != nil {
		return nil, busy()
	}
	release := func() {}
	if s.Activations != nil {
		var err error
		if release, err = s.Activations.LockActivation(wctx); err != nil {
			s.activating.leave()
			if wctx.Err() != nil {
				return nil, busy()
			}
			return nil, fmt.Errorf("lock activations: %w", err)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			release()
			s.activating.leave()
		})
	}, nil
}
