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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
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
	m := &main.Main{Config: c, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if err := m.Open(); err != nil {
		t.Fatalf("open main: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	e := &outageEnv{ingestEnv: &ingestEnv{t: t, m: m, client: MustClient(t, m), domain: "outage"}, proxy: proxy, logs: logs, raw: dsn}
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

var _ = pgx.Connect
