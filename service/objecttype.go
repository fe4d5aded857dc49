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
		t.Fields, t.Keys = tpl.ObjectType.Fields, tpl.ObjectType.Keys
		t.AllowProfileCreation = tpl.ObjectType.AllowProfileCreation
		if t.SourceLastUpdatedTimestampFormat == "" {
			t.SourceLastUpdatedTimestampFormat = tpl.ObjectType.SourceLastUpdatedTimestampFormat
		}
	}
	if err := mapping.Validate(t); err != nil {
		return nil, err
	}
	if err := s.checkKey(ctx, t.EncryptionKey, s.ObjectTypeARN(t.DomainName, t.Name), "EncryptionKey"); err != nil {
		return nil, err
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

// DeleteObjectType deletes an object type and its objects in one
// transaction (a template used as an implicit type too: BEHAVIOUR.md §3.4), then scrubs the profile fields whose value came from the
// type, a page of profiles a transaction (scrubPage): one transaction over
// the whole domain held SQLite's one writer for the scan, and on
// PostgreSQL conflicted with every concurrent profile write until its
// retries gave up. The type is gone before the scrub starts, so no object
// of it sets those fields again meanwhile.
func (s *Service) DeleteObjectType(ctx context.Context, domain, name string) error {
	defer s.domains.forget(domain) // search's types
	defer s.crypt.forgetType(domain, name)
	err := s.Store.Update(ctx, func(tx profiles.Tx) error {
		// A template the domain does not define is its implicit type, whose
		// deletion removes the data ingested through it: the store deletes
		// a type it keeps, so the type is kept first, in this transaction.
		if _, err := tx.FindObjectType(ctx, domain, name); profiles.ErrorCode(err) == profiles.ENOTFOUND {
			if tpl, ok := templates.Get(name); ok {
				t := tpl.ObjectType
				t.DomainName, t.Name, t.TemplateID = domain, name, tpl.ID
				if err := tx.PutObjectType(ctx, &t, 0); err != nil {
					return err
				}
			}
		} else if err != nil {
			return err
		}
		return tx.DeleteObjectType(ctx, domain, name)
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		if _, derr := s.Store.FindDomain(ctx, domain); derr != nil {
			return domainErr(derr, domain)
		}
		return typeNotFound(domain, name)
	} else if err != nil {
		return err
	}
	for after := ""; ; {
		next, err := s.scrubPage(ctx, domain, name, after)
		if err != nil {
			return fmt.Errorf("object type %s deleted; clearing the profile fields it set stopped: %w", name, err)
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// scrubPage removes, from a page of the domain's profiles after the id
// after, the fields whose value came from objects of the type, in one
// transaction. It returns the last id of the page ("" after the last).
func (s *Service) scrubPage(ctx context.Context, domain, objectType, after string) (string, error) {
	var last string
	err := s.Store.Update(ctx, func(tx profiles.Tx) error {
		ids, err := tx.ListProfileIDs(ctx, domain, after, 500)
		if err != nil || len(ids) == 0 {
			last = ""
			return err
		}
		last = ids[len(ids)-1]
		for _, id := range ids {
			p, err := tx.FindProfile(ctx, domain, id)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				continue // deleted or merged since the page was listed
			} else if err != nil {
				return err
			}
			changed := false
			for field, src := range p.Sources {
				if src.ObjectType == objectType {
					delete(p.Fields, field)
					delete(p.Sources, field)
					changed = true
				}
			}
			if !changed {
				continue
			}
			p.LastUpdatedAt = s.now()
			if err := tx.PutProfile(ctx, p); err != nil {
				return err
			}
			if err := s.putStandardKeys(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return "", nil // the domain, deleted meanwhile: nothing left to clear
	}
	return last, err
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
