package main_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestIdentityResolution drives similarity matching through the SDK: jobs
// run on the domain's schedule (the server's clock is moved), GetMatches
// and GetSimilarProfiles read the groups, GetAutoMergingPreview counts,
// and a job with AutoMerging merges.
func TestIdentityResolution(t *testing.T) {
	// A Wednesday; the schedule says Sunday 03:00.
	clock := &testClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	e := newIngestEnvClock(t, clock)
	ctx := t.Context()
	dn := aws.String(e.domain)

	_, err := e.client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
	wantAPIError(t, err, "BadRequestException", "Matching is not enabled")

	schedule := &types.JobSchedule{DayOfTheWeek: types.JobScheduleDayOfTheWeekSunday, Time: aws.String("3:00")}
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn,
		Matching: &types.MatchingRequest{Enabled: aws.Bool(true), JobSchedule: schedule}}); err != nil {
		t.Fatal(err)
	}
	m, err := e.client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
	if err != nil || len(m.Matches) != 0 || aws.ToInt32(m.PotentialMatches) != 0 || m.MatchGenerationDate != nil {
		t.Fatalf("GetMatches before any job: %+v, %v", m, err)
	}
	consolidation := func(attrs ...string) *types.Consolidation {
		return &types.Consolidation{MatchingAttributesList: [][]string{attrs}}
	}
	_, err = e.client.GetAutoMergingPreview(ctx, &customerprofiles.GetAutoMergingPreviewInput{DomainName: dn,
		Consolidation: consolidation("EmailAddress"), ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}})
	wantAPIError(t, err, "BadRequestException", "no matches yet")

	create := func(in customerprofiles.CreateProfileInput) string {
		in.DomainName = dn
		out, err := e.client.CreateProfile(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		clock.add(time.Second)
		return aws.ToString(out.ProfileId)
	}
	a := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com"),
		PhoneNumber: aws.String("+33 6 12 34 56 78"), Address: &types.Address{City: aws.String("Lyon")}})
	b := create(customerprofiles.CreateProfileInput{FirstName: aws.String("ann"), LastName: aws.String("LEE"), EmailAddress: aws.String("ANN@example.com"),
		BusinessName: aws.String("Lee & Co")})
	c := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Anne"), LastName: aws.String("Lee"), MobilePhoneNumber: aws.String("+33612345678"),
		BirthDate: aws.String("1990-01-02")})
	f := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Ann"), LastName: aws.String("Lee"), BirthDate: aws.String("1990-01-02")})
	d := create(customerprofiles.CreateProfileInput{FirstName: aws.String("Bob"), LastName: aws.String("Lee"), EmailAddress: aws.String("ann@example.com")})
	create(customerprofiles.CreateProfileInput{FirstName: aws.String("Zoe"), LastName: aws.String("Martin"), EmailAddress: aws.String("zoe@example.com")})

	// The first job runs when the sweeper first sees Matching on; the
	// next only after the next Sunday 03:00.
	if n, err := e.m.Service.RunIdentityResolution(ctx); err != nil || n != 1 {
		t.Fatalf("RunIdentityResolution: %d, %v; want 1 job", n, err)
	}
	if n, err := e.m.Service.RunIdentityResolution(ctx); err != nil || n != 0 {
		t.Fatalf("RunIdentityResolution again: %d, %v; want none", n, err)
	}
	jobs, err := e.client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: dn})
	if err != nil || len(jobs.IdentityResolutionJobsList) != 1 {
		t.Fatalf("ListIdentityResolutionJobs: %+v, %v", jobs, err)
	}
	j := jobs.IdentityResolutionJobsList[0]
	if j.Status != types.IdentityResolutionJobStatusCompleted || j.JobStartTime == nil || j.JobEndTime == nil ||
		j.JobStats.NumberOfProfilesReviewed != 6 || j.JobStats.NumberOfMatchesFound != 1 || j.JobStats.NumberOfMergesDone != 0 {
		t.Fatalf("job: %+v, stats %+v", j, j.JobStats)
	}
	got, err := e.client.GetIdentityResolutionJob(ctx, &customerprofiles.GetIdentityResolutionJobInput{DomainName: dn, JobId: j.JobId})
	if err != nil || got.Status != types.IdentityResolutionJobStatusCompleted || got.JobExpirationTime == nil || got.AutoMerging != nil ||
		!got.JobExpirationTime.After(*got.JobStartTime) {
		t.Fatalf("GetIdentityResolutionJob: %+v, %v", got, err)
	}
	_, err = e.client.GetIdentityResolutionJob(ctx, &customerprofiles.GetIdentityResolutionJobInput{DomainName: dn, JobId: aws.String("0123456789abcdef0123456789abcdef")})
	wantAPIError(t, err, "ResourceNotFoundException", "0123456789abcdef0123456789abcdef")

	// Ann, ann (same email and name), Anne (same phone, name alike) and
	// Ann with Anne's birth date are one person; Bob shares Ann's email but
	// not her name, Zoe nothing.
	m, err = e.client.GetMatches(ctx, &customerprofiles.GetMatchesInput{DomainName: dn})
	if err != nil || len(m.Matches) != 1 || aws.ToInt32(m.PotentialMatches) != 1 || m.MatchGenerationDate == nil {
		t.Fatalf("GetMatches: %+v, %v", m, err)
	}
	group := m.Matches[0]
	if want := sorted(a, b, c, f); !slices.Equal(group.ProfileIds, want) || aws.ToFloat64(group.ConfidenceScore) != 0.8808 {
		t.Fatalf("match %+v: want profiles %v, confidence 0.8808 (its weakest link: Anne and Ann by last name and birth date)", group, want)
	}
	sim, err := e.client.GetSimilarProfiles(ctx, &customerprofiles.GetSimilarProfilesInput{DomainName: dn, MatchType: types.MatchTypeMlBasedMatching,
		SearchKey: aws.String("_profileId"), SearchValue: aws.String(c)})
	if err != nil || aws.ToString(sim.MatchId) != aws.ToString(group.MatchId) || len(sim.ProfileIds) != 4 || aws.ToFloat64(sim.ConfidenceScore) != 0.8808 {
		t.Fatalf("GetSimilarProfiles(ML_BASED_MATCHING): %+v, %v", sim, err)
	}
	if sim, err := e.client.GetSimilarProfiles(ctx, &customerprofiles.GetSimilarProfilesInput{DomainName: dn, MatchType: types.MatchTypeMlBasedMatching,
		SearchKey: aws.String("_profileId"), SearchValue: aws.String(d)}); err != nil || len(sim.ProfileIds) != 0 || sim.MatchId != nil {
		t.Fatalf("GetSimilarProfiles of Bob: %+v, %v; want no group", sim, err)
	}

	preview := func(cons *types.Consolidation, minScore *float64) *customerprofiles.GetAutoMergingPreviewOutput {
		t.Helper()
		out, err := e.client.GetAutoMergingPreview(ctx, &customerprofiles.GetAutoMergingPreviewInput{DomainName: dn, Consolidation: cons,
			ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}, MinAllowedConfidenceScoreForMerging: minScore})
		if err != nil {
			t.Fatalf("GetAutoMergingPreview: %v", err)
		}
		return out
	}
	if p := preview(consolidation("EmailAddress"), nil); p.NumberOfMatchesInSample != 1 || p.NumberOfProfilesInSample != 4 ||
		p.NumberOfProfilesWillBeMerged != 1 {
		t.Errorf("preview by EmailAddress: %+v, want 1 match, 4 profiles, 1 merged (ann into Ann)", p)
	}
	if p := preview(consolidation("LastName"), nil); p.NumberOfProfilesWillBeMerged != 3 {
		t.Errorf("preview by LastName: %d merged, want 3", p.NumberOfProfilesWillBeMerged)
	}
	if p := preview(consolidation("LastName"), aws.Float64(0.9)); p.NumberOfProfilesWillBeMerged != 0 {
		t.Errorf("preview with MinAllowedConfidenceScoreForMerging 0.9: %d merged, want 0", p.NumberOfProfilesWillBeMerged)
	}

	// Auto-merging needs its criteria: without them it would merge whole groups.
	_, err = e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true),
		AutoMerging: &types.AutoMerging{Enabled: aws.Bool(true)}}})
	wantAPIError(t, err, "BadRequestException", "Consolidation")
	_, err = e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true),
		AutoMerging: &types.AutoMerging{Enabled: aws.Bool(true), Consolidation: consolidation("EmailAddress"),
			ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelSource}}}})
	wantAPIError(t, err, "BadRequestException", "SourceName")

	// Auto-merging on: the next Sunday's job merges ann into Ann (the
	// profile updated last is the main one), and keeps every field.
	if _, err := e.client.UpdateDomain(ctx, &customerprofiles.UpdateDomainInput{DomainName: dn, Matching: &types.MatchingRequest{Enabled: aws.Bool(true),
		JobSchedule: schedule, AutoMerging: &types.AutoMerging{Enabled: aws.Bool(true), Consolidation: consolidation("EmailAddress", "LastName"),
			ConflictResolution: &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}}}}); err != nil {
		t.Fatal(err)
	}
	clock.add(4 * 24 * time.Hour) // Sunday 10:00
	if n, err := e.m.Service.RunIdentityResolution(ctx); err != nil || n != 1 {
		t.Fatalf("RunIdentityResolution on Sunday: %d, %v; want 1 job", n, err)
	}
	jobs, err = e.client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: dn, MaxResults: aws.Int32(1)})
	if err != nil || len(jobs.IdentityResolutionJobsList) != 1 || jobs.NextToken == nil {
		t.Fatalf("ListIdentityResolutionJobs page 1: %+v, %v", jobs, err)
	}
	j2 := jobs.IdentityResolutionJobsList[0]
	if j2.Status != types.IdentityResolutionJobStatusCompleted || j2.JobStats.NumberOfMergesDone != 1 || aws.ToString(j2.JobId) <= aws.ToString(j.JobId) {
		t.Fatalf("second job: %+v, stats %+v", j2, j2.JobStats)
	}
	page2, err := e.client.ListIdentityResolutionJobs(ctx, &customerprofiles.ListIdentityResolutionJobsInput{DomainName: dn, MaxResults: aws.Int32(1), NextToken: jobs.NextToken})
	if err != nil || len(page2.IdentityResolutionJobsList) != 1 || aws.ToString(page2.IdentityResolutionJobsList[0].JobId) != aws.ToString(j.JobId) || page2.NextToken != nil {
		t.Fatalf("ListIdentityResolutionJobs page 2: %+v, %v", page2, err)
	}
	if got, _ := e.client.GetIdentityResolutionJob(ctx, &customerprofiles.GetIdentityResolutionJobInput{DomainName: dn, JobId: j2.JobId}); got == nil ||
		got.AutoMerging == nil || !aws.ToBool(got.AutoMerging.Enabled) {
		t.Errorf("the merging job does not show its AutoMerging: %+v", got)
	}
	found, err := e.client.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: dn, KeyName: aws.String("_email"), Values: []string{"ann@example.com"}})
	if err != nil || len(found.Items) != 2 {
		t.Fatalf("after the merge, _email ann@example.com finds %d profiles (%v), want 2: the merged Ann and Bob", len(found.Items), err)
	}
	for _, p := range found.Items {
		if aws.ToString(p.ProfileId) == d {
			continue
		}
		if aws.ToString(p.ProfileId) != b || aws.ToString(p.BusinessName) != "Lee & Co" || p.Address == nil || aws.ToString(p.Address.City) != "Lyon" ||
			aws.ToString(p.PhoneNumber) != "+33 6 12 34 56 78" {
			t.Errorf("merged profile: %+v; want ann's (updated last) with Ann's phone and address", p)
		}
	}
}
