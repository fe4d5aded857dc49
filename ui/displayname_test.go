package ui

import (
	"strings"
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

// TestSearchResultNames renders the search results: the value that names a
// profile without a name is not repeated after it, even when it is stored
// with surrounding spaces (as CreateProfile keeps it); the other values
// are; names and values are shown as text, never as markup (html/template
// writes "+" as &#43;).
func TestSearchResultNames(t *testing.T) {
	for _, tt := range []struct {
		fields        map[string]string
		name, details string
	}{
		{map[string]string{"PhoneNumber": " +12065550100 ", "EmailAddress": "ann@example.com"}, "&#43;12065550100", "ann@example.com · found by _phone"},
		{map[string]string{"EmailAddress": "\tann@example.com", "AccountNumber": "A1"}, "ann@example.com", "account A1 · found by _phone"},
		{map[string]string{"AccountNumber": "A1 "}, "A1", "found by _phone"},
		{map[string]string{"FirstName": "<b>Ann</b>", "PhoneNumber": "+1<i>2</i>"}, "&lt;b&gt;Ann&lt;/b&gt;", "&#43;1&lt;i&gt;2&lt;/i&gt; · found by _phone"},
		{map[string]string{"PhoneNumber": "<script>alert(1)</script>"}, "&lt;script&gt;alert(1)&lt;/script&gt;", "found by _phone"},
	} {
		var b strings.Builder
		p := &profiles.Profile{ID: "0123456789abcdef0123456789abcdef", Fields: tt.fields}
		data := &searchData{Ran: true, Results: []*profiles.FoundProfile{{Profile: p, FoundBy: []profiles.SearchKey{{KeyName: "_phone"}}}}}
		if err := parsePages()["search"].ExecuteTemplate(&b, "content", &page{Domain: "d", Data: data}); err != nil {
			t.Fatal(err)
		}
		html := b.String()
		want := `/profiles/` + p.ID + `">` + tt.name + `</a>`
		if !strings.Contains(html, want) {
			t.Errorf("%v: the result's link, want %s, in:\n%s", tt.fields, want, html)
		}
		if want := `<span class="muted">` + tt.details + `</span>`; !strings.Contains(html, want) {
			t.Errorf("%v: the result's details, want %s, in:\n%s", tt.fields, want, html)
		}
	}
}
