package service

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.ProfileService = (*Service)(nil)

// MaxProfileSize bounds the size of a profile's fields (names and values).
const MaxProfileSize = 250_000

// engagementField is the Profile.Fields entry holding the JSON of the
// engagement preferences.
const engagementField = "EngagementPreferences"

// validateField checks a profile field path and its value.
func validateField(path, value string) error {
	max := 255
	switch {
	case path == "AdditionalInformation":
		max = 1000
	case path == engagementField:
		max = MaxProfileSize
	case slices.Contains(profiles.StandardFields, path):
	case strings.HasPrefix(path, "Attributes."):
		if len(path) == len("Attributes.") {
			return profiles.Errorf(profiles.EINVALID, "An attribute name must not be empty.")
		}
	default:
		kind, part, ok := strings.Cut(path, ".")
		if !ok || !slices.Contains(profiles.AddressKinds, kind) || !slices.Contains(profiles.AddressFields, part) {
			return profiles.Errorf(profiles.EINVALID, "%q is not a field of the standard profile.", path)
		}
	}
	if n := utf8.RuneCountInString(value); n > max {
		return profiles.Errorf(profiles.EINVALID, "Field %s is %d characters long; the limit is %d.", path, n, max)
	}
	if !utf8.ValidString(value) {
		return profiles.Errorf(profiles.EINVALID, "Field %s is not valid UTF-8.", path)
	}
	return nil
}

func profileSize(p *profiles.Profile) int {
	n := 0
	for k, v := range p.Fields {
		n += len(k) + len(v)
	}
	return n
}

func checkProfileSize(p *profiles.Profile) error {
	if n := profileSize(p); n > MaxProfileSize {
		return profiles.Errorf(profiles.EINVALID, "The profile would be %d bytes; the limit is %d.", n, MaxProfileSize)
	}
	return nil
}

// CreateProfile creates a profile through the profile API.
func (s *Service) CreateProfile(ctx context.Context, domain string, fields map[string]string) (*profiles.Profile, error) {
	p := &profiles.Profile{DomainName: domain, ID: s.newProfileID(s.now()), Fields: map[string]string{}, Sources: map[string]profiles.FieldSource{}}
	for k, v := range fields {
		if err := validateField(k, v); err != nil {
			return nil, err
		}
		if v != "" {
			p.Fields[k] = v
		}
	}
	if err := checkProfileSize(p); err != nil {
		return nil, err
	}
	now := s.now()
	p.CreatedAt, p.LastUpdatedAt = now, now
	streams, err := s.recentStreams(ctx, domain)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, domain, func(tx profiles.Tx) error {
		if err := tx.PutProfile(ctx, p); err != nil {
			return err
		}
		if err := tx.PutKeys(ctx, s.standardKeys(p)); err != nil { // a new profile has none
			return err
		}
		if err := s.recordProfile(ctx, tx, p, profiles.ActionCreated); err != nil {
			return err
		}
		return s.putProfileEvent(ctx, tx, streams, p, "CREATED")
	})
	if err != nil {
		return nil, err
	}
	if len(streams) > 0 {
		s.wakeDelivery()
	}
	return p, nil
}

// UpdateProfile changes the given fields of a profile.
func (s *Service) UpdateProfile(ctx context.Context, domain, id string, changes map[string]string) (*profiles.Profile, error) {
	for k, v := range changes {
		if err := validateField(k, v); err != nil {
			return nil, err
		}
	}
	var p *profiles.Profile
	streams, err := s.recentStreams(ctx, domain)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, domain, func(tx profiles.Tx) error {
		var err error
		if p, err = s.findProfile(ctx, tx, domain, id); err != nil {
			return err
		}
		size := profileSize(p)
		for k, v := range changes {
			if v == "" {
				delete(p.Fields, k)
			} else {
				p.Fields[k] = v
			}
			delete(p.Sources, k) // set by a person now: ingestion keeps off it
		}
		// A profile stored past the limit (by a release that did not
		// hold ingestion to it) may keep its size or shrink, as through
		// ingestion: refusing every change left no way to trim it.
		if n := profileSize(p); n > size {
			if err := checkProfileSize(p); err != nil {
				return err
			}
		}
		p.LastUpdatedAt = s.now()
		if err := tx.PutProfile(ctx, p); err != nil {
			return err
		}
		// A standard key is made again from the fields it is made of when
		// the update sends one of them, and only then: a key removed with
		// DeleteProfileKey stays removed through updates of other fields,
		// as through ingestion.
		if err := s.putStandardKeys(ctx, tx, p, sentStandardKeys(changes)); err != nil {
			return err
		}
		if err := s.recordProfile(ctx, tx, p, profiles.ActionUpdated); err != nil {
			return err
		}
		return s.putProfileEvent(ctx, tx, streams, p, "UPDATED")
	})
	if err != nil {
		return nil, err
	}
	if len(streams) > 0 {
		s.wakeDelivery()
	}
	return p, nil
}

// DeleteProfile deletes a profile with its objects and keys, and all the
// data its history holds: every record of the profile loses its content
// (its fields, its objects as ingested, its keys' values), keeping what
// says who did what when; the DELETED_BY_CUSTOMER record it writes has no
// content either. The records a merge wrote on the profiles merged into
// this one (DELETED_BY_MERGE, their objects' INGESTED) are theirs, and
// stay as they are.
func (s *Service) DeleteProfile(ctx context.Context, domain, id string) error {
	return s.update(ctx, domain, func(tx profiles.Tx) error {
		p, err := s.findProfile(ctx, tx, domain, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteProfile(ctx, domain, id); err != nil {
			return err
		}
		if err := tx.ClearProfileHistory(ctx, domain, id); err != nil {
			return err
		}
		return s.record(ctx, tx, p, profiles.ActionDeletedByCustomer, profiles.ProfileObjectTypeName, "", nil)
	})
}

// BatchGetProfiles returns the profiles found and the ids not found.
func (s *Service) BatchGetProfiles(ctx context.Context, domain string, ids []string) ([]*profiles.Profile, []string, error) {
	if len(ids) == 0 || len(ids) > 20 {
		return nil, nil, profiles.Errorf(profiles.EINVALID, "ProfileIds must hold 1 to 20 ids.")
	}
	var found []*profiles.Profile
	var missing []string
	err := s.view(ctx, domain, func(tx profiles.Tx) error {
		for _, id := range ids {
			p, err := tx.FindProfile(ctx, domain, id)
			switch profiles.ErrorCode(err) {
			case "":
				found = append(found, p)
			case profiles.ENOTFOUND:
				missing = append(missing, id)
			default:
				return err
			}
		}
		return nil
	})
	return found, missing, err
}

// AddProfileKey adds key values to a profile.
func (s *Service) AddProfileKey(ctx context.Context, domain, id, keyName string, values []string) error {
	return s.update(ctx, domain, func(tx profiles.Tx) error {
		p, err := s.findProfile(ctx, tx, domain, id)
		if err != nil {
			return err
		}
		keys, err := s.keyValues(ctx, tx, domain, keyName, values)
		if err != nil {
			return err
		}
		var add []profiles.Key
		for _, v := range keys {
			add = append(add, profiles.Key{DomainName: domain, Name: keyName, Value: v, ProfileID: id, Origin: profiles.KeyOriginAPI})
		}
		if err := tx.PutKeys(ctx, add); err != nil {
			return err
		}
		return s.record(ctx, tx, p, profiles.ActionAddedProfileKey, profiles.ProfileObjectTypeName, "", keyContent(keyName, values))
	})
}

// DeleteProfileKey removes key values from a profile.
func (s *Service) DeleteProfileKey(ctx context.Context, domain, id, keyName string, values []string) error {
	return s.update(ctx, domain, func(tx profiles.Tx) error {
		p, err := s.findProfile(ctx, tx, domain, id)
		if err != nil {
			return err
		}
		keys, err := s.keyValues(ctx, tx, domain, keyName, values)
		if err != nil {
			return err
		}
		n, err := tx.DeleteKeyValues(ctx, domain, id, keyName, keys)
		if err != nil {
			return err
		}
		if n == 0 {
			return profiles.Errorf(profiles.ENOTFOUND, "Profile %s holds no key %s with these values.", id, keyName)
		}
		return s.record(ctx, tx, p, profiles.ActionDeletedProfileKey, profiles.ProfileObjectTypeName, "", keyContent(keyName, values))
	})
}

// keyValues checks a key name and returns its values in stored form.
func (s *Service) keyValues(ctx context.Context, tx profiles.Tx, domain, keyName string, values []string) ([]string, error) {
	types, err := tx.ListObjectTypes(ctx, domain, "", 0)
	if err != nil {
		return nil, err
	}
	if !knownKeys(types)[keyName] {
		return nil, profiles.Errorf(profiles.EINVALID, "Key %q is not a key of domain %s: use a standard key or a key of one of its object types.", keyName, domain)
	}
	ct := contentTypeOf(keyName, types)
	var out []string
	for _, v := range values {
		n := mapping.Normalize(ct, v)
		if n == "" {
			return nil, profiles.Errorf(profiles.EINVALID, "Value %q is not a valid %s for key %s.", v, ct, keyName)
		}
		out = append(out, s.indexValue(domain, keyName, n))
	}
	return out, nil
}

func keyContent(keyName string, values []string) []byte {
	b, _ := json.Marshal(map[string]any{"KeyName": keyName, "Values": values})
	return b
}

// ListProfileAttributeValues returns the distinct values of a profile
// field across a domain's profiles.
func (s *Service) ListProfileAttributeValues(ctx context.Context, domain, attribute string) ([]string, error) {
	path := attribute
	if validateField(path, "") != nil {
		path = "Attributes." + attribute // a custom attribute by its bare name
	}
	if path == engagementField || validateField(path, "") != nil {
		return nil, profiles.Errorf(profiles.EINVALID, "%q is not a field of the standard profile.", attribute)
	}
	// Every profile is read, a page of them a transaction (eachProfile):
	// one transaction over a large domain held its snapshot (on SQLite,
	// the WAL's checkpoint) for the whole scan.
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return nil, domainErr(err, domain)
	}
	seen := map[string]bool{}
	err := s.eachProfile(ctx, domain, func(_ profiles.Tx, p *profiles.Profile) error {
		if v, ok := p.Fields[path]; ok {
			seen[v] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(seen) == 0 && strings.HasPrefix(path, "Attributes.") {
		// A field of the standard profile has no values yet; a custom
		// attribute no profile has is none the domain knows (AWS declares
		// ResourceNotFoundException here): say so rather than answer
		// nothing for a misspelt "Adress.City".
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Attribute %s not found in domain %s: it is no field of the standard profile, and no profile has the custom attribute %s.",
			attribute, domain, strings.TrimPrefix(path, "Attributes."))
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// findProfile finds a profile, worded for the API.
func (s *Service) findProfile(ctx context.Context, tx profiles.Tx, domain, id string) (*profiles.Profile, error) {
	p, err := tx.FindProfile(ctx, domain, id)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, profiles.Errorf(profiles.ENOTFOUND, "Profile %s not found in domain %s.", id, domain)
	}
	if p != nil && p.Fields == nil {
		p.Fields = map[string]string{}
	}
	if p != nil && p.Sources == nil {
		p.Sources = map[string]profiles.FieldSource{}
	}
	return p, err
}

// update runs fn in a write transaction on an existing domain.
func (s *Service) update(ctx context.Context, domain string, fn func(tx profiles.Tx) error) error {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return domainErr(err, domain)
	}
	return s.Store.Update(ctx, fn)
}

// view runs fn in a read transaction on an existing domain.
func (s *Service) view(ctx context.Context, domain string, fn func(tx profiles.Tx) error) error {
	if _, err := s.Store.FindDomain(ctx, domain); err != nil {
		return domainErr(err, domain)
	}
	return s.Store.View(ctx, fn)
}
