package main_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"

	main "github.com/openprofiles/profiles/cmd/openprofiles"
)

// BenchmarkAPI_GetDomain measures one signed GetDomain round trip through
// the real SDK client, loopback HTTP, SigV4 verification and SQLite.
func BenchmarkAPI_GetDomain(b *testing.B) {
	m := MustRunMain(b)
	client := MustClient(b, m)
	ctx := b.Context()
	in := fullCreateInput(b, m, "bench")
	if _, err := client.CreateDomain(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := client.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: in.DomainName}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPI_CreateDomain measures CreateDomain round trips (a write
// transaction each).
func BenchmarkAPI_CreateDomain(b *testing.B) {
	m := MustRunMain(b, func(c *main.Config) { c.MaxDomains = 1 << 30 })
	client := MustClient(b, m)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		if _, err := client.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(fmt.Sprintf("d%09d", i)), DefaultExpirationDays: aws.Int32(30)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPI_GetDomainParallel measures GetDomain from concurrent clients.
func BenchmarkAPI_GetDomainParallel(b *testing.B) {
	m := MustRunMain(b)
	client := MustClient(b, m)
	if _, err := client.CreateDomain(b.Context(), fullCreateInput(b, m, "bench")); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.GetDomain(b.Context(), &customerprofiles.GetDomainInput{DomainName: aws.String("bench")}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
