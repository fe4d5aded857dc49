package service

import (
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

var _ profiles.IngestStats = (*Service)(nil)

// statsMinutes is how far back ingestion outcomes are kept: one counter
// pair per minute for a day.
const statsMinutes = 24 * 60

// ingestStats counts the ingestion outcomes of each domain per minute, in
// this process (a node of a cluster counts what it ingested).
type ingestStats struct {
	mu      sync.Mutex
	domains map[string]*minuteRing
}

// minuteRing holds the counts of the last statsMinutes minutes, indexed by
// minute number (Unix minutes) modulo its length.
type minuteRing struct {
	minute [statsMinutes]int64 // the Unix minute whose counts the slot holds
	ok     [statsMinutes]int
	failed [statsMinutes]int
}

func (st *ingestStats) record(domain string, now time.Time, failed bool) {
	m := now.Unix() / 60
	i := m % statsMinutes
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.domains == nil {
		st.domains = map[string]*minuteRing{}
	}
	r := st.domains[domain]
	if r == nil {
		r = &minuteRing{}
		st.domains[domain] = r
	}
	if r.minute[i] != m {
		r.minute[i], r.ok[i], r.failed[i] = m, 0, 0
	}
	if failed {
		r.failed[i]++
	} else {
		r.ok[i]++
	}
}

func (st *ingestStats) forget(domain string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.domains, domain)
}

// IngestHistory returns the domain's ingestion outcomes in n buckets of
// width d (a whole number of minutes, at least one), oldest first, the last
// one holding the current minute. Outcomes older than a day are forgotten.
func (s *Service) IngestHistory(domain string, n int, d time.Duration) []profiles.IngestCount {
	width := max(int64(d/time.Minute), 1)
	now := s.now().Unix() / 60
	first := now - int64(n)*width + 1
	out := make([]profiles.IngestCount, n)
	for b := range out {
		out[b].Start = time.Unix((first+int64(b)*width)*60, 0).UTC()
	}
	st := &s.ingestStats
	st.mu.Lock()
	defer st.mu.Unlock()
	r := st.domains[domain]
	if r == nil {
		return out
	}
	for m := max(first, now-statsMinutes+1); m <= now; m++ {
		i := m % statsMinutes
		if r.minute[i] != m {
			continue
		}
		b := (m - first) / width
		out[b].Ingested += r.ok[i]
		out[b].Failed += r.failed[i]
	}
	return out
}
