package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/openprofiles/profiles"
)

var _ profiles.LayoutService = (*Service)(nil)

// layoutDoc is what a layout's config holds; its domain, name and times are
// the config's.
type layoutDoc struct {
	// ID tells this layout from an earlier one of the same name (deleted
	// since), for the domain's default (defaultLayout).
	ID          string `json:"id,omitempty"`
	Description string `json:"description"`
	DisplayName string `json:"displayName"`
	// IsDefault is the default as stored before the domain's default was
	// one config (defaultLayout): it counts while the domain has none.
	IsDefault  bool              `json:"isDefault,omitempty"`
	LayoutType string            `json:"layoutType"`
	Layout     string            `json:"layout"`
	Version    int               `json:"version"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// defaultLayout is the one config (kind ConfigDefaultLayout, name
// defaultLayoutName) that says which layout of a domain is its default: a
// domain has at most one, as the console uses "the" default layout to show
// data. Making a layout default writes it, which unmarks the one before in
// the same write, so that concurrent writers leave exactly one default.
// Name "" is none.
type defaultLayout struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

const defaultLayoutName = "default"

// CreateLayout creates a domain layout, at version 1; one created default
// becomes the domain's only default.
func (s *Service) CreateLayout(ctx context.Context, l *profiles.Layout) (*profiles.Layout, error) {
	if err := validateLayout(l.LayoutType, l.Layout); err != nil {
		return nil, err
	}
	doc := layoutDoc{ID: newLayoutID(), Description: l.Description, DisplayName: l.DisplayName,
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
	if l.IsDefault {
		if err := s.setDefaultLayout(ctx, l.DomainName, defaultLayout{Name: l.Name, ID: doc.ID}); err != nil {
			// Not created half: the layout goes, the call fails.
			if derr := s.Configs.DeleteConfig(context.WithoutCancel(ctx), l.DomainName, profiles.ConfigLayout, l.Name); derr != nil {
				s.Logger.Error("layout: undo create", "domain", l.DomainName, "layout", l.Name, "err", derr)
			}
			return nil, err
		}
	}
	return layoutFromConfig(c, &defaultLayout{}, l.IsDefault)
}

// newLayoutID returns a random id of a layout.
func newLayoutID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// findDefaultLayout returns the domain's default layout, nil when it has
// none recorded (then the layouts' own IsDefault count).
func (s *Service) findDefaultLayout(ctx context.Context, domain string) (*defaultLayout, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigDefaultLayout, defaultLayoutName)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var d defaultLayout
	if err := json.Unmarshal(c.Data, &d); err != nil {
		return nil, fmt.Errorf("default layout of domain %s: %w", domain, err)
	}
	return &d, nil
}

// setDefaultLayout makes d the domain's default layout: one write, which
// replaces the default before.
func (s *Service) setDefaultLayout(ctx context.Context, domain string, d defaultLayout) error {
	return s.changeDefaultLayout(ctx, domain, func(*defaultLayout) *defaultLayout { return &d })
}

// changeDefaultLayout sets the domain's default layout to what fn makes
// of the current one (nil when none is recorded; fn's nil: no change), in
// one transaction.
func (s *Service) changeDefaultLayout(ctx context.Context, domain string, fn func(cur *defaultLayout) *defaultLayout) error {
	for {
		_, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigDefaultLayout, defaultLayoutName, func(c *profiles.DomainConfig) error {
			var cur defaultLayout
			if err := json.Unmarshal(c.Data, &cur); err != nil {
				return fmt.Errorf("default layout of domain %s: %w", domain, err)
			}
			next := fn(&cur)
			if next == nil {
				next = &cur
			}
			data, err := json.Marshal(next)
			c.Data = data
			return err
		})
		if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		next := fn(nil)
		if next == nil {
			return nil
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		c := &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigDefaultLayout, Name: defaultLayoutName, Data: data}
		switch err := s.Configs.CreateConfig(ctx, c, 0); profiles.ErrorCode(err) {
		case profiles.ECONFLICT:
			continue // created meanwhile: changed as it is now
		case profiles.ENOTFOUND:
			return domainErr(err, domain)
		default:
			return err
		}
	}
}

// GetLayout returns a domain layout.
func (s *Service) GetLayout(ctx context.Context, domain, name string) (*profiles.Layout, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigLayout, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Layout", name)
	}
	d, err := s.findDefaultLayout(ctx, domain)
	if err != nil {
		return nil, err
	}
	return layoutFromConfig(c, d, false)
}

// UpdateLayout changes the fields of u that are set, and counts a new
// version. IsDefault true makes the layout the domain's only default;
// false unmarks it if it is the default.
func (s *Service) UpdateLayout(ctx context.Context, domain, name string, u profiles.LayoutUpdate) (*profiles.Layout, error) {
	var id string
	c, err := s.Configs.UpdateConfig(ctx, domain, profiles.ConfigLayout, name, func(c *profiles.DomainConfig) error {
		var doc layoutDoc
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return fmt.Errorf("layout %s: %w", name, err)
		}
		set(&doc.Description, u.Description)
		set(&doc.DisplayName, u.DisplayName)
		set(&doc.LayoutType, u.LayoutType)
		set(&doc.Layout, u.Layout)
		if err := validateLayout(doc.LayoutType, doc.Layout); err != nil {
			return err
		}
		if u.IsDefault != nil {
			// The domain's default says it from now on (below).
			doc.IsDefault = false
			if doc.ID == "" { // stored before layouts had ids
				doc.ID = newLayoutID()
			}
		}
		id = doc.ID
		doc.Version++
		data, err := json.Marshal(doc)
		c.Data = data
		return err
	})
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Layout", name)
	}
	this := defaultLayout{Name: name, ID: id}
	switch {
	case u.IsDefault == nil:
	case *u.IsDefault:
		if err := s.setDefaultLayout(ctx, domain, this); err != nil {
			return nil, s.configErr(ctx, err, domain, "Layout", name)
		}
		return layoutFromConfig(c, &this, true)
	default:
		err := s.changeDefaultLayout(ctx, domain, func(cur *defaultLayout) *defaultLayout {
			if cur != nil && *cur == this {
				return &defaultLayout{}
			}
			return nil
		})
		if err != nil {
			return nil, s.configErr(ctx, err, domain, "Layout", name)
		}
	}
	d, err := s.findDefaultLayout(ctx, domain)
	if err != nil {
		return nil, err
	}
	return layoutFromConfig(c, d, false)
}

// DeleteLayout deletes a domain layout. The domain's default, if it was
// that layout, is none (a layout of that name created later has another id).
func (s *Service) DeleteLayout(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigLayout, name), domain, "Layout", name)
}

// ListLayouts returns one page of a domain's layouts, by name.
func (s *Service) ListLayouts(ctx context.Context, domain string, page profiles.Page) ([]*profiles.Layout, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigLayout, "ListDomainLayouts", page)
	if err != nil {
		return nil, "", err
	}
	d, err := s.findDefaultLayout(ctx, domain)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.Layout, len(list))
	for i, c := range list {
		if out[i], err = layoutFromConfig(c, d, false); err != nil {
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

// layoutFromConfig returns the layout of c; d is the domain's default
// layout (nil: none recorded, the layout's own IsDefault counts), and
// isDefault says it is the default whatever d says.
func layoutFromConfig(c *profiles.DomainConfig, d *defaultLayout, isDefault bool) (*profiles.Layout, error) {
	var doc layoutDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("layout %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	if !isDefault {
		if d == nil {
			isDefault = doc.IsDefault
		} else {
			isDefault = *d == defaultLayout{Name: c.Name, ID: doc.ID} && doc.ID != ""
		}
	}
	return &profiles.Layout{DomainName: c.DomainName, Name: c.Name, Description: doc.Description, DisplayName: doc.DisplayName,
		IsDefault: isDefault, LayoutType: doc.LayoutType, Layout: doc.Layout, Version: strconv.Itoa(doc.Version),
		Tags: doc.Tags, CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}, nil
}

// set sets *dst to *v when v is set.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
