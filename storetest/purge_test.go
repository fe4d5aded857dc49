package storetest_test

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// memDeleting is a domain of memStore being deleted: out of its state, so
// that nothing finds it, with what it holds.
type memDeleting struct {
	at, lease time.Time
	data      *memData
}

func (s *memStore) MarkDomainDeleting(ctx context.Context, name string, leaseUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.domains[name]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "domain %q not found", name)
	}
	if s.deleting == nil {
		s.deleting = map[string]*memDeleting{}
	}
	s.deleting[name] = &memDeleting{at: s.now().Truncate(time.Millisecond).UTC(), lease: leaseUntil, data: s.st.data[name]}
	delete(s.st.domains, name)
	delete(s.st.data, name)
	return nil
}

func (s *memStore) LeaseDomainPurge(ctx context.Context, name string, held, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deleting[name]
	if !ok {
		return false, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
	}
	if !d.lease.Equal(held) && d.lease.After(s.now()) {
		return false, nil
	}
	d.lease = until
	return true, nil
}

func (s *memStore) DeletingDomains(ctx context.Context) ([]profiles.DeletingDomain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ds []profiles.DeletingDomain
	for name, d := range s.deleting {
		ds = append(ds, profiles.DeletingDomain{Name: name, DeletingAt: d.at, PurgeUntil: d.lease})
	}
	slices.SortFunc(ds, func(a, b profiles.DeletingDomain) int { return strings.Compare(a.Name, b.Name) })
	return ds, nil
}

// PurgeDomain deletes limit profiles a page, with their rows, then the
// rest at once.
func (s *memStore) PurgeDomain(ctx context.Context, name, after string, limit int) (profiles.DomainPurge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deleting[name]
	if !ok {
		return profiles.DomainPurge{}, profiles.Errorf(profiles.ENOTFOUND, "no domain %q is being deleted", name)
	}
	var ids []string
	for id := range d.data.profiles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		delete(s.deleting, name)
		return profiles.DomainPurge{Rows: 1, Done: true}, nil
	}
	ids = ids[:min(limit, len(ids))]
	var p profiles.DomainPurge
	for _, id := range ids {
		delete(d.data.profiles, id)
		delete(d.data.buckets, id)
		p.Rows++
	}
	for k, o := range d.data.objects {
		if slices.Contains(ids, o.ProfileID) {
			delete(d.data.objects, k)
			p.Rows++
		}
	}
	for k := range d.data.keys {
		if slices.Contains(ids, k.ProfileID) {
			delete(d.data.keys, k)
			p.Rows++
		}
	}
	p.After = ids[len(ids)-1]
	return p, nil
}
