package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/awsapi"
	"github.com/openprofiles/profiles/ui"
)

// DefaultSchemaCheckInterval is how often a running server reads its
// store's schema version, when Config.SchemaCheckInterval is 0.
const DefaultSchemaCheckInterval = 5 * time.Second

// schemaPokeGap is the least time between two checks that store errors
// ask for, however many fail.
const schemaPokeGap = time.Second

// A running server checks its store's schema version every few seconds
// (one small query), and at once when a store error suggests it (a write
// transaction that failed to begin or commit, an API request that failed
// with a server error: the statements of a write that an older server
// runs against a newer schema fail inside its transaction, and reach the
// check as the request's server error, not as a failed commit). Another
// node, or another process on the same SQLite file, may have migrated the
// database past this program: from then on this server steps aside. Its
// store refuses to write (StepAside: ErrSchemaTooNew of package sqlite or
// postgres), /healthz answers 503 naming both versions, every other
// request but /metrics gets an AWS-style InternalServerException (which
// SDKs retry: a load balancer's other nodes answer), its background work
// stops, one ERROR line is logged and the gauge
// openprofiles_schema_version_behind is 1. It does not step back: restart
// it at the newer version.

// schemaGuard is the server's knowledge of its store's schema version.
// Requests read behind alone: an atomic load.
type schemaGuard struct {
	behind         atomic.Bool
	current, known atomic.Int64 // set before behind
	backgroundDone atomic.Bool  // the background work stopped after behind
	poke           chan struct{}
	stop           context.CancelFunc
	done           chan struct{}
	lastPokedCheck time.Time // the guard's goroutine's own
}

func newSchemaGuard() *schemaGuard {
	return &schemaGuard{poke: make(chan struct{}, 1)}
}

// pokeNow asks for a check soon: a store error may come from a newer
// schema. It never waits.
func (g *schemaGuard) pokeNow() {
	if g.behind.Load() {
		return
	}
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

// versions returns the database's schema version and the highest this
// server knows, once the guard found the first higher than the second.
func (g *schemaGuard) versions() (current, known int, behind bool) {
	if !g.behind.Load() {
		return 0, 0, false
	}
	return int(g.current.Load()), int(g.known.Load()), true
}

// instrumentSchema registers the gauge of the guard.
func (m *Main) instrumentSchema() {
	m.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "openprofiles_schema_version_behind",
		Help: "1 once the database schema is newer than this server knows (another node upgraded it): the server refuses every request and does no background work; upgrade it.",
	}, func() float64 {
		if m.schema.behind.Load() {
			return 1
		}
		return 0
	}))
}

// startSchemaGuard starts checking the store's schema version every
// interval (0: DefaultSchemaCheckInterval), until Close.
func (m *Main) startSchemaGuard(interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSchemaCheckInterval
	}
	ctx, stop := context.WithCancel(context.Background())
	m.schema.stop, m.schema.done = stop, make(chan struct{})
	go func() {
		defer close(m.schema.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-m.schema.poke:
				if time.Since(m.schema.lastPokedCheck) < schemaPokeGap {
					continue
				}
				m.schema.lastPokedCheck = time.Now()
			}
			if m.checkSchema(ctx) {
				return
			}
		}
	}()
}

// stopSchemaGuard stops the checks and waits for one under way.
func (m *Main) stopSchemaGuard() {
	if m.schema.stop != nil {
		m.schema.stop()
		<-m.schema.done
	}
}

// checkSchema reads the store's schema version and steps aside when it is
// newer than this server knows, which it reports.
func (m *Main) checkSchema(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	current, known, err := m.DB.SchemaVersion(ctx)
	if err != nil {
		// The store is down or busy: /healthz tells; the next check tries again.
		m.Logger.Debug("schema version check failed", "err", err)
		return false
	}
	if current <= known {
		return false
	}
	m.stepAside(current, known)
	return true
}

// stepAside makes the server refuse every request, tells its background
// work to stop, makes the store refuse to write, and waits for the
// background work. The background work is told before the store refuses,
// so that it stops quietly rather than log the store's refusals.
func (m *Main) stepAside(current, known int) {
	g := m.schema
	g.current.Store(int64(current))
	g.known.Store(int64(known))
	g.behind.Store(true)
	if m.stopSweeper != nil {
		m.stopSweeper()
	}
	m.Service.StopBackground()
	m.DB.StepAside(current)
	m.Logger.Error("database schema is newer than this server: it refuses every request and stops its background work; upgrade this node",
		"database_schema_version", current, "server_schema_version", known)
	if m.sweeperDone != nil {
		<-m.sweeperDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := m.Service.Close(ctx); err != nil {
		m.Logger.Error("background work not stopped after the schema upgrade", "err", err)
		return
	}
	g.backgroundDone.Store(true)
}

// schemaMessage is what a request is told once the server is behind.
func schemaMessage(current, known int) string {
	return fmt.Sprintf("This server is older than the database schema: the database is at version %d, this server knows up to %d. Upgrade this node.", current, known)
}

// schemaGate refuses every request but /healthz and /metrics once the
// server is behind its database's schema: with an AWS-style
// InternalServerException (which SDKs retry, to reach another node), or a
// plain page for the console.
func (m *Main) schemaGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current, known, behind := m.schema.versions()
		if !behind || r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		msg := schemaMessage(current, known)
		if m.Config.Console && (strings.HasPrefix(r.URL.Path, ui.Prefix) || r.URL.Path == "/") && r.Header.Get("X-Amz-Target") == "" {
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		awsapi.WriteError(w, profiles.Errorf(profiles.EINTERNAL, "%s", msg))
	})
}

// schemaHealth answers /healthz once the server is behind: 503, naming
// both versions.
func schemaHealth(w http.ResponseWriter, current, known int) {
	w.WriteHeader(http.StatusServiceUnavailable)
	json.NewEncoder(w).Encode(map[string]any{
		"status":                  "schema_too_new",
		"database_schema_version": current,
		"server_schema_version":   known,
		"message":                 fmt.Sprintf("The database schema is at version %d, this server knows up to %d: upgrade this node.", current, known),
	})
}
