package main_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	"github.com/openprofiles/profiles/connect"
	"github.com/openprofiles/profiles/iamapi"
	"github.com/openprofiles/profiles/localkms"
	"github.com/openprofiles/profiles/localsqs"
)

// TestSigV4_Tampering: what a request's signature does not cover cannot
// change what the server does, through the real server and the SDK's
// signer: a date outside the clock-skew window either way, a presigned
// address, a streaming (aws-chunked) payload signature, UNSIGNED-PAYLOAD
// over plain HTTP, a query parameter added after signing, and an
// X-Amz-Target header added to a signed Customer Profiles request (the
// server dispatches the built-in KMS, IAM, SQS and instance APIs on it)
// are each refused, and no domain is made.
func TestSigV4_Tampering(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	create := func(domain string) *http.Request {
		return mustSignedRequest(t, m, http.MethodPost, "/domains/"+domain, []byte(`{"DefaultExpirationDays":10}`), signOpts{})
	}
	// signWith signs a CreateDomain with a payload hash of its choosing,
	// sent in X-Amz-Content-Sha256 (and signed), as S3 clients do.
	signWith := func(domain, payloadHash string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/domains/"+domain, bytes.NewReader([]byte(`{"DefaultExpirationDays":10}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "profile", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	for _, tc := range []struct {
		name, domain string
		req          func(domain string) *http.Request
		status       int
		exception    string
		words        []string
	}{
		{"past the skew window", "Stale", func(d string) *http.Request {
			return mustSignedRequest(t, m, http.MethodPost, "/domains/"+d, []byte(`{"DefaultExpirationDays":10}`), signOpts{at: time.Now().Add(-16 * time.Minute)})
		}, 403, "InvalidSignatureException", []string{"Signature expired"}},
		{"ahead of the skew window", "Future", func(d string) *http.Request {
			return mustSignedRequest(t, m, http.MethodPost, "/domains/"+d, []byte(`{"DefaultExpirationDays":10}`), signOpts{at: time.Now().Add(16 * time.Minute)})
		}, 403, "InvalidSignatureException", []string{"not yet current"}},
		{"presigned address", "Presigned", func(d string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, m.URL()+"/domains/"+d, bytes.NewReader([]byte(`{"DefaultExpirationDays":10}`)))
			u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "profile", testRegion, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			req, _ = http.NewRequest(http.MethodPost, u, bytes.NewReader([]byte(`{"DefaultExpirationDays":10}`)))
			return req
		}, 403, "IncompleteSignatureException", []string{"Presigned"}},
		{"streaming payload signature", "Streaming", func(d string) *http.Request {
			return signWith(d, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}, 400, "InvalidSignatureException", []string{"x-amz-content-sha256"}},
		{"UNSIGNED-PAYLOAD over HTTP", "Unsigned", func(d string) *http.Request {
			return signWith(d, "UNSIGNED-PAYLOAD")
		}, 400, "InvalidSignatureException", []string{"HTTPS"}},
		{"query added after signing", "Query", func(d string) *http.Request {
			req := create(d)
			req.URL.RawQuery = "x=1"
			return req
		}, 403, "InvalidSignatureException", nil},
		{"X-Amz-Target of the KMS added", "Kms", func(d string) *http.Request {
			req := create(d)
			req.Header.Set("X-Amz-Target", localkms.TargetPrefix+"CreateKey")
			return req
		}, 403, "InvalidSignatureException", nil},
		{"X-Amz-Target of IAM added", "Iam", func(d string) *http.Request {
			req := create(d)
			req.Header.Set("X-Amz-Target", iamapi.TargetPrefix+"CreateAccessKey")
			return req
		}, 403, "InvalidSignatureException", nil},
		{"X-Amz-Target of SQS added", "Sqs", func(d string) *http.Request {
			req := create(d)
			req.Header.Set("X-Amz-Target", localsqs.TargetPrefix+"CreateQueue")
			return req
		}, 403, "", nil},
		{"X-Amz-Target of the instance API added", "Connect", func(d string) *http.Request {
			req := create(d)
			req.Header.Set("X-Amz-Target", connect.TargetPrefix+"CreateInstance")
			return req
		}, 403, "IncompleteSignatureException", []string{"X-Amz-Target"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustDo(t, tc.req(tc.domain))
			if tc.exception == "" { // SQS names its errors its own way
				if r.Status != tc.status {
					t.Errorf("got %d %s, want %d", r.Status, r.Body, tc.status)
				}
			} else {
				checkError(t, r, tc.status, tc.exception, tc.words...)
			}
			if _, err := MustClient(t, m).GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(tc.domain)}); err == nil {
				t.Errorf("domain %s was made", tc.domain)
			}
		})
	}
	// The same request, untouched, goes through.
	if r := mustDo(t, create("Untouched")); r.Status != http.StatusOK {
		t.Fatalf("the untouched CreateDomain: %d %s", r.Status, r.Body)
	}
}
