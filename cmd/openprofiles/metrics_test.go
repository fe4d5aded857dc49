package main_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// scrape reads GET /metrics (unsigned) and returns its sample lines by
// name-and-labels.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	out := map[string]float64{}
	line := regexp.MustCompile(`^([a-z_]+(?:\{[^}]*\})?) (\S+)$`)
	for _, l := range strings.Split(string(body), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			out[m[1]] = v
		}
	}
	return out
}

// TestMetrics drives the real server, then checks that the counters of
// each layer moved.
func TestMetrics(t *testing.T) {
	e := newIngestEnv(t)
	before := scrape(t, e.m.URL())
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]any{"id": "c1", "email": "ann@example.com"})
	e.mustPut("contact", map[string]any{"id": "c2", "email": "ann@example.com"})
	if _, err := e.put("contact", map[string]any{"email": "nobody@example.com"}); err == nil {
		t.Fatal("an object without its UNIQUE key was accepted")
	}
	if _, err := e.client.GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String("missing")}); err == nil {
		t.Fatal("GetDomain of a missing domain succeeded")
	}
	after := scrape(t, e.m.URL())

	for _, c := range []struct {
		sample  string
		atLeast float64
	}{
		{`openprofiles_api_requests_total{operation="PutProfileObject",status="200"}`, 2},
		{`openprofiles_api_requests_total{operation="PutProfileObjectType",status="200"}`, 1},
		{`openprofiles_api_errors_total{error="BadRequestException",operation="PutProfileObject"}`, 1},
		{`openprofiles_api_errors_total{error="ResourceNotFoundException",operation="GetDomain"}`, 1},
		{`openprofiles_api_request_duration_seconds_count{operation="PutProfileObject"}`, 3},
		{`openprofiles_ingest_objects_total{outcome="created"}`, 1},
		{`openprofiles_ingest_objects_total{outcome="matched"}`, 1},
		{`openprofiles_ingest_objects_total{outcome="KEY_MISSING"}`, 1},
		{`openprofiles_store_transactions_total{result="committed"}`, 3},
		{`openprofiles_store_group_commit_updates_count`, 3},
		{`openprofiles_data_key_cache_total{result="hit",use="seal"}`, 1},
		{`openprofiles_data_key_cache_total{result="miss",use="seal"}`, 1},
	} {
		if got := after[c.sample] - before[c.sample]; got < c.atLeast {
			t.Errorf("%s moved by %v, want at least %v", c.sample, got, c.atLeast)
		}
	}
	// SQLite only: the pages its writer writes (a profile, an object, keys:
	// a page of each at least) and the syncs of its WAL before it answers
	// group commits (one at least for the objects stored).
	for _, c := range []struct {
		sample  string
		atLeast float64
	}{
		{`openprofiles_store_pages_written_total`, 3},
		{`openprofiles_store_wal_sync_seconds_count`, 1},
	} {
		got, ok := after[c.sample]
		if onPostgres() {
			if ok {
				t.Errorf("%s on PostgreSQL: %v", c.sample, got)
			}
		} else if moved := got - before[c.sample]; !ok || moved < c.atLeast {
			t.Errorf("%s moved by %v (present: %v), want at least %v", c.sample, moved, ok, c.atLeast)
		}
	}
	if after["go_goroutines"] <= 0 || after["process_resident_memory_bytes"] <= 0 {
		t.Errorf("runtime and process metrics missing")
	}
}

// TestMetrics_Off: --metrics=false serves no /metrics.
func TestMetrics_Off(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.Metrics = false })
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Errorf("GET /metrics with metrics off: %s, want an error", resp.Status)
	}
}

// TestMetrics_DeadLetters: a failed import counts as a queued dead letter
// and shows in the queue depth.
func TestMetrics_DeadLetters(t *testing.T) {
	m := newDLQEnv(t, "built-in", "dl", "metrics-dlq").m
	path := filepath.Join(t.TempDir(), "objects.jsonl")
	os.WriteFile(path, []byte(`{"id":"ok1","email":"a@example.com"}`+"\n"+`{"email":"no-id@example.com"}`+"\n"), 0o600)
	if out, err := runCLI(t, m, "import", "--domain", "dl", "--object-type", "contact", "--quiet", path); err != nil || !strings.Contains(out, `"Failed": 1`) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	got := scrape(t, m.URL())
	if got[`openprofiles_dead_letters_total{result="queued"}`] != 1 || got[`openprofiles_dead_letter_queue_depth`] != 1 {
		t.Errorf("dead letters queued %v, queue depth %v; want 1 and 1", got[`openprofiles_dead_letters_total{result="queued"}`], got[`openprofiles_dead_letter_queue_depth`])
	}
	if got[`openprofiles_api_requests_total{operation="Import",status="200"}`] != 1 {
		t.Errorf("Import requests: %v, want 1", got[`openprofiles_api_requests_total{operation="Import",status="200"}`])
	}
}
