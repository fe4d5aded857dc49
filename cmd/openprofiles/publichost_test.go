package main_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

const publicHost = "profiles.example.test"

// hostClient is an HTTP client that reaches m whatever host its requests
// name: a client that knows the server by a name DNS would give.
func hostClient(tb testing.TB, m *main.Main) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, m.Addr())
	}
	tb.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport}
}

// With --public-host set, the real SDK clients of every signed endpoint
// (the API, the built-in KMS and SQS, IAM) are refused when they reach the
// server by another name (here its address), before their signature is
// looked at, and served when they name a public host. The console and
// upload URLs refuse another name too; /healthz and /metrics, which load
// balancers and scrapers reach by address, do not.
func TestPublicHost_OtherHostRefused(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.PublicHosts = []string{publicHost + ":80", "other.example.test"} })
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")

	// By address: refused, naming the Host.
	_, err := MustClient(t, m).ListDomains(ctx, &customerprofiles.ListDomainsInput{})
	wantAPIError(t, err, "InvalidSignatureException", m.Addr())
	_, err = MustKMSClient(t, m).ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "InvalidSignatureException", m.Addr())
	_, err = MustSQSClient(t, m.URL()).ListQueues(ctx, &sqs.ListQueuesInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", m.Addr()) // SQS's name of it
	iamReq := mustSignedRequest(t, m, http.MethodPost, "/", []byte(`{}`), signOpts{service: "iam"})
	iamReq.Header.Set("X-Amz-Target", "OpenProfilesIAM.ListUsers")
	checkError(t, mustDo(t, iamReq), http.StatusForbidden, "InvalidSignatureException", m.Addr())

	// By a public name (the SDKs leave out port 80): served.
	client := hostClient(t, m)
	base := "http://" + publicHost
	cp := customerprofiles.New(customerprofiles.Options{BaseEndpoint: aws.String(base), Region: testRegion, Credentials: creds,
		RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(client)})
	if _, err := cp.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err == nil || !strings.Contains(err.Error(), "Host") {
		// Host "profiles.example.test" is not "profiles.example.test:80".
		t.Fatalf("Host %s without its port: %v, want refused", publicHost, err)
	}
	base = "http://other.example.test"
	cp = customerprofiles.New(customerprofiles.Options{BaseEndpoint: aws.String(base), Region: testRegion, Credentials: creds,
		RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(client)})
	if _, err := cp.ListDomains(ctx, &customerprofiles.ListDomainsInput{}); err != nil {
		t.Fatalf("ListDomains at %s: %v", base, err)
	}
	k := kms.New(kms.Options{BaseEndpoint: aws.String(base), Region: testRegion, Credentials: creds, RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(client)})
	if _, err := k.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("KMS ListKeys at %s: %v", base, err)
	}
	q := sqs.New(sqs.Options{BaseEndpoint: aws.String(base), Region: testRegion, Credentials: creds, RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(client)})
	if _, err := q.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Fatalf("SQS ListQueues at %s: %v", base, err)
	}

	// Unsigned: the console and an upload URL refuse the address, the
	// console serves a public name; health and metrics answer any.
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{m.Addr(), "/console/signin", http.StatusBadRequest},
		{m.Addr(), "/", http.StatusBadRequest},
		{m.Addr(), "/openprofiles/uploads/d/job", http.StatusBadRequest},
		{"other.example.test", "/console/signin", http.StatusOK},
		{m.Addr(), "/healthz", http.StatusOK},
		{m.Addr(), "/metrics", http.StatusOK},
	} {
		method := http.MethodGet
		if strings.Contains(tc.path, "upload") {
			method = http.MethodPut
		}
		req, _ := http.NewRequest(method, m.URL()+tc.path, nil)
		req.Host = tc.host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s, Host %s: status %d (%s), want %d", method, tc.path, tc.host, resp.StatusCode, body, tc.want)
		}
	}
}

// Without --public-host, any Host is served, as before.
func TestPublicHost_UnsetServesAnyHost(t *testing.T) {
	m := MustRunMain(t)
	cp := customerprofiles.New(customerprofiles.Options{BaseEndpoint: aws.String("http://anything.example.test"), Region: testRegion,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""), RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(hostClient(t, m))})
	if _, err := cp.ListDomains(context.Background(), &customerprofiles.ListDomainsInput{}); err != nil {
		t.Fatal(err)
	}
}

// With --public-host set, the URLs of the built-in queues name the first
// public host, not the listen address the server refuses: a queue URL
// given out (CreateQueue, GetQueueUrl, ListQueues) is one its clients can
// use.
func TestPublicHost_QueueURLs(t *testing.T) {
	m := MustRunMain(t, func(c *main.Config) { c.PublicHosts = []string{"profiles.example.test", "other.example.test"} })
	ctx := context.Background()
	q := sqs.New(sqs.Options{BaseEndpoint: aws.String("http://other.example.test"), Region: testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		RetryMaxAttempts: 1, HTTPClient: sdkhttp.New(hostClient(t, m))})
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq-public")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("dlq-public")})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := q.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := "http://profiles.example.test/000000000000/dlq-public"
	for op, u := range map[string]string{"CreateQueue": aws.ToString(created.QueueUrl), "GetQueueUrl": aws.ToString(got.QueueUrl),
		"ListQueues": strings.Join(listed.QueueUrls, " ")} {
		if u != want {
			t.Errorf("%s: QueueUrl %s, want %s", op, u, want)
		}
	}
}
