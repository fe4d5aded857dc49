package storetest_test

import (
	"bytes"
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
	storetest.Run(t, func(_ testing.TB, now func() time.Time) profiles.Store {
		return &memStore{now: now, st: memState{domains: map[string]*profiles.Domain{}, data: map[string]*memData{}}}
	})
}

// memStore keeps everything in maps, under one lock, as deep copies. Update
// works on a copy of the maps (stored values are never changed in place,
// only replaced) and keeps it if fn succeeds.
type memStore struct {
	now func() time.Time
	mu  sync.RWMutex
	st  memState

	deleting map[string]*memDeleting // domains being deleted, out of st (purge_test.go)
	settings map[string][]byte       // server settings (InitServerSetting)
}

// InitServerSetting stores value under name unless a value is there, and
// returns the value held (profiles.ServerSettingStore).
func (s *memStore) InitServerSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.settings[name]; ok {
		return bytes.Clone(v), nil
	}
	if s.settings == nil {
		s.settings = map[string][]byte{}
	}
	s.settings[name] = bytes.Clone(value)
	return bytes.Clone(value), nil
}

func (s *memStore) Ping(ctx context.Context) error { return nil }
func (s *memStore) Close() error                   { return nil }

func (s *memStore) CreateDomain(ctx context.Context, d *profiles.Domain, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.domains[d.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "domain %q already exists", d.Name)
	} else if _, ok := s.deleting[d.Name]; ok {
		return profiles.Errorf(profiles.ECONFLICT, "domain %q is being deleted", d.Name)
	} else if limit > 0 && len(s.st.domains) >= limit {
		return profiles.Errorf(profiles.EQUOTA, "limit reached")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	if d.LastUpdatedAt.IsZero() {
		d.LastUpdatedAt = d.CreatedAt
	}
	d.CreatedAt = d.CreatedAt.Truncate(time.Millisecond).UTC()
	d.LastUpdatedAt = d.LastUpdatedAt.Truncate(time.Millisecond).UTC()
	s.st.domains[d.Name] = clone(d)
	s.st.data[d.Name] = newMemData()
	return nil
}

func (s *memStore) FindDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.st.domains[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	return clone(d), nil
}

func (s *memStore) UpdateDomain(ctx context.Context, name string, fn func(*profiles.Domain) error) (*profiles.Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.st.domains[name]
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
	s.st.domains[name] = clone(d)
	return d, nil
}

func (s *memStore) DeleteDomain(ctx context.Context, name string) error {
	if err := s.MarkDomainDeleting(ctx, name, time.Time{}); err != nil {
		return err
	}
	for after := ""; ; {
		p, err := s.PurgeDomain(ctx, name, after, 100)
		if err != nil || p.Done {
			return err
		}
		after = p.After
	}
}

func (s *memStore) ListDomains(ctx context.Context, after string, limit int) ([]*profiles.Domain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.st.domains {
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
		ds = append(ds, clone(s.st.domains[name]))
	}
	return ds, nil
}

func (s *memStore) DomainStats(ctx context.Context, name string) (*profiles.DomainStats, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.st.data[name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	now := s.now()
	var st profiles.DomainStats
	objects := map[string]int64{}
	for _, o := range d.objects {
		if live(o, now) {
			st.ObjectCount++
			st.TotalSize += int64(len(o.Data))
			objects[o.ProfileID]++
		}
	}
	for id, p := range d.profiles {
		st.ProfileCount++
		st.MeteringProfileCount += 1 + max(0, objects[id]-1)/100
		for k, v := range p.Fields {
			st.TotalSize += int64(len(k) + len(v))
		}
	}
	return &st, nil
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
