package service

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

var _ profiles.IdentityResolutionService = (*Service)(nil)

// Identity resolution (Domain.Matching): a job runs on each domain's
// JobSchedule (default Saturday 00:00 UTC; the first as soon as
// StartIdentityResolution's loop sees Matching enabled), on one node: the job's id derives from
// its scheduled time, and the node that creates its config runs it. The
// job reads every profile, links pairs of profiles that share an email,
// phone number, account number, or last name with a birth date or with a
// first initial and postal code (a value held by more than
// maxSimilarBlock profiles links none), scores each pair (pairScore)
// and groups the profiles of pairs scored at least matchThreshold. With
// AutoMerging on, the profiles of a group scored at least
// MinAllowedConfidenceScoreForMerging that meet one of the Consolidation
// criteria (equal normalised values of every attribute it lists) merge,
// fields resolved by ConflictResolution. AWS does this with a machine
// learning model; the score here is a fixed, documented rule (README).

// Settings of identity resolution jobs.
const (
	matchThreshold     = 0.5                 // a pair matches when scored above it
	maxSimilarBlock    = 100                 // profiles sharing one value that are paired; more pair none
	maxJobsPerWeek     = 3                   // jobs a domain runs in 7 days at most (AWS's quota)
	identityJobTTL     = 30 * 24 * time.Hour // JobExpirationTime after the start
	identityHeartbeat  = time.Minute         // how often a running job records that it runs
	identityStaleAfter = 10 * time.Minute    // a job not finished nor updated for this long failed with its node
	previewSample      = 1000                // match groups GetAutoMergingPreview counts at most
)

// identityJobDoc is what a job's config holds.
type identityJobDoc struct {
	Slot             time.Time             `json:"slot"`
	Status           string                `json:"status"`
	StartTime        time.Time             `json:"startTime"`
	EndTime          time.Time             `json:"endTime,omitzero"`
	LastUpdatedAt    time.Time             `json:"lastUpdatedAt"`
	ProfilesReviewed int64                 `json:"profilesReviewed"`
	MatchesFound     int64                 `json:"matchesFound"`
	MergesDone       int64                 `json:"mergesDone"`
	AutoMerging      *profiles.AutoMerging `json:"autoMerging,omitempty"`
	Message          string                `json:"message,omitempty"`
	// Exported is where the job wrote its results (the object's key), once
	// written whole.
	Exported *profiles.S3Exporting `json:"exported,omitempty"`
}

// matchesDoc is what the matches config of a completed job holds.
type matchesDoc struct {
	GeneratedAt time.Time             `json:"generatedAt"`
	Groups      []profiles.MatchGroup `json:"groups"`
}

// StartIdentityResolution looks for due identity resolution jobs every
// interval, and runs them, in the background; Close stops it (a running
// job ends FAILED, or PARTIAL_SUCCESS when it merged some).
func (s *Service) StartIdentityResolution(interval time.Duration) {
	s.runEvery(interval, "identity resolution", s.RunIdentityResolution)
}

// RunIdentityResolution runs the identity resolution jobs that are due,
// one domain after the other, and returns how many it ran
// (StartIdentityResolution calls it).
func (s *Service) RunIdentityResolution(ctx context.Context) (int, error) {
	return s.eachDomain(ctx, func(d *profiles.Domain) (int, error) {
		if d.Matching == nil || !d.Matching.Enabled {
			return 0, nil
		}
		ran, err := s.runDueJob(ctx, d.Name)
		if err != nil && ctx.Err() == nil {
			// Logged: the other domains' jobs go on.
			s.Logger.Error("identity resolution", "domain", d.Name, "err", err)
		}
		if ran {
			return 1, nil
		}
		return 0, nil
	})
}

// scheduledSlot returns the latest time of the schedule at or before now.
func scheduledSlot(js *profiles.JobSchedule, now time.Time) time.Time {
	day, hour, minute := time.Saturday, 0, 0
	if js != nil {
		if i := slices.Index(dayOfWeek, js.DayOfTheWeek); i >= 0 {
			day = time.Weekday(i)
		}
		if h, m, ok := strings.Cut(js.Time, ":"); ok {
			hour, _ = strconv.Atoi(h)
			minute, _ = strconv.Atoi(m)
		}
	}
	now = now.UTC()
	slot := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, time.UTC)
	slot = slot.AddDate(0, 0, -((int(now.Weekday()) - int(day) + 7) % 7))
	if slot.After(now) {
		slot = slot.AddDate(0, 0, -7)
	}
	return slot
}

// identityJobID names the job of a domain's slot: its time first, so that
// ids sort by slot.
func identityJobID(domain string, slot time.Time) string {
	h := sha256.Sum256([]byte(domain + "\x00" + slot.UTC().Format(time.RFC3339)))
	return fmt.Sprintf("%012x", slot.UnixMilli()) + hex.EncodeToString(h[:10])
}

// runDueJob runs the domain's job of its latest slot unless a job of that
// slot (or a later one) exists, maxJobsPerWeek ran in the last 7 days, or
// another node created it first.
func (s *Service) runDueJob(ctx context.Context, domain string) (bool, error) {
	d, err := s.Store.FindDomain(ctx, domain) // as it is now, not as listed
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if d.Matching == nil || !d.Matching.Enabled {
		return false, nil
	}
	now := s.now()
	slot := scheduledSlot(d.Matching.JobSchedule, now)
	jobs, err := s.Configs.ListConfigs(ctx, d.Name, profiles.ConfigIdentityJob, "", 0)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	recent := 0
	for i, c := range jobs {
		doc, err := decodeJobDoc(c)
		if err != nil {
			return false, err
		}
		if i == len(jobs)-1 && !doc.Slot.Before(slot) {
			return false, nil
		}
		if now.Sub(doc.StartTime) < 7*24*time.Hour {
			recent++
		}
	}
	if recent >= maxJobsPerWeek {
		return false, nil // a schedule changed often: the next slot will do
	}
	id := identityJobID(d.Name, slot)
	doc := &identityJobDoc{Slot: slot, Status: "PENDING", StartTime: now, LastUpdatedAt: now}
	if am := d.Matching.AutoMerging; am != nil && am.Enabled {
		doc.AutoMerging = am
	}
	data, _ := json.Marshal(doc)
	switch err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: d.Name, Kind: profiles.ConfigIdentityJob, Name: id, Data: data}, 0); profiles.ErrorCode(err) {
	case "":
	case profiles.ECONFLICT, profiles.ENOTFOUND:
		return false, nil // another node runs it; or the domain is gone
	default:
		return false, err
	}
	s.runJob(ctx, d, id, doc)
	return true, s.pruneJobs(ctx, d.Name)
}

// runJob finds the domain's matches, keeps them, merges when asked, and
// records each step in the job's config, and that it runs every
// identityHeartbeat.
func (s *Service) runJob(ctx context.Context, d *profiles.Domain, id string, doc *identityJobDoc) {
	var mu sync.Mutex // guards doc: the heartbeat saves it too
	save := func() {
		mu.Lock()
		doc.LastUpdatedAt = s.now()
		data, _ := json.Marshal(doc)
		mu.Unlock()
		if _, err := s.Configs.UpdateConfig(context.WithoutCancel(ctx), d.Name, profiles.ConfigIdentityJob, id, func(c *profiles.DomainConfig) error {
			c.Data = data
			return nil
		}); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			s.Logger.Error("identity resolution: record the job", "domain", d.Name, "job", id, "err", err)
		}
	}
	set := func(f func()) {
		mu.Lock()
		f()
		mu.Unlock()
		save()
	}
	// The heartbeat stops before the last save, so that none of its saves
	// (of a state read before) lands after it.
	stopHeartbeat := sync.OnceFunc(every(identityHeartbeat, save))
	defer stopHeartbeat()
	fail := func(err error) {
		s.Logger.Error("identity resolution job failed", "domain", d.Name, "job", id, "err", err)
		stopHeartbeat()
		set(func() {
			doc.Status, doc.EndTime, doc.Message = "FAILED", s.now(), "The job failed: "+profiles.ErrorMessage(err)
			if doc.MergesDone > 0 {
				doc.Status = "PARTIAL_SUCCESS" // some data was merged
			}
		})
	}
	set(func() { doc.Status = "FIND_MATCHING" })
	groups, reviewed, err := s.findSimilar(ctx, d.Name)
	if err != nil {
		fail(err)
		return
	}
	set(func() { doc.ProfilesReviewed, doc.MatchesFound = reviewed, int64(len(groups)) })
	data, _ := json.Marshal(matchesDoc{GeneratedAt: s.now(), Groups: groups})
	if err := s.Configs.CreateConfig(ctx, &profiles.DomainConfig{DomainName: d.Name, Kind: profiles.ConfigIdentityMatches, Name: id, Data: data}, 0); err != nil {
		fail(err)
		return
	}
	var notes []string
	status := "COMPLETED"
	where, failure, err := s.exportMatches(ctx, d.Name, id, groups)
	if err != nil {
		fail(err)
		return
	}
	if failure != "" {
		status = "PARTIAL_SUCCESS" // found, kept for GetMatches, not exported
		notes = append(notes, failure)
	} else if where != nil {
		set(func() { doc.Exported = where })
	}
	if doc.AutoMerging != nil {
		// Merged with the settings of now, if they still say to merge: a
		// merge cannot be undone.
		now, err := s.Store.FindDomain(ctx, d.Name)
		if err != nil {
			fail(err)
			return
		}
		if m := now.Matching; m == nil || !m.Enabled || m.AutoMerging == nil || !m.AutoMerging.Enabled || !reflect.DeepEqual(m.AutoMerging, doc.AutoMerging) {
			notes = append(notes, "Auto-merging was turned off or changed while the job ran: nothing was merged; the next job merges with the new settings.")
		} else {
			set(func() { doc.Status = "MERGING" })
			merged, failed, err := s.autoMerge(ctx, d.Name, groups, doc.AutoMerging, func(n int64) { set(func() { doc.MergesDone = n }) })
			set(func() { doc.MergesDone = merged })
			if err != nil {
				fail(err)
				return
			}
			if failed > 0 {
				status = "PARTIAL_SUCCESS"
				notes = append(notes, fmt.Sprintf("%d merges did not happen (their profiles changed or were deleted meanwhile); the next job tries again.", failed))
			}
		}
	}
	stopHeartbeat()
	set(func() { doc.Status, doc.EndTime, doc.Message = status, s.now(), strings.Join(notes, " ") })
}

// pruneJobs deletes the domain's jobs past their expiration, with their
// matches, but never the newest completed one (GetMatches reads it).
func (s *Service) pruneJobs(ctx context.Context, domain string) error {
	jobs, err := s.listJobs(ctx, domain)
	if err != nil {
		return err
	}
	keep := ""
	for _, j := range jobs { // newest first
		if j.Status == "COMPLETED" || j.Status == "PARTIAL_SUCCESS" {
			keep = j.JobID
			break
		}
	}
	now := s.now()
	for _, j := range jobs {
		if j.JobID == keep || now.Before(j.ExpirationTime) {
			continue
		}
		for _, kind := range []string{profiles.ConfigIdentityMatches, profiles.ConfigIdentityJob} {
			if err := s.Configs.DeleteConfig(ctx, domain, kind, j.JobID); err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
				return err
			}
		}
	}
	return nil
}

// listJobs returns the domain's jobs, newest first.
func (s *Service) listJobs(ctx context.Context, domain string) ([]*profiles.IdentityResolutionJob, error) {
	list, err := s.Configs.ListConfigs(ctx, domain, profiles.ConfigIdentityJob, "", 0)
	if err != nil {
		return nil, domainErr(err, domain)
	}
	out := make([]*profiles.IdentityResolutionJob, 0, len(list))
	for _, c := range slices.Backward(list) {
		j, err := s.jobFromConfig(c)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func decodeJobDoc(c *profiles.DomainConfig) (*identityJobDoc, error) {
	return decodeDoc[identityJobDoc](c)
}

func (s *Service) jobFromConfig(c *profiles.DomainConfig) (*profiles.IdentityResolutionJob, error) {
	doc, err := decodeJobDoc(c)
	if err != nil {
		return nil, err
	}
	j := &profiles.IdentityResolutionJob{DomainName: c.DomainName, JobID: c.Name, Status: doc.Status, StartTime: doc.StartTime,
		EndTime: doc.EndTime, LastUpdatedAt: doc.LastUpdatedAt, ExpirationTime: doc.StartTime.Add(identityJobTTL),
		ProfilesReviewed: doc.ProfilesReviewed, MatchesFound: doc.MatchesFound, MergesDone: doc.MergesDone,
		AutoMerging: doc.AutoMerging, Message: doc.Message, ExportingLocation: doc.Exported}
	switch j.Status {
	case "COMPLETED", "PARTIAL_SUCCESS", "FAILED":
	default:
		if s.now().Sub(doc.LastUpdatedAt) > identityStaleAfter {
			j.Status, j.Message = "FAILED", "The server running this job stopped before it finished."
		}
	}
	return j, nil
}

// matchingDomain returns the domain, or EINVALID when Matching is off.
func (s *Service) matchingDomain(ctx context.Context, domain string) (*profiles.Domain, error) {
	d, err := s.Store.FindDomain(ctx, domain)
	if err != nil {
		return nil, domainErr(err, domain)
	}
	if d.Matching == nil || !d.Matching.Enabled {
		return nil, profiles.Errorf(profiles.EINVALID, "Matching is not enabled on domain %s: set Matching.Enabled (UpdateDomain).", domain)
	}
	return d, nil
}

// ListIdentityResolutionJobs returns one page of a domain's jobs, newest
// first.
func (s *Service) ListIdentityResolutionJobs(ctx context.Context, domain string, page profiles.Page) ([]*profiles.IdentityResolutionJob, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.matchingDomain(ctx, domain); err != nil {
		return nil, "", err
	}
	jobs, err := s.listJobs(ctx, domain)
	if err != nil {
		return nil, "", err
	}
	scope := "ListIdentityResolutionJobs/" + domain
	if page.Token != "" {
		before, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		jobs = slices.DeleteFunc(jobs, func(j *profiles.IdentityResolutionJob) bool { return j.JobID >= before })
	}
	next := ""
	if len(jobs) > size {
		jobs = jobs[:size]
		next = s.tokens.encode(scope, jobs[size-1].JobID)
	}
	return jobs, next, nil
}

// GetIdentityResolutionJob returns one job.
func (s *Service) GetIdentityResolutionJob(ctx context.Context, domain, id string) (*profiles.IdentityResolutionJob, error) {
	if _, err := s.matchingDomain(ctx, domain); err != nil {
		return nil, err
	}
	c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigIdentityJob, id)
	if err != nil {
		return nil, s.configErr(ctx, err, domain, "Identity resolution job", id)
	}
	return s.jobFromConfig(c)
}

// lastMatches returns the match groups of the domain's newest completed
// job, or nil before there is one.
func (s *Service) lastMatches(ctx context.Context, domain string) (*matchesDoc, error) {
	jobs, err := s.listJobs(ctx, domain)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if j.Status != "COMPLETED" && j.Status != "PARTIAL_SUCCESS" {
			continue
		}
		key := domain + "/" + j.JobID + "/" + strconv.FormatInt(j.StartTime.UnixMilli(), 10)
		if doc, ok := s.matchDocs.get(key); ok {
			return doc, nil
		}
		c, err := s.Configs.FindConfig(ctx, domain, profiles.ConfigIdentityMatches, j.JobID)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		var doc matchesDoc
		if err := json.Unmarshal(c.Data, &doc); err != nil {
			return nil, fmt.Errorf("matches of job %s of domain %s: %w", j.JobID, domain, err)
		}
		s.matchDocs.put(key, &doc, 2*len(c.Data))
		return &doc, nil
	}
	return nil, nil
}

// GetMatches returns one page of the last completed job's match groups.
func (s *Service) GetMatches(ctx context.Context, domain string, page profiles.Page) (*profiles.MatchResults, string, error) {
	size, err := pageSize(page.MaxResults)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.matchingDomain(ctx, domain); err != nil {
		return nil, "", err
	}
	doc, err := s.lastMatches(ctx, domain)
	if err != nil || doc == nil {
		return &profiles.MatchResults{}, "", err
	}
	scope := "GetMatches/" + domain + "/" + doc.GeneratedAt.Format(time.RFC3339Nano)
	groups := doc.Groups
	if page.Token != "" {
		after, err := s.tokens.decode(scope, page.Token)
		if err != nil {
			return nil, "", err
		}
		i, _ := slices.BinarySearchFunc(groups, after, func(g profiles.MatchGroup, id string) int { return cmp.Compare(g.MatchID, id) })
		for i < len(groups) && groups[i].MatchID <= after {
			i++
		}
		groups = groups[i:]
	}
	next := ""
	if len(groups) > size {
		groups = groups[:size]
		next = s.tokens.encode(scope, groups[size-1].MatchID)
	}
	return &profiles.MatchResults{GeneratedAt: doc.GeneratedAt, Total: len(doc.Groups), Matches: groups}, next, nil
}

// similarityGroups returns the match groups of the last completed
// identity resolution job as GetSimilarProfiles reads them: sorted by
// match id, and by profile.
func (s *Service) similarityGroups(ctx context.Context, domain string) ([]*profiles.SimilarProfiles, map[string]*profiles.SimilarProfiles, error) {
	if _, err := s.matchingDomain(ctx, domain); err != nil {
		return nil, nil, err
	}
	doc, err := s.lastMatches(ctx, domain)
	if err != nil || doc == nil {
		return nil, map[string]*profiles.SimilarProfiles{}, err
	}
	groups := make([]*profiles.SimilarProfiles, len(doc.Groups))
	byProfile := map[string]*profiles.SimilarProfiles{}
	for i, g := range doc.Groups {
		groups[i] = &profiles.SimilarProfiles{MatchID: g.MatchID, ProfileIDs: g.ProfileIDs, ConfidenceScore: g.ConfidenceScore}
		for _, id := range g.ProfileIDs {
			byProfile[id] = groups[i]
		}
	}
	return groups, byProfile, nil
}

// GetAutoMergingPreview counts what am would merge in the last completed
// job's match groups (the first previewSample of them).
func (s *Service) GetAutoMergingPreview(ctx context.Context, domain string, am *profiles.AutoMerging) (*profiles.AutoMergingPreview, error) {
	if _, err := s.matchingDomain(ctx, domain); err != nil {
		return nil, err
	}
	if err := checkAutoMerging(am); err != nil {
		return nil, err
	}
	doc, err := s.lastMatches(ctx, domain)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, profiles.Errorf(profiles.EINVALID, "Domain %s has no matches yet: the preview needs a completed identity resolution job (ListIdentityResolutionJobs).", domain)
	}
	out := &profiles.AutoMergingPreview{}
	for _, g := range doc.Groups[:min(len(doc.Groups), previewSample)] {
		out.MatchesInSample++
		out.ProfilesInSample += int64(len(g.ProfileIDs))
		if !mergeScoreOK(g, am) {
			continue
		}
		var ps []*profiles.Profile
		if err := s.view(ctx, domain, func(tx profiles.Tx) error {
			ps, err = groupProfiles(ctx, tx, domain, g)
			return err
		}); err != nil {
			return nil, err
		}
		for _, set := range mergeSets(ps, am) {
			out.ProfilesWillBeMerged += int64(len(set) - 1)
		}
	}
	return out, nil
}

// checkAutoMerging checks auto-merging settings as a request gives them
// (UpdateDomain, CreateDomain, GetAutoMergingPreview): checkMergeSettings
// and the names of the Consolidation attributes.
func checkAutoMerging(am *profiles.AutoMerging) error {
	if err := checkMergeSettings(am); err != nil {
		return err
	}
	for i, attrs := range am.Consolidation.MatchingAttributesList {
		for j, attr := range attrs {
			if !consolidationAttribute(attr) {
				return profiles.Errorf(profiles.EINVALID, "Consolidation.MatchingAttributesList[%d][%d]: %q is not an attribute of the standard profile: one of %s, <address>.<part> (%s of %s, or Address.Address), or Attributes.<name>.",
					i, j, attr, strings.Join(profiles.StandardFields, ", "), strings.Join(profiles.AddressFields, ", "), strings.Join(profiles.AddressKinds, ", "))
			}
		}
	}
	return nil
}

// checkMergeSettings checks what auto-merging cannot do without: its
// criteria, and SourceName with SOURCE (also of a stored domain's settings:
// checkAutoMerging's names are checked as requests give them).
func checkMergeSettings(am *profiles.AutoMerging) error {
	if am == nil || am.Consolidation == nil || len(am.Consolidation.MatchingAttributesList) == 0 {
		return profiles.Errorf(profiles.EINVALID, "Consolidation.MatchingAttributesList must hold at least one list of attributes.")
	}
	return checkConflictResolution(am.ConflictResolution)
}

// checkConflictResolution refuses SOURCE without a SourceName.
func checkConflictResolution(cr *profiles.ConflictResolution) error {
	if cr != nil && cr.ConflictResolvingModel == "SOURCE" && cr.SourceName == "" {
		return profiles.Errorf(profiles.EINVALID, "ConflictResolution.SourceName must name an object type when ConflictResolvingModel is SOURCE.")
	}
	return nil
}

// consolidationAttribute reports whether a Consolidation criterion may name
// attr: the attributes mergeSets reads values of (ruleValues without a
// selector), which are the standard profile's (AWS: any standard or custom
// attribute): its scalar fields, the parts of its addresses, Address.Address
// (the street lines of Address, as rules read it) and Attributes.<name>.
func consolidationAttribute(attr string) bool {
	if slices.Contains(profiles.StandardFields, attr) || attr == "Address.Address" {
		return true
	}
	if name, ok := strings.CutPrefix(attr, "Attributes."); ok {
		return name != ""
	}
	kind, part, ok := strings.Cut(attr, ".")
	return ok && slices.Contains(profiles.AddressKinds, kind) && slices.Contains(profiles.AddressFields, part)
}

func mergeScoreOK(g profiles.MatchGroup, am *profiles.AutoMerging) bool {
	return am.MinAllowedConfidenceScoreForMerging == nil || g.ConfidenceScore >= *am.MinAllowedConfidenceScoreForMerging
}

// groupProfiles reads the profiles of a group that still exist.
func groupProfiles(ctx context.Context, tx profiles.Tx, domain string, g profiles.MatchGroup) ([]*profiles.Profile, error) {
	var out []*profiles.Profile
	for _, id := range g.ProfileIDs {
		p, err := tx.FindProfile(ctx, domain, id)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// mergeSets splits a group's profiles into the sets that would merge: two
// profiles are in one set when they meet one Consolidation criterion
// (equal normalised values for every attribute it lists; no list merges
// nothing). Only sets of two or more are returned.
func mergeSets(ps []*profiles.Profile, am *profiles.AutoMerging) [][]*profiles.Profile {
	sets := unionFind{}
	meets := func(a, b *profiles.Profile) bool {
		if am.Consolidation == nil {
			return false
		}
	criteria:
		for _, attrs := range am.Consolidation.MatchingAttributesList {
			for _, attr := range attrs {
				va, vb := ruleValues(a, attr, nil), ruleValues(b, attr, nil)
				if len(va) == 0 || !slices.ContainsFunc(va, func(v string) bool { return slices.Contains(vb, v) }) {
					continue criteria
				}
			}
			return len(attrs) > 0
		}
		return false
	}
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if sets.find(i) != sets.find(j) && meets(ps[i], ps[j]) {
				sets.union(i, j)
			}
		}
	}
	var out [][]*profiles.Profile
	for _, ms := range sets.sets() {
		if len(ms) < 2 {
			continue
		}
		slices.Sort(ms)
		set := make([]*profiles.Profile, len(ms))
		for k, m := range ms {
			set[k] = ps[m]
		}
		out = append(out, set)
	}
	// In the order of their first profiles, as the group lists them.
	slices.SortFunc(out, func(a, b []*profiles.Profile) int {
		return cmp.Compare(slices.Index(ps, a[0]), slices.Index(ps, b[0]))
	})
	return out
}

// autoMerge merges the merge sets of the groups, and returns how many
// profiles it merged into others and how many sets failed.
func (s *Service) autoMerge(ctx context.Context, domain string, groups []profiles.MatchGroup, am *profiles.AutoMerging, progress func(int64)) (int64, int, error) {
	var merged int64
	failed := 0
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return merged, failed, err
		}
		if i%100 == 99 {
			progress(merged)
		}
		if !mergeScoreOK(g, am) {
			continue
		}
		var ps []*profiles.Profile
		err := s.view(ctx, domain, func(tx profiles.Tx) error {
			var err error
			ps, err = groupProfiles(ctx, tx, domain, g)
			return err
		})
		if err != nil {
			return merged, failed, err
		}
		for _, set := range mergeSets(ps, am) {
			main, sources := resolveConflicts(set, am.ConflictResolution)
			n, err := s.mergeSet(ctx, domain, main, set, sources)
			merged += n
			if err != nil {
				s.Logger.Warn("identity resolution: merge failed", "domain", domain, "match", g.MatchID, "err", err)
				failed++
			}
		}
	}
	return merged, failed, nil
}

// mergeSet merges the profiles of set into the one of id main, at most
// MaxMergedProfiles a call (mergeProfiles), each call only if its profiles
// still have the LastUpdatedAt of set (set is changed: the main profile's
// time is cleared after the first call). It returns how many profiles it
// merged, and the error that stopped it.
func (s *Service) mergeSet(ctx context.Context, domain, main string, set []*profiles.Profile, sources map[string]string) (int64, error) {
	var others []string
	for _, p := range set {
		if p.ID != main {
			others = append(others, p.ID)
		}
	}
	var merged int64
	for len(others) > 0 {
		batch := others[:min(len(others), MaxMergedProfiles)]
		others = others[len(batch):]
		expect := map[string]time.Time{}
		for _, p := range set {
			if (p.ID == main || slices.Contains(batch, p.ID)) && !p.LastUpdatedAt.IsZero() {
				expect[p.ID] = p.LastUpdatedAt
			}
		}
		if err := s.mergeProfiles(ctx, domain, main, batch, sourcesIn(sources, main, batch), expectUpdated(expect)); err != nil {
			return merged, err
		}
		merged += int64(len(batch))
		// The main profile changed with the merge: the next
		// batch does not expect its time.
		for _, p := range set {
			if p.ID == main {
				p.LastUpdatedAt = time.Time{}
			}
		}
	}
	return merged, nil
}

// sourcesIn keeps the field sources of the main profile and of batch.
func sourcesIn(sources map[string]string, main string, batch []string) map[string]string {
	out := map[string]string{}
	for g, id := range sources {
		if id == main || slices.Contains(batch, id) {
			out[g] = id
		}
	}
	return out
}

// resolveConflicts picks the main profile of a merge set and, for each of
// its fields (address kinds together), the profile whose value wins:
// RECENCY (the default) the value updated last (by its object's time, else
// its profile's), SOURCE the value ingested from SourceName's objects, else
// by recency. The main profile is the one updated last.
func resolveConflicts(set []*profiles.Profile, cr *profiles.ConflictResolution) (string, map[string]string) {
	main := slices.MaxFunc(set, func(a, b *profiles.Profile) int {
		return cmp.Or(a.LastUpdatedAt.Compare(b.LastUpdatedAt), cmp.Compare(b.ID, a.ID))
	})
	return main.ID, conflictSources(set, main.ID, cr)
}

// conflictSources returns, for each field group of the profiles of a merge
// set, the profile whose value wins under cr (see resolveConflicts); on a
// tie, the main profile's.
func conflictSources(set []*profiles.Profile, mainID string, cr *profiles.ConflictResolution) map[string]string {
	source := ""
	if cr != nil && cr.ConflictResolvingModel == "SOURCE" {
		source = cr.SourceName
	}
	type pick struct {
		id       string
		fromSrc  bool
		updated  time.Time
		assigned bool
	}
	best := map[string]pick{}
	for _, p := range set {
		for field := range p.Fields {
			g := group(field)
			if !isMergeField(g) {
				continue
			}
			at, fromSrc := p.LastUpdatedAt, false
			if src, ok := p.Sources[field]; ok {
				at, fromSrc = src.UpdatedAt, source != "" && src.ObjectType == source
			}
			cur := best[g]
			better := !cur.assigned || fromSrc && !cur.fromSrc || fromSrc == cur.fromSrc && (at.After(cur.updated) || at.Equal(cur.updated) && p.ID == mainID)
			if better {
				best[g] = pick{id: p.ID, fromSrc: fromSrc, updated: at, assigned: true}
			}
		}
	}
	sources := map[string]string{}
	for g, b := range best {
		sources[g] = b.id
	}
	return sources
}

// identityFeatures are what a job compares of a profile, normalised.
type identityFeatures struct {
	emails, phones     []string
	first, last        string
	birth, account     string
	street, postalCode string
}

func featuresOf(p *profiles.Profile) identityFeatures {
	f := identityFeatures{}
	for _, k := range []string{"EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"} {
		if v := mapping.Normalize(profiles.ContentEmail, p.Fields[k]); v != "" && !slices.Contains(f.emails, v) {
			f.emails = append(f.emails, v)
		}
	}
	for _, k := range []string{"PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"} {
		if v := mapping.Normalize(profiles.ContentPhone, p.Fields[k]); v != "" && !slices.Contains(f.phones, v) {
			f.phones = append(f.phones, v)
		}
	}
	name := func(k string) string { return mapping.Normalize(profiles.ContentName, p.Fields[k]) }
	f.first, f.last = name("FirstName"), name("LastName")
	f.birth, f.account = birthDate(p.Fields["BirthDate"]), strings.TrimSpace(p.Fields["AccountNumber"])
	f.street = name("Address.Address1")
	f.postalCode = strings.ReplaceAll(name("Address.PostalCode"), " ", "")
	return f
}

// birthDate returns a birth date as YYYY-MM-DD when it is written in an
// unambiguous form of that order (1990-01-02, 1990/01/02, 19900102,
// 1990-01-02T00:00:00Z), else as written (trimmed, lower-cased): 02/01/1990
// may be either of two days.
func birthDate(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, layout := range []string{"2006-01-02", "2006/01/02", "20060102"} {
		if len(v) >= len(layout) {
			if t, err := time.Parse(layout, v[:len(layout)]); err == nil && (len(v) == len(layout) || v[len(layout)] == 't' || v[len(layout)] == ' ') {
				return t.Format("2006-01-02")
			}
		}
	}
	return v
}

// blockingKeys are the values that make two profiles a pair to score.
func (f identityFeatures) blockingKeys() []string {
	var keys []string
	for _, e := range f.emails {
		keys = append(keys, "e\x00"+e)
	}
	for _, p := range f.phones {
		keys = append(keys, "p\x00"+p)
	}
	if f.account != "" {
		keys = append(keys, "a\x00"+f.account)
	}
	if f.last != "" && f.birth != "" {
		keys = append(keys, "nb\x00"+f.last+"\x00"+f.birth)
	}
	if f.last != "" && f.first != "" && f.postalCode != "" {
		keys = append(keys, "np\x00"+f.last+"\x00"+f.first[:1]+"\x00"+f.postalCode)
	}
	return keys
}

// pairScore is the confidence (0 to 1) that two profiles are one person:
// the logistic function of the sum of the evidence's weights (a shared
// email +6, phone +5, account number +6; first and last names alike (a
// Jaro–Winkler similarity of 0.9 or more each) +3, similar (0.8) +1.5,
// last names different (under 0.75) −4; birth dates equal +3; the same
// street and postal code +3, postal code only +1) from −4. Different first
// names (under 0.75) or different birth dates make two people whatever
// else they share (a household's email, phone and address): the sum is
// then at most −4 (0.018).
func pairScore(a, b identityFeatures) float64 {
	shares := func(x, y []string) bool {
		return slices.ContainsFunc(x, func(v string) bool { return slices.Contains(y, v) })
	}
	w := -4.0
	if shares(a.emails, b.emails) {
		w += 6
	}
	if shares(a.phones, b.phones) {
		w += 5
	}
	if a.account != "" && a.account == b.account {
		w += 6
	}
	veto := false // two people, whatever else they share (a household)
	if a.first != "" && b.first != "" && a.last != "" && b.last != "" {
		first, last := jaroWinkler(a.first, b.first), jaroWinkler(a.last, b.last)
		switch {
		case first < 0.75:
			veto = true
		case first >= 0.9 && last >= 0.9:
			w += 3
		case first >= 0.8 && last >= 0.8:
			w += 1.5
		case last < 0.75:
			w -= 4
		}
	}
	if a.birth != "" && b.birth != "" {
		if a.birth == b.birth {
			w += 3
		} else {
			veto = true
		}
	}
	if a.postalCode != "" && a.postalCode == b.postalCode {
		if a.street != "" && a.street == b.street {
			w += 3
		} else {
			w++
		}
	}
	if veto {
		w = min(w, -4)
	}
	return math.Round(10000/(1+math.Exp(-w))) / 10000
}

// findSimilar groups the domain's profiles (see the comment at the top of
// this file) and returns the groups, sorted by match id, and how many
// profiles it reviewed.
func (s *Service) findSimilar(ctx context.Context, domain string) ([]profiles.MatchGroup, int64, error) {
	var ids []string
	var feats []identityFeatures
	blocks := map[string][]int{}
	err := s.eachProfile(ctx, domain, func(_ profiles.Tx, p *profiles.Profile) error {
		f := featuresOf(p)
		for _, k := range f.blockingKeys() {
			if b := blocks[k]; len(b) <= maxSimilarBlock {
				blocks[k] = append(b, len(ids))
			}
		}
		ids = append(ids, p.ID)
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	type edge struct {
		a, b  int
		score float64
	}
	seen := map[[2]int]bool{}
	var edges []edge
	for _, b := range blocks {
		if len(b) < 2 || len(b) > maxSimilarBlock {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		for i, x := range b {
			for _, y := range b[i+1:] {
				if seen[[2]int{x, y}] {
					continue
				}
				seen[[2]int{x, y}] = true
				if sc := pairScore(feats[x], feats[y]); sc > matchThreshold {
					edges = append(edges, edge{x, y, sc})
				}
			}
		}
	}
	// The strongest links first: a group's score is its weakest link of
	// those that joined it.
	slices.SortFunc(edges, func(p, q edge) int {
		return cmp.Or(cmp.Compare(q.score, p.score), cmp.Compare(p.a, q.a), cmp.Compare(p.b, q.b))
	})
	sets := unionFind{}
	score := map[int]float64{}
	for _, e := range edges {
		ra, rb := sets.find(e.a), sets.find(e.b)
		if ra == rb {
			continue
		}
		s := e.score
		for _, r := range []int{ra, rb} {
			if v, ok := score[r]; ok {
				s = min(s, v)
			}
		}
		score[sets.union(ra, rb)] = s
	}
	members := map[int][]string{}
	for r, ms := range sets.sets() {
		for _, i := range ms {
			members[r] = append(members[r], ids[i])
		}
	}
	var groups []profiles.MatchGroup
	for r, ms := range members {
		if len(ms) < 2 {
			continue
		}
		slices.Sort(ms)
		h := sha256.Sum256([]byte(domain + "\x00ml\x00" + ms[0]))
		groups = append(groups, profiles.MatchGroup{MatchID: hex.EncodeToString(h[:16]), ProfileIDs: ms, ConfidenceScore: score[r]})
	}
	slices.SortFunc(groups, func(a, b profiles.MatchGroup) int { return cmp.Compare(a.MatchID, b.MatchID) })
	return groups, int64(len(ids)), nil
}

// jaroWinkler is the Jaro–Winkler similarity of two strings (1: equal).
func jaroWinkler(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	if a == b {
		return 1
	}
	window := max(len(ra), len(rb))/2 - 1
	window = max(window, 0)
	ma, mb := make([]bool, len(ra)), make([]bool, len(rb))
	matches := 0
	for i := range ra {
		for j := max(0, i-window); j < min(len(rb), i+window+1); j++ {
			if !mb[j] && ra[i] == rb[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	transpositions, k := 0, 0
	for i := range ra {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if ra[i] != rb[k] {
			transpositions++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(len(ra)) + m/float64(len(rb)) + (m-float64(transpositions)/2)/m) / 3
	prefix := 0
	for prefix < min(4, len(ra), len(rb)) && ra[prefix] == rb[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
