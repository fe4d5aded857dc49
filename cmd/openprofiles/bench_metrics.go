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
var benchOperation = map[string]string{"ingest": "PutProfileObject", "search": "SearchProfiles", "import": "Import"}

// latencyHistogram is the cumulative count of one operation's requests per
// upper bound (seconds, +Inf last) of the server's
// openprofiles_api_request_duration_seconds histogram.
type latencyHistogram map[float64]uint64

// scrapeLatency reads the operation's latency histogram from the server's
// GET /metrics (unsigned). A server without metrics answers an error.
func (c *benchClient) scrapeLatency(ctx context.Context, operation string) (latencyHistogram, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	h := latencyHistogram{}
	if f := families["openprofiles_api_request_duration_seconds"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" && l.GetValue() == operation {
					for _, b := range m.GetHistogram().GetBucket() {
						h[b.GetUpperBound()] = b.GetCumulativeCount()
					}
					h[math.Inf(1)] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return h, nil
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
