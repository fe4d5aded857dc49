package service

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.MatchingService = (*Service)(nil)

// Rule-based matching, computed when asked (and kept matchTTL) from every
// profile of the domain (as AWS's matching job would have): at rule level 1, profiles
// whose values are equal for every attribute of the rule are linked, and
// each connected set of two or more is a match group; the profiles left
// are linked at level 2 with the next rule, and so on up to
// MaxAllowedRuleLevelForMatching. A profile is thus in one group at most,
// of the first level that matches it. A value shared by more than
// maxMatchCardinality profiles links none of them (AWS skips such
// low-cardinality values).

// matchTTL is how long a node keeps a domain's match groups: the pages of
// ListRuleBasedMatches and the GetSimilarProfiles calls of that time read
// one computation (each reads every profile of the domain) instead of one
// each. Profiles changed meanwhile join or leave groups at most this late;
// new matching rules apply at once.
const matchTTL = 30 * time.Second

// matchCache keeps each domain's last match groups. The zero value is
// ready; it is safe for concurrent use.
type matchCache struct {
	mu      sync.Mutex
	sets    map[string]*matchSet   // by domain
	running map[string]*sync.Mutex // by domain: held while computing
}

// lock holds the domain's computation lock until the returned func is
// called.
func (c *matchCache) lock(domain string) func() {
	c.mu.Lock()
	if c.running == nil {
		c.running = map[string]*sync.Mutex{}
	}
	l := c.running[domain]
	if l == nil {
		l = &sync.Mutex{}
		c.running[domain] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// matchSet is one computation of a domain's match groups.
type matchSet struct {
	at        time.Time
	rules     string // the RuleBasedMatching settings it used, as JSON
	groups    []*profiles.SimilarProfiles
	byProfile map[string]*profiles.SimilarProfiles
}

// get returns the domain's groups if computed with rules less than
// matchTTL before now.
func (c *matchCache) get(domain, rules string, now time.Time) *matchSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.sets[domain]; m != nil && m.rules == rules && now.Sub(m.at) < matchTTL && !now.Before(m.at) {
		return m
	}
	return nil
}

func (c *matchCache) put(domain string, m *matchSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sets == nil || len(c.sets) >= 1000 {
		c.sets = map[string]*matchSet{}
	}
	c.sets[domain] = m
}

// maxMatchCardinality is how many profiles may share a rule level's values
// before they stop linking them.
const maxMatchCardinality = 500

// maxTuplesPerLevel bounds the combinations of values a profile offers at
// one level (several emails, several addresses).
const maxTuplesPerLevel = 64

// ListRuleBasedMatches returns one page of the domain's match ids, sorted.
func (s *Service) ListRuleBasedMatches(ctx context.Context, domain string, page profiles.Page) ([]string, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	groups, _, err := s.matchGroups(ctx, domain)
	if err != nil {
		return nil, "", err
	}
	scope := "ListRuleBasedMatches/" + domain
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	var ids []string
	for _, g := range groups {
		if g.MatchID > after {
			ids = append(ids, g.MatchID)
		}
	}
	next := ""
	if len(ids) > size {
		ids = ids[:size]
		next = s.tokens.encode(scope, ids[size-1])
	}
	return ids, next, nil
}

// GetSimilarProfiles returns the match group of a profile (found by a
// search key) or of a match id, one page of its profile ids.
func (s *Service) GetSimilarProfiles(ctx context.Context, domain, matchType, searchKey, searchValue string, page profiles.Page) (*profiles.SimilarProfiles, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	var groups []*profiles.SimilarProfiles
	var byProfile map[string]*profiles.SimilarProfiles
	switch matchType {
	case "RULE_BASED_MATCHING":
		groups, byProfile, err = s.matchGroups(ctx, domain)
	case "ML_BASED_MATCHING":
		groups, byProfile, err = s.similarityGroups(ctx, domain)
	default:
		return nil, "", profiles.Errorf(profiles.EINVALID, "MatchType %q must be RULE_BASED_MATCHING or ML_BASED_MATCHING.", matchType)
	}
	if err != nil {
		return nil, "", err
	}
	var g *profiles.SimilarProfiles
	if searchKey == "MatchId" {
		i, found := slices.BinarySearchFunc(groups, searchValue, func(g *profiles.SimilarProfiles, id string) int { return cmp.Compare(g.MatchID, id) })
		if !found {
			return nil, "", profiles.Errorf(profiles.ENOTFOUND, "Match %s not found in domain %s.", searchValue, domain)
		}
		g = groups[i]
	} else {
		// The profiles the key finds: their group, when they have one.
		found, _, err := s.SearchProfiles(ctx, domain, profiles.SearchQuery{Key: profiles.SearchKey{KeyName: searchKey, Values: []string{searchValue}}}, profiles.Page{MaxResults: 100})
		if err != nil {
			return nil, "", err
		} else if len(found) == 0 {
			return nil, "", profiles.Errorf(profiles.ENOTFOUND, "No profile of domain %s has %s %s.", domain, searchKey, searchValue)
		}
		for _, f := range found {
			switch fg := byProfile[f.Profile.ID]; {
			case fg == nil:
			case g == nil:
				g = fg
			case fg != g:
				return nil, "", profiles.Errorf(profiles.EINVALID, "%s %s finds profiles of several match groups; name one profile, for example with _profileId.", searchKey, searchValue)
			}
		}
		if g == nil {
			return &profiles.SimilarProfiles{}, "", nil
		}
	}
	scope := "GetSimilarProfiles/" + domain + "/" + matchType + "/" + g.MatchID
	after := ""
	if page.Token != "" {
		if after, err = s.tokens.decode(scope, page.Token); err != nil {
			return nil, "", err
		}
	}
	out := &profiles.SimilarProfiles{MatchID: g.MatchID, RuleLevel: g.RuleLevel, ConfidenceScore: g.ConfidenceScore}
	for _, id := range g.ProfileIDs {
		if id > after {
			out.ProfileIDs = append(out.ProfileIDs, id)
		}
	}
	next := ""
	if len(out.ProfileIDs) > size {
		out.ProfileIDs = out.ProfileIDs[:size]
		next = s.tokens.encode(scope, out.ProfileIDs[size-1])
	}
	return out, next, nil
}

// matchGroups computes the domain's match groups, sorted by match id, and
// the group of each grouped profile.
func (s *Service) matchGroups(ctx context.Context, domain string) ([]*profiles.SimilarProfiles, map[string]*profiles.SimilarProfiles, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return nil, nil, domainErr(err, domain)
	}
	r := d.RuleBasedMatching
	if r == nil || !r.Enabled || len(r.MatchingRules) == 0 {
		return nil, nil, profiles.Errorf(profiles.EINVALID, "Rule-based matching is not enabled on domain %s: set RuleBasedMatching with MatchingRules (UpdateDomain).", domain)
	}
	// The key: the rules, and the domain's creation (a domain deleted and
	// made again is another domain).
	rulesKey, _ := json.Marshal(struct {
		Created time.Time
		Rules   *profiles.RuleBasedMatchingSettings
	}{d.CreatedAt, r})
	now := s.now()
	// One computation at a time per domain: calls that come meanwhile wait
	// for it and read what it kept.
	unlock := s.matches.lock(domain)
	defer unlock()
	if m := s.matches.get(domain, string(rulesKey), now); m != nil {
		return m.groups, m.byProfile, nil
	}
	groups, byProfile, err := s.computeMatchGroups(ctx, domain, r)
	if err != nil {
		return nil, nil, err
	}
	s.matches.put(domain, &matchSet{at: now, rules: string(rulesKey), groups: groups, byProfile: byProfile})
	return groups, byProfile, nil
}

// forget drops the domain's match groups (its profiles merged).
func (c *matchCache) forget(domain string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sets, domain)
}

// computeMatchGroups reads every profile of the domain and returns its
// match groups under r, sorted by match id, the group of each grouped
// profile.
func (s *Service) computeMatchGroups(ctx context.Context, domain string, r *profiles.RuleBasedMatchingSettings) ([]*profiles.SimilarProfiles, map[string]*profiles.SimilarProfiles, error) {
	levels := r.MatchingRules
	if m := r.MaxAllowedRuleLevelForMatching; m != nil && *m > 0 && *m < len(levels) {
		levels = levels[:*m]
	}
	// Every profile's values for every level.
	var ids []string
	var tuples [][][]string // [profile][level] -> the level's value tuples
	err := s.eachProfile(ctx, domain, func(_ profiles.Tx, p *profiles.Profile) error {
		ids = append(ids, p.ID)
		t := make([][]string, len(levels))
		for l, rule := range levels {
			t[l] = ruleTuples(p, rule, r.AttributeTypesSelector)
		}
		tuples = append(tuples, t)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}

	grouped := make([]bool, len(ids))
	var groups []*profiles.SimilarProfiles
	byProfile := map[string]*profiles.SimilarProfiles{}
	for l := range levels {
		holders := map[string][]int{} // tuple -> profiles not yet grouped
		for i := range ids {
			if grouped[i] {
				continue
			}
			for _, t := range tuples[i][l] {
				holders[t] = append(holders[t], i)
			}
		}
		sets := unionFind{}
		for _, hs := range holders {
			if len(hs) < 2 || len(hs) > maxMatchCardinality {
				continue
			}
			for _, h := range hs[1:] {
				sets.union(hs[0], h)
			}
		}
		for _, ms := range sets.sets() {
			if len(ms) < 2 {
				continue
			}
			g := &profiles.SimilarProfiles{RuleLevel: l + 1}
			for _, i := range ms {
				grouped[i] = true
				g.ProfileIDs = append(g.ProfileIDs, ids[i])
			}
			slices.Sort(g.ProfileIDs)
			g.MatchID = matchID(domain, l+1, g.ProfileIDs[0])
			for _, id := range g.ProfileIDs {
				byProfile[id] = g
			}
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, b *profiles.SimilarProfiles) int { return cmp.Compare(a.MatchID, b.MatchID) })
	return groups, byProfile, nil
}

// unionFind joins integers into sets, each named by its smallest member
// (its root). The zero value holds none; sets holds only the integers
// joined.
type unionFind map[int]int

// find returns the root of i's set (i for an integer never joined).
func (u unionFind) find(i int) int {
	p, ok := u[i]
	if !ok || p == i {
		return i
	}
	root := u.find(p)
	u[i] = root
	return root
}

// union joins the sets of a and b and returns the root of the set made.
func (u unionFind) union(a, b int) int {
	ra, rb := u.find(a), u.find(b)
	root := min(ra, rb)
	u[ra], u[rb] = root, root
	return root
}

// sets returns the members of each set joined, by root.
func (u unionFind) sets() map[int][]int {
	out := map[int][]int{}
	for i := range u {
		r := u.find(i)
		out[r] = append(out[r], i)
	}
	return out
}

// matchID names a group by its level and its first profile: the same while
// the group keeps that profile.
func matchID(domain string, level int, first string) string {
	h := sha256.Sum256([]byte(domain + "\x00" + strconv.Itoa(level) + "\x00" + first))
	return hex.EncodeToString(h[:16])
}

// ruleTuples returns the combinations of a profile's values for the
// attributes of one rule (none when an attribute has no value). The
// rule's Address.<part> attributes are compared together, as one value
// per address (addressValues): a city of the main address and a postal
// code of the shipping address are no address of the profile.
func ruleTuples(p *profiles.Profile, rule []string, sel *profiles.AttributeTypesSelector) []string {
	tuples := []string{""}
	cross := func(values []string) {
		var next []string
		for _, t := range tuples {
			for _, v := range values {
				if len(next) < maxTuplesPerLevel {
					next = append(next, t+"\x00"+v)
				}
			}
		}
		tuples = next
	}
	var parts []string
	for _, attr := range rule {
		if part, ok := strings.CutPrefix(attr, "Address."); ok {
			parts = append(parts, part)
			continue
		}
		values := ruleValues(p, attr, sel)
		if len(values) == 0 {
			return nil
		}
		cross(values)
	}
	if len(parts) > 0 {
		values := addressValues(p, parts, sel)
		if len(values) == 0 {
			return nil
		}
		cross(values)
	}
	return tuples
}

// ruleValues returns a profile's normalised values for one rule attribute:
// the generic EmailAddress, PhoneNumber and Address.<part> read the fields
// AttributeTypesSelector names (each value tagged with its field unless the
// model is MANY_TO_MANY, so that ONE_TO_ONE compares a field with itself);
// BirthDate is a date YYYY-MM-DD when written year first (birthDate), so
// that 1990/01/02 is 1990-01-02, as identity resolution compares it.
func ruleValues(p *profiles.Profile, attr string, sel *profiles.AttributeTypesSelector) []string {
	manyToMany := sel != nil && sel.AttributeMatchingModel == "MANY_TO_MANY"
	pick := func(fields []string, def string) []string {
		if len(fields) == 0 {
			return []string{def}
		}
		return fields
	}
	var out []string
	add := func(field, ctype, v string) {
		if n := mapping.Normalize(ctype, v); n != "" {
			if !manyToMany {
				n = field + "=" + n
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	switch {
	case attr == "EmailAddress":
		var fields []string
		if sel != nil {
			fields = sel.EmailAddress
		}
		for _, f := range pick(fields, "EmailAddress") {
			add(f, profiles.ContentEmail, p.Fields[f])
		}
	case attr == "PhoneNumber":
		var fields []string
		if sel != nil {
			fields = sel.PhoneNumber
		}
		for _, f := range pick(fields, "PhoneNumber") {
			add(f, profiles.ContentPhone, p.Fields[f])
		}
	case strings.HasPrefix(attr, "Address."):
		out = addressValues(p, []string{strings.TrimPrefix(attr, "Address.")}, sel)
	case attr == "Gender":
		v := p.Fields["GenderString"]
		if v == "" {
			v = p.Fields["Gender"]
		}
		add(attr, profiles.ContentName, v)
	case attr == "BirthDate": // as a date when written year first, as identity resolution reads it
		add(attr, profiles.ContentName, birthDate(p.Fields[attr]))
	default:
		add(attr, profiles.ContentName, p.Fields[attr])
	}
	return out
}

// addressKind returns the profile's address field that an
// AttributeTypesSelector.Address entry names: the model's documentation
// spells MailingAddress "MaillingAddress", and names a "BusinessAddress"
// that the standard profile does not have; it stands here for the one
// address kind the documentation leaves out, BillingAddress (what AWS
// reads for it is not documented).
func addressKind(name string) string {
	switch name {
	case "MaillingAddress":
		return "MailingAddress"
	case "BusinessAddress":
		return "BillingAddress"
	}
	return name
}

// addressValues returns a profile's values for the address parts of one
// rule (Address.City, Address.PostalCode, …; Address.Address is the street
// lines together), one value per address kind the selector names (by
// default Address) that has every part: the parts of one value come from
// one address. Each value is tagged with its kind unless the model is
// MANY_TO_MANY.
func addressValues(p *profiles.Profile, parts []string, sel *profiles.AttributeTypesSelector) []string {
	kinds := []string{"Address"}
	manyToMany := false
	if sel != nil {
		manyToMany = sel.AttributeMatchingModel == "MANY_TO_MANY"
		if len(sel.Address) > 0 {
			kinds = sel.Address
		}
	}
	var out []string
kinds:
	for _, name := range kinds {
		kind := addressKind(name)
		values := make([]string, len(parts))
		for i, part := range parts {
			v := p.Fields[kind+"."+part]
			if part == "Address" { // the street lines, together
				var lines []string
				for _, l := range []string{"Address1", "Address2", "Address3", "Address4"} {
					if x := p.Fields[kind+"."+l]; x != "" {
						lines = append(lines, x)
					}
				}
				v = strings.Join(lines, " ")
			}
			if values[i] = mapping.Normalize(profiles.ContentName, v); values[i] == "" {
				continue kinds
			}
		}
		v := strings.Join(values, "\x01")
		if !manyToMany {
			v = kind + "=" + v
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
