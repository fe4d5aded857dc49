package service

import (
	"context"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// ingestDomainTTL bounds how long ingestion uses a domain as read from the
// store: a change made through another node (a new DefaultExpirationDays)
// applies to the objects this node ingests at most this long after it.
// Changes made through this node apply at once (forget).
const ingestDomainTTL = time.Second

// domainCache keeps the domains that ingestion read, for ingestDomainTTL:
// at thousands of objects a second, each would otherwise read its domain
// from the store first (a statement of its own; on PostgreSQL, a round
// trip). Ingestion uses only a domain's name and DefaultExpirationDays
// from it; whether the domain still exists is checked again by the
// ingestion's transaction, so a domain deleted through another node fails
// its ingestions as ENOTFOUND all the same. Only domains found are kept.
type domainCache struct {
	mu sync.Mutex
	m  map[string]cachedDomain
}

type cachedDomain struct {
	d  *profiles.Domain // shared: read only
	at time.Time
}

// ingestDomain returns the named domain as the store held it at most
// ingestDomainTTL ago. The domain is shared between callers: they must not
// modify it. Returns ENOTFOUND.
func (s *Service) ingestDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	now := s.Now()
	c := &s.domains
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < ingestDomainTTL && now.Sub(e.at) >= 0 {
		return e.d, nil
	}
	d, err := s.Store.FindDomain(ctx, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedDomain{}
	}
	c.m[name] = cachedDomain{d: d, at: now}
	c.mu.Unlock()
	return d, nil
}

// forget drops the cached domain: it was changed or deleted through this
// node. An ingestion that read the domain before the change may put it
// back; it is then used for at most ingestDomainTTL.
func (c *domainCache) forget(name string) {
	c.mu.Lock()
	delete(c.m, name)
	c.mu.Unlock()
}
