package main

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// syncFailedStore is a store whose SQLite WAL fsync failed: it refuses
// every write until the server restarts. Nothing else of it is called.
type syncFailedStore struct{ Store }

func (syncFailedStore) SyncFailed() error { return errors.New("fsync: input/output error") }

// TestHealthz_SyncFailed: once an fsync of SQLite's write-ahead log failed,
// the store refuses every write until a restart: /healthz answers 503 (a
// load balancer takes the node out), naming the cause.
func TestHealthz_SyncFailed(t *testing.T) {
	m := &Main{DB: syncFailedStore{}, schema: newSchemaGuard(), Logger: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	m.healthz(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if body := strings.TrimSpace(w.Body.String()); w.Code != http.StatusServiceUnavailable || body != `{"status":"unavailable","storage":"sync_failed"}` {
		t.Errorf("/healthz after a failed fsync: %d %s, want 503 {\"status\":\"unavailable\",\"storage\":\"sync_failed\"}", w.Code, body)
	}
}
