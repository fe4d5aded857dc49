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
// becomes the domain's only default, in the same transaction.
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
	keys := []profiles.ConfigKey{{Kind: profiles.ConfigLayout, Name: l.Name, Limit: profiles.MaxLayoutsPerDomain}}
	if l.IsDefault {
		keys = append(keys, profiles.ConfigKey{Kind: profiles.ConfigDefaultLayout, Name: defaultLayoutName})
	}
	cs, err := s.Configs.UpdateConfigs(ctx, l.DomainName, keys, func(cs []*profiles.DomainConfig) error {
		if cs[0] != nil {
			return profiles.Errorf(profiles.ECONFLICT, "layout %s exists", l.Name)
		}
		cs[0] = &profiles.DomainConfig{DomainName: l.DomainName, Kind: profiles.ConfigLayout, Name: l.Name, Data: data}
		if l.IsDefault {
			return setDefaultLayout(&cs[1], l.DomainName, defaultLayout{Name: l.Name, ID: doc.ID})
		}
		return nil
	})
	switch profiles.ErrorCode(err) {
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
	return layoutFromConfig(cs[0], &defaultLayout{}, l.IsDefault)
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

// setDefaultLayout sets *c, the domain's default-layout config as read
// (nil: none), to say d, for UpdateConfigs to store.
func setDefaultLayout(c **profiles.DomainConfig, domain string, d defaultLayout) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if *c == nil {
		*c = &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigDefaultLayout, Name: defaultLayoutName}
	}
	(*c).Data = data
	return nil
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
// false unmarks it if it is the default. The layout and the domain's
// default change in one transaction.
func (s *Service) UpdateLayout(ctx context.Context, domain, name string, u profiles.LayoutUpdate) (*profiles.Layout, error) {
	keys := []profiles.ConfigKey{{Kind: profiles.ConfigLayout, Name: name}}
	if u.IsDefault != nil {
		keys = append(keys, profiles.ConfigKey{Kind: profiles.ConfigDefaultLayout, Name: defaultLayoutName})
	}
	var d *defaultLayout // the domain's default after the update, when u.IsDefault is set
	cs, err := s.Configs.UpdateConfigs(ctx, domain, keys, func(cs []*profiles.DomainConfig) error {
		c := cs[0]
		if c == nil {
			return profiles.Errorf(profiles.ENOTFOUND, "no layout %s", name)
		}
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
		doc.Version++
		data, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		c.Data = data
		this := defaultLayout{Name: name, ID: doc.ID}
		switch {
		case u.IsDefault == nil:
			return nil
		case *u.IsDefault:
			d = &this
			return setDefaultLayout(&cs[1], domain, this)
		case cs[1] == nil: // none recorded: the layouts' own IsDefault count
			d = nil
			return nil
		}
		var cur defaultLayout
		if err := json.Unmarshal(cs[1].Data, &cur); err != nil {
			return fmt.Errorf("default layout of domain %s: %w", domain, err)
		}
		if cur != this {
			d, cs[1] = &cur, nil // unchanged
			return nil
		}
		d = &defaultLayout{}
		return setDefaultLayout(&cs[1], domain, *d)
	})
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Layout", name)
	}
	if u.IsDefault == nil {
		if d, err = s.findDefaultLayout(ctx, domain); err != nil {
			return nil, err
		}
	}
	return layoutFromConfig(cs[0], d, false)
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
