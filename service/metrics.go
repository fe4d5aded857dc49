package service

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the service does, for an operator's dashboard:
// ingestion outcomes, dead letters, the data-key cache and the claims of
// event-stream deliveries. A nil *Metrics
// counts nothing. Labels never carry customer data (no domain names, no
// keys): only outcomes and reason codes.
type Metrics struct {
	ingested    *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	dataKeys    *prometheus.CounterVec
	// streamClaims and eventsClaimed count what the store's claims of
	// event streams returned (EventOutbox.ClaimStreamEvents).
	streamClaims  prometheus.Counter
	eventsClaimed prometheus.Counter
	// purgedRows counts the rows the purges of deleted domains removed;
	// purges the purges not finished (as the last sweep found them, and
	// as this node starts and finishes them).
	purgedRows prometheus.Counter
	purges     prometheus.Gauge
	// ruleMergedProfiles counts the profiles rule-based merging merged into
	// others; ruleRefused the groups it did not merge (two counters: a
	// sum of profiles and groups would mean nothing).
	ruleMergedProfiles prometheus.Counter
	ruleRefused        prometheus.Counter
}

// NewMetrics registers the service's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openprofiles_ingest_objects_total",
			Help: "Profile objects ingested (PutProfileObject, import, contact records), by outcome: created (a new profile), matched (an existing profile), stale (an older version, skipped), unchanged (a contact record delivered again as it was, skipped), or the failure's reason code.",
		}, []string{"outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openprofiles_dead_letters_total",
			Help: "Failed asynchronous ingestions, by where they went: queued (the domain's dead-letter queue), spooled (the local spool, queue unreachable), failed (neither), none (the domain has no queue).",
		}, []string{"result"}),
		dataKeys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openprofiles_data_key_cache_total",
			Help: "Look-ups of the data-key cache of envelope encryption, by use (seal, open) and result (hit, miss: a KMS call).",
		}, []string{"use", "result"}),
		streamClaims: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openprofiles_event_stream_claims_total",
			Help: "Claims of an event stream's waiting events for delivery, one per stream per claim (a stream whose destination fails is claimed again once per --event-retry-interval).",
		}),
		eventsClaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openprofiles_event_stream_events_claimed_total",
			Help: "Events the claims of event streams took (each claimed event is sent to its Kinesis data stream once).",
		}),
		purgedRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openprofiles_domain_purge_rows_total",
			Help: "Rows the removal of deleted domains' data deleted (DeleteDomain removes a domain's data in pages, in the background for a large one).",
		}),
		purges: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openprofiles_domain_purges_pending",
			Help: "Deleted domains whose data is still being removed (as the last sweep of this node found them, and as this node starts and finishes removals).",
		}),
		ruleMergedProfiles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openprofiles_rule_merged_profiles_total",
			Help: "Profiles rule-based merging (RuleBasedMatching.MaxAllowedRuleLevelForMerging) merged into the profile of their match group that stays.",
		}),
		ruleRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "openprofiles_rule_merge_refusals_total",
			Help: "Match groups rule-based merging did not merge (refused, or changed meanwhile; tried again at every pass): counted once per node while refused for the same reason.",
		}),
	}
	reg.MustRegister(m.ingested, m.deadLetters, m.dataKeys, m.streamClaims, m.eventsClaimed, m.purgedRows, m.purges, m.ruleMergedProfiles, m.ruleRefused)
	return m
}

func (m *Metrics) ingest(outcome string) {
	if m != nil {
		m.ingested.WithLabelValues(outcome).Inc()
	}
}

// claimed counts one stream's claim of events.
func (m *Metrics) claimed(events int) {
	if m != nil {
		m.streamClaims.Inc()
		m.eventsClaimed.Add(float64(events))
	}
}

// purged counts rows a page of a domain's purge deleted.
func (m *Metrics) purged(rows int) {
	if m != nil {
		m.purgedRows.Add(float64(rows))
	}
}

// purgeStarted and purgeDone count a domain's purge in and out of the
// pending ones; purgesPending sets them as a sweep found them.
func (m *Metrics) purgeStarted() {
	if m != nil {
		m.purges.Inc()
	}
}

func (m *Metrics) purgeDone() {
	if m != nil {
		m.purges.Dec()
	}
}

func (m *Metrics) purgesPending(n int) {
	if m != nil {
		m.purges.Set(float64(n))
	}
}

// ruleMerged counts profiles rule-based merging merged into others.
func (m *Metrics) ruleMerged(n int64) {
	if m != nil && n > 0 {
		m.ruleMergedProfiles.Add(float64(n))
	}
}

// ruleMergeFailed counts a group rule-based merging did not merge.
func (m *Metrics) ruleMergeFailed() {
	if m != nil {
		m.ruleRefused.Inc()
	}
}

func (m *Metrics) deadLetter(result string) {
	if m != nil {
		m.deadLetters.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) dataKey(use string, hit bool) {
	if m != nil {
		result := "miss"
		if hit {
			result = "hit"
		}
		m.dataKeys.WithLabelValues(use, result).Inc()
	}
}

// QueueDepthCollector reports, at each scrape, how many messages wait in
// the dead-letter queues of all domains (one gauge, summed: no domain
// label). Each scrape asks each queue (for an external SQS, one call per
// domain with a queue), within 5 seconds.
func (s *Service) QueueDepthCollector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openprofiles_dead_letter_queue_depth",
		Help: "Messages waiting in the dead-letter queues of all domains (approximate).",
	}, func() float64 {
		if s.Queues == nil {
			return 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		domains, err := s.Store.ListDomains(ctx, "", 0)
		if err != nil {
			return math.NaN()
		}
		total := 0
		for _, d := range domains {
			if d.DeadLetterQueueURL == "" {
				continue
			}
			n, err := s.Queues.Depth(ctx, d.DeadLetterQueueURL)
			if err != nil {
				return math.NaN()
			}
			total += n
		}
		return float64(total)
	})
}
