// Package templates holds the built-in object type templates of
// OpenProfiles: ready-made mappings, written by this project, for the record
// formats of common source systems (Amazon Connect contact records,
// Salesforce, Zendesk, ServiceNow, Marketo, Segment, Shopify).
//
// Each template is one JSON file under data/, named after its id and shaped
// like the API's GetProfileObjectTypeTemplate response. The files are
// embedded and parsed once; All and Get hand out deep copies, so callers may
// change what they get.
//
// # Keys
//
// Every template uses the predefined key names (_ctrContactId, _phone,
// _salesforceAccountId, …), so equal values ingested through different
// templates reach the same profile. The rules behind the choices:
//
//   - The record's own id is the UNIQUE key and, for person records, also a
//     PROFILE key: re-ingesting a record updates it on the same profile.
//   - Another system's id for the same person (Marketo's sfdcContactId,
//     Zendesk's external_id) is PROFILE+SECONDARY: consulted only when the
//     record's own id finds no profile.
//   - An id shared by many people (a Salesforce account id on a contact or a
//     lead) is indexed without identifiers: searchable, never used to pick a
//     profile, so the contacts of one account do not collapse into one
//     profile.
//   - Records of things (Salesforce-Asset, Zendesk-tickets,
//     ServiceNow-task, ServiceNow-incident, Shopify-Order,
//     Shopify-DraftOrder) carry ASSET, CASE or ORDER on their own id, a
//     PROFILE key on the customer's id in that system, and never create
//     profiles: an order is not evidence of a new customer, and unmatched
//     ones go to the dead-letter queue to be replayed after the customer
//     sync. Their other fields (a ticket's state, an order's total) have no
//     Target, since a case or an order changes no profile field; they name
//     the values for calculated attributes.
//   - A ServiceNow reference field ({"link": …, "value": …}) is read by its
//     value, the bare sys_id, which is what ServiceNow-sys_user indexes as
//     _serviceNowSystemId; the link is a URL ending in it and would match
//     no profile. An incident belongs to its caller (caller_id), a task to
//     whoever opened it (opened_by; the task table has no caller).
//   - A Shopify draft order may name no customer, only an email address
//     typed by the merchant: its email is a PROFILE+SECONDARY+LOOKUP_ONLY
//     _email key, which finds the profile holding that address when the
//     customer id finds none, but is not stored on it.
//
// # Contact records
//
// All three contact-record templates look up _ctrContactId first (an agent
// or flow may have put it on a profile with AddProfileKey while the contact
// was live), then the customer's phone (_phone) and email (_email) as
// SECONDARY keys:
//
//   - CTR: otherwise creates an inferred profile. This is the default, and
//     it is what makes every contact land on a profile found by phone
//     (voice) or email (email contacts). Unlike the AWS service's CTR
//     template, which never falls back to the phone number, ours does: in
//     OpenProfiles the default CTR therefore behaves like CTR-NoInferred.
//   - CTR-NoInferred: the same; creates an inferred profile when nothing
//     matches (as AWS documents it, despite the name).
//   - CTR-AutoAssociateOnly: never creates a profile; _phone and _email are
//     LOOKUP_ONLY, used to find the profile but not stored on it, so the
//     records only follow associations that already exist.
//
// A contact record keeps the customer's address in one place,
// CustomerEndpoint.Address: a phone number for voice contacts, an email
// address for email contacts, and the record has no other place for either.
// The templates read it twice, as customerPhone (PHONE_NUMBER, feeding
// _phone) and customerEmail (EMAIL_ADDRESS, feeding _email). This is only
// right if the mapping engine yields no value for a PHONE_NUMBER field that
// holds an email address (the digits of "dana42@example.com" are not a
// phone number) nor for an EMAIL_ADDRESS field without "@", and copies to
// an inferred profile's PhoneNumber and EmailAddress only values that pass
// those checks; the package's mapping tests pin that. Web chat records
// usually have no CustomerEndpoint at all; they match by contact id only
// unless the intake fills the endpoint in. No other contact metadata
// (channel, queue, agent) is mapped: contact records are kept as objects.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/openprofiles/profiles"
)

//go:embed data/*.json
var files embed.FS

// description returns the one-line description of a template's object
// type, or "" for an unknown id; a template without one fails to load.
func description(id string) string {
	switch id {
	case "CTR":
		return "Amazon Connect contact records: find the profile by contact id, then phone or email, else create an inferred profile"
	case "CTR-NoInferred":
		return "Amazon Connect contact records: auto-associate by contact id, then phone or email, else create an inferred profile"
	case "CTR-AutoAssociateOnly":
		return "Amazon Connect contact records: auto-associate by contact id, phone or email; never create a profile"
	case "Salesforce-Account":
		return "Salesforce Account records, including person accounts"
	case "Salesforce-Contact":
		return "Salesforce Contact records"
	case "Salesforce-Asset":
		return "Salesforce Asset records, attached to the contact's or account's profile"
	case "Zendesk-users":
		return "Zendesk users"
	case "Zendesk-tickets":
		return "Zendesk tickets, attached to the requester's profile"
	case "ServiceNow-sys_user":
		return "ServiceNow users (sys_user table)"
	case "ServiceNow-task":
		return "ServiceNow tasks, attached to the profile of the user who opened them"
	case "ServiceNow-incident":
		return "ServiceNow incidents, attached to the caller's profile"
	case "Marketo-leads":
		return "Marketo leads"
	case "Segment-Identify":
		return "Segment identify calls"
	case "Shopify-Customer":
		return "Shopify customers"
	case "Shopify-Order":
		return "Shopify orders, attached to the customer's profile"
	case "Shopify-DraftOrder":
		return "Shopify draft orders, attached to the customer's profile (found by customer id, else email)"
	}
	return ""
}

// All returns every built-in template, sorted by ID. Each call returns
// fresh copies.
func All() []*profiles.Template {
	all := load()
	out := make([]*profiles.Template, len(all))
	for i, t := range all {
		out[i] = clone(t)
	}
	return out
}

// Get returns the template with that id, or ok=false.
func Get(id string) (*profiles.Template, bool) {
	all := load()
	i, found := slices.BinarySearchFunc(all, id, func(t *profiles.Template, id string) int {
		return strings.Compare(t.ID, id)
	})
	if !found {
		return nil, false
	}
	return clone(all[i]), true
}

// load parses the embedded templates once. They are never handed out
// directly, only as clones.
var load = sync.OnceValue(func() []*profiles.Template {
	all, err := parseAll(files)
	if err != nil {
		// The files are compiled in and checked by the tests.
		panic(err)
	}
	return all
})

// parseAll parses every data/*.json file of fsys, sorted by template id.
func parseAll(fsys fs.FS) ([]*profiles.Template, error) {
	names, err := fs.Glob(fsys, "data/*.json")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	var all []*profiles.Template
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		t, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".json"); t.ID != want {
			return nil, fmt.Errorf("templates: %s: TemplateId %q does not match the file name", name, t.ID)
		}
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b *profiles.Template) int { return strings.Compare(a.ID, b.ID) })
	return all, nil
}

// file is the JSON shape of a template file.
type file struct {
	TemplateId                       string
	SourceName                       string
	SourceObject                     string
	AllowProfileCreation             bool
	SourceLastUpdatedTimestampFormat string
	Fields                           map[string]struct {
		Source      string
		Target      string
		ContentType string
	}
	Keys map[string][]struct {
		StandardIdentifiers []string
		FieldNames          []string
	}
}

// parse reads one template file. It checks the shape only; the rules of
// mappings are the tests' and the mapping engine's business.
func parse(b []byte) (*profiles.Template, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the template")
	}
	if f.TemplateId == "" {
		return nil, fmt.Errorf("TemplateId is empty")
	}
	desc := description(f.TemplateId)
	if desc == "" {
		return nil, fmt.Errorf("template %q has no description", f.TemplateId)
	}
	t := &profiles.Template{
		ID:           f.TemplateId,
		SourceName:   f.SourceName,
		SourceObject: f.SourceObject,
		ObjectType: profiles.ObjectType{
			Name:                             f.TemplateId,
			Description:                      desc,
			TemplateID:                       f.TemplateId,
			AllowProfileCreation:             f.AllowProfileCreation,
			SourceLastUpdatedTimestampFormat: f.SourceLastUpdatedTimestampFormat,
			Fields:                           make(map[string]profiles.ObjectTypeField, len(f.Fields)),
			Keys:                             make(map[string][]profiles.ObjectTypeKey, len(f.Keys)),
		},
	}
	for name, fd := range f.Fields {
		t.ObjectType.Fields[name] = profiles.ObjectTypeField{Source: fd.Source, Target: fd.Target, ContentType: fd.ContentType}
	}
	for name, defs := range f.Keys {
		keys := make([]profiles.ObjectTypeKey, len(defs))
		for i, d := range defs {
			keys[i] = profiles.ObjectTypeKey{
				StandardIdentifiers: nonNil(d.StandardIdentifiers),
				FieldNames:          nonNil(d.FieldNames),
			}
		}
		t.ObjectType.Keys[name] = keys
	}
	return t, nil
}

// clone returns a deep copy of t.
func clone(t *profiles.Template) *profiles.Template {
	c := *t
	c.ObjectType.Fields = maps.Clone(t.ObjectType.Fields)
	c.ObjectType.Keys = make(map[string][]profiles.ObjectTypeKey, len(t.ObjectType.Keys))
	for name, defs := range t.ObjectType.Keys {
		keys := make([]profiles.ObjectTypeKey, len(defs))
		for i, d := range defs {
			keys[i] = profiles.ObjectTypeKey{
				StandardIdentifiers: nonNil(slices.Clone(d.StandardIdentifiers)),
				FieldNames:          nonNil(slices.Clone(d.FieldNames)),
			}
		}
		c.ObjectType.Keys[name] = keys
	}
	c.ObjectType.Tags = maps.Clone(t.ObjectType.Tags)
	return &c
}

// nonNil returns s, or an empty slice for nil, so that a key's lists
// serialise as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
