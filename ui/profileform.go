package ui

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
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

// profileForm is the create and edit form of a profile.
type profileForm struct {
	ID         string // "" when creating
	Values     map[string]string
	Attributes string // one name=value per line
	// Kept are the attributes a name=value line cannot hold (a name with
	// "=" or a line break, a value with a line break): shown, not
	// editable here, and kept as they are.
	Kept []string
	// OtherAddresses are the profile's addresses other than the one the
	// form edits (shipping, mailing, billing), summed up: shown, kept as
	// they are.
	OtherAddresses []string
	Errors         map[string]string
	// Orig is what the edit form was shown with (JSON of the fields and
	// attributes the form edits): a save changes only what the agent
	// changed from it, and finds what another agent changed meanwhile.
	Orig string
	// Once is the create form's one-time token (formToken): sent twice,
	// the form makes one profile.
	Once string
	// Existing are the profiles that already have a phone number, email
	// address or account number of the create form: the form is shown
	// again with them, and creates the profile only when the agent ticks
	// "Create a new profile anyway" (field duplicates_ok).
	Existing []existingProfile
}

// existingProfile is a profile that shares an identifier with a profile
// being created.
type existingProfile struct {
	ID, Name string
	Same     []string // what it shares, e.g. "phone number +1 206 555 0100"
}

// maxExisting is how many existing profiles the create form lists.
const maxExisting = 10

// identifierKeys are the fields of the create form that identify a
// person, with the search key that finds them and the words for them.
var identifierKeys = []struct{ Field, Key, What string }{
	{"PhoneNumber", "_phone", "phone number"}, {"MobilePhoneNumber", "_phone", "phone number"},
	{"HomePhoneNumber", "_phone", "phone number"}, {"BusinessPhoneNumber", "_phone", "phone number"},
	{"EmailAddress", "_email", "email address"}, {"PersonalEmailAddress", "_email", "email address"},
	{"BusinessEmailAddress", "_email", "email address"}, {"AccountNumber", "_account", "account number"},
}

// existingProfiles returns the profiles of the domain that have a phone
// number, email address or account number of fields (the standard keys,
// which find them whatever the format), when the caller may search the
// domain; none when it may not, or a search fails (logged).
func (s *Server) existingProfiles(r *http.Request, domain string, fields map[string]string) []existingProfile {
	if s.allowData(r, "profile:SearchProfiles", domain) != nil {
		return nil
	}
	var out []existingProfile
	at := map[string]int{}
	searched := map[string]bool{}
	for _, ik := range identifierKeys {
		v := strings.TrimSpace(fields[ik.Field])
		if v == "" || searched[ik.Key+"\x00"+v] {
			continue
		}
		searched[ik.Key+"\x00"+v] = true
		found, _, err := s.Search.SearchProfiles(r.Context(), domain,
			profiles.SearchQuery{Key: profiles.SearchKey{KeyName: ik.Key, Values: []string{v}}}, profiles.Page{MaxResults: maxExisting})
		if err != nil {
			s.Logger.Warn("existing profiles of a new profile", "domain", domain, "key", ik.Key, "error", err.Error())
			continue
		}
		for _, fp := range found {
			same := ik.What + " " + v
			if i, ok := at[fp.Profile.ID]; ok {
				if !slices.Contains(out[i].Same, same) {
					out[i].Same = append(out[i].Same, same)
				}
				continue
			}
			if len(out) == maxExisting {
				continue
			}
			at[fp.Profile.ID] = len(out)
			out = append(out, existingProfile{ID: fp.Profile.ID, Name: displayName(fp.Profile), Same: []string{same}})
		}
	}
	return out
}

// formFields are the standard fields the form offers, in order, with the
// kind of input.
var formFields = []struct{ Name, Type, Autocomplete string }{
	{"FirstName", "text", "given-name"}, {"MiddleName", "text", "additional-name"}, {"LastName", "text", "family-name"},
	{"BusinessName", "text", "organization"}, {"AccountNumber", "text", "off"},
	{"PhoneNumber", "tel", "tel"}, {"MobilePhoneNumber", "tel", "off"}, {"HomePhoneNumber", "tel", "off"}, {"BusinessPhoneNumber", "tel", "off"},
	{"EmailAddress", "email", "email"}, {"PersonalEmailAddress", "email", "off"}, {"BusinessEmailAddress", "email", "off"},
	{"BirthDate", "text", "bday"},
}

// addressFields are the parts of the (home) address the form offers.
var addressFields = []string{"Address1", "Address2", "City", "State", "PostalCode", "Country"}

// FormField is one input of the form, for the template.
type FormField struct {
	Name, Label, Type, Autocomplete, Value, Error string
}

// Inputs returns the form's standard inputs.
func (f *profileForm) Inputs() []FormField {
	out := make([]FormField, 0, len(formFields))
	for _, ff := range formFields {
		out = append(out, FormField{Name: ff.Name, Label: label(ff.Name), Type: ff.Type, Autocomplete: ff.Autocomplete,
			Value: f.Values[ff.Name], Error: f.Errors[ff.Name]})
	}
	return out
}

// AddressInputs returns the form's address inputs.
func (f *profileForm) AddressInputs() []FormField {
	out := make([]FormField, 0, len(addressFields))
	for _, part := range addressFields {
		name := "Address." + part
		out = append(out, FormField{Name: name, Label: label(part), Type: "text", Value: f.Values[name], Error: f.Errors[name]})
	}
	return out
}

// Focus returns the name of the form's first field in error, in the
// order of the page, or "": the page puts the keyboard focus there.
func (f *profileForm) Focus() string {
	for _, in := range append(f.Inputs(), f.AddressInputs()...) {
		if in.Error != "" {
			return in.Name
		}
	}
	if f.Errors["attributes"] != "" {
		return "attributes"
	}
	return ""
}

var (
	emailRE     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	birthDateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// lineAttribute reports whether an attribute can be a name=value line of
// the form: the API takes any name of 1 to 255 characters and any value.
func lineAttribute(name, value string) bool {
	return name != "" && len([]rune(name)) <= 255 && strings.TrimSpace(name) == name &&
		!strings.ContainsAny(name, "=\r\n") && !strings.ContainsAny(value, "\r\n")
}

// readForm reads and checks a posted profile form, returning the fields to
// set (every offered field, "" to clear) and the errors by input name.
//
// base holds the values the edit form was shown with (nil when creating):
// a value the agent left as it was is not checked, and an attribute line
// the agent deleted clears the attribute. now is the time of the request
// (a birth date is not after its day).
func readForm(r *http.Request, base map[string]string, now time.Time) (*profileForm, map[string]string) {
	f := &profileForm{Values: map[string]string{}, Errors: map[string]string{}, Attributes: r.PostForm.Get("attributes")}
	fields := map[string]string{}
	for _, ff := range formFields {
		v := strings.TrimSpace(r.PostForm.Get(ff.Name))
		f.Values[ff.Name], fields[ff.Name] = v, v
		switch {
		case v == "":
		case base != nil && v == strings.TrimSpace(base[ff.Name]):
			fields[ff.Name] = base[ff.Name]
			// Unchanged: kept as stored, in whatever format the API or
			// ingestion gave it (a birth date as 04/23/1985), so that it
			// does not stop the agent from saving the fields they changed.
		case ff.Type == "email" && !emailRE.MatchString(v):
			f.Errors[ff.Name] = label(ff.Name) + " must look like name@example.com."
		case ff.Type == "tel" && countDigits(v) < 7:
			f.Errors[ff.Name] = label(ff.Name) + " must have at least 7 digits, e.g. +1 206 555 0100."
		case ff.Type == "tel" && countDigits(v) > 15:
			f.Errors[ff.Name] = label(ff.Name) + " has more than 15 digits."
		case ff.Name == "BirthDate" && !validDate(v):
			f.Errors[ff.Name] = "Birth date must be a date as YYYY-MM-DD, e.g. 1985-04-23."
		case ff.Name == "BirthDate" && v > now.UTC().AddDate(0, 0, 1).Format("2006-01-02"):
			// (A day ahead of UTC: it is tomorrow already east of it.)
			f.Errors[ff.Name] = "Birth date " + v + " is in the future: check the year."
		case len([]rune(v)) > 255:
			f.Errors[ff.Name] = label(ff.Name) + " must be at most 255 characters."
		}
	}
	for _, part := range addressFields {
		name := "Address." + part
		v := strings.TrimSpace(r.PostForm.Get(name))
		f.Values[name], fields[name] = v, v
		if base != nil && v == strings.TrimSpace(base[name]) {
			fields[name] = base[name] // left alone: as stored
		} else if len([]rune(v)) > 255 {
			f.Errors[name] = label(part) + " must be at most 255 characters."
		}
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(f.Attributes, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		rawK, rawV, ok := strings.Cut(line, "=")
		k, v := strings.TrimSpace(rawK), strings.TrimSpace(rawV)
		if !ok || k == "" || len([]rune(k)) > 255 {
			f.Errors["attributes"] = "Line " + strconv.Itoa(i+1) + ": write one attribute per line as name=value (a name of 1 to 255 characters, without =)."
			break
		}
		if base != nil && base["Attributes."+k] == rawV {
			v = rawV // as it was, spaces and all: untouched
		}
		fields["Attributes."+k], seen[k] = v, true
	}
	if base != nil {
		for k, v := range base {
			if name, ok := strings.CutPrefix(k, "Attributes."); ok && !seen[name] && lineAttribute(name, v) {
				fields[k] = "" // removed from the list: clear it
			}
		}
	}
	if len(f.Errors) == 0 {
		empty := true
		for _, v := range fields {
			empty = empty && v == ""
		}
		if empty && base == nil {
			f.Errors["FirstName"] = "Fill in at least one field, e.g. a name, a phone number or an email address."
		}
	}
	return f, fields
}

func validDate(v string) bool {
	if !birthDateRE.MatchString(v) {
		return false
	}
	_, err := time.Parse("2006-01-02", v)
	return err == nil
}

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// shown returns the values of a profile that the edit form edits: its
// standard and address inputs, and the attributes a line can hold.
func shown(p *profiles.Profile) map[string]string {
	out := map[string]string{}
	for _, ff := range formFields {
		out[ff.Name] = p.Fields[ff.Name]
	}
	for _, part := range addressFields {
		out["Address."+part] = p.Fields["Address."+part]
	}
	for k, v := range p.Fields {
		if name, ok := strings.CutPrefix(k, "Attributes."); ok && lineAttribute(name, v) {
			out[k] = v
		}
	}
	return out
}

func encodeOrig(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func formOf(p *profiles.Profile) *profileForm {
	f := &profileForm{ID: p.ID, Values: map[string]string{}, Errors: map[string]string{}, Orig: encodeOrig(shown(p))}
	var attrs []string
	for k, v := range p.Fields {
		name, ok := strings.CutPrefix(k, "Attributes.")
		switch {
		case !ok:
			f.Values[k] = v
		case lineAttribute(name, v):
			attrs = append(attrs, name+"="+v)
		default:
			f.Kept = append(f.Kept, name)
		}
	}
	sort.Strings(attrs)
	sort.Strings(f.Kept)
	f.Attributes = strings.Join(attrs, "\n")
	for _, kind := range profiles.AddressKinds {
		if kind == "Address" {
			continue // the form's
		}
		var parts []string
		for _, part := range profiles.AddressFields {
			if v := strings.TrimSpace(p.Fields[kind+"."+part]); v != "" {
				parts = append(parts, v)
			}
		}
		if len(parts) > 0 {
			f.OtherAddresses = append(f.OtherAddresses, label(kind)+": "+strings.Join(parts, ", "))
		}
	}
	return f
}

func (s *Server) newProfile(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	if err := s.allowData(r, "profile:CreateProfile", domain); err != nil {
		s.fail(w, r, err)
		return
	}
	p := &page{Title: "New profile — " + domain, Nav: "workspace", Domain: domain}
	// The form as it was refused, when the address names it.
	d, notice := s.refusedForm(r, domain, createPath(domain))
	if d != nil {
		p.Error, p.Data = d.Error, d.Form
		s.render(w, r, d.Status, "profileform", p)
		return
	}
	p.Error = notice
	f := &profileForm{Values: map[string]string{}, Errors: map[string]string{}, Once: s.formToken(r, domain)}
	// A search that found nothing pre-fills the form with what was typed
	// (a pasted tel: or mailto: link without its scheme, which the search
	// ignored but the field would keep).
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		switch {
		case strings.Contains(q, "@"):
			f.Values["EmailAddress"] = strings.TrimSpace(trimPrefixFold(q, "mailto:"))
		case countDigits(q) >= 7:
			f.Values["PhoneNumber"] = strings.TrimSpace(trimPrefixFold(q, "tel:"))
		default:
			first, last, _ := strings.Cut(q, " ")
			f.Values["FirstName"], f.Values["LastName"] = first, last
		}
	}
	p.Data = f
	s.render(w, r, http.StatusOK, "profileform", p)
}

// trimPrefixFold returns s without prefix, in any case.
func trimPrefixFold(s, prefix string) string {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

// createPath and editPath are the addresses of a domain's create form and
// of a profile's edit form.
func createPath(domain string) string {
	return Prefix + "domains/" + url.PathEscape(domain) + "/profiles/new"
}
func editPath(domain, id string) string {
	return Prefix + "domains/" + url.PathEscape(domain) + "/profiles/" + url.PathEscape(id) + "/edit"
}

func (s *Server) createProfile(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	if err := s.allowData(r, "profile:CreateProfile", domain); err != nil {
		s.fail(w, r, err)
		return
	}
	f, fields := readForm(r, nil, s.Now())
	f.Once = r.PostForm.Get("once")
	p := &page{Title: "New profile — " + domain, Nav: "workspace", Domain: domain, Data: f}
	nonce := s.formTokenNonce(r, domain, f.Once)
	if nonce == "" {
		f.Once = s.formToken(r, domain)
		p.Error = "The profile was not created: this form is more than a day old, or was not made by this console for you " +
			"(its one-time token, field once, is missing or wrong). Check that the profile does not exist yet, then create it again."
		s.refuseForm(w, r, domain, createPath(domain), http.StatusBadRequest, p, f)
		return
	}
	if len(f.Errors) > 0 {
		p.Error = "The profile was not created: correct the fields marked below."
		s.refuseForm(w, r, domain, createPath(domain), http.StatusBadRequest, p, f)
		return
	}
	// A caller already known by a phone number, email address or account
	// number typed: the agent opens that profile, or creates this one
	// knowingly. (A repeat of a form that created its profile finds that
	// profile: it goes to it below, as any repeat does.)
	if r.PostForm.Get("duplicates_ok") != "1" {
		if f.Existing = s.existingProfiles(r, domain, fields); len(f.Existing) > 0 {
			// Asked after the search: a profile this form's first
			// submission made was made after its token was claimed.
			repeat, err := s.Profiles.FormTokenUsed(r.Context(), domain, nonce)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if !repeat {
				p.Error = "The profile was not created: a profile with the same phone number, email address or account number " +
					"exists already (listed above the form). Open it, or tick “Create a new profile anyway” and create this one."
				s.refuseForm(w, r, domain, createPath(domain), http.StatusConflict, p, f)
				return
			}
			f.Existing = nil
		}
	}
	// The first submission of the form creates the profile; a repeat (a
	// double click, a resubmission, on any node) goes to that profile.
	id, created, err := s.Profiles.CreateProfileOnce(r.Context(), domain, nonce, fields)
	if msg, ok := userError(err); ok {
		p.Error = msg
		s.refuseForm(w, r, domain, createPath(domain), userStatus(err), p, f)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	done := "Profile created."
	if !created {
		done = "Profile created. (The form was sent more than once; one profile was made.)"
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+id, done), http.StatusSeeOther)
}

// formToken returns a one-time token for the create form of a domain: when
// it was made, a nonce (the token CreateProfileOnce records) and their
// signature for the caller and the domain.
func (s *Server) formToken(r *http.Request, domain string) string {
	issued, nonce := strconv.FormatInt(s.Now().Unix(), 10), newNonce()
	return issued + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(s.formTokenMAC(r, domain, issued, nonce))
}

// formTokenNonce returns the nonce of a form token that this console made
// for the caller and the domain less than profiles.FormTokenTTL ago (its
// record is kept at least that long), or "".
func (s *Server) formTokenNonce(r *http.Request, domain, token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	issued, err := strconv.ParseInt(parts[0], 10, 64)
	sig, serr := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || serr != nil || !hmac.Equal(sig, s.formTokenMAC(r, domain, parts[0], parts[1])) ||
		s.Now().Sub(time.Unix(issued, 0)) >= profiles.FormTokenTTL {
		return ""
	}
	return parts[1]
}

func (s *Server) formTokenMAC(r *http.Request, domain, issued, nonce string) []byte {
	principal := ""
	if sess := sessionOf(r); sess != nil {
		principal = sess.Principal
	}
	return s.mac("create-form", principal, domain, issued, nonce)[:16]
}

func (s *Server) editProfile(w http.ResponseWriter, r *http.Request) {
	domain, id := r.PathValue("domain"), r.PathValue("id")
	if err := s.allowDataFor(r, domain, "profile:UpdateProfile", "profile:SearchProfiles"); err != nil {
		s.fail(w, r, err)
		return
	}
	prof, err := s.findProfile(r, domain, id)
	if err != nil {
		if into := s.mergedAway(r, domain, id); into != "" && profiles.ErrorCode(err) == profiles.ENOTFOUND {
			http.Redirect(w, r, s.withDone(r, editPath(domain, into), "Profile "+id+" was merged into this one: this form edits it."), http.StatusSeeOther)
			return
		}
		s.fail(w, r, err)
		return
	}
	p := &page{Title: "Edit " + displayName(prof) + " — " + domain, Nav: "workspace", Domain: domain, Data: formOf(prof)}
	d, notice := s.refusedForm(r, domain, editPath(domain, id))
	if d != nil && d.Form.ID == id {
		p.Error, p.Data = d.Error, d.Form
		s.render(w, r, d.Status, "profileform", p)
		return
	}
	p.Error = notice
	s.render(w, r, http.StatusOK, "profileform", p)
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) {
	domain, id := r.PathValue("domain"), r.PathValue("id")
	if err := s.allowDataFor(r, domain, "profile:UpdateProfile", "profile:SearchProfiles"); err != nil {
		s.fail(w, r, err)
		return
	}
	old, err := s.findProfile(r, domain, id)
	// Merged into another while the agent edited it: the form goes to
	// that profile, for the agent to check there before saving.
	merged := ""
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		if merged = s.mergedAway(r, domain, id); merged != "" {
			old, err = s.findProfile(r, domain, merged)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The values the form was shown with; a form without them is compared
	// with the profile as it is now.
	base := shown(old)
	if o := r.PostForm.Get("orig"); o != "" {
		var m map[string]string
		if json.Unmarshal([]byte(o), &m) == nil && m != nil {
			base = m
		}
	}
	f, fields := readForm(r, base, s.Now())
	f.ID, f.Orig = old.ID, encodeOrig(base)
	// What the form shows and keeps as it is, on the page of a refusal too.
	kept := formOf(old)
	f.Kept, f.OtherAddresses = kept.Kept, kept.OtherAddresses
	p := &page{Title: "Edit " + displayName(old) + " — " + domain, Nav: "workspace", Domain: domain, Data: f}
	if merged != "" {
		conflicts := map[string]bool{}
		for k, v := range fields {
			if v != base[k] && old.Fields[k] != v && old.Fields[k] != base[k] {
				conflicts[k] = true
			}
		}
		s.renderConflict(w, r, p, f, old, base, fields, conflicts, "The profile was not saved: profile "+id+
			" was merged into this one while you were editing it. The form now edits this profile: the fields you changed "+
			"hold your values (those marked below differ here), the others show this profile. Check them, then save.")
		return
	}
	if len(f.Errors) > 0 {
		p.Error = "The profile was not saved: correct the fields marked below."
		s.refuseForm(w, r, domain, editPath(domain, id), http.StatusBadRequest, p, f)
		return
	}
	// Only what the agent changed is saved: a field another agent changed
	// meanwhile and this one left alone keeps the other's value. A field
	// both changed, to different values, is shown to the agent first.
	changes, conflicts := map[string]string{}, map[string]bool{}
	for k, v := range fields {
		if v == base[k] || old.Fields[k] == v {
			continue
		}
		if old.Fields[k] != base[k] {
			conflicts[k] = true
		}
		changes[k] = v
	}
	if len(conflicts) > 0 {
		s.renderConflict(w, r, p, f, old, base, fields, conflicts, "")
		return
	}
	if len(changes) > 0 {
		_, err = s.Profiles.UpdateProfile(r.Context(), domain, id, changes)
		if msg, ok := userError(err); ok {
			p.Error = msg
			s.refuseForm(w, r, domain, editPath(domain, id), http.StatusBadRequest, p, f)
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, s.withDone(r, Prefix+"domains/"+url.PathEscape(domain)+"/profiles/"+id, "Profile saved."), http.StatusSeeOther)
}

// renderConflict shows the edit form again (refuseForm) when another agent
// changed, while this one was editing, fields this one changed too: those
// keep the agent's value with the other's beside them; every other field
// shows the profile as it is now. Saving again replaces the other's values.
//
// msg is the page's error; "" says another agent changed the profile.
func (s *Server) renderConflict(w http.ResponseWriter, r *http.Request, p *page, f *profileForm, old *profiles.Profile,
	base, fields map[string]string, conflicts map[string]bool, msg string) {
	now, cur := formOf(old), shown(old)
	f.Orig, f.Kept, f.OtherAddresses = now.Orig, now.Kept, now.OtherAddresses
	for k := range f.Values {
		if fields[k] == base[k] {
			f.Values[k] = cur[k] // left alone by the agent: as it is now
		}
	}
	// The attributes as they are now, with the agent's changes on top.
	attrs := map[string]string{}
	for k, v := range cur {
		if name, ok := strings.CutPrefix(k, "Attributes."); ok {
			attrs[name] = v
		}
	}
	var theirs []string
	for k, v := range fields {
		name, ok := strings.CutPrefix(k, "Attributes.")
		if !ok || v == base[k] {
			continue
		}
		if v == "" {
			delete(attrs, name)
		} else {
			attrs[name] = v
		}
		if conflicts[k] {
			theirs = append(theirs, name+" (now “"+old.Fields[k]+"”)")
		}
	}
	lines := make([]string, 0, len(attrs))
	for name, v := range attrs {
		lines = append(lines, name+"="+v)
	}
	sort.Strings(lines)
	sort.Strings(theirs)
	f.Attributes = strings.Join(lines, "\n")
	for k := range conflicts {
		if _, ok := f.Values[k]; !ok {
			continue
		}
		if old.Fields[k] == "" {
			f.Errors[k] = "Cleared by someone else meanwhile; yours is below."
		} else {
			f.Errors[k] = "Changed by someone else meanwhile to “" + old.Fields[k] + "”; yours is below."
		}
	}
	if len(theirs) > 0 {
		f.Errors["attributes"] = "Changed by someone else meanwhile: " + strings.Join(theirs, ", ") + "; yours are below."
	}
	p.Error = msg
	if msg == "" {
		p.Error = "The profile was not saved: someone else changed it while you were editing. The fields marked below hold your " +
			"values; the others show the profile as it is now. Save again to keep yours."
	}
	s.refuseForm(w, r, p.Domain, editPath(p.Domain, f.ID), http.StatusConflict, p, f)
}
