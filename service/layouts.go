package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/openprofiles/profiles"
)

var _ profiles.LayoutService = (*Service)(nil)

// layoutDoc is what a layout's config holds; its domain, name and times are
// the config's.
type layoutDoc struct {
	Description string            `json:"description"`
	DisplayName string            `json:"displayName"`
	IsDefault   bool              `json:"isDefault,omitempty"`
	LayoutType  string            `json:"layoutType"`
	Layout      string            `json:"layout"`
	Version     int               `json:"version"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// CreateLayout creates a domain layout, at version 1.
func (s *Service) CreateLayout(ctx context.Context, l *profiles.Layout) (*profiles.Layout, error) {
	if err := validateLayout(l.LayoutType, l.Layout); err != nil {
		return nil, err
	}
	doc := layoutDoc{Description: l.Description, DisplayName: l.DisplayName, IsDefault: l.IsDefault,
		LayoutType: l.LayoutType, Layout: l.Layout, Version: 1, Tags: l.Tags}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := &profiles.DomainConfig{DomainName: l.DomainName, Kind: profiles.ConfigLayout, Name: l.Name, Data: data}
	switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxLayoutsPerDomain); profiles.ErrorCode(err) {
	case "":
	case profiles.ENOTFOUND:
		return nil, domainErr(err, l.DomainName)
	case profiles.ECONFLICT:
		return nil, profiles.Errorf(profiles.EINVALID, "Layout %s already exists in domain %s.", l.Name, l.DomainName)
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d layouts, the most it may have.", l.DomainName, profiles.MaxLayoutsPerDomain)
	default:
		return nil, err
	}
	return layoutFromConfig(c)
}

// GetLayout returns a domain layout.
func (s *Service) GetLayout(ctx context.Context, domain, name string) (*profiles.Layout, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigLayout, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Layout", name)
	}
	return layoutFromConfig(c)
}

// UpdateLayout changes the fields of u that are set, and counts a new
// version.
func (s *Service) UpdateLayout(ctx context.Context, domain, name string, u profiles.LayoutUpdate) (*profiles.Layout, error) {
	c, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigLayout, name, func(c *profiles.DomainConfig) error {
		var doc layoutDoc
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("layout %s: %w", name, err)
		}
		set(&doc.Description, u.Description)
		set(&doc.DisplayName, u.DisplayName)
		set(&doc.IsDefault, u.IsDefault)
		set(&doc.LayoutType, u.LayoutType)
		set(&doc.Layout, u.Layout)
		if err := validateLayout(doc.LayoutType, doc.Layout); err != nil {
			return err
		}
		doc.Version++
		data, err := json.Marshal(doc)
		c.Data = data
		return err
	})
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Layout", name)
	}
	return layoutFromConfig(c)
}

// DeleteLayout deletes a domain layout.
func (s *Service) DeleteLayout(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigLayout, name), domain, "Layout", name)
}

// ListLayouts returns one page of a domain's layouts, by name.
func (s *Service) ListLayouts(ctx context.Context, domain string, page profiles.Page) ([]*profiles.Layout, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigLayout, "ListDomainLayouts", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.Layout, len(list))
	for i, c := range list {
		if out[i], err = layoutFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// validateLayout checks what the API model does not: the layout is a JSON
// document, of a known type.
func validateLayout(layoutType, layout string) error {
	if layoutType != "PROFILE_EXPLORER" {
		return profiles.Errorf(profiles.EINVALID, "LayoutType %q is not supported: PROFILE_EXPLORER is.", layoutType)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(layout), &doc); err != nil || doc == nil {
		return profiles.Errorf(profiles.EINVALID, "Layout must be a JSON object.")
	}
	return nil
}

func layoutFromConfig(c *profiles.DomainConfig) (*profiles.Layout, error) {
	var doc layoutDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("layout %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.Layout{DomainName: c.DomainName, Name: c.Name, Description: doc.Description, DisplayName: doc.DisplayName,
		IsDefault: doc.IsDefault, LayoutType: doc.LayoutType, Layout: doc.Layout, Version: strconv.Itoa(doc.Version),
		Tags: doc.Tags, CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}, nil
}

// set sets *dst to *v when v is set.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
