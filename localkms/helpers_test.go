package localkms_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/postgres"
	"github.com/openprofiles/profiles/postgres/pgtest"
	"github.com/openprofiles/profiles/sigv4"
	"github.com/openprofiles/profiles/sqlite"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	rootARN     = "arn:aws:iam::000000000000:root"
)

// Principals the test server knows, by access key id: the account root, and
// two IAM users.
var testPrincipals = map[string]string{
	"AKROOT":  rootARN,
	"AKALICE": "arn:aws:iam::000000000000:user/alice",
	"AKADMIN": "arn:aws:iam::000000000000:user/admin",
	"AKBOB":   "arn:aws:iam::000000000000:user/bob",
	"AKCAROL": "arn:aws:iam::000000000000:user/carol",
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

// server is a KMS on a SQLite store, serving the KMS API on httptest.
type server struct {
	KMS   *localkms.KMS
	Clock *clock
	URL   string

	mu     sync.Mutex
	denied map[string]bool                // "principal action" the authorize callback refuses
	conds  map[string]map[string][]string // the condition keys the callback last saw, by action
}

// Cond returns the condition keys the authorize callback last saw for
// action.
func (s *server) Cond(action string) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conds[action]
}

// Deny makes the authorize callback refuse action to principal.
func (s *server) Deny(principal, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[principal+" "+action] = true
}

func (s *server) authorize(ctx context.Context, principal, action, resource string, cond map[string][]string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conds == nil {
		s.conds = map[string]map[string][]string{}
	}
	s.conds[action] = cond
	if s.denied[principal+" "+action] {
		return false, profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
	}
	return false, nil
}

// MustServer returns a new KMS with an empty SQLite store, serving the KMS
// API.
func MustServer(tb testing.TB) *server {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "kms.db"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return mustServerOn(tb, db)
}

// MustPostgresServer is MustServer on a fresh PostgreSQL database.
func MustPostgresServer(tb testing.TB) *server {
	tb.Helper()
	db := postgres.NewDB(pgtest.MustDatabase(tb, "openprofiles_kms"))
	if err := db.Open(); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return mustServerOn(tb, db)
}

func mustServerOn(tb testing.TB, db profiles.KMSStore) *server {
	tb.Helper()
	root, err := localkms.LoadOrCreateRootKey(tb.TempDir(), "")
	if err != nil {
		tb.Fatalf("LoadOrCreateRootKey: %v", err)
	}
	c := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := &server{
		KMS:    &localkms.KMS{Store: db, Region: testRegion, AccountID: testAccount, RootKey: root, Now: c.Now},
		Clock:  c,
		denied: map[string]bool{},
	}
	v := &sigv4.Verifier{
		Region:   testRegion,
		Services: []string{"kms", "profile"},
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			p, ok := testPrincipals[id]
			return sigv4.Credential{Secret: secretOf(id), Principal: p}, ok, nil
		},
	}
	srv := httptest.NewServer(s.KMS.Handler(v, s.authorize, nil))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client returns a KMS client of the server signing as the principal of
// accessKeyID.
func (s *server) Client(accessKeyID string) *kms.Client {
	return newClient(s.URL, accessKeyID, secretOf(accessKeyID))
}

func newClient(url, accessKeyID, secret string) *kms.Client {
	return kms.New(kms.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(nil),
	})
}

// MustCreateKey creates a key with the policy (default when "") as root,
// bypassing the lockout check, and returns its id.
func (s *server) MustCreateKey(tb testing.TB, policy string) string {
	tb.Helper()
	in := &kms.CreateKeyInput{Description: aws.String("test key"), BypassPolicyLockoutSafetyCheck: true}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := s.Client("AKROOT").CreateKey(tb.Context(), in)
	if err != nil {
		tb.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

// checkAPIError fails tb unless err is an API error of the given code.
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

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
