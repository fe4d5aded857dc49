package localsqs_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/localsqs"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/postgres/pgtest"
	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/sqlite"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	rootARN     = "arn:aws:iam::000000000000:root"
	aliceARN    = "arn:aws:iam::000000000000:user/alice"
	domainARN   = "arn:aws:profile:us-east-1:000000000000:domains/acme"
)

// Principals the test server knows, by access key id: the account root and
// an IAM user.
var testPrincipals = map[string]string{
	"AKROOT":  rootARN,
	"AKALICE": aliceARN,
}

func secretOf(accessKeyID string) string { return "secret-" + strings.ToLower(accessKeyID) }

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// server is an SQS on a SQLite store, serving the SQS API on httptest.
// The authorize callback allows root everything and alice nothing.
type server struct {
	SQS   *localsqs.SQS
	Clock *clock // nil when the server runs on the real clock
	URL   string
}

func authorize(ctx context.Context, principal, action, resource string, cond map[string][]string) error {
	if principal == rootARN {
		return nil
	}
	return profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
}

// MustServer returns a new SQS with an empty store on a test clock,
// serving the SQS API.
func MustServer(tb testing.TB) *server {
	tb.Helper()
	c := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := mustServer(tb, c.Now)
	s.Clock = c
	return s
}

// MustRealServer is MustServer on the real clock.
func MustRealServer(tb testing.TB) *server {
	tb.Helper()
	return mustServer(tb, nil)
}

func mustServer(tb testing.TB, now func() time.Time) *server {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "sqs.db"))
	if now != nil {
		db.Now = now
	}
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return mustServerOn(tb, db, now)
}

// MustPostgresServer is MustRealServer on a fresh PostgreSQL database.
func MustPostgresServer(tb testing.TB) *server {
	tb.Helper()
	db := postgres.NewDB(pgtest.MustDatabase(tb, "openprofiles_sqs"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return mustServerOn(tb, db, nil)
}

func mustServerOn(tb testing.TB, db profiles.QueueStore, now func() time.Time) *server {
	tb.Helper()
	s := &server{SQS: &localsqs.SQS{Store: db, Region: testRegion, AccountID: testAccount, Now: now}}
	v := &sigv4.Verifier{
		Region:   testRegion,
		Services: []string{"sqs", "kms"},
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			p, ok := testPrincipals[id]
			return sigv4.Credential{Secret: secretOf(id), Principal: p}, ok, nil
		},
	}
	srv := httptest.NewUnstartedServer(s.SQS.Handler(v, authorize, nil))
	s.SQS.BaseURL = func() string { return srv.URL }
	srv.Start()
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client returns an SQS client of the server signing as the principal of
// accessKeyID.
func (s *server) Client(accessKeyID string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secretOf(accessKeyID), ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(nil),
	})
}

// MustCreateQueue creates a queue as root with the attributes and returns
// its URL.
func (s *server) MustCreateQueue(tb testing.TB, name string, attrs map[string]string) string {
	tb.Helper()
	out, err := s.Client("AKROOT").CreateQueue(tb.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		tb.Fatalf("CreateQueue(%s): %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// checkAPIError fails tb unless err is an API error whose code (as the
// SDK reports it, from x-amzn-query-error) is code.
func checkAPIError(tb testing.TB, op string, err error, code string) {
	tb.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		tb.Fatalf("%s: err=%v, want %s", op, err, code)
	}
	if ae.ErrorCode() != code {
		tb.Fatalf("%s: error code %q (%v), want %q", op, ae.ErrorCode(), err, code)
	}
	if ae.ErrorMessage() == "" {
		tb.Errorf("%s: %s without a message", op, code)
	}
}

// checkCode fails tb unless err has the root error code.
func checkCode(tb testing.TB, op string, err error, code string) {
	tb.Helper()
	if got := profiles.ErrorCode(err); got != code {
		tb.Fatalf("%s: err=%v (code %q), want code %q", op, err, got, code)
	}
}
