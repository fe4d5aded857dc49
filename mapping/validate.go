package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

// standardIdentifier reports whether id is in the model's enum of key
// identifiers.
func standardIdentifier(id string) bool {
	switch id {
	case "PROFILE", "ASSET", "CASE", "DEVICE", "WEB_ANALYTICS", "ORDER", "COMMUNICATION_RECORD",
		"AIR_PREFERENCE", "HOTEL_PREFERENCE", "AIR_BOOKING", "AIR_SEGMENT", "HOTEL_RESERVATION",
		"HOTEL_STAY_REVENUE", "LOYALTY", "LOYALTY_TRANSACTION", "LOYALTY_PROMOTION",
		"UNIQUE", "SECONDARY", "LOOKUP_ONLY", "NEW_ONLY":
		return true
	}
	return false
}

// tiesToProfile reports whether an identifier links an object to a profile
// or to a standard asset, case or order.
func tiesToProfile(id string) bool {
	switch id {
	case profiles.IdentifierProfile, profiles.IdentifierAsset, profiles.IdentifierCase, profiles.IdentifierOrder:
		return true
	}
	return false
}

const maxNameLen = 64

// validName reports whether s matches a model name pattern of 1–64
// characters: letters, digits, "_", "-" and, when dot is set, ".".
func validName(s string, dot bool) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isASCIILetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || dot && c == '.') {
			return false
		}
	}
	return true
}

// Validate checks an object type's Fields, Keys and
// SourceLastUpdatedTimestampFormat. It returns EINVALID with a message that
// names the culprit. The object type's own name is not checked. The rules:
//
//   - Fields is not empty; field names match the model (1–64 letters,
//     digits, "_", ".", "-"); every Source, Target and ContentType is valid
//     (see the package documentation);
//   - the format, when set, is a supported Java pattern;
//   - at most profiles.MaxKeysPerObjectType key names, each matching the
//     model (1–64 letters, digits, "_", "-") with at least one definition;
//     every definition has FieldNames, all of them in Fields, and only
//     standard identifiers (an empty list is allowed: a plain searchable key);
//   - UNIQUE is never combined with LOOKUP_ONLY; exactly one key name carries
//     UNIQUE, and that key has a single definition (an object has one
//     identity);
//   - some key carries PROFILE, ASSET, CASE or ORDER, so that an object can be
//     tied to something (a UNIQUE key that also carries PROFILE does).
func Validate(t *profiles.ObjectType) error {
	if len(t.Fields) == 0 {
		return profiles.Errorf(profiles.EINVALID, "Fields must define at least one field")
	}
	for _, name := range sortedKeys(t.Fields) {
		if !validName(name, true) {
			return profiles.Errorf(profiles.EINVALID,
				"Field name %q must be 1-%d characters: letters, digits, '_', '.' and '-'", name, maxNameLen)
		}
	}
	if _, err := compile(t); err != nil {
		return err
	}

	if n := len(t.Keys); n > profiles.MaxKeysPerObjectType {
		return profiles.Errorf(profiles.EINVALID,
			"The object type has %d keys; the limit is %d", n, profiles.MaxKeysPerObjectType)
	}
	var unique []string
	ties := false
	for _, name := range sortedKeys(t.Keys) {
		defs := t.Keys[name]
		if !validName(name, false) {
			return profiles.Errorf(profiles.EINVALID,
				"Key name %q must be 1-%d characters: letters, digits, '_' and '-'", name, maxNameLen)
		}
		if len(defs) == 0 {
			return profiles.Errorf(profiles.EINVALID, "Key %q has no definition", name)
		}
		isUnique := false
		for i, def := range defs {
			if err := validateKeyDef(name, i, len(defs), def); err != nil {
				return err
			}
			isUnique = isUnique || slices.Contains(def.StandardIdentifiers, profiles.IdentifierUnique)
			ties = ties || slices.ContainsFunc(def.StandardIdentifiers, tiesToProfile)
		}
		if isUnique {
			if len(defs) > 1 {
				return profiles.Errorf(profiles.EINVALID,
					"Key %q has the UNIQUE identifier, so it must have exactly one definition; found %d", name, len(defs))
			}
			unique = append(unique, name)
		}
	}
	if len(unique) != 1 {
		msg := fmt.Sprintf("Exactly one key must have the UNIQUE identifier; found %d", len(unique))
		if len(unique) > 1 {
			msg += ": " + strings.Join(unique, ", ")
		}
		return profiles.Errorf(profiles.EINVALID, "%s", msg)
	}
	if !ties {
		return profiles.Errorf(profiles.EINVALID,
			"At least one key must tie the object to a profile (PROFILE), an asset (ASSET), a case (CASE) or an order (ORDER); key %q has UNIQUE only", unique[0])
	}
	return nil
}

// validateKeyDef checks definition i (of n) of key name.
func validateKeyDef(name string, i, n int, def profiles.ObjectTypeKey) error {
	which := fmt.Sprintf("Key %q", name)
	if n > 1 {
		which = fmt.Sprintf("Key %q (definition %d)", name, i+1)
	}
	if len(def.FieldNames) == 0 {
		return profiles.Errorf(profiles.EINVALID, "%s has no FieldNames", which)
	}
	for _, id := range def.StandardIdentifiers {
		if !standardIdentifier(id) {
			return profiles.Errorf(profiles.EINVALID, "%s: %q is not a standard identifier", which, id)
		}
	}
	if slices.Contains(def.StandardIdentifiers, profiles.IdentifierUnique) &&
		slices.Contains(def.StandardIdentifiers, profiles.IdentifierLookupOnly) {
		return profiles.Errorf(profiles.EINVALID, "%s: UNIQUE cannot be combined with LOOKUP_ONLY", which)
	}
	return nil
}
