package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openprofiles/profiles"
)

// The agent workspace: search, a profile with its contact history, create
// and edit.

// searchData is the search page.
type searchData struct {
	Query   string
	By      string
	KeyName string
	Ran     bool
	Results []*profiles.FoundProfile
	Took    time.Duration
	Denied  string // why the caller may not read profile data
	// Page is the paging token of these results ("" for the first page),
	// Next that of the page after them ("" for none).
	Page, Next string
	// From is the position of the first result (1-based).
	From int
	// CanCreate: the caller may create profiles (the page offers to).
	CanCreate bool
}

// searchPage is how many results a page of the workspace's search shows.
const searchPage = 50

// searchBy are the choices of the search form.
var searchBy = []struct{ Value, Label string }{
	{"auto", "Anything (phone, email, name, account)"}, {"phone", "Phone number"}, {"email", "Email address"},
	{"name", "Full name"}, {"account", "Account number"}, {"id", "Profile ID"}, {"key", "Another key…"},
}

// phoneLike is what a phone number looks like as agents type or paste
// it: digits, spaces and + ( ) - . /, perhaps after tel:, perhaps with an
// extension (x12, #12, ext. 12, extension 12), which the service drops.
var phoneLike = regexp.MustCompile(`(?i)^(tel:)?[0-9+()\-. /]+((x|#|ext\.?|extension)[ :]*[0-9]+)?$`)

// searchQuery turns what an agent typed into a search: by phone when it
// looks like one, by email when it has an @, else by name, account number
// or profile ID. Phones and emails are normalised by the service, so any
// format finds them.
func searchQuery(q, by, keyName string) (profiles.SearchQuery, error) {
	one := func(k string) profiles.SearchQuery {
		return profiles.SearchQuery{Key: profiles.SearchKey{KeyName: k, Values: []string{q}}}
	}
	any := func(keys ...string) profiles.SearchQuery {
		sq := one(keys[0])
		for _, k := range keys[1:] {
			sq.Additional = append(sq.Additional, profiles.SearchKey{KeyName: k, Values: []string{q}})
		}
		sq.LogicalOperator = "OR"
		return sq
	}
	switch by {
	case "phone":
		return one("_phone"), nil
	case "email":
		return one("_email"), nil
	case "name":
		return one("_fullName"), nil
	case "account":
		return one("_account"), nil
	case "id":
		return one("_profileId"), nil
	case "key":
		if keyName == "" {
			return profiles.SearchQuery{}, profiles.Errorf(profiles.EINVALID, "Enter the name of the key to search by, e.g. _ctrContactId.")
		}
		return one(keyName), nil
	}
	digits := 0
	for _, c := range q {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	switch {
	case strings.Contains(q, "@"):
		return one("_email"), nil
	case digits >= 7 && phoneLike.MatchString(q):
		return any("_phone", "_account"), nil
	}
	return any("_fullName", "_account", "_profileId"), nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	qs := r.URL.Query()
	d := &searchData{Query: strings.TrimSpace(qs.Get("q")), By: qs.Get("by"), KeyName: strings.TrimSpace(qs.Get("key")), Page: qs.Get("page"), From: 1}
	if n, err := strconv.Atoi(qs.Get("from")); err == nil && n > 0 {
		d.From = n
	}
	if d.By == "" {
		d.By = "auto"
	}
	p := &page{Title: "Profiles — " + domain, Nav: "workspace", Domain: domain, Data: d}
	if err := s.allowData(r, "profile:SearchProfiles", domain); err != nil {
		if profiles.ErrorCode(err) != profiles.EFORBIDDEN {
			s.fail(w, r, err)
			return
		}
		d.Denied = profiles.ErrorMessage(err)
		s.render(w, r, http.StatusForbidden, "search", p)
		return
	}
	d.CanCreate = s.allowData(r, "profile:CreateProfile", domain) == nil
	if d.Query != "" {
		sq, err := searchQuery(d.Query, d.By, d.KeyName)
		if err == nil {
			start := time.Now()
			d.Results, d.Next, err = s.Search.SearchProfiles(r.Context(), domain, sq, profiles.Page{MaxResults: searchPage, Token: d.Page})
			d.Took = time.Since(start).Round(time.Millisecond / 10)
		}
		if msg, ok := userError(err); ok {
			// The search did not run: no "no profile matches" (and no
			// offer to create one) under the error.
			p.Error = msg
			s.render(w, r, userStatus(err), "search", p)
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Ran = true
		if len(d.Results) == 1 && qs.Get("open") == "1" {
			http.Redirect(w, r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+d.Results[0].Profile.ID, http.StatusSeeOther)
			return
		}
	}
	s.render(w, r, http.StatusOK, "search", p)
}

// contact is a contact record of a profile's contact history.
type contact struct {
	ContactID string
	Channel   string
	Method    string
	Start     time.Time
	End       time.Time
	Duration  time.Duration
	Agent     string
	Queue     string
	QueueWait time.Duration
	// HasQueueWait: the record says how long the contact waited in the
	// queue (Queue.Duration); a record without it shows no wait.
	HasQueueWait bool
	Disconnect   string
	HasDuration  bool
	// updated is when this version of the record was made: its
	// LastUpdateTimestamp, else when it was stored.
	updated time.Time
	// template tells a contact record of a contact-record template (whose
	// unique key is its ContactId), not an object of another type that
	// reads as one.
	template bool
}

// objectGroup is the objects of one type attached to a profile.
type objectGroup struct {
	Type    string
	Objects []string // indented JSON
}

// profileData is the profile page.
type profileData struct {
	Profile    *profiles.Profile
	Standard   []field
	Addresses  []address
	Attributes []field
	Contacts   []contact
	// ContactsFrom is the position (0-based, newest first) of the first
	// contact shown, of ContactsTotal read; NewerContacts and
	// OlderContacts are the positions of the pages before and after this
	// one ("" for none).
	ContactsFrom, ContactsTotal  int
	NewerContacts, OlderContacts string
	Objects                      []objectGroup
	Calculated                   []*profiles.CalculatedValue
	Duplicates                   []duplicate
	CanMerge                     bool // the principal may merge a duplicate into this profile
	CanEdit                      bool // the principal may edit the profile
	Recommended                  []recommended
	Denied                       string
	NoObjects                    string // why objects could not be listed
	FormErrors                   map[string]string
	Form                         *profileForm

	// ContactsIncomplete: reading a contact-record type's objects failed
	// part of the way; what was read is shown.
	ContactsIncomplete bool
	// ObjectsIncomplete are the other object types whose objects could
	// not all be read.
	ObjectsIncomplete []string

	// CalculatedDenied says, by attribute name, why a calculated value
	// is not shown (computed from objects under a key the agent may not
	// decrypt with); the value is left out of the page.
	CalculatedDenied map[string]string
	// NoRecommendations says why recommendations are not shown (the
	// interaction events they are made of are under a key the agent may
	// not decrypt with).
	NoRecommendations string
}

type field struct{ Name, Label, Value string }

// recommended is what one recommender recommends to a profile.
type recommended struct {
	Recommender, Recipe string
	Items               []profiles.Recommendation
}

// duplicate is a profile that matching found alike, and how.
type duplicate struct {
	ID, Name, How string
}

type address struct {
	Kind   string
	Fields []field
}

func (s *Server) findProfile(r *http.Request, domain, id string) (*profiles.Profile, error) {
	found, _, err := s.Search.SearchProfiles(r.Context(), domain,
		profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_profileId", Values: []string{id}}}, profiles.Page{MaxResults: 100})
	if err != nil {
		return nil, err
	}
	// _profileId also finds the profile another was merged into (its keys
	// moved there); the page of an id is that profile's only.
	for _, f := range found {
		if f.Profile.ID == id {
			return f.Profile, nil
		}
	}
	return nil, profiles.Errorf(profiles.ENOTFOUND, "Profile %s not found in domain %s.", id, domain)
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	domain, id := r.PathValue("domain"), r.PathValue("id")
	d := &profileData{}
	p := &page{Title: "Profile — " + domain, Nav: "workspace", Domain: domain, Data: d}
	if err := s.allowData(r, "profile:SearchProfiles", domain); err != nil {
		if profiles.ErrorCode(err) != profiles.EFORBIDDEN {
			s.fail(w, r, err)
			return
		}
		d.Denied = profiles.ErrorMessage(err)
		s.render(w, r, http.StatusForbidden, "profile", p)
		return
	}
	prof, err := s.findProfile(r, domain, id)
	if err != nil {
		if into := s.mergedAway(r, domain, id); into != "" && profiles.ErrorCode(err) == profiles.ENOTFOUND {
			// A bookmark, a link in a ticket or the history: the profile
			// it was merged into holds its fields and contacts now.
			http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+url.PathEscape(into),
				"Profile "+id+" was merged into this one; its contacts are here."), http.StatusSeeOther)
			return
		}
		s.fail(w, r, err)
		return
	}
	d.Profile = prof
	d.CanEdit = s.allowDataFor(r, domain, "profile:UpdateProfile", "profile:SearchProfiles") == nil
	d.Standard, d.Addresses, d.Attributes = layoutFields(prof)
	p.Title = displayName(prof) + " — " + domain
	if err := s.allowData(r, "profile:ListProfileObjects", domain); err != nil {
		d.NoObjects = profiles.ErrorMessage(err)
	} else {
		from, _ := strconv.Atoi(r.URL.Query().Get(contactsParam))
		s.loadObjects(r, domain, id, max(from, 0), d)
	}
	if s.Calculated != nil && s.allowData(r, "profile:ListCalculatedAttributesForProfile", domain) == nil {
		// The domain's first 100, by name; a failure leaves the section out.
		var err error
		if d.Calculated, _, err = s.Calculated.CalculatedValues(r.Context(), domain, id, profiles.Page{MaxResults: 100}); err != nil {
			s.Logger.Warn("calculated attributes of a profile page", "domain", domain, "error", err.Error())
		}
		d.CalculatedDenied = s.hideUnreadable(r, domain, d.Calculated)
	}
	if s.Matching != nil && s.allowData(r, "profile:GetSimilarProfiles", domain) == nil {
		d.Duplicates = s.duplicates(r, domain, id)
		d.CanMerge = len(d.Duplicates) > 0 && s.allow(r, "profile:MergeProfiles", s.Domains.DomainARN(domain)) == nil
	}
	if s.Recommenders != nil && s.allowData(r, "profile:GetProfileRecommendations", domain) == nil &&
		s.allow(r, "profile:ListRecommenders", s.Domains.DomainARN(domain)) == nil {
		d.Recommended, d.NoRecommendations = s.recommended(r, domain, id)
	}
	s.render(w, r, http.StatusOK, "profile", p)
}

// A profile page shows the items of its domain's first
// maxPageRecommenders active recommenders (by name; personalized-ranking
// ones rank given items, so none of those), maxPageRecommendations each.
const (
	maxPageRecommenders    = 3
	maxPageRecommendations = 5
)

// hideUnreadable blanks the calculated values the agent may not read, as
// GetCalculatedAttributeForProfile through the API refuses them: those
// computed from the objects of a type with a key of its own that the
// agent may not decrypt with. It returns why, by attribute name, for the
// page to say in their place. It reads the domain's definitions once and
// checks each object type they read once, whatever the number of values.
func (s *Server) hideUnreadable(r *http.Request, domain string, values []*profiles.CalculatedValue) map[string]string {
	denied := map[string]string{}
	if len(values) == 0 {
		return denied
	}
	typeOf, listErr := s.calculatedTypeOf(r, domain)
	checked := map[string]error{} // by object type
	for _, v := range values {
		err := listErr
		if err == nil {
			t := typeOf[v.Name] // "": deleted since, or reads no object
			if t == "" {
				continue
			}
			var ok bool
			if err, ok = checked[t]; !ok {
				err = s.allowTypeKeys(r, domain, []string{t})
				checked[t] = err
			}
		}
		switch {
		case err == nil:
			continue
		case profiles.ErrorCode(err) == profiles.EFORBIDDEN:
			denied[v.Name] = "Not shown: " + profiles.ErrorMessage(err)
		default:
			s.Logger.Warn("calculated attributes of a profile page", "domain", domain, "attribute", v.Name, "error", err.Error())
			denied[v.Name] = "Not shown: who may read it could not be checked (the server's log says why)."
		}
		v.Value = ""
	}
	return denied
}

// calculatedTypeOf returns the object type each calculated attribute of
// a domain reads, by attribute name (none for a missing domain).
func (s *Server) calculatedTypeOf(r *http.Request, domain string) (map[string]string, error) {
	typeOf := map[string]string{}
	for page := (profiles.Page{MaxResults: 100}); ; {
		list, next, err := s.Calculated.ListCalculatedAttributes(r.Context(), domain, page)
		if profiles.ErrorCode(err) == profiles.ENOTFOUND {
			return typeOf, nil
		} else if err != nil {
			return nil, err
		}
		for _, a := range list {
			typeOf[a.Name] = a.ObjectTypeName()
		}
		if next == "" {
			return typeOf, nil
		}
		page.Token = next
	}
}

// recommended returns what the domain's active recommenders recommend to
// a profile; a recommender that fails (it is being replaced, say) is left
// out. When the agent may not read the interaction events they are made
// of (kms:Decrypt on _webAnalytics's own key, as GetProfileRecommendations
// through the API needs), it returns none and says why.
func (s *Server) recommended(r *http.Request, domain, id string) ([]recommended, string) {
	recs, _, err := s.Recommenders.ListRecommenders(r.Context(), domain, profiles.Page{MaxResults: 100})
	if err != nil {
		s.Logger.Warn("recommendations of a profile page", "domain", domain, "error", err.Error())
		return nil, ""
	}
	var out []recommended
	checked := false
	for _, rec := range recs {
		if rec.Status != "ACTIVE" || rec.RecipeName == "personalized-ranking" || len(out) == maxPageRecommenders {
			continue
		}
		if s.allow(r, "profile:GetProfileRecommendations", rec.Arn) != nil {
			continue // as GetProfileRecommendations through the API: on the recommender too
		}
		if !checked {
			checked = true
			if err := s.allowTypeKeys(r, domain, []string{profiles.RecommenderEventsType}); profiles.ErrorCode(err) == profiles.EFORBIDDEN {
				return nil, "Recommendations are not shown: " + profiles.ErrorMessage(err)
			} else if err != nil {
				s.Logger.Warn("recommendations of a profile page", "domain", domain, "error", err.Error())
				return nil, "Recommendations are not shown: who may read them could not be checked (the server's log says why)."
			}
		}
		items, err := s.Recommenders.GetProfileRecommendations(r.Context(), &profiles.RecommendationsRequest{DomainName: domain,
			ProfileID: id, RecommenderName: rec.Name, MaxResults: maxPageRecommendations})
		if err != nil {
			s.Logger.Warn("recommendations of a profile page", "domain", domain, "recommender", rec.Name, "error", err.Error())
			continue
		}
		if len(items) > 0 {
			out = append(out, recommended{Recommender: rec.Name, Recipe: rec.RecipeName, Items: items})
		}
	}
	return out, ""
}

// maxDuplicates is how many possible duplicates a profile page shows.
const maxDuplicates = 10

// duplicates returns the profiles in a profile's match groups: the last
// identity resolution job's, then rule-based matching's, when the domain
// has them on (a matching that is off, or fails, adds none).
func (s *Server) duplicates(r *http.Request, domain, id string) []duplicate {
	var out []duplicate
	seen := map[string]bool{id: true}
	for _, matchType := range []string{"ML_BASED_MATCHING", "RULE_BASED_MATCHING"} {
		g, _, err := s.Matching.GetSimilarProfiles(r.Context(), domain, matchType, "_profileId", id, profiles.Page{MaxResults: 100})
		if err != nil {
			if profiles.ErrorCode(err) != profiles.EINVALID { // EINVALID: not enabled
				s.Logger.Warn("possible duplicates of a profile page", "domain", domain, "match", matchType, "error", err.Error())
			}
			continue
		}
		how := fmt.Sprintf("identity resolution, confidence %.2f", g.ConfidenceScore)
		if matchType == "RULE_BASED_MATCHING" {
			how = fmt.Sprintf("matching rule %d", g.RuleLevel)
		}
		for _, other := range g.ProfileIDs {
			if seen[other] || len(out) == maxDuplicates {
				continue
			}
			seen[other] = true
			p, err := s.findProfile(r, domain, other)
			if err != nil {
				continue // merged or deleted since the match was found
			}
			out = append(out, duplicate{ID: other, Name: displayName(p), How: how})
		}
	}
	return out
}

// mergeData is what the merge page shows: both profiles' fields.
type mergeData struct {
	Main, Other *profiles.Profile
	Both        []mergeColumn
}

type mergeColumn struct{ Fields []field }

// mergePage asks to confirm the merge of ?other into the profile, showing
// both.
func (s *Server) mergePage(w http.ResponseWriter, r *http.Request) {
	domain, id := r.PathValue("domain"), r.PathValue("id")
	if err := s.allowDataFor(r, domain, "profile:MergeProfiles", "profile:SearchProfiles"); err != nil {
		s.fail(w, r, err)
		return
	}
	d := &mergeData{}
	other := r.URL.Query().Get("other")
	for _, pid := range []string{id, other} {
		p, err := s.findProfile(r, domain, pid)
		if err != nil && pid == other && profiles.ErrorCode(err) == profiles.ENOTFOUND && s.mergedInto(r, domain, other, id) {
			// The page again after its merge (Back, a reload, a second
			// tab): the merged profile, not an error.
			http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+id,
				"Profile "+other+" was merged into this one already."), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		std, addrs, attrs := layoutFields(p)
		col := mergeColumn{Fields: std}
		for _, a := range addrs {
			for _, f := range a.Fields {
				f.Label = a.Kind + " · " + f.Label
				col.Fields = append(col.Fields, f)
			}
		}
		col.Fields = append(col.Fields, attrs...)
		d.Both = append(d.Both, col)
		if d.Main == nil {
			d.Main = p
		} else {
			d.Other = p
		}
	}
	if d.Main.ID == d.Other.ID {
		s.fail(w, r, profiles.Errorf(profiles.EINVALID, "A profile cannot be merged into itself."))
		return
	}
	s.render(w, r, http.StatusOK, "merge", &page{Title: "Merge — " + domain, Nav: "workspace", Domain: domain, Data: d})
}

// mergeProfile merges the profile of the form's "other" into the page's
// profile (MergeProfiles: its objects and keys move, its fields fill the
// gaps), and returns to the page.
func (s *Server) mergeProfile(w http.ResponseWriter, r *http.Request) {
	domain, id := r.PathValue("domain"), r.PathValue("id")
	if err := s.allowData(r, "profile:MergeProfiles", domain); err != nil {
		s.fail(w, r, err)
		return
	}
	other := r.PostFormValue("other")
	done := "Profile " + other + " merged into this one."
	if err := s.Profiles.MergeProfiles(r.Context(), domain, id, []string{other}, nil); err != nil {
		if profiles.ErrorCode(err) != profiles.ENOTFOUND || !s.mergedInto(r, domain, other, id) {
			s.fail(w, r, err)
			return
		}
		// A repeat of the form (a double click, a resubmission): the
		// first merged it.
		done += " (The form was sent more than once; the profiles were merged once.)"
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+id, done), http.StatusSeeOther)
}

// mergedAway returns the profile that the profile id was merged into,
// when id is gone and its _profileId key finds one other profile (the key
// moved there with the merge), or "".
func (s *Server) mergedAway(r *http.Request, domain, id string) string {
	if id == "" {
		return ""
	}
	found, _, err := s.Search.SearchProfiles(r.Context(), domain,
		profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_profileId", Values: []string{id}}}, profiles.Page{MaxResults: 2})
	if err != nil || len(found) != 1 || found[0].Profile.ID == id {
		return ""
	}
	return found[0].Profile.ID
}

// mergedInto reports whether the profile other was merged into the
// profile id and is gone: its _profileId key moved there with its other
// keys (MergeProfiles), so that a search by its id finds id's profile
// and not its own.
func (s *Server) mergedInto(r *http.Request, domain, other, id string) bool {
	if other == "" || other == id || s.allow(r, "profile:SearchProfiles", s.Domains.DomainARN(domain)) != nil {
		return false
	}
	found, _, err := s.Search.SearchProfiles(r.Context(), domain,
		profiles.SearchQuery{Key: profiles.SearchKey{KeyName: "_profileId", Values: []string{other}}}, profiles.Page{MaxResults: 100})
	if err != nil {
		return false
	}
	into := false
	for _, f := range found {
		switch f.Profile.ID {
		case other:
			return false // it is still there
		case id:
			into = true
		}
	}
	return into
}

// loadObjects reads the contact history (objects of the CTR types) and the
// other objects of a profile, by type.
// contactTypes are the contact-record templates: their objects are
// contact history.
var contactTypes = []string{"CTR", "CTR-NoInferred", "CTR-AutoAssociateOnly"}

// loadObjects (see above) shows the contact history maxContacts at a
// time, from the position from (newest first).
func (s *Server) loadObjects(r *http.Request, domain, id string, from int, d *profileData) {
	ctx := r.Context()
	// The contact-record templates, which an integration may name without
	// the domain having a type of that name (the template is used
	// implicitly), then the domain's types.
	names := slices.Clone(contactTypes)
	types, _, err := s.ObjectTypes.ListObjectTypes(ctx, domain, profiles.Page{MaxResults: 100})
	if err == nil {
		for _, t := range types {
			if !slices.Contains(names, t.Name) {
				names = append(names, t.Name)
			}
		}
	}
	for _, name := range names {
		// A type with a key of its own seals its objects under it: they
		// show to an agent who may decrypt with that key too.
		if key, err := s.Domains.ObjectTypeKeyARN(ctx, domain, name); err != nil || key != "" && s.allow(r, "kms:Decrypt", key) != nil {
			continue
		}
		if s.allow(r, "profile:ListProfileObjects", s.Domains.DomainARN(domain)+"/object-types/"+name) != nil {
			continue // as ListProfileObjects through the API
		}
		objs, next, err := s.Ingest.ListProfileObjects(ctx, domain, name, id, "", nil, profiles.Page{MaxResults: 100})
		// Contact records are listed by when they were ingested, not when
		// the contact began (a backfill of old records comes last): the
		// page reads up to maxContactScan of them to show the newest.
		for slices.Contains(contactTypes, name) && err == nil && next != "" && len(objs) < maxContactScan {
			var more []*profiles.ProfileObject
			more, next, err = s.Ingest.ListProfileObjects(ctx, domain, name, id, "", nil, profiles.Page{MaxResults: 100, Token: next})
			objs = append(objs, more...)
		}
		if err != nil && profiles.ErrorCode(err) != profiles.ENOTFOUND {
			// What was read is shown; the page says the rest is missing.
			s.Logger.Warn("objects of a profile page", "domain", domain, "type", name, "read", len(objs), "error", err.Error())
			if slices.Contains(contactTypes, name) {
				d.ContactsIncomplete = true
			} else {
				d.ObjectsIncomplete = append(d.ObjectsIncomplete, name)
			}
		}
		if len(objs) == 0 {
			continue
		}
		group := objectGroup{Type: name}
		for _, o := range objs {
			if c, ok := parseContact(o.Data); ok {
				if c.updated.IsZero() {
					c.updated = o.UpdatedAt
				}
				c.template = slices.Contains(contactTypes, name)
				d.Contacts = append(d.Contacts, c)
				continue
			}
			if len(group.Objects) == 100 {
				continue // the page says only 100 are shown
			}
			var v any
			if json.Unmarshal(o.Data, &v) == nil {
				b, _ := json.MarshalIndent(v, "", "  ")
				group.Objects = append(group.Objects, string(b))
			} else {
				group.Objects = append(group.Objects, string(o.Data))
			}
		}
		if len(group.Objects) > 0 {
			d.Objects = append(d.Objects, group)
		}
	}
	d.Contacts = latestVersions(d.Contacts)
	sort.SliceStable(d.Contacts, func(i, j int) bool { return d.Contacts[i].Start.After(d.Contacts[j].Start) })
	d.ContactsTotal = len(d.Contacts)
	if from >= d.ContactsTotal {
		// A page past the end (the history shrank, an edited address):
		// the last one.
		from = max(d.ContactsTotal-1, 0) / maxContacts * maxContacts
	}
	d.ContactsFrom = from
	if from > 0 {
		d.NewerContacts = strconv.Itoa(max(from-maxContacts, 0))
	}
	if from+maxContacts < d.ContactsTotal {
		d.OlderContacts = strconv.Itoa(from + maxContacts)
	}
	d.Contacts = d.Contacts[from:min(from+maxContacts, d.ContactsTotal)]
}

// contactsParam is the query parameter of a profile page that says from
// which position its contact history is shown.
const contactsParam = "contacts"

// A profile page shows maxContacts contacts at a time, newest first (by
// when they began), of up to maxContactScan contact records of each
// contact-record type: every one, as a profile holds no more objects.
const (
	maxContacts    = 100
	maxContactScan = profiles.MaxObjectsPerProfile
)

// latestVersions keeps one entry a contact, its latest version: a contact
// is stored once a type, and is under two contact-record types when its
// instance was associated anew with another template while the contact
// went on (its later version went to the new one). Objects of other types
// that read as contacts are each kept: their unique keys are their own,
// and two of them may share a ContactId.
func latestVersions(cs []contact) []contact {
	at := make(map[string]int, len(cs))
	out := cs[:0]
	for _, c := range cs {
		if !c.template {
			out = append(out, c)
			continue
		}
		i, ok := at[c.ContactID]
		switch {
		case !ok:
			at[c.ContactID] = len(out)
			out = append(out, c)
		case c.updated.After(out[i].updated):
			out[i] = c
		}
	}
	return out
}

// parseContact reads a contact record (CTR JSON) of the contact history.
func parseContact(data []byte) (contact, bool) {
	var ctr struct {
		ContactID           string `json:"ContactId"`
		Channel             string
		InitiationMethod    string
		InitiationTimestamp string
		DisconnectTimestamp string
		DisconnectReason    string
		LastUpdateTimestamp string
		Agent               *struct{ Username, ARN string }
		Queue               *struct {
			Name     string
			Duration *int
		}
	}
	if json.Unmarshal(data, &ctr) != nil || ctr.ContactID == "" || ctr.InitiationTimestamp == "" {
		return contact{}, false
	}
	c := contact{ContactID: ctr.ContactID, Channel: ctr.Channel, Method: ctr.InitiationMethod, Disconnect: ctr.DisconnectReason}
	c.Start, _ = time.Parse(time.RFC3339, ctr.InitiationTimestamp)
	c.updated, _ = time.Parse(time.RFC3339, ctr.LastUpdateTimestamp)
	if end, err := time.Parse(time.RFC3339, ctr.DisconnectTimestamp); err == nil && !c.Start.IsZero() {
		c.End, c.Duration, c.HasDuration = end, end.Sub(c.Start), true
	}
	if ctr.Agent != nil {
		c.Agent = orDefault(ctr.Agent.Username, ctr.Agent.ARN)
	}
	if ctr.Queue != nil {
		c.Queue = ctr.Queue.Name
		if ctr.Queue.Duration != nil {
			c.QueueWait, c.HasQueueWait = time.Duration(*ctr.Queue.Duration)*time.Second, true
		}
	}
	return c, true
}

// labels are the display names of the standard fields.
var labels = map[string]string{
	"AccountNumber": "Account number", "AdditionalInformation": "Additional information", "PartyType": "Party type",
	"PartyTypeString": "Party type", "BusinessName": "Business name", "FirstName": "First name", "MiddleName": "Middle name",
	"LastName": "Last name", "BirthDate": "Birth date", "Gender": "Gender", "GenderString": "Gender",
	"PhoneNumber": "Phone number", "MobilePhoneNumber": "Mobile phone", "HomePhoneNumber": "Home phone",
	"BusinessPhoneNumber": "Business phone", "EmailAddress": "Email address", "PersonalEmailAddress": "Personal email",
	"BusinessEmailAddress": "Business email", "ProfileType": "Profile type",
	"Address": "Address", "ShippingAddress": "Shipping address", "MailingAddress": "Mailing address", "BillingAddress": "Billing address",
	"Address1": "Address line 1", "Address2": "Address line 2", "Address3": "Address line 3", "Address4": "Address line 4",
	"City": "City", "County": "County", "State": "State", "Province": "Province", "Country": "Country", "PostalCode": "Postal code",
}

func label(name string) string { return orDefault(labels[name], name) }

func layoutFields(p *profiles.Profile) (std []field, addrs []address, attrs []field) {
	for _, f := range profiles.StandardFields {
		if v := p.Fields[f]; v != "" {
			std = append(std, field{Name: f, Label: label(f), Value: v})
		}
	}
	for _, kind := range profiles.AddressKinds {
		a := address{Kind: label(kind)}
		for _, part := range profiles.AddressFields {
			if v := p.Fields[kind+"."+part]; v != "" {
				a.Fields = append(a.Fields, field{Name: kind + "." + part, Label: label(part), Value: v})
			}
		}
		if len(a.Fields) > 0 {
			addrs = append(addrs, a)
		}
	}
	for k, v := range p.Fields {
		if name, ok := strings.CutPrefix(k, "Attributes."); ok {
			attrs = append(attrs, field{Name: k, Label: name, Value: v})
		}
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Label < attrs[j].Label })
	return std, addrs, attrs
}

// identifyingFields are the fields that name a profile that has no name,
// best first: a profile made by contact intake holds the caller's phone
// number (voice) or email address (chat) only.
var identifyingFields = []string{
	"PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber",
	"EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress",
	"AccountNumber",
}

// displayName names a profile in the workspace (search results, the
// profile's page and its title, duplicates, merges): its name (first,
// middle and last, else the business name), else its first identifying
// field (a phone number, else an email address, else the account number),
// else its id.
func displayName(p *profiles.Profile) string {
	name := strings.Join(strings.Fields(p.Fields["FirstName"]+" "+p.Fields["MiddleName"]+" "+p.Fields["LastName"]), " ")
	if name == "" {
		name = strings.TrimSpace(p.Fields["BusinessName"])
	}
	for _, f := range identifyingFields {
		if name != "" {
			break
		}
		name = strings.TrimSpace(p.Fields[f])
	}
	if name == "" {
		name = "Profile " + p.ID
	}
	return name
}
