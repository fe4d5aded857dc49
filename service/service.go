// Package service holds the rules of OpenProfiles: validation beyond the
// shape of a request, quotas, paging, and (in later layers) ingestion and
// profile resolution. It is called by the transports through the root
// package's interfaces and calls the Store.
package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
)

// DefaultMaxDomains is the default quota of domains per account.
const DefaultMaxDomains = 100

// Service implements the root package's service interfaces.
type Service struct {
	Store     profiles.Store
	Region    string
	AccountID string
	Logger    *slog.Logger
	Now       func() time.Time

	// MaxDomains is the quota of domains; 0 means DefaultMaxDomains.
	MaxDomains int

	tokens  tokens
	limiter *limiter
	seq     atomic.Uint64 // orders the history records of one process
}

var (
	_ profiles.DomainService = (*Service)(nil)
	_ profiles.TagService    = (*Service)(nil)
)

// New returns a Service on store. tokenSecret keys the paging tokens: nodes
// that serve the same store must share it.
func New(store profiles.Store, region, accountID string, tokenSecret []byte) *Service {
	h := hmac.New(sha256.New, tokenSecret)
	h.Write([]byte("openprofiles paging tokens"))
	return &Service{
		Store:     store,
		Region:    region,
		AccountID: accountID,
		Logger:    slog.New(slog.DiscardHandler),
		Now:       time.Now,
		tokens:    tokens{key: h.Sum(nil)},
		limiter:   newLimiter(DefaultIngestRate, DefaultIngestBurst),
	}
}

// now returns the current time in UTC at the millisecond precision the
// stores keep.
func (s *Service) now() time.Time {
	return s.Now().UTC().Truncate(time.Millisecond)
}

// SetIngestRate sets the per-profile ingestion rate (objects per second,
// 0 for no limit) and burst.
func (s *Service) SetIngestRate(rate float64, burst int) {
	s.limiter = newLimiter(rate, burst)
}

func (s *Service) maxDomains() int {
	if s.MaxDomains <= 0 {
		return DefaultMaxDomains
	}
	return s.MaxDomains
}
