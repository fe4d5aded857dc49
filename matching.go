package profiles

import "context"

// SimilarProfiles is a rule-based match group: profiles that hold equal
// values for every attribute of one rule level of the domain's
// RuleBasedMatching.
type SimilarProfiles struct {
	MatchID    string
	RuleLevel  int
	ProfileIDs []string
}

// MatchingService finds duplicate profiles with the domain's rule-based
// matching rules. Returns ENOTFOUND for a missing domain, EINVALID when
// rule-based matching is not enabled on it, ENOTIMPLEMENTED for ML-based
// matching.
type MatchingService interface {
	// ListRuleBasedMatches returns one page of the domain's match ids.
	ListRuleBasedMatches(ctx context.Context, domain string, page Page) ([]string, string, error)
	// GetSimilarProfiles returns the match group of the profile that
	// searchKey and searchValue find (or of a match id, with the search key
	// "MatchId"), one page of its profile ids; a profile that matches no
	// other has no group (no MatchID, no ids).
	GetSimilarProfiles(ctx context.Context, domain, matchType, searchKey, searchValue string, page Page) (*SimilarProfiles, string, error)
}
