package iam_test

import (
	"crypto/tls"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/openprofiles/profiles/iam"
)

func TestRequestContext(t *testing.T) {
	now := time.Date(2026, 11, 26, 13, 0, 0, 0, time.FixedZone("UTC+2", 7200))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::1]:5050"
	r.TLS = &tls.ConnectionState{}
	got := iam.RequestContext(r, now)
	want := map[string][]string{"aws:CurrentTime": {"2026-11-26T11:00:00Z"}, "aws:EpochTime": {"1795690800"},
		"aws:SecureTransport": {"true"}, "aws:SourceIp": {"::1"}}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// The keys decide a policy with conditions on them.
	pol, err := iam.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*",
		"Condition":{"IpAddress":{"aws:SourceIp":"::1/128"},"Bool":{"aws:SecureTransport":"true"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := iam.Authorize(&iam.Request{Principal: "p", Action: "kms:ListKeys", Resource: "*", Context: got}, []*iam.Policy{pol}, nil); !ok {
		t.Error("a policy for ::1 over TLS refuses the request")
	}
	r.RemoteAddr = "garbage"
	if _, ok := iam.RequestContext(r, now)["aws:SourceIp"]; ok {
		t.Error("aws:SourceIp from an unparsable remote address")
	}
}
