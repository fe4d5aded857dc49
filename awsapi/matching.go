package awsapi

import (
	"context"
)

func (s *Server) registerMatchingHandlers() {
	s.handlers["GetSimilarProfiles"] = s.getSimilarProfiles
	s.handlers["ListRuleBasedMatches"] = s.listRuleBasedMatches
}

func (s *Server) getSimilarProfiles(ctx context.Context, c *call) (any, error) {
	in, err := bindGetSimilarProfiles(c)
	if err != nil {
		return nil, err
	}
	g, next, err := s.Matching.GetSimilarProfiles(ctx, *in.DomainName, *in.MatchType, *in.SearchKey, *in.SearchValue, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &GetSimilarProfilesResponse{MatchType: in.MatchType, ProfileIds: g.ProfileIDs, MatchId: optional(g.MatchID), NextToken: optional(next)}
	if out.ProfileIds == nil {
		out.ProfileIds = []string{}
	}
	if g.RuleLevel > 0 {
		out.RuleLevel = &g.RuleLevel
	}
	if g.MatchID != "" && *in.MatchType == "ML_BASED_MATCHING" {
		out.ConfidenceScore = &g.ConfidenceScore
	}
	return out, nil
}

func (s *Server) listRuleBasedMatches(ctx context.Context, c *call) (any, error) {
	in, err := bindListRuleBasedMatches(c)
	if err != nil {
		return nil, err
	}
	ids, next, err := s.Matching.ListRuleBasedMatches(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return &ListRuleBasedMatchesResponse{MatchIds: ids, NextToken: optional(next)}, nil
}
