package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerIdentityResolutionHandlers() {
	s.handlers["GetMatches"] = s.getMatches
	s.handlers["ListIdentityResolutionJobs"] = s.listIdentityResolutionJobs
	s.handlers["GetIdentityResolutionJob"] = s.getIdentityResolutionJob
	s.handlers["GetAutoMergingPreview"] = s.getAutoMergingPreview
}

func (s *Server) getMatches(ctx context.Context, c *call) (any, error) {
	in, err := bindGetMatches(c)
	if err != nil {
		return nil, err
	}
	res, next, err := s.IdentityResolution.GetMatches(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &GetMatchesResponse{MatchGenerationDate: NewTimestamp(res.GeneratedAt), PotentialMatches: &res.Total,
		Matches: []MatchItem{}, NextToken: optional(next)}
	for _, m := range res.Matches {
		out.Matches = append(out.Matches, MatchItem{MatchId: &m.MatchID, ProfileIds: m.ProfileIDs, ConfidenceScore: &m.ConfidenceScore})
	}
	return out, nil
}

func (s *Server) listIdentityResolutionJobs(ctx context.Context, c *call) (any, error) {
	in, err := bindListIdentityResolutionJobs(c)
	if err != nil {
		return nil, err
	}
	jobs, next, err := s.IdentityResolution.ListIdentityResolutionJobs(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListIdentityResolutionJobsResponse{IdentityResolutionJobsList: []IdentityResolutionJob{}, NextToken: optional(next)}
	for _, j := range jobs {
		w := jobToWire(j)
		out.IdentityResolutionJobsList = append(out.IdentityResolutionJobsList, IdentityResolutionJob{DomainName: w.DomainName,
			JobId: w.JobId, Status: w.Status, JobStartTime: w.JobStartTime, JobEndTime: w.JobEndTime, JobStats: w.JobStats, Message: w.Message,
			ExportingLocation: w.ExportingLocation})
	}
	return out, nil
}

func (s *Server) getIdentityResolutionJob(ctx context.Context, c *call) (any, error) {
	in, err := bindGetIdentityResolutionJob(c)
	if err != nil {
		return nil, err
	}
	j, err := s.IdentityResolution.GetIdentityResolutionJob(ctx, *in.DomainName, *in.JobId)
	if err != nil {
		return nil, err
	}
	return jobToWire(j), nil
}

func jobToWire(j *profiles.IdentityResolutionJob) *GetIdentityResolutionJobResponse {
	w := &GetIdentityResolutionJobResponse{DomainName: &j.DomainName, JobId: &j.JobID, Status: &j.Status,
		JobStartTime: NewTimestamp(j.StartTime), JobEndTime: NewTimestamp(j.EndTime), LastUpdatedAt: NewTimestamp(j.LastUpdatedAt),
		JobExpirationTime: NewTimestamp(j.ExpirationTime), Message: optional(j.Message),
		JobStats: &JobStats{NumberOfProfilesReviewed: &j.ProfilesReviewed, NumberOfMatchesFound: &j.MatchesFound, NumberOfMergesDone: &j.MergesDone}}
	if e := j.ExportingLocation; e != nil {
		w.ExportingLocation = &ExportingLocation{S3Exporting: &S3ExportingLocation{S3BucketName: &e.S3BucketName, S3KeyName: &e.S3KeyName}}
	}
	if a := j.AutoMerging; a != nil {
		w.AutoMerging = &AutoMerging{Enabled: &a.Enabled, ConflictResolution: conflictToWire(a.ConflictResolution),
			MinAllowedConfidenceScoreForMerging: a.MinAllowedConfidenceScoreForMerging}
		if a.Consolidation != nil {
			w.AutoMerging.Consolidation = &Consolidation{MatchingAttributesList: a.Consolidation.MatchingAttributesList}
		}
	}
	return w
}

func (s *Server) getAutoMergingPreview(ctx context.Context, c *call) (any, error) {
	in, err := bindGetAutoMergingPreview(c)
	if err != nil {
		return nil, err
	}
	am := &profiles.AutoMerging{Enabled: true, ConflictResolution: conflictFromWire(in.ConflictResolution),
		MinAllowedConfidenceScoreForMerging: in.MinAllowedConfidenceScoreForMerging}
	if in.Consolidation != nil {
		am.Consolidation = &profiles.Consolidation{MatchingAttributesList: in.Consolidation.MatchingAttributesList}
	}
	p, err := s.IdentityResolution.GetAutoMergingPreview(ctx, *in.DomainName, am)
	if err != nil {
		return nil, err
	}
	return &GetAutoMergingPreviewResponse{DomainName: in.DomainName, NumberOfMatchesInSample: &p.MatchesInSample,
		NumberOfProfilesInSample: &p.ProfilesInSample, NumberOfProfilesWillBeMerged: &p.ProfilesWillBeMerged}, nil
}
