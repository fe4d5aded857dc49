// Package service holds the rules of OpenProfiles: validation beyond the
// shape of a request, quotas, paging, and (in later layers) ingestion and
// profile resolution. It is called by the transports through the root
// package's interfaces and calls the Store.
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/looplog"
	"github.com/openprofiles/profiles/recommend"
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

	// Keys is the key manager of the domains' KMS keys; DefaultKey the key
	// of domains that name none (a service-owned key).
	Keys       profiles.KeyManager
	DefaultKey string

	// IAM persists principals, access keys and policies; Audit, when set,
	// receives one record per authorisation decision.
	IAM   profiles.IAMStore
	Audit *slog.Logger

	// Queues sends dead letters (nil: failures are only reported).
	Queues profiles.DeadLetters
	// DeadLetterCopies keeps the whole objects of dead letters cut to fit
	// a queue message, for every node to replay (nil: none is kept, and
	// such a letter says so).
	DeadLetterCopies profiles.DeadLetterCopyStore
	// DeadLetterHold is how long ListDeadLetters, DeleteDeadLetters and
	// ReplayDeadLetters hide the messages they take from other receivers
	// at a time; the latter two renew it while they work (0:
	// DefaultDeadLetterHold; at least 2 s, as queues count whole seconds).
	DeadLetterHold time.Duration

	// Integrations persists integrations and contact-center instances.
	Integrations profiles.IntegrationStore

	// Configs persists domain configs such as layouts.
	Configs profiles.ConfigStore

	// Activations serializes the console's activations across the nodes
	// of the store (nil: a store only this node serves; its activations
	// are serialized in the process). ActivationWait bounds how long an
	// activation waits for another (0: DefaultActivationWait).
	Activations    profiles.ActivationLocker
	ActivationWait time.Duration

	// Outbox keeps the events of event streams until they are delivered
	// to Streams, the Kinesis data streams (nil: no event streams; see
	// StartEventDelivery).
	Outbox  profiles.EventOutbox
	Streams profiles.StreamDestinations
	// Objects writes segment snapshots and identity resolution exports
	// (ExportingConfig) to S3 buckets (nil: none).
	Objects profiles.ObjectDestinations
	// Sources reads the S3 buckets of integration workflows (nil: no
	// workflows).
	Sources profiles.ObjectSources

	// EventRetryInterval is how long an event not delivered waits before it
	// is sent again (0: DefaultEventRetryInterval).
	EventRetryInterval time.Duration

	// DomainPurgeWait is how long DeleteDomain waits for the removal of
	// the domain's data, and CreateDomain for that of a domain of the same
	// name, before the removal goes on in the background (0:
	// DefaultDomainPurgeWait; negative: no wait). DomainPurgePage is how
	// many profiles one page of it removes (0: DefaultDomainPurgePage).
	DomainPurgeWait time.Duration
	DomainPurgePage int

	// Metrics, when set, counts ingestion outcomes, dead letters and
	// data-key cache hits.
	Metrics *Metrics

	// SortedProfileIDs gives new profiles ids that sort by creation time
	// (newID) instead of random ones. Which is better depends on the store:
	// SQLite's one writer then writes new profiles side by side, at the end
	// of its indexes (import of 200,000 objects +58 %, BENCHMARKS.md);
	// PostgreSQL's concurrent SERIALIZABLE transactions would all insert
	// into the same index page and fail each other (ingestion −29 to −34 %).
	SortedProfileIDs bool

	tokens      tokens
	indexSecret []byte
	indexKeys   sync.Map // domain -> *sync.Pool of HMACs under its blind-index key (indexHasher)
	keyUses     sync.Map // access key id -> time.Time its use was last recorded (NoteKeyUse)
	crypt       *crypt
	limiter     *limiter
	seq         atomic.Uint64 // orders the history records of one process

	ingestStats ingestStats
	mappers     mappers                    // compiled object types of ingestion (mappers.go)
	domains     domainCache                // the domains ingestion reads (domaincache.go)
	matches     matchCache                 // the domains' last match groups (matching.go)
	matchDocs   docCache[*matchesDoc]      // identity resolution jobs' groups (identity.go)
	models      docCache[*recommend.Model] // recommenders' trained versions (recommender.go)
	bg          background                 // work beyond requests: upload jobs (upload.go), event delivery
	delivery    delivery                   // the event streams' delivery loop (eventdelivery.go)

	ruleRefusals ruleRefusals // the groups the last rule-based merge passes left (rulemerge.go)
	// exportsNowhere holds the domains this node has logged that their
	// rule-based export has no S3 service to go to (rulemerge.go).
	exportsNowhere sync.Map

	purges     purges         // the domain purges this node runs (domainpurge.go)
	activating activationGate // one console activation at a time on this node (activation.go)

	mu       sync.Mutex // guards policies
	policies policyCache
	spool    spool
}

var (
	_ profiles.DomainService = (*Service)(nil)
	_ profiles.TagService    = (*Service)(nil)
)

// New returns a Service on store. secret keys the paging tokens and the
// blind index of search keys: nodes that serve the same store must share it,
// and it must not change while the store holds data.
func New(store profiles.Store, region, accountID string, secret []byte) *Service {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("openprofiles paging tokens"))
	ix := hmac.New(sha256.New, secret)
	ix.Write([]byte("openprofiles blind index"))
	s := &Service{
		Store:       store,
		Region:      region,
		AccountID:   accountID,
		Logger:      slog.New(slog.DiscardHandler),
		Now:         time.Now,
		tokens:      tokens{key: h.Sum(nil)},
		limiter:     newLimiter(DefaultIngestRate, DefaultIngestBurst),
		indexSecret: ix.Sum(nil),
	}
	s.crypt = newCrypt(s, DefaultCryptConfig)
	return s
}

// Sealer returns the envelope encryption stores seal records with.
func (s *Service) Sealer() profiles.Sealer { return s.crypt }

// SetCryptConfig tunes the envelope encryption (data-key cache).
func (s *Service) SetCryptConfig(cfg CryptConfig) { s.crypt = newCrypt(s, cfg) }

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

// every calls f every interval, on a goroutine of its own, until the
// returned stop is called (once; it waits for a call under way).
func every(interval time.Duration, f func()) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-exited }
}

// runEvery runs run every interval in the background, until Close; its
// errors (but those of the stop) are logged under name, an error that
// repeats the previous run's at DEBUG only (looplog).
func (s *Service) runEvery(interval time.Duration, name string, run func(context.Context) (int, error)) {
	ctx := s.bg.context()
	failures := &looplog.Loop{Logger: s.Logger, Name: name}
	s.bg.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := run(ctx); err != nil && ctx.Err() == nil {
					failures.Failed(ctx, err)
				} else if err == nil {
					failures.Succeeded(ctx)
				}
			}
		}
	})
}

// eachDomain calls fn with every domain, read 100 at a time, and returns
// how many times fn said it did something; fn's error stops it.
func (s *Service) eachDomain(ctx context.Context, fn func(d *profiles.Domain) (int, error)) (int, error) {
	n, after := 0, ""
	for {
		domains, err := s.Store.ListDomains(ctx, after, 100)
		if err != nil {
			return n, err
		}
		for _, d := range domains {
			k, err := fn(d)
			n += k
			if err != nil {
				return n, err
			}
		}
		if len(domains) < 100 {
			return n, nil
		}
		after = domains[len(domains)-1].Name
	}
}
