package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerDomainHandlers() {
	s.handlers["CreateDomain"] = s.createDomain
	s.handlers["GetDomain"] = s.getDomain
	s.handlers["UpdateDomain"] = s.updateDomain
	s.handlers["DeleteDomain"] = s.deleteDomain
	s.handlers["ListDomains"] = s.listDomains
}

func (s *Server) createDomain(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateDomain(c)
	if err != nil {
		return nil, err
	}
	d, err := s.Domains.CreateDomain(ctx, &profiles.Domain{
		Name:                  *in.DomainName,
		DefaultExpirationDays: *in.DefaultExpirationDays,
		DefaultEncryptionKey:  deref(in.DefaultEncryptionKey),
		DeadLetterQueueURL:    deref(in.DeadLetterQueueUrl),
		Matching:              matchingFromWire(in.Matching),
		RuleBasedMatching:     ruleBasedFromWire(in.RuleBasedMatching),
		DataStore:             dataStoreFromWire(in.DataStore),
		Tags:                  in.Tags,
	})
	if err != nil {
		return nil, err
	}
	return &CreateDomainResponse{
		DomainName:            &d.Name,
		DefaultExpirationDays: &d.DefaultExpirationDays,
		DefaultEncryptionKey:  optional(d.DefaultEncryptionKey),
		DeadLetterQueueUrl:    optional(d.DeadLetterQueueURL),
		Matching:              matchingToWire(d.Matching),
		RuleBasedMatching:     ruleBasedToWire(d.RuleBasedMatching),
		DataStore:             dataStoreToWire(d.DataStore),
		Tags:                  tagsToWire(d.Tags),
		CreatedAt:             NewTimestamp(d.CreatedAt),
		LastUpdatedAt:         NewTimestamp(d.LastUpdatedAt),
	}, nil
}

func (s *Server) getDomain(ctx context.Context, c *call) (any, error) {
	in, err := bindGetDomain(c)
	if err != nil {
		return nil, err
	}
	d, st, err := s.Domains.GetDomain(ctx, *in.DomainName)
	if err != nil {
		return nil, err
	}
	return &GetDomainResponse{
		DomainName:            &d.Name,
		DefaultExpirationDays: &d.DefaultExpirationDays,
		DefaultEncryptionKey:  optional(d.DefaultEncryptionKey),
		DeadLetterQueueUrl:    optional(d.DeadLetterQueueURL),
		Stats: &DomainStats{
			ProfileCount:         &st.ProfileCount,
			MeteringProfileCount: &st.MeteringProfileCount,
			ObjectCount:          &st.ObjectCount,
			TotalSize:            &st.TotalSize,
		},
		Matching:          matchingToWire(d.Matching),
		RuleBasedMatching: ruleBasedToWire(d.RuleBasedMatching),
		DataStore:         dataStoreToWire(d.DataStore),
		Tags:              tagsToWire(d.Tags),
		CreatedAt:         NewTimestamp(d.CreatedAt),
		LastUpdatedAt:     NewTimestamp(d.LastUpdatedAt),
	}, nil
}

func (s *Server) updateDomain(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateDomain(c)
	if err != nil {
		return nil, err
	}
	d, err := s.Domains.UpdateDomain(ctx, *in.DomainName, &profiles.DomainUpdate{
		DefaultExpirationDays: in.DefaultExpirationDays,
		DefaultEncryptionKey:  in.DefaultEncryptionKey,
		DeadLetterQueueURL:    in.DeadLetterQueueUrl,
		Matching:              matchingFromWire(in.Matching),
		RuleBasedMatching:     ruleBasedFromWire(in.RuleBasedMatching),
		DataStore:             dataStoreFromWire(in.DataStore),
		Tags:                  in.Tags,
	})
	if err != nil {
		return nil, err
	}
	return &UpdateDomainResponse{
		DomainName:            &d.Name,
		DefaultExpirationDays: &d.DefaultExpirationDays,
		DefaultEncryptionKey:  optional(d.DefaultEncryptionKey),
		DeadLetterQueueUrl:    optional(d.DeadLetterQueueURL),
		Matching:              matchingToWire(d.Matching),
		RuleBasedMatching:     ruleBasedToWire(d.RuleBasedMatching),
		DataStore:             dataStoreToWire(d.DataStore),
		Tags:                  tagsToWire(d.Tags),
		CreatedAt:             NewTimestamp(d.CreatedAt),
		LastUpdatedAt:         NewTimestamp(d.LastUpdatedAt),
	}, nil
}

func (s *Server) deleteDomain(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteDomain(c)
	if err != nil {
		return nil, err
	}
	if err := s.Domains.DeleteDomain(ctx, *in.DomainName); err != nil {
		return nil, err
	}
	msg := "All resources associated with the domain " + *in.DomainName + " have been deleted."
	return &DeleteDomainResponse{Message: &msg}, nil
}

func (s *Server) listDomains(ctx context.Context, c *call) (any, error) {
	in, err := bindListDomains(c)
	if err != nil {
		return nil, err
	}
	ds, next, err := s.Domains.ListDomains(ctx, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListDomainsResponse{Items: []ListDomainItem{}, NextToken: optional(next)}
	for _, d := range ds {
		out.Items = append(out.Items, ListDomainItem{
			DomainName:    &d.Name,
			CreatedAt:     NewTimestamp(d.CreatedAt),
			LastUpdatedAt: NewTimestamp(d.LastUpdatedAt),
			Tags:          tagsToWire(d.Tags),
		})
	}
	return out, nil
}

func page(token *string, max *int) profiles.Page {
	return profiles.Page{Token: deref(token), MaxResults: derefInt(max)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

func derefBool(b *bool) bool { return b != nil && *b }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func tagsToWire(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	return tags
}
