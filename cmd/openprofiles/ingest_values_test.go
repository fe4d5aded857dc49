package main_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestIngest_EnumFields: an object type that targets Gender, PartyType and
// ProfileType writes a value of the enum in any case as the enum value,
// sends other text to GenderString and PartyTypeString, and refuses a
// ProfileType that is none of its values, naming the field and the value,
// as CreateProfile refuses it.
func TestIngest_EnumFields(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(&customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("person"), Description: aws.String("people"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":      field("_source.id", "", "STRING"),
			"email":   field("_source.email", "_profile.EmailAddress", "EMAIL_ADDRESS"),
			"gender":  field("_source.gender", "_profile.Gender", "STRING"),
			"party":   field("_source.party", "_profile.PartyType", "STRING"),
			"profile": field("_source.profile", "_profile.ProfileType", "STRING"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"personId": key([]string{"id"}, types.StandardIdentifierUnique),
			"_email":   key([]string{"email"}, types.StandardIdentifierProfile),
		},
	})
	e.mustPut("person", map[string]string{"id": "1", "email": "ann@example.com", "gender": "female", "party": "Business", "profile": "account_profile"})
	ann := e.mustOne("_email", "ann@example.com")
	if ann.Gender != types.GenderFemale || ann.PartyType != types.PartyTypeBusiness || ann.ProfileType != types.ProfileTypeAccountProfile ||
		ann.GenderString != nil || ann.PartyTypeString != nil {
		t.Errorf("Ann: Gender %q, PartyType %q, ProfileType %q, GenderString %v, PartyTypeString %v; want FEMALE, BUSINESS, ACCOUNT_PROFILE and no free text",
			ann.Gender, ann.PartyType, ann.ProfileType, aws.ToString(ann.GenderString), aws.ToString(ann.PartyTypeString))
	}

	e.mustPut("person", map[string]string{"id": "2", "email": "kim@example.com", "gender": "non-binary", "party": "Nonprofit"})
	kim := e.mustOne("_email", "kim@example.com")
	if kim.Gender != "" || kim.PartyType != "" || aws.ToString(kim.GenderString) != "non-binary" || aws.ToString(kim.PartyTypeString) != "Nonprofit" {
		t.Errorf("Kim: Gender %q, PartyType %q, GenderString %q, PartyTypeString %q; want the text in GenderString and PartyTypeString",
			kim.Gender, kim.PartyType, aws.ToString(kim.GenderString), aws.ToString(kim.PartyTypeString))
	}

	_, err := e.put("person", map[string]string{"id": "3", "email": "lou@example.com", "profile": "CUSTOMER"})
	wantAPIError(t, err, "BadRequestException", "ProfileType", `"CUSTOMER"`, "ACCOUNT_PROFILE, PROFILE")
	if ps := e.search("_email", "lou@example.com"); len(ps) != 0 {
		t.Errorf("the refused object made a profile: %+v", ps)
	}
}

// TestIngest_PhoneNotNorthAmerican: a ten-digit number whose first digit
// is 0 or 1 is no North-American number and gets no country code 1: it is
// found as written, not as +1 and its digits.
func TestIngest_PhoneNotNorthAmerican(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(contactType("contact"))
	e.mustPut("contact", map[string]string{"id": "c1", "phone": "06 12 34 56 78"})
	e.mustPut("contact", map[string]string{"id": "c2", "phone": "+1 212 555 0100"})
	if ps := e.search("_phone", "+1 061 234 5678"); len(ps) != 0 {
		t.Errorf("+1 061 234 5678 found %d profiles; 06 12 34 56 78 is not that number", len(ps))
	}
	if p := e.mustOne("_phone", "06.12.34.56.78"); aws.ToString(p.PhoneNumber) != "06 12 34 56 78" {
		t.Errorf("PhoneNumber %q", aws.ToString(p.PhoneNumber))
	}
	e.mustOne("_phone", "(212) 555-0100") // a North-American number still gets its 1
}

// TestIngest_NameKeyNFC: a NAME key written with a combining accent and
// with the precomposed letter is one key: the second object finds the
// first one's profile, and a search in either form finds it.
func TestIngest_NameKeyNFC(t *testing.T) {
	e := newIngestEnv(t)
	e.putType(&customerprofiles.PutProfileObjectTypeInput{
		ObjectTypeName: aws.String("guest"), Description: aws.String("guests"), AllowProfileCreation: true,
		Fields: map[string]types.ObjectTypeField{
			"id":   field("_source.id", "", "STRING"),
			"name": field("_source.name", "_profile.FirstName", "NAME"),
		},
		Keys: map[string][]types.ObjectTypeKey{
			"guestId":   key([]string{"id"}, types.StandardIdentifierUnique),
			"guestName": key([]string{"name"}, types.StandardIdentifierProfile),
		},
	})
	const decomposed, precomposed = "Jose\u0301", "Jos\u00e9"
	e.mustPut("guest", map[string]string{"id": "g1", "name": decomposed})
	e.mustPut("guest", map[string]string{"id": "g2", "name": precomposed})
	p := e.mustOne("guestName", precomposed)
	if q := e.mustOne("guestName", decomposed); aws.ToString(q.ProfileId) != aws.ToString(p.ProfileId) {
		t.Errorf("the two spellings find profiles %s and %s", aws.ToString(p.ProfileId), aws.ToString(q.ProfileId))
	}
	if objs := e.objects("guest", aws.ToString(p.ProfileId)); len(objs) != 2 {
		t.Errorf("the profile holds %d guest objects, want both", len(objs))
	}
}
