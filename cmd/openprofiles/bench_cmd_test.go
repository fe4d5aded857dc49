package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// benchJSON is one line of `openprofiles bench --json`.
type benchJSON struct {
	Scenario         string   `json:"scenario"`
	Ops              int      `json:"ops"`
	Errors           int      `json:"errors"`
	OpsPerSec        *float64 `json:"ops_per_sec"`
	P50ms            *float64 `json:"p50_ms"`
	P99ms            *float64 `json:"p99_ms"`
	RawOpsPerSec     float64  `json:"raw_ops_per_sec"`
	RatioToRaw       float64  `json:"ratio_to_raw"`
	ServerPeakRSSMB  float64  `json:"server_peak_rss_mb"`
	ServerP50ms      float64  `json:"server_p50_ms"`
	ServerP99ms      float64  `json:"server_p99_ms"`
	ServerCPUSeconds *float64 `json:"server_cpu_seconds"`
	PagesPerOp       float64  `json:"pages_written_per_op"`
	Note             string   `json:"note"`
}

// decodeBenchJSON decodes the lines of `openprofiles bench --json`.
func decodeBenchJSON(t *testing.T, out string) []benchJSON {
	t.Helper()
	var got []benchJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r benchJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, r)
	}
	return got
}

// TestBenchCommand runs `openprofiles bench` at a tiny scale against the
// server it starts (the real binary as a child process) and checks the
// shape of its output, never its timings.
func TestBenchCommand(t *testing.T) {
	bin := mustBuildBinary(t)
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--server-bin", bin, "--objects", "40", "--profiles", "30", "--searches", "30", "--concurrency", "4", "--import-concurrency", "2", "--json"}
	if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("bench: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	got := decodeBenchJSON(t, stdout.String())
	wantOps := map[string]int{"ingest": 40, "raw": 40, "search": 30, "import": 40}
	if len(got) != 4 {
		t.Fatalf("got %d JSON objects, want 4:\n%s", len(got), stdout.String())
	}
	for i, name := range []string{"ingest", "raw", "search", "import"} {
		r := got[i]
		if r.Scenario != name || r.Ops != wantOps[name] || r.Errors != 0 {
			t.Errorf("result %d: scenario %q, %d ops, %d errors; want %q, %d ops, no error", i, r.Scenario, r.Ops, r.Errors, name, wantOps[name])
		}
		if r.OpsPerSec == nil || *r.OpsPerSec <= 0 || r.P50ms == nil || r.P99ms == nil || *r.P99ms < *r.P50ms {
			t.Errorf("%s: ops_per_sec, p50_ms, p99_ms missing or inconsistent: %+v", name, r)
		}
		if name == "raw" && !strings.HasPrefix(r.Note, "SQLite: ") {
			t.Errorf("raw note %q: want SQLite rows (the started server's store)", r.Note)
		}
		if name != "raw" && r.ServerPeakRSSMB <= 0 {
			t.Errorf("%s: no server peak RSS", name)
		}
		// The server's own latency, read from its /metrics histogram: bucket
		// bounds, p99's at least p50's; raw has no server operation.
		if srv := r.ServerP50ms > 0 && r.ServerP99ms >= r.ServerP50ms; srv != (name != "raw") {
			t.Errorf("%s: server_p50_ms %v, server_p99_ms %v", name, r.ServerP50ms, r.ServerP99ms)
		}
		// Pages the SQLite writer wrote per object: every write scenario
		// writes at least its object's page; search only reads.
		if writes := r.PagesPerOp >= 1; writes != (name != "search") {
			t.Errorf("%s: pages_written_per_op %v", name, r.PagesPerOp)
		}
	}
	if ing := got[0]; ing.RawOpsPerSec != *got[1].OpsPerSec || ing.RatioToRaw <= 0 {
		t.Errorf("ingest: raw_ops_per_sec %v, ratio_to_raw %v; want raw's %v and a ratio", ing.RawOpsPerSec, ing.RatioToRaw, *got[1].OpsPerSec)
	}

	// The table: a header and one row per scenario; --cpuprofile writes the
	// bench process's CPU profile (gzipped protobuf).
	stdout.Reset()
	profile := filepath.Join(t.TempDir(), "client.pprof")
	args = []string{"bench", "--server-bin", bin, "--scenarios", "ingest,raw", "--objects", "10", "--concurrency", "2", "--cpuprofile", profile}
	if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "ops/s") || !strings.Contains(lines[0], "ratio") || !strings.Contains(lines[0], "pages/op") ||
		!strings.HasPrefix(strings.TrimSpace(lines[1]), "ingest") || !strings.HasPrefix(strings.TrimSpace(lines[2]), "raw") {
		t.Errorf("table:\n%s", stdout.String())
	}
	if b, err := os.ReadFile(profile); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--cpuprofile: %d bytes, %v; want a gzipped profile", len(b), err)
	}

	// The batch scenario, run only when named: 25 objects in calls of 10,
	// 10 and 5, measured by the server as BatchPutProfileObject.
	stdout.Reset()
	args = []string{"bench", "--server-bin", bin, "--scenarios", "batch", "--objects", "25", "--concurrency", "2", "--json"}
	if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("bench batch: %v\n%s", err, stderr.String())
	}
	if got := decodeBenchJSON(t, stdout.String()); len(got) != 1 || got[0].Scenario != "batch" || got[0].Ops != 25 || got[0].Errors != 0 ||
		got[0].ServerP50ms <= 0 || got[0].PagesPerOp < 1 {
		t.Errorf("batch: %s", stdout.String())
	}

	// --skip-load searches the profiles an earlier run loaded into the same
	// data dir: every search finds its profile (a miss counts as an error).
	dir := t.TempDir()
	for _, extra := range [][]string{nil, {"--skip-load"}} {
		stdout.Reset()
		args = append([]string{"bench", "--server-bin", bin, "--scenarios", "search", "--profiles", "20", "--searches", "20",
			"--concurrency", "2", "--data-dir", dir, "--json"}, extra...)
		if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
			t.Fatalf("bench %v: %v\n%s", extra, err, stderr.String())
		}
		var r struct {
			Errors int    `json:"errors"`
			Note   string `json:"note"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.Errors != 0 {
			t.Fatalf("bench %v: %v, %s", extra, err, stdout.String())
		}
		if loaded := strings.Contains(r.Note, "earlier run"); loaded != (extra != nil) {
			t.Errorf("bench %v: note %q", extra, r.Note)
		}
	}
}

// TestBenchCommand_Postgres runs ingest and raw with the started server on
// PostgreSQL (--store in --server-args): raw then writes into that
// database, in a schema of its own that it drops afterwards, and ingest's
// ratio is to PostgreSQL's raw, not SQLite's.
func TestBenchCommand_Postgres(t *testing.T) {
	bin := mustBuildBinary(t)
	dsn := mustPostgresDatabase(t)
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--server-bin", bin, "--scenarios", "ingest,raw", "--objects", "20", "--concurrency", "4",
		"--json", "--server-args", "--store " + dsn}
	if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("bench: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	got := decodeBenchJSON(t, stdout.String())
	if len(got) != 2 || got[0].Scenario != "ingest" || got[1].Scenario != "raw" {
		t.Fatalf("got %s", stdout.String())
	}
	for _, r := range got {
		if r.Ops != 20 || r.Errors != 0 || r.OpsPerSec == nil || *r.OpsPerSec <= 0 {
			t.Errorf("%s: %d ops, %d errors, %v ops/s; want 20, none, a rate", r.Scenario, r.Ops, r.Errors, r.OpsPerSec)
		}
	}
	if raw := got[1]; !strings.HasPrefix(raw.Note, "PostgreSQL: ") || !strings.Contains(raw.Note, "as the ingest scenario stored them") {
		t.Errorf("raw note %q: want PostgreSQL rows of the sizes ingest stored", raw.Note)
	}
	if got[0].RatioToRaw <= 0 {
		t.Errorf("ingest: ratio_to_raw %v", got[0].RatioToRaw)
	}
	for _, r := range got {
		if r.PagesPerOp != 0 {
			t.Errorf("%s: pages_written_per_op %v on PostgreSQL, which does not count them", r.Scenario, r.PagesPerOp)
		}
	}

	// The server stored ingest's objects in the database; raw's schema is gone.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var objects, rawSchemas int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM objects WHERE domain = 'bench'`).Scan(&objects); err != nil || objects != 20 {
		t.Errorf("ingest's objects in the server's database: %d, %v; want 20", objects, err)
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'openprofiles_raw_%'`).Scan(&rawSchemas); err != nil || rawSchemas != 0 {
		t.Errorf("raw schemas left: %d, %v; want none", rawSchemas, err)
	}
}

// TestBenchCommand_BadServerArgs: --server-args are parsed as serve parses
// them before anything starts, and a flag serve does not know is named;
// with --endpoint they are refused, and serve's settings are not read.
func TestBenchCommand_BadServerArgs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--server-bin", "/nonexistent/openprofiles", "--scenarios", "raw", "--objects", "2",
		"--server-args", "--no-such-flag 1"}
	err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "--server-args") || !strings.Contains(err.Error(), "no-such-flag") {
		t.Fatalf("bench with an unknown server flag: %v; want an error naming --server-args and the flag", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q: want nothing measured", stdout.String())
	}

	// With --endpoint no server is started: --server-args would be ignored,
	// so they are refused, and the environment's server settings (which
	// configure a started server) are not read at all.
	args = []string{"bench", "--endpoint", "http://127.0.0.1:1", "--scenarios", "ingest", "--objects", "2",
		"--server-args", "--store postgres://nowhere"}
	err = main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "--server-args") || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("bench --endpoint --server-args: %v; want an error naming both", err)
	}
	badServerEnv := func(k string) string {
		if k == "OPENPROFILES_MAX_DOMAINS" {
			return "many"
		}
		return ""
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBENCH")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	args = []string{"bench", "--endpoint", "http://127.0.0.1:1", "--scenarios", "ingest", "--objects", "2"}
	err = main.Run(t.Context(), args, nil, &stdout, &stderr, badServerEnv)
	t.Logf("bench --endpoint (nothing listens there): %v", err)
	if err == nil || strings.Contains(err.Error(), "MAX_DOMAINS") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("bench --endpoint with a bad OPENPROFILES_MAX_DOMAINS: %v; want the endpoint's error, not the server setting's", err)
	}
}

// TestBenchCommand_Endpoint measures a running server (the real one, on
// loopback) with bench's default scenarios, as the README runs it:
// `bench --endpoint URL` runs ingest, search and import, leaving out raw,
// which needs the started server's store; raw named with --endpoint is
// refused.
func TestBenchCommand_Endpoint(t *testing.T) {
	m := MustRunMain(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--endpoint", m.URL(), "--objects", "6", "--profiles", "4", "--searches", "4",
		"--concurrency", "2", "--import-concurrency", "1", "--json"}
	if err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("bench --endpoint: %v\nstderr: %s", err, stderr.String())
	}
	got := decodeBenchJSON(t, stdout.String())
	want := map[string]int{"ingest": 6, "search": 4, "import": 6}
	if len(got) != len(want) {
		t.Fatalf("got %d JSON objects, want ingest, search and import:\n%s", len(got), stdout.String())
	}
	for i, name := range []string{"ingest", "search", "import"} {
		if r := got[i]; r.Scenario != name || r.Ops != want[name] || r.Errors != 0 || r.ServerCPUSeconds != nil {
			t.Errorf("result %d: %+v; want %s, %d ops, no error, no server CPU (not known for --endpoint)", i, r, name, want[name])
		}
	}

	stdout.Reset()
	args = []string{"bench", "--endpoint", m.URL(), "--scenarios", "ingest,raw", "--objects", "2"}
	err := main.Run(t.Context(), args, nil, &stdout, &stderr, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "raw") || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("bench --endpoint --scenarios ingest,raw: %v; want an error naming raw and --endpoint", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q: want nothing measured", stdout.String())
	}
}
