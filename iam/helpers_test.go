package iam_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openprofiles/profiles/iam"
)

// Fixed names used across the tests.
const (
	account    = "111122223333"
	otherAcct  = "444455556666"
	alice      = "arn:aws:iam::111122223333:user/alice"
	bob        = "arn:aws:iam::111122223333:user/bob"
	mallory    = "arn:aws:iam::444455556666:user/mallory"
	rootARN    = "arn:aws:iam::111122223333:root"
	profileSvc = "profile.amazonaws.com"
	retail     = "arn:aws:profile:us-east-1:111122223333:domains/retail"
	keyARN     = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	queueARN   = "arn:aws:sqs:us-east-1:111122223333:profiles-dead-letters"
)

// MustParse parses doc or fails the test.
func MustParse(tb testing.TB, doc string) *iam.Policy {
	tb.Helper()
	p, err := iam.Parse([]byte(doc))
	if err != nil {
		tb.Fatalf("Parse: %v\n%s", err, doc)
	}
	return p
}

// MustReadPolicy parses testdata/name or fails the test.
func MustReadPolicy(tb testing.TB, name string) *iam.Policy {
	tb.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return MustParse(tb, string(doc))
}

// policy wraps statements (JSON objects) into a 2012-10-17 document.
func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// allowAll is an Allow statement for every action and resource with the
// given Condition element (empty for none).
func allowAll(condition string) string {
	if condition == "" {
		return `{"Effect":"Allow","Action":"*","Resource":"*"}`
	}
	return `{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + condition + `}`
}

// request builds a Request; kv holds context keys and values alternately,
// a value with '|' being several values.
func request(principal, action, resource string, kv ...string) *iam.Request {
	r := &iam.Request{Principal: principal, Action: action, Resource: resource}
	if len(kv) > 0 {
		r.Context = make(map[string][]string)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				r.Context[kv[i]] = []string{}
				continue
			}
			r.Context[kv[i]] = strings.Split(kv[i+1], "|")
		}
	}
	return r
}
