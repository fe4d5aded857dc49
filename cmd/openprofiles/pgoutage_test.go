package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/smithy-go"
	"github.com/jackc/pgx/v5"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// pgProxy is a TCP proxy in front of the test PostgreSQL server that a
// test cuts (every connection closed, new ones refused: a failover, a
// restart of the database, a network cut) and restores, without touching
// the shared server itself.
type pgProxy struct {
	target string // host:port of PostgreSQL
	ln     net.Listener

	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]struct{}
	flowing chan struct{} // closed while bytes flow; open while stalled
}

// mustPGProxy starts a proxy to the server of the URL dsn on 127.0.0.1 and
// returns it; it stops when tb ends.
func mustPGProxy(tb testing.TB, dsn string) *pgProxy {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &pgProxy{target: u.Host, ln: ln, conns: map[net.Conn]struct{}{}, flowing: make(chan struct{})}
	close(p.flowing)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.serve()
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
		p.restore()
		p.closeAll()
	})
	return p
}

// dsn returns dsn through the proxy, with the password pw (which the test
// server's trust authentication ignores, and which must never reach a
// client or a log).
func (p *pgProxy) dsn(tb testing.TB, dsn, pw string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close() // refused: the connection ends before PostgreSQL's first byte
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies from src to dst until either ends, then closes both; while
// the proxy is stalled, what it reads waits.
func (p *pgProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			flowing := p.flowing
			p.mu.Unlock()
			<-flowing
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut closes every connection and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	p.closeAll()
}

// stall stops forwarding bytes, on the connections open and on new ones,
// which it keeps open and accepts: the database, or the network to it,
// goes silent without closing anything (a partition, a frozen host), until
// restore.
func (p *pgProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default:
	}
}

// restore lets connections and bytes through again.
func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}

func (p *pgProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// outagePassword is the password of the proxied URL: no answer, health
// check or log line may show it.
const outagePassword = "outage-Pa55word-never-shown"

// outageEnv is a server on a fresh PostgreSQL database reached through a
// pgProxy, with a domain whose dead letters go to a built-in queue.
type outageEnv struct {
	*ingestEnv
	proxy *pgProxy
	logs  *syncBuffer
	dlq   string // the domain's queue URL
	raw   string // the database's URL, not through the proxy
	clock *offsetClock
}

// offsetClock is the real time moved forward by what add adds.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// storedObjects counts the rows of the objects table, read directly.
func (e *outageEnv) storedObjects() int {
	e.t.Helper()
	ctx := context.WithoutCancel(e.t.Context())
	conn, err := pgx.Connect(ctx, e.raw)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM objects`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func newOutageEnv(t *testing.T, edit ...func(*main.Config)) *outageEnv {
	t.Helper()
	dsn := mustPostgresDatabase(t)
	proxy := mustPGProxy(t, dsn)
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.Store = proxy.dsn(t, dsn, outagePassword)
	c.PGStatementTimeout = 5 * time.Second
	c.SweepInterval = 100 * time.Millisecond
	for _, e := range edit {
		e(&c)
	}
	logs := &syncBuffer{}
	clock := &offsetClock{}
	var level slog.Level // c.LogLevel, info unless an edit says otherwise
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		t.Fatal(err)
	}
	m := &main.Main{Config: c, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level})), Now: clock.Now}
	if err := m.Open(); err != nil {
		t.Fatalf("open main: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	e := &outageEnv{ingestEnv: &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "outage"}, proxy: proxy, logs: logs, raw: dsn, clock: clock}
	e.dlq = mustServiceQueue(t, m, "outage-dlq")
	if _, err := e.client.CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String(e.domain),
		DefaultExpirationDays: aws.Int32(30), DefaultEncryptionKey: aws.String(mustServiceKey(t, m)), DeadLetterQueueUrl: aws.String(e.dlq)}); err != nil {
		t.Fatal(err)
	}
	e.putType(contactType("contact"))
	return e
}

// outageBound is how long a call may take during an outage before the test
// calls it a hang: far above what the server needs (its pool's connect
// timeout), far below the minutes of a TCP timeout.
const outageBound = 30 * time.Second

// wantOutageError checks that err is the answer of a server whose database
// is away: a server error the AWS SDKs retry, whose message shows neither
// the database's URL nor its password.
func (e *outageEnv) wantOutageError(what string, err error) {
	e.t.Helper()
	if err == nil {
		e.t.Fatalf("%s during the outage succeeded", what)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e.t.Fatalf("%s during the outage hung for %v: %v", what, outageBound, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		e.t.Fatalf("%s: %v, want an API error", what, err)
	}
	switch ae.ErrorCode() {
	case "InternalServerException", "ServiceUnavailableException", "ThrottlingException":
	default:
		e.t.Fatalf("%s: error %s (%v), want InternalServerException, ServiceUnavailableException or ThrottlingException", what, ae.ErrorCode(), err)
	}
	if ae.ErrorCode() == "InternalServerException" && !strings.Contains(ae.ErrorMessage(), "cannot reach its database") {
		e.t.Fatalf("%s: message %q, want one saying the server cannot reach its database", what, ae.ErrorMessage())
	}
	if !retry.NewStandard().IsErrorRetryable(err) {
		e.t.Fatalf("%s: %v is not retried by the SDK's standard retryer", what, err)
	}
	e.noSecrets(what, ae.ErrorMessage())
}

// noSecrets fails if s shows the database's address, URL or password.
func (e *outageEnv) noSecrets(what, s string) {
	e.t.Helper()
	for _, secret := range []string{outagePassword, e.proxy.ln.Addr().String(), "postgres://"} {
		if strings.Contains(s, secret) {
			e.t.Fatalf("%s shows %q: %s", what, secret, s)
		}
	}
}

// healthz returns the status and body of GET /healthz.
func (e *outageEnv) healthz() (int, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), outageBound)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.m.URL()+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET /healthz: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// bounded returns a context that ends after outageBound.
func (e *outageEnv) bounded() context.Context {
	ctx, cancel := context.WithTimeout(e.t.Context(), outageBound)
	e.t.Cleanup(cancel)
	return ctx
}

// contact is the object of contact i of a test, with its email.
func outageContact(prefix string, i int) map[string]any {
	return map[string]any{"id": fmt.Sprintf("%s-%d", prefix, i), "email": fmt.Sprintf("%s%d@example.com", prefix, i),
		"name": map[string]any{"first": fmt.Sprintf("First%d", i)}}
}

// importObjects posts objects to the import endpoint and returns the
// status and body of the answer.
func (e *outageEnv) importObjects(objs ...map[string]any) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	for _, o := range objs {
		b, _ := json.Marshal(o)
		body.Write(b)
		body.WriteByte('\n')
	}
	req := mustSignedRequest(e.t, e.m, http.MethodPost, "/openprofiles/import/domains/"+e.domain+"/object-types/contact", body.Bytes(), signOpts{})
	ctx, cancel := context.WithTimeout(e.t.Context(), outageBound)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		e.t.Fatalf("import: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestPostgresOutage_CutAndRestore cuts the server's connections to
// PostgreSQL, and restores them: during the cut every call fails at once
// with a server error the SDKs retry, naming neither the database nor its
// password, /healthz says 503, an import's objects go to the dead-letter
// spool, and the process stays up; after the restore the next call
// succeeds without a restart, nothing acknowledged before the cut is
// lost, and the background work (the spool's delivery into the queue)
// resumes by itself.
func TestPostgresOutage_CutAndRestore(t *testing.T) {
	e := newOutageEnv(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	const before = 20
	e.burst("before", before) // the pools hold several connections each
	if status, body := e.healthz(); status != http.StatusOK {
		t.Fatalf("healthz before the cut: %d %s", status, body)
	}
	goroutines := runtime.NumGoroutine()

	e.proxy.cut()
	for i := range 3 { // the pool's connections were cut: each call meets the outage
		_, err := e.client.PutProfileObject(e.bounded(), &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("contact"), Object: aws.String(`{"id":"during-` + fmt.Sprint(i) + `","email":"during@example.com"}`)})
		e.wantOutageError("PutProfileObject", err)
	}
	_, err := e.client.SearchProfiles(e.bounded(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain),
		KeyName: aws.String("_email"), Values: []string{"before1@example.com"}})
	e.wantOutageError("SearchProfiles", err)
	_, err = e.client.ListDomains(e.bounded(), &customerprofiles.ListDomainsInput{})
	e.wantOutageError("ListDomains", err)
	_, err = e.client.GetDomain(e.bounded(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	e.wantOutageError("GetDomain", err)
	status, body := e.healthz()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("healthz during the cut: %d %s, want 503", status, body)
	}
	e.noSecrets("healthz", body)

	// An import during the cut: its objects go to the dead-letter queue
	// (its spool, the queue being in the database), or it is refused whole
	// and may be sent again.
	status, body = e.importObjects(outageContact("imported", 0), outageContact("imported", 1))
	e.noSecrets("import", body)
	spooled := status == http.StatusOK
	if spooled && !strings.Contains(body, `"Failed":2`) {
		t.Fatalf("import during the cut: %d %s, want 2 objects failed", status, body)
	} else if !spooled && status < 500 {
		t.Fatalf("import during the cut: %d %s, want a server error or 200", status, body)
	}

	e.proxy.restore()
	// The next calls succeed, at once and many at a time: no restart, no
	// call lost to a dead connection of the pools.
	e.burst("after", 16)
	for i := range before {
		p := e.mustOne("_email", fmt.Sprintf("before%d@example.com", i))
		if got := aws.ToString(p.FirstName); got != fmt.Sprintf("First%d", i) {
			t.Fatalf("profile %d after the restore: FirstName %q", i, got)
		}
	}
	if status, body := e.healthz(); status != http.StatusOK {
		t.Fatalf("healthz after the restore: %d %s", status, body)
	}
	if spooled {
		// The sweep delivers the spooled letters into the queue.
		q := MustSQSClient(t, e.m.URL())
		var letters []string
		e.waitFor("the spooled dead letters in the queue", func() bool {
			letters = append(letters, receiveAll(t, q, e.dlq)...)
			return len(letters) >= 2
		})
		for _, l := range letters {
			if !strings.Contains(l, "imported") {
				t.Fatalf("dead letter %s: not an imported object", l)
			}
		}
	}
	// The expiry sweep, which failed during the cut, runs again: once
	// every object has expired, it deletes them.
	if n := e.storedObjects(); n < before+16 {
		t.Fatalf("%d objects stored", n)
	}
	e.clock.add(31 * 24 * time.Hour)
	e.waitFor("the expiry sweep to delete the expired objects", func() bool { return e.storedObjects() == 0 })
	// The log names the database's host and user, for the operator, but
	// neither its password nor its URL.
	for _, secret := range []string{outagePassword, "postgres://"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("the server's log shows %q", secret)
		}
	}
	if n := runtime.NumGoroutine(); n > goroutines+20 {
		t.Fatalf("%d goroutines after the outage, %d before", n, goroutines)
	}
}

// TestPostgresOutage_QuietLog cuts the database for a while (about 25
// sweeps of every background loop, 10 /healthz probes) and restores it.
// Each loop (and the health check) logs its first failure at ERROR, and a
// failure like one before (the same message but for numbers, such as a
// connection's local port) at DEBUG only (before, each sweep of each loop
// and each probe logged an ERROR line); a failure that differs is logged
// at ERROR. Once the database is back, each loop that
// failed logs one INFO "recovered" line.
func TestPostgresOutage_QuietLog(t *testing.T) {
	e := newOutageEnv(t, func(c *main.Config) { c.LogLevel = "debug" })
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	if status, body := e.healthz(); status != http.StatusOK {
		t.Fatalf("healthz before the cut: %d %s", status, body)
	}
	type record struct {
		Level, Msg, Err, Loop, Domain string
		Failed                        int `json:"failed_runs"`
	}
	since := func(offset int) []record {
		var out []record
		for _, line := range strings.Split(e.logs.String()[offset:], "\n") {
			var r record
			if json.Unmarshal([]byte(line), &r) == nil {
				out = append(out, r)
			}
		}
		return out
	}

	atCut := len(e.logs.String())
	e.proxy.cut()
	for range 10 {
		if status, body := e.healthz(); status != http.StatusServiceUnavailable {
			t.Fatalf("healthz during the cut: %d %s, want 503", status, body)
		}
		time.Sleep(250 * time.Millisecond) // 2.5 sweeps
	}
	atRestore := len(e.logs.String())
	errorsOf := map[string][]string{} // by loop (message and domain): the errors at ERROR
	repeats := map[string]int{}       // by loop: the lines at DEBUG
	for _, r := range since(atCut) {
		if r.Msg == "request failed" || r.Err == "" {
			continue
		}
		loop := r.Msg + " " + r.Domain
		switch r.Level {
		case "ERROR":
			// Alike: the same but for numbers (a connection's local port).
			kind := regexp.MustCompile(`[0-9]+`).ReplaceAllString(r.Err, "#")
			if slices.Contains(errorsOf[loop], kind) {
				t.Errorf("%q logged a failure like one before at ERROR again: %s", loop, r.Err)
			}
			errorsOf[loop] = append(errorsOf[loop], kind)
		case "DEBUG":
			repeats[loop]++
		}
	}
	for _, loop := range []string{"health check failed ", "sweep expired objects ", "event streams: delivery ", "identity resolution "} {
		if n := len(errorsOf[loop]); n == 0 || n > 5 {
			t.Errorf("%q: %d ERROR lines during the cut (%q), want 1 to 5: its first failure, and one each different kind of failure (a connection reset, cut short, refused)", loop, n, errorsOf[loop])
		}
	}
	for _, loop := range []string{"health check failed ", "sweep expired objects "} {
		if repeats[loop] < 5 {
			t.Errorf("%q: %d DEBUG lines during the cut, want one a repeated failure (10 probes, about 25 sweeps)", loop, repeats[loop])
		}
	}
	total := 0
	for _, errs := range errorsOf {
		total += len(errs)
	}
	t.Logf("during the cut: %d ERROR lines of %d loops; DEBUG lines by loop %v", total, len(errorsOf), repeats)
	if total > 5*len(errorsOf) || len(errorsOf) > 20 {
		t.Errorf("%d ERROR lines of %d loops during the cut: %v", total, len(errorsOf), errorsOf)
	}

	e.proxy.restore()
	e.waitFor("/healthz to answer 200", func() bool { status, _ := e.healthz(); return status == http.StatusOK })
	recovered := func() map[string][]int { // by loop: the failed runs of each recovered line
		out := map[string][]int{}
		for _, r := range since(atRestore) {
			if r.Msg == "recovered" && r.Level == "INFO" {
				out[r.Loop] = append(out[r.Loop], r.Failed)
			}
		}
		return out
	}
	e.waitFor("the loops' recovered lines", func() bool {
		r := recovered()
		return len(r["health check"]) > 0 && len(r["sweep expired objects"]) > 0 && len(r["identity resolution"]) > 0
	})
	// More probes and sweeps, which succeed: no more recovered lines.
	for range 3 {
		e.healthz()
		time.Sleep(150 * time.Millisecond)
	}
	for loop, runs := range recovered() {
		if len(runs) != 1 || runs[0] < 1 {
			t.Errorf("%q: recovered lines with %v failed runs, want one line", loop, runs)
		}
	}
	if runs := recovered()["health check"]; len(runs) != 1 || runs[0] < 10 {
		t.Errorf("the health check recovered after %v failed runs, want once after the 10 probes", runs)
	}
}

// burst puts n contacts and searches each, 8 at a time, each call with
// a single attempt: every call must succeed.
func (e *outageEnv) burst(prefix string, n int) {
	e.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b, _ := json.Marshal(outageContact(prefix, i))
			if _, err := e.client.PutProfileObject(e.bounded(), &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain),
				ObjectTypeName: aws.String("contact"), Object: aws.String(string(b))}); err != nil {
				errs <- fmt.Errorf("PutProfileObject %s %d: %w", prefix, i, err)
				return
			}
			out, err := e.client.SearchProfiles(e.bounded(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain),
				KeyName: aws.String("_email"), Values: []string{fmt.Sprintf("%s%d@example.com", prefix, i)}})
			if err != nil {
				errs <- fmt.Errorf("SearchProfiles %s %d: %w", prefix, i, err)
			} else if len(out.Items) != 1 {
				errs <- fmt.Errorf("SearchProfiles %s %d: %d profiles", prefix, i, len(out.Items))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
	if e.t.Failed() {
		e.t.FailNow()
	}
}

// TestPostgresOutage_RestartBetweenCalls cuts every connection of the
// server to PostgreSQL and lets new ones through again at once, between
// two calls, as a quick restart or failover of the database does while the
// server is idle: the calls that follow succeed, many at a time, on new
// connections.
func TestPostgresOutage_RestartBetweenCalls(t *testing.T) {
	e := newOutageEnv(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	for round := range 3 {
		e.burst(fmt.Sprintf("round%d-", round), 16)
		e.proxy.cut()
		e.proxy.restore()
		// A single statement first (no transaction to begin again): the
		// pool hands out no connection the database closed.
		if _, err := e.client.ListDomains(e.bounded(), &customerprofiles.ListDomainsInput{}); err != nil {
			t.Fatalf("ListDomains after the restart: %v", err)
		}
	}
	e.burst("last", 16)
}

// TestPostgresOutage_DatabaseGoesSilent stalls the connections to
// PostgreSQL without closing them, old and new alike (a network partition
// that drops packets, a frozen host): calls fail after about the statement
// timeout (--pg-statement-timeout, here 1s, and a margin of 2s), not after
// the minutes the operating system takes to give up on a TCP connection;
// /healthz says 503; after the restore the next calls succeed.
func TestPostgresOutage_DatabaseGoesSilent(t *testing.T) {
	e := newOutageEnv(t, func(c *main.Config) { c.PGStatementTimeout = time.Second })
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	e.burst("before", 16)

	e.proxy.stall()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		_, errs[0] = e.client.PutProfileObject(e.bounded(), &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain),
			ObjectTypeName: aws.String("contact"), Object: aws.String(`{"id":"silent","email":"silent@example.com"}`)})
	})
	wg.Go(func() {
		_, errs[1] = e.client.SearchProfiles(e.bounded(), &customerprofiles.SearchProfilesInput{DomainName: aws.String(e.domain),
			KeyName: aws.String("_email"), Values: []string{"before1@example.com"}})
	})
	wg.Go(func() {
		_, errs[2] = e.client.ListDomains(e.bounded(), &customerprofiles.ListDomainsInput{})
	})
	wg.Wait()
	for i, what := range []string{"PutProfileObject", "SearchProfiles", "ListDomains"} {
		e.wantOutageError(what, errs[i])
	}
	if status, body := e.healthz(); status != http.StatusServiceUnavailable {
		t.Fatalf("healthz while the database is silent: %d %s, want 503", status, body)
	}
	time.Sleep(1500 * time.Millisecond) // the pools' connections idle for more than a second: pinged before use
	_, err := e.client.GetDomain(e.bounded(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	e.wantOutageError("GetDomain", err)

	e.proxy.restore()
	e.burst("after", 16)
}

// TestPostgresOutage_IngestionAtTheCut cuts PostgreSQL while
// PutProfileObject, BatchPutProfileObject and imports run, many at a time,
// and restores it: every object acknowledged is there afterwards, every
// object an import could not ingest reaches the dead-letter queue once
// the database is back (from the spool), and nothing is half-written: no
// object without its keys, no profile without its object.
func TestPostgresOutage_IngestionAtTheCut(t *testing.T) {
	e := newOutageEnv(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	var (
		mu       sync.Mutex
		acked    []string // emails of acknowledged objects
		refused  int
		failedIn int // objects an import answered as failed: dead letters
	)
	ack := func(email string) {
		mu.Lock()
		acked = append(acked, email)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	ctx := context.WithoutCancel(t.Context())
	for w := range 4 { // single puts
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := outageContact(fmt.Sprintf("put%d-", w), i)
				b, _ := json.Marshal(o)
				cctx, cancel := context.WithTimeout(ctx, outageBound)
				_, err := e.client.PutProfileObject(cctx, &customerprofiles.PutProfileObjectInput{DomainName: aws.String(e.domain),
					ObjectTypeName: aws.String("contact"), Object: aws.String(string(b))})
				cancel()
				if err == nil {
					ack(o["email"].(string))
				} else {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() { // batches of 50
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			var items []types.BatchPutProfileObjectRequestItem
			for i := range 50 {
				items = append(items, batchItem(fmt.Sprint(i), outageContact(fmt.Sprintf("batch%d-", n), i)))
			}
			cctx, cancel := context.WithTimeout(ctx, outageBound)
			out, err := e.client.BatchPutProfileObject(cctx, &customerprofiles.BatchPutProfileObjectInput{DomainName: aws.String(e.domain),
				ObjectTypeName: aws.String("contact"), Items: items})
			cancel()
			if err != nil {
				continue
			}
			for _, s := range out.Successful {
				ack(fmt.Sprintf("batch%d-%s@example.com", n, aws.ToString(s.Id)))
			}
		}
	})
	wg.Go(func() { // imports of 100
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			var objs []map[string]any
			for i := range 100 {
				objs = append(objs, outageContact(fmt.Sprintf("import%d-", n), i))
			}
			status, body := e.importObjects(objs...)
			if status != http.StatusOK {
				continue // refused whole: the client sends it again
			}
			var res struct {
				Failed   int
				Failures []struct{ Index int }
			}
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Errorf("import answer %s: %v", body, err)
				return
			}
			failed := map[int]bool{}
			for _, f := range res.Failures {
				failed[f.Index] = true
			}
			if res.Failed != len(res.Failures) {
				t.Errorf("import: %d failed, %d failures listed", res.Failed, len(res.Failures))
				return
			}
			mu.Lock()
			failedIn += res.Failed
			mu.Unlock()
			for i := range 100 {
				if !failed[i] {
					ack(fmt.Sprintf("import%d-%d@example.com", n, i))
				}
			}
		}
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	e.waitFor("ingestion under way", func() bool { return count() > 200 })
	e.proxy.cut()
	time.Sleep(300 * time.Millisecond)
	e.proxy.restore()
	n := count()
	e.waitFor("ingestion after the restore", func() bool { return count() > n+200 })
	close(stop)
	wg.Wait()
	if refused == 0 && failedIn == 0 {
		t.Log("no call met the cut") // still checked below
	}

	// Every acknowledged object is there, with its profile.
	for _, email := range acked {
		if ps := e.search("_email", email); len(ps) != 1 {
			t.Fatalf("acknowledged object of %s: %d profiles after the restore", email, len(ps))
		}
	}
	// What imports could not ingest is in the dead-letter queue.
	q := MustSQSClient(t, e.m.URL())
	var letters []string
	e.waitFor(fmt.Sprintf("%d dead letters", failedIn), func() bool {
		letters = append(letters, receiveAll(t, q, e.dlq)...)
		return len(letters) >= failedIn
	})
	// Nothing is half-written.
	conn, err := pgx.Connect(ctx, e.raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, c := range []struct{ what, query string }{
		{"objects without both their keys", `SELECT count(*) FROM objects o WHERE (SELECT count(*) FROM keys k
			WHERE k.domain = o.domain AND k.origin = o.object_type AND k.object_key = o.unique_key) < 2`},
		{"profiles without an object", `SELECT count(*) FROM profiles p WHERE NOT EXISTS (SELECT 1 FROM objects o
			WHERE o.domain = p.domain AND o.profile_id = p.id)`},
	} {
		var bad int
		if err := conn.QueryRow(ctx, c.query).Scan(&bad); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		} else if bad != 0 {
			t.Fatalf("%d %s", bad, c.what)
		}
	}
	var objects int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM objects`).Scan(&objects); err != nil {
		t.Fatal(err)
	} else if objects < len(acked) {
		t.Fatalf("%d objects stored, %d acknowledged", objects, len(acked))
	}
	t.Logf("%d objects acknowledged, %d calls refused, %d dead letters", len(acked), refused, failedIn)
}

// TestPostgresOutage_ImportAtTheCut cuts PostgreSQL in the middle of a
// large import and restores it: the objects the import answers as
// ingested are there, and each it answers as failed reaches the domain's
// dead-letter queue once the database is back. The letters cannot go to
// the queue during the cut (the built-in queue is in the database, and so
// is the domain that names it): they wait in the spool, and the sweep
// delivers them.
func TestPostgresOutage_ImportAtTheCut(t *testing.T) {
	e := newOutageEnv(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	ctx := context.WithoutCancel(t.Context())
	conn, err := pgx.Connect(ctx, e.raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stored := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM objects`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const size = 1000
	var res struct {
		Ingested, Failed int
		Failures         []struct{ Index int }
	}
	// The cut must fall inside an import: one that finished first is
	// sent again, as another.
	for round := 0; res.Failed == 0; round++ {
		if round == 3 {
			t.Fatalf("3 imports of %d objects finished before the cut", size)
		}
		var objs []map[string]any
		for i := range size {
			objs = append(objs, outageContact(fmt.Sprintf("import%d-", round), i))
		}
		before := stored()
		done := make(chan struct{})
		var status int
		var body string
		go func() {
			defer close(done)
			status, body = e.importObjects(objs...)
		}()
		for stored() < before+size/2 {
			time.Sleep(5 * time.Millisecond)
		}
		e.proxy.cut()
		<-done
		e.proxy.restore()
		if status != http.StatusOK {
			t.Fatalf("import: %d %s, want 200: its objects were being ingested", status, body)
		}
		e.noSecrets("import", body)
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		if res.Ingested+res.Failed != size {
			t.Fatalf("import: %d ingested and %d failed of %d", res.Ingested, res.Failed, size)
		}
		if res.Failed == 0 {
			continue
		}
		// The answer lists the first 100 failures: the objects before
		// the last listed are known, those after it are either.
		failed := map[int]bool{}
		known := size
		for _, f := range res.Failures {
			failed[f.Index] = true
		}
		if res.Failed > len(res.Failures) {
			known = res.Failures[len(res.Failures)-1].Index
		}
		q := MustSQSClient(t, e.m.URL())
		var letters []string
		e.waitFor(fmt.Sprintf("%d dead letters", res.Failed), func() bool {
			letters = append(letters, receiveAll(t, q, e.dlq)...)
			return len(letters) >= res.Failed
		})
		if len(letters) != res.Failed {
			t.Fatalf("%d dead letters, %d objects failed", len(letters), res.Failed)
		}
		lettered := map[string]bool{}
		for _, l := range letters {
			var dl struct{ Object string }
			if err := json.Unmarshal([]byte(l), &dl); err != nil {
				t.Fatal(err)
			}
			var o struct{ Email string }
			json.Unmarshal([]byte(dl.Object), &o)
			lettered[o.Email] = true
		}
		for i := range size {
			email := fmt.Sprintf("import%d-%d@example.com", round, i)
			if i < known && failed[i] != lettered[email] {
				t.Fatalf("object %d: failed %v, in the dead-letter queue %v", i, failed[i], lettered[email])
			}
			if i%10 != 0 || lettered[email] {
				continue
			}
			if ps := e.search("_email", email); len(ps) != 1 {
				t.Fatalf("object %d, answered as ingested: %d profiles", i, len(ps))
			}
		}
		t.Logf("%d ingested, %d dead letters", res.Ingested, res.Failed)
	}
}
