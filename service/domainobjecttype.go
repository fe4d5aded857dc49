package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.DomainObjectTypeService = (*Service)(nil)

// domainTypeDoc is what a domain object type's config holds.
type domainTypeDoc struct {
	Description   string                                    `json:"description,omitempty"`
	EncryptionKey string                                    `json:"encryptionKey,omitempty"`
	Fields        map[string]profiles.DomainObjectTypeField `json:"fields"`
	Tags          map[string]string                         `json:"tags,omitempty"`
}

// PutDomainObjectType creates or replaces a domain object type.
func (s *Service) PutDomainObjectType(ctx context.Context, t *profiles.DomainObjectType) (*profiles.DomainObjectType, error) {
	d, err := s.Store.FindDomain(ctx, t.DomainName)
	if err != nil {
		return nil, domainErr(err, t.DomainName)
	}
	if !objectTypeNameRE.MatchString(t.Name) {
		return nil, profiles.Errorf(profiles.EINVALID, "ObjectTypeName %q must start with a letter and hold only letters, digits, '_' and '-' (names starting with '_' are reserved).", t.Name)
	}
	if err := s.checkKey(ctx, t.EncryptionKey, s.DomainARN(t.DomainName)+"/domain-object-types/"+t.Name, "EncryptionKey"); err != nil {
		return nil, err
	}
	if len(t.Fields) == 0 {
		return nil, profiles.Errorf(profiles.EINVALID, "Fields must define at least one field.")
	}
	for name, f := range t.Fields {
		path, ok := strings.CutPrefix(f.Source, "_source.")
		if !ok {
			return nil, profiles.Errorf(profiles.EINVALID, "Fields[%s].Source %q must be a path of the source object such as _source.sku.", name, f.Source)
		}
		if _, _, err := mapping.ValueAt([]byte("{}"), path); err != nil {
			return nil, profiles.Errorf(profiles.EINVALID, "Fields[%s].Source %q: %s", name, f.Source, profiles.ErrorMessage(err))
		}
		if strings.TrimSpace(f.Target) == "" {
			return nil, profiles.Errorf(profiles.EINVALID, "Fields[%s].Target must name where the value goes.", name)
		}
	}
	data, err := json.Marshal(domainTypeDoc{Description: t.Description, EncryptionKey: t.EncryptionKey, Fields: t.Fields, Tags: t.Tags})
	if err != nil {
		return nil, err
	}
	// Replace the type if it exists, else create it (a concurrent creation
	// of the same name makes it exist: then replace it).
	for try := 0; ; try++ {
		c, err := s.Configs.UpdateConfig(ctx, t.DomainName, profiles.ConfigDomainObjectType, t.Name, func(c *profiles.DomainConfig) error {
			c.Data = data
			return nil
		})
		if err == nil {
			return domainTypeFromConfig(c)
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return nil, s.configErr(ctx, err, t.DomainName, "Domain object type", t.Name)
		}
		if d.DataStore == nil || !d.DataStore.Enabled {
			return nil, profiles.Errorf(profiles.EINVALID, "A new domain object type needs the domain's data store: enable it on domain %s (UpdateDomain DataStore.Enabled).", t.DomainName)
		}
		c = &profiles.DomainConfig{DomainName: t.DomainName, Kind: profiles.ConfigDomainObjectType, Name: t.Name, Data: data}
		switch err := s.Configs.CreateConfig(ctx, c, profiles.MaxDomainObjectTypesPerDomain); profiles.ErrorCode(err) {
		case "":
			return domainTypeFromConfig(c)
		case profiles.ECONFLICT:
			if try < 3 {
				continue
			}
			return nil, profiles.Errorf(profiles.ETHROTTLED, "Domain object type %s keeps changing under this call; retry.", t.Name)
		case profiles.EQUOTA:
			return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has %d domain object types, the most it may have.", t.DomainName, profiles.MaxDomainObjectTypesPerDomain)
		default:
			return nil, s.configErr(ctx, err, t.DomainName, "Domain object type", t.Name)
		}
	}
}

// GetDomainObjectType returns a domain object type.
func (s *Service) GetDomainObjectType(ctx context.Context, domain, name string) (*profiles.DomainObjectType, error) {
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigDomainObjectType, name)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Domain object type", name)
	}
	return domainTypeFromConfig(c)
}

// DeleteDomainObjectType deletes a domain object type.
func (s *Service) DeleteDomainObjectType(ctx context.Context, domain, name string) error {
	return s.configErr(ctx, s.Configs.DeleteConfig(ctx, domain, profiles.ConfigDomainObjectType, name), domain, "Domain object type", name)
}

// ListDomainObjectTypes returns one page of a domain's types, by name.
func (s *Service) ListDomainObjectTypes(ctx context.Context, domain string, page profiles.Page) ([]*profiles.DomainObjectType, string, error) {
	list, next, err := s.listConfigs(ctx, domain, profiles.ConfigDomainObjectType, "ListDomainObjectTypes", page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*profiles.DomainObjectType, len(list))
	for i, c := range list {
		if out[i], err = domainTypeFromConfig(c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func domainTypeFromConfig(c *profiles.DomainConfig) (*profiles.DomainObjectType, error) {
	var doc domainTypeDoc
	if err := json.Unmarshal(c.Data, &doc); err != nil {
		return nil, fmt.Errorf("domain object type %s of domain %s: %w", c.Name, c.DomainName, err)
	}
	return &profiles.DomainObjectType{DomainName: c.DomainName, Name: c.Name, Description: doc.Description, EncryptionKey: doc.EncryptionKey,
		Fields: doc.Fields, Tags: doc.Tags, CreatedAt: c.CreatedAt, LastUpdatedAt: c.LastUpdatedAt}, nil
}
