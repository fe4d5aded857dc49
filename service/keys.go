package service

import (
	"context"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// Standard search keys, maintained from a profile's own fields.
const (
	KeyProfileID = "_profileId"
	KeyPhone     = "_phone"
	KeyEmail     = "_email"
	KeyAccount   = "_account"
	KeyFullName  = "_fullName"
)

var (
	phoneFields = []string{"PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"}
	emailFields = []string{"EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"}
)

// nameFields are the fields of the _fullName key, in order.
var nameFields = []string{"FirstName", "MiddleName", "LastName"}

// standardKeySources are the fields the standard keys are made of, by key.
var standardKeySources = [][]string{phoneFields, emailFields, {"AccountNumber"}, nameFields}

// standardKeyFields are the fields each standard key is made of, by name.
var standardKeyFields = map[string][]string{KeyPhone: phoneFields, KeyEmail: emailFields, KeyAccount: {"AccountNumber"}, KeyFullName: nameFields}

// changedStandardKeys returns the names of the standard keys made of a
// field whose value differs between fields before and after.
func changedStandardKeys(before, after map[string]string) map[string]bool {
	changed := map[string]bool{}
	for name, fields := range standardKeyFields {
		for _, f := range fields {
			if before[f] != after[f] {
				changed[name] = true
				break
			}
		}
	}
	return changed
}

// mayChangeStandardKeys reports whether writing fields into p may change
// its standard keys: whether one of the fields standardKeys reads (besides
// the id) would get another value.
func mayChangeStandardKeys(p *profiles.Profile, fields map[string]string) bool {
	for _, group := range standardKeySources {
		for _, f := range group {
			if v, ok := fields[f]; ok && v != p.Fields[f] {
				return true
			}
		}
	}
	return false
}

// sentStandardKeys returns the names of the standard keys made of a field
// that an UpdateProfile's changes name (whatever its value).
func sentStandardKeys(changes map[string]string) map[string]bool {
	sent := map[string]bool{}
	for name, fields := range standardKeyFields {
		for _, f := range fields {
			if _, ok := changes[f]; ok {
				sent[name] = true
				break
			}
		}
	}
	return sent
}

// differentStandardKeys returns the names of the standard keys whose
// values differ between before and after (standardKeys of a profile before
// and after a change).
func differentStandardKeys(before, after []profiles.Key) map[string]bool {
	values := func(keys []profiles.Key) map[string][]string {
		m := map[string][]string{}
		for _, k := range keys {
			m[k.Name] = append(m[k.Name], k.Value)
		}
		return m
	}
	b, a := values(before), values(after)
	changed := map[string]bool{}
	for name := range standardKeyFields {
		if !slices.Equal(b[name], a[name]) {
			changed[name] = true
		}
	}
	return changed
}

// standardKeys returns the standard keys of a profile. _profileId has no
// key row: a profile is found by its id in its own table (findProfileIDs),
// which spares every new profile a row, and a page, in the keys index.
// Profiles stored before kept theirs until their standard keys change.
func (s *Service) standardKeys(p *profiles.Profile) []profiles.Key {
	key := func(name, value string) profiles.Key {
		return profiles.Key{DomainName: p.DomainName, Name: name, Value: s.indexValue(p.DomainName, name, value), ProfileID: p.ID, Origin: profiles.KeyOriginProfile}
	}
	var keys []profiles.Key
	for _, f := range phoneFields {
		if v := mapping.Normalize(profiles.ContentPhone, p.Fields[f]); v != "" && !mapping.PhonePlaceholder(v) {
			keys = append(keys, key(KeyPhone, v))
		}
	}
	for _, f := range emailFields {
		if v := mapping.Normalize(profiles.ContentEmail, p.Fields[f]); v != "" {
			keys = append(keys, key(KeyEmail, v))
		}
	}
	if v := mapping.Normalize(profiles.ContentString, p.Fields["AccountNumber"]); v != "" {
		keys = append(keys, key(KeyAccount, v))
	}
	names := make([]string, len(nameFields))
	for i, f := range nameFields {
		names[i] = p.Fields[f]
	}
	full := strings.Join(names, " ")
	if v := mapping.Normalize(profiles.ContentName, full); v != "" {
		keys = append(keys, key(KeyFullName, v))
	}
	return keys
}

// findProfileIDs returns the ids of the profiles that hold value under the
// key keyName: those of the key rows with its index form (indexValue), and,
// for _profileId, the profile whose id it is, if there is one (profiles
// have no _profileId row of their own; objects may map a key of that name,
// and profiles stored before this kept theirs).
func (s *Service) findProfileIDs(ctx context.Context, tx profiles.Tx, domain, keyName, value, index string) ([]string, error) {
	ids, err := tx.FindProfileIDs(ctx, domain, keyName, index)
	if err != nil || keyName != KeyProfileID || value == "" || slices.Contains(ids, value) {
		return ids, err
	}
	switch _, err := tx.FindProfile(ctx, domain, value); {
	case profiles.ErrorCode(err) == profiles.ENOTFOUND:
		return ids, nil
	case err != nil:
		return nil, err
	}
	return append(ids, value), nil
}

// putStandardKeys makes again, from p's fields, p's standard keys named in
// names, and leaves the others as stored: a standard key removed with
// DeleteProfileKey stays removed until a field it is made of changes (or
// UpdateProfile sends one), whichever other fields change. A _profileId
// row of a profile stored before goes, as it went when every standard key
// was made again.
func (s *Service) putStandardKeys(ctx context.Context, tx profiles.Tx, p *profiles.Profile, names map[string]bool) error {
	if len(names) == 0 {
		return nil
	}
	stored, err := tx.ListKeys(ctx, p.DomainName, p.ID)
	if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		return err
	}
	var keys []profiles.Key
	for _, k := range stored {
		if k.Origin == profiles.KeyOriginProfile && k.Name != KeyProfileID && !names[k.Name] {
			keys = append(keys, k)
		}
	}
	for _, k := range s.standardKeys(p) {
		if names[k.Name] {
			keys = append(keys, k)
		}
	}
	if err := tx.DeleteKeys(ctx, p.DomainName, p.ID, profiles.KeyOriginProfile, ""); err != nil {
		return err
	}
	return tx.PutKeys(ctx, keys)
}

// keyContentType returns how values of a key name are normalised in a
// domain (contentTypeOf), reading its object types only for keys that are
// not standard.
func (s *Service) keyContentType(ctx context.Context, tx profiles.Tx, domain, keyName string) (string, error) {
	if ct, ok := standardContentType(keyName); ok {
		return ct, nil
	}
	types, err := tx.ListObjectTypes(ctx, domain, "", 0)
	if err != nil {
		return "", err
	}
	return contentTypeOf(keyName, types), nil
}

// standardContentType returns how values of a standard key are normalised.
func standardContentType(keyName string) (string, bool) {
	switch keyName {
	case KeyPhone:
		return profiles.ContentPhone, true
	case KeyEmail:
		return profiles.ContentEmail, true
	case KeyFullName:
		return profiles.ContentName, true
	case KeyProfileID, KeyAccount:
		return profiles.ContentString, true
	}
	return "", false
}

// typeKeyContentType returns how the values of key keyName are normalised
// by object type t (as contentTypeOf for t alone, the standard keys' kinds
// aside: t's objects store the values of its own definition), and false
// when t does not define the key.
func typeKeyContentType(t *profiles.ObjectType, keyName string) (string, bool) {
	defs := t.Keys[keyName]
	if len(defs) == 0 {
		return "", false
	}
	for _, def := range defs {
		if len(def.FieldNames) == 1 {
			if ct := t.Fields[def.FieldNames[0]].ContentType; ct != "" {
				return ct, true
			}
			return profiles.ContentString, true
		}
	}
	return profiles.ContentString, true
}

// contentTypeOf returns how values of a key name are normalised, given a
// domain's object types: the standard keys by their kind, other keys by
// the content type of the first field of their definition in the types
// (STRING when the key is unknown or spans several fields).
func contentTypeOf(keyName string, types []*profiles.ObjectType) string {
	if ct, ok := standardContentType(keyName); ok {
		return ct
	}
	for _, t := range types {
		for _, def := range t.Keys[keyName] {
			if len(def.FieldNames) == 1 {
				return t.Fields[def.FieldNames[0]].ContentType
			}
		}
	}
	return profiles.ContentString
}
