package awsapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the API's requests: per operation, by HTTP status and by
// AWS error type, with a latency histogram. A nil *Metrics counts nothing.
// Operations are the model's names (plus Import); a request that matches no
// route counts as operation "unknown".
type Metrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the API's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openprofiles_api_requests_total",
			Help: "Customer Profiles API requests, by operation and HTTP status.",
		}, []string{"operation", "status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openprofiles_api_errors_total",
			Help: "Customer Profiles API requests that failed, by operation and AWS error type (the __type sent).",
		}, []string{"operation", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "openprofiles_api_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by operation.",
			Buckets: []float64{.0005, .001, .002, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"operation"}),
	}
	reg.MustRegister(m.requests, m.errors, m.latency)
	return m
}

// observe counts one request.
func (m *Metrics) observe(operation string, status int, errType string, d time.Duration) {
	if m == nil {
		return
	}
	if operation == "" {
		operation = "unknown"
	}
	m.requests.WithLabelValues(operation, strconv.Itoa(status)).Inc()
	if errType != "" {
		m.errors.WithLabelValues(operation, errType).Inc()
	}
	m.latency.WithLabelValues(operation).Observe(d.Seconds())
}
