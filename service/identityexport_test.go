package service_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/openprofiles/profiles"
)

// refusingBuckets is a profiles.ObjectDestinations that refuses every
// write with its error (an S3 service's refusals are mapped to these codes
// by package awss3). The end-to-end tests write to a real S3 protocol
// server (cmd/openprofiles, fauxqs), which cannot be made to refuse access.
type refusingBuckets struct{ err error }

func (r refusingBuckets) CheckBucket(ctx context.Context, uri string) error { return r.err }

func (r refusingBuckets) PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error {
	return r.err
}

// TestIdentityExport_Refused: a job whose export the bucket refuses ends
// PARTIAL_SUCCESS, says why (each kind of refusal), shows no location, and
// keeps its matches for GetMatches.
func TestIdentityExport_Refused(t *testing.T) {
	for _, c := range []struct {
		code string
		want string
	}{
		{profiles.EFORBIDDEN, "the S3 bucket exports refused this server's writes (its credentials need s3:PutObject on it)"},
		{profiles.ENOTFOUND, "the S3 bucket exports does not exist"},
		{profiles.ETHROTTLED, "the S3 bucket exports throttled the export"},
		{profiles.EINTERNAL, "the S3 bucket exports could not be written (the server's log says why)"},
	} {
		t.Run(c.code, func(t *testing.T) {
			s, _, _ := openDelivery(t)
			s.Objects = refusingBuckets{profiles.Errorf(c.code, "S3 says no (AKIDSECRET)")}
			ctx := t.Context()
			if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{Matching: &profiles.MatchingSettings{Enabled: true,
				ExportingConfig: &profiles.ExportingConfig{S3Exporting: &profiles.S3Exporting{S3BucketName: "exports", S3KeyName: "ir"}}}}); err != nil {
				t.Fatal(err)
			}
			for _, first := range []string{"Ann", "ann"} {
				if _, err := s.CreateProfile(ctx, "enc", map[string]string{"FirstName": first, "LastName": "Lee", "EmailAddress": "ann@example.com"}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.RunIdentityResolution(ctx); err != nil || n != 1 {
				t.Fatalf("RunIdentityResolution: %d, %v", n, err)
			}
			jobs, _, err := s.ListIdentityResolutionJobs(ctx, "enc", profiles.Page{})
			if err != nil || len(jobs) != 1 {
				t.Fatalf("ListIdentityResolutionJobs: %v, %v", jobs, err)
			}
			j := jobs[0]
			if j.Status != "PARTIAL_SUCCESS" || j.ExportingLocation != nil || !strings.Contains(j.Message, c.want) ||
				!strings.Contains(j.Message, "GetMatches") || strings.Contains(j.Message, "AKIDSECRET") {
				t.Errorf("job: status %s, location %+v, message %q; want PARTIAL_SUCCESS, none, %q (S3's own words only in the log)",
					j.Status, j.ExportingLocation, j.Message, c.want)
			}
			m, _, err := s.GetMatches(ctx, "enc", profiles.Page{})
			if err != nil || m.Total != 1 || len(m.Matches[0].ProfileIDs) != 2 {
				t.Errorf("GetMatches: %+v, %v; want the job's group", m, err)
			}
		})
	}
}

// countingBuckets is a profiles.ObjectDestinations that keeps the objects
// written, and refuses writes with err when it is set.
type countingBuckets struct {
	mu      sync.Mutex
	err     error
	puts    int
	objects map[string]string
}

func (c *countingBuckets) CheckBucket(ctx context.Context, uri string) error { return nil }

func (c *countingBuckets) PutObject(ctx context.Context, bucket, key string, body []byte, contentType, kmsKeyARN string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.puts++
	if c.objects == nil {
		c.objects = map[string]string{}
	}
	c.objects[bucket+"/"+key] = string(body)
	return nil
}

func (c *countingBuckets) state() (int, map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts, c.objects
}

// TestRuleExport_WritesOnChange: the rule-based pass writes its groups
// when they changed since the last object written, not at every pass; a
// refused write is logged as an error once while it lasts, and the next
// pass after it writes.
func TestRuleExport_WritesOnChange(t *testing.T) {
	s, _, _ := openDelivery(t)
	dest := &countingBuckets{}
	s.Objects = dest
	var log lockedBuffer
	s.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := t.Context()
	if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{RuleBasedMatching: &profiles.RuleBasedMatchingSettings{Enabled: true,
		MatchingRules:   [][]string{{"EmailAddress"}},
		ExportingConfig: &profiles.ExportingConfig{S3Exporting: &profiles.S3Exporting{S3BucketName: "exports", S3KeyName: "rb"}}}}); err != nil {
		t.Fatal(err)
	}
	profile := func(email string) {
		t.Helper()
		if _, err := s.CreateProfile(ctx, "enc", map[string]string{"EmailAddress": email}); err != nil {
			t.Fatal(err)
		}
	}
	pass := func() {
		t.Helper()
		if n, err := s.RunRuleMerges(ctx, 0); err != nil || n != 1 {
			t.Fatalf("RunRuleMerges: %d, %v; want 1 pass", n, err)
		}
	}
	profile("ann@example.com")
	profile("ann@example.com")
	for range 3 {
		pass()
	}
	puts, objects := dest.state()
	body := objects["exports/rb/enc/rule-based/matches.jsonl"]
	if puts != 1 || strings.Count(body, "\n") != 1 || !strings.Contains(body, `"RuleLevel":1`) {
		t.Fatalf("after 3 passes of the same groups: %d writes, objects %v; want 1 write of 1 group", puts, objects)
	}
	profile("ann@example.com")
	pass()
	var g struct{ ProfileIds []string }
	puts, objects = dest.state()
	json.Unmarshal([]byte(objects["exports/rb/enc/rule-based/matches.jsonl"]), &g)
	if puts != 2 || len(g.ProfileIds) != 3 {
		t.Fatalf("after a third profile joined the group: %d writes, objects %v; want 2 writes, 3 ids", puts, objects)
	}

	dest.mu.Lock()
	dest.err = profiles.Errorf(profiles.EFORBIDDEN, "Access Denied")
	dest.mu.Unlock()
	profile("bob@example.com")
	profile("bob@example.com")
	pass()
	pass()
	if n := strings.Count(log.String(), "level=ERROR msg=\"rule-based matching: export to S3 failed"); n != 1 {
		t.Errorf("a lasting refusal logged as an error %d times, want once:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "refused this server's writes") {
		t.Errorf("the log does not say the bucket refused:\n%s", log.String())
	}
	dest.mu.Lock()
	dest.err = nil
	dest.mu.Unlock()
	pass()
	if puts, objects = dest.state(); puts != 3 || strings.Count(objects["exports/rb/enc/rule-based/matches.jsonl"], "\n") != 2 {
		t.Fatalf("once the bucket takes writes again: %d writes, objects %v; want 3 writes, 2 groups", puts, objects)
	}
}

// TestRuleExport_NoS3NoPass: a domain that exports its rule-based groups
// without merging runs no pass on a server without an S3 service (a pass
// would read every profile for groups that can go nowhere); the server
// logs so once, and passes run once it has one.
func TestRuleExport_NoS3NoPass(t *testing.T) {
	s, _, _ := openDelivery(t)
	s.Objects = nil
	var log lockedBuffer
	s.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := t.Context()
	if _, err := s.UpdateDomain(ctx, "enc", &profiles.DomainUpdate{RuleBasedMatching: &profiles.RuleBasedMatchingSettings{Enabled: true,
		MatchingRules:   [][]string{{"EmailAddress"}},
		ExportingConfig: &profiles.ExportingConfig{S3Exporting: &profiles.S3Exporting{S3BucketName: "exports"}}}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.CreateProfile(ctx, "enc", map[string]string{"EmailAddress": "ann@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if n, err := s.RunRuleMerges(ctx, 0); err != nil || n != 0 {
			t.Fatalf("RunRuleMerges without S3: %d, %v; want no pass", n, err)
		}
	}
	if n := strings.Count(log.String(), "level=ERROR msg=\"rule-based matching: export to S3 failed"); n != 1 || !strings.Contains(log.String(), "no S3 service") {
		t.Errorf("logged %d errors, want one saying there is no S3 service:\n%s", n, log.String())
	}
	dest := &countingBuckets{}
	s.Objects = dest
	if n, err := s.RunRuleMerges(ctx, 0); err != nil || n != 1 {
		t.Fatalf("RunRuleMerges with S3: %d, %v; want 1 pass", n, err)
	}
	if puts, objects := dest.state(); puts != 1 || strings.Count(objects["exports/enc/rule-based/matches.jsonl"], "\n") != 1 {
		t.Errorf("with S3: %d writes, objects %v; want the group written", puts, objects)
	}
}
