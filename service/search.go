package service

import (
	"context"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.SearchService = (*Service)(nil)

// predefinedKeys are the key names AWS predefines for SearchProfiles; they
// are valid in every domain even before an object type defines them. The
// keys of the built-in templates are among them, since a domain may ingest
// through a template without defining its type: AWS's list names all of
// them but _serviceNowTaskId (ServiceNow-task), added at the end.
var predefinedKeys = []string{
	"_account", "_profileId", "_assetId", "_caseId", "_orderId", "_fullName", "_phone", "_email",
	"_ctrContactId", "_marketoLeadId", "_salesforceAccountId", "_salesforceContactId", "_salesforceAssetId",
	"_zendeskUserId", "_zendeskExternalId", "_zendeskTicketId", "_serviceNowSystemId", "_serviceNowIncidentId",
	"_segmentUserId", "_shopifyCustomerId", "_shopifyOrderId",
	"_serviceNowTaskId",
}

const defaultSearchPageSize = 20

// SearchProfiles finds profiles by key values.
func (s *Service) SearchProfiles(ctx context.Context, domain string, q profiles.SearchQuery, page profiles.Page) ([]*profiles.FoundProfile, string, error) {
	size := defaultSearchPageSize
	if page.MaxResults != 0 {
		var err error
		if size, err = pageSize(page.MaxResults); err != nil {
			return nil, "", err
		}
	}
	op := strings.ToUpper(q.LogicalOperator)
	if op == "" {
		op = "OR"
	}
	if op != "AND" && op != "OR" {
		return nil, "", profiles.Errorf(profiles.EINVALID, "LogicalOperator must be AND or OR, not %q.", q.LogicalOperator)
	}
	if len(q.Additional) > 4 {
		return nil, "", profiles.Errorf(profiles.EINVALID, "AdditionalSearchKeys holds at most 4 keys.")
	}
	keys := append([]profiles.SearchKey{q.Key}, q.Additional...)
	var b strings.Builder
	b.WriteString("SearchProfiles/" + domain + "/" + op)
	for _, k := range keys {
		b.WriteString("/" + k.KeyName + "=" + strings.Join(k.Values, "\x00"))
	}
	scope := b.String()
	after := ""
	if page.Token != "" {
		var err error
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	var found []*profiles.FoundProfile
	err := s.Store.View(ctx, func(tx profiles.Tx) error {
		// The domain's types, read at most a second ago (domaincache.go):
		// they say which key names are valid and how each normalises its
		// values. This is also where a missing domain is told (ENOTFOUND).
		types, err := s.recentTypes(ctx, tx, domain)
		if err != nil {
			return domainErr(err, domain)
		}
		known := knownKeys(types)
		// For each key, the profiles each of its values finds.
		matches := map[string][]profiles.SearchKey{} // profile id -> what found it
		var sets []map[string]bool
		for _, k := range keys {
			if !known[k.KeyName] {
				return profiles.Errorf(profiles.EINVALID, "Key %q is not a search key of domain %s: use a standard key or a key of one of its object types.", k.KeyName, domain)
			}
			ct := contentTypeOf(k.KeyName, types)
			set := map[string]bool{}
			for _, v := range k.Values {
				n := mapping.Normalize(ct, v)
				if n == "" {
					continue
				}
				ids, err := s.findProfileIDs(ctx, tx, domain, k.KeyName, n, s.indexValue(domain, k.KeyName, n))
				if err != nil {
					// ENOTFOUND: the domain, deleted since its types were kept.
					return domainErr(err, domain)
				}
				for _, id := range ids {
					set[id] = true
					matches[id] = addFoundBy(matches[id], k.KeyName, v)
				}
			}
			sets = append(sets, set)
		}
		ids := combine(sets, op)
		slices.Sort(ids)
		for _, id := range ids {
			if id <= after {
				continue
			}
			if len(found) == size+1 {
				break
			}
			p, err := tx.FindProfile(ctx, domain, id)
			if profiles.ErrorCode(err) == profiles.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			found = append(found, &profiles.FoundProfile{Profile: p, FoundBy: matches[id]})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(found) > size {
		found = found[:size]
		next = s.tokens.encode(scope, found[size-1].Profile.ID)
	}
	return found, next, nil
}

// knownKeys returns the key names valid in a domain of the given object
// types: the predefined ones and those of its types.
func knownKeys(types []*profiles.ObjectType) map[string]bool {
	known := map[string]bool{}
	for _, k := range predefinedKeys {
		known[k] = true
	}
	for _, t := range types {
		for k := range t.Keys {
			known[k] = true
		}
	}
	return known
}

func addFoundBy(items []profiles.SearchKey, key, value string) []profiles.SearchKey {
	for i := range items {
		if items[i].KeyName == key {
			if !slices.Contains(items[i].Values, value) {
				items[i].Values = append(items[i].Values, value)
			}
			return items
		}
	}
	return append(items, profiles.SearchKey{KeyName: key, Values: []string{value}})
}

// combine intersects (AND) or unites (OR) the sets of profile ids.
func combine(sets []map[string]bool, op string) []string {
	var ids []string
	for id := range sets[0] {
		ids = append(ids, id)
	}
	for _, set := range sets[1:] {
		if op == "AND" {
			ids = slices.DeleteFunc(ids, func(id string) bool { return !set[id] })
			continue
		}
		for id := range set {
			if !sets[0][id] {
				sets[0][id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}
