package connect_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/connect"
	"github.com/openprofiles/profiles/sigv4"
)

const (
	testKeyID  = "AKOPTESTKEY000000001"
	testSecret = "test-secret-key-0123456789abcdefghijklmn"
	testUser   = "arn:aws:iam::000000000000:user/agent"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeAuth allows everything but the denied actions, and keeps the requests.
type fakeAuth struct {
	mu       sync.Mutex
	deny     map[string]bool // "action resource"
	requests []profiles.AuthRequest
}

func (a *fakeAuth) Authorize(ctx context.Context, r *profiles.AuthRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, *r)
	if a.deny[r.Action+" "+r.Resource] {
		return profiles.Errorf(profiles.EFORBIDDEN, "%s is not allowed to perform %s on %s.", r.Principal, r.Action, r.Resource)
	}
	return nil
}

// server is an Intake with in-memory services behind both handlers.
type server struct {
	integ  *fakeIntegrations
	ingest *fakeIngest
	auth   *fakeAuth
	url    string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{integ: newFakeIntegrations("sales", "support"), ingest: newFakeIngest(), auth: &fakeAuth{deny: map[string]bool{}}}
	in := &connect.Intake{Integrations: s.integ, Ingest: s.ingest, Authorizer: s.auth, Region: "us-east-1", AccountID: "000000000000",
		Now: func() time.Time { return testNow },
		Verifier: &sigv4.Verifier{Region: "us-east-1", Services: []string{"profile", "iam"},
			Lookup: func(ctx context.Context, id string) (sigv4.Credential, bool, error) {
				return sigv4.Credential{Secret: testSecret, Principal: testUser}, id == testKeyID, nil
			}}}
	records, admin := in.Handler(), in.AdminHandler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), connect.TargetPrefix) {
			admin.ServeHTTP(w, r)
			return
		}
		records.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// response is an answer as it came off the wire.
type response struct {
	Status                          int
	Header                          http.Header
	Body                            []byte
	Type, Message, ErrorType, ReqID string
}

func (s *server) do(t *testing.T, method, path, target, service string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", connect.TargetPrefix+target)
		req.Header.Set("Content-Type", connect.ContentType)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Type    string `json:"__type"`
		Message string
	}
	json.Unmarshal(b, &e)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b, Type: e.Type, Message: e.Message,
		ErrorType: resp.Header.Get("X-Amzn-ErrorType"), ReqID: resp.Header.Get("X-Amzn-Requestid")}
}

func (s *server) post(t *testing.T, instance string, body string) response {
	t.Helper()
	return s.do(t, http.MethodPost, connect.Path+instance+"/contact-records", "", "profile", []byte(body))
}

func (s *server) admin(t *testing.T, op string, in any) response {
	t.Helper()
	b, _ := json.Marshal(in)
	return s.do(t, http.MethodPost, "/", op, "profile", b)
}

func checkError(t *testing.T, r response, status int, exception string, words ...string) {
	t.Helper()
	if r.Status != status || r.Type != exception || r.ErrorType != exception {
		t.Fatalf("got %d %q (X-Amzn-ErrorType %q): %s; want %d %s", r.Status, r.Type, r.ErrorType, r.Body, status, exception)
	}
	for _, w := range words {
		if !strings.Contains(r.Message, w) {
			t.Errorf("message %q does not mention %q", r.Message, w)
		}
	}
	if r.ReqID == "" {
		t.Error("no x-amzn-RequestId")
	}
}

func TestHandler_Records(t *testing.T) {
	s := newServer(t)
	s.integ.associate("sales", profiles.Integration{ObjectTypeName: "CTR"})
	body := "[" + record("c1", "VOICE", "+12065550100") + `, "not a record"]`
	r := s.post(t, instanceID, body)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" || r.ReqID == "" {
		t.Fatalf("got %d %q (request id %q): %s", r.Status, r.Header.Get("Content-Type"), r.ReqID, r.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Accepted": 1.0, "Failed": 1.0, "Records": []any{
		map[string]any{"Index": 0.0, "ContactId": "c1", "ProfileObjectUniqueKey": "ctr-c1"},
		map[string]any{"Index": 1.0, "ErrorCode": "INVALID_OBJECT", "Message": "The object must be a JSON object: json: cannot unmarshal string into Go value of type map[string]interface {}"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}

	// Authorised on the domain and its object type before anything went in.
	if len(s.auth.requests) != 2 || s.auth.requests[1].Resource != "arn:aws:profile:us-east-1:000000000000:domains/sales/object-types/CTR" {
		t.Fatalf("auth requests = %+v, want the domain's and the object type's", s.auth.requests)
	}
	a := s.auth.requests[0]
	if a.Principal != testUser || a.Action != "profile:PutProfileObject" || a.Resource != "arn:aws:profile:us-east-1:000000000000:domains/sales" || a.RequestID != r.ReqID {
		t.Errorf("auth request = %+v", a)
	}
	for k, v := range map[string]string{"aws:SourceIp": "127.0.0.1", "aws:CurrentTime": "2026-06-01T12:00:00Z", "aws:PrincipalArn": testUser} {
		if got := a.Context[k]; len(got) != 1 || got[0] != v {
			t.Errorf("condition key %s = %q, want %q", k, got, v)
		}
	}
}

func TestHandler_Errors(t *testing.T) {
	s := newServer(t)
	rec := record("c1", "VOICE", "+12065550100")

	// No association: nothing can be kept, which a caller who may put
	// objects in any domain is told; another is refused as for an
	// instance of a domain it may not use (the answer tells no one which
	// instances are associated, nor with what).
	checkError(t, s.post(t, instanceID, rec), http.StatusBadRequest, "BadRequestException", instanceID, "associated with no")
	s.auth.deny["profile:PutProfileObject arn:aws:profile:us-east-1:000000000000:domains/*"] = true
	unknown := s.post(t, instanceID, rec)
	checkError(t, unknown, http.StatusForbidden, "AccessDeniedException", "profile:PutProfileObject", instanceID)
	delete(s.auth.deny, "profile:PutProfileObject arn:aws:profile:us-east-1:000000000000:domains/*")

	// Refused: nothing goes in, and the domain is not named.
	s.integ.associate("sales", profiles.Integration{ObjectTypeName: "CTR"})
	s.auth.deny["profile:PutProfileObject arn:aws:profile:us-east-1:000000000000:domains/sales"] = true
	denied := s.post(t, instanceID, rec)
	checkError(t, denied, http.StatusForbidden, "AccessDeniedException", "profile:PutProfileObject", instanceID)
	if strings.Contains(denied.Message, "sales") || denied.Message != unknown.Message {
		t.Errorf("refusal for an associated instance %q differs from an unknown one's %q, or names the domain", denied.Message, unknown.Message)
	}
	if len(s.ingest.calls) != 0 {
		t.Errorf("ingested %d records after a refusal", len(s.ingest.calls))
	}
	delete(s.auth.deny, "profile:PutProfileObject arn:aws:profile:us-east-1:000000000000:domains/sales")

	checkError(t, s.post(t, instanceID, ""), http.StatusBadRequest, "BadRequestException", "no contact record")
	checkError(t, s.post(t, instanceID, "["+rec), http.StatusBadRequest, "BadRequestException", "JSON array")
	checkError(t, s.do(t, http.MethodGet, connect.Path+instanceID+"/contact-records", "", "profile", nil), http.StatusMethodNotAllowed, "MethodNotAllowedException")
	checkError(t, s.do(t, http.MethodPost, connect.Path+instanceID+"/records", "", "profile", []byte(rec)), http.StatusNotFound, "UnknownOperationException", "contact-records")
	checkError(t, s.do(t, http.MethodPost, connect.Path+"a/b/contact-records", "", "profile", []byte(rec)), http.StatusNotFound, "UnknownOperationException")
	checkError(t, s.do(t, http.MethodPost, connect.Path+instanceID+"/contact-records", "", "iam", []byte(rec)), http.StatusForbidden, sigv4.InvalidSignature, "profile")
	checkError(t, s.post(t, instanceID, strings.Repeat(" ", connect.MaxBodyBytes+1)), http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException")

	req, _ := http.NewRequest(http.MethodPost, s.url+connect.Path+instanceID+"/contact-records", strings.NewReader(rec))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != sigv4.MissingAuthenticationToken {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if len(s.ingest.calls) != 0 {
		t.Errorf("ingested %d records", len(s.ingest.calls))
	}
}

func TestAdmin(t *testing.T) {
	s := newServer(t)
	r := s.admin(t, "CreateInstance", map[string]string{"InstanceAlias": "east"})
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != connect.ContentType {
		t.Fatalf("CreateInstance: %d %s", r.Status, r.Body)
	}
	const id = "00000000-0000-4000-8000-000000000001"
	const arn = "arn:aws:connect:us-east-1:000000000000:instance/" + id
	if got, want := string(r.Body), `{"Instance":{"Id":"`+id+`","Arn":"`+arn+`","InstanceAlias":"east","CreatedTime":"2026-06-01T12:00:00Z"}}`; got != want {
		t.Errorf("CreateInstance = %s, want %s", got, want)
	}
	checkError(t, s.admin(t, "CreateInstance", map[string]string{}), http.StatusBadRequest, "BadRequestException", "InstanceAlias")
	checkError(t, s.admin(t, "CreateInstance", map[string]string{"Alias": "x"}), http.StatusBadRequest, "SerializationException", "Alias")

	r = s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn, "DomainName": "sales"})
	if got, want := string(r.Body), `{"Integration":{"DomainName":"sales","Uri":"`+arn+`","ObjectTypeName":"CTR"}}`; got != want {
		t.Errorf("SwitchInstance = %s, want %s", got, want)
	}
	r = s.admin(t, "ListInstances", nil)
	if got, want := string(r.Body), `{"InstanceSummaryList":[{"Id":"`+id+`","Arn":"`+arn+`","InstanceAlias":"east","CreatedTime":"2026-06-01T12:00:00Z","DomainName":"sales"}]}`; got != want {
		t.Errorf("ListInstances = %s, want %s", got, want)
	}

	// Leaving a domain takes the right to delete its integration.
	s.auth.deny["profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales"] = true
	checkError(t, s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn, "DomainName": "support"}),
		http.StatusForbidden, "AccessDeniedException", "profile:DeleteIntegration")
	delete(s.auth.deny, "profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales")
	// And on the integration's own ARN, as the API's DeleteIntegration.
	const leaving = "profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales/integrations/" + arn
	s.auth.deny[leaving] = true
	checkError(t, s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn, "DomainName": "support"}),
		http.StatusForbidden, "AccessDeniedException", "profile:DeleteIntegration", "integrations/"+arn)
	delete(s.auth.deny, leaving)
	if r := s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn, "DomainName": "support"}); r.Status != http.StatusOK {
		t.Fatalf("SwitchInstance: %d %s", r.Status, r.Body)
	}
	var actions []string
	for _, a := range s.auth.requests {
		actions = append(actions, a.Action+" "+a.Resource)
	}
	want := []string{
		"connect:CreateInstance *",
		"connect:CreateInstance *", // the one that failed on its alias
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/sales",
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/sales/integrations/" + arn,
		"connect:ListInstances *",
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support",
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support/integrations/" + arn,
		"profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales", // refused
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support",
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support/integrations/" + arn,
		"profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales",
		"profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales/integrations/" + arn, // refused
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support",
		"profile:PutIntegration arn:aws:profile:us-east-1:000000000000:domains/support/integrations/" + arn,
		"profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales",
		"profile:DeleteIntegration arn:aws:profile:us-east-1:000000000000:domains/sales/integrations/" + arn,
	}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("authorised (-want +got):\n%s", diff)
	}

	s.auth.deny["connect:ListInstances *"] = true
	checkError(t, s.admin(t, "ListInstances", nil), http.StatusForbidden, "AccessDeniedException", "connect:ListInstances")
	checkError(t, s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": "arn:aws:profile:x", "DomainName": "sales"}), http.StatusBadRequest, "BadRequestException", "InstanceArn")
	checkError(t, s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn}), http.StatusBadRequest, "BadRequestException", "DomainName")
	checkError(t, s.admin(t, "SwitchInstance", map[string]string{"InstanceArn": arn, "DomainName": "nope"}), http.StatusNotFound, "ResourceNotFoundException", "nope")
	checkError(t, s.admin(t, "DeleteInstance", nil), http.StatusBadRequest, "UnknownOperationException", "DeleteInstance")
	checkError(t, s.do(t, http.MethodPost, "/", "ListInstances", "profile", []byte("{")), http.StatusBadRequest, "SerializationException")
}

func TestInstanceID(t *testing.T) {
	for arn, want := range map[string]string{
		instanceARN: instanceID,
		"arn:aws:connect:us-east-1:000000000000:instance/":  "",
		"arn:aws:connect:us-east-1:000000000000:queue/x":    "",
		"arn:aws:profile:us-east-1:000000000000:instance/x": "",
		"instance/x": "",
		"arn:aws:connect:us-east-1:000000000000:instance/x/queue/y": "",
	} {
		got, ok := connect.InstanceID(arn)
		if got != want || ok != (want != "") {
			t.Errorf("InstanceID(%q) = %q, %v; want %q", arn, got, ok, want)
		}
	}
}
