package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

func TestRestartKeepsEverything(t *testing.T) {
	c := main.DefaultConfig()
	c.Addr, c.DataDir = "127.0.0.1:0", t.TempDir()
	c.AccessKeyID, c.SecretAccessKey = testKeyID, testSecret

	m := MustOpenMain(t, c)
	in := fullCreateInput(t, m, "keep")
	if _, err := MustClient(t, m).CreateDomain(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	before, err := MustClient(t, m).GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: in.DomainName})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	m2 := MustOpenMain(t, c)
	after, err := MustClient(t, m2).GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: in.DomainName})
	if err != nil {
		t.Fatalf("GetDomain after restart: %v", err)
	}
	if fmt.Sprintf("%+v", derefAll(after)) != fmt.Sprintf("%+v", derefAll(before)) {
		t.Fatalf("domain changed across restart:\nbefore %+v\nafter  %+v", derefAll(before), derefAll(after))
	}
}

// derefAll renders a GetDomain output with its pointers followed.
func derefAll(o *customerprofiles.GetDomainOutput) string {
	return fmt.Sprintf("%s %d %s %s %v %v %v %v %v %v", aws.ToString(o.DomainName), aws.ToInt32(o.DefaultExpirationDays),
		aws.ToString(o.DefaultEncryptionKey), aws.ToString(o.DeadLetterQueueUrl), o.Tags, o.CreatedAt.UnixMilli(), o.LastUpdatedAt.UnixMilli(),
		*o.Matching.AutoMerging.MinAllowedConfidenceScoreForMerging, o.RuleBasedMatching.MatchingRules, *o.DataStore.Enabled)
}

func TestGeneratedCredentials(t *testing.T) {
	c := main.DefaultConfig()
	c.Addr, c.DataDir = "127.0.0.1:0", t.TempDir()
	c = withTestStore(t, c)
	var out bytes.Buffer
	m := &main.Main{Config: c, Stdout: &out}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.DataDir, "credentials")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("credentials file: %v", err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("credentials mode %v, want %v", got, want)
	}
	if !strings.Contains(out.String(), "AWS_SHARED_CREDENTIALS_FILE="+path) || !strings.Contains(out.String(), "--endpoint-url") {
		t.Errorf("first start did not say how to use the credentials:\n%s", out.String())
	}
	content, _ := os.ReadFile(path)
	if strings.Contains(out.String(), secretOf(string(content))) {
		t.Errorf("the secret was printed")
	}

	// The generated file works as an AWS shared credentials file.
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "openprofiles")
	var stdout bytes.Buffer
	err = main.Run(t.Context(), []string{"domains", "list", "--endpoint", m.URL()}, nil, &stdout, io.Discard, os.Getenv)
	if err != nil {
		t.Fatalf("domains list with the generated credentials: %v", err)
	}
	if got := strings.Join(strings.Fields(stdout.String()), ""); got != `{"Items":[]}` {
		t.Errorf("domains list printed %q", got)
	}
	m.Close()

	// A second start reuses them and prints nothing.
	out.Reset()
	m = &main.Main{Config: c, Stdout: &out}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if out.Len() != 0 {
		t.Errorf("second start printed %q", out.String())
	}
	content2, _ := os.ReadFile(path)
	if !bytes.Equal(content, content2) {
		t.Errorf("credentials changed on the second start")
	}
}

func secretOf(content string) string {
	for _, line := range strings.Split(content, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "aws_secret_access_key" {
			return strings.TrimSpace(v)
		}
	}
	return "no secret in file"
}

// TestServe runs the serve subcommand as a user does, and stops it as
// SIGINT does (by cancelling its context): the request in flight finishes.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	env := map[string]string{
		"OPENPROFILES_ADDR":              addr,
		"OPENPROFILES_DATA_DIR":          dir,
		"OPENPROFILES_ACCESS_KEY_ID":     testKeyID,
		"OPENPROFILES_SECRET_ACCESS_KEY": testSecret,
		"OPENPROFILES_STORE":             testStore(t, dir),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- main.Run(ctx, []string{"serve"}, nil, io.Discard, &logs, func(k string) string { return env[k] })
	}()
	waitHealthy(t, "http://"+addr)

	client := customerprofiles.New(customerprofiles.Options{
		BaseEndpoint: aws.String("http://" + addr), Region: testRegion,
		Credentials: staticCreds(), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(nil),
	})
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("served"), DefaultExpirationDays: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}

	// Start a signed request whose body arrives slowly, then stop the server
	// while it is in flight: it must still be served. The request says
	// "Expect: 100-continue": the server's "100 Continue" tells that its
	// handler is reading the body, and the server stops only then. The body
	// is sent once the server no longer accepts connections (it is
	// stopping).
	body := []byte(`{"DefaultExpirationDays": 9}`)
	req := mustSignedRequestTo(t, "http://"+addr, "PUT", "/domains/served", body, signOpts{})
	pr, pw := io.Pipe()
	req.Body, req.ContentLength = pr, int64(len(body))
	req.Header.Set("Expect", "100-continue")
	continued := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{Got100Continue: func() { close(continued) }}))
	inFlight := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	var wg sync.WaitGroup
	var status int
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := inFlight.Do(req)
		if err != nil {
			t.Errorf("in-flight request: %v", err)
			return
		}
		status = resp.StatusCode
		resp.Body.Close()
	}()
	select {
	case <-continued:
	case <-time.After(30 * time.Second):
		t.Fatal("no 100 Continue within 30 s: the server does not read the request's body")
	}
	cancel()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break // the listener is closed: the server is stopping
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 30 s after its context was cancelled")
		}
	}
	pw.Write(body)
	pw.Close()
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if status != 200 {
		t.Errorf("in-flight request got status %d, want 200 (drained)", status)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("server still answers after shutdown")
	}

	// Logs: one JSON line per request, with no secret in them.
	l := logs.String()
	if !strings.Contains(l, `"operation":"CreateDomain"`) || !strings.Contains(l, `"principal":"arn:aws:iam::000000000000:root"`) || !strings.Contains(l, `"latency_ms"`) {
		t.Errorf("no request log line for CreateDomain:\n%s", l)
	}
	if strings.Contains(l, testSecret) {
		t.Errorf("logs contain the secret")
	}

	// The store was closed cleanly: a new server opens the same data dir.
	m2 := MustOpenMain(t, func() main.Config {
		c := main.DefaultConfig()
		c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", dir, testKeyID, testSecret
		return c
	}())
	if _, err := MustClient(t, m2).GetDomain(t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String("served")}); err != nil {
		t.Fatalf("domain after restart: %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if err := main.Run(t.Context(), []string{"version"}, nil, &out, &errb, os.Getenv); err != nil || !strings.HasPrefix(out.String(), "openprofiles ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	out.Reset()
	err := main.Run(t.Context(), []string{"serve", "--help"}, nil, &out, &errb, func(string) string { return "" })
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("serve --help: err=%v", err)
	}
	for _, f := range []string{"-addr", "-data-dir", "-region", "-account-id", "OPENPROFILES_ADDR", "OPENPROFILES_DATA_DIR", "OPENPROFILES_REGION", "OPENPROFILES_ACCOUNT_ID", "127.0.0.1:8720", "./openprofiles-data", "us-east-1", "000000000000"} {
		if !strings.Contains(errb.String(), f) {
			t.Errorf("serve --help does not document %s", f)
		}
	}
	bad := []struct {
		env  map[string]string
		word string
	}{
		{map[string]string{"OPENPROFILES_ACCOUNT_ID": "12"}, "account-id"},
		{map[string]string{"OPENPROFILES_REGION": "mars"}, "region"},
		{map[string]string{"OPENPROFILES_ACCESS_KEY_ID": "AK"}, "OPENPROFILES_SECRET_ACCESS_KEY"},
		{map[string]string{"OPENPROFILES_MAX_DOMAINS": "lots"}, "OPENPROFILES_MAX_DOMAINS"},
		{map[string]string{"OPENPROFILES_STORE": "mysql://db/profiles"}, "--store"},
		{map[string]string{"OPENPROFILES_PG_MAX_CONNS": "many"}, "OPENPROFILES_PG_MAX_CONNS"},
	}
	for _, b := range bad {
		b.env["OPENPROFILES_DATA_DIR"] = t.TempDir()
		err := main.Run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0"}, nil, io.Discard, io.Discard, func(k string) string { return b.env[k] })
		if err == nil || !strings.Contains(err.Error(), b.word) {
			t.Errorf("serve with %v: err=%v, want one naming %s", b.env, err, b.word)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("server at %s not healthy within 30 s", url)
}

// TestDomainsCommand_Help: `openprofiles domains --help` (as the main usage
// says to run a command) prints the usage on stdout and succeeds, as the
// other commands' help does; an unknown verb is named, without a request.
func TestDomainsCommand_Help(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var stdout, stderr bytes.Buffer
		err := main.Run(t.Context(), []string{"domains", arg}, nil, &stdout, &stderr, func(string) string { return "" })
		if err != nil || !strings.Contains(stdout.String(), "openprofiles domains list") {
			t.Errorf("domains %s: %v, stdout %q, stderr %q; want the usage and no error", arg, err, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	err := main.Run(t.Context(), []string{"domains", "lsit", "--endpoint", "http://127.0.0.1:1"}, nil, &stdout, &stderr, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), `unknown verb "lsit"`) {
		t.Errorf("domains lsit: %v; want an error naming the verb", err)
	}
}

// TestServeHelp_MatchesREADME: the README's configuration table and
// `openprofiles serve --help` name the same flags, and the help names every
// environment variable the table lists, so that the README's "serve --help
// lists these" stays true.
func TestServeHelp_MatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	flagRE := regexp.MustCompile("`--([a-z0-9-]+)`")
	envRE := regexp.MustCompile(`\bOPENPROFILES_[A-Z0-9_]+`)
	documented := map[string]bool{}
	var envs []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| flag") {
			continue
		}
		for _, m := range flagRE.FindAllStringSubmatch(cells[1], -1) {
			documented[m[1]] = true
		}
		envs = append(envs, envRE.FindAllString(cells[2], -1)...)
	}
	if len(documented) < 20 || len(envs) < 20 {
		t.Fatalf("read %d flags and %d variables from the README's table: want its rows", len(documented), len(envs))
	}

	var stdout, stderr bytes.Buffer
	if err := main.Run(t.Context(), []string{"serve", "--help"}, nil, &stdout, &stderr, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve --help: %v", err)
	}
	help := stderr.String()
	inHelp := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(help, -1) {
		inHelp[m[1]] = true
	}
	for f := range documented {
		if !inHelp[f] {
			t.Errorf("README documents --%s, which serve --help does not list", f)
		}
	}
	for f := range inHelp {
		if !documented[f] {
			t.Errorf("serve --help lists --%s, which the README's configuration table does not document", f)
		}
	}
	for _, e := range envs {
		if !strings.Contains(help, e) {
			t.Errorf("README documents %s, which serve --help does not name", e)
		}
	}
	// --s3-endpoint serves integration workflows too (README: "none (no
	// segment snapshots, no workflows)").
	if _, s3, _ := strings.Cut(help, "  -s3-endpoint"); !strings.Contains(strings.SplitN(s3, "\n  -", 2)[0], "workflows") {
		t.Errorf("serve --help: --s3-endpoint does not say integration workflows need it:%s", strings.SplitN(s3, "\n  -", 2)[0])
	}
}

// TestHelpExitStatus runs the built binary: every command's --help exits
// 0 (the usage was asked for), a command line without its verb exits 2
// with the usage, as flag's convention has it.
func TestHelpExitStatus(t *testing.T) {
	bin := mustBuildBinary(t)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"serve", "--help"}, 0},
		{[]string{"dlq", "--help"}, 0},
		{[]string{"dlq", "list", "-h"}, 0},
		{[]string{"bench", "--help"}, 0},
		{[]string{"import", "--help"}, 0},
		{[]string{"domains", "--help"}, 0},
		{[]string{"iam", "--help"}, 0},
		{[]string{"instances", "--help"}, 0},
		{[]string{"contacts", "--help"}, 0},
		{[]string{"backup", "--help"}, 0},
		{[]string{"restore", "--help"}, 0},
		{nil, 2},
		{[]string{"dlq"}, 2},
		{[]string{"iam"}, 2},
	} {
		cmd := exec.CommandContext(t.Context(), bin, tc.args...)
		cmd.Env = append(os.Environ(), "OPENPROFILES_ENDPOINT=http://127.0.0.1:1")
		out, err := cmd.CombinedOutput()
		got := 0
		if ee, ok := err.(*exec.ExitError); ok {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got != tc.want {
			t.Errorf("openprofiles %s: exit status %d, want %d\n%s", strings.Join(tc.args, " "), got, tc.want, out)
		}
		if !strings.Contains(string(out), "Usage") && !strings.Contains(string(out), "usage") {
			t.Errorf("openprofiles %s: no usage printed:\n%s", strings.Join(tc.args, " "), out)
		}
	}
}

// TestServe_PortInUse starts `openprofiles serve` on an address another
// process listens on, as an upgrade that starts the new version before
// the old one stopped does. It fails naming the address, before it
// touches the data dir: the database of the server still running there is
// not migrated (which would make that server step aside), and a data dir
// that did not exist is not made. A --store it does not know is refused
// before the data dir too.
func TestServe_PortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	// A data dir whose database lacks the last migration, as one of the
	// previous version has.
	dir := t.TempDir()
	MustRunMain(t, func(c *main.Config) { c.DataDir, c.Store = dir, "sqlite" }).Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "openprofiles.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var latest int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, latest); err != nil {
		t.Fatal(err)
	}

	fresh := filepath.Join(t.TempDir(), "new-data-dir")
	for _, dataDir := range []string{dir, fresh} {
		// The API's address taken, or the profiler's (--debug-addr).
		for _, addrs := range [][]string{{"--addr", addr}, {"--addr", "127.0.0.1:0", "--debug-addr", addr}} {
			env := map[string]string{"OPENPROFILES_ACCESS_KEY_ID": testKeyID, "OPENPROFILES_SECRET_ACCESS_KEY": testSecret}
			var stderr bytes.Buffer
			err := main.Run(t.Context(), append([]string{"serve", "--data-dir", dataDir, "--store", "sqlite"}, addrs...), nil, io.Discard, &stderr,
				func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), "listen") || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "address already in use") {
				t.Errorf("serve %v on a taken address (data dir %s): err %v, want it to name the address in use", addrs, dataDir, err)
			}
			if strings.Contains(stderr.String(), "applied migration") {
				t.Errorf("serve %v on a taken address migrated the database:\n%s", addrs, stderr.String())
			}
		}
	}
	var current int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != latest-1 {
		t.Errorf("schema version %d after the failed start, want %d as before", current, latest-1)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed start made the data dir %s (stat: %v)", fresh, err)
	}

	err = main.Run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", fresh, "--store", "mysql://db/profiles"}, nil, io.Discard, io.Discard,
		func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), `--store "mysql://db/profiles"`) {
		t.Errorf("serve --store mysql://…: err %v, want it to name --store", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the start with an unknown --store made the data dir %s (stat: %v)", fresh, err)
	}
}

// TestClientCommands_BadArguments: a client command whose command line is
// wrong says so before it asks the server anything (here there is no
// server: the answer would be a connection error, which hid the mistake).
func TestClientCommands_BadArguments(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() // nothing listens there once closed
	ln.Close()
	setAWSEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dlq", "lst", "--domain", "d", "--endpoint", down}, `unknown verb "lst": want list, replay or purge`},
		{[]string{"domains", "list", "--endpoint", down, "extra"}, `domains list: unexpected argument "extra"`},
	} {
		err := main.Run(t.Context(), tc.args, nil, io.Discard, io.Discard, os.Getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestServe_Signals runs the built binary. SIGHUP stops it as SIGTERM
// does: the request in flight is served, the process exits 0 (SIGHUP
// ended it at once, status 129, before). A second SIGTERM (or SIGINT)
// while it drains stops it at once with status 1, saying so (it was
// ignored: the drain went on for up to 30 s); a second SIGHUP does not.
func TestServe_Signals(t *testing.T) {
	bin := mustBuildBinary(t)
	env := []string{"OPENPROFILES_ACCESS_KEY_ID=" + testKeyID, "OPENPROFILES_SECRET_ACCESS_KEY=" + testSecret, "OPENPROFILES_STORE=sqlite"}
	// draining starts a request whose body the server waits for, sends
	// sig once the handler reads it, and returns when the server no longer
	// accepts connections; finish sends the body and gives the status.
	draining := func(t *testing.T, n *nodeProcess, sig syscall.Signal) (finish func() int) {
		t.Helper()
		body := []byte(`{"DefaultExpirationDays": 9}`)
		req := mustSignedRequestTo(t, n.url, "POST", "/domains/signalled", body, signOpts{})
		pr, pw := io.Pipe()
		req.Body, req.ContentLength = pr, int64(len(body))
		req.Header.Set("Expect", "100-continue")
		continued := make(chan struct{})
		req = req.WithContext(httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{Got100Continue: func() { close(continued) }}))
		client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
		status := make(chan int, 1)
		go func() {
			resp, err := client.Do(req)
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		select {
		case <-continued:
		case <-time.After(30 * time.Second):
			t.Fatal("no 100 Continue within 30 s")
		}
		if err := n.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		addr := strings.TrimPrefix(n.url, "http://")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			select {
			case <-n.done:
				t.Fatalf("the server exited on %v with the request in flight: %v\n%s", sig, n.waitErr, n.log.String())
			default:
			}
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				break
			}
			conn.Close()
			if time.Now().After(deadline) {
				t.Fatalf("the server still accepts connections 30 s after %v", sig)
			}
		}
		return func() int {
			pw.Write(body)
			pw.Close()
			return <-status
		}
	}
	exited := func(t *testing.T, n *nodeProcess, within time.Duration) int {
		t.Helper()
		select {
		case <-n.done:
		case <-time.After(within):
			t.Fatalf("the server has not exited within %v\n%s", within, n.log.String())
		}
		var ee *exec.ExitError
		if errors.As(n.waitErr, &ee) {
			return ee.ExitCode() // -1: ended by a signal
		} else if n.waitErr != nil {
			t.Fatal(n.waitErr)
		}
		return 0
	}

	t.Run("SIGHUP drains", func(t *testing.T) {
		n, err := startNode(t, bin, "hup", t.TempDir(), env)
		if err != nil {
			t.Fatal(err)
		}
		finish := draining(t, n, syscall.SIGHUP)
		n.cmd.Process.Signal(syscall.SIGHUP) // a second one changes nothing
		time.Sleep(200 * time.Millisecond)
		if status := finish(); status != 200 {
			t.Errorf("the request in flight at SIGHUP got status %d, want 200 (drained)\n%s", status, n.log.String())
		}
		if code := exited(t, n, 45*time.Second); code != 0 {
			t.Errorf("exit status %d after SIGHUP, want 0\n%s", code, n.log.String())
		}
		if l := n.log.String(); !strings.Contains(l, `"msg":"shutting down","signal":"SIGHUP"`) {
			t.Errorf("no shutting-down line naming SIGHUP:\n%s", l)
		}
	})

	for second, name := range map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"} {
		t.Run("second "+name, func(t *testing.T) {
			n, err := startNode(t, bin, "term", t.TempDir(), env)
			if err != nil {
				t.Fatal(err)
			}
			draining(t, n, syscall.SIGTERM) // its request is cut: not finished
			if err := n.cmd.Process.Signal(second); err != nil {
				t.Fatal(err)
			}
			if code := exited(t, n, 10*time.Second); code != 1 {
				t.Errorf("exit status %d after a second %v, want 1", code, second)
			}
			want := "openprofiles: " + name + " while stopping after SIGTERM: stopping at once"
			if l := n.log.String(); !strings.Contains(l, want) {
				t.Errorf("the log does not say %q:\n%s", want, l)
			}
		})
	}
}
