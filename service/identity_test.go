package service

import (
	"math"
	"testing"
)

func TestJaroWinkler(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"ann", "anne", 0.9417},
		{"ann", "bob", 0},
		{"", "x", 0},
		{"lee", "lee", 1},
	} {
		if got := jaroWinkler(c.a, c.b); math.Abs(got-c.want) > 0.0001 {
			t.Errorf("jaroWinkler(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.want)
		}
	}
}

func TestPairScore(t *testing.T) {
	ann := identityFeatures{emails: []string{"ann@example.com"}, phones: []string{"+33612345678"}, first: "ann", last: "lee",
		street: "1 rue x", postalCode: "69001"}
	for _, c := range []struct {
		name  string
		b     identityFeatures
		match bool
		want  float64
	}{
		{"same email and name", identityFeatures{emails: []string{"ann@example.com"}, first: "ann", last: "lee"}, true, 0.9933},
		{"same phone, name alike", identityFeatures{phones: []string{"+33612345678"}, first: "anne", last: "lee"}, true, 0.982},
		{"shared email, another first name", identityFeatures{emails: []string{"ann@example.com"}, first: "bob", last: "lee"}, false, 0.018},
		// A household: email, phone and address shared, two first names.
		{"household", identityFeatures{emails: []string{"ann@example.com"}, phones: []string{"+33612345678"}, first: "bob", last: "lee",
			street: "1 rue x", postalCode: "69001"}, false, 0.018},
		{"phone and address, no names", identityFeatures{phones: []string{"+33612345678"}, street: "1 rue x", postalCode: "69001"}, true, 0.982},
		{"same email and name, other birth date", identityFeatures{emails: []string{"ann@example.com"}, first: "ann", last: "lee", birth: "1990-01-01"}, false, 0.018},
		{"nothing shared", identityFeatures{first: "ann", last: "lee"}, false, 0.2689},
		{"phone only", identityFeatures{phones: []string{"+33612345678"}}, true, 0.7311},
	} {
		a := ann
		if c.b.birth != "" {
			a.birth = "1991-02-02" // both known, different: two people
		}
		got := pairScore(a, c.b)
		if math.Abs(got-c.want) > 0.0001 || (got > matchThreshold) != c.match {
			t.Errorf("%s: pairScore = %.4f, want %.4f (match %v)", c.name, got, c.want, c.match)
		}
	}
}

func TestBirthDate(t *testing.T) {
	for in, want := range map[string]string{
		"1990-01-02": "1990-01-02", " 1990/01/02 ": "1990-01-02", "19900102": "1990-01-02",
		"1990-01-02T00:00:00Z": "1990-01-02", "1990-01-02 08:00": "1990-01-02",
		"02/01/1990": "02/01/1990", "1990-13-02": "1990-13-02", "Jan 2 1990": "jan 2 1990", "": "",
	} {
		if got := birthDate(in); got != want {
			t.Errorf("birthDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnionFind(t *testing.T) {
	u := unionFind{}
	if got := u.union(5, 3); got != 3 {
		t.Errorf("union(5, 3) = %d, want the smallest member, 3", got)
	}
	u.union(9, 7)
	if got := u.union(7, 5); got != 3 || u.find(9) != 3 {
		t.Errorf("union(7, 5) = %d, find(9) = %d; want 3 and 3", got, u.find(9))
	}
	u.union(11, 12)
	sets := u.sets()
	if len(sets) != 2 || len(sets[3]) != 4 || len(sets[11]) != 2 || u.find(42) != 42 {
		t.Errorf("sets %v, find(42) %d", sets, u.find(42))
	}
}
