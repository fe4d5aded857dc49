package iam_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/openprofiles/profiles/iam"
)

// FuzzParse checks that Parse never panics, that its errors are positioned
// SyntaxErrors, and that every policy it accepts survives MarshalJSON: the
// output parses to the same Policy and is a fixed point. It also evaluates
// the policy against a request built from its own actions, resources and
// condition values, so that the matchers see the fuzzed patterns.
//
// The seed corpus is testdata/fuzz/FuzzParse plus the testdata policies.
// Run: go test ./iam/ -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		doc, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := iam.Parse(doc)
		if err != nil {
			var se *iam.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %v (%T) is not a *SyntaxError", err, err)
			}
			if se.Line < 1 || se.Column < 1 || se.Msg == "" {
				t.Fatalf("Parse error without position or message: %+v", se)
			}
			return
		}
		out, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON of a parsed policy: %v", err)
		}
		q, err := iam.Parse(out)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON) = %v\ninput:  %q\noutput: %s", err, doc, out)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the policy\nbefore: %#v\nafter:  %#v\noutput: %s", p, q, out)
		}
		if again, _ := q.MarshalJSON(); !bytes.Equal(out, again) {
			t.Fatalf("MarshalJSON is not a fixed point:\n%s\n%s", out, again)
		}
		for _, r := range selfRequests(p) {
			d := p.Evaluate(r)
			iam.Authorize(r, []*iam.Policy{p}, []*iam.Policy{q})
			if d2 := q.Evaluate(r); d2 != d {
				t.Fatalf("Evaluate differs after round trip: %v, %v", d, d2)
			}
		}
	})
}

// selfRequests builds requests out of a policy's own strings.
func selfRequests(p *iam.Policy) []*iam.Request {
	ctx := make(map[string][]string)
	var reqs []*iam.Request
	for _, s := range p.Statements {
		for _, c := range s.Conditions {
			ctx[c.Key] = c.Values
		}
	}
	for _, s := range p.Statements {
		r := &iam.Request{Principal: alice, Action: "profile:GetProfile", Resource: retail, Context: ctx}
		if len(s.Actions) > 0 {
			r.Action = s.Actions[0]
		}
		if len(s.Resources) > 0 {
			r.Resource = s.Resources[0]
		}
		if s.Principal != nil && len(s.Principal.AWS) > 0 {
			r.Principal = s.Principal.AWS[0]
		}
		reqs = append(reqs, r)
	}
	return reqs
}
