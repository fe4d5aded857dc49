package ui

import (
	"testing"

	"github.com/openprofiles/profiles"
)

func TestDisplayName(t *testing.T) {
	for _, tt := range []struct {
		fields map[string]string
		want   string
	}{
		{map[string]string{"FirstName": "Zoë", "LastName": "Martin", "PhoneNumber": "+33612345678"}, "Zoë Martin"},
		{map[string]string{"BusinessName": "Acme", "EmailAddress": "a@example.com"}, "Acme"},
		{map[string]string{"PhoneNumber": "+33612345678", "EmailAddress": "zoe@example.com", "AccountNumber": "A1"}, "+33612345678"},
		{map[string]string{"MobilePhoneNumber": "+33700000000", "EmailAddress": "zoe@example.com"}, "+33700000000"},
		{map[string]string{"EmailAddress": "zoe@example.com", "AccountNumber": "A1"}, "zoe@example.com"},
		{map[string]string{"BusinessEmailAddress": "zoe@acme.example", "AccountNumber": "A1"}, "zoe@acme.example"},
		{map[string]string{"AccountNumber": "A1", "Attributes.x": "y"}, "A1"},
		{map[string]string{"FirstName": " ", "PhoneNumber": " "}, "Profile 0123456789abcdef0123456789abcdef"},
		{nil, "Profile 0123456789abcdef0123456789abcdef"},
	} {
		p := &profiles.Profile{ID: "0123456789abcdef0123456789abcdef", Fields: tt.fields}
		if got := displayName(p); got != tt.want {
			t.Errorf("displayName(%v) = %q, want %q", tt.fields, got, tt.want)
		}
	}
}
