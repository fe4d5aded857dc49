package iam_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openprofiles/profiles/iam"
)

// BenchmarkParse parses the five-statement agent policy of testdata.
func BenchmarkParse(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "agent-policy.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iam.Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate evaluates the five-statement agent policy (actions and
// resources with wildcards, a policy variable, Bool, IpAddress, Date and
// StringNotEqualsIfExists conditions) for an allowed, a denied and a not
// applicable request.
func BenchmarkEvaluate(b *testing.B) {
	p := MustReadPolicy(b, "agent-policy.json")
	ctx := []string{"aws:SecureTransport", "true", "aws:SourceIp", "2001:db8:1234:5::7", "aws:CurrentTime", "2026-03-02T10:00:00Z"}
	for _, bb := range []struct {
		name string
		req  *iam.Request
		want iam.Decision
	}{
		{"Allow", request(alice, "profile:SearchProfiles", retail, ctx...), iam.Allow},
		{"Deny", request(alice, "profile:DeleteDomain", "arn:aws:profile:us-east-1:111122223333:domains/sandbox-alice", ctx...), iam.Deny},
		{"NotApplicable", request(alice, "profile:SearchProfiles", "arn:aws:profile:us-east-1:111122223333:domains/wholesale", ctx...), iam.NotApplicable},
	} {
		b.Run(bb.name, func(b *testing.B) {
			if got := p.Evaluate(bb.req); got != bb.want {
				b.Fatalf("Evaluate = %v, want %v", got, bb.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(bb.req)
			}
		})
	}
}

// BenchmarkAuthorize_KMSKeyPolicy authorises the profiles service on a
// domain key (two resource-policy statements, StringEquals and ArnLike).
func BenchmarkAuthorize_KMSKeyPolicy(b *testing.B) {
	keyPolicy := []*iam.Policy{MustReadPolicy(b, "kms-key-policy.json")}
	r := request(profileSvc, "kms:Decrypt", keyARN, "aws:SourceAccount", account, "aws:SourceArn", retail)
	b.ReportAllocs()
	for b.Loop() {
		if ok, reason := iam.Authorize(r, nil, keyPolicy); !ok {
			b.Fatal(reason)
		}
	}
}
