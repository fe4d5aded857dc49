package awsapi

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerProfileHandlers() {
	s.handlers["SearchProfiles"] = s.searchProfiles
	s.handlers["CreateProfile"] = s.createProfile
	s.handlers["UpdateProfile"] = s.updateProfile
	s.handlers["DeleteProfile"] = s.deleteProfile
	s.handlers["BatchGetProfile"] = s.batchGetProfile
	s.handlers["AddProfileKey"] = s.addProfileKey
	s.handlers["DeleteProfileKey"] = s.deleteProfileKey
	s.handlers["ListProfileAttributeValues"] = s.listProfileAttributeValues
	s.handlers["MergeProfiles"] = s.mergeProfiles
	s.handlers["ListProfileHistoryRecords"] = s.listProfileHistoryRecords
	s.handlers["GetProfileHistoryRecord"] = s.getProfileHistoryRecord
}

func (s *Server) createProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateProfile(c)
	if err != nil {
		return nil, err
	}
	domain := *in.DomainName
	in.DomainName = nil
	fields, err := flatten(in)
	if err != nil {
		return nil, err
	}
	p, err := s.Profiles.CreateProfile(ctx, domain, fields)
	if err != nil {
		return nil, err
	}
	return &CreateProfileResponse{ProfileId: &p.ID}, nil
}

func (s *Server) updateProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateProfile(c)
	if err != nil {
		return nil, err
	}
	domain, id := *in.DomainName, *in.ProfileId
	in.DomainName, in.ProfileId = nil, nil
	changes, err := flatten(in)
	if err != nil {
		return nil, err
	}
	p, err := s.Profiles.UpdateProfile(ctx, domain, id, changes)
	if err != nil {
		return nil, err
	}
	return &UpdateProfileResponse{ProfileId: &p.ID}, nil
}

func (s *Server) deleteProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteProfile(c)
	if err != nil {
		return nil, err
	}
	if err := s.Profiles.DeleteProfile(ctx, *in.DomainName, *in.ProfileId); err != nil {
		return nil, err
	}
	msg := "Profile " + *in.ProfileId + " has been deleted."
	return &DeleteProfileResponse{Message: &msg}, nil
}

func (s *Server) batchGetProfile(ctx context.Context, c *call) (any, error) {
	in, err := bindBatchGetProfile(c)
	if err != nil {
		return nil, err
	}
	found, missing, err := s.Profiles.BatchGetProfiles(ctx, *in.DomainName, in.ProfileIds)
	if err != nil {
		return nil, err
	}
	out := &BatchGetProfileResponse{Profiles: []Profile{}, Errors: []BatchGetProfileError{}}
	for _, p := range found {
		out.Profiles = append(out.Profiles, *profileToWire(p))
	}
	for _, id := range missing {
		code, msg := "ResourceNotFoundException", "Profile "+id+" not found."
		out.Errors = append(out.Errors, BatchGetProfileError{ProfileId: &id, Code: &code, Message: &msg})
	}
	return out, nil
}

func (s *Server) addProfileKey(ctx context.Context, c *call) (any, error) {
	in, err := bindAddProfileKey(c)
	if err != nil {
		return nil, err
	}
	if err := s.Profiles.AddProfileKey(ctx, *in.DomainName, *in.ProfileId, *in.KeyName, in.Values); err != nil {
		return nil, err
	}
	return &AddProfileKeyResponse{KeyName: in.KeyName, Values: in.Values}, nil
}

func (s *Server) deleteProfileKey(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteProfileKey(c)
	if err != nil {
		return nil, err
	}
	if err := s.Profiles.DeleteProfileKey(ctx, *in.DomainName, *in.ProfileId, *in.KeyName, in.Values); err != nil {
		return nil, err
	}
	msg := "Key " + *in.KeyName + " has been removed from profile " + *in.ProfileId + "."
	return &DeleteProfileKeyResponse{Message: &msg}, nil
}

func (s *Server) listProfileAttributeValues(ctx context.Context, c *call) (any, error) {
	in, err := bindListProfileAttributeValues(c)
	if err != nil {
		return nil, err
	}
	values, err := s.Profiles.ListProfileAttributeValues(ctx, *in.DomainName, *in.AttributeName)
	if err != nil {
		return nil, err
	}
	status := 200
	out := &ProfileAttributeValuesResponse{DomainName: in.DomainName, AttributeName: in.AttributeName, Items: []AttributeValueItem{}, StatusCode: &status}
	for _, v := range values {
		out.Items = append(out.Items, AttributeValueItem{Value: &v})
	}
	return out, nil
}

func (s *Server) mergeProfiles(ctx context.Context, c *call) (any, error) {
	in, err := bindMergeProfiles(c)
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	if f := in.FieldSourceProfileIds; f != nil {
		attrs := f.Attributes
		f.Attributes = nil
		b, _ := json.Marshal(f)
		if err := json.Unmarshal(b, &sources); err != nil {
			return nil, err
		}
		for name, id := range attrs {
			sources["Attributes."+name] = id
		}
	}
	if err := s.Profiles.MergeProfiles(ctx, *in.DomainName, *in.MainProfileId, in.ProfileIdsToBeMerged, sources); err != nil {
		return nil, err
	}
	msg := "Profiles have been merged into " + *in.MainProfileId + "."
	return &MergeProfilesResponse{Message: &msg}, nil
}

func (s *Server) listProfileHistoryRecords(ctx context.Context, c *call) (any, error) {
	in, err := bindListProfileHistoryRecords(c)
	if err != nil {
		return nil, err
	}
	filter := profiles.HistoryQuery{ObjectTypeName: deref(in.ObjectTypeName), ActionType: deref(in.ActionType), PerformedBy: deref(in.PerformedBy)}
	recs, next, err := s.Profiles.ListProfileHistory(ctx, *in.DomainName, *in.ProfileId, filter, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListProfileHistoryRecordsResponse{ProfileHistoryRecords: []ProfileHistoryRecord{}, NextToken: optional(next)}
	for _, r := range recs {
		out.ProfileHistoryRecords = append(out.ProfileHistoryRecords, ProfileHistoryRecord{
			Id: &r.ID, ObjectTypeName: &r.ObjectTypeName, ActionType: &r.ActionType, PerformedBy: optional(r.PerformedBy),
			ProfileObjectUniqueKey: optional(r.ObjectKey), CreatedAt: NewTimestamp(r.CreatedAt), LastUpdatedAt: NewTimestamp(r.LastUpdatedAt),
		})
	}
	return out, nil
}

func (s *Server) getProfileHistoryRecord(ctx context.Context, c *call) (any, error) {
	in, err := bindGetProfileHistoryRecord(c)
	if err != nil {
		return nil, err
	}
	r, err := s.Profiles.GetProfileHistory(ctx, *in.DomainName, *in.ProfileId, *in.Id)
	if err != nil {
		return nil, err
	}
	// A record of an object holds it: one of a type with a key of its own
	// needs kms:Decrypt on that key too, as its objects do. A record with
	// no content (EXPIRED, or one whose object expired) holds nothing
	// sealed under that key, and needs no more than ListProfileHistoryRecords.
	if s.Authorizer != nil && r.ObjectTypeName != profiles.ProfileObjectTypeName && len(r.Content) > 0 {
		cond := s.conditionKeys(c)
		if err := s.allowTypeKeys(ctx, *in.DomainName, []string{r.ObjectTypeName}, func(action, resource string) error {
			return s.Authorizer.Authorize(ctx, &profiles.AuthRequest{Principal: c.principal, Action: action, Resource: resource,
				Context: cond, RequestID: c.requestID})
		}); err != nil {
			return nil, err
		}
	}
	return &GetProfileHistoryRecordResponse{
		Id: &r.ID, ObjectTypeName: &r.ObjectTypeName, ActionType: &r.ActionType, PerformedBy: optional(r.PerformedBy),
		ProfileObjectUniqueKey: optional(r.ObjectKey), CreatedAt: NewTimestamp(r.CreatedAt), LastUpdatedAt: NewTimestamp(r.LastUpdatedAt),
		Content: optional(string(r.Content)),
	}, nil
}

// flatten turns a Create/UpdateProfile request (path members cleared) into
// profile field paths: scalars by name, address parts as "Address.City",
// attributes as "Attributes.<name>", the engagement preferences as their
// JSON. A member sent empty stays, with "" (UpdateProfile removes it).
func flatten(in any) (map[string]string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for name, raw := range members {
		switch {
		case name == "EngagementPreferences":
			fields[name] = string(raw)
		case name == "Attributes" || slices.Contains(profiles.AddressKinds, name):
			var parts map[string]string
			if err := json.Unmarshal(raw, &parts); err != nil {
				return nil, err
			}
			for k, v := range parts {
				fields[name+"."+k] = v
			}
		default:
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			fields[name] = v
		}
	}
	return fields, nil
}

func (s *Server) searchProfiles(ctx context.Context, c *call) (any, error) {
	in, err := bindSearchProfiles(c)
	if err != nil {
		return nil, err
	}
	q := profiles.SearchQuery{Key: profiles.SearchKey{KeyName: *in.KeyName, Values: in.Values}, LogicalOperator: deref(in.LogicalOperator)}
	for _, k := range in.AdditionalSearchKeys {
		q.Additional = append(q.Additional, profiles.SearchKey{KeyName: deref(k.KeyName), Values: k.Values})
	}
	found, next, err := s.Search.SearchProfiles(ctx, *in.DomainName, q, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &SearchProfilesResponse{Items: []Profile{}, NextToken: optional(next)}
	for _, f := range found {
		p := profileToWire(f.Profile)
		for _, k := range f.FoundBy {
			p.FoundByItems = append(p.FoundByItems, FoundByKeyValue{KeyName: &k.KeyName, Values: k.Values})
		}
		out.Items = append(out.Items, *p)
	}
	return out, nil
}

// profileToWire turns a profile's flat fields into the API's Profile.
func profileToWire(p *profiles.Profile) *Profile {
	f := p.Fields
	out := &Profile{
		ProfileId:             &p.ID,
		AccountNumber:         optional(f["AccountNumber"]),
		AdditionalInformation: optional(f["AdditionalInformation"]),
		PartyType:             optional(f["PartyType"]),
		PartyTypeString:       optional(f["PartyTypeString"]),
		BusinessName:          optional(f["BusinessName"]),
		FirstName:             optional(f["FirstName"]),
		MiddleName:            optional(f["MiddleName"]),
		LastName:              optional(f["LastName"]),
		BirthDate:             optional(f["BirthDate"]),
		Gender:                optional(f["Gender"]),
		GenderString:          optional(f["GenderString"]),
		PhoneNumber:           optional(f["PhoneNumber"]),
		MobilePhoneNumber:     optional(f["MobilePhoneNumber"]),
		HomePhoneNumber:       optional(f["HomePhoneNumber"]),
		BusinessPhoneNumber:   optional(f["BusinessPhoneNumber"]),
		EmailAddress:          optional(f["EmailAddress"]),
		PersonalEmailAddress:  optional(f["PersonalEmailAddress"]),
		BusinessEmailAddress:  optional(f["BusinessEmailAddress"]),
		ProfileType:           optional(f["ProfileType"]),
		Address:               addressToWire(f, "Address"),
		ShippingAddress:       addressToWire(f, "ShippingAddress"),
		MailingAddress:        addressToWire(f, "MailingAddress"),
		BillingAddress:        addressToWire(f, "BillingAddress"),
	}
	if e := f["EngagementPreferences"]; e != "" {
		var prefs EngagementPreferences
		if json.Unmarshal([]byte(e), &prefs) == nil {
			out.EngagementPreferences = &prefs
		}
	}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "Attributes."); ok {
			if out.Attributes == nil {
				out.Attributes = map[string]string{}
			}
			out.Attributes[name] = v
		}
	}
	return out
}

func addressToWire(f map[string]string, kind string) *Address {
	a := &Address{
		Address1:   optional(f[kind+".Address1"]),
		Address2:   optional(f[kind+".Address2"]),
		Address3:   optional(f[kind+".Address3"]),
		Address4:   optional(f[kind+".Address4"]),
		City:       optional(f[kind+".City"]),
		County:     optional(f[kind+".County"]),
		State:      optional(f[kind+".State"]),
		Province:   optional(f[kind+".Province"]),
		Country:    optional(f[kind+".Country"]),
		PostalCode: optional(f[kind+".PostalCode"]),
	}
	if *a == (Address{}) {
		return nil
	}
	return a
}
