package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
	"github.com/openprofiles/profiles/templates"
)

var objectTypeNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z_0-9-]{0,254}$`)

// PutObjectType creates or replaces an object type.
func (s *Service) PutObjectType(ctx context.Context, t *profiles.ObjectType) (*profiles.ObjectType, error) {
	t = cloneObjectType(t)
	if !objectTypeNameRE.MatchString(t.Name) && t.Name != profiles.RecommenderEventsType {
		return nil, profiles.Errorf(profiles.EINVALID, "ObjectTypeName %q must start with a letter and hold only letters, digits, '_' and '-' (names starting with '_' are reserved for standard object types; of those, %s, the interaction events recommenders learn from, is yours to define).", t.Name, profiles.RecommenderEventsType)
	}
	if t.Description == "" {
		return nil, profiles.Errorf(profiles.EINVALID, "Description is required.")
	}
	if t.ExpirationDays < 0 || t.ExpirationDays > maxExpirationDays {
		return nil, profiles.Errorf(profiles.EINVALID, "ExpirationDays must be between 1 and %d.", maxExpirationDays)
	}
	if err := validateTags(t.Tags); err != nil {
		return nil, err
	}
	if t.TemplateID != "" {
		tpl, ok := templates.Get(t.TemplateID)
		if !ok {
			return nil, profiles.Errorf(profiles.EINVALID, "TemplateId %q is not a template of this service.", t.TemplateID)
		}
		if len(t.Fields) > 0 || len(t.Keys) > 0 {
			return nil, profiles.Errorf(profiles.EINVALID, "Fields and Keys come from template %s: do not send them with TemplateId.", t.TemplateID)
		}
		// AllowProfileCreation and the timestamp format are the
		// template's too, whatever the request says (the model: the
		// service uses the template's values), so that the template's
		// records are read as they are on AWS.
		t.Fields, t.Keys = tpl.ObjectType.Fields, tpl.ObjectType.Keys
		t.AllowProfileCreation = tpl.ObjectType.AllowProfileCreation
		t.SourceLastUpdatedTimestampFormat = tpl.ObjectType.SourceLastUpdatedTimestampFormat
	}
	if err := mapping.Validate(t); err != nil {
		return nil, err
	}
	if err := s.checkKey(ctx, t.EncryptionKey, s.ObjectTypeARN(t.DomainName, t.Name), "EncryptionKey"); err != nil {
		return nil, err
	}
	// A type of this name deleted earlier may still have fields on
	// profiles: they are cleared before objects of this one set any.
	if err := s.finishScrub(ctx, t.DomainName, t.Name); err != nil {
		return nil, fmt.Errorf("clearing the fields of the deleted object type %s first: %w", t.Name, err)
	}
	defer s.crypt.forget(t.DomainName)
	defer s.domains.forget(t.DomainName) // search's types
	now := s.now()
	t.CreatedAt, t.LastUpdatedAt = now, now
	err := s.Store.Update(ctx, func(tx profiles.Tx) error {
		if old, err := tx.FindObjectType(ctx, t.DomainName, t.Name); err == nil {
			t.CreatedAt = old.CreatedAt
		} else if profiles.ErrorCode(err) != profiles.ENOTFOUND {
			return err
		}
		return tx.PutObjectType(ctx, t, profiles.MaxObjectTypesPerDomain)
	})
	switch profiles.ErrorCode(err) {
	case "":
		return t, nil
	case profiles.EQUOTA:
		return nil, profiles.Errorf(profiles.EQUOTA, "Domain %s already has the maximum number of object types (%d).", t.DomainName, profiles.MaxObjectTypesPerDomain)
	case profiles.ENOTFOUND:
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Domain %s not found.", t.DomainName)
	}
	return nil, err
}

// GetObjectType returns an object type, or the template of that name.
func (s *Service) GetObjectType(ctx context.Context, domain, name string) (*profiles.ObjectType, error) {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, domainErr(err, domain)
	}
	var t *profiles.ObjectType
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		var err error
		t, err = s.findObjectType(ctx, tx, domain, name)
		return err
	})
	return t, err
}

// findObjectType finds a domain's object type; a name that the domain does
// not define but that is a template id is the template, used implicitly.
func (s *Service) findObjectType(ctx context.Context, tx profiles.Tx, domain, name string) (*profiles.ObjectType, error) {
	t, err := tx.FindObjectType(ctx, domain, name)
	if profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return t, err
	}
	if tpl, ok := templates.Get(name); ok {
		t := tpl.ObjectType
		t.DomainName, t.Name, t.TemplateID = domain, name, tpl.ID
		return &t, nil
	}
	return nil, typeNotFound(domain, name)
}

// typeNotFoundError is the ENOTFOUND of a missing object type (as opposed to
// a missing domain).
type typeNotFoundError struct{ err *profiles.Error }

func (e typeNotFoundError) Error() string { return e.err.Error() }
func (e typeNotFoundError) Unwrap() error { return e.err }

func typeNotFound(domain, name string) error {
	return typeNotFoundError{profiles.Errorf(profiles.ENOTFOUND, "Object type %s not found in domain %s.", name, domain)}
}

func isTypeNotFound(err error) bool {
	var e typeNotFoundError
	return errors.As(err, &e)
}

// ListObjectTypes returns one page of a domain's object types.
func (s *Service) ListObjectTypes(ctx context.Context, domain string, page profiles.Page) ([]*profiles.ObjectType, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	scope := "ListProfileObjectTypes/" + domain
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, "", domainErr(err, domain)
	}
	var ts []*profiles.ObjectType
	err = s.Store.View(ctx, func(tx profiles.Tx) error {
		ts, err = tx.ListObjectTypes(ctx, domain, after, size+1)
		return err
	})
	if err != nil {
		return nil, "", domainErr(err, domain)
	}
	next := ""
	if len(ts) > size {
		ts = ts[:size]
		next = s.tokens.encode(scope, ts[size-1].Name)
	}
	return ts, next, nil
}

// GetTemplate returns a built-in template.
func (s *Service) GetTemplate(ctx context.Context, id string) (*profiles.Template, error) {
	tpl, ok := templates.Get(id)
	if !ok {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Template %s not found.", id)
	}
	return tpl, nil
}

// ListTemplates returns one page of the built-in templates.
func (s *Service) ListTemplates(ctx context.Context, page profiles.Page) ([]*profiles.Template, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode("ListProfileObjectTypeTemplates", page.Token); err != nil {
			return nil, "", err
		}
	}
	var out []*profiles.Template
	for _, t := range templates.All() {
		if t.ID > after {
			out = append(out, t)
		}
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		next = s.tokens.encode("ListProfileObjectTypeTemplates", out[size-1].ID)
	}
	return out, next, nil
}

// DetectObjectType proposes a mapping for sample objects.
func (s *Service) DetectObjectType(ctx context.Context, domain string, objects []string) (*profiles.ObjectType, error) {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, domainErr(err, domain)
	}
	samples := make([][]byte, len(objects))
	for i, o := range objects {
		samples[i] = []byte(o)
	}
	return mapping.Detect(samples)
}

func cloneObjectType(t *profiles.ObjectType) *profiles.ObjectType {
	c := *t
	c.Fields = maps.Clone(t.Fields)
	c.Keys = make(map[string][]profiles.ObjectTypeKey, len(t.Keys))
	for k, v := range t.Keys {
		c.Keys[k] = append([]profiles.ObjectTypeKey(nil), v...)
	}
	c.Tags = maps.Clone(t.Tags)
	return &c
}

// hasIdentifier reports whether ids holds id.
func hasIdentifier(ids []string, id string) bool {
	for _, x := range ids {
		if strings.EqualFold(x, id) {
			return true
		}
	}
	return false
}
