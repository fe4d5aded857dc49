package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// benchConfig is what `openprofiles bench` runs.
type benchConfig struct {
	scenarios         []string
	objects           int
	profiles          int
	searches          int
	concurrency       int
	importConcurrency int
	offset            int
	domain            string
	endpoint          string // "": start a server
	serverBin         string
	dataDir           string // "": a temp dir, removed afterwards
	serverArgs        []string
	ackFile           string
	jsonOut           bool
	skipLoad          bool
	cf                clientFlags
}

// benchResult is one scenario's figures: a row of the table, or one JSON
// object with --json. Latencies are of one request (for import and the
// search load: one request of importBatch objects).
type benchResult struct {
	Scenario     string  `json:"scenario"`
	Ops          int     `json:"ops"`
	Errors       int     `json:"errors"`
	Concurrency  int     `json:"concurrency"`
	Seconds      float64 `json:"seconds"`
	OpsPerSec    float64 `json:"ops_per_sec"`
	P50ms        float64 `json:"p50_ms"`
	P95ms        float64 `json:"p95_ms"`
	P99ms        float64 `json:"p99_ms"`
	RawOpsPerSec float64 `json:"raw_ops_per_sec,omitempty"`
	RatioToRaw   float64 `json:"ratio_to_raw,omitempty"`
	// The server's own latency of the scenario's operation, from its
	// /metrics histogram: upper bounds of the buckets holding p50 and p99
	// (-1: above the last bucket, 10 s).
	ServerP50ms      float64 `json:"server_p50_ms,omitempty"`
	ServerP99ms      float64 `json:"server_p99_ms,omitempty"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	ServerPeakRSSMB  float64 `json:"server_peak_rss_mb,omitempty"`
	// Database pages the store's writer wrote to its write-ahead log per
	// operation (SQLite: the server's openprofiles_store_pages_written_total,
	// or raw's own writer).
	PagesPerOp float64 `json:"pages_written_per_op,omitempty"`
	Note       string  `json:"note,omitempty"`
}

// benchScenarios are the scenarios there are; defaultScenarios, those a
// run without --scenarios runs.
var (
	benchScenarios   = []string{"ingest", "raw", "search", "import", "batch"}
	defaultScenarios = []string{"ingest", "raw", "search", "import"}
)

// batchSize is how many objects a BatchPutProfileObject call of the batch
// scenario holds: the API's most.
const batchSize = 10

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("openprofiles bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c benchConfig
	fs.StringVar(&c.cf.profile, "profile", "", "with --endpoint: AWS shared-config `profile` to take credentials from")
	fs.StringVar(&c.cf.region, "region", "", "with --endpoint: AWS `region` to sign for (default: AWS_REGION or us-east-1)")
	scenarios := fs.String("scenarios", strings.Join(defaultScenarios, ","), "comma-separated `list` of scenarios to run: "+strings.Join(benchScenarios, ", ")+" (with --endpoint, the default has no raw)")
	fs.IntVar(&c.objects, "objects", 200_000, "objects of the ingest, raw, import and batch scenarios")
	fs.IntVar(&c.profiles, "profiles", 1_000_000, "profiles loaded before the search scenario")
	fs.IntVar(&c.searches, "searches", 30_000, "SearchProfiles calls of the search scenario")
	fs.IntVar(&c.concurrency, "concurrency", 64, "requests in flight at once")
	fs.IntVar(&c.importConcurrency, "import-concurrency", 4, "import requests (of 500 objects) in flight at once")
	fs.IntVar(&c.offset, "offset", 0, "number of the first object (runs with different offsets ingest different objects)")
	fs.StringVar(&c.domain, "domain", "bench", "`name` of the ingest domain; search and import use NAME-search and NAME-import")
	fs.StringVar(&c.endpoint, "endpoint", "", "`URL` of a running server to measure (credentials: the AWS environment); empty: start one")
	fs.StringVar(&c.serverBin, "server-bin", "", "`binary` of the server to start (default: this program)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data `directory` of the started server (default: a temp dir, removed afterwards)")
	serverArgs := fs.String("server-args", "", "extra space-separated `flags` for the started server's serve command")
	fs.StringVar(&c.ackFile, "ack-file", "", "append the number and unique key of every acknowledged ingest object to this `file`")
	fs.BoolVar(&c.jsonOut, "json", false, "print one JSON object per scenario instead of the table")
	fs.BoolVar(&c.skipLoad, "skip-load", false, "search: do not load --profiles profiles, search those an earlier run loaded (same --data-dir or --endpoint), e.g. at another --concurrency")
	cpuProfile := fs.String("cpuprofile", "", "write the CPU profile of this bench process (the client; the raw scenario's writer) to `file`; profile the server with its --debug-addr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: openprofiles bench [flags]

Measures OpenProfiles, by default on a server it starts (a child
'openprofiles serve' process on 127.0.0.1, embedded SQLite in a temp dir,
envelope encryption with the built-in KMS), or on --endpoint. Every request
is SigV4-signed and goes over HTTP.

  ingest  --objects PutProfileObject calls (~1 KB objects, email, phone and a
          UNIQUE id; half of them reach existing profiles) at --concurrency
  raw     the same rows (object blob, key rows, profile row, sizes as the
          server stored them) written straight into the server's store with
          its durability settings: into SQLite, one writer committing what
          is queued; or, when --server-args has --store postgres://…, into a
          new schema of that database (dropped afterwards), one transaction
          per object on as many connections as the server's pool
  search  --profiles profiles loaded through the import endpoint, then
          --searches SearchProfiles by email, phone and a custom key
  import  --objects objects through the bulk import endpoint
  batch   ingest's objects in BatchPutProfileObject calls of 10, --concurrency
          calls in flight (not run unless named in --scenarios)

CPU seconds and peak RSS are those of the started server process
(/proc/PID/stat and VmHWM); they are not known for --endpoint.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	// A running server (--endpoint) has no store bench can write into: its
	// default scenarios are those without raw, which only --scenarios names.
	scenariosSet := false
	fs.Visit(func(f *flag.Flag) { scenariosSet = scenariosSet || f.Name == "scenarios" })
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s == "" || (s == "raw" && c.endpoint != "" && !scenariosSet) {
			continue
		} else if !slices.Contains(benchScenarios, s) {
			return fmt.Errorf("bench: unknown scenario %q (want %s)", s, strings.Join(benchScenarios, ", "))
		}
		c.scenarios = append(c.scenarios, s)
	}
	c.serverArgs = strings.Fields(*serverArgs)
	switch {
	case len(c.scenarios) == 0:
		return errors.New("bench: no scenario")
	case c.objects < 2 || c.profiles < 1 || c.searches < 1:
		return errors.New("bench: --objects must be at least 2, --profiles and --searches at least 1")
	case c.concurrency < 1 || c.importConcurrency < 1:
		return errors.New("bench: --concurrency and --import-concurrency must be at least 1")
	case c.endpoint != "" && slices.Contains(c.scenarios, "raw"):
		return errors.New("bench: the raw scenario needs the started server's store: drop --endpoint or run --scenarios without raw")
	case c.endpoint != "" && len(c.serverArgs) > 0:
		return errors.New("bench: --server-args configure the server bench starts; with --endpoint none is started: drop one of them")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return c.run(ctx, stdout, stderr, getenv)
}

func (c *benchConfig) run(ctx context.Context, stdout, stderr io.Writer, getenv func(string) string) error {
	// The started server's configuration (none with --endpoint): raw
	// writes into its store.
	var serverCfg *Config
	if c.endpoint == "" {
		var err error
		if serverCfg, err = benchServerConfig(c.serverArgs, getenv); err != nil {
			return err
		}
	}
	var cl *benchClient
	var srv *benchServer
	if c.endpoint != "" {
		cfg, err := c.cf.awsConfig(ctx, getenv)
		if err != nil {
			return err
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return fmt.Errorf("bench: AWS credentials: %w", err)
		}
		cl = newBenchClient(c.endpoint, cfg.Region, creds, c.concurrency)
	} else {
		dir := c.dataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "openprofiles-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		bin := c.serverBin
		if bin == "" {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench: this program's path: %w", err)
			}
			bin = exe
		}
		keyID, secret := "AKOPBENCH"+strings.ToUpper(randomHex(6)), randomHex(20)
		var err error
		if srv, err = startBenchServer(ctx, bin, dir, keyID, secret, c.serverArgs); err != nil {
			return err
		}
		defer srv.stop()
		cl = newBenchClient(srv.url, "us-east-1", staticCreds(keyID, secret), c.concurrency)
	}
	defer cl.close()

	var results []benchResult
	ingest := -1
	for _, s := range c.scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var r benchResult
		var err error
		before := srv.usage()
		op := benchOperation[s]
		var metBefore serverMetrics
		metOK := false
		if op != "" {
			metBefore, err = cl.scrapeMetrics(ctx, op)
			metOK = err == nil // not without /metrics: no server figures
		}
		switch s {
		case "ingest":
			r, err = c.runIngest(ctx, cl)
		case "raw":
			r, err = c.runRaw(ctx, srv, serverCfg)
		case "search":
			r, err = c.runSearch(ctx, cl)
		case "import":
			r, err = c.runImport(ctx, cl)
		case "batch":
			r, err = c.runBatch(ctx, cl)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", s, err)
		}
		if metOK {
			if metAfter, err := cl.scrapeMetrics(ctx, op); err == nil {
				r.ServerP50ms, r.ServerP99ms = quantileBound(metBefore.latency, metAfter.latency, 0.50), quantileBound(metBefore.latency, metAfter.latency, 0.99)
				if s != "search" { // search's load writes, its searches do not
					r.PagesPerOp = pagesPerOp(metBefore, metAfter, r.Ops)
				}
			}
		}
		if s != "raw" && srv != nil {
			after := srv.usage()
			r.ServerCPUSeconds = round3(after.cpu - before.cpu)
			r.ServerPeakRSSMB = round3(after.peakRSS / (1 << 20))
		}
		results = append(results, r)
		if s == "ingest" {
			ingest = len(results) - 1
		}
		if s == "raw" && ingest >= 0 {
			results[ingest].RawOpsPerSec = r.OpsPerSec
			results[ingest].RatioToRaw = round3(results[ingest].OpsPerSec / r.OpsPerSec)
		}
		if !c.jsonOut {
			fmt.Fprintf(stderr, "bench: %s done: %d ops in %.1fs\n", s, r.Ops, r.Seconds)
		}
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else {
		printBenchTable(stdout, results)
	}
	failed := 0
	for _, r := range results {
		failed += r.Errors
	}
	if failed > 0 {
		return fmt.Errorf("bench: %d requests failed", failed)
	}
	return nil
}

func printBenchTable(w io.Writer, results []benchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops\terrors\tconc\tseconds\tops/s\tp50 ms\tp95 ms\tp99 ms\tsrv p50 ≤ ms\tsrv p99 ≤ ms\traw ops/s\tratio\tsrv CPU s\tsrv peak RSS MB\tpages/op\t")
	opt := func(v float64, format string) string {
		switch {
		case v == 0:
			return "-"
		case v < 0:
			return "> 10000"
		}
		return fmt.Sprintf(format, v)
	}
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, r.Ops, r.Errors, r.Concurrency,
			r.Seconds, r.OpsPerSec, opt(r.P50ms, "%.2f"), opt(r.P95ms, "%.2f"), opt(r.P99ms, "%.2f"), opt(r.ServerP50ms, "%g"), opt(r.ServerP99ms, "%g"),
			opt(r.RawOpsPerSec, "%.0f"), opt(r.RatioToRaw, "%.2f"), opt(r.ServerCPUSeconds, "%.1f"), opt(r.ServerPeakRSSMB, "%.0f"), opt(r.PagesPerOp, "%.1f"))
	}
	tw.Flush()
	for _, r := range results {
		if r.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Scenario, r.Note)
		}
	}
}

// contactType is the object type every scenario ingests with: a UNIQUE id
// (also the custom key searched), email and phone finding the profile.
const contactType = `{
	"Description": "openprofiles bench contacts",
	"AllowProfileCreation": true,
	"Fields": {
		"id":    {"Source": "_source.id", "ContentType": "STRING"},
		"email": {"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
		"phone": {"Source": "_source.phone", "Target": "_profile.PhoneNumber", "ContentType": "PHONE_NUMBER"},
		"first": {"Source": "_source.first", "Target": "_profile.FirstName", "ContentType": "NAME"},
		"last":  {"Source": "_source.last", "Target": "_profile.LastName", "ContentType": "NAME"},
		"city":  {"Source": "_source.address.city", "Target": "_profile.Address.City"},
		"_sourceLastUpdatedTimestamp": {"Source": "_source.updatedAt"}
	},
	"Keys": {
		"contactId": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id"]}],
		"_email":    [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["email"]}],
		"_phone":    [{"StandardIdentifiers": ["PROFILE", "SECONDARY"], "FieldNames": ["phone"]}]
	}
}`

var benchWords = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor
	incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris`)

// benchPerson returns the email, phone and custom id of person n.
func benchPerson(n int) (email, phone, id string) {
	return fmt.Sprintf("person%d@example.com", n), fmt.Sprintf("+1555%07d", n%10_000_000), fmt.Sprintf("obj-%d", n)
}

// benchObject returns object number i, of person n: about 1 KB of JSON.
func benchObject(i, n int) string {
	email, phone, _ := benchPerson(n)
	var notes strings.Builder
	for j := 0; notes.Len() < 620; j++ {
		notes.WriteString(benchWords[(i*7+j*3)%len(benchWords)])
		notes.WriteByte(' ')
	}
	o := map[string]any{
		"id": fmt.Sprintf("obj-%d", i), "email": email, "phone": phone,
		"first": "First" + benchWords[n%len(benchWords)], "last": fmt.Sprintf("Last%d", n),
		"address":   map[string]any{"street": fmt.Sprintf("%d Main Street", i%1000), "city": "Springfield", "postalCode": fmt.Sprintf("%05d", n%100000), "country": "US"},
		"updatedAt": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		"channel":   "web", "notes": notes.String(),
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// setupDomain creates a domain (unless it exists) and the contact type.
func (c *benchConfig) setupDomain(ctx context.Context, cl *benchClient, domain string) error {
	status, body, err := cl.do(ctx, "POST", "/domains/"+domain, []byte(`{"DefaultExpirationDays": 366}`))
	if err != nil {
		return err
	}
	if status != 200 && !strings.Contains(string(body), "already exists") && !strings.Contains(string(body), "Conflict") {
		return fmt.Errorf("create domain %s: %d %s", domain, status, body)
	}
	status, body, err = cl.do(ctx, "PUT", "/domains/"+domain+"/object-types/contact", []byte(contactType))
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("put object type: %d %s", status, body)
	}
	return nil
}

// runIngest sends c.objects PutProfileObject calls: objects offset+i, the
// first half each of a new person, the second half of the same persons.
func (c *benchConfig) runIngest(ctx context.Context, cl *benchClient) (benchResult, error) {
	if err := c.setupDomain(ctx, cl, c.domain); err != nil {
		return benchResult{}, err
	}
	var ack *ackWriter
	if c.ackFile != "" {
		f, err := os.OpenFile(c.ackFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return benchResult{}, err
		}
		ack = &ackWriter{w: bufio.NewWriter(f), f: f}
		defer ack.close()
	}
	half := c.objects / 2
	path := "/domains/" + c.domain + "/profiles/objects"
	r := c.loop(ctx, "ingest", c.objects, c.concurrency, func(ctx context.Context, k int) (int, error) {
		i := c.offset + k
		n := c.offset + k%half
		body, _ := json.Marshal(map[string]string{"ObjectTypeName": "contact", "Object": benchObject(i, n)})
		status, out, err := cl.do(ctx, "PUT", path, body)
		if err != nil {
			return 0, err
		}
		if status != 200 {
			return 0, fmt.Errorf("PutProfileObject: %d %s", status, out)
		}
		if ack != nil {
			var res struct{ ProfileObjectUniqueKey string }
			json.Unmarshal(out, &res)
			ack.add(i, n, res.ProfileObjectUniqueKey)
		}
		return 1, nil
	})
	return r, nil
}

// ackWriter records acknowledged objects, one "object person uniqueKey"
// line each.
type ackWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
	f  *os.File
}

func (a *ackWriter) add(i, n int, key string) {
	a.mu.Lock()
	fmt.Fprintf(a.w, "%d %d %s\n", i, n, key)
	a.mu.Unlock()
}

func (a *ackWriter) close() {
	a.w.Flush()
	a.f.Close()
}

// runSearch loads c.profiles profiles through the import endpoint, then
// searches them by email, phone and contactId in turn.
func (c *benchConfig) runSearch(ctx context.Context, cl *benchClient) (benchResult, error) {
	domain := c.domain + "-search"
	if err := c.setupDomain(ctx, cl, domain); err != nil {
		return benchResult{}, err
	}
	var load benchResult
	if !c.skipLoad {
		load = c.importObjects(ctx, cl, domain, c.profiles, c.profiles)
		if load.Errors > 0 {
			return benchResult{}, fmt.Errorf("loading %d profiles: %d import requests failed", c.profiles, load.Errors)
		}
	}
	path := "/domains/" + domain + "/profiles/search"
	var missing atomic.Int64
	r := c.loop(ctx, "search", c.searches, c.concurrency, func(ctx context.Context, k int) (int, error) {
		n := int(uint64(k)*2654435761) % c.profiles // spread over the profiles
		email, phone, id := benchPerson(n)
		var body string
		switch k % 3 {
		case 0:
			body = `{"KeyName":"_email","Values":["` + email + `"]}`
		case 1:
			body = `{"KeyName":"_phone","Values":["` + phone + `"]}`
		default:
			body = `{"KeyName":"contactId","Values":["` + id + `"]}`
		}
		status, out, err := cl.do(ctx, "POST", path, []byte(body))
		if err != nil {
			return 0, err
		}
		if status != 200 {
			return 0, fmt.Errorf("SearchProfiles: %d %s", status, out)
		}
		if !strings.Contains(string(out), `"ProfileId"`) {
			missing.Add(1)
		}
		return 1, nil
	})
	r.Note = fmt.Sprintf("%d profiles loaded through the import endpoint in %.1fs (%.0f/s); %d searches found nothing",
		c.profiles, load.Seconds, load.OpsPerSec, missing.Load())
	if c.skipLoad {
		r.Note = fmt.Sprintf("%d profiles loaded by an earlier run; %d searches found nothing", c.profiles, missing.Load())
	}
	if missing.Load() > 0 {
		r.Errors += int(missing.Load())
	}
	return r, nil
}

// runBatch sends ingest's objects, c.objects from offset, in
// BatchPutProfileObject calls of batchSize, into the domain NAME-batch.
func (c *benchConfig) runBatch(ctx context.Context, cl *benchClient) (benchResult, error) {
	domain := c.domain + "-batch"
	if err := c.setupDomain(ctx, cl, domain); err != nil {
		return benchResult{}, err
	}
	half := c.objects / 2
	path := "/domains/" + domain + "/profiles/objects/batch-put-profile-object"
	type item struct{ Id, Object string }
	calls := (c.objects + batchSize - 1) / batchSize
	r := c.loop(ctx, "batch", calls, c.concurrency, func(ctx context.Context, b int) (int, error) {
		var items []item
		for k := b * batchSize; k < min((b+1)*batchSize, c.objects); k++ {
			items = append(items, item{fmt.Sprint("item", len(items)), benchObject(c.offset+k, c.offset+k%half)})
		}
		body, _ := json.Marshal(map[string]any{"ObjectTypeName": "contact", "Items": items})
		status, out, err := cl.do(ctx, "PUT", path, body)
		if err != nil {
			return 0, err
		}
		var res struct{ Successful, Failed []json.RawMessage }
		if status != 200 || json.Unmarshal(out, &res) != nil || len(res.Failed) > 0 {
			return len(res.Successful), fmt.Errorf("BatchPutProfileObject: %d %.300s", status, out)
		}
		return len(res.Successful), nil
	})
	r.Note = fmt.Sprintf("%d objects a call, %d calls in flight; latencies are of one call", batchSize, c.concurrency)
	return r, nil
}

// runImport sends c.objects objects through the import endpoint.
func (c *benchConfig) runImport(ctx context.Context, cl *benchClient) (benchResult, error) {
	domain := c.domain + "-import"
	if err := c.setupDomain(ctx, cl, domain); err != nil {
		return benchResult{}, err
	}
	r := c.importObjects(ctx, cl, domain, c.objects, c.objects/2)
	r.Note = fmt.Sprintf("%d objects a request, %d requests in flight; latencies are of one request", importBatch, c.importConcurrency)
	return r, nil
}

// importObjects imports objects 0…count-1, object i of person i%persons,
// in requests of importBatch objects.
func (c *benchConfig) importObjects(ctx context.Context, cl *benchClient, domain string, count, persons int) benchResult {
	path := "/openprofiles/import/domains/" + domain + "/object-types/contact"
	batches := (count + importBatch - 1) / importBatch
	r := c.loop(ctx, "import", batches, c.importConcurrency, func(ctx context.Context, b int) (int, error) {
		var body strings.Builder
		lo, hi := b*importBatch, min((b+1)*importBatch, count)
		for i := lo; i < hi; i++ {
			body.WriteString(benchObject(i, i%persons))
			body.WriteByte('\n')
		}
		status, out, err := cl.do(ctx, "POST", path, []byte(body.String()))
		if err != nil {
			return 0, err
		}
		var res struct{ Ingested, Failed int }
		if status != 200 || json.Unmarshal(out, &res) != nil || res.Failed > 0 {
			return res.Ingested, fmt.Errorf("import: %d %.300s", status, out)
		}
		return res.Ingested, nil
	})
	return r
}

// loop runs op(0…n-1) from conc goroutines and measures each call. op
// returns how many operations the call did.
func (c *benchConfig) loop(ctx context.Context, name string, n, conc int, op func(context.Context, int) (int, error)) benchResult {
	var next atomic.Int64
	var ops, errs atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				t0 := time.Now()
				done, err := op(ctx, k)
				lat[k] = time.Since(t0)
				ops.Add(int64(done))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := benchResult{Scenario: name, Ops: int(ops.Load()), Errors: int(errs.Load()), Concurrency: conc,
		Seconds: round3(elapsed.Seconds()), OpsPerSec: math.Round(float64(ops.Load()) / elapsed.Seconds()),
		P50ms: percentile(lat, 0.50), P95ms: percentile(lat, 0.95), P99ms: percentile(lat, 0.99)}
	if e := firstErr.Load(); e != nil {
		r.Note = "first error: " + e.(string)
	}
	return r
}

// percentile returns the p-quantile of sorted durations, in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(math.Ceil(p*float64(len(sorted))))-1)
	return round3(float64(sorted[max(i, 0)].Microseconds()) / 1000)
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// benchDBPath is where a started server keeps its SQLite file.
func benchDBPath(dataDir string) string { return filepath.Join(dataDir, "openprofiles.db") }
