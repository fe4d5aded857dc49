package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/openprofiles/profiles"
)

func TestSessionCookie(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := &Server{Secret: []byte("k"), Now: func() time.Time { return now }}
	sess := &session{Principal: "arn:aws:iam::000000000000:user/grace", AccessKeyID: "AKIA1", Expires: now.Add(time.Hour).Unix(), Nonce: "n1"}
	v := s.encodeSession(sess)
	got, ok := s.decodeSession(v)
	if !ok || *got != *sess {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	payload, sig, _ := strings.Cut(v, ".")
	for name, bad := range map[string]string{
		"tampered payload": payload[:len(payload)-2] + "AA." + sig,
		"no signature":     payload,
		"other key":        (&Server{Secret: []byte("other"), Now: s.Now}).encodeSession(sess),
		"garbage":          "x.y",
	} {
		if _, ok := s.decodeSession(bad); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, ok := s.decodeSession(v); ok {
		t.Error("an expired session was accepted")
	}
	if s.csrfToken(sess) == s.csrfToken(&session{Nonce: "n2"}) || !validToken(s.csrfToken(sess), s.csrfToken(sess)) || validToken("", "") {
		t.Error("CSRF tokens are not per session")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/domains/x": "/console/domains/x", "https://evil.example/": Prefix, "//evil.example/console/": Prefix,
		"/console/\r\nSet-Cookie: x": Prefix, "": Prefix, "/domains": Prefix,
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchQuery(t *testing.T) {
	keys := func(q profiles.SearchQuery) string {
		out := []string{q.Key.KeyName}
		for _, k := range q.Additional {
			out = append(out, k.KeyName)
		}
		return strings.Join(out, "|") + " " + q.LogicalOperator
	}
	for in, want := range map[string]string{
		"(206) 555-0100": "_phone|_account OR", "+44 20 7946 0958": "_phone|_account OR", "Ana.Silva@Example.com": "_email ",
		"Ana Silva": "_fullName|_account|_profileId OR", "A-1234": "_fullName|_account|_profileId OR",
		"+1 (206) 555-0100 ext. 12": "_phone|_account OR", "206-555-0100x12": "_phone|_account OR", "206 555 0100 #12": "_phone|_account OR",
		"tel:+12065550100": "_phone|_account OR", "Extension 2065550100": "_fullName|_account|_profileId OR",
		"ACC 2065550100": "_fullName|_account|_profileId OR",
	} {
		q, err := searchQuery(in, "auto", "")
		if err != nil || keys(q) != want {
			t.Errorf("searchQuery(%q) = %s, %v; want %s", in, keys(q), err, want)
		}
	}
	if q, _ := searchQuery("c-1", "key", "_ctrContactId"); q.Key.KeyName != "_ctrContactId" {
		t.Errorf("by key: %+v", q)
	}
	if _, err := searchQuery("c-1", "key", ""); profiles.ErrorCode(err) != profiles.EINVALID {
		t.Errorf("by key without a name: %v", err)
	}
}

func TestChart(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c := newChart([]profiles.IngestCount{{Start: start, Ingested: 100}, {Start: start.Add(time.Hour), Ingested: 1, Failed: 50}, {Start: start.Add(2 * time.Hour)}})
	if c.Ingested != 101 || c.Failed != 50 || c.Max != 100 || len(c.Bars) != 3 {
		t.Fatalf("chart %+v", c)
	}
	if c.Bars[0].OkH != chartHeight || c.Bars[1].OkH != 1 || c.Bars[1].FH != chartHeight/2 || c.Bars[2].OkH+c.Bars[2].FH != 0 {
		t.Errorf("bar heights %+v", c.Bars)
	}
}

func TestPagesParse(t *testing.T) {
	pages := parsePages()
	for _, name := range pageNames {
		if pages[name] == nil || pages[name].Lookup("content") == nil {
			t.Errorf("page %s has no content template", name)
		}
	}
}
