package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/openprofiles/profiles"
)

// taggedConfigs are the resources of a domain whose tags TagResource,
// UntagResource and ListTagsForResource reach through their ARNs
// (…:domains/NAME/LABEL/RESOURCE), by the ARN's label, with the kind of
// config that holds them (its document's "tags" member); object types are
// the store's own rows.
var taggedConfigs = map[string]string{
	"calculated-attributes": profiles.ConfigCalculatedAttribute,
	"segment-definitions":   profiles.ConfigSegment,
	"event-streams":         profiles.ConfigEventStream,
	"event-triggers":        profiles.ConfigEventTrigger,
	"layouts":               profiles.ConfigLayout,
	"domain-object-types":   profiles.ConfigDomainObjectType,
	"recommenders":          profiles.ConfigRecommender,
	"recommender-schemas":   profiles.ConfigRecommenderSchema,
	"recommender-filters":   profiles.ConfigRecommenderFilter,
}

// taggable is a resource ARN read: the domain, and for a resource within
// it the ARN's label and the resource's name ("" for the domain itself).
type taggable struct{ domain, label, name string }

// resourceOfARN reads a resource ARN of this region and account: a
// domain's, or one of its object types', integrations' (…/integrations/URI,
// as IAM names them) or taggedConfigs'. Returns EINVALID for any other
// ARN.
func (s *Service) resourceOfARN(arn string) (taggable, error) {
	prefix := s.DomainARN("")
	rest, ok := strings.CutPrefix(arn, prefix)
	parts := strings.Split(rest, "/")
	bad := profiles.Errorf(profiles.EINVALID, "Resource ARN %q is not an ARN of this service's domains (%s<name>) or of their object types, integrations, segment definitions, calculated attributes, event streams, event triggers, layouts, domain object types or recommenders.", arn, prefix)
	if !ok || validateDomainName(parts[0]) != nil {
		return taggable{}, bad
	}
	// An integration's ARN ends in its Uri, which holds '/' and ':' of
	// its own (…:domains/NAME/integrations/arn:aws:connect:…:instance/ID).
	if uri, ok := strings.CutPrefix(rest, parts[0]+"/integrations/"); ok && uri != "" {
		return taggable{domain: parts[0], label: "integrations", name: uri}, nil
	}
	switch {
	case len(parts) == 1:
		return taggable{domain: parts[0]}, nil
	case len(parts) == 3 && parts[2] != "" && (parts[1] == "object-types" || taggedConfigs[parts[1]] != ""):
		return taggable{domain: parts[0], label: parts[1], name: parts[2]}, nil
	}
	return taggable{}, bad
}

// TagResource adds or overwrites tags on a domain or a resource of one.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	r, err := s.resourceOfARN(arn)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return profiles.Errorf(profiles.EINVALID, "At least one tag is required.")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	if r.label == "" {
		_, err = s.UpdateDomain(ctx, r.domain, &profiles.DomainUpdate{Tags: tags})
		return err
	}
	return s.updateTags(ctx, r, func(t map[string]string) (map[string]string, error) {
		if t == nil {
			t = map[string]string{}
		}
		maps.Copy(t, tags)
		return t, validateTags(t)
	})
}

// UntagResource removes tag keys from a domain or a resource of one; keys
// it lacks are ignored.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	r, err := s.resourceOfARN(arn)
	if err != nil {
		return err
	}
	if r.label == "" {
		_, err = s.Store.UpdateDomain(ctx, r.domain, func(d *profiles.Domain) error {
			for _, k := range keys {
				delete(d.Tags, k)
			}
			d.LastUpdatedAt = s.now()
			return nil
		})
		return domainErr(err, r.domain)
	}
	return s.updateTags(ctx, r, func(t map[string]string) (map[string]string, error) {
		for _, k := range keys {
			delete(t, k)
		}
		return t, nil
	})
}

// ListTagsForResource returns the tags of a domain or a resource of one.
func (s *Service) ListTagsForResource(ctx context.Context, arn string) (map[string]string, error) {
	r, err := s.resourceOfARN(arn)
	if err != nil {
		return nil, err
	}
	switch r.label {
	case "":
		d, err := s.Store.FindDomain(ctx, r.domain)
		if err != nil {
			return nil, domainErr(err, r.domain)
		}
		return d.Tags, nil
	case "object-types":
		var tags map[string]string
		err := s.Store.View(ctx, func(tx profiles.Tx) error {
			t, err := tx.FindObjectType(ctx, r.domain, r.name) // a type of the domain's own, not a template used as one
			if err == nil {
				tags = t.Tags
			}
			return err
		})
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if _, derr := s.Store.FindDomain(ctx, r.domain); derr != nil {
				return nil, domainErr(derr, r.domain)
			}
			return nil, typeNotFound(r.domain, r.name)
		}
		return tags, err
	case "integrations":
		in, err := s.Integrations.FindIntegration(ctx, r.domain, r.name)
		if err != nil {
			return nil, s.integrationErr(ctx, err, r)
		}
		return in.Tags, nil
	}
	c, err := s.Configs.FindConfig(ctx, r.domain, taggedConfigs[r.label], r.name)
	if err != nil {
		return nil, s.resourceErr(ctx, err, r)
	}
	return configTags(c)
}

// updateTags changes the tags of a resource of a domain with fn.
func (s *Service) updateTags(ctx context.Context, r taggable, fn func(map[string]string) (map[string]string, error)) error {
	if r.label == "object-types" {
		err := s.Store.Update(ctx, func(tx profiles.Tx) error {
			t, err := tx.FindObjectType(ctx, r.domain, r.name)
			if err != nil {
				return err
			}
			if t.Tags, err = fn(maps.Clone(t.Tags)); err != nil {
				return err
			}
			t.LastUpdatedAt = s.now()
			return tx.PutObjectType(ctx, t, 0)
		})
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if _, derr := s.Store.FindDomain(ctx, r.domain); derr != nil {
				return domainErr(derr, r.domain)
			}
			return typeNotFound(r.domain, r.name)
		}
		return err
	}
	if r.label == "integrations" {
		err := s.Integrations.UpdateIntegrationTags(ctx, r.domain, r.name, fn)
		return s.integrationErr(ctx, err, r)
	}
	_, err := s.Configs.UpdateConfig(ctx, r.domain, taggedConfigs[r.label], r.name, func(c *profiles.DomainConfig) error {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("%s %s of domain %s: %w", r.label, r.name, r.domain, err)
		}
		tags, err := configTags(c)
		if err != nil {
			return err
		}
		if tags, err = fn(tags); err != nil {
			return err
		}
		delete(doc, "tags")
		if len(tags) > 0 {
			if doc["tags"], err = json.Marshal(tags); err != nil {
				return err
			}
		}
		c.Data, err = json.Marshal(doc)
		return err
	})
	return s.resourceErr(ctx, err, r)
}

// configTags returns the tags of a config's document.
func configTags(c *profiles.DomainConfig) (map[string]string, error) {
	var doc struct {
		Tags map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("%s %s of domain %s: %w", c.Kind, c.Name, c.DomainName, err)
	}
	return doc.Tags, nil
}

// resourceErr words a missing domain or resource as AWS does.
func (s *Service) resourceErr(ctx context.Context, err error, r taggable) error {
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	if _, derr := s.Store.FindDomain(ctx, r.domain); derr != nil {
		return domainErr(derr, r.domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "Resource %s/%s/%s not found.", s.DomainARN(r.domain), r.label, r.name)
}

// integrationErr words a missing domain or integration as GetIntegration
// does.
func (s *Service) integrationErr(ctx context.Context, err error, r taggable) error {
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	if _, derr := s.Store.FindDomain(ctx, r.domain); derr != nil {
		return domainErr(derr, r.domain)
	}
	return profiles.Errorf(profiles.ENOTFOUND, "Integration %s not found in domain %s.", r.name, r.domain)
}
