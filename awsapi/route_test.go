package awsapi

import "testing"

func TestRouter(t *testing.T) {
	rt := newRouter(routes)
	tests := []struct {
		method, path string
		wantOp       string
		wantLabels   map[string]string
	}{
		{"GET", "/domains", "ListDomains", nil},
		{"POST", "/domains/d1", "CreateDomain", map[string]string{"DomainName": "d1"}},
		{"GET", "/domains/d1", "GetDomain", map[string]string{"DomainName": "d1"}},
		// A literal segment wins over a label in the same place.
		{"POST", "/domains/d1/profiles/objects/merge", "MergeProfiles", map[string]string{"DomainName": "d1"}},
		{"POST", "/domains/d1/profiles/search", "SearchProfiles", map[string]string{"DomainName": "d1"}},
		{"GET", "/domains/d1/profiles/ruleBasedMatches", "ListRuleBasedMatches", map[string]string{"DomainName": "d1"}},
		{"GET", "/domains/d1/object-types/CTR", "GetProfileObjectType", map[string]string{"DomainName": "d1", "ObjectTypeName": "CTR"}},
		// An ARN label arrives percent-encoded as one segment.
		{"GET", "/tags/arn%3Aaws%3Aprofile%3Aus-east-1%3A000000000000%3Adomains%2Fd1", "ListTagsForResource",
			map[string]string{"resourceArn": "arn:aws:profile:us-east-1:000000000000:domains/d1"}},
		{"DELETE", "/tags/arn%3Aaws%3Aprofile%3Aus-east-1%3A000000000000%3Adomains%2Fd1", "UntagResource",
			map[string]string{"resourceArn": "arn:aws:profile:us-east-1:000000000000:domains/d1"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r, labels, _ := rt.match(tt.method, tt.path)
			if r == nil {
				t.Fatalf("no route")
			}
			if got, want := r.Operation, tt.wantOp; got != want {
				t.Fatalf("operation=%s, want %s", got, want)
			}
			for k, want := range tt.wantLabels {
				if got := labels[k]; got != want {
					t.Errorf("label %s=%q, want %q", k, got, want)
				}
			}
		})
	}

	t.Run("Unknown", func(t *testing.T) {
		if r, _, known := rt.match("GET", "/nope"); r != nil || known {
			t.Fatalf("matched %v (known=%v), want nothing", r, known)
		}
		if r, _, known := rt.match("PATCH", "/domains/d1"); r != nil || !known {
			t.Fatalf("PATCH /domains/d1: matched %v known=%v, want no route on a known path", r, known)
		}
		if r, _, _ := rt.match("GET", "/domains//layouts"); r != nil {
			t.Fatalf("empty label matched %s", r.Operation)
		}
	})

	t.Run("NoAmbiguity", func(t *testing.T) {
		// No two routes of the model may tie: same method, same shape, same
		// number of literal segments.
		for i, a := range rt.routes {
			for _, b := range rt.routes[i+1:] {
				if a.Method != b.Method || len(a.segments) != len(b.segments) || a.literals != b.literals {
					continue
				}
				same := true
				for k := range a.segments {
					x, y := a.segments[k], b.segments[k]
					if x.label == "" && y.label == "" && x.literal != y.literal {
						same = false
					}
					if (x.label == "") != (y.label == "") {
						same = false
					}
				}
				if same {
					t.Errorf("%s %s and %s %s are ambiguous", a.Method, a.Template, b.Method, b.Template)
				}
			}
		}
	})
}
