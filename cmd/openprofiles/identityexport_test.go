package main_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/internal/fauxqs"
)

// newExportEnv starts a server whose clock is clock (nil: the real one),
// writing to the S3 of a fauxqs when s3Endpoint is not "" (with made-up
// credentials fauxqs accepts), and creates three profiles in its domain:
// Ann and ann (one person: the same email and name) and Zoe.
func newExportEnv(t *testing.T, clock *testClock, s3Endpoint string, edit ...func(*main.Config)) *ingestEnv {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	edit = append(edit, func(c *main.Config) { c.S3Endpoint = s3Endpoint })
	var e *ingestEnv
	if clock != nil {
		e = newIngestEnvClock(t, clock, edit...)
	} else {
		e = newIngestEnv(t, edit...)
	}
	for _, in := range []customerprofiles.CreateProfileInput{
		{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")},
		{FirstName: aws.String("ann"), LastName: aws.String("LEE"), EmailAddress: aws.String("ANN@example.com")},
		{FirstName: aws.String("Zoe"), LastName: aws.String("Martin"), EmailAddress: aws.String("zoe@example.com")},
	} {
		in.DomainName = aws.String(e.domain)
		if _, err := e.client.CreateProfile(t.Context(), &in); err != nil {
			t.Fatal(err)
		}
		if clock != nil {
			clock.add(time.Second)
		}
	}
	return e
}

// exportTo turns matching on with its results exported to bucket/prefix.
func exportTo(bucket, prefix string) *types.MatchingRequest {
	return &types.MatchingRequest{Enabled: aws.Bool(true), ExportingConfig: &types.ExportingConfig{
		S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String(bucket), S3KeyName: aws.String(prefix)}}}
}

// runOneJob runs the due identity resolution job and returns it, as
// GetIdentityResolutionJob and ListIdentityResolutionJobs (newest first)
// show it.
func runOneJob(t *testing.T, e *ingestEnv) (*customerprofiles.GetIdentityResolutionJobOutput, types.IdentityResolutionJob) {
	t.Helper()
	ctx := t.Context()
	if n, err := e.m.Service.RunIdentityResolution(ctx); err != nil || n != 1 {
		t.Fatalf("RunIdentityResolution: %d, %v; want 1 job", n, err)
	}
	jobs, err := e.client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: aws.String(e.domain)})
	if err != nil || len(jobs.IdentityResolutionJobsList) == 0 {
		t.Fatalf("ListIdentityResolutionJobs: %+v, %v", jobs, err)
	}
	listed := jobs.IdentityResolutionJobsList[0]
	got, err := e.client.GetIdentityResolutionJob(ctx, &customerprofiles.GetIdentityResolutionJobInput{DomainName: aws.String(e.domain), JobId: listed.JobId})
	if err != nil {
		t.Fatal(err)
	}
	return got, listed
}

// TestIdentityResolutionExport: with Matching.ExportingConfig, a job
// writes its match groups to the bucket (fauxqs's S3), as JSON lines equal
// to what GetMatches returns, and says where in ExportingLocation; a job
// with no matches writes an empty object.
func TestIdentityResolutionExport(t *testing.T) {
	endpoint := fauxqs.Start(t)
	clock := &testClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} // a Wednesday
	e := newExportEnv(t, clock, endpoint)
	ctx := t.Context()
	dn := aws.String(e.domain)
	fauxqs.CreateBucket(t, endpoint, testRegion, "matches")

	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: exportTo("matches", "identity/weekly/")}); err != nil {
		t.Fatal(err)
	}
	got, listed := runOneJob(t, e)
	key := "identity/weekly/" + e.domain + "/" + aws.ToString(got.JobId) + "/matches.jsonl"
	if got.Status != types.IdentityResolutionJobStatusCompleted || aws.ToString(got.Message) != "" || got.ExportingLocation == nil ||
		got.ExportingLocation.S3Exporting == nil || aws.ToString(got.ExportingLocation.S3Exporting.S3BucketName) != "matches" ||
		aws.ToString(got.ExportingLocation.S3Exporting.S3KeyName) != key {
		t.Fatalf("GetIdentityResolutionJob: status %s, message %q, location %+v; want COMPLETED, exported to matches/%s",
			got.Status, aws.ToString(got.Message), got.ExportingLocation, key)
	}
	if l := listed.ExportingLocation; l == nil || l.S3Exporting == nil || aws.ToString(l.S3Exporting.S3KeyName) != key ||
		aws.ToString(l.S3Exporting.S3BucketName) != "matches" {
		t.Errorf("ListIdentityResolutionJobs: location %+v, want matches/%s", l, key)
	}

	m, err := e.client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
	if err != nil || len(m.Matches) != 1 {
		t.Fatalf("GetMatches: %+v, %v", m, err)
	}
	body := fauxqs.GetObject(t, endpoint, testRegion, "matches", key)
	if !strings.HasSuffix(string(body), "\n") {
		t.Errorf("export %q does not end its line", body)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("export: %q, want 1 line (1 match group)", body)
	}
	var line struct {
		MatchId         string
		ProfileIds      []string
		ConfidenceScore float64
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	want := m.Matches[0]
	if line.MatchId != aws.ToString(want.MatchId) || !slices.Equal(line.ProfileIds, want.ProfileIds) || len(line.ProfileIds) != 2 ||
		line.ConfidenceScore != aws.ToFloat64(want.ConfidenceScore) || line.ConfidenceScore != 0.9933 {
		t.Errorf("exported %+v; GetMatches says %s %v %v", line, aws.ToString(want.MatchId), want.ProfileIds, aws.ToFloat64(want.ConfidenceScore))
	}

	// Without a prefix, the objects are DOMAIN/JOB_ID/matches.jsonl; a job
	// that finds nothing writes an empty object. (Zoe alone: ann merged
	// away by hand.)
	if _, err := e.client.MergeProfiles(ctx, &customerprofiles.MergeProfilesInput{DomainName: dn, MainProfileId: aws.String(want.ProfileIds[0]),
		ProfileIdsToBeMerged: want.ProfileIds[1:]}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true),
		ExportingConfig: &types.ExportingConfig{S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String("matches")}}}}); err != nil {
		t.Fatal(err)
	}
	clock.add(4 * 24 * time.Hour) // past Saturday 00:00
	got, _ = runOneJob(t, e)
	key = e.domain + "/" + aws.ToString(got.JobId) + "/matches.jsonl"
	if got.Status != types.IdentityResolutionJobStatusCompleted || got.JobStats.NumberOfMatchesFound != 0 || got.ExportingLocation == nil ||
		aws.ToString(got.ExportingLocation.S3Exporting.S3KeyName) != key {
		t.Fatalf("second job: status %s, stats %+v, location %+v; want COMPLETED, 0 matches, exported to %s", got.Status, got.JobStats, got.ExportingLocation, key)
	}
	if body := fauxqs.GetObject(t, endpoint, testRegion, "matches", key); len(body) != 0 {
		t.Errorf("export of no matches: %q, want empty", body)
	}
	if keys := fauxqs.ListKeys(t, endpoint, testRegion, "matches", ""); len(keys) != 2 {
		t.Errorf("bucket holds %v, want the two jobs' objects", keys)
	}

	// Without ExportingConfig nothing is exported, and no location shown.
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	clock.add(7 * 24 * time.Hour)
	if got, _ = runOneJob(t, e); got.Status != types.IdentityResolutionJobStatusCompleted || got.ExportingLocation != nil {
		t.Errorf("job without ExportingConfig: status %s, location %+v; want COMPLETED, none", got.Status, got.ExportingLocation)
	}
}

// TestIdentityResolutionExport_Failures: a job that cannot export (the
// bucket missing, no S3 service on the server) ends PARTIAL_SUCCESS with a
// Message that says why and no ExportingLocation; GetMatches reads its
// matches all the same.
func TestIdentityResolutionExport_Failures(t *testing.T) {
	endpoint := fauxqs.Start(t)
	for _, c := range []struct {
		name     string
		endpoint string
		want     []string
	}{
		{"missing bucket", endpoint, []string{"not exported", "S3 bucket no-such-bucket does not exist", "GetMatches"}},
		{"no S3 service", "", []string{"not exported", "no-such-bucket", "--s3-endpoint", "GetMatches"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := &testClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
			e := newExportEnv(t, clock, c.endpoint)
			ctx := t.Context()
			dn := aws.String(e.domain)
			if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: exportTo("no-such-bucket", "ir")}); err != nil {
				t.Fatal(err)
			}
			got, listed := runOneJob(t, e)
			msg := aws.ToString(got.Message)
			if got.Status != types.IdentityResolutionJobStatusPartialSuccess || got.ExportingLocation != nil || listed.ExportingLocation != nil ||
				listed.Status != got.Status || aws.ToString(listed.Message) != msg || got.JobStats.NumberOfMatchesFound != 1 {
				t.Fatalf("job: status %s, message %q, location %+v (listed: %+v), stats %+v; want PARTIAL_SUCCESS, no location",
					got.Status, msg, got.ExportingLocation, listed.ExportingLocation, got.JobStats)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			m, err := e.client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
			if err != nil || len(m.Matches) != 1 || len(m.Matches[0].ProfileIds) != 2 {
				t.Fatalf("GetMatches after a failed export: %+v, %v; want the job's match group", m, err)
			}
		})
	}
}

// TestIdentityResolutionExport_Settings: ExportingConfig is checked as the
// model says on CreateDomain and UpdateDomain (Matching and
// RuleBasedMatching), naming the member; and its caller must be allowed to
// write where the jobs will write (the server writes with its own
// credentials).
func TestIdentityResolutionExport_Settings(t *testing.T) {
	e := newIngestEnv(t)
	ctx := t.Context()
	long := strings.Repeat("k", 801)
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"no bucket", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3KeyName":"x"}}}}`, []string{"Matching.ExportingConfig.S3Exporting.S3BucketName"}},
		{"short bucket", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"ab"}}}}`, []string{"Matching.ExportingConfig.S3Exporting.S3BucketName"}},
		{"long bucket", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"` + strings.Repeat("b", 64) + `"}}}}`, []string{"S3BucketName"}},
		{"bucket pattern", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"My_Bucket"}}}}`, []string{"Matching.ExportingConfig.S3Exporting.S3BucketName"}},
		{"empty key", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"exports","S3KeyName":""}}}}`, []string{"Matching.ExportingConfig.S3Exporting.S3KeyName"}},
		{"long key", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"exports","S3KeyName":"` + long + `"}}}}`, []string{"Matching.ExportingConfig.S3Exporting.S3KeyName"}},
		// Past the model, the names S3 refuses, which no job could write to.
		{"bucket edge", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"exports-"}}}}`,
			[]string{"Matching.ExportingConfig.S3Exporting.S3BucketName", "begin and end with a letter or digit"}},
		{"bucket dots", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"my..exports"}}}}`,
			[]string{"Matching.ExportingConfig.S3Exporting.S3BucketName", "two dots"}},
		{"bucket IP", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"192.168.5.4"}}}}`,
			[]string{"Matching.ExportingConfig.S3Exporting.S3BucketName", "IP address"}},
		{"key bytes", `{"Matching":{"Enabled":true,"ExportingConfig":{"S3Exporting":{"S3BucketName":"exports","S3KeyName":"` + strings.Repeat("é", 500) + `"}}}}`,
			[]string{"Matching.ExportingConfig.S3Exporting.S3KeyName", "1,024"}},
		{"rule-based bucket", `{"RuleBasedMatching":{"Enabled":true,"MatchingRules":[{"Rule":["EmailAddress"]}],"ExportingConfig":{"S3Exporting":{"S3BucketName":"x!y"}}}}`,
			[]string{"RuleBasedMatching.ExportingConfig.S3Exporting.S3BucketName"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, call := range []struct{ method, body string }{
				{"PUT", c.body},
				{"POST", strings.Replace(c.body, "{", `{"DefaultExpirationDays":30,`, 1)},
			} {
				path := "/domains/" + e.domain
				if call.method == "POST" {
					path = "/domains/export-settings"
				}
				r := mustDo(t, mustSignedRequest(t, e.m, call.method, path, []byte(call.body), signOpts{}))
				checkError(t, r, 400, "BadRequestException", c.want...)
			}
		})
	}
	if _, _, err := e.m.Service.GetDomain(ctx, "export-settings"); err == nil {
		t.Errorf("a CreateDomain refused for its ExportingConfig created the domain")
	}

	// The caller names where the server will write: it needs s3:PutObject
	// there.
	key, err := e.m.Service.EncryptionKeyARN(ctx, e.domain)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{`{"Effect":"Allow","Action":"profile:*","Resource":"*"}`, `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key + `"}`}
	admin := mustUser(t, e.m, "admin", map[string]string{"p": policy(base...)})
	in := &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), Matching: exportTo("exports", "/ir/")}
	_, err = admin.UpdateDomain(ctx, in)
	wantAPIError(t, err, "AccessDeniedException", "s3:PutObject", "arn:aws:s3:::exports/ir/"+e.domain+"/*")
	exporter := mustUser(t, e.m, "exporter", map[string]string{"p": policy(append(base,
		`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::exports/ir/*"}`)...)})
	out, err := exporter.UpdateDomain(ctx, in)
	if err != nil {
		t.Fatalf("UpdateDomain with s3:PutObject on the objects: %v", err)
	}
	if ec := out.Matching.ExportingConfig; ec == nil || aws.ToString(ec.S3Exporting.S3BucketName) != "exports" || aws.ToString(ec.S3Exporting.S3KeyName) != "/ir/" {
		t.Errorf("UpdateDomain answers ExportingConfig %+v", ec)
	}
	_, err = admin.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), RuleBasedMatching: &types.RuleBasedMatchingRequest{
		Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		ExportingConfig: &types.ExportingConfig{S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String("rules")}}}})
	wantAPIError(t, err, "AccessDeniedException", "s3:PutObject", "arn:aws:s3:::rules/"+e.domain+"/*")
	if _, err := admin.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), Matching: &types.MatchingRequest{Enabled: aws.Bool(true)}}); err != nil {
		t.Errorf("UpdateDomain without ExportingConfig needs no s3:PutObject: %v", err)
	}
}

// TestRuleBasedMatchingExport: with RuleBasedMatching.ExportingConfig, the
// sweep's rule-based pass writes the match groups to the bucket (fauxqs's
// S3), even without merging, and writes them again when they change.
func TestRuleBasedMatchingExport(t *testing.T) {
	endpoint := fauxqs.Start(t)
	e := newExportEnv(t, nil, endpoint, func(c *main.Config) { c.SweepInterval = 50 * time.Millisecond })
	ctx := t.Context()
	dn := aws.String(e.domain)
	fauxqs.CreateBucket(t, endpoint, testRegion, "rules")
	out, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, RuleBasedMatching: &types.RuleBasedMatchingRequest{
		Enabled: aws.Bool(true), MatchingRules: []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		ExportingConfig: &types.ExportingConfig{S3Exporting: &types.S3ExportingConfig{S3BucketName: aws.String("rules"), S3KeyName: aws.String("rb/")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.RuleBasedMatching.Status != types.RuleBasedMatchingStatusActive {
		t.Errorf("status %s, want ACTIVE (matching only)", out.RuleBasedMatching.Status)
	}
	key := "rb/" + e.domain + "/rule-based/matches.jsonl"
	type line struct {
		MatchId    string
		RuleLevel  int
		ProfileIds []string
	}
	read := func() []line {
		var got []line
		if keys := fauxqs.ListKeys(t, endpoint, testRegion, "rules", ""); !slices.Contains(keys, key) {
			return nil
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(fauxqs.GetObject(t, endpoint, testRegion, "rules", key)), "\n"), "\n") {
			var g line
			if err := json.Unmarshal([]byte(l), &g); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			got = append(got, g)
		}
		return got
	}
	var got []line
	e.waitFor("the export of the groups", func() bool { got = read(); return len(got) > 0 })
	ids, err := e.client.ListRuleBasedMatches(ctx, &customerprofiles.ListRuleBasedMatchesInput{DomainName: dn})
	if err != nil || len(ids.MatchIds) != 1 {
		t.Fatalf("ListRuleBasedMatches: %+v, %v", ids, err)
	}
	sim, err := e.client.GetSimilarProfiles(ctx, &customerprofiles.GetSimilarProfilesInput{DomainName: dn, MatchType: types.MatchTypeRuleBasedMatching,
		SearchKey: aws.String("MatchId"), SearchValue: aws.String(ids.MatchIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MatchId != ids.MatchIds[0] || got[0].RuleLevel != 1 || len(got[0].ProfileIds) != 2 ||
		!slices.Equal(sorted(got[0].ProfileIds...), sorted(sim.ProfileIds...)) {
		t.Fatalf("exported %+v; ListRuleBasedMatches %v, GetSimilarProfiles %v", got, ids.MatchIds, sim.ProfileIds)
	}

	// A new profile of Zoe's email: a second group, exported at a next
	// pass. Nothing was merged.
	if _, err := e.client.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: dn, FirstName: aws.String("Zoé"),
		EmailAddress: aws.String("zoe@example.com")}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the export of the second group", func() bool { got = read(); return len(got) == 2 })
	for _, g := range got {
		if len(g.ProfileIds) != 2 || g.RuleLevel != 1 {
			t.Errorf("exported group %+v", g)
		}
	}
	found, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
	if err != nil || len(found.Items) != 2 {
		t.Errorf("ann@example.com finds %d profiles (%v), want 2: exporting merges nothing", len(found.Items), err)
	}
}
