package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
)

// benchConsole loads n profiles into domain "calls" and returns a signed-in
// console client.
func benchConsole(b *testing.B, n int) (base string, hc *http.Client, ids []string) {
	m := MustRunMain(b)
	ctx := b.Context()
	if _, err := MustClient(b, m).CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("calls"),
		DefaultExpirationDays: aws.Int32(30)}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		p, err := m.Service.CreateProfile(ctx, "calls", map[string]string{"FirstName": "Caller", "LastName": fmt.Sprint(i),
			"PhoneNumber": fmt.Sprintf("+1206555%04d", i), "EmailAddress": fmt.Sprintf("caller%d@example.com", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return m.URL(), mustConsoleSession(b, m.URL(), testKeyID, testSecret), ids
}

func mustPage(b *testing.B, hc *http.Client, u, want string) {
	r, err := hc.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		b.Fatalf("GET %s: %d, no %q", u, r.StatusCode, want)
	}
}

// BenchmarkConsole_SearchByPhone measures what an agent waits for during a
// call: the search page for a phone number typed differently from the
// stored one, among 10,000 profiles (session check, authorisation with
// kms:Decrypt, search, render).
func BenchmarkConsole_SearchByPhone(b *testing.B) {
	base, hc, _ := benchConsole(b, 10000)
	i := 0
	for b.Loop() {
		n := i % 10000
		i++
		q := url.QueryEscape(fmt.Sprintf("(206) 555-%04d", n))
		mustPage(b, hc, base+"/console/domains/calls/profiles?q="+q, "1 result")
	}
}

// BenchmarkConsole_ProfilePage measures opening a profile from the results.
func BenchmarkConsole_ProfilePage(b *testing.B) {
	base, hc, ids := benchConsole(b, 10000)
	i := 0
	for b.Loop() {
		id := ids[i%len(ids)]
		i++
		mustPage(b, hc, base+"/console/domains/calls/profiles/"+id, id)
	}
}
