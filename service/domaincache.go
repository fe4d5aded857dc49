package service

import (
	"context"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// domainTTL bounds how long ingestion and the kms:Decrypt check of
// profile-data reads use a domain, and search a domain's object types, as
// read from the store: a change made through another node (a new
// DefaultExpirationDays, DefaultEncryptionKey or object type) applies on
// this node at most this long after it. Changes made through this node
// apply at once (forget).
const domainTTL = time.Second

// domainCache keeps the domains read by ingestion and by the
// authorisation of profile-data reads (EncryptionKeyARN), and the object
// types search reads (the valid key names, how each normalises its
// values), for domainTTL: at thousands of requests a second, each would
// otherwise read its domain from the store first (a statement of its own; on PostgreSQL, a round
// trip; a fifth of SearchProfiles' throughput on SQLite, BENCHMARKS.md,
// eleventh pass). Ingestion uses only a domain's name and
// DefaultExpirationDays from it, and whether the domain still exists is
// checked again by the ingestion's transaction, so a domain deleted
// through another node fails its ingestions as ENOTFOUND all the same; a
// read authorised on a cached domain finds the domain gone in its own
// transaction likewise, and a search's keys find nothing and say so
// (recentTypes). Only what was found is kept.
type domainCache struct {
	mu      sync.Mutex
	domains map[string]kept[*profiles.Domain]
	types   map[string]kept[[]*profiles.ObjectType] // as search reads them
	streams map[string]kept[[]streamRef]            // event streams (recentStreams)
	// gen counts the forgets of each domain name: what a request read
	// before a forget (in a snapshot that may predate the change) is not
	// kept after it.
	gen map[string]uint64
}

// kept is what was read of a domain, and when. v is shared between
// callers: read only.
type kept[T any] struct {
	v  T
	at time.Time
}

// recent returns what m keeps for name if it was read less than domainTTL
// before now, else what read returns, which m then keeps unless name was
// forgotten meanwhile.
func recent[T any](c *domainCache, m *map[string]kept[T], name string, now time.Time, read func() (T, error)) (T, error) {
	c.mu.Lock()
	e, ok := (*m)[name]
	gen := c.gen[name]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < domainTTL && now.Sub(e.at) >= 0 {
		return e.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen[name] == gen {
		if *m == nil {
			*m = map[string]kept[T]{}
		}
		(*m)[name] = kept[T]{v: v, at: now}
	}
	c.mu.Unlock()
	return v, nil
}

// recentDomain returns the named domain as the store held it at most
// domainTTL ago. The domain is shared between callers: they must not
// modify it. Returns ENOTFOUND.
func (s *Service) recentDomain(ctx context.Context, name string) (*profiles.Domain, error) {
	c := &s.domains
	return recent(c, &c.domains, name, s.Now(), func() (*profiles.Domain, error) {
		return s.Store.FindDomain(ctx, name)
	})
}

// recentTypes returns the object types of a domain as read at most
// domainTTL ago, or reads them with tx. Call it before any other read of
// tx, so that tx's snapshot does not predate the forgets it checks for.
// The types are shared between callers: they must not modify them. A
// missing domain is ENOTFOUND when the types are read; a cached domain's
// deletion through another node is told by the reads that follow (keys
// find nothing and say why). Object types changed through another node
// apply to searches at most domainTTL later (README).
func (s *Service) recentTypes(ctx context.Context, tx profiles.Tx, domain string) ([]*profiles.ObjectType, error) {
	c := &s.domains
	return recent(c, &c.types, domain, s.Now(), func() ([]*profiles.ObjectType, error) {
		return tx.ListObjectTypes(ctx, domain, "", 0)
	})
}

// forget drops what is kept of a domain (itself, its object types): it
// was changed or deleted through this node. Call it once the change is
// committed; what requests read before it is not kept.
func (c *domainCache) forget(name string) {
	c.mu.Lock()
	delete(c.domains, name)
	delete(c.types, name)
	delete(c.streams, name)
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[name]++
	c.mu.Unlock()
}

// generation counts the forgets of the named domain through this node: a
// change to it (or its deletion, or its creation) committed since an
// earlier count is a larger count.
func (c *domainCache) generation(name string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[name]
}

// forgetStreams drops the event streams kept of a domain: one was created
// or deleted through this node.
func (c *domainCache) forgetStreams(name string) {
	c.mu.Lock()
	delete(c.streams, name)
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[name]++
	c.mu.Unlock()
}
