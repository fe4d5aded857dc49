package service

import (
	"context"
	"strings"

	"github.com/openprofiles/profiles"
)

// domainOfARN returns the domain name of a domain ARN of this region and
// account. Returns EINVALID for any other ARN.
func (s *Service) domainOfARN(arn string) (string, error) {
	prefix := s.DomainARN("")
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || strings.Contains(name, "/") || validateDomainName(name) != nil {
		return "", profiles.Errorf(profiles.EINVALID, "Resource ARN %q is not a domain ARN of this service (%s<name>).", arn, prefix)
	}
	return name, nil
}

// TagResource adds or overwrites tags on a domain.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	name, err := s.domainOfARN(arn)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return profiles.Errorf(profiles.EINVALID, "At least one tag is required.")
	}
	_, err = s.UpdateDomain(ctx, name, &profiles.DomainUpdate{Tags: tags})
	return err
}

// UntagResource removes tag keys from a domain; keys it lacks are ignored.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	name, err := s.domainOfARN(arn)
	if err != nil {
		return err
	}
	_, err = s.Store.UpdateDomain(ctx, name, func(d *profiles.Domain) error {
		for _, k := range keys {
			delete(d.Tags, k)
		}
		d.LastUpdatedAt = s.now()
		return nil
	})
	return domainErr(err, name)
}

// ListTagsForResource returns the tags of a domain.
func (s *Service) ListTagsForResource(ctx context.Context, arn string) (map[string]string, error) {
	name, err := s.domainOfARN(arn)
	if err != nil {
		return nil, err
	}
	d, err := s.Store.FindDomain(ctx, name)
	if err != nil {
		return nil, domainErr(err, name)
	}
	return d.Tags, nil
}
