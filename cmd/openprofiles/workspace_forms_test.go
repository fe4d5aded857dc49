package main_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestWorkspace_ContactHistoryIncomplete: when a later page of a
// contact-record type's objects cannot be read, the profile page shows the
// contacts read before it, and says the history is incomplete.
func TestWorkspace_ContactHistoryIncomplete(t *testing.T) {
	e := newContactEnv(t)
	e.createDomain("sales", "")
	east := e.createInstance("east")
	if err := e.associate("sales", east.Arn); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	var records []string
	for i := range 110 {
		records = append(records, ctr(east.Arn, fmt.Sprintf("c-%03d", i), "+12065550100", now.Add(-time.Duration(200-i)*time.Hour)))
	}
	e.mustPost(east.Id, records...)
	ids := e.profilesOf("sales", "_phone", "+12065550100")
	if len(ids) != 1 {
		t.Fatalf("profiles of the caller: %v", ids)
	}
	// The record ingested first is read last (the second page): its
	// sealed envelope (version 1, then chunks) is damaged, so that page
	// cannot be read.
	mustRawExec(t, e.m, `UPDATE objects SET data = ? WHERE domain = 'sales' AND object_type = 'CTR' AND unique_key =
		(SELECT unique_key FROM objects WHERE domain = 'sales' AND object_type = 'CTR' ORDER BY updated_at, unique_key LIMIT 1)`, append([]byte{1}, "damaged"...))

	b := mustBrowser(t, e.m)
	b.signIn(testKeyID, testSecret)
	b.open("/console/domains/sales/profiles/" + ids[0])
	if n := b.count("#contact-history li"); n != 100 {
		t.Errorf("%d contacts shown, want the first page's 100", n)
	}
	b.mustContain("#contacts-incomplete", "incomplete", "those read are shown")
	b.mustContain("#contact-history li:first-child", "c-109")
	b.shot("workspace-history-incomplete")
}
