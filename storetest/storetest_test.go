package storetest_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/storetest"
)

// TestRun runs the suite on memStore, a minimal store that keeps the
// contract, to check that the suite asks for nothing beyond it.
func TestRun(t *testing.T) {
	storetest.Run(t, func(testing.TB) profiles.Store { return &memStore{domains: map[string]*profiles.Domain{}} })
}

// memStore keeps domains in a map, under one lock, as deep copies.
type memStore struct {
	mu      sync.Mutex
	domains map[string]*profiles.Domain
}

func (s *memStore) Ping(ctx context.Context) error { return nil }
func (s *memStore) Close() error                   { return nil }

func (s *memStore) CreateDomain(ctx context.Context, d *profiles.Domain, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.domains[d.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	} else if limit > 0 && len(s.domains) >= limit {
		return profiles.Errorf(profiles.EQUOTA, "limit reached")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now()
	}
	if d.LastUpdatedAt.IsZero() {
		d.LastUpdatedAt = d.CreatedAt
	}
	d.CreatedAt = d.CreatedAt.Truncate(time.Millisecond).UTC()
	d.LastUpdatedAt = d.LastUpdatedAt.Truncate(time.Millisecond).UTC()
	s.domains[d.Name] = clone(d)
	return nil
}

func (s *memStore) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.domains[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	return clone(d), nil
}

func (s *memStore) UpdateDomain(ctx context.Context, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.domains[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	d := clone(old)
	if err := fn(d); err != nil {
		return nil, err
	} else if d.Name != name {
		return nil, profiles.Errorf(profiles.EINVALID, "rename")
	}
	d.CreatedAt = d.CreatedAt.Truncate(time.Millisecond).UTC()
	d.LastUpdatedAt = d.LastUpdatedAt.Truncate(time.Millisecond).UTC()
	s.domains[name] = clone(d)
	return d, nil
}

func (s *memStore) DeleteDomain(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.domains[name]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	delete(s.domains, name)
	return nil
}

func (s *memStore) ListDomains(ctx context.Context, after string, limit int) ([]*profiles.Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.domains {
		if name > after {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if limit > 0 && len(names) > limit {
		names = names[:limit]
	}
	var ds []*profiles.Domain
	for _, name := range names {
		ds = append(ds, clone(s.domains[name]))
	}
	return ds, nil
}

func (s *memStore) DomainStats(ctx context.Context, name string) (*profiles.DomainStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.domains[name]; !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	return &profiles.DomainStats{}, nil
}

// clone deep-copies d through JSON.
func clone(d *profiles.Domain) *profiles.Domain {
	buf, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	var out profiles.Domain
	if err := json.Unmarshal(buf, &out); err != nil {
		panic(err)
	}
	return &out
}
