package sigv4_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	"github.com/openprofiles/profiles/internal/sdkhttp"
	"github.com/openprofiles/profiles/sigv4"
)

// seen is a request the test server received and verified.
type seen struct {
	method, requestURI string
	identity           *sigv4.Identity
}

// MustServer starts an HTTP server that verifies every request with v and
// answers "{}" or the AWS-style error, and records what it verified.
func MustServer(tb testing.TB, v *sigv4.Verifier) (*httptest.Server, func() []seen) {
	tb.Helper()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := v.Verify(r, body)
		w.Header().Set("Content-Type", "application/json")
		var e *sigv4.Error
		switch {
		case errors.As(err, &e):
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
			return
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		got = append(got, seen{r.Method, r.RequestURI, id})
		mu.Unlock()
		io.WriteString(w, "{}")
	}))
	tb.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

// MustClient returns a Customer Profiles client for srv signing with secret.
func MustClient(tb testing.TB, srv *httptest.Server, secret string) *customerprofiles.Client {
	tb.Helper()
	return customerprofiles.New(customerprofiles.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.New(nil),
	})
}

// TestVerify_CustomerProfilesClient drives the real aws-sdk-go-v2 Customer
// Profiles client against a server that verifies its signatures with the
// wall clock.
func TestVerify_CustomerProfilesClient(t *testing.T) {
	v := MustVerifier(t)
	v.Now = nil
	srv, received := MustServer(t, v)
	client := MustClient(t, srv, testSecret)
	ctx := context.Background()
	arn := "arn:aws:profile:us-east-1:000000000000:domains/my domain+1"

	tests := []struct {
		name   string
		call   func() error
		method string
		uri    string // the request URI must contain this
	}{
		{name: "ListDomains with query", method: http.MethodGet, uri: "next-token=",
			call: func() error {
				_, err := client.ListDomains(ctx, &customerprofiles.ListDomainsInput{
					MaxResults: aws.Int32(10), NextToken: aws.String("a/b c+d=="),
				})
				return err
			}},
		{name: "CreateDomain with JSON body", method: http.MethodPost, uri: "/domains/mydomain",
			call: func() error {
				_, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{
					DomainName: aws.String("mydomain"), DefaultExpirationDays: aws.Int32(366),
					Tags: map[string]string{"team": "a  b"},
				})
				return err
			}},
		{name: "ListTagsForResource with ARN label", method: http.MethodGet, uri: "/tags/arn%3Aaws%3Aprofile",
			call: func() error {
				_, err := client.ListTagsForResource(ctx, &customerprofiles.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
				return err
			}},
		{name: "UntagResource with repeated tagKeys", method: http.MethodDelete, uri: "tagKeys=",
			call: func() error {
				_, err := client.UntagResource(ctx, &customerprofiles.UntagResourceInput{
					ResourceArn: aws.String(arn), TagKeys: []string{"team", "b c", "été"},
				})
				return err
			}},
		{name: "DeleteDomain without body", method: http.MethodDelete, uri: "/domains/mydomain",
			call: func() error {
				_, err := client.DeleteDomain(ctx, &customerprofiles.DeleteDomainInput{DomainName: aws.String("mydomain")})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(received())
			if err := tt.call(); err != nil {
				t.Fatalf("call: got error %v, want nil", err)
			}
			all := received()
			if len(all) != before+1 {
				t.Fatalf("server verified %d requests, want %d", len(all), before+1)
			}
			got := all[len(all)-1]
			if got.method != tt.method || !strings.Contains(got.requestURI, tt.uri) {
				t.Errorf("request: got %s %s, want %s containing %q", got.method, got.requestURI, tt.method, tt.uri)
			}
			want := sigv4.Identity{AccessKeyID: testKeyID, Principal: testPrincipal, Service: "profile"}
			if id := *got.identity; id.AccessKeyID != want.AccessKeyID || id.Principal != want.Principal || id.Service != want.Service || !id.Signed("host") {
				t.Errorf("identity: got %+v, want %+v", *got.identity, want)
			}
		})
	}
}

func TestVerify_CustomerProfilesClientWrongSecret(t *testing.T) {
	v := MustVerifier(t)
	v.Now = time.Now
	srv, _ := MustServer(t, v)
	client := MustClient(t, srv, "not-the-secret")
	_, err := client.ListDomains(context.Background(), &customerprofiles.ListDomainsInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("ListDomains: got error %v, want InvalidSignatureException", err)
	}
}
