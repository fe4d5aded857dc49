package main_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/openprofiles/profiles/internal/sdkhttp"
)

// TestAccess_KMSAndSQSConditions: the built-in KMS and queue service's APIs
// evaluate identity policies with the request's condition keys, as the
// Customer Profiles API does: a policy allowing only from 127.0.0.0/8
// allows a loopback caller, one allowing only from 10.0.0.0/8 does not.
func TestAccess_KMSAndSQSConditions(t *testing.T) {
	m := MustRunMain(t)
	ctx := t.Context()
	allowFrom := func(cidr string) string {
		return `{"Effect":"Allow","Action":["kms:ListKeys","sqs:ListQueues"],"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"` + cidr + `"},"Bool":{"aws:SecureTransport":"false"}}}`
	}
	for _, tc := range []struct {
		user, cidr string
		allowed    bool
	}{{"loopback", "127.0.0.0/8", true}, {"elsewhere", "10.0.0.0/8", false}} {
		id, secret := mustAgent(t, m, tc.user, allowFrom(tc.cidr))
		transport := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(transport.CloseIdleConnections)
		creds := credentials.NewStaticCredentialsProvider(id, secret, "")
		k := kms.New(kms.Options{BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
			Credentials: creds, HTTPClient: sdkhttp.New(&http.Client{Transport: transport})})
		q := sqs.New(sqs.Options{BaseEndpoint: aws.String(m.URL()), Region: testRegion, RetryMaxAttempts: 1,
			Credentials: creds, HTTPClient: sdkhttp.New(&http.Client{Transport: transport})})
		_, kerr := k.ListKeys(ctx, &kms.ListKeysInput{})
		_, qerr := q.ListQueues(ctx, &sqs.ListQueuesInput{})
		for name, err := range map[string]error{"kms:ListKeys": kerr, "sqs:ListQueues": qerr} {
			switch {
			case tc.allowed && err != nil:
				t.Errorf("%s from loopback with a policy for %s: %v", name, tc.cidr, err)
			case !tc.allowed && (err == nil || !strings.Contains(err.Error(), "AccessDenied")):
				t.Errorf("%s from loopback with a policy for %s only: %v, want AccessDenied", name, tc.cidr, err)
			}
		}
	}
}
