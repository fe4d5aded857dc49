package profiles

import (
	"context"
	"time"
)

// SimilarProfiles is a rule-based match group: profiles that hold equal
// values for every attribute of one rule level of the domain's
// RuleBasedMatching.
type SimilarProfiles struct {
	MatchID    string
	RuleLevel  int
	ProfileIDs []string
	// ConfidenceScore is the group's score, for ML_BASED_MATCHING (the
	// identity resolution job's groups).
	ConfidenceScore float64
}

// MatchingService finds duplicate profiles: with the domain's rule-based
// matching rules, or (ML_BASED_MATCHING) in the match groups of its last
// identity resolution job. Returns ENOTFOUND for a missing domain, EINVALID
// when the matching asked for is not enabled on it.
type MatchingService interface {
	// ListRuleBasedMatches returns one page of the domain's match ids.
	ListRuleBasedMatches(ctx context.Context, domain string, page Page) ([]string, string, error)
	// GetSimilarProfiles returns the match group of the profile that
	// searchKey and searchValue find (or of a match id, with the search key
	// "MatchId"), one page of its profile ids; a profile that matches no
	// other has no group (no MatchID, no ids).
	GetSimilarProfiles(ctx context.Context, domain, matchType, searchKey, searchValue string, page Page) (*SimilarProfiles, string, error)
}

// A MatchGroup is a group of profiles an identity resolution job found to
// be the same person, with how sure it is (0 to 1).
type MatchGroup struct {
	MatchID         string
	ProfileIDs      []string
	ConfidenceScore float64
}

// MatchResults are one page of the match groups of a domain's last
// completed identity resolution job: when it found them, and how many it
// found in all.
type MatchResults struct {
	GeneratedAt time.Time
	Total       int
	Matches     []MatchGroup
}

// An IdentityResolutionJob is one run of a domain's similarity matching
// (Domain.Matching): it reviews every profile, groups those alike and, with
// AutoMerging on, merges the profiles of a group that meet its criteria.
type IdentityResolutionJob struct {
	DomainName       string
	JobID            string
	Status           string // PENDING, PREPROCESSING, FIND_MATCHING, MERGING, COMPLETED, PARTIAL_SUCCESS or FAILED
	StartTime        time.Time
	EndTime          time.Time
	LastUpdatedAt    time.Time
	ExpirationTime   time.Time
	ProfilesReviewed int64
	MatchesFound     int64
	MergesDone       int64
	AutoMerging      *AutoMerging // the settings the job merged with, when on
	Message          string
	// ExportingLocation is where the job wrote its results, the bucket
	// and the object's key (Matching.ExportingConfig); nil when it wrote
	// none.
	ExportingLocation *S3Exporting
}

// AutoMergingPreview counts what auto-merging settings would do with the
// match groups of the last completed job.
type AutoMergingPreview struct {
	MatchesInSample      int64
	ProfilesInSample     int64
	ProfilesWillBeMerged int64
}

// IdentityResolutionService serves the results of identity resolution
// jobs, which run on each domain's JobSchedule. Every method returns
// ENOTFOUND for a missing domain or job, and EINVALID when Matching is not
// enabled on the domain.
type IdentityResolutionService interface {
	// GetMatches returns one page of the last completed job's match groups
	// (none, and a zero GeneratedAt, before the first job has completed).
	GetMatches(ctx context.Context, domain string, page Page) (*MatchResults, string, error)
	// ListIdentityResolutionJobs returns one page of the domain's jobs,
	// newest first.
	ListIdentityResolutionJobs(ctx context.Context, domain string, page Page) ([]*IdentityResolutionJob, string, error)
	GetIdentityResolutionJob(ctx context.Context, domain, id string) (*IdentityResolutionJob, error)
	// GetAutoMergingPreview counts what am would merge in the last
	// completed job's match groups, merging nothing. Returns EINVALID
	// before the first job has completed.
	GetAutoMergingPreview(ctx context.Context, domain string, am *AutoMerging) (*AutoMergingPreview, error)
}
