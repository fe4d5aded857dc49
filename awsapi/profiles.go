package awsapi

import (
	"context"
	"strings"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerProfileHandlers() {
	s.handlers["SearchProfiles"] = s.searchProfiles
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
