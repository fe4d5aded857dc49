package iamapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/iamapi"
	"github.com/openprofiles/profiles/sigv4"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	rootARN     = "arn:aws:iam::000000000000:root"
	aliceARN    = "arn:aws:iam::000000000000:user/alice"
)

// Callers the verifier knows, by access key id.
var testCallers = map[string]string{
	"AKROOT":  rootARN,
	"AKALICE": aliceARN,
	"AKROLE":  "arn:aws:iam::000000000000:role/ops",
}

func secretOf(keyID string) string { return "secret-" + strings.ToLower(keyID) }

// memIAM is an in-memory profiles.IAMService with the rules the transport
// relies on: unique names, two active keys, positioned policy errors.
type memIAM struct {
	mu         sync.Mutex
	now        time.Time
	seq        int
	principals map[string]*profiles.Principal
	keys       []*profiles.AccessKey
	policies   map[string]map[string]string
}

var _ profiles.IAMService = (*memIAM)(nil)

func newMemIAM() *memIAM {
	return &memIAM{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		principals: map[string]*profiles.Principal{}, policies: map[string]map[string]string{}}
}

func (s *memIAM) CreatePrincipal(ctx context.Context, typ, name string) (*profiles.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "boom" {
		return nil, fmt.Errorf("mem: disk on fire at /var/lib/secret-path")
	}
	if _, ok := s.principals[name]; ok {
		return nil, profiles.Errorf(profiles.ECONFLICT, "User with name %s already exists.", name)
	}
	s.seq++
	prefix := map[string]string{profiles.PrincipalUser: "AIDA", profiles.PrincipalRole: "AROA"}[typ]
	p := &profiles.Principal{Name: name, Type: typ, ID: fmt.Sprintf("%sTEST%012d", prefix, s.seq),
		ARN: "arn:aws:iam::" + testAccount + ":" + typ + "/" + name, CreatedAt: s.now.Add(time.Duration(s.seq) * time.Second)}
	s.principals[name] = p
	return p, nil
}

func (s *memIAM) GetPrincipal(ctx context.Context, typ, name string) (*profiles.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.principal(typ, name)
}

func (s *memIAM) principal(typ, name string) (*profiles.Principal, error) {
	p, ok := s.principals[name]
	if !ok || p.Type != typ {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The %s with name %s cannot be found.", typ, name)
	}
	return p, nil
}

func (s *memIAM) ListPrincipals(ctx context.Context, typ string, page profiles.Page) ([]*profiles.Principal, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n, p := range s.principals {
		if p.Type == typ && n > page.Token {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	next := ""
	if page.MaxResults > 0 && len(names) > page.MaxResults {
		names = names[:page.MaxResults]
		next = names[len(names)-1]
	}
	var ps []*profiles.Principal
	for _, n := range names {
		ps = append(ps, s.principals[n])
	}
	return ps, next, nil
}

func (s *memIAM) DeletePrincipal(ctx context.Context, typ, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.principal(typ, name); err != nil {
		return err
	}
	delete(s.principals, name)
	delete(s.policies, name)
	return nil
}

func (s *memIAM) activeKeys(principal string) int {
	n := 0
	for _, k := range s.keys {
		if k.PrincipalName == principal && k.Status == profiles.AccessKeyActive {
			n++
		}
	}
	return n
}

func (s *memIAM) CreateAccessKey(ctx context.Context, principal string) (*profiles.AccessKey, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.principals[principal]; !ok {
		return nil, "", profiles.Errorf(profiles.ENOTFOUND, "The user with name %s cannot be found.", principal)
	}
	if s.activeKeys(principal) >= profiles.MaxActiveAccessKeys {
		return nil, "", profiles.Errorf(profiles.EQUOTA, "Cannot exceed quota for AccessKeysPerUser: %d", profiles.MaxActiveAccessKeys)
	}
	s.seq++
	k := &profiles.AccessKey{ID: fmt.Sprintf("AKIATEST%012d", s.seq), PrincipalName: principal,
		Status: profiles.AccessKeyActive, CreatedAt: s.now, SealedSecret: []byte("sealed")}
	s.keys = append(s.keys, k)
	return k, fmt.Sprintf("SECRET%034d", s.seq), nil
}

func (s *memIAM) ListAccessKeys(ctx context.Context, principal string) ([]*profiles.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*profiles.AccessKey
	for _, k := range s.keys {
		if k.PrincipalName == principal {
			c := *k
			out = append(out, &c)
		}
	}
	return out, nil
}

func (s *memIAM) key(principal, id string) (*profiles.AccessKey, int, error) {
	for i, k := range s.keys {
		if k.PrincipalName == principal && k.ID == id {
			return k, i, nil
		}
	}
	return nil, 0, profiles.Errorf(profiles.ENOTFOUND, "The Access Key with id %s cannot be found.", id)
}

func (s *memIAM) UpdateAccessKey(ctx context.Context, principal, id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, err := s.key(principal, id)
	if err != nil {
		return err
	}
	if status == profiles.AccessKeyActive && k.Status != status && s.activeKeys(principal) >= profiles.MaxActiveAccessKeys {
		return profiles.Errorf(profiles.EQUOTA, "Cannot exceed quota for AccessKeysPerUser: %d", profiles.MaxActiveAccessKeys)
	}
	k.Status = status
	return nil
}

func (s *memIAM) DeleteAccessKey(ctx context.Context, principal, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, i, err := s.key(principal, id)
	if err != nil {
		return err
	}
	s.keys = append(s.keys[:i], s.keys[i+1:]...)
	return nil
}

func (s *memIAM) GetAccessKey(ctx context.Context, id string) (*profiles.AccessKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.ID == id {
			c := *k
			return &c, nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "The access key %s cannot be found.", id)
}

func (s *memIAM) PutPolicy(ctx context.Context, principal, name, document string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.principals[principal]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "The principal with name %s cannot be found.", principal)
	}
	if !json.Valid([]byte(document)) {
		return profiles.Errorf(profiles.EINVALID, "Syntax errors in policy: line 1 column 2: invalid JSON")
	}
	if s.policies[principal] == nil {
		s.policies[principal] = map[string]string{}
	}
	s.policies[principal][name] = document
	return nil
}

func (s *memIAM) GetPolicy(ctx context.Context, principal, name string) (*profiles.PrincipalPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.policies[principal][name]
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "The policy with name %s cannot be found.", name)
	}
	return &profiles.PrincipalPolicy{PrincipalName: principal, PolicyName: name, Document: doc, UpdatedAt: s.now}, nil
}

func (s *memIAM) ListPolicies(ctx context.Context, principal string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.policies[principal] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (s *memIAM) DeletePolicy(ctx context.Context, principal, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[principal][name]; !ok {
		return profiles.Errorf(profiles.ENOTFOUND, "The policy with name %s cannot be found.", name)
	}
	delete(s.policies[principal], name)
	return nil
}

// recorder is a profiles.Authorizer that records every request and allows
// all but the actions denied to a principal.
type recorder struct {
	mu     sync.Mutex
	reqs   []profiles.AuthRequest
	denied map[string]bool // "principal action"
}

var _ profiles.Authorizer = (*recorder)(nil)

func (a *recorder) Authorize(ctx context.Context, r *profiles.AuthRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs = append(a.reqs, *r)
	if a.denied[r.Principal+" "+r.Action] {
		return profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: %s on resource: %s", r.Principal, r.Action, r.Resource)
	}
	return nil
}

// last returns the last request authorised.
func (a *recorder) last(tb testing.TB) profiles.AuthRequest {
	tb.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		tb.Fatal("no request was authorised")
	}
	return a.reqs[len(a.reqs)-1]
}

func (a *recorder) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reqs)
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is the handler on httptest with an in-memory service.
type server struct {
	URL  string
	IAM  *memIAM
	Auth *recorder
	Logs *syncBuffer

	mu     sync.Mutex
	bodies []string // every response body, "<Operation> <body>"
}

// MustServer serves the API with a real SigV4 verifier accepting the
// services "iam" and "kms" (so that a scope of the wrong service reaches
// the handler's own check).
func MustServer(tb testing.TB) *server {
	tb.Helper()
	s := &server{IAM: newMemIAM(), Auth: &recorder{denied: map[string]bool{}}, Logs: &syncBuffer{}}
	v := &sigv4.Verifier{
		Region:   testRegion,
		Services: []string{iamapi.SigningService, "kms"},
		Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
			if id == "AKBROKEN" {
				return sigv4.Credential{}, false, fmt.Errorf("store is down")
			}
			p, ok := testCallers[id]
			return sigv4.Credential{Secret: secretOf(id), Principal: p}, ok, nil
		},
	}
	logger := slog.New(slog.NewJSONHandler(s.Logs, nil))
	srv := httptest.NewServer(iamapi.Handler(s.IAM, s.Auth, v, testAccount, logger))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// response is an answer as it came off the wire.
type response struct {
	Status    int
	Header    http.Header
	Body      []byte
	ErrorType string // X-Amzn-ErrorType
	Type      string // __type
	Message   string
}

// Out decodes the body into a generic JSON value.
func (r response) Out(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
	return m
}

type reqOpts struct {
	keyID    string // default AKROOT
	service  string // default iam
	method   string // default POST
	target   string // default TargetPrefix+op
	raw      []byte // body as is instead of JSON of in
	unsigned bool
}

// Call sends operation op with input in (marshalled to JSON), signed as
// the root caller.
func (s *server) Call(tb testing.TB, op string, in any) response {
	tb.Helper()
	return s.Do(tb, op, in, reqOpts{})
}

// CallAs sends op signed with the access key keyID.
func (s *server) CallAs(tb testing.TB, keyID, op string, in any) response {
	tb.Helper()
	return s.Do(tb, op, in, reqOpts{keyID: keyID})
}

func (s *server) Do(tb testing.TB, op string, in any, o reqOpts) response {
	tb.Helper()
	body := o.raw
	if body == nil && in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			tb.Fatal(err)
		}
	}
	if o.keyID == "" {
		o.keyID = "AKROOT"
	}
	if o.service == "" {
		o.service = iamapi.SigningService
	}
	if o.method == "" {
		o.method = http.MethodPost
	}
	if o.target == "" {
		o.target = iamapi.TargetPrefix + op
	}
	req, err := http.NewRequest(o.method, s.URL+"/", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", iamapi.ContentType)
	req.Header.Set("X-Amz-Target", o.target)
	if !o.unsigned {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: o.keyID, SecretAccessKey: secretOf(o.keyID)}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), o.service, testRegion, time.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, op+" "+string(b))
	s.mu.Unlock()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(b, &e)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b,
		ErrorType: resp.Header.Get("X-Amzn-ErrorType"), Type: e.Type, Message: e.Message}
}

// MustOK fails tb unless r is a 200 answer of the JSON 1.1 protocol.
func MustOK(tb testing.TB, op string, r response) response {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("%s: status %d %s, want 200", op, r.Status, r.Body)
	}
	if got := r.Header.Get("Content-Type"); got != iamapi.ContentType {
		tb.Errorf("%s: Content-Type %q, want %q", op, got, iamapi.ContentType)
	}
	if r.Header.Get("X-Amzn-Requestid") == "" {
		tb.Errorf("%s: no x-amzn-RequestId", op)
	}
	return r
}

// checkError fails tb unless r is the exception with the status and a
// message mentioning each of the words.
func checkError(tb testing.TB, op string, r response, status int, exception string, words ...string) {
	tb.Helper()
	if r.Status != status || r.ErrorType != exception || r.Type != exception {
		tb.Fatalf("%s: status %d, X-Amzn-ErrorType %q, __type %q (%s); want %d %s", op, r.Status, r.ErrorType, r.Type, r.Body, status, exception)
	}
	for _, w := range words {
		if !strings.Contains(r.Message, w) {
			tb.Errorf("%s: message %q does not mention %q", op, r.Message, w)
		}
	}
	if r.Header.Get("X-Amzn-Requestid") == "" {
		tb.Errorf("%s: no x-amzn-RequestId on the error", op)
	}
}
