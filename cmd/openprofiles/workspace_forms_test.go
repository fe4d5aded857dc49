package main_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/chromedp/chromedp"
)

// TestWorkspace_FieldErrorsDescribed: every input of the profile form
// with an error names its error text (aria-describedby), the address and
// attribute inputs as the others.
func TestWorkspace_FieldErrorsDescribed(t *testing.T) {
	m := MustRunMain(t)
	if _, err := MustClient(t, m).CreateDomain(t.Context(), &customerprofiles.CreateDomainInput{DomainName: aws.String("d"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	b := mustBrowser(t, m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/domains/d/profiles/new")
	b.fill("#FirstName", "Lea")
	b.fill("#EmailAddress", "lea.example.com")
	b.fill("#Address\\.City", strings.Repeat("c", 256)) // maxlength is the browser's; a crafted post is not
	b.fill("#attributes", "no equals sign")
	if r := b.click("#save"); r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", r.Status)
	}
	ctx, cancel := b.timeout()
	defer cancel()
	described, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("[aria-invalid=true]")].map(e =>
		[e.id, (document.getElementById(e.getAttribute("aria-describedby") || "") || {}).textContent || ""]))`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"EmailAddress": "name@example.com", "Address.City": "at most 255 characters", "attributes": "name=value"} {
		if got, ok := described[id]; !ok || !strings.Contains(got, want) {
			t.Errorf("#%s is described by %q, want its error (%q)", id, got, want)
		}
	}
	if len(described) != 3 {
		t.Errorf("invalid inputs %v, want 3", described)
	}
}
