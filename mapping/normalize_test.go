package mapping_test

import (
	"testing"

	"github.com/openprofiles/profiles"
	"github.com/openprofiles/profiles/mapping"
)

func TestNormalize(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, in, want string
	}{
		// PHONE_NUMBER: the six spellings of one North-American number.
		{"PhoneE164Punctuated", profiles.ContentPhone, "+1 (555) 123-4567", "+15551234567"},
		{"PhoneElevenDigits", profiles.ContentPhone, "15551234567", "+15551234567"},
		{"PhoneE164", profiles.ContentPhone, "+15551234567", "+15551234567"},
		{"PhoneParentheses", profiles.ContentPhone, "(555) 123-4567", "+15551234567"},
		{"PhoneDots", profiles.ContentPhone, "555.123.4567", "+15551234567"},
		{"PhoneDoubleZero", profiles.ContentPhone, "001 555 123 4567", "+15551234567"},
		{"PhoneDashes", profiles.ContentPhone, "(555)-123-4567", "+15551234567"},
		{"PhoneOneDashes", profiles.ContentPhone, "1-555-123-4567", "+15551234567"},
		{"PhoneTelURI", profiles.ContentPhone, "tel:+1-555-123-4567", "+15551234567"},
		{"PhoneSpaces", profiles.ContentPhone, "  555 123 4567  ", "+15551234567"},
		// International numbers keep their own country code.
		{"PhoneUK", profiles.ContentPhone, "+44 20 7946 0958", "+442079460958"},
		{"PhoneUKDoubleZero", profiles.ContentPhone, "0044 20 7946 0958", "+442079460958"},
		{"PhoneUKParenthesisedZero", profiles.ContentPhone, "+44 (0)20 7946 0958", "+442079460958"},
		{"PhoneParenthesisedZeroNational", profiles.ContentPhone, "(0)20 7946 0958", "+02079460958"},
		{"PhoneUKMobile", profiles.ContentPhone, "+44 7700 900123", "+447700900123"},
		{"PhoneFrance", profiles.ContentPhone, "+33 1 23 45 67 89", "+33123456789"},
		{"PhoneGermanyTenDigits", profiles.ContentPhone, "+49 89 1234567", "+49891234567"},
		{"PhoneGermanyTenDigitsDoubleZero", profiles.ContentPhone, "0049 89 1234567", "+49891234567"},
		{"PhoneNationalUK", profiles.ContentPhone, "020 7946 0958", "+02079460958"},
		// Ten digits are North-American only when the area code starts
		// with 2-9; others keep their digits as given.
		{"PhoneTenDigitsLeadingZero", profiles.ContentPhone, "06 12 34 56 78", "+0612345678"},
		{"PhoneTenDigitsLeadingOne", profiles.ContentPhone, "1234567890", "+1234567890"},
		{"PhoneTenDigitsAreaCode2", profiles.ContentPhone, "212 555 0100", "+12125550100"},
		// Extensions are dropped.
		{"PhoneExtX", profiles.ContentPhone, "555-123-4567 x123", "+15551234567"},
		{"PhoneExtXNoSpace", profiles.ContentPhone, "5551234567x123", "+15551234567"},
		{"PhoneExtUpperX", profiles.ContentPhone, "555-123-4567 X 9", "+15551234567"},
		{"PhoneExtDot", profiles.ContentPhone, "+1 555 123 4567 ext. 123", "+15551234567"},
		{"PhoneExtNoSpace", profiles.ContentPhone, "+1 555 123 4567 ext123", "+15551234567"},
		{"PhoneExtColon", profiles.ContentPhone, "555 123 4567 Ext: 12", "+15551234567"},
		{"PhoneExtension", profiles.ContentPhone, "555 123 4567 extension 12", "+15551234567"},
		{"PhoneExtHash", profiles.ContentPhone, "555-123-4567 #123", "+15551234567"},
		{"PhoneExtUK", profiles.ContentPhone, "+44 20 7946 0958 ext 204", "+442079460958"},
		{"PhoneTrailingSpaceAfterExt", profiles.ContentPhone, "555-123-4567 x123  ", "+15551234567"},
		// Garbage.
		{"PhoneEmpty", profiles.ContentPhone, "", ""},
		{"PhoneNoDigits", profiles.ContentPhone, "n/a", ""},
		{"PhoneOnlyPlus", profiles.ContentPhone, "+", ""},
		{"PhoneOnlyExtension", profiles.ContentPhone, "x123", "+123"},
		{"PhoneOnlyDoubleZero", profiles.ContentPhone, "00", ""},
		{"PhoneLettersIgnored", profiles.ContentPhone, "1-800-FLOWERS", "+1800"},
		{"PhoneShort", profiles.ContentPhone, "911", "+911"},
		{"PhoneNonASCIIDigits", profiles.ContentPhone, "５５５１２３４５６７", ""},

		{"EmailCase", profiles.ContentEmail, "Jane.Doe@Example.COM", "jane.doe@example.com"},
		{"EmailTrim", profiles.ContentEmail, "  jane@example.com\t", "jane@example.com"},
		{"EmailMailto", profiles.ContentEmail, "mailto:Jane@Example.com", "jane@example.com"},
		{"EmailMailtoUpper", profiles.ContentEmail, " MAILTO: jane@example.com ", "jane@example.com"},
		{"EmailEmpty", profiles.ContentEmail, "   ", ""},
		{"EmailNotAnAddress", profiles.ContentEmail, "Not An Email", ""},
		{"EmailPhoneNumber", profiles.ContentEmail, "+447700900123", ""},
		{"EmailNoDomain", profiles.ContentEmail, "bob@", ""},
		{"PhoneEmailWithDigits", profiles.ContentPhone, "dana.whitfield42@example.com", ""},

		{"NameCollapse", profiles.ContentName, "  Jane \t\n  DOE  ", "jane doe"},
		{"NameUnicode", profiles.ContentName, "ÉLODIE  Müller", "élodie müller"},
		{"NameEmpty", profiles.ContentName, " ", ""},
		// Unicode NFC: a combining accent is the precomposed letter.
		{"NameCombiningAccent", profiles.ContentName, "Jose\u0301 Garci\u0301a", "jos\u00e9 garc\u00eda"},
		{"NamePrecomposed", profiles.ContentName, "Jos\u00e9 Garc\u00eda", "jos\u00e9 garc\u00eda"},
		{"EmailCombiningAccent", profiles.ContentEmail, "Jose\u0301@example.com", "jos\u00e9@example.com"},
		{"StringCombiningAccent", profiles.ContentString, " Cafe\u0301 ", "Caf\u00e9"},

		{"NumberLeadingZero", profiles.ContentNumber, "042", "42"},
		{"NumberTrailingZero", profiles.ContentNumber, "1.50", "1.5"},
		{"NumberExponent", profiles.ContentNumber, "1e3", "1000"},
		{"NumberNegativeExponent", profiles.ContentNumber, "-1.5E-3", "-0.0015"},
		{"NumberPlus", profiles.ContentNumber, "+7", "7"},
		{"NumberNegativeZero", profiles.ContentNumber, "-0.000", "0"},
		{"NumberPointOnly", profiles.ContentNumber, ".5", "0.5"},
		{"NumberTrailingPoint", profiles.ContentNumber, "5.", "5"},
		{"NumberIntegerWithZeros", profiles.ContentNumber, "1200", "1200"},
		{"NumberBig", profiles.ContentNumber, "123456789012345678901234567890", "123456789012345678901234567890"},
		{"NumberTrim", profiles.ContentNumber, "  12.0 ", "12"},
		{"NumberThousands", profiles.ContentNumber, " 1,000 ", "1,000"},
		{"NumberHex", profiles.ContentNumber, "0x1F", "0x1F"},
		{"NumberNaN", profiles.ContentNumber, "NaN", "NaN"},
		{"NumberHugeExponent", profiles.ContentNumber, "1e5000", "1e5000"},
		{"NumberBadExponent", profiles.ContentNumber, "1e", "1e"},
		{"NumberTwoPoints", profiles.ContentNumber, "1.2.3", "1.2.3"},

		{"String", profiles.ContentString, "  Abc  Def ", "Abc  Def"},
		{"StringDefault", "", " Abc ", "Abc"},
		{"StringUnknownType", "WHATEVER", " Abc ", "Abc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapping.Normalize(tt.contentType, tt.in); got != tt.want {
				t.Errorf("Normalize(%q, %q) = %q, want %q", tt.contentType, tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	inputs := []string{"+1 (555) 123-4567", "001 555 123 4567", "+44 20 7946 0958 ext 204", "555.123.4567"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mapping.Normalize(profiles.ContentPhone, inputs[i%len(inputs)])
	}
}

func TestPhonePlaceholder(t *testing.T) {
	for _, tt := range []struct {
		phone string
		want  bool
	}{
		{"+0", true}, {"+911", true}, {"+10000000000", true}, {"+440000000000", true}, {"+4021", true},
		{"+15551234567", false}, {"+6834002", false}, {"+33100000000", false},
	} {
		if got := mapping.PhonePlaceholder(tt.phone); got != tt.want {
			t.Errorf("PhonePlaceholder(%q) = %v, want %v", tt.phone, got, tt.want)
		}
	}
}
