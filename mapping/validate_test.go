package mapping_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

// key is shorthand for a one-definition key.
func key(ids []string, fieldNames ...string) []profiles.ObjectTypeKey {
	return []profiles.ObjectTypeKey{{StandardIdentifiers: ids, FieldNames: fieldNames}}
}

var (
	uniqueProfile = []string{"UNIQUE", "PROFILE"}
	uniqueOnly    = []string{"UNIQUE"}
	profileOnly   = []string{"PROFILE"}
)

// validType returns a small valid type that tests modify.
func validType() *profiles.ObjectType {
	return &profiles.ObjectType{
		Name: "Contact",
		Fields: map[string]profiles.ObjectTypeField{
			"id":    {Source: "_source.id"},
			"email": {Source: "_source.email", Target: "_profile.EmailAddress", ContentType: profiles.ContentEmail},
			"first": {Source: "_source.name.first", Target: "_profile.FirstName", ContentType: profiles.ContentName},
		},
		Keys: map[string][]profiles.ObjectTypeKey{
			"contactId": key(uniqueOnly, "id"),
			"_email":    key(profileOnly, "email"),
		},
	}
}

func TestValidate_OK(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*profiles.ObjectType)
	}{
		{"Small", func(*profiles.ObjectType) {}},
		{"UniqueAlsoProfile", func(ot *profiles.ObjectType) {
			ot.Keys = map[string][]profiles.ObjectTypeKey{"contactId": key(uniqueProfile, "id")}
		}},
		{"TicketExample", func(ot *profiles.ObjectType) {
			ot.Fields["created"] = profiles.ObjectTypeField{Source: "_source.createdAt"}
			ot.Keys = map[string][]profiles.ObjectTypeKey{
				"_email":       key([]string{"PROFILE", "LOOKUP_ONLY"}, "email"),
				"ticketEmail":  key([]string{"PROFILE", "SECONDARY", "NEW_ONLY"}, "email"),
				"uniqueTicket": key(uniqueOnly, "email", "created"),
			}
		}},
		{"AssetTie", func(ot *profiles.ObjectType) {
			ot.Keys = map[string][]profiles.ObjectTypeKey{"contactId": key(uniqueOnly, "id"), "_assetId": key([]string{"ASSET"}, "email")}
		}},
		{"CaseTie", func(ot *profiles.ObjectType) {
			ot.Keys = map[string][]profiles.ObjectTypeKey{"contactId": key([]string{"UNIQUE", "CASE"}, "id")}
		}},
		{"OrderTie", func(ot *profiles.ObjectType) {
			ot.Keys = map[string][]profiles.ObjectTypeKey{"contactId": key(uniqueOnly, "id"), "o": key([]string{"ORDER"}, "id")}
		}},
		{"KeyWithSeveralDefinitions", func(ot *profiles.ObjectType) {
			ot.Fields["alt"] = profiles.ObjectTypeField{Source: "_source.emails.1", ContentType: profiles.ContentEmail}
			ot.Keys["_email"] = append(ot.Keys["_email"], profiles.ObjectTypeKey{StandardIdentifiers: []string{"PROFILE", "SECONDARY"}, FieldNames: []string{"alt"}})
		}},
		{"OtherStandardIdentifiers", func(ot *profiles.ObjectType) {
			ot.Keys["loyalty"] = key([]string{"LOYALTY", "LOYALTY_TRANSACTION", "LOYALTY_PROMOTION", "DEVICE", "WEB_ANALYTICS",
				"COMMUNICATION_RECORD", "AIR_PREFERENCE", "HOTEL_PREFERENCE", "AIR_BOOKING", "AIR_SEGMENT",
				"HOTEL_RESERVATION", "HOTEL_STAY_REVENUE"}, "id")
		}},
		{"KeyWithoutIdentifiers", func(ot *profiles.ObjectType) { ot.Keys["plain"] = key(nil, "first") }},
		{"TenKeys", func(ot *profiles.ObjectType) {
			for i := range 8 {
				ot.Keys[fmt.Sprintf("k%d", i)] = key(profileOnly, "first")
			}
		}},
		{"Templates", func(ot *profiles.ObjectType) {
			ot.Fields["full"] = profiles.ObjectTypeField{Source: "{{_source.name.first}} {{ _source.name.last }}", Target: "_profile.Attributes.fullName", ContentType: profiles.ContentName}
			ot.Fields["triple"] = profiles.ObjectTypeField{Source: "id-{{{_source.id}}}"}
			ot.Fields["arr"] = profiles.ObjectTypeField{Source: "_source.emails.0"}
		}},
		{"AllTargets", func(ot *profiles.ObjectType) {
			for _, f := range profiles.StandardFields {
				ot.Fields["s"+f] = profiles.ObjectTypeField{Source: "_source." + f, Target: "_profile." + f}
			}
			for _, k := range profiles.AddressKinds {
				for _, f := range profiles.AddressFields {
					ot.Fields[k+f] = profiles.ObjectTypeField{Source: "_source." + k + "." + f, Target: "_profile." + k + "." + f}
				}
			}
			for _, a := range []string{"tier", "loyalty.level", "sfdc:AccountId", "a-b_c", "ÄÖÜ", strings.Repeat("a", 255)} {
				ot.Fields["attr"+fmt.Sprint(len(ot.Fields))] = profiles.ObjectTypeField{Source: "_source.x", Target: "_profile.Attributes." + a}
			}
		}},
		{"AllContentTypes", func(ot *profiles.ObjectType) {
			for _, ct := range []string{"", "STRING", "NUMBER", "PHONE_NUMBER", "EMAIL_ADDRESS", "NAME"} {
				ot.Fields["ct"+ct] = profiles.ObjectTypeField{Source: "_source.v", ContentType: ct}
			}
		}},
		{"FieldNameWithDotAndDash", func(ot *profiles.ObjectType) { ot.Fields["a.b-c_d"] = profiles.ObjectTypeField{Source: "_source.a"} }},
		{"TimestampFormat", func(ot *profiles.ObjectType) {
			ot.Fields["_sourceLastUpdatedTimestamp"] = profiles.ObjectTypeField{Source: "_source.updated"}
			ot.SourceLastUpdatedTimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
		}},
		{"ReservedTypeNameIgnored", func(ot *profiles.ObjectType) { ot.Name = "_asset" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ot := validType()
			tt.modify(ot)
			if err := mapping.Validate(ot); err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
		})
	}
}

func TestValidate_Invalid(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*profiles.ObjectType)
		want   string // the message contains it
	}{
		{"NoFields", func(ot *profiles.ObjectType) { ot.Fields = nil }, "Fields must define at least one field"},
		{"FieldNameSpace", func(ot *profiles.ObjectType) { ot.Fields["first name"] = profiles.ObjectTypeField{Source: "_source.a"} }, `Field name "first name"`},
		{"FieldNameTooLong", func(ot *profiles.ObjectType) {
			ot.Fields[strings.Repeat("f", 65)] = profiles.ObjectTypeField{Source: "_source.a"}
		}, `Field name "fffff`},

		{"UnknownTarget", func(ot *profiles.ObjectType) { setTarget(ot, "email", "_profile.Emial") },
			`Field "email": target "_profile.Emial" is not a profile field`},
		{"TargetWrongCase", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.firstName") },
			`Field "first": target "_profile.firstName" is not a profile field (did you mean "_profile.FirstName"?)`},
		{"TargetNotProfile", func(ot *profiles.ObjectType) { setTarget(ot, "first", "profile.FirstName") },
			`Field "first": target "profile.FirstName" is not a profile field`},
		{"TargetBadAddressPart", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.Address.Street") },
			`Field "first": target "_profile.Address.Street" is not a profile field`},
		{"TargetAddressWhole", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.ShippingAddress") },
			`target "_profile.ShippingAddress" is not a profile field`},
		{"TargetAttributesNoName", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.Attributes") },
			`Field "first": target "_profile.Attributes" needs an attribute name`},
		{"TargetAttributesEmptyName", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.Attributes.") },
			`Field "first": target "_profile.Attributes.": the attribute name is empty`},
		{"TargetAttributesSpace", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.Attributes.my tier") },
			`Field "first": target "_profile.Attributes.my tier": the attribute name must not contain white space`},
		{"TargetAttributesTooLong", func(ot *profiles.ObjectType) {
			setTarget(ot, "first", "_profile.Attributes."+strings.Repeat("a", 256))
		}, `the attribute name is 256 characters long; the limit is 255`},
		{"TargetProfileIdNotMappable", func(ot *profiles.ObjectType) { setTarget(ot, "first", "_profile.ProfileId") },
			`target "_profile.ProfileId" is not a profile field`},

		{"SourceEmpty", func(ot *profiles.ObjectType) { setSource(ot, "first", "") }, `Field "first": source "" is empty`},
		{"SourceNotSource", func(ot *profiles.ObjectType) { setSource(ot, "first", "source.first") },
			`Field "first": source "source.first" must be a path such as _source.email`},
		{"SourceOtherRoot", func(ot *profiles.ObjectType) { setSource(ot, "first", "_profile.FirstName") },
			`Field "first": source "_profile.FirstName" must be a path`},
		{"SourcePlainText", func(ot *profiles.ObjectType) { setSource(ot, "first", "constant") },
			`Field "first": source "constant" must be a path`},
		{"SourceRootOnly", func(ot *profiles.ObjectType) { setSource(ot, "first", "_source") },
			`Field "first": source "_source" must name a value inside _source`},
		{"SourceEmptySegment", func(ot *profiles.ObjectType) { setSource(ot, "first", "_source.name..first") },
			`Field "first": source "_source.name..first" has an empty path segment`},
		{"SourceTrailingDot", func(ot *profiles.ObjectType) { setSource(ot, "first", "_source.name.") },
			`source "_source.name." has an empty path segment`},
		{"SourceSingleBrace", func(ot *profiles.ObjectType) { setSource(ot, "first", "_source.{name") },
			`source "_source.{name" has unbalanced braces`},
		{"TemplateOtherRoot", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_profile.FirstName}}") },
			`Field "first": source "{{_profile.FirstName}}" has placeholder "{{_profile.FirstName}}": only _source may be referenced`},
		{"TemplateBareName", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{first}} {{_source.last}}") },
			`placeholder "{{first}}": only _source may be referenced`},
		{"TemplateUnclosed", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_source.first} {{_source.last}}") },
			`has unbalanced braces`},
		{"TemplateNeverClosed", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_source.first") },
			`source "{{_source.first" has unbalanced braces: "{{" at offset 0 is never closed`},
		{"TemplateStrayClose", func(ot *profiles.ObjectType) { setSource(ot, "first", "_source.first}}") },
			`has unbalanced braces: "}}" at offset 13 closes nothing`},
		{"TemplateExtraBrace", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_source.first}}}") },
			`has unbalanced braces in "}"`},
		{"TemplateEmptySegment", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_source.a..b}}") },
			`has placeholder "{{_source.a..b}}" that has an empty path segment`},
		{"TemplateRootOnly", func(ot *profiles.ObjectType) { setSource(ot, "first", "{{_source}}") },
			`placeholder "{{_source}}" that must name a value inside _source`},

		{"ContentTypeUnknown", func(ot *profiles.ObjectType) { setContentType(ot, "email", "EMAIL") },
			`Field "email": content type "EMAIL" is not one of STRING, NUMBER, PHONE_NUMBER, EMAIL_ADDRESS, NAME`},
		{"ContentTypeLowerCase", func(ot *profiles.ObjectType) { setContentType(ot, "email", "email_address") },
			`Field "email": content type "email_address"`},

		{"FormatUnsupportedLetter", func(ot *profiles.ObjectType) { ot.SourceLastUpdatedTimestampFormat = "yyyy-'W'ww" },
			`SourceLastUpdatedTimestampFormat "yyyy-'W'ww": the pattern letter 'w' is not supported`},

		{"KeyFieldMissing", func(ot *profiles.ObjectType) { ot.Keys["_phone"] = key(profileOnly, "phone") },
			`Key "_phone": field "phone" is not in Fields`},
		{"KeyNoFieldNames", func(ot *profiles.ObjectType) { ot.Keys["_phone"] = key(profileOnly) },
			`Key "_phone" has no FieldNames`},
		{"KeyNoFieldNamesSecondDefinition", func(ot *profiles.ObjectType) {
			ot.Keys["_email"] = append(ot.Keys["_email"], profiles.ObjectTypeKey{StandardIdentifiers: profileOnly})
		}, `Key "_email" (definition 2) has no FieldNames`},
		{"KeyNoDefinition", func(ot *profiles.ObjectType) { ot.Keys["_phone"] = nil }, `Key "_phone" has no definition`},
		{"KeyNameBad", func(ot *profiles.ObjectType) { ot.Keys["my.key"] = key(profileOnly, "email") }, `Key name "my.key"`},
		{"UnknownIdentifier", func(ot *profiles.ObjectType) { ot.Keys["_email"] = key([]string{"PROFILES"}, "email") },
			`Key "_email": "PROFILES" is not a standard identifier`},
		{"IdentifierLowerCase", func(ot *profiles.ObjectType) { ot.Keys["_email"] = key([]string{"profile"}, "email") },
			`Key "_email": "profile" is not a standard identifier`},
		{"UniqueWithLookupOnly", func(ot *profiles.ObjectType) {
			ot.Keys["contactId"] = key([]string{"UNIQUE", "LOOKUP_ONLY", "PROFILE"}, "id")
		}, `Key "contactId": UNIQUE cannot be combined with LOOKUP_ONLY`},
		{"NoUnique", func(ot *profiles.ObjectType) { delete(ot.Keys, "contactId") },
			`Exactly one key must have the UNIQUE identifier; found 0`},
		{"NoKeys", func(ot *profiles.ObjectType) { ot.Keys = nil },
			`Exactly one key must have the UNIQUE identifier; found 0`},
		{"TwoUnique", func(ot *profiles.ObjectType) {
			ot.Keys["b"] = key(uniqueOnly, "first")
			ot.Keys["a"] = key(uniqueOnly, "email")
		}, `Exactly one key must have the UNIQUE identifier; found 3: a, b, contactId`},
		{"UniqueTwoDefinitions", func(ot *profiles.ObjectType) {
			ot.Keys["contactId"] = append(ot.Keys["contactId"], profiles.ObjectTypeKey{StandardIdentifiers: uniqueOnly, FieldNames: []string{"email"}})
		}, `Key "contactId" has the UNIQUE identifier, so it must have exactly one definition; found 2`},
		{"TooManyKeys", func(ot *profiles.ObjectType) {
			for i := range 9 {
				ot.Keys[fmt.Sprintf("k%d", i)] = key(profileOnly, "first")
			}
		}, `The object type has 11 keys; the limit is 10`},
		{"NoTie", func(ot *profiles.ObjectType) { ot.Keys["_email"] = key([]string{"SECONDARY", "NEW_ONLY"}, "email") },
			`At least one key must tie the object to a profile (PROFILE), an asset (ASSET), a case (CASE) or an order (ORDER); key "contactId" has UNIQUE only`},
		{"NoTieUniqueOnly", func(ot *profiles.ObjectType) { delete(ot.Keys, "_email") },
			`At least one key must tie the object to a profile`},
		{"NoTieOtherStandardRecord", func(ot *profiles.ObjectType) { ot.Keys["_email"] = key([]string{"LOYALTY"}, "email") },
			`At least one key must tie the object to a profile`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ot := validType()
			tt.modify(ot)
			err := mapping.Validate(ot)
			if got, want := profiles.ErrorCode(err), profiles.EINVALID; got != want {
				t.Fatalf("Validate code = %q (%v), want %q", got, err, want)
			}
			if got := profiles.ErrorMessage(err); !strings.Contains(got, tt.want) {
				t.Errorf("Validate message = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func setTarget(ot *profiles.ObjectType, field, target string) {
	f := ot.Fields[field]
	f.Target = target
	ot.Fields[field] = f
}

func setSource(ot *profiles.ObjectType, field, source string) {
	f := ot.Fields[field]
	f.Source = source
	ot.Fields[field] = f
}

func setContentType(ot *profiles.ObjectType, field, ct string) {
	f := ot.Fields[field]
	f.ContentType = ct
	ot.Fields[field] = f
}
