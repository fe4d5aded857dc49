package service

import (
	"context"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// domainTTL bounds how long ingestion and the kms:Decrypt check of
// profile-data reads use a domain as read from the store: a change made
// through another node (a new DefaultExpirationDays, a new
// DefaultEncryptionKey) applies on this node at most this long after it.
// Changes made through this node apply at once (forget).
const domainTTL = time.Second

// domainCache keeps the domains read by ingestion and by the
// authorisation of profile-data reads (EncryptionKeyARN), for domainTTL:
// at thousands of requests a second, each would otherwise read its domain
// from the store first (a statement of its own; on PostgreSQL, a round
// trip; a fifth of SearchProfiles' throughput on SQLite, BENCHMARKS.md,
// eleventh pass). Ingestion uses only a domain's name and
// DefaultExpirationDays from it, and whether the domain still exists is
// checked again by the ingestion's transaction, so a domain deleted
// through another node fails its ingestions as ENOTFOUND all the same; a
// read authorised on a cached domain finds the domain gone in its own
// transaction likewise. Only domains found are kept.
type domainCache struct {
	mu sync.Mutex
	m  map[string]cachedDomain
}

type cachedDomain struct {
	d  *profiles.Domain // shared: read only
	at time.Time
}

// recentDomain returns the named domain as the store held it at most
// domainTTL ago. The domain is shared between callers: they must not
// modify it. Returns ENOTFOUND.
func (s *Service) recentDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	now := s.Now()
	c := &s.domains
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < domainTTL && now.Sub(e.at) >= 0 {
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
// node. A request that read the domain before the change may put it back;
// it is then used for at most domainTTL.
func (c *domainCache) forget(name string) {
	c.mu.Lock()
	delete(c.m, name)
	c.mu.Unlock()
}
