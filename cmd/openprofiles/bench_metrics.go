package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// benchOperation is the API operation whose server-side latency a scenario
// reports (none for raw).
var benchOperation = map[string]string{"ingest": "PutProfileObject", "search": "SearchProfiles", "import": "Import", "batch": "BatchPutProfileObject"}

// latencyHistogram is the cumulative count of one operation's requests per
// upper bound (seconds, +Inf last) of the server's
// openprofiles_api_request_duration_seconds histogram.
type latencyHistogram map[float64]uint64

// serverMetrics is what a scenario reads from the server's /metrics
// before and after it runs.
type serverMetrics struct {
	latency latencyHistogram
	// pagesWritten is openprofiles_store_pages_written_total (SQLite's
	// writer); -1 when the server has no such metric.
	pagesWritten float64
}

// scrapeMetrics reads the operation's latency histogram and the store's
// pages written from the server's GET /metrics (unsigned). A server without
// metrics answers an error.
func (c *benchClient) scrapeMetrics(ctx context.Context, operation string) (serverMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return serverMetrics{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return serverMetrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return serverMetrics{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return serverMetrics{}, fmt.Errorf("GET /metrics: %w", err)
	}
	m := serverMetrics{latency: latencyHistogram{}, pagesWritten: -1}
	if f := families["openprofiles_api_request_duration_seconds"]; f != nil {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "operation" && l.GetValue() == operation {
					for _, b := range s.GetHistogram().GetBucket() {
						m.latency[b.GetUpperBound()] = b.GetCumulativeCount()
					}
					m.latency[math.Inf(1)] = s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if f := families["openprofiles_store_pages_written_total"]; f != nil && len(f.GetMetric()) == 1 {
		m.pagesWritten = f.GetMetric()[0].GetCounter().GetValue()
	}
	return m, nil
}

// pagesPerOp returns the pages the store wrote per operation between two
// scrapes, or 0 when the server does not count them.
func pagesPerOp(before, after serverMetrics, ops int) float64 {
	if before.pagesWritten < 0 || after.pagesWritten < 0 {
		return 0
	}
	return perOp(after.pagesWritten-before.pagesWritten, ops)
}

// perOp returns total/ops to two decimals, 0 when no operation ran.
func perOp(total float64, ops int) float64 {
	if ops == 0 {
		return 0
	}
	return math.Round(total/float64(ops)*100) / 100
}

// quantileBound returns the upper bound, in milliseconds, of the histogram
// bucket that holds quantile q of the requests counted between before and
// after: the server's own time for them is at most that. It returns 0 when
// none were counted, and -1 when the quantile is past the last finite
// bound (10 s).
func quantileBound(before, after latencyHistogram, q float64) float64 {
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	rank := uint64(math.Ceil(q * float64(total)))
	for _, b := range bounds {
		if after[b]-before[b] >= rank {
			if math.IsInf(b, 1) {
				return -1
			}
			return b * 1000
		}
	}
	return -1
}
