package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// orderType maps an order whose phone (a PROFILE key) finds its profile,
// and whose email and names only fill the profile: two orders of one
// email and two phones make two profiles, for rule-based merging to join.
func orderType(name string) *customerprofiles.PutProfileObjectTypeInput {
	return &customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName:       aws.String(name),
		Description:          aws.String("orders"),
		AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":    field("_source.id", "", "STRING"),
			"phone": field("_source.phone", "_profile.PhoneNumber", "PHONE_NUMBER"),
			"email": field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"first": field("_source.first", "_profile.FirstName", "NAME"),
			"last":  field("_source.last", "_profile.LastName", "NAME"),
			"city":  field("_source.city", "_profile.Address.City", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"orderId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_phone":  key([]string{"phone"}, types.StandardIdentifierProfile),
		},
	}
}

// mergeEnv is an ingestEnv whose sweep runs every 50ms, so that merge
// passes come soon.
func newMergeEnv(t *testing.T) *ingestEnv {
	return newIngestEnv(t, func(c *main.Config) { c.SweepInterval = 50 * time.Millisecond })
}

// inDomain returns e on a new domain of that name.
func (e *ingestEnv) inDomain(name string) *ingestEnv {
	e.t.Helper()
	if _, err := e.client.CreateDomain(e.t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String(name), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		e.t.Fatal(err)
	}
	c := *e
	c.domain = name
	return &c
}

// setMergeRules enables rule-based matching with rules, merging the
// groups of levels up to mergeLevel, and returns the status UpdateDomain
// answers.
func (e *ingestEnv) setMergeRules(mergeLevel int32, cr *types.ConflictResolution, rules ...[]string) types.RuleBasedMatchingStatus {
	e.t.Helper()
	r := &types.RuleBasedMatchingRequest{Enabled: aws.Bool(true), MaxAllowedRuleLevelForMerging: aws.Int32(mergeLevel), ConflictResolution: cr}
	for _, rule := range rules {
		r.MatchingRules = append(r.MatchingRules, types.MatchingRule{Rule: rule})
	}
	out, err := e.client.UpdateDomain(e.t.Context(), &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), RuleBasedMatching: r})
	if err != nil {
		e.t.Fatalf("UpdateDomain: %v", err)
	}
	return out.RuleBasedMatching.Status
}

// ruleStatus returns the domain's RuleBasedMatching.Status.
func (e *ingestEnv) ruleStatus() types.RuleBasedMatchingStatus {
	e.t.Helper()
	out, err := e.client.GetDomain(e.t.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String(e.domain)})
	if err != nil {
		e.t.Fatalf("GetDomain: %v", err)
	}
	return out.RuleBasedMatching.Status
}

// waitFor polls cond until it holds, failing the test after 30 seconds.
func (e *ingestEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRuleBasedMerging: with MaxAllowedRuleLevelForMerging 1, the sweep
// merges two profiles of one email (rule level 1) into the older one —
// objects, keys and history on it, the other gone, the status PENDING,
// then ACTIVE — and leaves a group matched at level 2 unmerged.
func TestRuleBasedMerging(t *testing.T) {
	e := newMergeEnv(t).inDomain("merge")
	e.putType(orderType("order"))
	e.mustPut("order", map[string]any{"id": "o1", "phone": "+1 555 0001", "email": "Ann@Example.com", "first": "Ann"})
	e.mustPut("order", map[string]any{"id": "o2", "phone": "+1 555 0002", "email": " ann@example.COM", "city": "Lyon"})
	e.mustPut("order", map[string]any{"id": "o3", "phone": "+1 555 0003", "email": "t1@example.com", "last": "Twin"})
	e.mustPut("order", map[string]any{"id": "o4", "phone": "+1 555 0004", "email": "t2@example.com", "last": "Twin"})
	p1, p2 := e.mustOne("_phone", "+1 555 0001"), e.mustOne("_phone", "+1 555 0002")
	t1, t2 := e.mustOne("_phone", "+1 555 0003"), e.mustOne("_phone", "+1 555 0004")
	keep, dup := aws.ToString(p1.ProfileId), aws.ToString(p2.ProfileId)
	if keep == dup {
		t.Fatalf("one profile for two phones")
	}

	if got := e.setMergeRules(1, nil, []string{"EmailAddress"}, []string{"LastName"}); got != types.RuleBasedMatchingStatusPending {
		t.Errorf("UpdateDomain: Status %s, want PENDING until the first merge pass", got)
	}
	e.waitFor("the first merge pass", func() bool { return e.ruleStatus() == types.RuleBasedMatchingStatusActive })

	for _, k := range [][2]string{{"_email", "Ann@Example.com"}, {"_email", "ann@example.com"}, {"_phone", "+1 555 0001"}, {"_phone", "+1 555 0002"}, {"_profileId", dup}} {
		if found := e.search(k[0], k[1]); len(found) != 1 || aws.ToString(found[0].ProfileId) != keep {
			t.Errorf("%s=%s finds %d profiles, want the older one %s", k[0], k[1], len(found), keep)
		}
	}
	if got := len(e.objects("order", keep)); got != 2 {
		t.Errorf("the profile that stays holds %d orders, want 2", got)
	}
	got := e.getProfile(keep)
	if aws.ToString(got.FirstName) != "Ann" || got.Address == nil || aws.ToString(got.Address.City) != "Lyon" {
		t.Errorf("merged profile: FirstName %q, Address %+v; want the fields of both", aws.ToString(got.FirstName), got.Address)
	}
	out, err := e.client.BatchGetProfile(t.Context(), &customerprofiles.BatchGetProfileInput{DomainName: aws.String(e.domain), ProfileIds: []string{dup}})
	if err != nil || len(out.Profiles) != 0 {
		t.Errorf("the merged profile: %v %v, want gone", out, err)
	}
	if got := actions(e.history(keep)); !slices.Contains(got, "MERGED") {
		t.Errorf("history of the profile that stays %v lacks MERGED", got)
	}
	if got := actions(e.history(dup)); !slices.Contains(got, "DELETED_BY_MERGE") {
		t.Errorf("history of the merged profile %v lacks DELETED_BY_MERGE", got)
	}
	// Level 2 (LastName) is matched, not merged.
	twins := sorted(aws.ToString(t1.ProfileId), aws.ToString(t2.ProfileId))
	if s := e.similar("_profileId", twins[0]); !slices.Equal(s.ProfileIds, twins) || aws.ToInt32(s.RuleLevel) != 2 {
		t.Errorf("level 2 group: %v at level %d, want %v at level 2", s.ProfileIds, aws.ToInt32(s.RuleLevel), twins)
	}

	// A profile that joins the group later merges into the same one, at
	// a later pass.
	e.mustPut("order", map[string]any{"id": "o5", "phone": "+1 555 0005", "email": "ANN@example.com"})
	e.waitFor("the third profile merged", func() bool {
		found := e.search("_phone", "+1 555 0005")
		return len(found) == 1 && aws.ToString(found[0].ProfileId) == keep
	})
	if got := len(e.objects("order", keep)); got != 3 {
		t.Errorf("the profile that stays holds %d orders, want 3", got)
	}
	for _, id := range twins {
		if found := e.search("_profileId", id); len(found) != 1 {
			t.Errorf("level-2 profile %s: %d found, want itself", id, len(found))
		}
	}

	// Rules sent again unchanged keep the status; new rules make it
	// PENDING again.
	if got := e.setMergeRules(1, nil, []string{"EmailAddress"}, []string{"LastName"}); got != types.RuleBasedMatchingStatusActive {
		t.Errorf("same rules again: Status %s, want ACTIVE", got)
	}
	if got := e.setMergeRules(1, nil, []string{"EmailAddress", "LastName"}); got != types.RuleBasedMatchingStatusPending {
		t.Errorf("new rules: Status %s, want PENDING", got)
	}
	e.waitFor("the pass under the new rules", func() bool { return e.ruleStatus() == types.RuleBasedMatchingStatusActive })
}

// TestRuleBasedMerging_ConflictResolution: RECENCY takes the value updated
// last, whichever profile stays; SOURCE takes the value of the object
// type SourceName, even older, and recency for the fields it did not set.
func TestRuleBasedMerging_ConflictResolution(t *testing.T) {
	base := newMergeEnv(t)

	t.Run("RECENCY", func(t *testing.T) {
		e := base.inDomain("recency")
		e.t = t
		e.putType(orderType("order"))
		e.mustPut("order", map[string]any{"id": "o1", "phone": "+1 555 0101", "email": "r@example.com", "first": "Old", "last": "Keep"})
		e.mustPut("order", map[string]any{"id": "o2", "phone": "+1 555 0102", "email": "r@example.com", "first": "New"})
		keep := aws.ToString(e.mustOne("_phone", "+1 555 0101").ProfileId)
		e.setMergeRules(1, &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelRecency}, []string{"EmailAddress"})
		e.waitFor("the merge", func() bool { return len(e.search("_email", "r@example.com")) == 1 })
		p := e.mustOne("_email", "r@example.com")
		if aws.ToString(p.ProfileId) != keep {
			t.Errorf("profile %s stays, want the older %s", aws.ToString(p.ProfileId), keep)
		}
		if aws.ToString(p.FirstName) != "New" || aws.ToString(p.LastName) != "Keep" {
			t.Errorf("FirstName %q LastName %q, want New (the later) and Keep (the only)", aws.ToString(p.FirstName), aws.ToString(p.LastName))
		}
	})

	t.Run("SOURCE", func(t *testing.T) {
		e := base.inDomain("source")
		e.t = t
		e.putType(orderType("crm"))
		e.putType(orderType("web"))
		e.mustPut("crm", map[string]any{"id": "c1", "phone": "+1 555 0201", "email": "s@example.com", "first": "FromCrm"})
		e.mustPut("web", map[string]any{"id": "w1", "phone": "+1 555 0201", "last": "Web1"})
		e.mustPut("web", map[string]any{"id": "w2", "phone": "+1 555 0202", "email": "s@example.com", "first": "FromWeb", "last": "Web2"})
		e.setMergeRules(1, &types.ConflictResolution{ConflictResolvingModel: types.ConflictResolvingModelSource, SourceName: aws.String("crm")}, []string{"EmailAddress"})
		e.waitFor("the merge", func() bool { return len(e.search("_email", "s@example.com")) == 1 })
		p := e.mustOne("_email", "s@example.com")
		if aws.ToString(p.FirstName) != "FromCrm" || aws.ToString(p.LastName) != "Web2" {
			t.Errorf("FirstName %q LastName %q, want FromCrm (the source's, older) and Web2 (by recency)", aws.ToString(p.FirstName), aws.ToString(p.LastName))
		}
		if n := len(e.objects("crm", aws.ToString(p.ProfileId))) + len(e.objects("web", aws.ToString(p.ProfileId))); n != 3 {
			t.Errorf("the merged profile holds %d objects, want 3", n)
		}
	})
}

// TestRuleBasedMerging_DeletedStandardKeyStaysDeleted: rule-based merging
// goes through MergeProfiles' code: a standard key removed from the
// profile that stays, whose field the merge leaves as it was, stays
// removed (the merge made every standard key of that profile again).
func TestRuleBasedMerging_DeletedStandardKeyStaysDeleted(t *testing.T) {
	e := newMergeEnv(t).inDomain("keys")
	e.putType(orderType("order"))
	e.mustPut("order", map[string]any{"id": "o1", "phone": "+1 555 0301", "email": "k@example.com", "first": "Kay"})
	keep := aws.ToString(e.mustOne("_phone", "+1 555 0301").ProfileId)
	if _, err := e.client.DeleteProfileKey(t.Context(), &customerprofiles.DeleteProfileKeyInput{DomainName: aws.String(e.domain), ProfileId: aws.String(keep),
		KeyName: aws.String("_phone"), Values: []string{"+1 555 0301"}}); err != nil {
		t.Fatalf("DeleteProfileKey: %v", err)
	}
	// A later profile of the email, without a phone.
	dup := e.createProfile(&customerprofiles.CreateProfileInput{EmailAddress: aws.String("k@example.com"), LastName: aws.String("Later")})
	e.setMergeRules(1, nil, []string{"EmailAddress"})
	e.waitFor("the merge", func() bool { return len(e.search("_email", "k@example.com")) == 1 })
	p := e.mustOne("_email", "k@example.com")
	if aws.ToString(p.ProfileId) != keep || aws.ToString(p.PhoneNumber) != "+1 555 0301" {
		t.Fatalf("profile %s stays with phone %q, want %s (the older) with its own phone", aws.ToString(p.ProfileId), aws.ToString(p.PhoneNumber), keep)
	}
	if got := e.search("_phone", "+1 555 0301"); len(got) != 0 {
		t.Errorf("_phone of the deleted key finds %d profiles after the merge, want none", len(got))
	}
	// The name the merge changed makes _fullName again; the merged
	// profile's id finds the profile that stays.
	for _, k := range [][2]string{{"_fullName", "Kay Later"}, {"_profileId", dup}} {
		if got := e.search(k[0], k[1]); len(got) != 1 || aws.ToString(got[0].ProfileId) != keep {
			t.Errorf("%s=%s finds %d profiles, want the one that stays", k[0], k[1], len(got))
		}
	}
}

// TestRuleBasedMerging_WhileIngesting: orders ingested while the sweep
// merges every 50ms (profiles of an email already held, made by new
// phones, and more orders of profiles being merged) all end on the one
// profile of their email.
func TestRuleBasedMerging_WhileIngesting(t *testing.T) {
	e := newMergeEnv(t).inDomain("busy")
	e.putType(orderType("order"))
	e.setMergeRules(1, nil, []string{"EmailAddress"})
	const emails, phones, rounds = 3, 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	put := map[int]int{} // orders ingested, by email
	for m := range emails {
		email := fmt.Sprintf("busy%d@example.com", m)
		for p := range phones {
			wg.Go(func() {
				for r := range rounds {
					obj := map[string]any{"id": fmt.Sprintf("%d-%d-%d", m, p, r), "phone": fmt.Sprintf("+1 555 1%d%d0", m, p), "email": email}
					_, err := e.put("order", obj)
					// Retried as the SDK's standard retryer would (the
					// test client makes one attempt): a change that met
					// the merge's is refused whole, to be sent again.
					for try := 0; err != nil && isThrottled(err) && try < 50; try++ {
						_, err = e.put("order", obj)
					}
					if err != nil {
						t.Errorf("PutProfileObject: %v", err)
						return
					}
					mu.Lock()
					put[m]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for m := range emails {
		email := fmt.Sprintf("busy%d@example.com", m)
		e.waitFor("one profile of "+email, func() bool { return len(e.search("_email", email)) == 1 })
		id := aws.ToString(e.mustOne("_email", email).ProfileId)
		if got := e.countObjects("order", id); got != put[m] {
			t.Errorf("%s: %d orders, want the %d ingested", email, got, put[m])
		}
		for p := range phones {
			phone := fmt.Sprintf("+1 555 1%d%d0", m, p)
			if found := e.search("_phone", phone); len(found) != 1 || aws.ToString(found[0].ProfileId) != id {
				t.Errorf("%s finds %d profiles, want the one of %s", phone, len(found), email)
			}
		}
	}
}

// countObjects counts a profile's objects of a type, every page.
func (e *ingestEnv) countObjects(objectType, profileID string) int {
	e.t.Helper()
	n := 0
	in := &customerprofiles.ListProfileObjectsInput{
		DomainName: aws.String(e.domain), ObjectTypeName: aws.String(objectType), ProfileId: aws.String(profileID), MaxResults: aws.Int32(100),
	}
	for {
		out, err := e.client.ListProfileObjects(e.t.Context(), in)
		if err != nil {
			e.t.Fatalf("ListProfileObjects: %v", err)
		}
		n += len(out.Items)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return n
}

// TestRuleBasedMerging_LargeChain: a group of more profiles than one merge
// may join (MaxMergedProfiles, 20), linked as a chain (each profile shares
// an email with the next only, in another order than their creation),
// merges whole into its oldest profile. The
// merges went by 20 in the group's order and each checked that its own
// profiles were linked without the ones merged before: the first batch
// missed the links of the profiles left for later, and the group was
// refused at every pass.
func TestRuleBasedMerging_LargeChain(t *testing.T) {
	e := newMergeEnv(t).inDomain("chain")
	typ := orderType("link")
	typ.Fields["pemail"] = field("_source.pemail", "_profile.PersonalEmailAddress", "EMAIL_ADDRESS")
	e.putType(typ)
	const n = 25
	for i := range n {
		// The i-th profile made is at place i*7%n of the chain: profile
		// ids follow creation, the chain does not.
		at := i * 7 % n
		e.mustPut("link", map[string]any{"id": fmt.Sprintf("l%d", i), "phone": fmt.Sprintf("+1 555 2%03d", i),
			"email": fmt.Sprintf("chain%d@example.com", at), "pemail": fmt.Sprintf("chain%d@example.com", at+1)})
	}
	keep := aws.ToString(e.mustOne("_phone", "+1 555 2000").ProfileId)
	_, err := e.client.UpdateDomain(t.Context(), &customerprofiles.UpdateDomainInput{DomainName: aws.String(e.domain), RuleBasedMatching: &types.RuleBasedMatchingRequest{
		Enabled:                       aws.Bool(true),
		MaxAllowedRuleLevelForMerging: aws.Int32(1),
		MatchingRules:                 []types.MatchingRule{{Rule: []string{"EmailAddress"}}},
		AttributeTypesSelector: &types.AttributeTypesSelector{
			AttributeMatchingModel: types.AttributeMatchingModelManyToMany,
			EmailAddress:           []string{"EmailAddress", "PersonalEmailAddress"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the first merge pass", func() bool { return e.ruleStatus() == types.RuleBasedMatchingStatusActive })
	for i := range n {
		phone := fmt.Sprintf("+1 555 2%03d", i)
		if found := e.search("_phone", phone); len(found) != 1 || aws.ToString(found[0].ProfileId) != keep {
			t.Errorf("%s finds %d profiles, want the oldest of the chain %s", phone, len(found), keep)
		}
	}
	if got := e.countObjects("link", keep); got != n {
		t.Errorf("the profile that stays holds %d objects, want %d", got, n)
	}
	const mergedMetric = "openprofiles_rule_merged_profiles_total"
	if got := scrape(t, e.m.URL())[mergedMetric]; got != n-1 {
		t.Errorf("%s = %v, want %d", mergedMetric, got, n-1)
	}
}

// TestRuleBasedMerging_RefusedOnce: a group whose merge the object limit
// refuses (600 and 401 orders: more than 1,000 together) stays unmerged,
// its profiles and orders whole, pass after pass; the refusal is logged
// as a warning and counted once, not at every pass (every sweep interval,
// for as long as the profiles hold that many objects).
func TestRuleBasedMerging_RefusedOnce(t *testing.T) {
	logs := &syncBuffer{}
	c := main.DefaultConfig()
	c.Addr, c.DataDir, c.AccessKeyID, c.SecretAccessKey = "127.0.0.1:0", t.TempDir(), testKeyID, testSecret
	c.SweepInterval = 50 * time.Millisecond
	c.IngestRate = 0 // 1,001 orders of two profiles at once
	m := &main.Main{Config: withTestStore(t, c), Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := (&ingestEnv{t: t, m: m, client: MustClient(t, m)}).inDomain("full")
	e.putType(orderType("order"))
	fill := func(phone string, from, n int) string {
		var objs []string
		for i := range n {
			b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("f%d", from+i), "phone": phone, "email": "full@example.com"})
			objs = append(objs, string(b))
		}
		for len(objs) > 0 {
			batch := objs[:min(len(objs), 10)]
			objs = objs[len(batch):]
			_, errs, err := m.Service.PutProfileObjects(t.Context(), e.domain, "order", batch)
			if err = errors.Join(append(errs, err)...); err != nil {
				t.Fatal(err)
			}
		}
		return aws.ToString(e.mustOne("_phone", phone).ProfileId)
	}
	a, b := fill("+1 555 3001", 0, 600), fill("+1 555 3002", 1000, 401)
	before := scrape(t, m.URL())
	e.setMergeRules(1, nil, []string{"EmailAddress"})
	e.waitFor("four merge passes", func() bool { return strings.Count(logs.String(), "rule-based merging: pass ended") >= 4 })

	if n := strings.Count(logs.String(), "level=WARN msg=\"rule-based merging: a group was not merged"); n != 1 {
		t.Errorf("the refusal was logged as a warning %d times in four passes, want once\n%s", n, logs.String())
	}
	const failed = `openprofiles_rule_merge_refusals_total`
	if got := scrape(t, m.URL())[failed] - before[failed]; got != 1 {
		t.Errorf("%s moved by %v in four passes, want 1", failed, got)
	}
	for id, want := range map[string]int{a: 600, b: 401} {
		if got := e.countObjects("order", id); got != want {
			t.Errorf("profile %s holds %d orders after refused merges, want %d", id, got, want)
		}
	}
}
