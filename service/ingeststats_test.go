package service

import (
	"testing"
	"time"
)

func TestIngestHistory(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	s := &Service{Now: func() time.Time { return now }}
	st := &s.ingestStats
	st.record("d", now.Add(-3*time.Hour), false)    // outside a 3-hour window
	st.record("d", now.Add(-150*time.Minute), true) // first bucket
	st.record("d", now.Add(-10*time.Minute), false) // last bucket
	st.record("d", now, false)                      // last bucket
	st.record("d", now.Add(-25*time.Hour), true)    // forgotten: over a day old, and overwritten by nothing
	st.record("other", now, true)

	got := s.IngestHistory("d", 3, time.Hour)
	if len(got) != 3 {
		t.Fatalf("%d buckets", len(got))
	}
	if got[2].Ingested != 2 || got[2].Failed != 0 || got[0].Failed != 1 || got[0].Ingested != 0 || got[1].Ingested+got[1].Failed != 0 {
		t.Errorf("buckets %+v", got)
	}
	if !got[2].Start.Equal(time.Date(2026, 11, 26, 11, 31, 0, 0, time.UTC)) {
		t.Errorf("last bucket starts %v", got[2].Start)
	}
	day := s.IngestHistory("d", 24, time.Hour)
	total := 0
	for _, b := range day {
		total += b.Ingested + b.Failed
	}
	if total != 4 {
		t.Errorf("a day holds %d outcomes, want 4 (the 25-hour-old one is forgotten)", total)
	}
	st.forget("d")
	if b := s.IngestHistory("d", 1, time.Hour); b[0].Ingested != 0 {
		t.Errorf("after forget: %+v", b)
	}
}
