package main_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
	"github.com/openprofiles/profiles/connect"
)

// BenchmarkContactRecords measures the contact-records endpoint: each
// iteration posts a signed batch of 100 simulated records (JSON Lines) to
// an instance associated with a domain through the CTR template, with no
// ingestion rate limit. Profiles accumulate over the run, as they would.
func BenchmarkContactRecords(b *testing.B) {
	const batch = 100
	m := MustRunMain(b, func(c *main.Config) { c.IngestRate = 0 })
	client := MustClient(b, m)
	ctx := b.Context()
	if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("bench"), DefaultExpirationDays: aws.Int32(30)}); err != nil {
		b.Fatal(err)
	}
	inst, err := m.Service.CreateInstance(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{
		DomainName: aws.String("bench"), Uri: aws.String(inst.ARN), ObjectTypeName: aws.String("CTR")}); err != nil {
		b.Fatal(err)
	}
	sim := connect.NewSimulator(inst.ARN, 1, time.Now().Add(-30*24*time.Hour))
	path := connect.Path + inst.ID + "/contact-records"
	lines := make([]string, batch)
	n := 0
	for b.Loop() {
		b.StopTimer()
		for i := range lines {
			rec, err := json.Marshal(sim.Next())
			if err != nil {
				b.Fatal(err)
			}
			lines[i] = string(rec)
		}
		req := mustSignedRequest(b, m, http.MethodPost, path, []byte(strings.Join(lines, "\n")), signOpts{})
		b.StartTimer()
		r := mustDo(b, req)
		if r.Status != http.StatusOK {
			b.Fatalf("post: %d %s", r.Status, r.Body)
		}
		var res connect.Result
		if err := json.Unmarshal(r.Body, &res); err != nil || res.Accepted != batch {
			b.Fatalf("post: %v %s", err, r.Body)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
