package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openprofiles/profiles/awsapi"
	"github.com/openprofiles/profiles/service"
)

// The server's metrics, served in the Prometheus text format on GET
// /metrics (unless --metrics=false). Each layer counts what it owns: the
// API (awsapi) its requests, the service ingestion outcomes, dead letters
// and the data-key cache, the store its write transactions, group commits
// and (SQLite) the pages its writer writes (wired here); the Go runtime and
// the process come from client_golang's collectors. Like most exporters
// the endpoint needs no signature: no label holds a domain name, a key or
// other customer data.

// newMetrics returns the registry with the runtime and process collectors.
func newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// instrumentStore counts the write transactions of the store (on
// PostgreSQL each Update is a transaction of its own). Call it before the
// store opens.
func (m *Main) instrumentStore() {
	s, ok := m.DB.(interface {
		SetOnCommit(func(updates int, held time.Duration, err error))
	})
	if !ok {
		return
	}
	txs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "openprofiles_store_transactions_total",
		Help: "Write transactions of the store's group commit, by result (committed, failed).",
	}, []string{"result"})
	size := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "openprofiles_store_group_commit_updates",
		Help:    "Updates (e.g. ingested objects) one committed write transaction carried.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	held := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "openprofiles_store_transaction_seconds",
		Help:    "Time a write transaction held the writer, from BEGIN to COMMIT.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
	m.Metrics.MustRegister(txs, size, held)
	if p, ok := m.DB.(interface{ PagesWritten() int64 }); ok {
		m.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "openprofiles_store_pages_written_total",
			Help: "Database pages the SQLite writer wrote to its write-ahead log: what the write transactions changed, in pages (each written once per transaction).",
		}, func() float64 { return float64(p.PagesWritten()) }))
	}
	if o, ok := m.DB.(interface {
		SetOnSync(func(groups int, took time.Duration, err error))
	}); ok {
		syncs := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "openprofiles_store_wal_sync_seconds",
			Help:    "SQLite: time a sync (fsync) of the write-ahead log took; group commits are answered after the sync that follows their COMMIT.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		})
		m.Metrics.MustRegister(syncs)
		o.SetOnSync(func(_ int, d time.Duration, _ error) { syncs.Observe(d.Seconds()) })
	}
	s.SetOnCommit(func(updates int, d time.Duration, err error) {
		if err != nil {
			txs.WithLabelValues("failed").Inc()
			m.schema.pokeNow() // a newer schema may be why
			return
		}
		txs.WithLabelValues("committed").Inc()
		size.Observe(float64(updates))
		held.Observe(d.Seconds())
	})
}

// instrumentServices gives the service and the API their metrics.
func (m *Main) instrumentServices() {
	m.Service.Metrics = service.NewMetrics(m.Metrics)
	m.Metrics.MustRegister(m.Service.QueueDepthCollector())
	m.API.Metrics = awsapi.NewMetrics(m.Metrics)
}

// instrumentConnections reports the connections the server has open, to
// compare with --max-connections.
func (m *Main) instrumentConnections(l *serverListener) {
	m.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openprofiles_http_connections_open",
		Help: "Client connections the server has open (at most --max-connections).",
	}, func() float64 { return float64(l.Open()) }))
}

// metricsHandler serves the registry.
func (m *Main) metricsHandler() http.Handler {
	return promhttp.HandlerFor(m.Metrics, promhttp.HandlerOpts{ErrorLog: nil})
}
