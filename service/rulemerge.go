package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
)

// Rule-based merging: with RuleBasedMatching enabled and
// MaxAllowedRuleLevelForMerging set, the sweep of any node
// (StartRuleMerges) runs a merge pass on the domain once an interval: it
// computes the match groups from every profile, as ListRuleBasedMatches
// does (computeMatchGroups), and merges each group of a rule level at most
// MaxAllowedRuleLevelForMerging (and MaxAllowedRuleLevelForMatching) into
// one profile, through mergeProfiles, as MergeProfiles does: keys, objects
// and history move the same way, and its refusals (a merged profile over
// the object limits) leave the group unmerged (logged; the next pass tries
// again).
//
//   - The profile that stays is the group's oldest (CreatedAt, then the
//     smallest id): the id known longest (kept by other systems, contact
//     history) goes on naming the customer, and a profile that joins a
//     group later merges into the same one.
//   - Each field (an address with its parts) takes the value that
//     ConflictResolution chooses (conflictSources): RECENCY (the default)
//     the value updated last, by its object's time when ingested, else by
//     its profile's LastUpdatedAt; SOURCE the value set by an object of
//     type SourceName, and by recency among several such values or when
//     none has one.
//   - Each merge decides in its own transaction, on the profiles as they
//     are then (mergeGroup): they must still be linked by the group's
//     rule (ingestion may have changed them since the pass read them; if
//     not, the group waits for the next pass), and fields are resolved on
//     their values of then. Objects ingested meanwhile into a merged
//     profile move with it (the merge's transaction orders them, as for
//     MergeProfiles); one that comes after finds the profile that stays
//     by the merged profile's keys.
//   - One node at a time runs a domain's pass: it holds a lease in the
//     domain's ConfigRuleMerge config, renewed as it goes; the config also
//     records when the last pass ended, so that a pass runs once an
//     interval whatever the number of nodes, and at once when the rules
//     change.
//   - With RuleBasedMatching.ExportingConfig set, the pass runs even
//     without merging, and writes the groups it computed to S3
//     (exportRuleGroups, identityexport.go).
//   - RuleBasedMatching.Status: with merging set, PENDING from the change
//     of the rules (UpdateDomain, CreateDomain) to the first pass under
//     them, IN_PROGRESS during that pass, ACTIVE once it ended. Without
//     merging, matching is computed when asked: ACTIVE as soon as enabled.

// ruleMergeLease is how long a domain's pass is left to the node that
// holds it; the pass renews it at half of that.
const ruleMergeLease = 10 * time.Minute

// ruleMergeConfig names the one ConfigRuleMerge config of a domain.
const ruleMergeConfig = "state"

// ruleMergeDoc is what the ConfigRuleMerge config holds.
type ruleMergeDoc struct {
	Rules      string    `json:"rules,omitempty"`      // the settings (ruleSettingsKey) of the last pass that ended
	NextAfter  time.Time `json:"nextAfter,omitzero"`   // no pass under the same settings before then
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`  // held by a node until then
	LastMerged int64     `json:"lastMerged,omitempty"` // profiles the last pass merged into others
	ruleExport
}

var (
	errRuleMergeTaken  = errors.New("rule-based merging held by another node")
	errRuleMergeNotDue = errors.New("rule-based merging not due")
)

// ruleMergeLevel returns the highest rule level whose groups merge (0:
// none).
func ruleMergeLevel(r *profiles.RuleBasedMatchingSettings) int {
	if r == nil || !r.Enabled || len(r.MatchingRules) == 0 || r.MaxAllowedRuleLevelForMerging == nil || *r.MaxAllowedRuleLevelForMerging <= 0 {
		return 0
	}
	level := min(*r.MaxAllowedRuleLevelForMerging, len(r.MatchingRules))
	if m := r.MaxAllowedRuleLevelForMatching; m != nil && *m > 0 {
		level = min(level, *m)
	}
	return level
}

// ruleSettingsKey names the rule-based settings of a domain, its Status
// left out, and its creation (a domain made again is another domain).
func ruleSettingsKey(created time.Time, r *profiles.RuleBasedMatchingSettings) string {
	var c profiles.RuleBasedMatchingSettings
	if r != nil {
		c = *r
		c.Status = ""
	}
	b, _ := json.Marshal(struct {
		Created time.Time
		Rules   profiles.RuleBasedMatchingSettings
	}{created, c})
	return string(b)
}

// StartRuleMerges runs rule-based merge passes every interval in the
// background, until Close.
func (s *Service) StartRuleMerges(interval time.Duration) {
	s.runEvery(interval, "rule-based merging", func(ctx context.Context) (int, error) {
		return s.RunRuleMerges(ctx, interval)
	})
}

// RunRuleMerges runs the merge pass of every domain that merges by rules
// (or exports their groups) and is due (its last pass under the same
// settings ended at least gap ago, and no node holds it), and returns how
// many passes it ran.
func (s *Service) RunRuleMerges(ctx context.Context, gap time.Duration) (int, error) {
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		if ruleMergeLevel(d.RuleBasedMatching) == 0 && !ruleExports(d.RuleBasedMatching) {
			return 0, nil
		}
		ran, err := s.ruleMergeDomain(ctx, d.Name, gap)
		if err != nil && ctx.Err() == nil {
			// Logged: the other domains go on.
			s.Logger.Error("rule-based merging", "domain", d.Name, "err", err)
		}
		if ran {
			return 1, nil
		}
		return 0, ctx.Err()
	})
}

// ruleMergeDomain runs one merge pass of the domain if it is due and no
// other node holds it, and reports whether it ran.
func (s *Service) ruleMergeDomain(ctx context.Context, domain string, gap time.Duration) (bool, error) {
	d, err := s.Store.FindDomain(ctx, domain) // as it is now, not as listed
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	level := ruleMergeLevel(d.RuleBasedMatching)
	if level == 0 && !ruleExports(d.RuleBasedMatching) {
		return false, nil
	}
	key := ruleSettingsKey(d.CreatedAt, d.RuleBasedMatching)
	if level == 0 && s.Objects == nil {
		// Exporting only, without an S3 service: a pass would read every
		// profile for groups that can go nowhere. Logged once (while the
		// settings stay so), as a pass's failed write would be.
		if prev, logged := s.exportsNowhere.Swap(domain, key); !logged || prev != key {
			s.Logger.Error("rule-based matching: export to S3 failed; no pass runs until the server has one", "domain", domain,
				"bucket", d.RuleBasedMatching.ExportingConfig.S3Exporting.S3BucketName, "why", "this server has no S3 service (start it with --s3-endpoint)")
		}
		return false, nil
	}
	lease, ok, err := s.claimRuleMerge(ctx, domain, key)
	if !ok || err != nil {
		return false, err
	}
	s.setRuleStatus(ctx, domain, key, "PENDING", "IN_PROGRESS")
	started := s.now()
	groups, _, err := s.computeMatchGroups(ctx, d.Name, d.RuleBasedMatching)
	var merged int64
	var failed int
	var export ruleExport
	if err == nil {
		merged, failed, err = s.mergeRuleGroups(ctx, d, groups, level, key, &lease)
	}
	if err == nil && ruleExports(d.RuleBasedMatching) {
		export, err = s.exportRuleGroups(ctx, d, key, groups)
	}
	if merged > 0 {
		s.matches.forget(domain)
	}
	lv := slog.LevelDebug // a pass that did nothing new: every interval
	if merged > 0 || failed > 0 {
		lv = slog.LevelInfo
	}
	s.Logger.Log(ctx, lv, "rule-based merging: pass ended", "domain", domain, "profiles_merged", merged, "groups_not_merged", failed)
	if err != nil {
		s.releaseRuleMerge(context.WithoutCancel(ctx), domain, lease, nil)
		if errors.Is(err, errRuleMergeTaken) {
			return true, nil // the settings changed, or another node took over
		}
		return true, err
	}
	ended := s.now()
	s.releaseRuleMerge(context.WithoutCancel(ctx), domain, lease, &ruleMergeDoc{Rules: key, NextAfter: ended.Add(ruleMergeGap(gap, ended.Sub(started))), LastMerged: merged,
		ruleExport: export})
	s.setRuleStatus(context.WithoutCancel(ctx), domain, key, "IN_PROGRESS", "ACTIVE")
	return true, nil
}

// ruleMergeGap is the time from the end of a pass that took took to the
// next pass of its domain: the sweep's interval, or nine times the pass,
// whichever is longer. A pass reads every profile of the domain; a large
// domain's passes then take a tenth of the time at most (a million
// profiles, passes of some tens of seconds: one every few minutes) instead
// of running back to back.
func ruleMergeGap(interval, took time.Duration) time.Duration {
	return max(interval, 9*took)
}

// claimRuleMerge takes the domain's lease, unless another node holds it
// or the last pass under the settings of key ended less than its gap ago.
func (s *Service) claimRuleMerge(ctx context.Context, domain, key string) (time.Time, bool, error) {
	now := s.now()
	lease := now.Add(ruleMergeLease)
	if s.Configs == nil {
		return lease, true, nil
	}
	_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigRuleMerge, ruleMergeConfig, func(d *ruleMergeDoc) error {
		switch {
		case d.LeaseUntil.After(now):
			return errRuleMergeTaken
		case d.Rules == key && now.Before(d.NextAfter):
			return errRuleMergeNotDue
		}
		d.LeaseUntil = lease
		return nil
	})
	switch {
	case err == nil:
		return lease, true, nil
	case errors.Is(err, errRuleMergeTaken), errors.Is(err, errRuleMergeNotDue):
		return time.Time{}, false, nil
	case profiles.ErrorCode(err) == profiles.ENOTFOUND:
		data, _ := json.Marshal(ruleMergeDoc{LeaseUntil: lease})
		err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: domain, Kind: profiles.ConfigRuleMerge, Name: ruleMergeConfig, Data: data}, 0)
		switch profiles.ErrorCode(err) {
		case "":
			return lease, true, nil
		case profiles.ECONFLICT, profiles.ENOTFOUND:
			return time.Time{}, false, nil // another node made it first; or the domain is gone
		}
		return time.Time{}, false, err
	}
	return time.Time{}, false, err
}

// renewRuleMerge extends the lease if this node still holds it
// (errRuleMergeTaken if not).
func (s *Service) renewRuleMerge(ctx context.Context, domain string, lease *time.Time) error {
	if s.Configs == nil {
		return nil
	}
	next := s.now().Add(ruleMergeLease)
	_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigRuleMerge, ruleMergeConfig, func(d *ruleMergeDoc) error {
		if !d.LeaseUntil.Equal(*lease) {
			return errRuleMergeTaken
		}
		d.LeaseUntil = next
		return nil
	})
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return errRuleMergeTaken
	} else if err != nil {
		return err
	}
	*lease = next
	return nil
}

// releaseRuleMerge gives the lease up if this node still holds it and,
// with done, records the pass that ended. A failure is logged: the lease
// runs out.
func (s *Service) releaseRuleMerge(ctx context.Context, domain string, lease time.Time, done *ruleMergeDoc) {
	if s.Configs == nil {
		return
	}
	_, err := changeDoc(ctx, s.Configs, domain, profiles.ConfigRuleMerge, ruleMergeConfig, func(d *ruleMergeDoc) error {
		if !d.LeaseUntil.Equal(lease) {
			return errRuleMergeTaken
		}
		if done != nil {
			*d = *done
		}
		d.LeaseUntil = time.Time{}
		return nil
	})
	if err != nil && !errors.Is(err, errRuleMergeTaken) && profiles.ErrorCode(err) != profiles.ENOTFOUND {
		s.Logger.Warn("rule-based merging: give the lease up", "domain", domain, "err", err)
	}
}

// setRuleStatus sets RuleBasedMatching.Status to to if it is from and the
// settings are still those of key. A failure is logged.
func (s *Service) setRuleStatus(ctx context.Context, domain, key, from, to string) {
	errSame := errors.New("no change")
	_, err := s.Store.UpdateDomain(ctx, domain, func(d *profiles.Domain) error {
		r := d.RuleBasedMatching
		if r == nil || r.Status != from || ruleSettingsKey(d.CreatedAt, r) != key {
			return errSame
		}
		r.Status = to
		return nil
	})
	if err != nil && !errors.Is(err, errSame) && profiles.ErrorCode(err) != profiles.ENOTFOUND && ctx.Err() == nil {
		s.Logger.Warn("rule-based merging: set the status", "domain", domain, "status", to, "err", err)
	}
}

// ruleMergePass merges the domain's match groups of rule levels up to
// level, and returns how many profiles it merged into others and how many
// groups it left unmerged (changed meanwhile, or refused) that the last
// pass of this node did not leave so for the same reason (those are
// logged at Debug only, and not counted). It stops with
// errRuleMergeTaken when the settings change or the lease is lost.
func (s *Service) ruleMergePass(ctx context.Context, d *profiles.Domain, level int, key string, lease *time.Time) (int64, int, error) {
	groups, _, err := s.computeMatchGroups(ctx, d.Name, d.RuleBasedMatching)
	if err != nil {
		return 0, 0, err
	}
	return s.mergeRuleGroups(ctx, d, groups, level, key, lease)
}

// mergeRuleGroups is ruleMergePass on the groups it computed.
func (s *Service) mergeRuleGroups(ctx context.Context, d *profiles.Domain, groups []*profiles.SimilarProfiles, level int, key string, lease *time.Time) (int64, int, error) {
	r := d.RuleBasedMatching
	var merged int64
	failed := 0
	// The groups refused at the last pass of this node, and at this one.
	seen, refused, complete := s.ruleRefusals.get(d.Name), map[string]bool{}, false
	defer func() { s.ruleRefusals.put(d.Name, seen, refused, complete) }()
	for _, g := range groups {
		if g.RuleLevel > level {
			continue
		}
		if err := ctx.Err(); err != nil {
			return merged, failed, err
		}
		// The settings of now: a merge cannot be undone.
		cur, err := s.Store.FindDomain(ctx, d.Name)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return merged, failed, errRuleMergeTaken
		} else if err != nil {
			return merged, failed, err
		}
		if ruleSettingsKey(cur.CreatedAt, cur.RuleBasedMatching) != key {
			return merged, failed, errRuleMergeTaken
		}
		// Renewed once half of it has passed, from the claim or the last
		// renewal (reading the profiles comes first, and may take long).
		if lease.Sub(s.now()) < ruleMergeLease/2 {
			if err := s.renewRuleMerge(ctx, d.Name, lease); err != nil {
				return merged, failed, err
			}
		}
		var set []*profiles.Profile
		var usage profiles.ProfileUsage // of the profiles of set together
		err = s.view(ctx, d.Name, func(tx profiles.Tx) error {
			set, usage = set[:0], profiles.ProfileUsage{}
			for _, id := range g.ProfileIDs {
				p, err := tx.FindProfile(ctx, d.Name, id)
				if profiles.ErrorCode(err) == profiles.ENOTFOUND {
					continue // merged or deleted meanwhile
				} else if err != nil {
					return err
				}
				u, err := tx.ProfileUsage(ctx, d.Name, id, "")
				if err != nil {
					return err
				}
				set = append(set, p)
				usage.Objects += u.Objects
				usage.Bytes += u.Bytes
			}
			return nil
		})
		if err != nil {
			return merged, failed, err
		}
		if len(set) < 2 {
			continue
		}
		main := slices.MinFunc(set, func(a, b *profiles.Profile) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		// A group over the object limits is refused as the merge would
		// refuse it, without a write transaction that moves all its
		// objects to roll them back (it stays so, pass after pass, until
		// objects expire or are deleted).
		var n int64
		err = mergedUsageErr(usage)
		if err == nil {
			n, err = s.mergeGroup(ctx, d.Name, main.ID, set, r, g.RuleLevel)
		}
		merged += n
		s.Metrics.ruleMerged(n)
		if err != nil {
			if ctx.Err() != nil {
				return merged, failed, ctx.Err()
			}
			// Logged and counted when new: a group that cannot merge
			// (over the object limits) is refused at every pass.
			k := refusalKey(set, err)
			refused[k] = true
			if seen[k] {
				s.Logger.Debug("rule-based merging: a group still not merged", "domain", d.Name, "match", g.MatchID, "main", main.ID, "err", err)
				continue
			}
			failed++
			s.Metrics.ruleMergeFailed()
			s.Logger.Warn("rule-based merging: a group was not merged; the next pass tries again", "domain", d.Name, "match", g.MatchID, "rule_level", g.RuleLevel, "main", main.ID, "err", err)
			continue
		}
		s.Logger.Info("rule-based merging: profiles merged", "domain", d.Name, "match", g.MatchID, "rule_level", g.RuleLevel, "main", main.ID, "merged", n)
	}
	complete = true
	return merged, failed, nil
}

// mergeGroup merges the profiles of set into the one of id main, at most
// MaxMergedProfiles a call, and returns how many it merged. Each call
// decides in its transaction, on the profiles as they are then: it merges
// only if they are still linked by the rule of level, with the profiles
// earlier calls merged as they were then (ingestion may have changed them
// since the pass read them; else errChangedSinceRead), and resolves the
// fields' conflicts on their values of then. The profiles go in the order
// of their links from main (linkOrder), so that each call's are linked to
// main or to those merged before: the main profile keeps one value of each
// field, and a profile linked only through another's value, or through a
// profile left for a later call, would not be linked in its call.
func (s *Service) mergeGroup(ctx context.Context, domain, main string, set []*profiles.Profile, r *profiles.RuleBasedMatchingSettings, level int) (int64, error) {
	rule := r.MatchingRules[level-1]
	others := linkOrder(set, main, rule, r.AttributeTypesSelector)
	var before []*profiles.Profile // merged by earlier calls, as they were then
	var read map[string]*profiles.Profile
	decide := func(byID map[string]*profiles.Profile) (map[string]string, error) {
		ps := slices.SortedFunc(maps.Values(byID), func(a, b *profiles.Profile) int { return cmp.Compare(a.ID, b.ID) })
		if !linked(append(slices.Clip(ps), before...), rule, r.AttributeTypesSelector) {
			return nil, errChangedSinceRead
		}
		read = byID
		return conflictSources(ps, main, r.ConflictResolution), nil
	}
	var merged int64
	for len(others) > 0 {
		batch := others[:min(len(others), MaxMergedProfiles)]
		others = others[len(batch):]
		if err := s.mergeProfiles(ctx, domain, main, batch, nil, decide); err != nil {
			return merged, err
		}
		merged += int64(len(batch))
		for _, id := range batch {
			before = append(before, read[id])
		}
	}
	return merged, nil
}

// linkOrder returns the ids of the profiles of set but main, each linked
// under rule to main or to one before it where the profiles allow (breadth
// first from main), the others after them in set's order.
func linkOrder(set []*profiles.Profile, main string, rule []string, sel *profiles.AttributeTypesSelector) []string {
	byTuple := map[string][]int{}
	tuples := make([][]string, len(set))
	start := -1
	for i, p := range set {
		tuples[i] = ruleTuples(p, rule, sel)
		for _, t := range tuples[i] {
			byTuple[t] = append(byTuple[t], i)
		}
		if p.ID == main {
			start = i
		}
	}
	seen := make([]bool, len(set))
	var order []string
	if start >= 0 {
		seen[start] = true
		for queue := []int{start}; len(queue) > 0; queue = queue[1:] {
			for _, t := range tuples[queue[0]] {
				for _, j := range byTuple[t] {
					if !seen[j] {
						seen[j] = true
						order = append(order, set[j].ID)
						queue = append(queue, j)
					}
				}
			}
		}
	}
	for i, p := range set {
		if !seen[i] && p.ID != main {
			order = append(order, p.ID)
		}
	}
	return order
}

// linked reports whether the profiles are one set under rule: each shares
// the rule's values with another, and through them with all.
func linked(ps []*profiles.Profile, rule []string, sel *profiles.AttributeTypesSelector) bool {
	sets := unionFind{}
	first := map[string]int{} // tuple -> the first profile that has it
	for i, p := range ps {
		for _, t := range ruleTuples(p, rule, sel) {
			if j, ok := first[t]; ok {
				sets.union(i, j)
			} else {
				first[t] = i
			}
		}
	}
	for i := range ps {
		if sets.find(i) != sets.find(0) {
			return false
		}
	}
	return true
}

// mergedUsageErr is checkMergedUsage's refusal for the objects of a
// merge's profiles together (nil when within the limits).
func mergedUsageErr(u profiles.ProfileUsage) error {
	if u.Objects > profiles.MaxObjectsPerProfile {
		return profiles.Errorf(profiles.EQUOTA, "The merged profile would hold %d objects, more than the maximum of %d a profile may hold.", u.Objects, profiles.MaxObjectsPerProfile)
	}
	if u.Bytes > profiles.MaxObjectBytesPerProfile {
		return profiles.Errorf(profiles.EQUOTA, "The objects of the merged profile would take %d bytes, more than the %d a profile may hold.", u.Bytes, profiles.MaxObjectBytesPerProfile)
	}
	return nil
}

// refusalKey names a group's refusal: its profiles and the error's code
// (its message says counts that move with every object).
func refusalKey(set []*profiles.Profile, err error) string {
	ids := make([]string, 0, len(set)+1)
	for _, p := range set {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	code := profiles.ErrorCode(err)
	if code == "" {
		code = err.Error()
	}
	return strings.Join(append(ids, code), " ")
}

// ruleRefusals are, by domain, the groups the last rule-based merge pass
// of this node did not merge (refusalKey), so that the next pass logs and
// counts only new refusals.
type ruleRefusals struct {
	mu      sync.Mutex
	domains map[string]map[string]bool
}

// get returns the refusals of the domain's last pass on this node.
func (r *ruleRefusals) get(domain string) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.domains[domain]
}

// put records the refusals of a pass that saw the refusals prev: those of
// now if the pass went through every group, else both.
func (r *ruleRefusals) put(domain string, prev, now map[string]bool, complete bool) {
	if !complete {
		for k := range prev {
			now[k] = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(now) == 0 {
		delete(r.domains, domain)
		return
	}
	if r.domains == nil {
		r.domains = map[string]map[string]bool{}
	}
	r.domains[domain] = now
}

// forget drops a deleted domain's refusals.
func (r *ruleRefusals) forget(domain string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.domains, domain)
}
